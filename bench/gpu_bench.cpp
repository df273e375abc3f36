// GPU benchmarks of the CUDA backend (run by bench/gpu_check.sh on a lent GPU). Each prints one
// markdown table row; "two numbers first": the hh-squid rows put the floor computed from the
// kernel's operations and bytes beside the measured time.
//
//   bench_gpu_bench squid N STEPS DTYPE STRATEGY   hh-squid, final state and V every 1000 steps kept,
//                                                  spikes counted by a sink
//   bench_gpu_bench lobe-step STRATEGY T_END       antennal-lobe per-step cost (V every 100 steps to a sink)
//   bench_gpu_bench lobe BACKEND T_END             antennal-lobe on a backend (cuda or cpu), same recording
//
// Times are the second of two runs (the first loads and warms up), wall clock around
// Executable::run, so they include binding the inputs and copying the results back.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "backends/backend.h"
#include "compiler/pipeline.h"
#include "graph/error.h"
#include "models/model.h"
#ifdef SF_HAVE_CUDA
#include "backends/cuda/driver.h"
#endif

using namespace sf;

namespace {

struct CountSink : RecordSink {
  int64_t row_count = 0, spikes = 0;
  void rows(NodeId, int64_t, const Tensor& c, int64_t) override { row_count += c.shape()[0]; }
  void events(NodeId, int64_t, const std::vector<Event>& e) override { spikes += static_cast<int64_t>(e.size()); }
};

double timed_run(Executable& exe, const RunOptions& o, int runs = 2) {
  double s = 0;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    exe.run({}, o);
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return s;
}

// Instruction-equivalents per evaluation of a kernel body (stated weights: an arithmetic op or
// compare 1, division 8, exp/expm1/log/log1p/tanh/sigmoid 20, pow 40, sqrt 8; loads, stores,
// casts and index arithmetic 0).
double body_ops(const std::vector<Inst>& body) {
  double ops = 0;
  for (const Inst& in : body) {
    if (in.dtype == DType::i64 || in.dtype == DType::i32) continue;
    switch (in.kind) {
      case InstKind::Unary:
        ops += in.op == Op::Neg || in.op == Op::Abs || in.op == Op::Floor ? 1 : in.op == Op::Sqrt ? 8 : 20;
        break;
      case InstKind::Binary: ops += in.op == Op::Div ? 8 : in.op == Op::Pow ? 40 : 1; break;
      case InstKind::Compare:
      case InstKind::Select: ops += 1; break;
      default: break;
    }
  }
  return ops;
}

#ifdef SF_HAVE_CUDA
struct Peak {
  double ops_per_s, bytes_per_s;
  std::string card;
};
// From the device's attributes: lanes per SM x SMs x clock (no FMA: --fmad=false), and the
// memory clock x bus width (double data rate).
Peak device_peak(DType d) {
  const cuda::Driver& dr = cuda::driver();
  const cuda::Device& dev = cuda::device();
  int clock_khz = 0, mem_khz = 0, bus_bits = 0;
  dr.cuDeviceGetAttribute(&clock_khz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE, dev.dev);
  dr.cuDeviceGetAttribute(&mem_khz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, dev.dev);
  dr.cuDeviceGetAttribute(&bus_bits, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, dev.dev);
  double lanes = d == DType::f64 ? 64 : 128;  // Hopper: 64 FP64 and 128 FP32 lanes per SM
  return {lanes * dev.sms * clock_khz * 1e3, 2.0 * mem_khz * 1e3 * bus_bits / 8, dev.name};
}
#endif

void squid(int64_t n, int64_t steps, const std::string& dtype, const std::string& strategy) {
  RunConfig rc;
  rc.size = n;
  rc.t_end = static_cast<double>(steps) * 0.01;
  rc.dtype = dtype == "f32" ? DType::f32 : DType::f64;
  rc.record = {"V"};
  rc.every = 1000;
  CompileResult c = compile_graph(find_model("hh-squid").build(rc));
  BackendOptions bo;
  bo.scan_strategy = strategy;
  auto exe = make_executable("cuda", c.program, bo);
  CountSink sink;  // (the spikes are an events output: they need a sink)
  RunOptions o;
  o.sink = &sink;
  double s = timed_run(*exe, o);
  // The floor: the scan body's operations for every neuron and step, and the bytes that must move:
  // the inputs and states read once and written once, and the recorded rows.
  double ops = 0, bytes = 0;
  for (const Step& st : c.program.steps)
    if (st.kind == StepKind::Scan)
      for (const Step& b : st.scan.body)
        if (b.kind == StepKind::Kernel) ops += body_ops(b.kernel.body) * static_cast<double>(b.kernel.n) * static_cast<double>(steps);
  for (const Buffer& b : c.program.buffers)
    if (b.role == BufferRole::State || b.role == BufferRole::Input || b.role == BufferRole::Output) bytes += 2.0 * b.bytes();
#ifdef SF_HAVE_CUDA
  Peak pk = device_peak(rc.dtype);
  double floor_s = std::max(ops / pk.ops_per_s, bytes / pk.bytes_per_s);
  std::string strat;
  for (auto& [k, v] : exe->stats())
    if (k.starts_with("scan_strategy")) strat = v.substr(0, v.find(' '));
  fmt::print("| hh-squid N={} steps={} {} | {} | {:.4f} s | floor {:.4f} s ({:.3g} ops, {:.3g} B) | {:.2f}x | {:.3f} ns/neuron-step, {} spikes |\n",
             n, steps, dtype, strat, s, floor_s, ops, bytes, s / floor_s, s * 1e9 / static_cast<double>(n * steps), sink.spikes);
#endif
}

Graph lobe_graph(double t_end, RunConfig* rc) {
  rc->t_end = t_end;
  rc->record = {"V"};
  rc->every = 100;
  rc->stream = true;
  return find_model("antennal-lobe").build(*rc);
}

void lobe(const std::string& backend, const std::string& strategy, double t_end, bool per_step) {
  RunConfig rc;
  Graph g = lobe_graph(t_end, &rc);
  int64_t steps = SimInfo::load(g).steps;
  CompileResult c = compile_graph(g);
  BackendOptions bo;
  bo.scan_strategy = strategy;
  auto exe = make_executable(backend, c.program, bo);
  CountSink sink;
  RunOptions o;
  o.sink = &sink;
  double s = timed_run(*exe, o);
  std::string strat = backend;
  for (auto& [k, v] : exe->stats())
    if (k.starts_with("scan_strategy")) strat = backend + " " + v.substr(0, v.find(' '));
  if (per_step)
    fmt::print("| antennal-lobe per step | {} | {:.3f} us/step | {} steps in {:.4f} s | {} spikes |\n", strat,
               s * 1e6 / static_cast<double>(steps), steps, s, sink.spikes);
  else
    fmt::print("| antennal-lobe {} ms | {} | {:.4f} s | {} steps | {} spikes |\n", t_end, strat, s, steps, sink.spikes);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string what = argc > 1 ? argv[1] : "";
    auto arg = [&](int i, const char* def) { return std::string(argc > i ? argv[i] : def); };
    if (what == "squid")
      squid(std::stoll(arg(2, "1000000")), std::stoll(arg(3, "10000")), arg(4, "f64"), arg(5, ""));
    else if (what == "lobe-step")
      lobe("cuda", arg(2, ""), std::stod(arg(3, "1000")), true);
    else if (what == "lobe")
      lobe(arg(2, "cuda"), "", std::stod(arg(3, "1000")), false);
    else
      fmt::print(stderr, "usage: bench_gpu_bench squid N STEPS f64|f32 STRATEGY | lobe-step STRATEGY T_END | lobe BACKEND T_END\n");
  } catch (const std::exception& e) {
    std::string args;
    for (int i = 1; i < argc; ++i) args += (i > 1 ? " " : "") + std::string(argv[i]);
    fmt::print("| {} | error: {} |\n", args, e.what());
    return 1;
  }
  return 0;
}
