// The CPU backend's Executable: binds inputs, lays out the arena, fills the generated code's
// argument struct (backends/cpu/abi.h), calls the entry once per run and turns its callbacks into
// RecordSink calls and its recorded check failures into the reference executor's error messages.
#include "backends/cpu/cpu_backend.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

#include "backends/cpu/jit.h"
#include "compiler/program_executor.h"
#include "graph/error.h"

namespace sf {
namespace {

using cpu::Compiled;

// What the callbacks need during one run.
struct RunState {
  const KernelProgram* p = nullptr;
  const Compiled* c = nullptr;
  const RunOptions* opt = nullptr;
  sf_cpu_args* args = nullptr;
  std::vector<Tensor>* chunks = nullptr;  // per slot: the sink chunk the generated code fills
  std::mutex mu;
  std::exception_ptr exception;  // thrown by a sink
  int check = -1;                // the failed check
  int64_t value = 0, position = 0;
};

void stop_with(RunState& s, std::exception_ptr e) {
  if (!s.exception) s.exception = e;
  s.args->error = 1;
}

void on_rows(void* ctx, int32_t slot, const void* data, int64_t nrows, int64_t first_row) {
  auto& s = *static_cast<RunState*>(ctx);
  try {
    const cpu::SlotInfo& si = s.c->layout.slots.at(static_cast<size_t>(slot));
    NodeId node = s.c->layout.regions.at(static_cast<size_t>(si.region)).node;
    Tensor& full = s.chunks->at(static_cast<size_t>(slot));
    if (nrows == full.shape()[0] && data == full.raw()) {  // a full chunk: handed over as it is
      s.opt->sink->rows(node, si.y, full, first_row);
      return;
    }
    Shape shape = full.shape();  // the last, partial chunk: a copy of its rows
    shape[0] = nrows;
    Tensor chunk(full.dtype(), shape);
    if (chunk.bytes() > 0) std::memcpy(chunk.raw(), data, static_cast<size_t>(chunk.bytes()));
    s.opt->sink->rows(node, si.y, chunk, first_row);
  } catch (...) {
    stop_with(s, std::current_exception());
  }
}

void on_events(void* ctx, int32_t slot, const int64_t* pairs, int64_t n) {
  auto& s = *static_cast<RunState*>(ctx);
  try {
    const cpu::SlotInfo& si = s.c->layout.slots.at(static_cast<size_t>(slot));
    std::vector<Event> ev(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) ev[static_cast<size_t>(i)] = Event{pairs[2 * i], pairs[2 * i + 1]};
    s.opt->sink->events(s.c->layout.regions.at(static_cast<size_t>(si.region)).node, si.y, ev);
  } catch (...) {
    stop_with(s, std::current_exception());
  }
}

void on_progress(void* ctx, int32_t region, int64_t step, int64_t length) {
  auto& s = *static_cast<RunState*>(ctx);
  if (!s.opt->sink) return;
  try {
    s.opt->sink->progress(s.c->layout.regions.at(static_cast<size_t>(region)).node, step, length);
  } catch (...) {
    stop_with(s, std::current_exception());
  }
}

// Any thread; the first failure wins.
void on_fail(sf_cpu_args* args, int32_t check, int64_t value, int64_t position) {
  auto& s = *static_cast<RunState*>(args->ctx);
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.check >= 0 || s.exception) return;
  s.check = check, s.value = value, s.position = position;
  args->error = 1;
}

class CpuExecutable : public Executable {
 public:
  CpuExecutable(const KernelProgram& p, const BackendOptions& o, const cpu::Tuning& t) : p_(p), o_(o) {
    threads_ = o.threads > 0 ? o.threads : std::max(1, omp_get_num_procs());
    auto start = std::chrono::steady_clock::now();
    // scan_strategy "steps" (or SF_CPU_SCAN_STRATEGY=steps) runs elementwise scans step by step, as
    // coupled ones: for comparisons with the time-inside-elements loops.
    std::string strategy = o.scan_strategy;
    if (strategy.empty())
      if (const char* env = std::getenv("SF_CPU_SCAN_STRATEGY")) strategy = env;
    if (!strategy.empty() && strategy != "steps" && strategy != "interchange")
      fail("cpu backend: unknown scan strategy '{}' (steps, interchange)", strategy);
    cpu::CodegenOptions co;
    co.interchange = strategy != "steps";
    co.min_parallel = t.min_parallel;
    co.block = t.block;
    co.inline_exp_work = t.inline_exp_work;
    c_ = cpu::jit_compile(p, co, false, &cache_hit_);
    jit_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs, const RunOptions& options) override;

  std::vector<std::pair<std::string, std::string>> stats() const override {
    return {{"jit_ms", fmt::format("{:.3f}", jit_ms_)},
            {"threads", std::to_string(threads_)},
            {"ftz", o_.strict_fp ? "off" : "on"},
            {"interchanged_scans", std::to_string(c_->layout.interchanged)},
            {"jit_cache", cache_hit_ ? "hit" : "miss"}};
  }

 private:
  void bind(const std::map<std::string, Tensor>& inputs, std::vector<void*>& ptr) const;
  [[noreturn]] void raise(const RunState& s, const std::vector<int64_t>& scan_k) const;
  const Buffer& buffer(int b) const { return p_.buffers[static_cast<size_t>(b)]; }

  const KernelProgram& p_;
  BackendOptions o_;
  int threads_ = 1;
  double jit_ms_ = 0;
  bool cache_hit_ = false;
  std::shared_ptr<const Compiled> c_;
};

// As the reference executor binds (the same function), and checks the recording modes.
void CpuExecutable::bind(const std::map<std::string, Tensor>& inputs, std::vector<void*>& ptr) const {
  std::vector<const void*> data = bind_inputs(p_, inputs);
  for (int i : p_.inputs) ptr[static_cast<size_t>(i)] = const_cast<void*>(data[static_cast<size_t>(i)]);
}

// The executor's message: the check's, prefixed by every enclosing scan and its step.
void CpuExecutable::raise(const RunState& s, const std::vector<int64_t>& scan_k) const {
  if (s.exception) std::rethrow_exception(s.exception);
  if (s.check < 0) internal_error("cpu backend: the generated code stopped without an error");
  const cpu::CheckInfo& c = c_->layout.checks.at(static_cast<size_t>(s.check));
  std::string msg = fmt::format("{}: index {} out of range [0, {}) at position {}", c.what, s.value, c.limit, s.position);
  for (size_t i = c.regions.size(); i-- > 0;) {
    int r = c.regions[i];
    msg = fmt::format("{} step {}: {}", c_->layout.regions.at(static_cast<size_t>(r)).label,
                      scan_k.at(static_cast<size_t>(r)), msg);
  }
  throw Error(msg);
}

std::vector<Tensor> CpuExecutable::run(const std::map<std::string, Tensor>& inputs, const RunOptions& options) {
  std::vector<void*> ptr(p_.buffers.size(), nullptr);
  bind(inputs, ptr);
  check_recording(p_, options);
  // The arena, 64-byte aligned, with every buffer at its planned offset; consts point at their data.
  std::vector<uint64_t> arena(static_cast<size_t>(p_.plan.peak_bytes / 8 + 8), 0);
  char* base = reinterpret_cast<char*>(arena.data());
  base += (64 - reinterpret_cast<uintptr_t>(base) % 64) % 64;
  for (size_t i = 0; i < p_.buffers.size(); ++i) {
    const Buffer& b = p_.buffers[i];
    if (b.role == BufferRole::Const) ptr[i] = const_cast<void*>(b.value->raw());
    if (!b.in_arena()) continue;
    if (b.offset < 0 || b.offset + b.bytes() > p_.plan.peak_bytes)
      internal_error("cpu backend: buffer b{} ({}) has no place in the arena", i, b.name);
    ptr[i] = base + b.offset;
  }
  // Streaming buffers: a chunk of rows per sink output, a chunk of (index, step) pairs per events output.
  const cpu::Layout& lay = c_->layout;
  std::vector<Tensor> chunks(lay.slots.size());
  std::vector<void*> chunk_ptr(lay.slots.size(), nullptr);
  for (size_t s = 0; s < lay.slots.size(); ++s) {
    const cpu::SlotInfo& si = lay.slots[s];
    const Buffer& v = buffer(si.value);
    Shape shape = v.shape;
    shape.insert(shape.begin(), sink_chunk_rows(options, si.length, si.every));
    chunks[s] = si.mode == RecordMode::Sink ? Tensor(v.dtype, shape) : Tensor(DType::i64, {2 * options.event_chunk});
    chunk_ptr[s] = chunks[s].raw();
  }
  std::vector<int64_t> scan_k(lay.regions.size() + 1, 0);

  RunState st;
  st.p = &p_, st.c = c_.get(), st.opt = &options, st.chunks = &chunks;
  sf_cpu_args a{};
  st.args = &a;
  a.buffers = ptr.data();
  a.threads = c_->layout.parallel ? threads_ : 1;  // a program with nothing to split runs on one thread
  a.ftz = o_.strict_fp ? 0 : 1;
  a.ctx = &st;
  a.sink_chunks = chunk_ptr.data();
  a.chunk_rows = options.chunk_rows;
  a.event_chunk = options.event_chunk;
  a.rows = on_rows;
  a.events = on_events;
  a.progress = on_progress;
  a.fail = on_fail;
  a.error = 0;
  a.scan_k = scan_k.data();
  c_->entry(&a);
  if (a.error) raise(st, scan_k);

  std::vector<Tensor> results;
  for (int r : p_.results) {
    const Buffer& b = buffer(r);
    Tensor t(b.dtype, b.shape);
    if (t.bytes() > 0) std::memcpy(t.raw(), ptr[static_cast<size_t>(r)], static_cast<size_t>(t.bytes()));
    results.push_back(std::move(t));
  }
  return results;
}

}  // namespace

std::unique_ptr<Executable> make_cpu_executable(const KernelProgram& program, const BackendOptions& options) {
  return std::make_unique<CpuExecutable>(program, options, cpu::Tuning{});
}

namespace cpu {
std::unique_ptr<Executable> make_tuned_executable(const KernelProgram& program, const BackendOptions& options,
                                                  const Tuning& tuning) {
  if (tuning.block < 8 || tuning.block % 8 != 0) fail("cpu backend: block must be a positive multiple of 8");
  return std::make_unique<CpuExecutable>(program, options, tuning);
}

std::string optimized_ir(const KernelProgram& program, bool interchange, int64_t inline_exp_work) {
  CodegenOptions o;
  o.interchange = interchange;
  o.inline_exp_work = inline_exp_work;
  return jit_compile(program, o, /*keep_ir=*/true)->ir;
}
}  // namespace cpu

}  // namespace sf
