// The algebraic simplification rules (compiler/simplify.h applies them), one line each, in the
// pattern language of compiler/pattern.h. Every rule says whether it is exact:
//
//   Exact     same bits for every input of every dtype the op takes (a NaN may come out as another
//             NaN: IEEE 754 leaves NaN payloads unspecified, and so does the interpreter's C++)
//   IntExact  exact for integers and bools; changes values for floats (the note says how)
//   FastMath  changes values (rounding, NaN, inf or the sign of zero); only with fast_math
//
// tests/passes_test.cpp checks every Exact rule (and every IntExact one on integers) bit for bit
// through the interpreter on random and special values (+-0, +-inf, NaN, subnormals, extremes),
// and shows each value-changing rule changing a value.
#pragma once
#include <vector>

#include "compiler/pattern.h"

namespace sf {

enum class Exactness { Exact, IntExact, FastMath };

struct Rule {
  const char* lhs;
  const char* rhs;
  Exactness exactness;
  bool (*when)(const Match&) = nullptr;  // an extra condition on what matched
  const char* note = "";                 // why it is exact, or what it changes
};

struct CompiledRule {
  Rule rule;
  Pattern lhs, rhs;
};

// The table, in the order the rules are tried.
const std::vector<CompiledRule>& simplify_rules();

// Whether rule `r` is exact for what `m` matched (IntExact: when no float is involved).
bool exact_for(const Rule& r, const Match& m);

// Whether `r` may rewrite what `m` matched: its condition holds, and it is exact or fast_math is on.
bool rule_applies(const Rule& r, const Match& m, bool fast_math);

}  // namespace sf
