// KernelProgram -> CUDA source: the op functions and wrappers, the regions' record functions and
// the persistent kernels. The elementwise kernels are in elementwise_kernel.cpp.
#include "backends/cuda/codegen.h"

#include <set>

#include "backends/cuda/codegen_internal.h"
#include "backends/cuda/emit.h"
#include "backends/cuda/prelude.h"
#include "graph/error.h"

namespace sf::cuda {

const char* cuda_type(DType d) {
  switch (d) {
    case DType::f32: return "float";
    case DType::f64: return "double";
    case DType::i32: return "int";
    case DType::i64: return "long long";
    case DType::b8: return "unsigned char";
    default: internal_error("cuda codegen: no element type for {}", dtype_name(d));
  }
}

const char* word_type(DType d) {
  switch (dtype_size(d)) {
    case 1: return "unsigned char";
    case 4: return "unsigned int";
    default: return "unsigned long long";
  }
}

namespace {

// ---- buffer access summaries (for barriers) --------------------------------------------------

struct Access {
  bool read = false, write = false, raw = true;  // raw: only at the op's own element
};

void add_access(std::map<int, Access>& m, int buf, bool write, bool raw) {
  Access& a = m[buf];
  (write ? a.write : a.read) = true;
  if (!raw) a.raw = false;
}

std::map<int, Access> op_accesses(const DevOp& op, const Generator& g) {
  std::map<int, Access> m;
  if (op.kind == OpKind::Kernel) {
    const Kernel& k = op.step->kernel;
    bool map = k.kind == KernelKind::Map;
    for (const auto* list : {&k.body, &k.inner})
      for (const Inst& in : *list)
        if (in.kind == InstKind::Load || in.kind == InstKind::Store)
          add_access(m, in.buf, in.kind == InstKind::Store,
                     map && in.a >= 0 && (*list)[static_cast<size_t>(in.a)].kind == InstKind::Index);
    if (k.kind == KernelKind::SegmentSum) add_access(m, k.offsets, false, false), add_access(m, k.order, false, false);
    return m;
  }
  // Other ops: every access is somewhere else than the op's own element.
  for (size_t i = 0; i < op.slots.size(); ++i) {
    const Slot& s = op.slots[i];
    if (s.buf < 0) continue;
    bool write = g.writes_slot(op, i);
    add_access(m, s.buf, write, false);
  }
  return m;
}

// Whether op b must wait for every thread to finish op a (a barrier between them).
bool conflicts(const DevOp& a, const std::map<int, Access>& ma, const DevOp& b, const std::map<int, Access>& mb) {
  bool same_thread = a.kind == OpKind::Kernel && b.kind == OpKind::Kernel &&
                     a.step->kernel.kind == KernelKind::Map && b.step->kernel.kind == KernelKind::Map && a.n == b.n;
  for (auto& [buf, x] : ma) {
    auto it = mb.find(buf);
    if (it == mb.end()) continue;
    const Access& y = it->second;
    if (!(x.write || y.write)) continue;  // both only read
    if (same_thread && x.raw && y.raw) continue;  // the same thread touches the same elements
    return true;
  }
  return false;
}

}  // namespace

// ---- the generator ---------------------------------------------------------------------------

Generator::Generator(const KernelProgram& p, const CodegenOptions& o) : p_(p), opt_(o) {
  code_.row_xs.assign(p.buffers.size(), -1);
  code_.row_region.assign(p.buffers.size(), -1);
  row_depth_.assign(p.buffers.size(), -1);
}

const Buffer& Generator::buffer(int b) const { return p_.buffers[static_cast<size_t>(b)]; }

bool Generator::writes_slot(const DevOp& op, size_t i) const {
  switch (op.kind) {
    case OpKind::Copy: return i == 0;
    case OpKind::Matmul: return i == 2;
    case OpKind::Segments: return i >= 1;
    case OpKind::Record: return false;  // writes outs and rings, which nothing else in a step touches
    default: return false;
  }
}

int Generator::error_site(const std::string& what, int64_t limit, int region) {
  code_.errors.push_back({what, limit, region});
  return static_cast<int>(code_.errors.size() - 1);
}

int Generator::check_id(const Inst& in, int region) {
  auto [it, fresh] = check_ids_.emplace(&in, 0);
  if (fresh) it->second = error_site(in.what, in.imm, region);
  return it->second;
}

// The typed pointer declaration of slot i for buffer b: rows add their step's offset.
std::string Generator::slot_decl(int b, const std::string& p, size_t i, const std::string& ctx, bool is_const) const {
  const Buffer& buf = buffer(b);
  std::string t = fmt::format("{}{}", is_const ? "const " : "", cuda_type(buf.dtype));
  if (buf.role == BufferRole::Row)
    return fmt::format("{0}* b{1} = ({0}*)({2}[{3}] + sf_step({4}, {5}) * {6}LL);  // {7}: row of b{8}", t, b, p, i, ctx,
                       row_depth_[static_cast<size_t>(b)], buf.bytes(), buf.name, code_.row_xs[static_cast<size_t>(b)]);
  return fmt::format("{0}* b{1} = ({0}*){2}[{3}];  // {4}", t, b, p, i, buf.name);
}

// ---- walking the program ---------------------------------------------------------------------

void Generator::walk(const std::vector<Step>& steps, int region) {
  for (const Step& s : steps) {
    if (s.kind == StepKind::Scan) {
      add_region(s.scan, region);
      continue;
    }
    DevOp op;
    op.step = &s;
    op.region = region;
    switch (s.kind) {
      case StepKind::Kernel: {
        op.kind = OpKind::Kernel;
        op.fn = fmt::format("sf_k{}", s.kernel.id);
        op.n = s.kernel.n;
        std::vector<int> bufs;
        auto use = [&](int b) {
          if (std::find(bufs.begin(), bufs.end(), b) == bufs.end()) bufs.push_back(b);
        };
        for (const auto* list : {&s.kernel.inner, &s.kernel.body})
          for (const Inst& in : *list)
            if (in.kind == InstKind::Load || in.kind == InstKind::Store) use(in.buf);
        if (s.kernel.kind == KernelKind::SegmentSum) use(s.kernel.offsets), use(s.kernel.order);
        for (int b : bufs) op.slots.push_back({b});
        break;
      }
      case StepKind::Copy:
        op.kind = OpKind::Copy;
        op.fn = fmt::format("sf_copy{}", code_.ops.size());
        op.n = s.copy.rows * s.copy.elems;
        op.slots = {{s.copy.dst}, {s.copy.src}};
        break;
      case StepKind::Matmul: {
        op.kind = OpKind::Matmul;
        op.fn = fmt::format("sf_matmul{}", code_.ops.size());
        op.n = s.matmul.m * s.matmul.n;
        op.slots = {{s.matmul.a}, {s.matmul.b}, {s.matmul.out}};
        DType d = buffer(s.matmul.out).dtype;
        op.cublas = opt_.cublas && uses_cublas(s.matmul, d, opt_.cublas_min_flops);
        break;
      }
      case StepKind::Segments:
        op.kind = OpKind::Segments;
        op.fn = fmt::format("sf_segments{}", code_.ops.size());
        op.n = 1;
        op.slots = {{s.segments.index}, {s.segments.offsets}, {s.segments.order}};
        break;
      case StepKind::Scan: break;
    }
    code_.op_of_step[&s] = static_cast<int>(code_.ops.size());
    code_.ops.push_back(std::move(op));
    if (region >= 0 && !in_prologue_) code_.regions[static_cast<size_t>(region)].body_ops.push_back(static_cast<int>(code_.ops.size() - 1));
  }
}

void Generator::add_region(const ScanRegion& r, int parent) {
  int id = static_cast<int>(code_.regions.size());
  Region reg;
  reg.scan = &r;
  reg.parent = parent;
  reg.depth = parent < 0 ? 0 : code_.regions[static_cast<size_t>(parent)].depth + 1;
  if (reg.depth >= kMaxDepth)
    fail("{}: scans nested {} deep; the cuda backend supports {}", r.label, reg.depth + 1, kMaxDepth);
  bool top = parent < 0 && r.top;
  reg.strategy = parent >= 0 ? Strategy::Launch
                             : choose_strategy(p_, r, top, opt_.strategy, opt_.cooperative,
                                               opt_.cublas ? opt_.cublas_min_flops : INT64_MAX, &reg.why);
  if (parent >= 0) reg.why = "nested in another scan";
  for (size_t y = 0; y < r.ys.size(); ++y) {
    if (r.ys[y].mode == RecordMode::Events) reg.events_y.push_back(static_cast<int>(y));
    if (r.ys[y].mode == RecordMode::Sink) reg.sink_y.push_back(static_cast<int>(y));
  }
  code_.regions.push_back(reg);
  code_.region_of[&r] = id;
  for (const ScanXs& x : r.xs) {
    code_.row_xs[static_cast<size_t>(x.row)] = x.xs;
    code_.row_region[static_cast<size_t>(x.row)] = id;
    row_depth_[static_cast<size_t>(x.row)] = reg.depth;
  }
  bool saved = in_prologue_;
  in_prologue_ = true;
  walk(r.prologue, id);
  in_prologue_ = false;
  walk(r.body, id);
  in_prologue_ = saved;
  if (!r.ys.empty()) {
    DevOp rec;
    rec.kind = OpKind::Record;
    rec.fn = fmt::format("sf_r{}_record", id);
    rec.region = id;
    for (size_t y = 0; y < r.ys.size(); ++y) {
      const ScanOutput& o = r.ys[y];
      rec.slots.push_back({o.value});
      rec.n = std::max(rec.n, buffer(o.value).elements());
      if (o.mode == RecordMode::Stack) rec.slots.push_back({o.out});
      if (o.mode == RecordMode::Sink) rec.slots.push_back({-1, id, static_cast<int>(y)});
    }
    code_.regions[static_cast<size_t>(id)].record_op = static_cast<int>(code_.ops.size());
    code_.ops.push_back(std::move(rec));
  }
}

// ---- op functions ----------------------------------------------------------------------------

std::string Generator::op_head(const DevOp& op, const std::string& comment) const {
  std::string s = fmt::format("// {}\n__device__ __forceinline__ void {}_run(char* const* p, const SfCtx& c, long long i0, long long nt) {{\n",
                              comment, op.fn);
  for (size_t i = 0; i < op.slots.size(); ++i) {
    const Slot& sl = op.slots[i];
    if (sl.buf >= 0) s += "  " + slot_decl(sl.buf, "p", i, "c", false) + "\n";
  }
  return s;
}

std::string Generator::kernel_fn(const DevOp& op) {
  const Kernel& k = op.step->kernel;
  std::string s = op_head(op, fmt::format("k{} ({}): {} over {} elements", k.id, k.name, kernel_kind_name(k.kind), k.n));
  ListEmitter body(k.body);
  body.check_id = [&](const Inst& in) { return check_id(in, op.region); };
  s += fmt::format("  for (long long o = i0; o < {}LL; o += nt) {{\n", k.n);
  if (k.kind != KernelKind::Map) s += fold(k, op.region);
  s += emit_list(body, "    ");
  s += "  }\n}\n";
  return s;
}

// The accumulators of a Reduce or SegmentSum, folded over the output's sources in the reference
// order (j = 0..len-1, or the CSR positions in order).
std::string Generator::fold(const Kernel& k, int region) {
  std::vector<const Inst*> yields(static_cast<size_t>(k.accs), nullptr);
  for (const Inst& in : k.inner)
    if (in.kind == InstKind::Yield) yields[static_cast<size_t>(in.imm)] = &in;
  std::string s;
  for (int a = 0; a < k.accs; ++a) {
    DType d = yields[static_cast<size_t>(a)]->dtype;
    std::string init;
    if (k.combine == Op::Add || d == DType::b8) {
      init = const_literal(d, 0);
    } else {
      bool mx = k.combine == Op::Max;
      switch (d) {  // an empty max (min) is -inf (+inf), or the integer extreme
        case DType::f64: init = mx ? "__longlong_as_double(0xfff0000000000000LL)" : "__longlong_as_double(0x7ff0000000000000LL)"; break;
        case DType::f32: init = mx ? "__int_as_float(0xff800000)" : "__int_as_float(0x7f800000)"; break;
        case DType::i32: init = mx ? "(-2147483647 - 1)" : "2147483647"; break;
        default: init = mx ? "(-9223372036854775807LL - 1)" : "9223372036854775807LL"; break;
      }
    }
    s += fmt::format("    {} acc{} = {};\n", cuda_type(d), a, init);
    if (k.combine != Op::Add) s += fmt::format("    bool started{} = false;\n", a);
  }
  if (k.kind == KernelKind::Reduce) {
    s += fmt::format("    const long long base = o / {0}LL * {1}LL + o % {0}LL;\n", k.stride, k.len * k.stride);
    s += fmt::format("    for (long long j = 0; j < {}LL; ++j) {{\n      const long long e = base + j * {}LL;\n", k.len, k.stride);
  } else {
    s += fmt::format("    const long long seg = o / {0}LL, col = o % {0}LL;\n", k.row);
    s += fmt::format("    for (long long q = b{0}[seg]; q < b{0}[seg + 1]; ++q) {{\n", k.offsets);
    s += fmt::format("      const long long e = b{}[q] * {}LL + col;\n", k.order, k.row);
  }
  ListEmitter inner(k.inner, "u", "e");
  inner.check_id = [&](const Inst& in) { return check_id(in, region); };
  s += emit_list(inner, "      ");
  for (int a = 0; a < k.accs; ++a) {
    const Inst& y = *yields[static_cast<size_t>(a)];
    std::string x = fmt::format("u{}", y.a), acc = fmt::format("acc{}", a);
    if (y.dtype == DType::b8) continue;  // (bool accumulators keep their initial value, as the reference's)
    if (k.combine == Op::Add)
      s += fmt::format("      {} = {};\n", acc, binary_expr(Op::Add, y.dtype, acc, x));
    else
      s += fmt::format("      {0} = started{1} ? {2} : {3};\n      started{1} = true;\n", acc, a,
                       binary_expr(k.combine, y.dtype, acc, x), x);
  }
  s += "    }\n";
  return s;
}

std::string Generator::copy_fn(const DevOp& op) const {
  const CopyStep& c = op.step->copy;
  const char* w = word_type(buffer(c.dst).dtype);
  std::string s = op_head(op, fmt::format("copy: {} rows of {} elements", c.rows, c.elems));
  s += fmt::format("  {0}* d = ({0}*)b{1};\n  const {0}* s = (const {0}*)b{2};\n", w, c.dst, c.src);
  s += fmt::format("  for (long long x = i0; x < {}LL; x += nt) {{\n", c.rows * c.elems);
  s += fmt::format("    const long long r = x / {0}LL, i = x % {0}LL;\n", std::max<int64_t>(c.elems, 1));
  s += fmt::format("    d[{}LL + r * {}LL + i] = s[{}LL + r * {}LL + i];\n  }}\n}}\n", c.dst_offset, c.dst_stride,
                   c.src_offset, c.src_stride);
  return s;
}

// out[i, j] = sum over q of a[i, q] * b[q, j], in the reference order (q = 0, 1, ...).
std::string Generator::matmul_fn(const DevOp& op) const {
  const MatmulStep& m = op.step->matmul;
  DType d = buffer(m.out).dtype;
  std::string s = op_head(op, fmt::format("matmul: [{},{}] x [{},{}]", m.m, m.k, m.k, m.n));
  if (d == DType::b8) return s + "}\n";  // (no bool matmul: the reference leaves out untouched)
  const char* t = cuda_type(d);
  s += fmt::format("  for (long long x = i0; x < {}LL; x += nt) {{\n", m.m * m.n);
  s += fmt::format("    const long long i = x / {0}LL, j = x % {0}LL;\n", std::max<int64_t>(m.n, 1));
  s += fmt::format("    {} acc = {};\n", t, const_literal(d, 0));
  s += fmt::format("    for (long long q = 0; q < {}LL; ++q)\n", m.k);
  std::string prod = binary_expr(Op::Mul, d, fmt::format("b{}[i * {}LL + q]", m.a, m.k), fmt::format("b{}[q * {}LL + j]", m.b, m.n));
  s += fmt::format("      acc = {};\n", binary_expr(Op::Add, d, "acc", fmt::format("({})", prod)));
  s += fmt::format("    b{}[x] = acc;\n  }}\n}}\n", m.out);
  return s;
}

// The CSR index of a scatter's indices: a stable counting sort, run by one thread. A bad index is
// reported and leaves every segment empty.
std::string Generator::segments_fn(const DevOp& op) {
  const SegmentsStep& g = op.step->segments;
  int id = error_site(g.what, g.size, op.region);
  int64_t m = buffer(g.index).elements();
  std::string s = op_head(op, fmt::format("segments: CSR index of b{} ({} indices into {} segments)", g.index, m, g.size));
  s += "  if (i0 != 0) return;\n";
  s += fmt::format("  long long* off = b{};\n  long long* order = b{};\n", g.offsets, g.order);
  s += fmt::format("  for (long long j = 0; j <= {}LL; ++j) off[j] = 0;\n", g.size);
  s += fmt::format("  for (long long i = 0; i < {}LL; ++i) {{\n    const long long j = b{}[i];\n", m, g.index);
  s += fmt::format("    if (j < 0 || j >= {}LL) {{\n      sf_fail(c, {}, j, i);\n", g.size, id);
  s += fmt::format("      for (long long t = 0; t <= {}LL; ++t) off[t] = 0;\n      return;\n    }}\n", g.size);
  s += "    ++off[j + 1];\n  }\n";
  s += fmt::format("  for (long long j = 0; j < {}LL; ++j) off[j + 1] += off[j];\n", g.size);
  s += fmt::format("  for (long long i = 0; i < {}LL; ++i) order[off[b{}[i]]++] = i;\n", m, g.index);
  s += fmt::format("  for (long long j = {}LL; j > 0; --j) off[j] = off[j - 1];\n  off[0] = 0;\n}}\n", g.size);
  return s;
}

// Recording after step k: stacked rows into the output, sink rows into the device ring, events
// appended to the current event buffer.
std::string Generator::record_fn(const DevOp& op) const {
  const Region& reg = code_.regions[static_cast<size_t>(op.region)];
  const ScanRegion& r = *reg.scan;
  std::string s = fmt::format("// {}: record step k's per-step outputs\n", r.label);
  s += fmt::format("__device__ __forceinline__ void {}_run(char* const* p, const SfCtx& c, long long i0, long long nt) {{\n", op.fn);
  s += fmt::format("  const long long k = sf_step(c, {});\n", reg.depth);
  s += fmt::format("  const bool rec = (k + 1) % {0}LL == 0;\n  const long long row = (k + 1) / {0}LL - 1;\n", r.every);
  size_t slot = 0;
  int events = 0;
  for (size_t y = 0; y < r.ys.size(); ++y) {
    const ScanOutput& o = r.ys[y];
    const Buffer& v = buffer(o.value);
    const char* w = word_type(v.dtype);
    int64_t e = v.elements();
    s += fmt::format("  {{  // y{}: {} b{}\n", y, record_mode_name(o.mode), o.value);
    s += fmt::format("    const {0}* v = (const {0}*)p[{1}];\n", o.mode == RecordMode::Events ? "unsigned char" : w, slot++);
    switch (o.mode) {
      case RecordMode::Stack:
        s += fmt::format("    {0}* out = ({0}*)p[{1}];\n", w, slot++);
        s += fmt::format("    if (rec)\n      for (long long x = i0; x < {0}LL; x += nt) out[row * {0}LL + x] = v[x];\n", e);
        break;
      case RecordMode::Sink:
        s += fmt::format("    {0}* ring = ({0}*)p[{1}];\n", w, slot++);
        s += fmt::format("    if (rec)\n      for (long long x = i0; x < {0}LL; x += nt) ring[row % c.dev->ring_rows * {0}LL + x] = v[x];\n", e);
        break;
      case RecordMode::Events:
        s += fmt::format("    SfEvBuf* q = sf_events(c, {});\n", events++);
        s += fmt::format("    for (long long x = i0; x < {}LL; x += nt)\n      if (v[x]) sf_event(q, k, x);\n", e);
        break;
    }
    s += "  }\n";
  }
  return s + "}\n";
}

std::string Generator::wrapper(const DevOp& op) const {
  size_t n = std::max<size_t>(op.slots.size(), 1);
  return fmt::format(
      "struct {0}_slots {{ char* p[{1}]; }};\n"
      "extern \"C\" __global__ void __launch_bounds__(256) {0}({0}_slots s, SfCtx c) {{ {0}_run(s.p, c, SF_TID, SF_NT); }}\n\n",
      op.fn, n);
}

// ---- persistent kernels ----------------------------------------------------------------------

// One kernel runs steps [k0, k1) of the region: the body's ops in order, a barrier wherever an op
// touches what an earlier op since the last barrier wrote (or writes what it read) at elements of
// other threads, the recording, and a barrier closing the step. `tab` holds every op's slots twice:
// as at even steps and as at odd steps (double-buffered carries swapped).
std::string Generator::persistent_kernel(int id) {
  Region& reg = code_.regions[static_cast<size_t>(id)];
  const ScanRegion& r = *reg.scan;
  reg.fn = fmt::format("sf_r{}_persistent", id);
  reg.one_block = fits_one_block(r.body);
  reg.threads = widest_op(r.body);
  std::vector<int> ops = reg.body_ops;
  if (reg.record_op >= 0) ops.push_back(reg.record_op);
  std::vector<size_t> offset;
  for (int o : ops) {
    offset.push_back(reg.table.size());
    for (const Slot& s : code_.ops[static_cast<size_t>(o)].slots) reg.table.push_back(s);
  }
  const char* barrier = reg.one_block ? "__syncthreads()" : "grid.sync()";
  std::string s = fmt::format("// {}: persistent, {}: the body's {} ops for steps [k0, k1)\n", r.label,
                              reg.one_block ? "one block (barriers are __syncthreads)" : "cooperative grid (barriers are grid-wide)",
                              reg.body_ops.size());
  s += fmt::format("extern \"C\" __global__ void __launch_bounds__({}) {}(char* const* tab, SfCtx c, long long k0, long long k1) {{\n",
                   reg.one_block ? 1024 : 256, reg.fn);
  if (!reg.one_block) s += "  cooperative_groups::grid_group grid = cooperative_groups::this_grid();\n";
  s += "  const long long i0 = SF_TID, nt = SF_NT;\n  for (long long k = k0; k < k1; ++k) {\n    c.k[0] = k;\n";
  s += fmt::format("    char* const* p = tab + (k & 1) * {}LL;\n", reg.table.size());
  std::vector<std::pair<const DevOp*, std::map<int, Access>>> since;  // ops since the last barrier
  for (size_t i = 0; i < ops.size(); ++i) {
    const DevOp& op = code_.ops[static_cast<size_t>(ops[i])];
    std::map<int, Access> acc = op_accesses(op, *this);
    bool need = op.kind == OpKind::Record && !since.empty();
    for (auto& [prev, pacc] : since)
      if (conflicts(*prev, pacc, op, acc)) need = true;
    if (need) {
      s += fmt::format("    {};\n", barrier);
      ++reg.barriers;
      since.clear();
    }
    s += fmt::format("    {}_run(p + {}, c, i0, nt);\n", op.fn, offset[i]);
    since.push_back({&op, std::move(acc)});
  }
  // Every thread reads the error flag between the last writes that could set it and the closing
  // barrier, so all of them stop at the same step.
  s += fmt::format("    const bool stop = sf_error_raised(c);\n    {};\n    if (stop) break;\n  }}\n}}\n\n", barrier);
  ++reg.barriers;
  return s;
}

// ---- the source ------------------------------------------------------------------------------

CudaCode Generator::run() {
  walk(p_.steps, -1);
  bool cooperative = false;
  for (const Region& r : code_.regions)
    if (r.strategy == Strategy::Persistent && !fits_one_block(r.scan->body)) cooperative = true;
  std::string s = fmt::format("// Generated by scanflow from program @{}: CUDA C++ for NVRTC.\n", p_.name);
  if (cooperative) s += "#include <cooperative_groups.h>\n";
  s += "\n";
  s += prelude();
  s += "\n// ---- ops: a device function each (thread i0 of nt), and its launch wrapper ----\n\n";
  for (const DevOp& op : code_.ops) {
    switch (op.kind) {
      case OpKind::Kernel: s += kernel_fn(op); break;
      case OpKind::Copy: s += copy_fn(op); break;
      case OpKind::Matmul: s += matmul_fn(op); break;
      case OpKind::Segments: s += segments_fn(op); break;
      case OpKind::Record: s += record_fn(op); break;
    }
    s += wrapper(op);
  }
  for (size_t i = 0; i < code_.regions.size(); ++i) {
    Strategy st = code_.regions[i].strategy;
    if (st == Strategy::Persistent || st == Strategy::Elementwise)
      s += fmt::format("// ---- scan region r{}: {} ----\n\n", i, strategy_name(st));
    if (st == Strategy::Persistent) s += persistent_kernel(static_cast<int>(i));
    if (st == Strategy::Elementwise) s += elementwise_kernel(static_cast<int>(i));
  }
  code_.source = std::move(s);
  return std::move(code_);
}

CudaCode generate_cuda(const KernelProgram& p, const CodegenOptions& options) { return Generator(p, options).run(); }

}  // namespace sf::cuda
