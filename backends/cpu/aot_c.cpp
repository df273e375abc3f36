// The C side of an ahead-of-time object: NAME.h (what a C or C++ program sees) and the glue that
// implements NAME_run over the generated entry. The glue does for one run what CpuExecutable::run
// does (cpu_backend.cpp): fills the buffer table (inputs, constants, the arena at the planned
// offsets), allocates the streaming chunks, calls the entry, turns a recorded check failure into
// the executor's message and copies the results out.
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/cpu/aot.h"
#include "graph/error.h"

namespace sf::cpu {
namespace {

const char* c_type(DType d) {
  switch (d) {
    case DType::f64: return "double";
    case DType::f32: return "float";
    case DType::i64: return "int64_t";
    case DType::i32: return "int32_t";
    case DType::b8: return "uint8_t";
    case DType::tuple: break;
  }
  internal_error("aot: no C type for a tuple");
}

// A C identifier, unique within `taken`.
std::string identifier(const std::string& want, std::set<std::string>& taken) {
  static const std::set<std::string> keywords = {
      "auto",   "break",  "case",     "char",   "const",  "continue", "default",  "do",     "double",
      "else",   "enum",   "extern",   "float",  "for",    "goto",     "if",       "inline", "int",
      "long",   "register", "restrict", "return", "short", "signed",  "sizeof",   "static", "struct",
      "switch", "typedef", "union",   "unsigned", "void", "volatile", "while",    "bool",   "class"};
  std::string s;
  for (char c : want) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) s = "x" + s;
  if (keywords.count(s)) s += "_";
  std::string u = s;
  for (int i = 2; taken.count(u); ++i) u = fmt::format("{}_{}", s, i);
  taken.insert(u);
  return u;
}

// A C string literal.
std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') q += '\\', q += static_cast<char>(c);
    else if (c < 32 || c > 126) q += fmt::format("\\{:03o}", c);
    else q += static_cast<char>(c);
  }
  return q + "\"";
}

std::string shape_str(const Buffer& b) {
  return fmt::format("{}[{}]", dtype_name(b.dtype), fmt::join(b.shape, ","));
}

// {rank, {d0, d1, ...}} for the info tables.
std::string shape_init(const Shape& shape) {
  if (shape.empty()) return "0, {0}";
  return fmt::format("{}, {{{}}}", shape.size(), fmt::join(shape, ", "));
}

constexpr size_t kMaxRank = 8;

std::string scalar_default(const Buffer& b) {
  const void* p = b.value->raw();
  switch (b.dtype) {
    case DType::f64: return fmt::format(", default {}", *static_cast<const double*>(p));
    case DType::f32: return fmt::format(", default {}", *static_cast<const float*>(p));
    case DType::i64: return fmt::format(", default {}", *static_cast<const int64_t*>(p));
    case DType::i32: return fmt::format(", default {}", *static_cast<const int32_t*>(p));
    case DType::b8: return fmt::format(", default {}", *static_cast<const uint8_t*>(p));
    case DType::tuple: break;
  }
  return "";
}

// The part every scanflow AOT header shares (guarded, so several objects' headers can be included).
const char* kCommon = R"(#ifndef SF_AOT_COMMON
#define SF_AOT_COMMON
#define SF_AOT_MAX_RANK 8

/* Options of a run; all-zero (or NULL) gives the defaults. */
typedef struct sf_aot_options {
  int32_t threads;     /* worker threads; 0: all cores */
  int32_t strict_fp;   /* 1: keep subnormal numbers (by default worker threads flush them to zero) */
  int64_t chunk_rows;  /* rows per `rows` call; 0: 256 */
  int64_t event_chunk; /* events per `events` call; 0: 4096 */
  /* Streamed outputs (NAME_stream_info). `rows`: rows [first_row, first_row + nrows) of a
   * recorded output, contiguous, valid during the call. `events`: n (index, step) pairs in step
   * order, ties by index. `progress`: `step` of `length` steps of top-level scan `scan` are done.
   * Callbacks come from one thread at a time; returning non-zero stops the run (NAME_run then
   * returns SF_AOT_STOPPED). NULL callbacks: the data is dropped. */
  void* ctx;
  int (*rows)(void* ctx, int32_t stream, const void* data, int64_t nrows, int64_t first_row);
  int (*events)(void* ctx, int32_t stream, const int64_t* pairs, int64_t n);
  int (*progress)(void* ctx, int32_t scan, int64_t step, int64_t length);
  char* error;       /* when not NULL: the message of a failed run, NUL-terminated */
  size_t error_size; /* bytes at `error` */
} sf_aot_options;

/* NAME_run's results. */
enum { SF_AOT_OK = 0, SF_AOT_INDEX_ERROR = 1, SF_AOT_STOPPED = 2, SF_AOT_MISSING_INPUT = 3, SF_AOT_NO_MEMORY = 4 };

/* Descriptions of the inputs and results (row-major arrays of `dtype`: f64 f32 i64 i32 b8). */
typedef struct sf_aot_tensor {
  const char* name; /* as in the graph */
  const char* dtype;
  int32_t rank;
  int64_t shape[SF_AOT_MAX_RANK];
  int32_t has_default; /* inputs: NULL in NAME_inputs takes the graph's default */
} sf_aot_tensor;

/* A streamed output: one row per recorded step (rows), or (index, step) pairs (events). */
typedef struct sf_aot_stream {
  const char* name;
  int32_t events;   /* 0: rows, 1: events */
  int64_t y;        /* the scan's output number */
  const char* dtype; /* of a row */
  int32_t rank;
  int64_t shape[SF_AOT_MAX_RANK]; /* of a row */
} sf_aot_stream;
#endif
)";

}  // namespace

AotInterface aot_interface(const KernelProgram& p, const Layout& l, const AotNames& names, const std::string& name) {
  AotInterface ai;
  ai.name = name, ai.label = names.label;
  std::set<std::string> taken;
  for (int b : p.inputs) ai.inputs.push_back(AotField{identifier(p.buffers[static_cast<size_t>(b)].input, taken), b});
  taken.clear();
  for (size_t i = 0; i < p.results.size(); ++i) {
    std::string want = i < names.results.size() && !names.results[i].empty() ? names.results[i] : fmt::format("result{}", i);
    ai.results.push_back(AotField{identifier(want, taken), p.results[i]});
  }
  taken.clear();
  for (const SlotInfo& s : l.slots) {
    auto it = names.streams.find(s.y);
    std::string want = it != names.streams.end() && l.regions.size() == 1 ? it->second : fmt::format("stream_y{}", s.y);
    if (l.regions.size() > 1) want = fmt::format("scan{}_{}", s.region, want);
    ai.streams.push_back(AotField{identifier(want, taken), s.value, s.y, s.mode == RecordMode::Events});
  }
  auto rank_ok = [&](int b) {
    const Buffer& buf = p.buffers[static_cast<size_t>(b)];
    if (buf.shape.size() > kMaxRank) fail("--aot: '{}' has rank {} (at most {} in the C interface)", buf.name, buf.shape.size(), kMaxRank);
  };
  for (auto* v : {&ai.inputs, &ai.results, &ai.streams})
    for (const AotField& f : *v) rank_ok(f.buffer);
  return ai;
}

std::string aot_header(const KernelProgram& p, const AotInterface& ai, bool blas) {
  const std::string& n = ai.name;
  auto buf = [&](int b) -> const Buffer& { return p.buffers[static_cast<size_t>(b)]; };
  std::string s = fmt::format(
      "/* {0}.h: {1} compiled ahead of time for this CPU by scanflow (scanflow compile --aot -o {0}.o).\n"
      " *\n"
      " *   int {0}_run(const {0}_inputs* in, {0}_results* out, const sf_aot_options* opt);\n"
      " *\n"
      " * runs the whole program (every step of every scan, on OpenMP threads) and returns SF_AOT_OK, or\n"
      " * an SF_AOT_* code with the message in opt->error. `in` and `out` may be NULL; every call is an\n"
      " * independent run. Link with: cc prog.c {0}.o -fopenmp -lmvec -lm{2}\n"
      " * (the object needs libc, libm/libmvec and libgomp{3}; no LLVM). */\n"
      "#ifndef {0}_H\n#define {0}_H\n#include <stddef.h>\n#include <stdint.h>\n"
      "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n",
      n, quoted(ai.label), blas ? " -lopenblas" : "", blas ? " and CBLAS" : "");
  s += kCommon;
  s += fmt::format("\n/* Inputs: NULL takes the default. */\ntypedef struct {}_inputs {{\n", n);
  for (const AotField& f : ai.inputs) {
    const Buffer& b = buf(f.buffer);
    std::string dflt = !b.value ? ", required" : b.elements() == 1 ? scalar_default(b) : ", has a default";
    s += fmt::format("  const {}* {}; /* {} {}{} */\n", c_type(b.dtype), f.c_name, quoted(b.input), shape_str(b), dflt);
  }
  if (ai.inputs.empty()) s += "  char none_; /* (the program has no inputs) */\n";
  s += fmt::format("}} {}_inputs;\n\n/* Results: each is copied where its pointer points (NULL: not wanted). */\ntypedef struct {}_results {{\n", n, n);
  for (const AotField& f : ai.results) {
    const Buffer& b = buf(f.buffer);
    s += fmt::format("  {}* {}; /* {} */\n", c_type(b.dtype), f.c_name, shape_str(b));
  }
  if (ai.results.empty()) s += "  char none_; /* (the program has no results) */\n";
  s += fmt::format("}} {}_results;\n\n", n);
  if (!ai.streams.empty()) {
    s += "/* Streamed outputs: the `stream` argument of the rows and events callbacks. */\nenum {\n";
    for (size_t i = 0; i < ai.streams.size(); ++i) {
      const AotField& f = ai.streams[i];
      s += fmt::format("  {}_stream_{} = {}, /* {} of {} */\n", n, f.c_name, i, f.events ? "events" : "rows",
                       shape_str(buf(f.buffer)));
    }
    s += "};\n";
  }
  s += fmt::format("#define {0}_INPUTS {1}\n#define {0}_RESULTS {2}\n#define {0}_STREAMS {3}\n", n, ai.inputs.size(),
                   ai.results.size(), ai.streams.size());
  s += fmt::format("extern const sf_aot_tensor {0}_input_info[];  /* {0}_INPUTS entries, in struct order */\n"
                   "extern const sf_aot_tensor {0}_result_info[]; /* {0}_RESULTS entries */\n"
                   "extern const sf_aot_stream {0}_stream_info[]; /* {0}_STREAMS entries */\n\n"
                   "int {0}_run(const {0}_inputs* in, {0}_results* out, const sf_aot_options* opt);\n",
                   n);
  s += fmt::format("\n#ifdef __cplusplus\n}}\n#endif\n#endif /* {}_H */\n", n);
  return s;
}

std::string aot_glue(const KernelProgram& p, const Layout& l, const AotInterface& ai,
                     const std::vector<std::string>& runtime_functions) {
  const std::string& n = ai.name;
  auto buf = [&](int b) -> const Buffer& { return p.buffers[static_cast<size_t>(b)]; };
  std::string s = fmt::format("/* The glue of {}.o (generated by scanflow compile --aot). */\n", n);
  s += "#define _GNU_SOURCE /* syscall(), for the barrier's futex */\n";
  s += "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <sys/syscall.h>\n#include <unistd.h>\n\n";
  // The run-time helpers, renamed per object (two objects may be linked into one program) and hidden.
  s += "#pragma GCC visibility push(hidden)\n";
  for (const std::string& f : runtime_functions) s += fmt::format("#define {0} {1}_{0}\n", f, n);
  s += kRuntimeText;
  s += fmt::format("\nvoid {}_entry(sf_cpu_args* args);\n", n);
  for (size_t b = 0; b < p.buffers.size(); ++b) {
    const Buffer& x = p.buffers[b];
    if ((x.role == BufferRole::Const || (x.role == BufferRole::Input && x.value)) && x.bytes() > 0)
      s += fmt::format("extern const unsigned char {}_data_{}[];\n", n, b);
  }
  s += "#pragma GCC visibility pop\n\n";
  s += fmt::format("int omp_get_num_procs(void);\n\n");
  s += aot_header(p, ai, false) + "\n";

  // Description tables.
  auto tensor_info = [&](const char* what, const std::vector<AotField>& v, bool inputs) {
    std::string t = fmt::format("const sf_aot_tensor {}_{}_info[] = {{\n", n, what);
    for (const AotField& f : v) {
      const Buffer& b = buf(f.buffer);
      t += fmt::format("  {{{}, \"{}\", {}, {}}},\n", quoted(inputs ? b.input : f.c_name), dtype_name(b.dtype),
                       shape_init(b.shape), inputs && b.value ? 1 : 0);
    }
    if (v.empty()) t += "  {0, 0, 0, {0}, 0},\n";
    return t + "};\n";
  };
  s += tensor_info("input", ai.inputs, true);
  s += tensor_info("result", ai.results, false);
  s += fmt::format("const sf_aot_stream {}_stream_info[] = {{\n", n);
  for (const AotField& f : ai.streams) {
    const Buffer& b = buf(f.buffer);
    s += fmt::format("  {{{}, {}, {}, \"{}\", {}}},\n", quoted(f.c_name), f.events ? 1 : 0, f.y, dtype_name(b.dtype),
                     shape_init(b.shape));
  }
  if (ai.streams.empty()) s += "  {0, 0, 0, 0, 0, {0}},\n";
  s += "};\n\n";

  // Run-time checks and scan regions, for the error message.
  s += fmt::format("static const char* const check_what[] = {{");
  for (const CheckInfo& c : l.checks) s += quoted(c.what) + ", ";
  s += "0};\nstatic const int64_t check_limit[] = {";
  for (const CheckInfo& c : l.checks) s += std::to_string(c.limit) + ", ";
  s += "0};\nstatic const int32_t check_regions[] = {";  // per check: count, then the regions outermost first
  std::vector<size_t> at;
  size_t pos = 0;
  for (const CheckInfo& c : l.checks) {
    at.push_back(pos);
    s += std::to_string(c.regions.size()) + ", ";
    for (int r : c.regions) s += std::to_string(r) + ", ";
    pos += 1 + c.regions.size();
  }
  s += "0};\nstatic const int32_t check_at[] = {";
  for (size_t a : at) s += std::to_string(a) + ", ";
  s += "0};\nstatic const char* const region_label[] = {";
  for (const RegionInfo& r : l.regions) s += quoted(r.label) + ", ";
  s += "0};\n\n";

  s += R"(typedef struct run_state {
  sf_cpu_args args; /* first: the generated code hands `args` to fail() */
  const sf_aot_options* opt;
  int32_t failed, check;
  int64_t value, position;
  const char* stopped_by;
} run_state;

static void stop(run_state* s, const char* by) {
  if (!s->stopped_by) s->stopped_by = by;
  s->args.error = 1;
}
static void on_rows(void* ctx, int32_t slot, const void* data, int64_t nrows, int64_t first_row) {
  run_state* s = (run_state*)ctx;
  if (s->opt->rows && s->opt->rows(s->opt->ctx, slot, data, nrows, first_row)) stop(s, "rows");
}
static void on_events(void* ctx, int32_t slot, const int64_t* pairs, int64_t n) {
  run_state* s = (run_state*)ctx;
  if (s->opt->events && s->opt->events(s->opt->ctx, slot, pairs, n)) stop(s, "events");
}
static void on_progress(void* ctx, int32_t scan, int64_t step, int64_t length) {
  run_state* s = (run_state*)ctx;
  if (s->opt->progress && s->opt->progress(s->opt->ctx, scan, step, length)) stop(s, "progress");
}
/* Any thread; the first failure wins. */
static void on_fail(sf_cpu_args* a, int32_t check, int64_t value, int64_t position) {
  run_state* s = (run_state*)a;
  int32_t no = 0;
  if (__atomic_compare_exchange_n(&s->failed, &no, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    s->check = check, s->value = value, s->position = position;
  a->error = 1;
}

static int report(const sf_aot_options* opt, int code, const char* message) {
  if (opt->error && opt->error_size > 0) snprintf(opt->error, opt->error_size, "%s", message);
  return code;
}

/* The reference executor's message: the check's, prefixed by every enclosing scan and its step. */
static void index_message(const run_state* s, const int64_t* scan_k, char* out, size_t size) {
  char msg[2048], tmp[2048];
  snprintf(msg, sizeof msg, "%s: index %lld out of range [0, %lld) at position %lld", check_what[s->check],
           (long long)s->value, (long long)check_limit[s->check], (long long)s->position);
  const int32_t* r = &check_regions[check_at[s->check]];
  for (int32_t i = r[0]; i >= 1; --i) {
    snprintf(tmp, sizeof tmp, "%s step %lld: %s", region_label[r[i]], (long long)scan_k[r[i]], msg);
    memcpy(msg, tmp, sizeof msg);
  }
  snprintf(out, size, "%s", msg);
}

)";

  // NAME_run.
  size_t nb = p.buffers.size(), ns = ai.streams.size();
  s += fmt::format("int {0}_run(const {0}_inputs* in, {0}_results* out, const sf_aot_options* opt) {{\n", n);
  s += "  static const sf_aot_options defaults;\n  if (!opt) opt = &defaults;\n";
  s += fmt::format("  void* buffers[{}] = {{0}};\n", std::max<size_t>(nb, 1));
  for (const AotField& f : ai.inputs) {
    const Buffer& b = buf(f.buffer);
    std::string dflt = b.value && b.bytes() > 0 ? fmt::format("(void*){}_data_{}", n, f.buffer) : "0";
    s += fmt::format("  buffers[{}] = in && in->{} ? (void*)in->{} : {};\n", f.buffer, f.c_name, f.c_name, dflt);
    if (!b.value && b.bytes() > 0) {
      std::string q = quoted(b.input);  // "NAME", escaped for C
      s += fmt::format("  if (!buffers[{}]) return report(opt, SF_AOT_MISSING_INPUT, \"input '{}' was not given (it has no default)\");\n",
                       f.buffer, q.substr(1, q.size() - 2));
    }
  }
  for (size_t b = 0; b < nb; ++b)
    if (buf(static_cast<int>(b)).role == BufferRole::Const && buf(static_cast<int>(b)).bytes() > 0)
      s += fmt::format("  buffers[{}] = (void*){}_data_{};\n", b, n, b);
  s += fmt::format(
      "  /* The arena, 64-byte aligned and zeroed, with every buffer at its planned offset. */\n"
      "  char* arena = (char*)calloc({}, 1);\n"
      "  if (!arena) return report(opt, SF_AOT_NO_MEMORY, \"out of memory (the arena: {} bytes)\");\n"
      "  char* base = arena + (64 - (uintptr_t)arena % 64) % 64;\n",
      p.plan.peak_bytes + 64, p.plan.peak_bytes);
  for (size_t b = 0; b < nb; ++b)
    if (buf(static_cast<int>(b)).in_arena()) s += fmt::format("  buffers[{}] = base + {};\n", b, buf(static_cast<int>(b)).offset);
  s += "  int64_t chunk_rows = opt->chunk_rows > 0 ? opt->chunk_rows : 256;\n"
       "  int64_t event_chunk = opt->event_chunk > 0 ? opt->event_chunk : 4096;\n";
  s += fmt::format("  void* chunks[{}] = {{0}};\n  int ok = 1;\n", std::max<size_t>(ns, 1));
  for (size_t i = 0; i < ns; ++i) {
    const AotField& f = ai.streams[i];
    std::string bytes = f.events ? "16 * event_chunk" : fmt::format("{} * chunk_rows", std::max<int64_t>(buf(f.buffer).bytes(), 1));
    s += fmt::format("  ok = ok && (chunks[{}] = malloc((size_t)({}))) != 0;\n", i, bytes);
  }
  s += fmt::format("  int64_t scan_k[{}] = {{0}};\n", l.regions.size() + 1);
  s += fmt::format(
      "  int code = SF_AOT_OK;\n"
      "  if (!ok) {{\n"
      "    code = report(opt, SF_AOT_NO_MEMORY, \"out of memory (the streaming chunks)\");\n"
      "  }} else {{\n"
      "    run_state st;\n"
      "    memset(&st, 0, sizeof st);\n"
      "    st.opt = opt;\n"
      "    sf_cpu_args* a = &st.args;\n"
      "    a->buffers = buffers;\n"
      "    a->threads = {0} ? (opt->threads > 0 ? opt->threads : omp_get_num_procs()) : 1;\n"
      "    a->ftz = opt->strict_fp ? 0 : 1;\n"
      "    a->ctx = &st;\n"
      "    a->sink_chunks = chunks;\n"
      "    a->chunk_rows = chunk_rows;\n"
      "    a->event_chunk = event_chunk;\n"
      "    a->rows = on_rows;\n"
      "    a->events = on_events;\n"
      "    a->progress = on_progress;\n"
      "    a->fail = on_fail;\n"
      "    a->scan_k = scan_k;\n"
      "    {1}_entry(a);\n"
      "    if (a->error && st.stopped_by) {{\n"
      "      char msg[128];\n"
      "      snprintf(msg, sizeof msg, \"stopped by the %s callback\", st.stopped_by);\n"
      "      code = report(opt, SF_AOT_STOPPED, msg);\n"
      "    }} else if (a->error) {{\n"
      "      char msg[2048];\n"
      "      index_message(&st, scan_k, msg, sizeof msg);\n"
      "      code = report(opt, SF_AOT_INDEX_ERROR, msg);\n"
      "    }} else if (out) {{\n",
      l.parallel ? 1 : 0, n);
  for (const AotField& f : ai.results) {
    const Buffer& b = buf(f.buffer);
    if (b.bytes() > 0)
      s += fmt::format("      if (out->{0}) memcpy(out->{0}, buffers[{1}], {2});\n", f.c_name, f.buffer, b.bytes());
  }
  s += "    }\n  }\n";
  for (size_t i = 0; i < ns; ++i) s += fmt::format("  free(chunks[{}]);\n", i);
  s += "  free(arena);\n  return code;\n}\n";
  return s;
}

}  // namespace sf::cpu
