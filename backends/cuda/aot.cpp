// The CUDA ahead-of-time object (see aot.h): one C translation unit, compiled by the host C
// compiler, holding NAME.h's definitions, the host runtime (aot_runtime.c), the PTX, the constants
// and the program's schedule as the C tables aot_runtime.c declares (sfc_program).
#include "backends/cuda/aot.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "backends/cuda/codegen.h"
#include "backends/cuda/nvrtc.h"
#include "backends/host_cc.h"
#include "graph/error.h"

namespace sf::cuda {
namespace {

namespace fs = std::filesystem;

// `static const unsigned char NAME[] = {...};`, 64-byte aligned.
std::string byte_array(const std::string& name, const void* data, size_t size, bool nul) {
  const auto* b = static_cast<const unsigned char*>(data);
  std::string s = fmt::format("static const unsigned char {}[] __attribute__((aligned(64))) = {{", name);
  for (size_t i = 0; i < size; ++i) s += fmt::format("{}{},", i % 32 ? "" : "\n  ", b[i]);
  if (nul || size == 0) s += "0";
  return s + "};\n";
}

// The tables, built from the program and its CUDA code, printed as C initializers.
class Tables {
 public:
  Tables(const KernelProgram& p, const CudaCode& c, const std::string& n) : p_(p), c_(c), n_(n) {}
  std::string text(const std::vector<AotStreamInfo>& streams, uint64_t event_cap);

 private:
  std::pair<size_t, size_t> steps(const std::vector<Step>& ss);  // appended to steps_: offset, count
  std::string region(int id, const std::vector<AotStreamInfo>& streams);
  template <class T>
  static std::string list(const char* type, const std::string& name, const std::vector<T>& v);

  const KernelProgram& p_;
  const CudaCode& c_;
  std::string n_;
  std::vector<std::string> slots_, carries_, ys_;
  std::vector<int> steps_, ints_;
};

template <class T>
std::string Tables::list(const char* type, const std::string& name, const std::vector<T>& v) {
  std::string s = fmt::format("static const {} {}[] = {{", type, name);
  for (const T& x : v) s += fmt::format("\n  {},", x);
  if (v.empty()) s += std::string(type).find("sfc_") == 0 ? "{0}" : "0";  // (C has no empty arrays; never read)
  return s + "};\n";
}

std::pair<size_t, size_t> Tables::steps(const std::vector<Step>& ss) {
  std::vector<int> items;
  for (const Step& s : ss)
    items.push_back(s.kind == StepKind::Scan ? -1 - c_.region_of.at(&s.scan) : c_.op_of_step.at(&s));
  size_t at = steps_.size();
  steps_.insert(steps_.end(), items.begin(), items.end());
  return {at, items.size()};
}

std::string slot_init(const Slot& s) {
  return fmt::format("{{{}, {}, {}, {}}}", s.buf, s.ring_region, s.ring_y, s.scratch_region);
}

std::string Tables::region(int id, const std::vector<AotStreamInfo>& streams) {
  const Region& g = c_.regions[static_cast<size_t>(id)];
  const ScanRegion& r = *g.scan;
  auto [pro0, npro] = steps(r.prologue);
  auto [body0, nbody] = steps(r.body);
  size_t ops0 = ints_.size();
  ints_.insert(ints_.end(), g.body_ops.begin(), g.body_ops.end());
  size_t carry0 = carries_.size(), y0 = ys_.size(), table0 = slots_.size(), scalar0 = ints_.size();
  for (const ScanCarry& x : r.carries) carries_.push_back(fmt::format("{{{}, {}, {}}}", x.state, x.next, x.init));
  for (size_t y = 0; y < r.ys.size(); ++y) {
    int stream = -1;
    for (size_t i = 0; i < streams.size(); ++i)
      if (streams[i].region == id && streams[i].y == static_cast<int64_t>(y)) stream = static_cast<int>(i);
    const ScanOutput& o = r.ys[y];
    int mode = o.mode == RecordMode::Stack ? 0 : o.mode == RecordMode::Sink ? 1 : 2;
    ys_.push_back(fmt::format("{{{}, {}, {}, {}}}", mode, o.value, o.out, stream));
  }
  for (const Slot& s : g.table) slots_.push_back(slot_init(s));
  ints_.insert(ints_.end(), g.scalars.begin(), g.scalars.end());
  return fmt::format("{{{}, {}, {}, {}, {}, {}LL, {}LL, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}LL, {}, {}}}",
                     c_quoted(r.label), g.parent, g.depth, static_cast<int>(g.strategy), r.top ? 1 : 0, r.length, r.every,
                     pro0, npro, body0, nbody, ops0, g.body_ops.size(), g.record_op, carry0, r.carries.size(), y0,
                     r.ys.size(), g.fn.empty() ? "0" : c_quoted(g.fn), table0, g.table.size(), g.one_block ? 1 : 0,
                     g.threads, scalar0, g.scalars.size());
}

std::string Tables::text(const std::vector<AotStreamInfo>& streams, uint64_t event_cap) {
  static_assert(static_cast<int>(Strategy::Launch) == 0 && static_cast<int>(Strategy::Graph) == 1 &&
                static_cast<int>(Strategy::Persistent) == 2 && static_cast<int>(Strategy::Elementwise) == 3);
  auto [top0, ntop] = steps(p_.steps);
  std::vector<std::string> buffers, ops, regions, errors, consts;
  for (size_t i = 0; i < p_.buffers.size(); ++i) {
    const Buffer& b = p_.buffers[i];
    int where = 0, index = 0;
    if (b.in_arena()) where = 1;
    if (b.role == BufferRole::Const) where = 2;
    if (b.role == BufferRole::Input)
      where = 3, index = static_cast<int>(std::find(p_.inputs.begin(), p_.inputs.end(), static_cast<int>(i)) - p_.inputs.begin());
    int xs = c_.row_xs[i], rr = c_.row_region[i];
    buffers.push_back(fmt::format("{{{}, {}, {}LL, {}LL, {}, {}, {}}}", where, index, b.offset, b.bytes(),
                                  b.dtype == DType::tuple ? 0 : dtype_size(b.dtype), xs,
                                  rr >= 0 ? c_.regions[static_cast<size_t>(rr)].depth : -1));
    consts.push_back(b.role == BufferRole::Const && b.bytes() > 0 ? fmt::format("{}_data_{}", n_, i) : "0");
  }
  size_t max_slots = 1;
  for (const DevOp& op : c_.ops) {
    if (op.cublas) internal_error("cuda aot: a cuBLAS matmul (the object is generated without cuBLAS)");
    ops.push_back(fmt::format("{{{}, {}LL, {}, {}, {}}}", c_quoted(op.fn), op.n, slots_.size(), op.slots.size(),
                              op.kind == OpKind::Segments ? 1 : 0));
    for (const Slot& s : op.slots) slots_.push_back(slot_init(s));
    max_slots = std::max(max_slots, op.slots.size());
  }
  for (size_t i = 0; i < c_.regions.size(); ++i) regions.push_back(region(static_cast<int>(i), streams));
  for (const ErrorSite& e : c_.errors) errors.push_back(fmt::format("{{{}, {}LL, {}}}", c_quoted(e.what), e.limit, e.region));
  std::string s;
  s += list("sfc_buffer", "sfc_buffers", buffers);
  s += list("sfc_op", "sfc_ops", ops);
  s += list("sfc_slot", "sfc_slots", slots_);
  s += list("sfc_region", "sfc_regions", regions);
  s += list("int32_t", "sfc_steps_", steps_);
  s += list("int32_t", "sfc_ints", ints_);
  s += list("sfc_carry", "sfc_carries", carries_);
  s += list("sfc_y", "sfc_ys", ys_);
  s += list("sfc_error", "sfc_errors", errors);
  s += list("void* const", "sfc_consts", consts);
  s += list("int32_t", "sfc_inputs", p_.inputs);
  s += list("int32_t", "sfc_results", p_.results);
  s += fmt::format(
      "static const sfc_program sfc_prog = {{(const char*){}_ptx, {}, {}, {}, {}, {}, sfc_buffers, sfc_ops, {}, sfc_slots,\n"
      "  sfc_regions, sfc_steps_, sfc_ints, sfc_carries, sfc_ys, sfc_errors, (const void* const*)sfc_consts, {}, {},\n"
      "  sfc_inputs, sfc_results, {}LL, {}ull}};\n\n",
      n_, p_.buffers.size(), c_.regions.size(), max_slots, top0, ntop, c_.ops.size(), p_.inputs.size(), p_.results.size(),
      p_.plan.peak_bytes + 64, event_cap);
  return s;
}

// The streamed outputs in callback order, as the CPU target numbers them: regions in pre-order,
// outputs by y. Only top-level scans stream (as in the JIT): a nested one that records rows or
// events is refused here rather than failing at run time.
std::vector<AotStreamInfo> stream_list(const CudaCode& c) {
  std::vector<AotStreamInfo> v;
  for (size_t i = 0; i < c.regions.size(); ++i) {
    const Region& g = c.regions[i];
    for (size_t y = 0; y < g.scan->ys.size(); ++y) {
      const ScanOutput& o = g.scan->ys[y];
      if (o.mode == RecordMode::Stack) continue;
      if (g.depth > 0 || !g.scan->top)
        fail("{}: --target cuda --aot streams only the top-level scan's outputs (output {} is in {} mode)", g.scan->label,
             y, record_mode_name(o.mode));
      v.push_back({static_cast<int>(i), static_cast<int64_t>(y), o.value, o.mode == RecordMode::Events});
    }
  }
  return v;
}

std::string header_about(const std::string& n) {
  return fmt::format(
      " * runs the whole program on CUDA device 0 and returns SF_AOT_OK, or an SF_AOT_* code with the\n"
      " * message in opt->error (SF_AOT_NO_DEVICE: no driver, no device, or a driver call failed). `in`\n"
      " * and `out` may be NULL; every call is an independent run (opt->threads and strict_fp are not used).\n"
      " * The kernels are compute_90 PTX, compiled by the driver when a run loads them. The driver is\n"
      " * loaded at run time (libcuda.so.1, or $SCANFLOW_LIBCUDA): no CUDA library is linked.\n"
      " * Link with: cc prog.c {0}.o -ldl */\n",
      n);
}

// NAME_run: the inputs (given, or their defaults) and the results' places, then sfc_run.
std::string entry(const KernelProgram& p, const AotInterface& ai) {
  const std::string& n = ai.name;
  std::string s = fmt::format(
      "int {0}_run(const {0}_inputs* in, {0}_results* out, const sf_aot_options* opt) {{\n"
      "  static const sf_aot_options defaults;\n  if (!opt) opt = &defaults;\n  (void)in, (void)out;\n"
      "  const void* inputs[{1}] = {{0}};\n  void* results[{2}] = {{0}};\n",
      n, std::max<size_t>(ai.inputs.size(), 1), std::max<size_t>(ai.results.size(), 1));
  s += aot_bind_inputs(p, ai, "inputs[{0}]", "sfc_report");
  for (size_t i = 0; i < ai.results.size(); ++i)
    s += fmt::format("  results[{}] = out ? (void*)out->{} : 0;\n", i, ai.results[i].c_name);
  return s + "  return sfc_run(&sfc_prog, inputs, results, opt);\n}\n";
}

}  // namespace

void write_aot(const KernelProgram& p, const AotNames& names, const AotOptions& o) {
  if (o.object.empty()) fail("--aot needs -o NAME.o");
  std::string n = aot_name(o.object);
  std::string header = o.header.empty() ? fs::path(o.object).replace_extension(".h").string() : o.header;
  if (fs::path(header).stem() != n) fail("--header {}: the header must be named {}.h, after the object", header, n);

  // The JIT's choice on an sm_90 device with cooperative launch, without cuBLAS (the object needs only libcuda).
  CodegenOptions co;
  co.strategy = o.strategy;
  co.cooperative = true;
  co.cublas = false;
  CudaCode code = generate_cuda(p, co);
  CompiledModule m = compile_cuda(code.source, "compute_90", p.name + ".cu");
  if (!o.emit_cuda.empty()) write_file(o.emit_cuda, code.source);
  if (!o.emit_ptx.empty()) write_file(o.emit_ptx, m.image);

  std::vector<AotStreamInfo> streams = stream_list(code);
  AotInterface ai = aot_interface(p, streams, code.regions.size(), names, n);
  std::string h = aot_header(p, ai, header_about(n));

  std::string s = fmt::format("/* {}.o: generated by scanflow compile --target cuda --aot. */\n#define _GNU_SOURCE\n", n);
  s += h + "\n" + kAotRuntimeText + "\n";
  s += byte_array(n + "_ptx", m.image.data(), m.image.size(), /*nul=*/true);
  for (size_t b = 0; b < p.buffers.size(); ++b) {
    const Buffer& x = p.buffers[b];
    if ((x.role == BufferRole::Const || (x.role == BufferRole::Input && x.value)) && x.bytes() > 0)
      s += byte_array(fmt::format("{}_data_{}", n, b), x.value->raw(), static_cast<size_t>(x.bytes()), false);
  }
  s += "\n";
  s += aot_info_tables(p, ai);
  s += "\n";
  s += Tables(p, code, n).text(streams, o.event_cap);
  s += entry(p, ai);

  fs::path src = fs::path(o.object).replace_extension(".aot.c");
  write_file(src.string(), s);
  std::error_code ec;
  try {
    run_host_cc({"-c", "-std=c11", "-O2", "-fPIC", "-I" SF_CUDA_INCLUDE_DIR, src.string(), "-o", o.object}, "the CUDA AOT object");
  } catch (...) {
    fs::remove(src, ec);
    throw;
  }
  fs::remove(src, ec);
  write_file(header, h);
}

}  // namespace sf::cuda
