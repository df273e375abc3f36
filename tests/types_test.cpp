// Shape arithmetic shared by the interpreter's kernels and the lowering (graph/types.h).
#include <doctest/doctest.h>

#include "graph/error.h"
#include "graph/types.h"

using namespace sf;

TEST_CASE("types: elements of a range of dimensions") {
  Shape s = {2, 3, 4};
  CHECK(num_elements(s) == 24);
  CHECK(num_elements(s, 0, 3) == 24);
  CHECK(num_elements(s, 1, 3) == 12);
  CHECK(num_elements(s, 0, 1) == 2);
  CHECK(num_elements(s, 2, 2) == 1);  // an empty range
  CHECK(num_elements(s, 3, 3) == 1);
  CHECK(num_elements({}, 0, 0) == 1);
  CHECK(num_elements({5, 0, 7}, 0, 3) == 0);
}

TEST_CASE("types: negative axes count from the back") {
  CHECK(norm_axis(0, 3) == 0);
  CHECK(norm_axis(2, 3) == 2);
  CHECK(norm_axis(-1, 3) == 2);
  CHECK(norm_axis(-3, 3) == 0);
}

TEST_CASE("types: row-major strides") {
  Strides st = row_strides({2, 3, 4});
  CHECK(st[0] == 12);
  CHECK(st[1] == 4);
  CHECK(st[2] == 1);
  CHECK(st[3] == 0);  // past the rank
  CHECK(row_strides({})[0] == 0);
  CHECK(row_strides({7})[0] == 1);
  CHECK(row_strides({3, 0, 2})[0] == 0);  // an empty dimension
  CHECK(row_strides({1, 1, 1, 1, 1, 5})[0] == 5);
  CHECK_THROWS_AS(row_strides(Shape(kMaxRank + 1, 1)), InternalError);
}
