#include "graph/builder.h"

#include "graph/error.h"
#include "graph/verify.h"
#include "ops/type_rules.h"

namespace sf {

const Type& Value::type() const {
  if (!b_) fail("use of an empty Value");
  return b_->graph().type(id_);
}

Builder::Builder(std::string name) { g_.name = std::move(name); }
Builder::Builder(std::string name, Builder* parent) : parent_(parent), depth_(parent->depth_ + 1) {
  g_.name = std::move(name);
}

static size_t node_hash(const Node& n) {
  size_t h = static_cast<size_t>(n.op) * 0x100000001b3ULL;
  for (NodeId o : n.operands) h = (h ^ static_cast<size_t>(o)) * 0x100000001b3ULL;
  return h ^ n.attrs.hash() ^ std::hash<const void*>{}(n.body.get());
}

NodeId Builder::add_node(Node n) {
  std::vector<Type> ops;
  for (NodeId o : n.operands) ops.push_back(g_.type(o));
  n.type = infer_type(n, ops);
  bool hashable = n.op != Op::Input && n.op != Op::Param && n.op != Op::Scan;
  size_t h = hashable ? node_hash(n) : 0;
  if (hashable) {
    auto [lo, hi] = cse_.equal_range(h);
    for (auto it = lo; it != hi; ++it) {
      const Node& m = g_.node(it->second);
      if (m.op == n.op && m.operands == n.operands && m.attrs == n.attrs && m.body == n.body) return it->second;
    }
  }
  NodeId id = static_cast<NodeId>(g_.nodes.size());
  g_.nodes.push_back(std::move(n));
  if (hashable) cse_.emplace(h, id);
  return id;
}

Value Builder::local(Value v) {
  if (!v.valid()) fail("use of an empty Value");
  if (v.builder() == this) return v;
  if (!parent_) fail("a value from another graph ('{}') is used in graph '{}'", v.builder()->graph().name, g_.name);
  uint64_t key = (reinterpret_cast<uintptr_t>(v.builder()) << 20) ^ static_cast<uint64_t>(v.id());
  if (auto it = capture_of_.find(key); it != capture_of_.end()) return Value(this, it->second);
  Value outer = parent_->local(v);  // captured level by level through nested bodies
  Node p{Op::Param, {}, Attrs{{"index", num_params_++}, {"dtype", outer.dtype()}, {"shape", outer.shape()}}, {}, nullptr};
  NodeId id = add_node(std::move(p));
  captured_.push_back(outer);
  capture_of_[key] = id;
  return Value(this, id);
}

Value Builder::op(Op o, std::vector<Value> operands, Attrs attrs, std::shared_ptr<const Graph> body) {
  Node n{o, {}, std::move(attrs), {}, std::move(body)};
  for (Value v : operands) n.operands.push_back(local(v).id());
  return Value(this, add_node(std::move(n)));
}

Value Builder::input(const std::string& name, DType dtype, Shape shape, std::optional<Tensor> def) {
  if (parent_) fail("input '{}': inputs belong to the top-level graph, not to a scan body", name);
  if (g_.input(name) >= 0) fail("input '{}' is defined twice", name);
  Attrs a{{"name", name}, {"dtype", dtype}, {"shape", std::move(shape)}};
  if (def) a.set("default", std::make_shared<const Tensor>(std::move(*def)));
  return op(Op::Input, {}, std::move(a));
}

Value Builder::input(const std::string& name, const Tensor& def) { return input(name, def.dtype(), def.shape(), def); }

Value Builder::constant(Tensor t) { return op(Op::Const, {}, Attrs{{"value", std::make_shared<const Tensor>(std::move(t))}}); }

Value Builder::scalar(double v, DType dtype) { return constant(Tensor::scalar(dtype, v)); }

Value Builder::fill(double v, DType dtype, Shape shape) {
  return op(Op::Fill, {}, Attrs{{"value", v}, {"dtype", dtype}, {"shape", std::move(shape)}});
}

Value Builder::iota(DType dtype, Shape shape, int64_t axis) {
  return op(Op::Iota, {}, Attrs{{"dtype", dtype}, {"shape", std::move(shape)}, {"axis", axis}});
}

ScanResult Builder::scan(int64_t length, std::vector<Value> init, std::vector<Value> xs, const ScanBody& fn,
                         ScanOptions opts) {
  auto body = std::unique_ptr<Builder>(new Builder(g_.name + ".body" + std::to_string(g_.nodes.size()), this));
  std::vector<Value> carry, x;
  for (Value& v : init) {
    v = local(v);
    carry.push_back(body->op(Op::Param, {}, Attrs{{"index", body->num_params_++}, {"dtype", v.dtype()}, {"shape", v.shape()}}));
  }
  for (Value& v : xs) {
    v = local(v);
    if (v.rank() < 1) fail("scan: xs value {} is a scalar; xs need a leading time dimension", type_str(v.type()));
    Shape s(v.shape().begin() + 1, v.shape().end());
    x.push_back(body->op(Op::Param, {}, Attrs{{"index", body->num_params_++}, {"dtype", v.dtype()}, {"shape", s}}));
  }
  ScanStep step = fn(*body, carry, x);
  if (opts.record.empty()) opts.record.assign(step.ys.size(), RecordMode::Stack);
  if (opts.record.size() != step.ys.size())
    fail("scan: {} record modes given for {} per-step outputs", opts.record.size(), step.ys.size());
  for (Value v : step.carry) body->g_.results.push_back(body->local(v).id());
  for (Value v : step.ys) body->g_.results.push_back(body->local(v).id());
  std::vector<Value> operands = init;
  operands.insert(operands.end(), xs.begin(), xs.end());
  operands.insert(operands.end(), body->captured_.begin(), body->captured_.end());
  std::vector<std::string> modes;
  for (RecordMode m : opts.record) modes.push_back(record_mode_name(m));
  Attrs a{{"carry", static_cast<int64_t>(init.size())},
          {"xs", static_cast<int64_t>(xs.size())},
          {"length", length},
          {"every", opts.every},
          {"record", modes}};
  auto graph = std::make_shared<const Graph>(std::move(body->g_));
  Value s = op(Op::Scan, operands, std::move(a), std::move(graph));
  ScanResult r;
  for (size_t i = 0; i < init.size(); ++i) r.carry.push_back(get(s, static_cast<int64_t>(i)));
  for (size_t j = 0; j < opts.record.size(); ++j) r.ys.push_back(get(s, static_cast<int64_t>(init.size() + j)));
  return r;
}

Graph Builder::build(const std::vector<Value>& results) {
  if (parent_) internal_error("build() on a scan body");
  Graph g = g_;
  for (Value v : results) g.results.push_back(local(v).id());
  verify(g);
  return g;
}

Graph Builder::take(const std::vector<Value>& results) const {
  Graph g = g_;
  for (Value v : results) {
    if (v.builder() != this) internal_error("Builder::take: a result belongs to another graph");
    g.results.push_back(v.id());
  }
  return g;
}

// ---- free functions --------------------------------------------------------------------------

namespace {

Builder* deepest(std::initializer_list<Value> vs) {
  Builder* b = nullptr;
  for (Value v : vs) {
    if (!v.valid()) fail("use of an empty Value");
    if (!b || v.builder()->depth() > b->depth()) b = v.builder();
  }
  return b;
}

// Elementwise op with NumPy broadcasting: rank-0 operands stay scalars, size-1 dims are expanded.
Value elementwise(Op o, std::vector<Value> vs) {
  Builder* b = nullptr;
  for (Value v : vs) b = (!b || v.builder()->depth() > b->depth()) ? v.builder() : b;
  Shape out;
  for (Value v : vs)
    if (v.rank() > 0) out = out.empty() ? v.shape() : broadcast_shapes(op_name(o), out, v.shape());
  for (Value& v : vs)
    if (v.rank() > 0 && v.shape() != out) v = broadcast_to(v, out);
  return b->op(o, vs);
}

}  // namespace

Value like(Value a, double v) { return a.builder()->scalar(v, a.dtype()); }

#define SF_BIN(OPR, OP)                                                                  \
  Value operator OPR(Value a, Value b) { return elementwise(Op::OP, {a, b}); }          \
  Value operator OPR(Value a, double b) { return elementwise(Op::OP, {a, like(a, b)}); } \
  Value operator OPR(double a, Value b) { return elementwise(Op::OP, {like(b, a), b}); }
SF_BIN(+, Add)
SF_BIN(-, Sub)
SF_BIN(*, Mul)
SF_BIN(/, Div)
#undef SF_BIN
#define SF_CMP(OPR, OP)                                                         \
  Value operator OPR(Value a, Value b) { return elementwise(Op::OP, {a, b}); } \
  Value operator OPR(Value a, double b) { return elementwise(Op::OP, {a, like(a, b)}); }
SF_CMP(<, Lt)
SF_CMP(<=, Le)
SF_CMP(>, Gt)
SF_CMP(>=, Ge)
#undef SF_CMP

Value operator-(Value a) { return neg(a); }
Value operator&(Value a, Value b) { return elementwise(Op::And, {a, b}); }
Value operator|(Value a, Value b) { return elementwise(Op::Or, {a, b}); }
Value operator!(Value a) { return elementwise(Op::Not, {a}); }
Value eq(Value a, Value b) { return elementwise(Op::Eq, {a, b}); }
Value ne(Value a, Value b) { return elementwise(Op::Ne, {a, b}); }
Value pow(Value a, Value b) { return elementwise(Op::Pow, {a, b}); }
Value pow(Value a, double b) { return elementwise(Op::Pow, {a, like(a, b)}); }
Value minimum(Value a, Value b) { return elementwise(Op::Min, {a, b}); }
Value maximum(Value a, Value b) { return elementwise(Op::Max, {a, b}); }

#define SF_UN(fn, OP) \
  Value fn(Value a) { return elementwise(Op::OP, {a}); }
SF_UN(neg, Neg)
SF_UN(abs, Abs)
SF_UN(exp, Exp)
SF_UN(expm1, Expm1)
SF_UN(log, Log)
SF_UN(log1p, Log1p)
SF_UN(sqrt, Sqrt)
SF_UN(sin, Sin)
SF_UN(cos, Cos)
SF_UN(tanh, Tanh)
SF_UN(sigmoid, Sigmoid)
SF_UN(floor, Floor)
#undef SF_UN

Value where(Value c, Value a, Value b) { return elementwise(Op::Where, {c, a, b}); }
Value where(Value c, Value a, double b) { return where(c, a, like(a, b)); }
Value where(Value c, double a, Value b) { return where(c, like(b, a), b); }

Value cast(Value a, DType d) {
  if (a.dtype() == d) return a;
  return a.builder()->op(Op::Cast, {a}, Attrs{{"dtype", d}});
}

Value reshape(Value a, Shape s) {
  if (a.shape() == s) return a;
  return a.builder()->op(Op::Reshape, {a}, Attrs{{"shape", std::move(s)}});
}

Value broadcast_to(Value a, Shape s) {
  if (a.shape() == s) return a;
  return a.builder()->op(Op::Broadcast, {a}, Attrs{{"shape", std::move(s)}});
}

Value transpose(Value a, std::vector<int64_t> perm) {
  return a.builder()->op(Op::Transpose, {a}, Attrs{{"perm", std::move(perm)}});
}

Value slice(Value a, std::vector<int64_t> start, std::vector<int64_t> limit, std::vector<int64_t> stride) {
  if (stride.empty()) stride.assign(start.size(), 1);
  return a.builder()->op(Op::Slice, {a}, Attrs{{"start", std::move(start)}, {"limit", std::move(limit)}, {"stride", std::move(stride)}});
}

Value slice(Value a, int64_t start, int64_t limit) {
  if (a.rank() < 1) fail("slice: cannot slice a scalar");
  std::vector<int64_t> st(static_cast<size_t>(a.rank()), 0), li = a.shape();
  st[0] = start;
  li[0] = limit;
  return slice(a, st, li);
}

Value concat(const std::vector<Value>& parts, int64_t axis) {
  if (parts.empty()) fail("concat: needs at least one operand");
  if (parts.size() == 1) return parts[0];
  Builder* b = parts[0].builder();
  for (Value v : parts)
    if (v.builder()->depth() > b->depth()) b = v.builder();
  return b->op(Op::Concat, parts, Attrs{{"axis", axis}});
}

Value sum(Value a, int64_t axis) { return a.builder()->op(Op::ReduceSum, {a}, Attrs{{"axis", axis}}); }
Value max(Value a, int64_t axis) { return a.builder()->op(Op::ReduceMax, {a}, Attrs{{"axis", axis}}); }
Value min(Value a, int64_t axis) { return a.builder()->op(Op::ReduceMin, {a}, Attrs{{"axis", axis}}); }

Value matmul(Value a, Value b) { return deepest({a, b})->op(Op::Matmul, {a, b}); }
Value gather(Value x, Value idx) { return deepest({x, idx})->op(Op::Gather, {x, idx}); }
Value scatter_add(Value src, Value idx, int64_t size) {
  return deepest({src, idx})->op(Op::ScatterAdd, {src, idx}, Attrs{{"size", size}});
}
Value get(Value t, int64_t index) { return t.builder()->op(Op::Get, {t}, Attrs{{"index", index}}); }

}  // namespace sf
