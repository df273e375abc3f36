#include "ops/type_rules.h"

#include <algorithm>

#include "graph/error.h"

namespace sf {
namespace {

void check_attrs(const OpInfo& info, const Attrs& attrs) {
  for (auto& spec : info.attrs) {
    const AttrValue* v = attrs.find(spec.name);
    if (!v) {
      if (spec.optional) continue;
      fail("{}: missing attribute '{}' ({})", info.name, spec.name, attr_kind_name(spec.kind));
    }
    if (v->index() != static_cast<size_t>(spec.kind))
      fail("{}: attribute '{}' must be a {}", info.name, spec.name, attr_kind_name(spec.kind));
  }
  for (auto& [k, v] : attrs.items()) {
    bool known = std::any_of(info.attrs.begin(), info.attrs.end(), [&](auto& s) { return s.name == k; });
    if (!known) fail("{}: unknown attribute '{}'", info.name, k);
  }
}

bool dtype_ok(DTypeSet set, DType d) {
  switch (set) {
    case kNum: return is_float(d) || is_int(d);
    case kFloat: return is_float(d);
    case kBool: return d == DType::b8;
    case kAny: return d != DType::tuple;
  }
  return false;
}

const char* dtype_set_name(DTypeSet s) {
  switch (s) {
    case kNum: return "a numeric";
    case kFloat: return "a floating-point";
    case kBool: return "a bool";
    case kAny: return "a tensor";
  }
  return "?";
}

void check_shape_attr(const char* op, const Shape& s) {
  if (s.size() > kMaxRank) fail("{}: rank {} exceeds the maximum rank {}", op, s.size(), kMaxRank);
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) fail("{}: negative dimension in shape {}", op, shape_str(s));
    if (d > 0 && n > kMaxElements / d) fail("{}: shape {} has more than 2^48 elements", op, shape_str(s));
    n *= d;
  }
}

// Shape of an elementwise op: operands share one shape, except rank-0 operands, which broadcast.
Shape elementwise_shape(const char* op, const std::vector<Type>& ts) {
  const Shape* out = nullptr;
  for (auto& t : ts) {
    if (t.rank() == 0) continue;
    if (!out) {
      out = &t.shape;
    } else if (*out != t.shape) {
      fail("{}: shape mismatch {} vs {}", op, shape_str(*out), shape_str(t.shape));
    }
  }
  return out ? *out : Shape{};
}

int64_t normalize_axis(const char* op, int64_t axis, int rank) {
  if (axis < -rank || axis >= std::max(rank, 0)) fail("{}: axis {} out of range for rank {}", op, axis, rank);
  return axis < 0 ? axis + rank : axis;
}

Type infer_scan(const Node& n, const std::vector<Type>& ops) {
  ScanInfo s = scan_info(n);
  if (!n.body) fail("scan: has no body");
  const Graph& body = *n.body;
  std::vector<NodeId> params = body.params();
  size_t want = static_cast<size_t>(s.carry + s.xs + s.captures);
  if (params.size() != want)
    fail("scan: body has {} params, expected {} (carry {} + xs {} + captures {})", params.size(), want, s.carry, s.xs,
         s.captures);
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i] < 0) fail("scan: body is missing param {}", i);
    Type expect = ops[i];
    if (static_cast<int64_t>(i) >= s.carry && static_cast<int64_t>(i) < s.carry + s.xs) {
      if (ops[i].rank() < 1 || ops[i].shape[0] != s.length)
        fail("scan: xs operand {} has shape {}, its leading dimension must be the length {}", i - s.carry,
             shape_str(ops[i].shape), s.length);
      expect.shape.erase(expect.shape.begin());
    }
    if (body.type(params[i]) != expect)
      fail("scan: body param {} is {} but the scan passes {}", i, type_str(body.type(params[i])), type_str(expect));
  }
  if (static_cast<int64_t>(body.results.size()) != s.carry + s.ys())
    fail("scan: body returns {} values, expected {} carries + {} per-step outputs (one per record mode)",
         body.results.size(), s.carry, s.ys());
  std::vector<Type> out;
  for (int64_t i = 0; i < s.carry; ++i) {
    const Type& nt = body.type(body.results[static_cast<size_t>(i)]);
    if (nt != ops[static_cast<size_t>(i)])
      fail("scan: carry {} enters as {} but the body returns {}", i, type_str(ops[static_cast<size_t>(i)]), type_str(nt));
    out.push_back(nt);
  }
  for (int64_t j = 0; j < s.ys(); ++j) {
    const Type& yt = body.type(body.results[static_cast<size_t>(s.carry + j)]);
    if (yt.is_tuple()) fail("scan: per-step output {} is a tuple", j);
    switch (s.record[static_cast<size_t>(j)]) {
      case RecordMode::Stack: {
        Shape sh = yt.shape;
        sh.insert(sh.begin(), s.rows());
        if (sh.size() > kMaxRank) fail("scan: stacked output {} would have rank {} > {}", j, sh.size(), kMaxRank);
        out.push_back(Type::tensor(yt.dtype, sh));
        break;
      }
      case RecordMode::Events:
        if (yt.dtype != DType::b8) fail("scan: per-step output {} is recorded as events but is {}, not bool", j, type_str(yt));
        [[fallthrough]];
      case RecordMode::Sink: out.push_back(Type::tensor(DType::i64, {})); break;
    }
  }
  return Type::tuple(std::move(out));
}

// A kernel's body params stand for its operands, in order and with the same types; its results
// are the kernel's outputs: one tensor, or a tuple of several.
Type infer_kernel(const Node& n, const std::vector<Type>& ops) {
  if (!n.body) fail("kernel: has no body");
  const Graph& body = *n.body;
  std::vector<NodeId> params = body.params();
  if (params.size() != ops.size())
    fail("kernel: body has {} params for {} operands", params.size(), ops.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i] < 0) fail("kernel: body is missing param {}", i);
    if (body.type(params[i]) != ops[i])
      fail("kernel: body param {} is {} but operand {} is {}", i, type_str(body.type(params[i])), i, type_str(ops[i]));
  }
  if (body.results.empty()) fail("kernel: body returns nothing");
  std::vector<Type> out;
  for (NodeId r : body.results) {
    if (r < 0 || static_cast<size_t>(r) >= body.nodes.size()) fail("kernel: body result %{} does not exist", r);
    if (body.type(r).is_tuple()) fail("kernel: body result %{} is a tuple", r);
    out.push_back(body.type(r));
  }
  return out.size() == 1 ? out[0] : Type::tuple(std::move(out));
}

}  // namespace

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) fail("{}: shapes {} and {} do not broadcast", op, shape_str(a), shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Type infer_type(const Node& n, const std::vector<Type>& ops) {
  const OpInfo& info = op_info(n.op);
  const char* name = info.name;
  check_attrs(info, n.attrs);
  if (info.arity >= 0 && static_cast<int>(ops.size()) != info.arity)
    fail("{}: takes {} operand{}, got {}", name, info.arity, info.arity == 1 ? "" : "s", ops.size());
  if (n.op != Op::Get)
    for (auto& t : ops)
      if (t.is_tuple()) fail("{}: operand is a tuple {}; take an element with get", name, type_str(t));
  if (n.op != Op::Scan && n.op != Op::Kernel && n.body) fail("{}: only scan and kernel have a body", name);

  switch (info.cls) {
    case OpClass::Unary:
    case OpClass::Binary:
    case OpClass::Compare: {
      for (auto& t : ops)
        if (t.dtype != ops[0].dtype) fail("{}: dtype mismatch {} vs {}", name, type_str(ops[0]), type_str(t));
      if (!dtype_ok(info.dtypes, ops[0].dtype)) fail("{}: needs {} operand, got {}", name, dtype_set_name(info.dtypes), type_str(ops[0]));
      Shape sh = elementwise_shape(name, ops);
      return Type::tensor(info.cls == OpClass::Compare ? DType::b8 : ops[0].dtype, sh);
    }
    default: break;
  }

  switch (n.op) {
    case Op::Input: {
      Type t = Type::tensor(n.attrs.dtype("dtype"), n.attrs.ints("shape"));
      check_shape_attr(name, t.shape);
      if (n.attrs.has("default") && n.attrs.tensor("default").type() != t)
        fail("input '{}': default value is {} but the input is {}", n.attrs.s("name"),
             type_str(n.attrs.tensor("default").type()), type_str(t));
      return t;
    }
    case Op::Param:
    case Op::Fill: {
      Type t = Type::tensor(n.attrs.dtype("dtype"), n.attrs.ints("shape"));
      check_shape_attr(name, t.shape);
      return t;
    }
    case Op::Const: return n.attrs.tensor("value").type();
    case Op::Iota: {
      Type t = Type::tensor(n.attrs.dtype("dtype"), n.attrs.ints("shape"));
      check_shape_attr(name, t.shape);
      if (t.dtype == DType::b8) fail("iota: dtype must be numeric");
      normalize_axis(name, n.attrs.i("axis"), t.rank());
      return t;
    }
    case Op::Where: {
      if (ops[0].dtype != DType::b8) fail("where: condition must be bool, got {}", type_str(ops[0]));
      if (ops[1].dtype != ops[2].dtype) fail("where: dtype mismatch {} vs {}", type_str(ops[1]), type_str(ops[2]));
      return Type::tensor(ops[1].dtype, elementwise_shape(name, ops));
    }
    case Op::Cast: {
      DType d = n.attrs.dtype("dtype");
      if (d == DType::tuple) fail("cast: cannot cast to a tuple");
      return Type::tensor(d, ops[0].shape);
    }
    case Op::Reshape: {
      Shape s = n.attrs.ints("shape");
      check_shape_attr(name, s);
      if (num_elements(s) != ops[0].elements())
        fail("reshape: cannot reshape {} ({} elements) to {}", shape_str(ops[0].shape), ops[0].elements(), shape_str(s));
      return Type::tensor(ops[0].dtype, s);
    }
    case Op::Broadcast: {
      Shape s = n.attrs.ints("shape");
      check_shape_attr(name, s);
      if (ops[0].rank() > static_cast<int>(s.size()) || broadcast_shapes(name, ops[0].shape, s) != s)
        fail("broadcast: cannot broadcast {} to {}", shape_str(ops[0].shape), shape_str(s));
      return Type::tensor(ops[0].dtype, s);
    }
    case Op::Transpose: {
      auto& p = n.attrs.ints("perm");
      if (static_cast<int>(p.size()) != ops[0].rank())
        fail("transpose: perm has {} entries for rank {}", p.size(), ops[0].rank());
      std::vector<bool> seen(p.size());
      Shape s;
      for (int64_t a : p) {
        if (a < 0 || a >= static_cast<int64_t>(p.size()) || seen[static_cast<size_t>(a)])
          fail("transpose: perm {} is not a permutation", shape_str(p));
        seen[static_cast<size_t>(a)] = true;
        s.push_back(ops[0].shape[static_cast<size_t>(a)]);
      }
      return Type::tensor(ops[0].dtype, s);
    }
    case Op::Slice: {
      auto &st = n.attrs.ints("start"), &li = n.attrs.ints("limit"), &sd = n.attrs.ints("stride");
      size_t r = static_cast<size_t>(ops[0].rank());
      if (st.size() != r || li.size() != r || sd.size() != r)
        fail("slice: start/limit/stride need {} entries each for {}", r, shape_str(ops[0].shape));
      Shape s(r);
      for (size_t i = 0; i < r; ++i) {
        if (sd[i] < 1) fail("slice: stride {} must be >= 1", sd[i]);
        if (st[i] < 0 || st[i] > li[i] || li[i] > ops[0].shape[i])
          fail("slice: range [{}, {}) out of bounds for dimension {} of {}", st[i], li[i], i, shape_str(ops[0].shape));
        s[i] = li[i] == st[i] ? 0 : 1 + (li[i] - st[i] - 1) / sd[i];  // ceil without overflow
      }
      return Type::tensor(ops[0].dtype, s);
    }
    case Op::Concat: {
      if (ops.empty()) fail("concat: needs at least one operand");
      int64_t ax = normalize_axis(name, n.attrs.i("axis"), ops[0].rank());
      Shape s = ops[0].shape;
      for (size_t k = 1; k < ops.size(); ++k) {
        if (ops[k].dtype != ops[0].dtype) fail("concat: dtype mismatch {} vs {}", type_str(ops[0]), type_str(ops[k]));
        if (ops[k].rank() != ops[0].rank()) fail("concat: rank mismatch {} vs {}", shape_str(ops[0].shape), shape_str(ops[k].shape));
        for (int i = 0; i < ops[0].rank(); ++i)
          if (i != ax && ops[k].shape[static_cast<size_t>(i)] != s[static_cast<size_t>(i)])
            fail("concat: shape mismatch {} vs {} outside axis {}", shape_str(ops[0].shape), shape_str(ops[k].shape), ax);
        int64_t& d = s[static_cast<size_t>(ax)];
        if (d > kMaxElements - ops[k].shape[static_cast<size_t>(ax)]) fail("concat: result dimension too large");
        d += ops[k].shape[static_cast<size_t>(ax)];
      }
      return Type::tensor(ops[0].dtype, s);
    }
    case Op::ReduceSum:
    case Op::ReduceMax:
    case Op::ReduceMin: {
      if (!dtype_ok(kNum, ops[0].dtype)) fail("{}: needs a numeric operand, got {}", name, type_str(ops[0]));
      int64_t ax = normalize_axis(name, n.attrs.i("axis"), ops[0].rank());
      Shape s = ops[0].shape;
      s.erase(s.begin() + ax);
      return Type::tensor(ops[0].dtype, s);
    }
    case Op::Matmul: {
      auto &a = ops[0], &b = ops[1];
      if (a.dtype != b.dtype) fail("matmul: dtype mismatch {} vs {}", type_str(a), type_str(b));
      if (!dtype_ok(kNum, a.dtype)) fail("matmul: needs numeric operands, got {}", type_str(a));
      if (a.rank() != 2 || (b.rank() != 1 && b.rank() != 2) || a.shape[1] != b.shape[0])
        fail("matmul: shapes {} and {} do not multiply ([m,k] x [k,n] or [m,k] x [k])", shape_str(a.shape), shape_str(b.shape));
      return Type::tensor(a.dtype, b.rank() == 1 ? Shape{a.shape[0]} : Shape{a.shape[0], b.shape[1]});
    }
    case Op::Gather: {
      auto &x = ops[0], &idx = ops[1];
      if (x.rank() < 1) fail("gather: source must have rank >= 1, got {}", type_str(x));
      if (!is_int(idx.dtype)) fail("gather: indices must be i32 or i64, got {}", type_str(idx));
      Shape s = idx.shape;
      s.insert(s.end(), x.shape.begin() + 1, x.shape.end());
      if (s.size() > kMaxRank) fail("gather: result rank {} exceeds {}", s.size(), kMaxRank);
      return Type::tensor(x.dtype, s);
    }
    case Op::ScatterAdd: {
      auto &src = ops[0], &idx = ops[1];
      if (!dtype_ok(kNum, src.dtype)) fail("scatter_add: needs a numeric source, got {}", type_str(src));
      if (src.rank() < 1) fail("scatter_add: source must have rank >= 1, got {}", type_str(src));
      if (!is_int(idx.dtype) || idx.rank() != 1 || idx.shape[0] != src.shape[0])
        fail("scatter_add: indices must be an i32/i64 vector of length {} (the source's rows), got {}", src.shape[0],
             type_str(idx));
      int64_t size = n.attrs.i("size");
      if (size < 0) fail("scatter_add: negative size {}", size);
      Shape s = src.shape;
      s[0] = size;
      return Type::tensor(src.dtype, s);
    }
    case Op::Scan: return infer_scan(n, ops);
    case Op::Kernel: return infer_kernel(n, ops);
    case Op::Get: {
      if (!ops[0].is_tuple()) fail("get: operand must be a tuple, got {}", type_str(ops[0]));
      int64_t i = n.attrs.i("index");
      if (i < 0 || i >= static_cast<int64_t>(ops[0].elems.size()))
        fail("get: index {} out of range for a tuple of {}", i, ops[0].elems.size());
      return ops[0].elems[static_cast<size_t>(i)];
    }
    default: break;
  }
  internal_error("no type rule for op {}", name);
}

}  // namespace sf
