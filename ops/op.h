// Ops: the enum and the per-op facts generated from ops/ops.def.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/types.h"

namespace sf {

enum class Op : uint8_t {
#define SF_UNARY(E, ...) E,
#define SF_BINARY(E, ...) E,
#define SF_COMPARE(E, ...) E,
#define SF_OTHER(E, ...) E,
#include "ops/ops.def"
};

// What an op is, for passes, DOT colours and backends.
enum class OpClass : uint8_t { Unary, Binary, Compare, Source, Select, Elementwise, Layout, Reduce, Contract, Index, Control };

// Which operand dtypes an elementwise op accepts.
enum DTypeSet : uint8_t { kNum, kFloat, kBool, kAny };

enum class AttrKind : uint8_t { Int, Float, Str, Ints, Strs, DType, Tensor };

struct AttrSpec {
  std::string name;
  AttrKind kind;
  bool optional = false;
};

struct OpInfo {
  Op op;
  const char* name;
  int arity;  // -1: variadic
  OpClass cls;
  DTypeSet dtypes;
  bool commutative;
  std::vector<AttrSpec> attrs;

  // Every element of the result depends only on the same element of each operand (rank-0
  // operands broadcast).
  bool elementwise() const {
    return cls == OpClass::Unary || cls == OpClass::Binary || cls == OpClass::Compare || cls == OpClass::Select ||
           cls == OpClass::Elementwise;
  }
};

const OpInfo& op_info(Op op);
inline const char* op_name(Op op) { return op_info(op).name; }
std::optional<Op> op_from_name(std::string_view name);
const std::vector<OpInfo>& all_ops();
const char* attr_kind_name(AttrKind k);

}  // namespace sf
