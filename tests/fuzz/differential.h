// The differential check: a graph run by the interpreter (the oracle) and compiled (compile_graph,
// then the KernelProgram reference executor) must give the same results and make the same sink
// calls, within
//
//   |a - b| <= atol + rtol * |b|     f64: rtol 1e-12, atol 1e-300;  f32: rtol 1e-5, atol 1e-30
//
// (b the interpreter's value), with NaN matching NaN, infinities matching exactly, and integers,
// bools and events matching exactly. The executor computes the same operations in the same order,
// so almost every case is bit-exact; the tolerance only leaves room for legitimate reassociation.
//
// Random graphs are compiled with CompileOptions::rewrite_singularities off: that pass changes
// values on purpose (x/(exp(x/k)-1) becomes an expm1 form that differs by rounding, and is finite
// where the original is 0/0), and a random graph can amplify a rounding difference without bound
// (a floor, a comparison, a scan), so no tolerance would be right for it. It has its own tests
// (tests/passes_test.cpp). fast_math stays off too: the default pipeline must be exact.
//
// Every case also checks that the graph and the compiled graph round-trip through .sfg text
// (print, parse, print gives the same text); compile_graph verifies the graph after every pass.
#pragma once
#include <functional>
#include <string>

#include "backends/interpreter/interpreter.h"
#include "compiler/kernel_program.h"
#include "compiler/pass.h"
#include "tests/fuzz/graph_gen.h"

namespace sf::fuzz {

// The options random graphs are compiled with (see above).
CompileOptions fuzz_compile_options();

// "" when `got` matches `want` (same type, every element within the tolerance of its dtype), else
// the first mismatching element: "element 5 [1,2]: 0.5 vs 0.25". f32_math: f64 elements get f32's
// tolerance (a backend's run of a graph that computes in f32 somewhere, see check_case).
std::string compare_tensors(const Tensor& got, const Tensor& want, bool f32_math = false);

// Checks one case. "" when everything agrees; otherwise a report naming the seed, what differs
// (the first mismatching element), the first stage at which it differs (a pass, or lowering and
// the executor), and the graph's .sfg. When `run` is given and the graph computes in f32 anywhere,
// f64 values are compared with f32's tolerance: the backend's f32 math functions may differ from
// libm's in the last bit, and casts carry that into f64 results.
// `tamper`, for the fuzzer's own tests, edits the compiled program before it runs. `run` runs the
// compiled program on a backend (default: the reference executor).
using ProgramRunner =
    std::function<std::vector<Tensor>(const KernelProgram&, const std::map<std::string, Tensor>&, const RunOptions&)>;
std::string check_case(const FuzzCase& c, const std::function<void(KernelProgram&)>& tamper = {},
                       const ProgramRunner& run = {});
inline std::string check_seed(uint64_t seed, const GenOptions& o = {}) { return check_case(generate(seed, o)); }

}  // namespace sf::fuzz
