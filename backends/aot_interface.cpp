// The C interface every ahead-of-time object shares (see aot_interface.h).
#include "backends/aot_interface.h"

#include <cctype>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "graph/error.h"

namespace sf {
namespace {

const char* c_type_of(DType d) {
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

constexpr size_t kMaxCRank = 8;  // SF_AOT_MAX_RANK

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
const char kCommon[] = R"(#ifndef SF_AOT_COMMON
#define SF_AOT_COMMON
#define SF_AOT_MAX_RANK 8

/* Options of a run; all-zero (or NULL) gives the defaults. */
typedef struct sf_aot_options {
  int32_t threads;     /* CPU objects: worker threads; 0: all cores */
  int32_t strict_fp;   /* CPU objects: 1: keep subnormal numbers (by default worker threads flush them to zero) */
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
enum { SF_AOT_OK = 0, SF_AOT_INDEX_ERROR = 1, SF_AOT_STOPPED = 2, SF_AOT_MISSING_INPUT = 3, SF_AOT_NO_MEMORY = 4,
       SF_AOT_NO_DEVICE = 5 /* CUDA objects: no driver, no device, or a driver call failed */ };

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

const char* c_type(DType d) { return c_type_of(d); }
std::string c_quoted(const std::string& s) { return quoted(s); }

AotInterface aot_interface(const KernelProgram& p, const std::vector<AotStreamInfo>& streams, size_t regions,
                           const AotNames& names, const std::string& name) {
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
  for (const AotStreamInfo& s : streams) {
    auto it = names.streams.find(s.y);
    std::string want = it != names.streams.end() && regions == 1 ? it->second : fmt::format("stream_y{}", s.y);
    if (regions > 1) want = fmt::format("scan{}_{}", s.region, want);
    ai.streams.push_back(AotField{identifier(want, taken), s.value, s.y, s.events});
  }
  auto rank_ok = [&](int b) {
    const Buffer& buf = p.buffers[static_cast<size_t>(b)];
    if (buf.shape.size() > kMaxCRank) fail("--aot: '{}' has rank {} (at most {} in the C interface)", buf.name, buf.shape.size(), kMaxCRank);
  };
  for (auto* v : {&ai.inputs, &ai.results, &ai.streams})
    for (const AotField& f : *v) rank_ok(f.buffer);
  return ai;
}

std::string aot_header(const KernelProgram& p, const AotInterface& ai, const std::string& about) {
  const std::string& n = ai.name;
  auto buf = [&](int b) -> const Buffer& { return p.buffers[static_cast<size_t>(b)]; };
  std::string s = fmt::format("/* {0}.h: {1} compiled ahead of time by scanflow.\n *\n"
                              " *   int {0}_run(const {0}_inputs* in, {0}_results* out, const sf_aot_options* opt);\n *\n",
                              n, quoted(ai.label));
  s += about;
  s += fmt::format("#ifndef {0}_H\n#define {0}_H\n#include <stddef.h>\n#include <stdint.h>\n"
                   "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n", n);
  s += kCommon;
  s += fmt::format("\n/* Inputs: NULL takes the default. */\ntypedef struct {}_inputs {{\n", n);
  for (const AotField& f : ai.inputs) {
    const Buffer& b = buf(f.buffer);
    std::string dflt = !b.value ? ", required" : b.elements() == 1 ? scalar_default(b) : ", has a default";
    s += fmt::format("  const {}* {}; /* {} {}{} */\n", c_type_of(b.dtype), f.c_name, quoted(b.input), shape_str(b), dflt);
  }
  if (ai.inputs.empty()) s += "  char none_; /* (the program has no inputs) */\n";
  s += fmt::format("}} {}_inputs;\n\n/* Results: each is copied where its pointer points (NULL: not wanted). */\ntypedef struct {}_results {{\n", n, n);
  for (const AotField& f : ai.results) {
    const Buffer& b = buf(f.buffer);
    s += fmt::format("  {}* {}; /* {} */\n", c_type_of(b.dtype), f.c_name, shape_str(b));
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

std::string aot_bind_inputs(const KernelProgram& p, const AotInterface& ai, const std::string& dst, const std::string& report) {
  std::string s;
  for (size_t i = 0; i < ai.inputs.size(); ++i) {
    const AotField& f = ai.inputs[i];
    const Buffer& b = p.buffers[static_cast<size_t>(f.buffer)];
    std::string to = fmt::format(fmt::runtime(dst), i, f.buffer);
    std::string dflt = b.value && b.bytes() > 0 ? fmt::format("(void*){}_data_{}", ai.name, f.buffer) : "0";
    s += fmt::format("  {} = in && in->{} ? (void*)in->{} : {};\n", to, f.c_name, f.c_name, dflt);
    if (!b.value && b.bytes() > 0) {
      std::string q = quoted(b.input);  // "NAME", escaped for C
      s += fmt::format("  if (!{}) return {}(opt, SF_AOT_MISSING_INPUT, \"input '{}' was not given (it has no default)\");\n",
                       to, report, q.substr(1, q.size() - 2));
    }
  }
  return s;
}

std::string aot_info_tables(const KernelProgram& p, const AotInterface& ai) {
  const std::string& n = ai.name;
  auto buf = [&](int b) -> const Buffer& { return p.buffers[static_cast<size_t>(b)]; };
  std::string s;
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

  return s;
}

}  // namespace sf
