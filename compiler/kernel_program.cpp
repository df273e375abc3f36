#include "compiler/kernel_program.h"

#include <cstring>

#include <fmt/format.h>

namespace sf {

const char* buffer_role_name(BufferRole r) {
  switch (r) {
    case BufferRole::Input: return "input";
    case BufferRole::Const: return "const";
    case BufferRole::State: return "state";
    case BufferRole::Temp: return "temp";
    case BufferRole::Output: return "output";
    case BufferRole::Record: return "record";
    case BufferRole::Row: return "row";
  }
  return "?";
}

const char* inst_kind_name(InstKind k) {
  switch (k) {
    case InstKind::Index: return "index";
    case InstKind::Const: return "const";
    case InstKind::Load: return "load";
    case InstKind::Unary: return "unary";
    case InstKind::Binary: return "binary";
    case InstKind::Compare: return "compare";
    case InstKind::Select: return "select";
    case InstKind::Cast: return "cast";
    case InstKind::Div: return "div";
    case InstKind::Rem: return "rem";
    case InstKind::Check: return "check";
    case InstKind::Acc: return "acc";
    case InstKind::Yield: return "yield";
    case InstKind::Store: return "store";
  }
  return "?";
}

const char* kernel_kind_name(KernelKind k) {
  switch (k) {
    case KernelKind::Map: return "map";
    case KernelKind::Reduce: return "reduce";
    case KernelKind::SegmentSum: return "segment_sum";
  }
  return "?";
}

const char* step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::Kernel: return "kernel";
    case StepKind::Matmul: return "matmul";
    case StepKind::Copy: return "copy";
    case StepKind::Segments: return "segments";
    case StepKind::Scan: return "scan";
  }
  return "?";
}

namespace {

std::string const_text(DType d, uint64_t bits) {
  switch (d) {
    case DType::f32: {
      float f;
      uint32_t b = static_cast<uint32_t>(bits);
      std::memcpy(&f, &b, sizeof f);
      return fmt::format("{}", f);
    }
    case DType::f64: {
      double f;
      std::memcpy(&f, &bits, sizeof f);
      return fmt::format("{}", f);
    }
    case DType::i32: return fmt::format("{}", static_cast<int32_t>(static_cast<uint32_t>(bits)));
    case DType::b8: return bits ? "true" : "false";
    default: return fmt::format("{}", static_cast<int64_t>(bits));
  }
}

class Printer {
 public:
  explicit Printer(const KernelProgram& p) : p_(p) {}

  std::string run() {
    line(0, fmt::format("program @{}", p_.name));
    line(0, "buffers:");
    for (size_t i = 0; i < p_.buffers.size(); ++i) buffer(static_cast<int>(i));
    line(0, "steps:");
    steps(p_.steps, 1);
    std::string res;
    for (int r : p_.results) res += (res.empty() ? "" : ", ") + b(r);
    line(0, "results: " + res);
    const MemoryPlan& m = p_.plan;
    line(0, fmt::format("memory plan: peak {} B in one arena ({} buffers, {} B without reuse); inputs {} B, consts {} B",
                        m.peak_bytes, m.arena_buffers, m.unshared_bytes, m.input_bytes, m.const_bytes));
    ProgramStats s = program_stats(p_);
    line(0, fmt::format("kernels: {} ({} per step), library calls: {}", s.kernels, s.kernels_per_step,
                        s.library_calls));
    return out_;
  }

 private:
  std::string b(int id) const { return id < 0 ? "-" : fmt::format("b{}", id); }

  void line(int depth, const std::string& s) {
    out_.append(static_cast<size_t>(depth) * 2, ' ');
    out_ += s;
    out_ += '\n';
  }

  void buffer(int id) {
    const Buffer& x = p_.buffers[static_cast<size_t>(id)];
    std::string s = fmt::format("{:<5} {:<7} {:<18} {:>9} B", b(id), buffer_role_name(x.role),
                                type_str(Type::tensor(x.dtype, x.shape)), x.bytes());
    if (x.offset >= 0) s += fmt::format("  @{}", x.offset);
    if (x.role == BufferRole::Input) s += fmt::format("  \"{}\"{}", x.input, x.value ? " (default)" : "");
    else s += "  " + x.name;
    line(1, s);
  }

  std::string v(int id) const { return fmt::format("%{}", id); }
  std::string idx(int id) const { return id < 0 ? "0" : v(id); }

  void insts(const std::vector<Inst>& is, int depth) {
    for (size_t i = 0; i < is.size(); ++i) {
      const Inst& in = is[i];
      std::string lhs = fmt::format("%{} = ", i), t = std::string(" : ") + dtype_name(in.dtype);
      switch (in.kind) {
        case InstKind::Index: line(depth, lhs + "index" + t); break;
        case InstKind::Const: line(depth, lhs + "const " + const_text(in.dtype, in.bits) + t); break;
        case InstKind::Load: line(depth, lhs + fmt::format("load {}[{}]", b(in.buf), idx(in.a)) + t); break;
        case InstKind::Unary: line(depth, lhs + fmt::format("{} {}", op_name(in.op), v(in.a)) + t); break;
        case InstKind::Binary:
        case InstKind::Compare:
          line(depth, lhs + fmt::format("{} {}, {}", op_name(in.op), v(in.a), v(in.b)) + t);
          break;
        case InstKind::Select: line(depth, lhs + fmt::format("select {}, {}, {}", v(in.a), v(in.b), v(in.c)) + t); break;
        case InstKind::Cast: line(depth, lhs + fmt::format("cast {}", v(in.a)) + t); break;
        case InstKind::Div: line(depth, lhs + fmt::format("div {}, {}", v(in.a), in.imm) + t); break;
        case InstKind::Rem: line(depth, lhs + fmt::format("rem {}, {}", v(in.a), in.imm) + t); break;
        case InstKind::Check:
          line(depth, lhs + fmt::format("check {} in [0, {}) at {}  // {}", v(in.a), in.imm, v(in.b), in.what) + t);
          break;
        case InstKind::Acc: line(depth, lhs + fmt::format("acc {}", in.imm) + t); break;
        case InstKind::Yield: line(depth, fmt::format("yield {}, {}", in.imm, v(in.a))); break;
        case InstKind::Store: line(depth, fmt::format("store {}[{}] = {}", b(in.buf), idx(in.a), v(in.b))); break;
      }
    }
  }

  void kernel(const Kernel& k, int depth) {
    std::string head = fmt::format("kernel {} {} n={}", k.name, kernel_kind_name(k.kind), k.n);
    if (k.kind == KernelKind::Reduce)
      head += fmt::format(" ({} over len {}, stride {})", op_name(k.combine), k.len, k.stride);
    if (k.kind == KernelKind::SegmentSum)
      head += fmt::format(" (segments {}/{}, row {})", b(k.offsets), b(k.order), k.row);
    line(depth, head + " {");
    if (k.kind != KernelKind::Map) {
      line(depth + 1, "inner:");
      insts(k.inner, depth + 2);
      line(depth + 1, "body:");
      insts(k.body, depth + 2);
    } else {
      insts(k.body, depth + 1);
    }
    line(depth, "}");
  }

  void steps(const std::vector<Step>& ss, int depth) {
    for (const Step& s : ss) {
      switch (s.kind) {
        case StepKind::Kernel: kernel(s.kernel, depth); break;
        case StepKind::Matmul: {
          const MatmulStep& m = s.matmul;
          line(depth, fmt::format("matmul {} = {} x {}  // [{},{}] x [{},{}]", b(m.out), b(m.a), b(m.b), m.m, m.k, m.k, m.n));
          break;
        }
        case StepKind::Copy: {
          const CopyStep& c = s.copy;
          if (c.rows == 1 && c.dst_offset == 0 && c.src_offset == 0)
            line(depth, fmt::format("copy {} = {}  // {} elements", b(c.dst), b(c.src), c.elems));
          else
            line(depth, fmt::format("copy {}[{} + r*{}] = {}[{} + r*{}]  // {} rows of {} elements", b(c.dst),
                                    c.dst_offset, c.dst_stride, b(c.src), c.src_offset, c.src_stride, c.rows, c.elems));
          break;
        }
        case StepKind::Segments: {
          const SegmentsStep& g = s.segments;
          line(depth, fmt::format("segments {}, {} = csr({}, size {})  // {}", b(g.offsets), b(g.order), b(g.index),
                                  g.size, g.what));
          break;
        }
        case StepKind::Scan: scan(s.scan, depth); break;
      }
    }
  }

  void scan(const ScanRegion& r, int depth) {
    std::string head = fmt::format("scan {} length {} every {}", r.label, r.length, r.every);
    if (!r.cls.empty()) head += " class " + r.cls;
    if (r.stages > 0) head += fmt::format(" stages {}", r.stages);
    line(depth, head + " {");
    for (size_t c = 0; c < r.carries.size(); ++c) {
      const ScanCarry& x = r.carries[c];
      line(depth + 1, fmt::format("carry {}: {} = {}; {}", c, b(x.state), b(x.init),
                                  x.next < 0 ? "in place" : fmt::format("double-buffered with {}", b(x.next))));
    }
    for (size_t j = 0; j < r.xs.size(); ++j)
      line(depth + 1, fmt::format("xs {}: {} = {}[k]", j, b(r.xs[j].row), b(r.xs[j].xs)));
    if (!r.prologue.empty()) {
      line(depth + 1, "prologue (once, before step 0):");
      steps(r.prologue, depth + 2);
    }
    line(depth + 1, "step k:");
    steps(r.body, depth + 2);
    for (size_t y = 0; y < r.ys.size(); ++y)
      line(depth + 2, fmt::format("record {} {} -> {}", record_mode_name(r.ys[y].mode), b(r.ys[y].value), b(r.ys[y].out)));
    for (const ScanCarry& x : r.carries)
      if (x.next >= 0) line(depth + 2, fmt::format("swap {}, {}", b(x.state), b(x.next)));
    line(depth, "}");
  }

  const KernelProgram& p_;
  std::string out_;
};

// Kernel launches of running `steps` once.
int64_t count_launches(const std::vector<Step>& steps) {
  int64_t n = 0;
  for (const Step& s : steps) {
    if (s.kind == StepKind::Kernel) ++n;
    const ScanRegion& r = s.scan;
    if (s.kind == StepKind::Scan && r.length > 0) n += count_launches(r.prologue) + r.length * count_launches(r.body);
  }
  return n;
}

}  // namespace

std::string print_program(const KernelProgram& p) { return Printer(p).run(); }

ProgramStats program_stats(const KernelProgram& p) {
  ProgramStats s;
  for_each_step(p.steps, [&](const Step& st) {
    s.kernels += st.kind == StepKind::Kernel;
    s.library_calls += st.kind == StepKind::Matmul;
  });
  s.launches = count_launches(p.steps);
  // The main scan: the top-level one with the most steps (the first of those), as fusion_stats has it.
  const ScanRegion* main = nullptr;
  for (const Step& st : p.steps)
    if (st.kind == StepKind::Scan && (!main || st.scan.length > main->length)) main = &st.scan;
  if (main) s.kernels_per_step = count_launches(main->body);
  return s;
}

std::vector<bool> uniform_insts(const std::vector<Inst>& is) {
  std::vector<bool> u(is.size(), false);
  for (size_t i = 0; i < is.size(); ++i) {
    const Inst& in = is[i];
    bool x = in.kind != InstKind::Index && in.kind != InstKind::Acc && in.kind != InstKind::Store &&
             in.kind != InstKind::Yield;
    for (int o : {in.a, in.b, in.c})
      if (o >= 0 && !u[static_cast<size_t>(o)]) x = false;
    u[i] = x;
  }
  return u;
}

}  // namespace sf
