// Malformed input must give one clear sf::Error ("file:line:col: message"), never a crash, a hang
// or undefined behaviour (this file also runs under ASan+UBSan).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "files.h"
#include "graph/error.h"
#include "graph/text.h"
#include "sample_graphs.h"

using namespace sf;
using namespace sf::test;

namespace {

// The message of the sf::Error that parsing `text` throws ("" if it parses). Any other exception
// fails the test.
std::string parse_error(std::string_view text, const std::string& file = "in.sfg") {
  try {
    parse_graph(text, file);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

// Each tests/bad/NAME.sfg starts with "# expect: LINE:COL: fragment of the message".
TEST_CASE("bad input: the corpus of malformed files") {
  std::filesystem::path dir = SF_SOURCE_DIR "/tests/bad";
  int files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".sfg") continue;
    ++files;
    std::string path = entry.path().string(), text = read_file(path);
    std::string first = text.substr(0, text.find('\n'));
    const std::string tag = "# expect: ";
    REQUIRE_MESSAGE(starts_with(first, tag), path, " has no '# expect: LINE:COL: message' first line");
    std::string expect = first.substr(tag.size());
    size_t colon = expect.find(": ");
    REQUIRE(colon != std::string::npos);
    std::string where = expect.substr(0, colon), fragment = expect.substr(colon + 2);
    std::string message;
    try {
      load_graph(path);
    } catch (const Error& e) {
      message = e.what();
    }
    INFO("file: ", path);
    INFO("message: ", message);
    CHECK(starts_with(message, path + ":" + where + ": "));
    CHECK(message.find(fragment) != std::string::npos);
  }
  CHECK(files >= 35);
}

TEST_CASE("bad input: files that are not text") {
  CHECK(parse_error("") == "in.sfg:1:1: expected 'graph', got end of file");
  CHECK(parse_error(std::string("graph @g {\n  \0", 14)) == "in.sfg:2:3: NUL byte: this is not a text file");
  CHECK(parse_error("graph @g {\n  %0 = input {name = \"\xff\"") ==
        "in.sfg:2:23: invalid UTF-8 (byte 0xff): this is not a text file");
  CHECK(parse_error("graph @\xc3\xa9 {") == "in.sfg:1:7: expected a graph name after '@'");
  CHECK(parse_error("\xc3\xa9") == "in.sfg:1:1: unexpected character '\xc3\xa9'");
  CHECK(parse_error("\x01") == "in.sfg:1:1: unexpected character \\x01");

  std::mt19937 rng(1);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(static_cast<size_t>(rng() % 300), '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string msg = parse_error(bytes);
    CHECK(starts_with(msg, "in.sfg:"));
  }

  std::string path = "/tmp/scanflow_bad_input_" + std::to_string(rng()) + ".sfg";
  {
    std::ofstream f(path, std::ios::binary);
    f << "graph @main {\n"
      << std::string(
             "\x7f"
             "ELF\0\0\0\x02\x01\xff\xfe",
             12);
  }
  CHECK_THROWS_WITH_AS(load_graph(path), (path + ":2:5: NUL byte: this is not a text file").c_str(), Error);
  std::remove(path.c_str());
}

TEST_CASE("bad input: nesting and size limits") {
  // Scans nested beyond the limit: no stack overflow, a clear message.
  std::string deep = "graph @main {\n  %0 = input {name = \"a\", dtype = f64, shape = []} : f64[]\n";
  for (int i = 0; i < 100; ++i)
    deep +=
        "  %1 = scan(%0) {carry = 1, xs = 0, length = 1, every = 1, record = []} body @b {\n"
        "  %0 = param {index = 0, dtype = f64, shape = []} : f64[]\n";
  CHECK(parse_error(deep).find("scan bodies nested more than 64 deep") != std::string::npos);

  // 64 levels are fine.
  Graph g = nested_scans(64);
  CHECK(graph_diff(parse_graph(print_graph(g)), g) == "");
  CHECK(parse_error(print_graph(nested_scans(65))).find("nested more than 64 deep") != std::string::npos);

  CHECK(parse_error("graph @main {\n  %0 = input {name = \"a\", dtype = f64, shape = []} : " + std::string(100000, '('))
            .find("tuple types nested more than 64 deep") != std::string::npos);

  // A long chain is ordered without recursion.
  std::string chain = "graph @main {\n";
  const int n = 100000;
  for (int i = n; i > 0; --i) chain += fmt::format("  %{} = neg(%{}) : f64[]\n", i, i - 1);
  chain += "  %0 = input {name = \"a\", dtype = f64, shape = []} : f64[]\n  return %" + std::to_string(n) + "\n}\n";
  Graph c = parse_graph(chain);
  CHECK(c.nodes.size() == static_cast<size_t>(n) + 1);
  CHECK(c.nodes[0].op == Op::Input);
  CHECK(c.results[0] == n);

  CHECK(parse_error("graph @main {\n  %0 = const {value = bool[3000000000]{splat true}} : bool[3000000000]\n") ==
        "in.sfg:2:27: tensor literal bool[3000000000] is too large (3000000000 elements; the limit is 2 GiB)");
}

TEST_CASE("bad input: random mutations of a valid file") {
  const std::string valid = print_graph(kitchen_sink());
  const std::string pieces[] = {"%",         "%999",   "(",    ")",     "{",
                                "}",         "[",      "]",    ",",     "=",
                                ":",         "\"",     "\\",   "-",     "0",
                                "-1",        "1e999",  "nan(", "splat", "scan",
                                "body @x {", "return", "f64[", "bool",  "99999999999999999999",
                                "\n",        "#",      "\xff", "\xc3",  "inf",
                                "tuple"};
  std::mt19937 rng(12345);
  int parsed = 0, failed = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    std::string text = valid;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text.erase(at, 1 + rng() % 8); break;
        case 1: text.insert(at, pieces[rng() % std::size(pieces)]); break;
        case 2: text.resize(at); break;
        default: text[at] = static_cast<char>(rng()); break;
      }
      if (text.empty()) text.assign(1, 'g');
    }
    try {
      Graph g = parse_graph(text, "fuzz.sfg");
      ++parsed;
      CHECK(print_graph(parse_graph(print_graph(g))) == print_graph(g));
    } catch (const Error& e) {
      ++failed;
      CHECK(starts_with(e.what(), "fuzz.sfg"));
    }
  }
  CHECK(failed > 1000);
  MESSAGE(parsed, " mutants parsed, ", failed, " were rejected");
}

TEST_CASE("bad input: builder misuse") {
  Builder b;
  Value x = b.input("x", DType::f64, {3});
  Value y = b.input("y", DType::f32, {3});
  Value z = b.input("z", DType::f64, {4});
  CHECK_THROWS_WITH_AS(b.op(Op::Add, {x}), "add: takes 2 operands, got 1", Error);
  CHECK_THROWS_WITH_AS(b.op(Op::Neg, {x, x}), "neg: takes 1 operand, got 2", Error);
  CHECK_THROWS_WITH_AS(b.op(Op::Add, {x, z}), "add: shape mismatch [3] vs [4]", Error);
  CHECK_THROWS_WITH_AS(x * y, "mul: dtype mismatch f64[3] vs f32[3]", Error);
  CHECK_THROWS_WITH_AS(b.op(Op::Neg, {x}, Attrs{{"axis", int64_t{0}}}), "neg: unknown attribute 'axis'", Error);
  CHECK_THROWS_WITH_AS(b.op(Op::ReduceSum, {x}), "reduce_sum: missing attribute 'axis' (int)", Error);
  CHECK_THROWS_WITH_AS(b.op(Op::ReduceSum, {x}, Attrs{{"axis", 0.5}}), "reduce_sum: attribute 'axis' must be a int",
                       Error);
  CHECK_THROWS_AS(b.input("x", DType::f64, {}), Error);
  Builder top;
  top.op(Op::Param, {}, Attrs{{"index", int64_t{0}}, {"dtype", DType::f64}, {"shape", Shape{}}});
  CHECK_THROWS_AS(top.build({}), Error);  // a param outside a body: caught by verify
  Builder other("other");
  Value w = other.input("w", DType::f64, {3});
  CHECK_THROWS_WITH_AS(x + w, "a value from another graph ('other') is used in graph 'main'", Error);
  CHECK_THROWS_AS(b.op(Op::Neg, {Value()}), Error);
  CHECK_THROWS_AS(reshape(x, {4}), Error);
  CHECK_THROWS_AS(b.scan(3, {x}, {},
                         [&](Builder&, auto& c, auto&) {
                           return ScanStep{{cast(c[0], DType::f32)}, {}};
                         }),
                  Error);
}
