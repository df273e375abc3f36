// NumPy .npy files. The format: the magic "\x93NUMPY", a version (1.0: 2-byte header length; 2.0
// and 3.0: 4-byte), then a Python dict literal such as
//   {'descr': '<f8', 'fortran_order': False, 'shape': (17,), }
// padded with spaces to a multiple of 64 bytes and ended by '\n', then the raw C-order data.
#include "graph/npy.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "graph/error.h"

namespace sf {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

struct Header {
  std::string descr;
  bool fortran = false;
  Shape shape;
};

// A parser for the header's dict literal: string keys; string, bool or int-tuple values.
class DictParser {
 public:
  DictParser(std::string_view s, const std::string& path) : s_(s), path_(path) {}

  Header parse() {
    Header h;
    bool seen_descr = false, seen_shape = false;
    expect('{');
    while (!peek('}')) {
      std::string key = string();
      expect(':');
      if (key == "descr") {
        if (peek('[')) bad("structured dtypes (a list 'descr') are not supported");
        h.descr = string();
        seen_descr = true;
      } else if (key == "fortran_order") {
        h.fortran = boolean();
      } else if (key == "shape") {
        h.shape = tuple();
        seen_shape = true;
      } else {
        bad("unknown header key '" + key + "'");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    if (!seen_descr || !seen_shape) bad("the header lacks 'descr' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& why) const { fail("{}: malformed .npy header: {}", path_, why); }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!peek(c)) bad(fmt::format("expected '{}' at offset {}", c, i_));
    ++i_;
  }
  std::string string() {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) bad(fmt::format("expected a string at offset {}", i_));
    char q = s_[i_++];
    size_t end = s_.find(q, i_);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string r(s_.substr(i_, end - i_));
    i_ = end + 1;
    return r;
  }
  bool boolean() {
    skip_space();
    for (auto [word, v] : {std::pair{"True", true}, std::pair{"False", false}})
      if (s_.substr(i_, std::strlen(word)) == word) {
        i_ += std::strlen(word);
        return v;
      }
    bad(fmt::format("expected True or False at offset {}", i_));
  }
  int64_t integer() {
    skip_space();
    if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_])))
      bad(fmt::format("expected a dimension at offset {}", i_));
    int64_t v = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
      int d = s_[i_++] - '0';
      if (v > (std::numeric_limits<int64_t>::max() - d) / 10) bad("dimension too large");
      v = v * 10 + d;
    }
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long suffix
    return v;
  }
  Shape tuple() {
    Shape sh;
    expect('(');
    while (!peek(')')) {
      sh.push_back(integer());
      if (!peek(')')) expect(',');
    }
    expect(')');
    return sh;
  }

  std::string_view s_;
  const std::string& path_;
  size_t i_ = 0;
};

// Maps a descr such as '<f8' to a dtype; `u1` reads as bool.
DType parse_descr(const std::string& d, const std::string& path) {
  if (d.size() < 2) fail("{}: unsupported dtype '{}'", path, d);
  char order = d[0];
  std::string kind = d.substr(1);
  if (kind == "O") fail("{}: object arrays (pickled Python objects) are not supported", path);
  static const std::pair<const char*, DType> kinds[] = {{"f4", DType::f32}, {"f8", DType::f64}, {"i4", DType::i32},
                                                        {"i8", DType::i64}, {"b1", DType::b8},  {"u1", DType::b8}};
  for (auto& [k, t] : kinds) {
    if (kind != k) continue;
    if (order == '>' && dtype_size(t) > 1) fail("{}: big-endian data ('{}') is not supported", path, d);
    if (order != '<' && order != '>' && order != '|' && order != '=')
      fail("{}: unsupported dtype '{}'", path, d);
    return t;
  }
  fail("{}: unsupported dtype '{}' (supported: <f4 <f8 <i4 <i8 |b1 |u1)", path, d);
}

uint32_t little_endian(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

const char* descr_of(DType t) {
  switch (t) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
    case DType::b8: return "|b1";
    case DType::tuple: break;
  }
  internal_error("no .npy dtype for a tuple");
}

// The dict literal of a header.
std::string dict_literal(DType t, const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += std::to_string(shape[i]) + ",";
  if (shape.size() > 1) s.pop_back();  // (3,) for one dim, (3,4) for more, like NumPy
  s += ")";
  return fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr_of(t), s);
}

// A version 1.0 header: magic, version, length, the dict padded with spaces to `total` bytes
// (a multiple of 64) and a final newline.
std::string header_bytes(const std::string& dict, size_t total) {
  std::string h(kMagic, kMagicLen);
  h += '\x01';
  h += '\x00';
  size_t len = total - 10;
  h += static_cast<char>(len & 0xff);
  h += static_cast<char>(len >> 8);
  h += dict;
  h.append(total - h.size() - 1, ' ');
  h += '\n';
  return h;
}

size_t header_size_for(size_t dict_len) {
  size_t total = (10 + dict_len + 1 + 63) / 64 * 64;
  if (total - 10 > 0xffff) internal_error("npy header too long");
  return total;
}

std::string io_error(const std::string& what, const std::string& path) {
  return fmt::format("cannot {} '{}': {}", what, path, std::strerror(errno));
}

}  // namespace

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}", io_error("open", path));
  unsigned char pre[8];
  if (!in.read(reinterpret_cast<char*>(pre), 8) || std::memcmp(pre, kMagic, kMagicLen) != 0)
    fail("{}: not a .npy file (bad magic)", path);
  int major = pre[6];
  if (major < 1 || major > 3) fail("{}: unsupported .npy version {}.{}", path, major, int(pre[7]));
  int len_bytes = major == 1 ? 2 : 4;  // 2.0 and 3.0 allow headers over 64 KiB
  unsigned char len_buf[4];
  if (!in.read(reinterpret_cast<char*>(len_buf), len_bytes)) fail("{}: truncated header", path);
  uint32_t header_len = little_endian(len_buf, len_bytes);
  if (header_len > (1u << 24)) fail("{}: header length {} is implausible", path, header_len);
  std::string text(header_len, '\0');
  if (!in.read(text.data(), header_len)) fail("{}: truncated header", path);

  Header h = DictParser(text, path).parse();
  if (h.fortran) fail("{}: Fortran-order arrays are not supported (save with C order)", path);
  DType t = parse_descr(h.descr, path);
  if (h.shape.size() > kMaxRank) fail("{}: rank {} exceeds the maximum rank {}", path, h.shape.size(), kMaxRank);
  int64_t count = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / 8 / d) fail("{}: shape too large", path);
    count *= d;
  }

  Tensor r(t, h.shape);
  in.read(static_cast<char*>(r.raw()), static_cast<std::streamsize>(r.bytes()));
  if (in.gcount() != r.bytes())
    fail("{}: truncated data: expected {} bytes for {}, found {}", path, r.bytes(), type_str(r.type()), in.gcount());
  if (in.peek() != std::char_traits<char>::eof()) fail("{}: unexpected bytes after the array data", path);
  if (t == DType::b8) {  // any nonzero byte is true; keep the 0/1 invariant
    uint8_t* p = r.data<uint8_t>();
    for (int64_t i = 0; i < r.size(); ++i) p[i] = p[i] ? 1 : 0;
  }
  return r;
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string dict = dict_literal(t.dtype(), t.shape());
  std::string head = header_bytes(dict, header_size_for(dict.size()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("{}", io_error("open for writing", path));
  out.write(head.data(), static_cast<std::streamsize>(head.size()));
  out.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.bytes()));
  out.close();
  if (!out) fail("{}", io_error("write", path));
}

// ---- NpyRowWriter ----------------------------------------------------------------------------

// The header has room for a 20-digit row count, so close() can rewrite it in place.
static size_t row_writer_header_size(DType t, int64_t cols) {
  return header_size_for(dict_literal(t, {0, cols}).size() + 19);
}

NpyRowWriter::NpyRowWriter(const std::string& path, DType dtype, int64_t cols) : path_(path), dtype_(dtype), cols_(cols) {
  if (dtype == DType::tuple) fail("{}: cannot write a tuple", path);
  if (cols < 0) fail("{}: negative column count {}", path, cols);
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) fail("{}", io_error("open for writing", path));
  std::string head = header_bytes(dict_literal(dtype_, {0, cols_}), row_writer_header_size(dtype_, cols_));
  if (std::fwrite(head.data(), 1, head.size(), f_) != head.size()) {
    std::fclose(f_);
    f_ = nullptr;
    fail("{}", io_error("write", path));
  }
}

NpyRowWriter::~NpyRowWriter() {
  try {
    close();
  } catch (const std::exception&) {
    // A destructor must not throw; callers who care call close() themselves.
  }
}

void NpyRowWriter::append(const Tensor& rows) {
  if (!f_) fail("{}: append after close", path_);
  bool one = rows.rank() == 1 && rows.shape()[0] == cols_;
  bool many = rows.rank() == 2 && rows.shape()[1] == cols_;
  if (rows.dtype() != dtype_ || (!one && !many))
    fail("{}: cannot append {} to rows of {}[{}]", path_, type_str(rows.type()), dtype_name(dtype_), cols_);
  size_t n = static_cast<size_t>(rows.bytes());
  if (n && std::fwrite(rows.raw(), 1, n, f_) != n) fail("{}", io_error("write", path_));
  rows_ += one ? 1 : rows.shape()[0];
}

void NpyRowWriter::close() {
  if (!f_) return;
  std::FILE* f = f_;
  f_ = nullptr;
  std::string head = header_bytes(dict_literal(dtype_, {rows_, cols_}), row_writer_header_size(dtype_, cols_));
  bool ok = std::fseek(f, 0, SEEK_SET) == 0 && std::fwrite(head.data(), 1, head.size(), f) == head.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) fail("{}", io_error("finish", path_));
}

}  // namespace sf
