// The C++ API users write graphs with. Reads like math:
//
//   Builder b;
//   Value v = b.input("V0", f64, {n}), I = b.input("I", f64, {n});
//   Value dv = (I - gNa * m * m * m * h * (v - ENa)) / C;
//
// Types and shapes are inferred as nodes are made; a mismatch throws sf::Error naming the op and
// the shapes. Binary ops broadcast NumPy-style: rank-0 operands stay scalars in the IR, size-1
// dimensions become explicit `broadcast` nodes. Structurally equal nodes are made once
// (hash-consing). Inside a scan body, using a value of an enclosing graph captures it (it becomes
// a body param and a scan operand), so a body reads like a closure.
#pragma once
#include <functional>
#include <optional>
#include <unordered_map>

#include "graph/graph.h"

namespace sf {

class Builder;

class Value {
 public:
  Value() = default;
  Value(Builder* b, NodeId id) : b_(b), id_(id) {}
  Builder* builder() const { return b_; }
  NodeId id() const { return id_; }
  bool valid() const { return b_ != nullptr; }
  const Type& type() const;
  DType dtype() const { return type().dtype; }
  const Shape& shape() const { return type().shape; }
  int rank() const { return type().rank(); }

 private:
  Builder* b_ = nullptr;
  NodeId id_ = -1;
};

struct ScanStep {
  std::vector<Value> carry;  // the new carries, typed as the initial ones
  std::vector<Value> ys;     // per-step outputs
};
struct ScanResult {
  std::vector<Value> carry;  // final carries
  std::vector<Value> ys;     // stacked outputs ([length/every, ...]) or row/event counts (i64[])
};
struct ScanOptions {
  int64_t every = 1;               // record the outputs of steps k with (k+1) % every == 0
  std::vector<RecordMode> record;  // one per per-step output; empty = all stacked
};
// The body: (its builder, carries, per-step slices of xs) -> new carries and per-step outputs.
using ScanBody = std::function<ScanStep(Builder& body, const std::vector<Value>& carry, const std::vector<Value>& x)>;

class Builder {
 public:
  explicit Builder(std::string name = "main");
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  // Sources.
  Value input(const std::string& name, DType dtype, Shape shape, std::optional<Tensor> default_value = {});
  Value input(const std::string& name, const Tensor& default_value);
  Value constant(Tensor t);
  Value scalar(double v, DType dtype = DType::f64);
  Value fill(double v, DType dtype, Shape shape);
  Value iota(DType dtype, Shape shape, int64_t axis = 0);

  // Any op: operands from enclosing graphs are captured; the type is inferred.
  Value op(Op op, std::vector<Value> operands, Attrs attrs = {}, std::shared_ptr<const Graph> body = nullptr);

  // scan over `length` steps; xs have `length` as their leading dimension.
  ScanResult scan(int64_t length, std::vector<Value> init, std::vector<Value> xs, const ScanBody& body,
                  ScanOptions options = {});

  // The finished graph with these results, verified. Only for the top-level builder.
  Graph build(const std::vector<Value>& results);
  // The graph as built so far with these results, unverified (compiler passes rebuild top-level
  // graphs and bodies alike this way, and verify once the pass is done).
  Graph take(const std::vector<Value>& results) const;

  const Graph& graph() const { return g_; }
  Builder* parent() const { return parent_; }
  int depth() const { return depth_; }

  // A value of this graph for `v`, capturing it if it belongs to an enclosing graph.
  Value local(Value v);

 private:
  Builder(std::string name, Builder* parent);
  NodeId add_node(Node n);

  Graph g_;
  Builder* parent_ = nullptr;
  int depth_ = 0;
  int64_t num_params_ = 0;           // params made so far (carries, xs, then captures)
  std::vector<Value> captured_;      // for a body: the outer values its capture params stand for
  std::unordered_map<uint64_t, NodeId> capture_of_;  // outer (builder, id) -> local param
  std::unordered_multimap<size_t, NodeId> cse_;
};

// Elementwise math.
Value operator+(Value a, Value b);
Value operator-(Value a, Value b);
Value operator*(Value a, Value b);
Value operator/(Value a, Value b);
Value operator+(Value a, double b);
Value operator-(Value a, double b);
Value operator*(Value a, double b);
Value operator/(Value a, double b);
Value operator+(double a, Value b);
Value operator-(double a, Value b);
Value operator*(double a, Value b);
Value operator/(double a, Value b);
Value operator-(Value a);
Value operator<(Value a, Value b);
Value operator<=(Value a, Value b);
Value operator>(Value a, Value b);
Value operator>=(Value a, Value b);
Value operator<(Value a, double b);
Value operator<=(Value a, double b);
Value operator>(Value a, double b);
Value operator>=(Value a, double b);
Value operator&(Value a, Value b);  // logical and of bools
Value operator|(Value a, Value b);  // logical or of bools
Value operator!(Value a);
Value eq(Value a, Value b);
Value ne(Value a, Value b);
Value pow(Value a, Value b);
Value pow(Value a, double b);
Value minimum(Value a, Value b);
Value maximum(Value a, Value b);
Value neg(Value a);
Value abs(Value a);
Value exp(Value a);
Value expm1(Value a);
Value log(Value a);
Value log1p(Value a);
Value sqrt(Value a);
Value sin(Value a);
Value cos(Value a);
Value tanh(Value a);
Value sigmoid(Value a);
Value floor(Value a);
Value where(Value cond, Value a, Value b);
Value where(Value cond, Value a, double b);
Value where(Value cond, double a, Value b);
Value cast(Value a, DType dtype);
// A scalar of a's dtype in a's graph.
Value like(Value a, double v);

// Layout.
Value reshape(Value a, Shape shape);
Value broadcast_to(Value a, Shape shape);
Value transpose(Value a, std::vector<int64_t> perm);
Value slice(Value a, std::vector<int64_t> start, std::vector<int64_t> limit, std::vector<int64_t> stride = {});
Value slice(Value a, int64_t start, int64_t limit);  // along axis 0
Value concat(const std::vector<Value>& parts, int64_t axis = 0);

// Reductions along one axis (removed from the shape).
Value sum(Value a, int64_t axis = 0);
Value max(Value a, int64_t axis = 0);
Value min(Value a, int64_t axis = 0);

Value matmul(Value a, Value b);
Value gather(Value x, Value idx);
Value scatter_add(Value src, Value idx, int64_t size);
Value get(Value tuple, int64_t index);

}  // namespace sf
