// Emission of a kernel's scalar SSA instruction list as CUDA C++ statements, one statement per
// instruction (`const double v12 = exp(v11);`), following ops/scalar.h's semantics: integers wrap,
// float -> int casts saturate (NaN -> 0), min/max keep the first operand unless the comparison
// holds, math on integers is the identity, bools are bytes 0/1. Shared by the op functions and the
// elementwise scan kernel (which reroutes some loads and stores to registers).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "compiler/kernel_program.h"

namespace sf::cuda {

struct ListEmitter {
  explicit ListEmitter(const std::vector<Inst>& is, std::string value_prefix = "v", std::string index_var = "o")
      : insts(&is), prefix(std::move(value_prefix)), index(std::move(index_var)) {}
  const std::vector<Inst>* insts;
  std::string prefix;  // value names: prefix + instruction number
  std::string index;   // the loop index variable
  // The typed pointer variable of a buffer ("b17").
  std::function<std::string(int buf)> ptr = [](int b) { return fmt::format("b{}", b); };
  // Optional rerouting (elementwise kernel): return true and set the expression / statement.
  std::function<bool(const Inst& in, const std::string& idx, std::string* expr)> load;
  std::function<bool(const Inst& in, const std::string& idx, const std::string& value, std::string* stmt)> store;
  // The error-site id of a Check instruction.
  std::function<int(const Inst& in)> check_id;
};

// The statements of the whole list, each line starting with `indent`.
std::string emit_list(const ListEmitter& e, const std::string& indent);

// Pieces reused by other generators.
std::string const_literal(DType d, uint64_t bits);
std::string binary_expr(Op op, DType d, const std::string& a, const std::string& b);

}  // namespace sf::cuda
