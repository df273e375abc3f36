// One kernel of the program as an LLVM function `void k(i64 begin, i64 end, i8* bufs..., args*)`:
// a loop over the element index o in [begin, end) whose body is the kernel's scalar SSA list, with
// ops/scalar.h's semantics for every op and dtype. Buffers that provably do not overlap are
// `noalias` parameters, so the loop vectorises (math calls through libmvec, see jit.cpp).
//
// Order of evaluation follows the reference executor: instructions that depend on no per-element
// value (the executor's "once" list) are computed before the loop; `store buf[0]` of a once-store
// happens in iteration 0 only (peeled off, so the main loop has no branch on o).
#include <cstring>

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>

#include "backends/cpu/gen.h"
#include "backends/cpu/inline_exp.h"
#include "graph/error.h"

namespace sf::cpu {
namespace {

using namespace llvm;
using llvm::Type;  // not sf::Type

bool is_fp(DType d) { return d == DType::f32 || d == DType::f64; }

class KernelEmitter {
 public:
  KernelEmitter(Gen& g, const Kernel& k, Function* f, const std::vector<int>& bufs, bool once_per_call)
      : g_(g), B(g.B), k_(k), f_(f), once_per_call_(once_per_call) {
    auto arg = f->arg_begin();
    begin_ = &*arg++;
    end_ = &*arg++;
    for (size_t i = 0; i < bufs.size(); ++i) params_.push_back(&*arg++);
    bufs_ = bufs;
    args_ = &*arg;
  }

  void emit();

 private:
  Value* ptr(int buf) {  // typed element pointer, made once in the entry block
    auto it = typed_.find(buf);
    if (it != typed_.end()) return it->second;
    IRBuilderBase::InsertPointGuard guard(B);
    if (Instruction* t = entry_->getTerminator()) B.SetInsertPoint(t);
    else B.SetInsertPoint(entry_);
    Value* p = B.CreateBitCast(params_[static_cast<size_t>(g_.param_index(buf, bufs_))], PointerType::getUnqual(g_.mem_type(g_.P.buffers[static_cast<size_t>(buf)].dtype)));
    typed_[buf] = p;
    return p;
  }
  Value* load(int buf, Value* idx, DType d);
  void store(int buf, Value* idx, Value* v, DType d);
  Value* unary(Op op, DType d, Value* a);
  Value* binary(Op op, DType d, Value* a, Value* b);
  Value* compare(Op op, DType d, Value* a, Value* b);
  Value* cast(DType to, DType from, Value* a);
  Value* check(const Inst& in, Value* a, Value* pos);
  Value* math(const char* f64name, Intrinsic::ID id, DType d, Value* a);
  Value* exp(DType d, Value* a);
  Value* expm1(DType d, Value* a);
  Value* power(const Inst& in, const std::vector<Inst>& is, Value* a, Value* b);
  // Emits instructions of list `is` (those with `which[i]`), storing values in `v`.
  void list(const std::vector<Inst>& is, const std::vector<bool>& which, std::vector<Value*>& v, Value* index,
            bool once_stores);
  void iteration(Value* o, bool first);
  int vector_width() const;
  Value* exact_reciprocals(std::map<int, Value*>& recip);
  void fold(Value* o);

  Gen& g_;
  IRBuilder<>& B;
  const Kernel& k_;
  Function* f_;
  bool once_per_call_;
  Value *begin_ = nullptr, *end_ = nullptr, *args_ = nullptr;
  std::map<int, Value*> typed_;
  std::vector<Value*> params_;
  std::vector<int> bufs_;
  BasicBlock* entry_ = nullptr;
  std::vector<Value*> body_v_, inner_v_;
  std::vector<bool> body_u_;
  std::vector<AllocaInst*> acc_, started_;
  std::map<int, Value*> recip_;  // divisor instruction -> its exact reciprocal (exact_reciprocals)
};

Value* KernelEmitter::load(int buf, Value* idx, DType d) {
  Type* mt = g_.mem_type(d);
  Value* p = idx ? B.CreateInBoundsGEP(mt, ptr(buf), idx) : ptr(buf);
  Value* v = B.CreateLoad(mt, p);
  return d == DType::b8 ? B.CreateICmpNE(v, B.getInt8(0)) : v;
}

void KernelEmitter::store(int buf, Value* idx, Value* v, DType d) {
  Type* mt = g_.mem_type(d);
  Value* p = idx ? B.CreateInBoundsGEP(mt, ptr(buf), idx) : ptr(buf);
  B.CreateStore(d == DType::b8 ? B.CreateZExt(v, B.getInt8Ty()) : v, p);
}

// A float math function: an LLVM intrinsic where there is one (the vectoriser maps it to libmvec),
// else the libm call, declared as reading no memory (errno is never looked at) so it vectorises too.
Value* KernelEmitter::math(const char* name, Intrinsic::ID id, DType d, Value* a) {
  Type* t = g_.ssa_type(d);
  if (id != Intrinsic::not_intrinsic) return B.CreateCall(Intrinsic::getDeclaration(&g_.M, id, {t}), {a});
  return call_pure(B, std::string(name) + (d == DType::f32 ? "f" : ""), a);
}

// exp and expm1: inline in the element loops of large interchanged scans, else libmvec (see
// backends/cpu/inline_exp.h for why).
Value* KernelEmitter::exp(DType d, Value* a) {
  return once_per_call_ && g_.inline_exp ? call_exp(B, a) : math("exp", Intrinsic::exp, d, a);
}

Value* KernelEmitter::expm1(DType d, Value* a) {
  return once_per_call_ && g_.inline_exp ? emit_expm1(B, a) : math("expm1", Intrinsic::not_intrinsic, d, a);
}

Value* KernelEmitter::unary(Op op, DType d, Value* a) {
  Type* t = g_.ssa_type(d);
  if (d == DType::b8) {
    if (op == Op::Not) return B.CreateNot(a);
    internal_error("cpu codegen: {} on bool", op_name(op));
  }
  bool fp = is_fp(d);
  switch (op) {
    case Op::Neg: return fp ? B.CreateFNeg(a) : B.CreateSub(ConstantInt::get(t, 0), a);
    case Op::Abs:
      if (fp) return B.CreateCall(Intrinsic::getDeclaration(&g_.M, Intrinsic::fabs, {t}), {a});
      return B.CreateSelect(B.CreateICmpSLT(a, ConstantInt::get(t, 0)), B.CreateSub(ConstantInt::get(t, 0), a), a);
    case Op::Not: return B.CreateSelect(B.CreateICmpNE(a, ConstantInt::get(t, 0)), ConstantInt::get(t, 0), ConstantInt::get(t, 1));
    default: break;
  }
  if (!fp) return a;  // float-only functions are the identity on integers (ops/scalar.h)
  switch (op) {
    case Op::Exp: return exp(d, a);
    case Op::Expm1: return expm1(d, a);
    case Op::Log: return math("log", Intrinsic::log, d, a);
    case Op::Log1p: return math("log1p", Intrinsic::not_intrinsic, d, a);
    case Op::Sqrt: return math("sqrt", Intrinsic::sqrt, d, a);
    case Op::Sin: return math("sin", Intrinsic::sin, d, a);
    case Op::Cos: return math("cos", Intrinsic::cos, d, a);
    case Op::Tanh: return math("tanh", Intrinsic::not_intrinsic, d, a);
    case Op::Floor: return math("floor", Intrinsic::floor, d, a);
    case Op::Sigmoid: {  // 1 / (1 + exp(-a))
      Value* one = ConstantFP::get(t, 1.0);
      return B.CreateFDiv(one, B.CreateFAdd(one, exp(d, B.CreateFNeg(a))));
    }
    default: internal_error("cpu codegen: {} is not a unary op", op_name(op));
  }
}

Value* KernelEmitter::binary(Op op, DType d, Value* a, Value* b) {
  bool fp = is_fp(d);
  if (d == DType::b8) {
    if (op == Op::And) return B.CreateAnd(a, b);
    if (op == Op::Or) return B.CreateOr(a, b);
    internal_error("cpu codegen: {} on bool", op_name(op));
  }
  switch (op) {
    case Op::Add: return fp ? B.CreateFAdd(a, b) : B.CreateAdd(a, b);  // integers wrap
    case Op::Sub: return fp ? B.CreateFSub(a, b) : B.CreateSub(a, b);
    case Op::Mul: return fp ? B.CreateFMul(a, b) : B.CreateMul(a, b);
    case Op::Div: return fp ? B.CreateFDiv(a, b) : a;
    case Op::Pow:
      return fp ? B.CreateCall(Intrinsic::getDeclaration(&g_.M, Intrinsic::pow, {g_.ssa_type(d)}), {a, b}) : a;
    // min/max keep a unless the comparison holds (NaN in b dropped, NaN in a kept).
    case Op::Min: return B.CreateSelect(fp ? B.CreateFCmpOLT(b, a) : B.CreateICmpSLT(b, a), b, a);
    case Op::Max: return B.CreateSelect(fp ? B.CreateFCmpOGT(b, a) : B.CreateICmpSGT(b, a), b, a);
    case Op::And: return B.CreateSelect(B.CreateAnd(B.CreateICmpNE(a, ConstantInt::get(a->getType(), 0)),
                                                    B.CreateICmpNE(b, ConstantInt::get(a->getType(), 0))),
                                        ConstantInt::get(a->getType(), 1), ConstantInt::get(a->getType(), 0));
    case Op::Or: return B.CreateSelect(B.CreateOr(B.CreateICmpNE(a, ConstantInt::get(a->getType(), 0)),
                                                  B.CreateICmpNE(b, ConstantInt::get(a->getType(), 0))),
                                       ConstantInt::get(a->getType(), 1), ConstantInt::get(a->getType(), 0));
    default: internal_error("cpu codegen: {} is not a binary op", op_name(op));
  }
}

Value* KernelEmitter::compare(Op op, DType d, Value* a, Value* b) {
  if (is_fp(d)) {  // C++ comparisons: ordered, except != (true with a NaN)
    switch (op) {
      case Op::Lt: return B.CreateFCmpOLT(a, b);
      case Op::Le: return B.CreateFCmpOLE(a, b);
      case Op::Gt: return B.CreateFCmpOGT(a, b);
      case Op::Ge: return B.CreateFCmpOGE(a, b);
      case Op::Eq: return B.CreateFCmpOEQ(a, b);
      case Op::Ne: return B.CreateFCmpUNE(a, b);
      default: break;
    }
  } else {
    bool u = d == DType::b8;  // bools compare as unsigned 0/1
    switch (op) {
      case Op::Lt: return u ? B.CreateICmpULT(a, b) : B.CreateICmpSLT(a, b);
      case Op::Le: return u ? B.CreateICmpULE(a, b) : B.CreateICmpSLE(a, b);
      case Op::Gt: return u ? B.CreateICmpUGT(a, b) : B.CreateICmpSGT(a, b);
      case Op::Ge: return u ? B.CreateICmpUGE(a, b) : B.CreateICmpSGE(a, b);
      case Op::Eq: return B.CreateICmpEQ(a, b);
      case Op::Ne: return B.CreateICmpNE(a, b);
      default: break;
    }
  }
  internal_error("cpu codegen: {} is not a comparison", op_name(op));
}

// pow(x, c) with c a constant 2, 3 or 4 (gating variables: m^3, n^4) as products: within 2 ulp of
// libm's pow, and the vectorised loop avoids libmvec's much slower vector pow. Other exponents: pow.
Value* KernelEmitter::power(const Inst& in, const std::vector<Inst>& is, Value* a, Value* b) {
  const Inst& e = is[static_cast<size_t>(in.b)];
  if (is_fp(in.dtype) && e.kind == InstKind::Const) {
    double c = 0;
    if (e.dtype == DType::f64) std::memcpy(&c, &e.bits, sizeof c);
    else if (e.dtype == DType::f32) {
      float f;
      uint32_t lo = static_cast<uint32_t>(e.bits);
      std::memcpy(&f, &lo, sizeof f);
      c = f;
    }
    if (c == 2) return B.CreateFMul(a, a);
    if (c == 3) return B.CreateFMul(B.CreateFMul(a, a), a);
    if (c == 4) {
      Value* sq = B.CreateFMul(a, a);
      return B.CreateFMul(sq, sq);
    }
  }
  return binary(in.op, in.dtype, a, b);
}

// ops/scalar.h's convert: to bool is != 0 (NaN is true); float -> int saturates, NaN -> 0.
Value* KernelEmitter::cast(DType to, DType from, Value* a) {
  Type* t = g_.ssa_type(to);
  if (to == from) return a;
  if (to == DType::b8)
    return is_fp(from) ? B.CreateFCmpUNE(a, ConstantFP::get(a->getType(), 0.0))
                          : B.CreateICmpNE(a, ConstantInt::get(a->getType(), 0));
  if (from == DType::b8) return is_fp(to) ? B.CreateUIToFP(a, t) : B.CreateZExt(a, t);
  if (is_fp(to) && is_fp(from)) return B.CreateFPCast(a, t);
  if (is_fp(to)) return B.CreateSIToFP(a, t);
  if (!is_fp(from)) return B.CreateSExtOrTrunc(a, t);
  return B.CreateCall(Intrinsic::getDeclaration(&g_.M, Intrinsic::fptosi_sat, {t, a->getType()}), {a});
}

// a if 0 <= a < limit; else the error is recorded and 0 used instead (a valid index, so the rest of
// the launch stays in bounds; the run stops at the next barrier). An empty range has no valid index:
// the launch returns.
Value* KernelEmitter::check(const Inst& in, Value* a, Value* pos) {
  int id = g_.add_check(in.what, in.imm);
  Value* bad = B.CreateICmpUGE(a, g_.i64(in.imm));  // unsigned: negative values are huge
  BasicBlock* cur = B.GetInsertBlock();
  BasicBlock* fail = BasicBlock::Create(g_.C, "check.fail", f_);
  BasicBlock* ok = BasicBlock::Create(g_.C, "check.ok", f_);
  B.CreateCondBr(bad, fail, ok);
  B.SetInsertPoint(fail);
  g_.call_fail(args_, id, a, pos);
  if (in.imm == 0) {
    B.CreateRetVoid();
  } else {
    B.CreateBr(ok);
  }
  B.SetInsertPoint(ok);
  if (in.imm == 0) return a;
  PHINode* phi = B.CreatePHI(g_.i64t, 2);
  phi->addIncoming(a, cur);
  phi->addIncoming(g_.i64(0), fail);
  return phi;
}

void KernelEmitter::list(const std::vector<Inst>& is, const std::vector<bool>& which, std::vector<Value*>& v,
                         Value* index, bool once_stores) {
  auto val = [&](int i) { return v.at(static_cast<size_t>(i)); };
  auto dt = [&](int i) { return is[static_cast<size_t>(i)].dtype; };
  for (size_t i = 0; i < is.size(); ++i) {
    if (!which[i]) continue;
    const Inst& in = is[i];
    Value* r = nullptr;
    switch (in.kind) {
      case InstKind::Index: r = index; break;
      case InstKind::Const:
        if (in.dtype == DType::f64) r = ConstantFP::get(B.getDoubleTy(), APFloat(APFloat::IEEEdouble(), APInt(64, in.bits)));
        else if (in.dtype == DType::f32) r = ConstantFP::get(B.getFloatTy(), APFloat(APFloat::IEEEsingle(), APInt(32, in.bits & 0xffffffffu)));
        else if (in.dtype == DType::b8) r = B.getInt1(in.bits != 0);
        else r = ConstantInt::get(g_.ssa_type(in.dtype), in.bits);
        break;
      case InstKind::Load: r = load(in.buf, in.a < 0 ? nullptr : val(in.a), in.dtype); break;
      case InstKind::Store:
        if (in.a >= 0) store(in.buf, val(in.a), val(in.b), in.dtype);
        else if (once_stores) store(in.buf, nullptr, val(in.b), in.dtype);
        break;
      case InstKind::Unary: r = unary(in.op, in.dtype, val(in.a)); break;
      case InstKind::Binary:
        if (in.op == Op::Div && &is == &k_.body && recip_.count(in.b)) r = B.CreateFMul(val(in.a), recip_[in.b]);
        else if (in.op == Op::Pow) r = power(in, is, val(in.a), val(in.b));
        else r = binary(in.op, in.dtype, val(in.a), val(in.b));
        break;
      case InstKind::Compare: r = compare(in.op, dt(in.a), val(in.a), val(in.b)); break;
      case InstKind::Select: r = B.CreateSelect(val(in.a), val(in.b), val(in.c)); break;
      case InstKind::Cast: r = cast(in.dtype, dt(in.a), val(in.a)); break;
      case InstKind::Div: r = B.CreateUDiv(val(in.a), g_.i64(in.imm)); break;  // a >= 0
      case InstKind::Rem: r = B.CreateURem(val(in.a), g_.i64(in.imm)); break;
      case InstKind::Check: r = check(in, val(in.a), val(in.b)); break;
      case InstKind::Acc: r = B.CreateLoad(g_.ssa_type(in.dtype), acc_.at(static_cast<size_t>(in.imm))); break;
      case InstKind::Yield: break;  // read by the fold
    }
    v[i] = r;
  }
}

// Folds the sources of output o into the accumulators, in the executor's order.
void KernelEmitter::fold(Value* o) {
  const Kernel& k = k_;
  std::vector<int> yields(static_cast<size_t>(k.accs), -1);
  for (size_t i = 0; i < k.inner.size(); ++i)
    if (k.inner[i].kind == InstKind::Yield) yields[static_cast<size_t>(k.inner[i].imm)] = static_cast<int>(i);
  for (int a = 0; a < k.accs; ++a) {  // sums start at 0; an empty max (min) is -inf (+inf) or the integer extreme
    DType d = k.inner[static_cast<size_t>(yields[static_cast<size_t>(a)])].dtype;
    Type* t = g_.ssa_type(d);
    Constant* init;
    if (k.combine == Op::Add) init = is_fp(d) ? ConstantFP::get(t, 0.0) : ConstantInt::get(t, 0);
    else if (is_fp(d)) init = ConstantFP::getInfinity(t, k.combine == Op::Max);
    else if (d == DType::i32) init = B.getInt32(k.combine == Op::Max ? 0x80000000u : 0x7fffffffu);
    else init = B.getInt64(k.combine == Op::Max ? 0x8000000000000000ull : 0x7fffffffffffffffull);
    B.CreateStore(init, acc_[static_cast<size_t>(a)]);
    B.CreateStore(B.getFalse(), started_[static_cast<size_t>(a)]);
  }
  std::vector<bool> all(k.inner.size(), true);
  auto source = [&](Value* e) {
    inner_v_.assign(k.inner.size(), nullptr);
    list(k.inner, all, inner_v_, e, true);
    for (int a = 0; a < k.accs; ++a) {
      const Inst& y = k.inner[static_cast<size_t>(yields[static_cast<size_t>(a)])];
      Value* x = inner_v_.at(static_cast<size_t>(y.a));
      AllocaInst* slot = acc_[static_cast<size_t>(a)];
      Value* cur = B.CreateLoad(slot->getAllocatedType(), slot);
      if (k.combine == Op::Add) {
        B.CreateStore(binary(Op::Add, y.dtype, cur, x), slot);
      } else {  // the first source starts the fold
        Value* st = B.CreateLoad(B.getInt1Ty(), started_[static_cast<size_t>(a)]);
        B.CreateStore(B.CreateSelect(st, binary(k.combine, y.dtype, cur, x), x), slot);
        B.CreateStore(B.getTrue(), started_[static_cast<size_t>(a)]);
      }
    }
  };
  if (k.kind == KernelKind::Reduce) {
    // o = (q, r): sources q*len*stride + j*stride + r, j = 0..len-1
    Value* base = B.CreateAdd(B.CreateMul(B.CreateUDiv(o, g_.i64(k.stride)), g_.i64(k.len * k.stride)),
                              B.CreateURem(o, g_.i64(k.stride)));
    g_.loop(g_.i64(0), g_.i64(k.len), [&](Value* j) { source(B.CreateAdd(base, B.CreateMul(j, g_.i64(k.stride)))); }, "red");
  } else {
    // o = (s, c): sources order[p]*row + c for p in [offsets[s], offsets[s+1])
    Value* s = B.CreateUDiv(o, g_.i64(k.row));
    Value* c = B.CreateURem(o, g_.i64(k.row));
    Value* off = ptr(k.offsets);
    Value* lo = B.CreateLoad(g_.i64t, B.CreateInBoundsGEP(g_.i64t, off, s));
    Value* hi = B.CreateLoad(g_.i64t, B.CreateInBoundsGEP(g_.i64t, off, B.CreateAdd(s, g_.i64(1))));
    g_.loop(lo, hi, [&](Value* p) {
      Value* src = B.CreateLoad(g_.i64t, B.CreateInBoundsGEP(g_.i64t, ptr(k.order), p));
      source(B.CreateAdd(B.CreateMul(src, g_.i64(k.row)), c));
    }, "seg");
  }
}

void KernelEmitter::iteration(Value* o, bool first) {
  if (k_.kind != KernelKind::Map) fold(o);
  std::vector<bool> each(body_u_.size());
  for (size_t i = 0; i < each.size(); ++i) each[i] = !body_u_[i];
  list(k_.body, each, body_v_, o, first);
}

// The vectoriser sizes vectors by the widest type the loop loads or stores, so an f32 Map kernel
// that also keeps an i64 (a spike count) gets 4 lanes: half a 256-bit register, and libmvec's
// float functions at 4 lanes are SSE ones or missing (expm1f, log1pf, tanhf), so those calls stayed
// scalar. Such kernels ask for a full register of floats (the i64 values take several). Kernels
// that also hold f64 values are left alone (LLVM chooses), as are all others.
int KernelEmitter::vector_width() const {
  if (k_.kind != KernelKind::Map) return 0;
  bool f32 = false, i64 = false;
  for (size_t i = 0; i < k_.body.size(); ++i) {
    const Inst& in = k_.body[i];
    if (body_u_[i]) continue;  // computed once, before the loop
    if (in.dtype == DType::f64) return 0;
    f32 |= in.dtype == DType::f32;
    i64 |= in.dtype == DType::i64 && (in.kind == InstKind::Load || in.kind == InstKind::Store);
  }
  return f32 && i64 ? g_.vector_bits / 32 : 0;
}

void KernelEmitter::emit() {
  entry_ = BasicBlock::Create(g_.C, "entry", f_);
  BasicBlock* pre = BasicBlock::Create(g_.C, "pre", f_);
  BasicBlock* done = BasicBlock::Create(g_.C, "done", f_);
  B.SetInsertPoint(entry_);
  for (int a = 0; a < k_.accs; ++a) {
    DType d = DType::f64;
    for (const Inst& in : k_.inner)
      if (in.kind == InstKind::Yield && in.imm == a) d = in.dtype;
    acc_.push_back(B.CreateAlloca(g_.ssa_type(d)));
    started_.push_back(B.CreateAlloca(B.getInt1Ty()));
  }
  B.CreateCondBr(B.CreateICmpSLT(begin_, end_), pre, done);
  B.SetInsertPoint(done);
  B.CreateRetVoid();

  // Per-launch values first, as the executor computes them.
  B.SetInsertPoint(pre);
  body_u_ = uniform_insts(k_.body);
  body_v_.assign(k_.body.size(), nullptr);
  list(k_.body, body_u_, body_v_, nullptr, false);

  bool has_once = false;
  for (const Inst& in : k_.body) has_once |= in.kind == InstKind::Store && in.a < 0;
  if (has_once && once_per_call_ && k_.kind == KernelKind::Map) {
    // Once-stores of element-independent values (what interchanged scans allow) happen right after
    // the per-launch values, so the element loop has no peeled iteration.
    bool all_uniform = true;
    for (const Inst& in : k_.body)
      if (in.kind == InstKind::Store && in.a < 0) all_uniform = all_uniform && body_u_[static_cast<size_t>(in.b)];
    if (all_uniform) {
      for (const Inst& in : k_.body)
        if (in.kind == InstKind::Store && in.a < 0) store(in.buf, nullptr, body_v_[static_cast<size_t>(in.b)], in.dtype);
      has_once = false;
    }
  }
  Value* start = begin_;
  if (has_once) {  // iteration 0 (or the call's first) also makes the once-stores
    BasicBlock* cur = B.GetInsertBlock();
    BasicBlock* first = BasicBlock::Create(g_.C, "first", f_);
    BasicBlock* rest = BasicBlock::Create(g_.C, "rest", f_);
    B.CreateCondBr(once_per_call_ ? B.getTrue() : B.CreateICmpEQ(begin_, g_.i64(0)), first, rest);
    B.SetInsertPoint(first);
    std::vector<Value*> saved = body_v_;
    iteration(begin_, true);
    body_v_ = saved;
    Value* second = B.CreateAdd(begin_, g_.i64(1));
    BasicBlock* first_end = B.GetInsertBlock();
    B.CreateBr(rest);
    B.SetInsertPoint(rest);
    PHINode* phi = B.CreatePHI(g_.i64t, 2);
    phi->addIncoming(begin_, cur);
    phi->addIncoming(second, first_end);
    start = phi;
  }
  std::vector<Value*> saved = body_v_;
  // Kernels called once per step over all their elements (or a thread's share) have a partial
  // last vector in most models (90 projection neurons, 30 local ones, 4060 synapses): its lanes
  // are masked rather than run by a scalar copy of the body, which had doubled such kernels'
  // machine code and most of the JIT's time (antennal-lobe: 4844 -> 3605 instructions, code
  // generation 150 -> 105 ms, the same time per step). The element blocks of time-inside-elements
  // scans (once_per_call) keep LLVM's unmasked body and remainder: they are the longest loops.
  auto element_loop = [&] {
    g_.loop(start, end_, [&](Value* o) {
      body_v_ = saved;
      iteration(o, false);
    }, "o", /*no_unroll=*/true, vector_width(), /*fold_tail=*/!once_per_call_);
    B.CreateRetVoid();
  };
  std::map<int, Value*> recip;
  if (Value* exact = exact_reciprocals(recip)) {  // two loops: with multiplications, with divisions
    BasicBlock* fast = BasicBlock::Create(g_.C, "pow2", f_);
    BasicBlock* general = BasicBlock::Create(g_.C, "general", f_);
    B.CreateCondBr(exact, fast, general);
    B.SetInsertPoint(fast);
    recip_ = recip;
    element_loop();
    B.SetInsertPoint(general);
    recip_.clear();
  }
  element_loop();
  // The entry's typed pointers were inserted before its terminator.
}

// Divisions by a per-launch value d (a membrane capacitance C_m = 1, say) in the step kernels of
// time-inside-elements scans, which run for every block and step: when every such d is a power of
// two whose reciprocal is a normal number, x / d and x * (1/d) are the same correctly rounded value
// for every x (subnormal results and flushing included), and a multiplication is many times
// cheaper than a vector division. Returns the condition (nullptr: no such division) and fills
// `recip` with 1/d per divisor instruction.
Value* KernelEmitter::exact_reciprocals(std::map<int, Value*>& recip) {
  if (!once_per_call_ || k_.kind != KernelKind::Map) return nullptr;
  Value* all = nullptr;
  for (size_t i = 0; i < k_.body.size(); ++i) {
    const Inst& in = k_.body[i];
    if (body_u_[i] || in.kind != InstKind::Binary || in.op != Op::Div || !is_fp(in.dtype)) continue;
    const Inst& d = k_.body[static_cast<size_t>(in.b)];
    if (!body_u_[static_cast<size_t>(in.b)] || d.kind == InstKind::Const || recip.count(in.b)) continue;
    Value* dv = body_v_[static_cast<size_t>(in.b)];
    bool f64 = in.dtype == DType::f64;
    int mant = f64 ? 52 : 23;
    Type* it = f64 ? B.getInt64Ty() : B.getInt32Ty();
    Value* bits = B.CreateBitCast(dv, it);
    Value* exp = B.CreateAnd(B.CreateLShr(bits, ConstantInt::get(it, mant)), ConstantInt::get(it, f64 ? 0x7ff : 0xff));
    Value* frac = B.CreateAnd(bits, ConstantInt::get(it, (uint64_t{1} << mant) - 1));
    // Biased exponent e in [1, 2*bias - 1]: d and 2^-(e - bias) both normal.
    Value* ok = B.CreateAnd(B.CreateICmpEQ(frac, ConstantInt::get(it, 0)),
                            B.CreateAnd(B.CreateICmpUGE(exp, ConstantInt::get(it, 1)),
                                        B.CreateICmpULE(exp, ConstantInt::get(it, f64 ? 2045 : 253))));
    all = all ? B.CreateAnd(all, ok) : ok;
    recip[in.b] = B.CreateFDiv(ConstantFP::get(dv->getType(), 1.0), dv);
  }
  return all;
}

}  // namespace

// Two buffers the memory plan put at the same fixed place (the same bytes at every step; not a
// double-buffered carry, not a row view): the kernel gets one pointer for both. An in-place update
// (load a[o], store b[o] with b at a's place) then has one base, which LLVM sees is safe to
// vectorise; two parameters could only be left without `noalias`, and the loop scalar.
bool Gen::same_place(int a, int b) const {
  if (a == b) return true;
  auto fixed = [&](int x) {
    return partner[static_cast<size_t>(x)] < 0 && ranges[static_cast<size_t>(x)].size() == 1 &&
           P.buffers[static_cast<size_t>(x)].role != BufferRole::Row;
  };
  return fixed(a) && fixed(b) && ranges[static_cast<size_t>(a)][0] == ranges[static_cast<size_t>(b)][0];
}

int Gen::param_index(int b, const std::vector<int>& bufs) const {
  for (size_t i = 0; i < bufs.size(); ++i)
    if (same_place(bufs[i], b)) return static_cast<int>(i);
  internal_error("cpu codegen: buffer b{} is not a kernel parameter", b);
}

// The kernel's pointer parameters: one per place (see same_place), in first-use order.
std::vector<int> Gen::kernel_buffers(const Kernel& k) const {
  std::vector<int> bufs;
  auto add = [&](int b) {
    if (b >= 0 && std::none_of(bufs.begin(), bufs.end(), [&](int c) { return same_place(c, b); })) bufs.push_back(b);
  };
  for (const auto* l : {&k.body, &k.inner})
    for (const Inst& in : *l)
      if (in.kind == InstKind::Load || in.kind == InstKind::Store) add(in.buf);
  if (k.kind == KernelKind::SegmentSum) add(k.offsets), add(k.order);
  return bufs;
}

Function* Gen::kernel_function(const Kernel& k, bool* serial, bool once_per_call) {
  std::vector<int> bufs = kernel_buffers(k);
  // A once-store to a buffer the kernel also loads must not race with other threads' loads.
  bool ser = false;
  for (const Inst& s : k.body)
    if (s.kind == InstKind::Store && s.a < 0)
      for (const auto* l : {&k.body, &k.inner})
        for (const Inst& in : *l) ser |= in.kind == InstKind::Load && in.buf == s.buf;
  *serial = ser || run_serially(k.n);
  auto it = kernel_fns.find({&k, once_per_call});
  if (it != kernel_fns.end()) return it->second;

  std::vector<Type*> params = {i64t, i64t};
  for (size_t i = 0; i < bufs.size(); ++i) params.push_back(i8p);
  params.push_back(PointerType::getUnqual(args_type));
  Function* f = Function::Create(FunctionType::get(B.getVoidTy(), params, false), Function::InternalLinkage,
                                 "kernel_" + k.name, M);
  f->addFnAttr(Attribute::NoInline);  // each kernel optimised on its own: bounded compile time
  f->addFnAttr(Attribute::NoUnwind);
  // LLVM's x86 tuning prefers 256-bit vectors even where AVX-512 exists; the element loops here
  // are long runs of arithmetic and libmvec calls (which have AVX-512 variants, see optimize.cpp),
  // where 512-bit vectors made hh-squid's step about 1.25x (f64) and 1.45x (f32) faster.
  if (vector_bits == 512) f->addFnAttr("prefer-vector-width", "512");
  // The x86-64 ABI aligns the stack to 16 bytes, and LLVM then gives the vector registers spilled
  // around libmvec calls (which clobber them all) unaligned slots: most of hh-squid's 64-byte
  // spills crossed a cache line. Realigning the frame makes every slot aligned (as GCC does).
  f->addFnAttr("stackrealign");
  for (size_t i = 0; i < bufs.size(); ++i) {
    bool alone = true;
    for (size_t j = 0; j < bufs.size(); ++j)
      if (i != j && may_overlap(bufs[i], bufs[j])) alone = false;
    if (alone) f->addParamAttr(static_cast<unsigned>(i + 2), Attribute::NoAlias);
  }
  IRBuilderBase::InsertPointGuard guard(B);
  KernelEmitter(*this, k, f, bufs, once_per_call).emit();
  kernel_fns[{&k, once_per_call}] = f;
  return f;
}

void Gen::call_kernel(const Kernel& k, Value* begin, Value* end, bool once_per_call) {
  bool ser = false;
  Function* f = kernel_function(k, &ser, once_per_call);
  std::vector<Value*> a = {begin, end};
  for (int b : kernel_buffers(k)) a.push_back(buf_ptr(b));
  a.push_back(args);
  B.CreateCall(f, a);
}

}  // namespace sf::cpu
