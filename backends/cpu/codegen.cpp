// The whole KernelProgram as one LLVM module. The entry `void ENTRY(sf_cpu_args*)` opens one
// OpenMP parallel region (GOMP_parallel, as an OpenMP compiler emits it) whose function runs every
// step of the program in every thread:
//   - a kernel step runs the thread's static chunk of the element range (small kernels: thread 0);
//   - copies, CSR builds, recording and callbacks run on thread 0;
//   - a barrier (sf_cpu_barrier, runtime.h) separates two steps only where the second touches, at other
//     elements or on other threads, what the first wrote (same-size Map kernels that only access
//     their own element o need none); after each barrier every thread stops if an error was recorded;
//   - a scan region is a loop over k in the generated code; double-buffered carries swap pointers
//     (each thread keeps its own copy of the buffer table, so swaps need no synchronisation).
// Nothing is dispatched at run time: the host calls the entry once per run.
#include <set>

#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/raw_ostream.h>

#include "backends/cpu/gen.h"
#include "graph/error.h"

namespace sf::cpu {

using namespace llvm;
using llvm::Type;  // not sf::Type

namespace {
constexpr int64_t kBlasMinWork = 64 * 64 * 64;  // matmuls with m*n*k from here on call CBLAS
// Step-by-step scans with less work per step than kSoloFactor * min_parallel (32768 elements over
// all kernels by default) run on thread 0 alone: their steps take microseconds, about what the
// barriers between them cost when both threads run, and far less than one barrier behind a thread
// that another process has descheduled. (Tied to min_parallel so that tests which split every
// kernel, min_parallel 1, still run small scans step by step on all threads.)
constexpr int64_t kSoloFactor = 64;

// Elements processed by one run of `ss` (nested scans: per step times their length), up to cap.
int64_t work(const std::vector<Step>& ss, int64_t cap) {
  int64_t w = 0;
  for (const Step& s : ss) {
    switch (s.kind) {
      case StepKind::Kernel: w += s.kernel.n * std::max<int64_t>(1, s.kernel.len); break;
      case StepKind::Matmul: w += s.matmul.m * s.matmul.n * s.matmul.k; break;
      case StepKind::Copy: w += s.copy.rows * s.copy.elems; break;
      case StepKind::Segments: w += s.segments.size; break;
      case StepKind::Scan: w += (work(s.scan.prologue, cap) + work(s.scan.body, cap)) * s.scan.length; break;
    }
    w = std::min(w, cap);
  }
  return w;
}
}  // namespace

Gen::Gen(const KernelProgram& p, const CodegenOptions& o, LLVMContext& c, Module& m, Layout& l)
    : P(p), opt(o), C(c), M(m), L(l), B(c) {
  i8p = B.getInt8PtrTy();
  i64t = B.getInt64Ty();
  i32t = B.getInt32Ty();
  StringMap<bool> features;  // kernels prefer 512-bit vectors where the host has them (kernel_gen.cpp)
  if (sys::getHostCPUFeatures(features) && features.lookup("avx512f")) vector_bits = 512;
  Type* vp = i8p;
  args_type = StructType::create(C, "sf_cpu_args");
  PointerType* ap = PointerType::getUnqual(args_type);
  Type* rows = PointerType::getUnqual(FunctionType::get(B.getVoidTy(), {vp, i32t, vp, i64t, i64t}, false));
  Type* events = PointerType::getUnqual(FunctionType::get(B.getVoidTy(), {vp, i32t, PointerType::getUnqual(i64t), i64t}, false));
  Type* progress = PointerType::getUnqual(FunctionType::get(B.getVoidTy(), {vp, i32t, i64t, i64t}, false));
  Type* fail = PointerType::getUnqual(FunctionType::get(B.getVoidTy(), {ap, i32t, i64t, i64t}, false));
  args_type->setBody({PointerType::getUnqual(vp), i32t, i32t, vp, PointerType::getUnqual(vp), i64t, i64t, rows, events,
                      progress, fail, i32t, PointerType::getUnqual(i64t), vp});

  // Where each arena buffer may be: its planned range (double-buffered carries: either one).
  size_t nb = P.buffers.size();
  ranges.assign(nb, {});
  partner.assign(nb, -1);
  for (size_t i = 0; i < nb; ++i) {
    const Buffer& b = P.buffers[i];
    if (b.in_arena()) ranges[i].push_back({b.offset, b.offset + b.bytes()});
  }
  for_each_step(P.steps, [&](const Step& s) {
    if (s.kind != StepKind::Scan) return;
    for (const ScanCarry& c : s.scan.carries)
      if (c.next >= 0) {
        partner[static_cast<size_t>(c.state)] = c.next, partner[static_cast<size_t>(c.next)] = c.state;
        auto a = ranges[static_cast<size_t>(c.state)], b = ranges[static_cast<size_t>(c.next)];
        ranges[static_cast<size_t>(c.state)].insert(ranges[static_cast<size_t>(c.state)].end(), b.begin(), b.end());
        ranges[static_cast<size_t>(c.next)].insert(ranges[static_cast<size_t>(c.next)].end(), a.begin(), a.end());
      }
    for (const ScanXs& x : s.scan.xs) ranges[static_cast<size_t>(x.row)] = ranges[static_cast<size_t>(x.xs)];
  });
}

// Two buffers may share bytes when their possible arena ranges intersect. Inputs and constants are
// read-only, so they never matter; the two buffers of a carry are never the same at one time.
bool Gen::may_overlap(int a, int b) const {
  if (a == b || partner[static_cast<size_t>(a)] == b) return false;
  for (auto [b0, e0] : ranges[static_cast<size_t>(a)])
    for (auto [b1, e1] : ranges[static_cast<size_t>(b)])
      if (b0 < e1 && b1 < e0) return true;
  return false;
}

Type* Gen::ssa_type(DType d) {
  switch (d) {
    case DType::f32: return B.getFloatTy();
    case DType::f64: return B.getDoubleTy();
    case DType::i32: return B.getInt32Ty();
    case DType::i64: return B.getInt64Ty();
    case DType::b8: return B.getInt1Ty();
    case DType::tuple: break;
  }
  internal_error("cpu codegen: no element type for a tuple");
}

Type* Gen::mem_type(DType d) { return d == DType::b8 ? B.getInt8Ty() : ssa_type(d); }

Value* Gen::field_ptr(int i) { return B.CreateStructGEP(args_type, args, static_cast<unsigned>(i)); }
Value* Gen::field(int i) {
  return B.CreateLoad(args_type->getElementType(static_cast<unsigned>(i)), field_ptr(i));
}
Value* Gen::buf_ptr(int b) { return B.CreateLoad(i8p, slots.at(static_cast<size_t>(b))); }
Value* Gen::typed(Value* raw, DType d) { return B.CreateBitCast(raw, PointerType::getUnqual(mem_type(d))); }

AllocaInst* Gen::entry_alloca(Type* t, const char* name) {
  IRBuilder<> e(&body_fn->getEntryBlock(), body_fn->getEntryBlock().begin());
  return e.CreateAlloca(t, nullptr, name);
}

void Gen::loop(Value* lo, Value* hi, const std::function<void(Value*)>& body, const char* name, bool no_unroll,
               int vector_width, bool fold_tail) {
  Function* f = B.GetInsertBlock()->getParent();
  BasicBlock* pre = B.GetInsertBlock();
  BasicBlock* head = BasicBlock::Create(C, Twine(name) + ".head", f);
  BasicBlock* bb = BasicBlock::Create(C, Twine(name) + ".body", f);
  BasicBlock* out = BasicBlock::Create(C, Twine(name) + ".end", f);
  B.CreateBr(head);
  B.SetInsertPoint(head);
  PHINode* i = B.CreatePHI(lo->getType(), 2, name);
  i->addIncoming(lo, pre);
  B.CreateCondBr(B.CreateICmpSLT(i, hi), bb, out);
  B.SetInsertPoint(bb);
  body(i);
  Value* next = B.CreateAdd(i, ConstantInt::get(lo->getType(), 1));
  i->addIncoming(next, B.GetInsertBlock());
  BranchInst* back = B.CreateBr(head);
  std::vector<Metadata*> md = {nullptr};
  if (no_unroll) {
    md.push_back(MDNode::get(C, {MDString::get(C, "llvm.loop.unroll.disable")}));
    // One vector per iteration: with the vectoriser's default of 4 interleaved vectors, a loop
    // over 30 or 90 elements ran half its exp calls in the scalar remainder.
    md.push_back(MDNode::get(C, {MDString::get(C, "llvm.loop.interleave.count"), ConstantAsMetadata::get(B.getInt32(1))}));
  }
  if (fold_tail)  // the last partial vector masked: no scalar remainder loop (see kernel_gen.cpp)
    md.push_back(MDNode::get(C, {MDString::get(C, "llvm.loop.vectorize.predicate.enable"), ConstantAsMetadata::get(B.getTrue())}));
  if (vector_width > 0)
    md.push_back(MDNode::get(C, {MDString::get(C, "llvm.loop.vectorize.width"),
                                 ConstantAsMetadata::get(B.getInt32(static_cast<uint32_t>(vector_width)))}));
  if (md.size() > 1) {
    MDNode* id = MDNode::getDistinct(C, md);
    id->replaceOperandWith(0, id);
    back->setMetadata(LLVMContext::MD_loop, id);
  }
  B.SetInsertPoint(out);
}

void Gen::if_then(Value* cond, const std::function<void()>& then, const char* name) {
  Function* f = B.GetInsertBlock()->getParent();
  BasicBlock* t = BasicBlock::Create(C, Twine(name) + ".then", f);
  BasicBlock* out = BasicBlock::Create(C, Twine(name) + ".end", f);
  B.CreateCondBr(cond, t, out);
  B.SetInsertPoint(t);
  then();
  B.CreateBr(out);
  B.SetInsertPoint(out);
}

FunctionCallee Gen::runtime(const char* name) {
  Type* vt = B.getVoidTy();
  PointerType* ap = PointerType::getUnqual(args_type);
  std::string n = name;
  FunctionType* ft = n == "sf_cpu_event_push"     ? FunctionType::get(vt, {ap, i32t, i32t, i64t, i64t}, false)
                     : n == "sf_cpu_event_merge"  ? FunctionType::get(vt, {ap, i32t}, false)
                     : n == "sf_cpu_event_emit"   ? FunctionType::get(vt, {ap, i32t, i64t}, false)
                     : n == "sf_cpu_event_finish" ? FunctionType::get(i64t, {ap, i32t}, false)
                     : n == "sf_cpu_rt_begin"     ? FunctionType::get(vt, {ap, i32t, i32t}, false)
                     : n == "sf_cpu_rt_end"       ? FunctionType::get(vt, {ap}, false)
                     : n == "sf_cpu_barrier"      ? FunctionType::get(vt, {ap, i32t}, false)
                                                  : nullptr;
  if (!ft) internal_error("cpu codegen: no runtime function {}", name);
  return M.getOrInsertFunction(name, ft);
}

void Gen::serial(const std::function<void()>& body) { if_then(B.CreateICmpEQ(tid, i32(0)), body, "t0"); }

void Gen::barrier() {
  if (!solo) B.CreateCall(runtime("sf_cpu_barrier"), {args, nthreads});
  Value* err = B.CreateLoad(i32t, field_ptr(kError), /*isVolatile=*/true);
  BasicBlock* go = BasicBlock::Create(C, "go", body_fn);
  B.CreateCondBr(B.CreateICmpNE(err, i32(0)), solo ? solo_exit : exit_bb, go);
  B.SetInsertPoint(go);
}

void Gen::sync() {
  barrier();
  pending.clear();
}

// A barrier is needed when memory one of the pending steps wrote (or read) is read (or written) by
// f, unless the same thread touches the same elements in both: both on thread 0, or both chunked
// over the same n with every access to the same buffer at the own element. Different buffers may
// share memory (the memory plan reuses space), so overlap of their arena ranges counts too.
void Gen::sync_if_needed(const Footprint& f) {
  for (const Footprint& p : pending) {
    if (p.serial && f.serial) continue;
    for (const auto& [b, u] : f.uses)
      for (const auto& [c, v] : p.uses) {
        if (!(u.write || v.write) || (b != c && !may_overlap(b, c))) continue;
        bool same = b == c && !p.serial && !f.serial && p.n >= 0 && p.n == f.n && u.at_o && v.at_o;
        if (!same) {
          sync();
          return;
        }
      }
  }
}

void Gen::call_fail(Value* a, int check, Value* value, Value* pos) {
  Value* fp = B.CreateLoad(args_type->getElementType(kFail), B.CreateStructGEP(args_type, a, kFail));
  auto* ft = cast<FunctionType>(fp->getType()->getPointerElementType());
  B.CreateCall(ft, fp, {a, i32(check), value, pos});
}

int Gen::add_check(const std::string& what, int64_t limit) {
  L.checks.push_back(CheckInfo{what, limit, region_stack});
  return static_cast<int>(L.checks.size()) - 1;
}

bool Gen::run_serially(int64_t n) const { return solo || n < opt.min_parallel; }

std::pair<Value*, Value*> Gen::chunk(int64_t n) {
  // ceil(n / threads) rounded up to 8 elements (whole vectors), then clipped to n.
  Value* nt = B.CreateSExt(nthreads, i64t);
  Value* per = B.CreateUDiv(B.CreateAdd(i64(n), B.CreateSub(nt, i64(1))), nt);
  per = B.CreateAnd(B.CreateAdd(per, i64(7)), i64(~int64_t{7}));
  Value* t = B.CreateSExt(tid, i64t);
  auto clip = [&](Value* v) { return B.CreateSelect(B.CreateICmpSLT(v, i64(n)), v, i64(n)); };
  Value* b = clip(B.CreateMul(t, per));
  return {b, clip(B.CreateAdd(b, per))};
}

// ---- steps -----------------------------------------------------------------------------------

namespace {

Footprint kernel_footprint(const Kernel& k, bool serial) {
  Footprint f;
  f.serial = serial;
  f.n = k.n;
  auto use = [&](int b, bool w, bool at_o) {
    Use& u = f.uses[b];
    (w ? u.write : u.read) = true;
    u.at_o = u.at_o && at_o && !serial;
  };
  for (const Inst& in : k.body) {
    bool at_o = in.a >= 0 && k.body[static_cast<size_t>(in.a)].kind == InstKind::Index;
    if (in.kind == InstKind::Load) use(in.buf, false, at_o);
    if (in.kind == InstKind::Store) use(in.buf, true, at_o);
  }
  for (const Inst& in : k.inner) {
    if (in.kind == InstKind::Load) use(in.buf, false, false);
    if (in.kind == InstKind::Store) use(in.buf, true, false);
  }
  if (k.kind == KernelKind::SegmentSum) use(k.offsets, false, false), use(k.order, false, false);
  return f;
}

Footprint serial_footprint(std::initializer_list<int> reads, std::initializer_list<int> writes) {
  Footprint f;
  f.serial = true;
  for (int b : reads) f.uses[b].read = true, f.uses[b].at_o = false;
  for (int b : writes) f.uses[b].write = true, f.uses[b].at_o = false;
  return f;
}

}  // namespace

class StepGen {
 public:
  explicit StepGen(Gen& g) : g(g), B(g.B) {}
  void steps(const std::vector<Step>& ss);

 private:
  void kernel(const Kernel& k);
  void copy(const CopyStep& c);
  void matmul(const MatmulStep& m);
  void segments(const SegmentsStep& s);
  void scan(const ScanRegion& r);
  void scan_steps(const ScanRegion& r);
  void memmove(Value* dst, Value* src, Value* bytes) { B.CreateMemMove(dst, MaybeAlign(1), src, MaybeAlign(1), bytes); }
  Value* byte_ptr(int buf, Value* elem_offset) {
    int64_t e = dtype_size(g.P.buffers[static_cast<size_t>(buf)].dtype);
    return B.CreateInBoundsGEP(B.getInt8Ty(), g.buf_ptr(buf), B.CreateMul(elem_offset, g.i64(e)));
  }
  Function* matmul_function(const MatmulStep& m);

  Gen& g;
  IRBuilder<>& B;
};

void StepGen::kernel(const Kernel& k) {
  if (k.n == 0) return;
  bool ser = false;
  g.kernel_function(k, &ser);
  g.sync_if_needed(kernel_footprint(k, ser));
  if (ser) {
    g.serial([&] { g.call_kernel(k, g.i64(0), g.i64(k.n)); });
  } else {
    g.L.parallel = true;
    auto [b, e] = g.chunk(k.n);
    g.call_kernel(k, b, e);
  }
  g.pending.push_back(kernel_footprint(k, ser));
}

void StepGen::copy(const CopyStep& c) {
  Footprint f = serial_footprint({c.src}, {c.dst});
  g.sync_if_needed(f);
  g.serial([&] {
    int64_t e = dtype_size(g.P.buffers[static_cast<size_t>(c.dst)].dtype);
    g.loop(g.i64(0), g.i64(c.rows), [&](Value* r) {
      Value* d = byte_ptr(c.dst, B.CreateAdd(g.i64(c.dst_offset), B.CreateMul(r, g.i64(c.dst_stride))));
      Value* s = byte_ptr(c.src, B.CreateAdd(g.i64(c.src_offset), B.CreateMul(r, g.i64(c.src_stride))));
      memmove(d, s, g.i64(c.elems * e));
    }, "copy");
  });
  g.pending.push_back(f);
}

// out[i, :] for rows [rb, re): zero, then out[i,j] += a[i,p] * b[p,j] for p = 0..k-1 (the
// interpreter's order), the j loop vectorised.
Function* StepGen::matmul_function(const MatmulStep& m) {
  DType d = g.P.buffers[static_cast<size_t>(m.out)].dtype;
  Type* t = g.ssa_type(d);
  Type* tp = PointerType::getUnqual(t);
  Function* f = Function::Create(FunctionType::get(B.getVoidTy(), {g.i64t, g.i64t, tp, tp, tp}, false),
                                 Function::InternalLinkage, "matmul", g.M);
  f->addFnAttr(Attribute::NoInline);
  f->addFnAttr(Attribute::NoUnwind);
  if (!g.may_overlap(m.out, m.a) && !g.may_overlap(m.out, m.b)) {
    f->addParamAttr(2, Attribute::NoAlias), f->addParamAttr(3, Attribute::NoAlias), f->addParamAttr(4, Attribute::NoAlias);
  }
  IRBuilderBase::InsertPointGuard guard(B);
  B.SetInsertPoint(BasicBlock::Create(g.C, "entry", f));
  auto arg = f->arg_begin();
  Value *rb = &*arg++, *re = &*arg++, *a = &*arg++, *b = &*arg++, *out = &*arg;
  bool fp = d == DType::f32 || d == DType::f64;
  g.loop(rb, re, [&](Value* i) {
    Value* row = B.CreateInBoundsGEP(t, out, B.CreateMul(i, g.i64(m.n)));
    Value* zero = fp ? ConstantFP::get(t, 0.0) : ConstantInt::get(t, 0);
    g.loop(g.i64(0), g.i64(m.n), [&](Value* j) { B.CreateStore(zero, B.CreateInBoundsGEP(t, row, j)); }, "mz");
    g.loop(g.i64(0), g.i64(m.k), [&](Value* p) {
      Value* aip = B.CreateLoad(t, B.CreateInBoundsGEP(t, a, B.CreateAdd(B.CreateMul(i, g.i64(m.k)), p)));
      Value* brow = B.CreateInBoundsGEP(t, b, B.CreateMul(p, g.i64(m.n)));
      g.loop(g.i64(0), g.i64(m.n), [&](Value* j) {
        Value* q = B.CreateInBoundsGEP(t, row, j);
        Value* x = B.CreateLoad(t, B.CreateInBoundsGEP(t, brow, j));
        Value* prod = fp ? B.CreateFMul(aip, x) : B.CreateMul(aip, x);
        Value* cur = B.CreateLoad(t, q);
        B.CreateStore(fp ? B.CreateFAdd(cur, prod) : B.CreateAdd(cur, prod), q);
      }, "mj");
    }, "mp");
  }, "mi");
  B.CreateRetVoid();
  return f;
}

// Large float products go to CBLAS (OpenBLAS): thread 0 calls dgemm/sgemm (OpenBLAS runs its own
// threads while the others wait at the barrier). Its summation order differs from the
// interpreter's, so results agree within rounding, not bit for bit.
static bool use_blas(const Gen& g, const MatmulStep& m) {
  DType d = g.P.buffers[static_cast<size_t>(m.out)].dtype;
  bool fp = d == DType::f32 || d == DType::f64;
  bool fits = m.m < (int64_t{1} << 31) && m.n < (int64_t{1} << 31) && m.k < (int64_t{1} << 31);
  return fp && fits && m.k > 0 && m.m * m.n * m.k >= kBlasMinWork && !g.may_overlap(m.out, m.a) && !g.may_overlap(m.out, m.b);
}

void StepGen::matmul(const MatmulStep& m) {
  if (m.m == 0) return;
  Footprint f;
  bool blas = use_blas(g, m);
  f.serial = blas || g.run_serially(m.m * m.n * m.k);
  f.uses[m.a].read = f.uses[m.b].read = f.uses[m.out].write = true;
  for (auto& [b, u] : f.uses) u.at_o = false;
  g.sync_if_needed(f);
  DType d = g.P.buffers[static_cast<size_t>(m.out)].dtype;
  if (blas) {
    g.serial([&] {
      Type* t = g.ssa_type(d);
      Type* tp = PointerType::getUnqual(t);
      Type* it = g.i32t;
      FunctionCallee gemm = g.M.getOrInsertFunction(
          d == DType::f64 ? "cblas_dgemm" : "cblas_sgemm",
          FunctionType::get(B.getVoidTy(), {it, it, it, it, it, it, t, tp, it, tp, it, t, tp, it}, false));
      auto n32 = [&](int64_t v) { return g.i32(static_cast<int32_t>(v)); };
      // Row-major (101), no transposes (111): out = 1 * a x b + 0 * out.
      B.CreateCall(gemm, {n32(101), n32(111), n32(111), n32(m.m), n32(m.n), n32(m.k), ConstantFP::get(t, 1.0),
                          g.typed(g.buf_ptr(m.a), d), n32(m.k), g.typed(g.buf_ptr(m.b), d), n32(m.n),
                          ConstantFP::get(t, 0.0), g.typed(g.buf_ptr(m.out), d), n32(m.n)});
    });
    g.pending.push_back(f);
    return;
  }
  Function* fn = matmul_function(m);
  auto call = [&](Value* b, Value* e) {
    B.CreateCall(fn, {b, e, g.typed(g.buf_ptr(m.a), d), g.typed(g.buf_ptr(m.b), d), g.typed(g.buf_ptr(m.out), d)});
  };
  if (f.serial) {
    g.serial([&] { call(g.i64(0), g.i64(m.m)); });
  } else {
    g.L.parallel = true;
    auto [b, e] = g.chunk(m.m);
    call(b, e);
  }
  g.pending.push_back(f);
}

// The CSR index by a stable counting sort (the executor's algorithm), on thread 0.
void StepGen::segments(const SegmentsStep& s) {
  Footprint f = serial_footprint({s.index}, {s.offsets, s.order});
  g.sync_if_needed(f);
  int check = g.add_check(s.what, s.size);
  g.serial([&] {
    const Buffer& ib = g.P.buffers[static_cast<size_t>(s.index)];
    int64_t m = ib.elements();
    Type* it = g.ssa_type(ib.dtype);
    Value* idx = g.typed(g.buf_ptr(s.index), ib.dtype);
    Value* off = g.typed(g.buf_ptr(s.offsets), DType::i64);
    Value* order = g.typed(g.buf_ptr(s.order), DType::i64);
    auto at = [&](Value* p, Value* i) { return B.CreateInBoundsGEP(g.i64t, p, i); };
    auto index = [&](Value* i) { return B.CreateSExt(B.CreateLoad(it, B.CreateInBoundsGEP(it, idx, i)), g.i64t); };
    Function* fn = B.GetInsertBlock()->getParent();
    BasicBlock* done = BasicBlock::Create(g.C, "csr.done", fn);
    g.loop(g.i64(0), g.i64(s.size + 1), [&](Value* j) { B.CreateStore(g.i64(0), at(off, j)); }, "csr0");
    g.loop(g.i64(0), g.i64(m), [&](Value* i) {  // count, checking every index
      Value* j = index(i);
      BasicBlock* bad = BasicBlock::Create(g.C, "csr.bad", fn);
      BasicBlock* ok = BasicBlock::Create(g.C, "csr.ok", fn);
      B.CreateCondBr(B.CreateICmpUGE(j, g.i64(s.size)), bad, ok);
      B.SetInsertPoint(bad);
      g.call_fail(g.args, check, j, i);
      B.CreateBr(done);
      B.SetInsertPoint(ok);
      Value* q = at(off, B.CreateAdd(j, g.i64(1)));
      B.CreateStore(B.CreateAdd(B.CreateLoad(g.i64t, q), g.i64(1)), q);
    }, "csr1");
    g.loop(g.i64(0), g.i64(s.size), [&](Value* j) {  // prefix sums
      Value* q = at(off, B.CreateAdd(j, g.i64(1)));
      B.CreateStore(B.CreateAdd(B.CreateLoad(g.i64t, q), B.CreateLoad(g.i64t, at(off, j))), q);
    }, "csr2");
    g.loop(g.i64(0), g.i64(m), [&](Value* i) {  // fill each segment, moving its start to the end
      Value* q = at(off, index(i));
      Value* pos = B.CreateLoad(g.i64t, q);
      B.CreateStore(i, at(order, pos));
      B.CreateStore(B.CreateAdd(pos, g.i64(1)), q);
    }, "csr3");
    g.loop(g.i64(0), g.i64(s.size), [&](Value* r) {  // shift the starts back
      Value* j = B.CreateSub(g.i64(s.size), r);
      B.CreateStore(B.CreateLoad(g.i64t, at(off, B.CreateSub(j, g.i64(1)))), at(off, j));
    }, "csr4");
    B.CreateStore(g.i64(0), at(off, g.i64(0)));
    B.CreateBr(done);
    B.SetInsertPoint(done);
  });
  g.pending.push_back(f);
}

// ---- scan regions ----------------------------------------------------------------------------

void StepGen::scan(const ScanRegion& r) {
  bool interchanged = g.opt.interchange && g.can_interchange(r);  // no barriers per step anyway
  int64_t solo_work = kSoloFactor * g.opt.min_parallel;
  if (!g.solo && !interchanged && work(r.body, solo_work) < solo_work) {  // thread 0 runs it all; the others wait once
    std::set<int> swapped;  // double-buffered carries of this scan and the scans inside it
    auto add = [&](const ScanRegion& x) {
      for (const ScanCarry& c : x.carries)
        if (c.next >= 0) swapped.insert(c.state), swapped.insert(c.next);
    };
    add(r);
    for (const auto* ss : {&r.prologue, &r.body})
      for_each_step(*ss, [&](const Step& s) {
        if (s.kind == StepKind::Scan) add(s.scan);
      });
    auto table_entry = [&](int b) { return B.CreateInBoundsGEP(g.i8p, g.field(kBuffers), g.i64(b)); };
    g.sync();
    g.serial([&] {
      Value *tid = g.tid, *nt = g.nthreads;
      g.tid = g.i32(0), g.nthreads = g.i32(1), g.solo = true;
      g.solo_exit = BasicBlock::Create(g.C, "solo.exit", g.body_fn);
      scan_steps(r);
      // The other threads' tables must follow thread 0's swaps: through args->buffers.
      for (int b : swapped) B.CreateStore(g.buf_ptr(b), table_entry(b));
      B.CreateBr(g.solo_exit);
      B.SetInsertPoint(g.solo_exit);
      g.tid = tid, g.nthreads = nt, g.solo = false, g.solo_exit = nullptr;
    });
    g.sync();  // stops every thread if thread 0 left the scan with an error
    for (int b : swapped) B.CreateStore(B.CreateLoad(g.i8p, table_entry(b)), g.slots[static_cast<size_t>(b)]);
    return;
  }
  scan_steps(r);
}

void StepGen::scan_steps(const ScanRegion& r) {
  int region = g.next_region++;
  g.L.regions.push_back(RegionInfo{r.label, r.node});
  g.sync();  // the carries' initial values are complete
  g.region_stack.push_back(region);
  g.serial([&] {
    for (const ScanCarry& c : r.carries) {
      int64_t bytes = g.P.buffers[static_cast<size_t>(c.state)].bytes();
      memmove(g.buf_ptr(c.state), g.buf_ptr(c.init), g.i64(bytes));
    }
  });
  g.sync();
  Value* scan_k = B.CreateInBoundsGEP(g.i64t, g.field(kScanK), g.i64(region));
  if (r.length > 0 && !r.prologue.empty()) {  // loop-invariant steps, once, as part of step 0
    g.serial([&] { B.CreateStore(g.i64(0), scan_k); });
    g.set_rows(r, g.i64(0));
    steps(r.prologue);
    g.sync();
  }
  if (g.opt.interchange && g.can_interchange(r)) {
    g.interchanged_scan(r, region);
    g.region_stack.pop_back();
    g.sync();
    return;
  }
  const int64_t nys = static_cast<int64_t>(r.ys.size());
  // Streaming state (thread 0): rows filled in the chunk, rows/events sent, events buffered.
  std::vector<AllocaInst*> filled(static_cast<size_t>(nys)), sent(static_cast<size_t>(nys));
  std::vector<int> slot(static_cast<size_t>(nys), -1);
  for (int64_t y = 0; y < nys; ++y) {
    filled[static_cast<size_t>(y)] = g.entry_alloca(g.i64t, "filled");
    sent[static_cast<size_t>(y)] = g.entry_alloca(g.i64t, "sent");
    if (r.ys[static_cast<size_t>(y)].mode != RecordMode::Stack) {
      g.L.slots.push_back(
          SlotInfo{region, y, r.ys[static_cast<size_t>(y)].value, r.ys[static_cast<size_t>(y)].mode, r.length, r.every});
      slot[static_cast<size_t>(y)] = static_cast<int>(g.L.slots.size()) - 1;
    }
  }
  for (int64_t y = 0; y < nys; ++y) {
    B.CreateStore(g.i64(0), filled[static_cast<size_t>(y)]);
    B.CreateStore(g.i64(0), sent[static_cast<size_t>(y)]);
  }
  auto chunk_of = [&](int s) {
    Value* chunks = g.field(kSinkChunks);
    return B.CreateLoad(g.i8p, B.CreateInBoundsGEP(g.i8p, chunks, g.i64(s)));
  };
  auto flush_rows = [&](int64_t y) {
    size_t u = static_cast<size_t>(y);
    Value* n = B.CreateLoad(g.i64t, filled[u]);
    g.if_then(B.CreateICmpSGT(n, g.i64(0)), [&] {
      Value* fp = g.field(kRows);
      auto* ft = cast<FunctionType>(fp->getType()->getPointerElementType());
      Value* s = B.CreateLoad(g.i64t, sent[u]);
      B.CreateCall(ft, fp, {g.field(kCtx), g.i32(slot[u]), chunk_of(slot[u]), n, s});
      B.CreateStore(B.CreateAdd(s, n), sent[u]);
      B.CreateStore(g.i64(0), filled[u]);
    }, "flush");
  };
  // Events buffered so far = sent - (events already handed over); kept in `filled` for events.
  auto flush_events = [&](int64_t y) {
    size_t u = static_cast<size_t>(y);
    Value* n = B.CreateLoad(g.i64t, filled[u]);
    g.if_then(B.CreateICmpSGT(n, g.i64(0)), [&] {
      Value* fp = g.field(kEvents);
      auto* ft = cast<FunctionType>(fp->getType()->getPointerElementType());
      Value* buf = B.CreateBitCast(chunk_of(slot[u]), PointerType::getUnqual(g.i64t));
      B.CreateCall(ft, fp, {g.field(kCtx), g.i32(slot[u]), buf, n});
      B.CreateStore(g.i64(0), filled[u]);
    }, "flushev");
  };
  auto record = [&](Value* k) {
    // recorded = (k + 1) % every == 0, row = (k + 1) / every - 1
    Value* k1 = B.CreateAdd(k, g.i64(1));
    Value* recorded = B.CreateICmpEQ(B.CreateURem(k1, g.i64(r.every)), g.i64(0));
    Value* row = B.CreateSub(B.CreateUDiv(k1, g.i64(r.every)), g.i64(1));
    for (int64_t y = 0; y < nys; ++y) {
      size_t u = static_cast<size_t>(y);
      const ScanOutput& o = r.ys[u];
      const Buffer& v = g.P.buffers[static_cast<size_t>(o.value)];
      int64_t bytes = v.bytes();
      switch (o.mode) {
        case RecordMode::Stack:
          g.if_then(recorded, [&] {
            Value* dst = B.CreateInBoundsGEP(B.getInt8Ty(), g.buf_ptr(o.out), B.CreateMul(row, g.i64(bytes)));
            memmove(dst, g.buf_ptr(o.value), g.i64(bytes));
          }, "stack");
          break;
        case RecordMode::Sink:
          g.if_then(recorded, [&] {
            Value* n = B.CreateLoad(g.i64t, filled[u]);
            Value* dst = B.CreateInBoundsGEP(B.getInt8Ty(), chunk_of(slot[u]), B.CreateMul(n, g.i64(bytes)));
            memmove(dst, g.buf_ptr(o.value), g.i64(bytes));
            B.CreateStore(B.CreateAdd(n, g.i64(1)), filled[u]);
            g.if_then(B.CreateICmpEQ(B.CreateAdd(n, g.i64(1)), g.field(kChunkRows)), [&] { flush_rows(y); }, "full");
          }, "sink");
          break;
        case RecordMode::Events: {
          Value* b = g.buf_ptr(o.value);
          g.loop(g.i64(0), g.i64(v.elements()), [&](Value* i) {
            Value* x = B.CreateLoad(B.getInt8Ty(), B.CreateInBoundsGEP(B.getInt8Ty(), b, i));
            g.if_then(B.CreateICmpNE(x, B.getInt8(0)), [&] {
              Value* n = B.CreateLoad(g.i64t, filled[u]);
              Value* buf = B.CreateBitCast(chunk_of(slot[u]), PointerType::getUnqual(g.i64t));
              B.CreateStore(i, B.CreateInBoundsGEP(g.i64t, buf, B.CreateMul(n, g.i64(2))));
              B.CreateStore(k, B.CreateInBoundsGEP(g.i64t, buf, B.CreateAdd(B.CreateMul(n, g.i64(2)), g.i64(1))));
              B.CreateStore(B.CreateAdd(n, g.i64(1)), filled[u]);
              B.CreateStore(B.CreateAdd(B.CreateLoad(g.i64t, sent[u]), g.i64(1)), sent[u]);
              g.if_then(B.CreateICmpEQ(B.CreateAdd(n, g.i64(1)), g.field(kEventChunk)), [&] { flush_events(y); }, "full");
            }, "ev");
          }, "evi");
          break;
        }
      }
    }
  };

  int64_t every_pct = std::max<int64_t>(1, r.length / 100);
  g.loop(g.i64(0), g.i64(r.length), [&](Value* k) {
    g.serial([&] { B.CreateStore(k, scan_k); });
    g.set_rows(r, k);
    steps(r.body);
    bool thread0_work = nys > 0 || r.top;
    g.sync();
    if (thread0_work) {
      g.serial([&] {
        record(k);
        if (r.top) {
          Value* k1 = B.CreateAdd(k, g.i64(1));
          g.if_then(B.CreateICmpEQ(B.CreateURem(k1, g.i64(every_pct)), g.i64(0)), [&] {
            Value* fp = g.field(kProgress);
            auto* ft = cast<FunctionType>(fp->getType()->getPointerElementType());
            B.CreateCall(ft, fp, {g.field(kCtx), g.i32(region), k1, g.i64(r.length)});
          }, "progress");
        }
      });
      g.sync();  // the recorded values may be overwritten by the next step
    }
    for (const ScanCarry& c : r.carries) {
      if (c.next < 0) continue;
      Value* a = g.buf_ptr(c.state);
      Value* b = g.buf_ptr(c.next);
      B.CreateStore(b, g.slots[static_cast<size_t>(c.state)]);
      B.CreateStore(a, g.slots[static_cast<size_t>(c.next)]);
    }
  }, "k");
  g.serial([&] {
    for (int64_t y = 0; y < nys; ++y) {
      const ScanOutput& o = r.ys[static_cast<size_t>(y)];
      if (o.mode == RecordMode::Stack) continue;
      if (o.mode == RecordMode::Sink) flush_rows(y);
      if (o.mode == RecordMode::Events) flush_events(y);
      B.CreateStore(B.CreateLoad(g.i64t, sent[static_cast<size_t>(y)]), g.typed(g.buf_ptr(o.out), DType::i64));
    }
  });
  g.sync();
  g.region_stack.pop_back();
}

void StepGen::steps(const std::vector<Step>& ss) {
  for (const Step& s : ss) {
    switch (s.kind) {
      case StepKind::Kernel: kernel(s.kernel); break;
      case StepKind::Matmul: matmul(s.matmul); break;
      case StepKind::Copy: copy(s.copy); break;
      case StepKind::Segments: segments(s.segments); break;
      case StepKind::Scan: scan(s.scan); break;
    }
  }
}

// Row views of the xs buffers at step k (this thread's table).
void Gen::set_rows(const ScanRegion& r, Value* k) {
  for (const ScanXs& x : r.xs) {
    int64_t bytes = P.buffers[static_cast<size_t>(x.row)].bytes();
    Value* p = B.CreateInBoundsGEP(B.getInt8Ty(), buf_ptr(x.xs), B.CreateMul(k, i64(bytes)));
    B.CreateStore(p, slots[static_cast<size_t>(x.row)]);
  }
}

// ---- the module ------------------------------------------------------------------------------

void Gen::run(const std::string& entry) {
  Type* vt = B.getVoidTy();
  FunctionType* outlined = FunctionType::get(vt, {i8p}, false);
  f_parallel = Function::Create(FunctionType::get(vt, {PointerType::getUnqual(outlined), i8p, i32t, i32t}, false),
                                Function::ExternalLinkage, "GOMP_parallel", M);
  f_thread_num = Function::Create(FunctionType::get(i32t, false), Function::ExternalLinkage, "omp_get_thread_num", M);
  f_num_threads = Function::Create(FunctionType::get(i32t, false), Function::ExternalLinkage, "omp_get_num_threads", M);

  // The parallel region's function: every thread runs the whole program.
  body_fn = Function::Create(outlined, Function::InternalLinkage, entry + ".body", M);
  B.SetInsertPoint(BasicBlock::Create(C, "entry", body_fn));
  args = B.CreateBitCast(&*body_fn->arg_begin(), PointerType::getUnqual(args_type));
  tid = B.CreateCall(f_thread_num);
  nthreads = B.CreateCall(f_num_threads);
  exit_bb = BasicBlock::Create(C, "exit", body_fn);
  // This thread's buffer table.
  Value* table = g_table();
  (void)table;
  StepGen(*this).steps(P.steps);
  sync();
  B.CreateBr(exit_bb);

  // Exit: thread 0 leaves its table (where the swapped carries ended) in args->buffers; MXCSR back.
  B.SetInsertPoint(exit_bb);
  serial([&] {
    Value* out = field(kBuffers);
    for (size_t i = 0; i < P.buffers.size(); ++i)
      if (P.buffers[i].role == BufferRole::State)
        B.CreateStore(B.CreateLoad(i8p, slots[i]), B.CreateInBoundsGEP(i8p, out, i64(static_cast<int64_t>(i))));
  });
  ftz_exit();
  B.CreateRetVoid();

  // The entry: the parallel region over args->threads threads.
  Function* e = Function::Create(FunctionType::get(vt, {PointerType::getUnqual(args_type)}, false),
                                 Function::ExternalLinkage, entry, M);
  B.SetInsertPoint(BasicBlock::Create(C, "entry", e));
  args = &*e->arg_begin();
  Value* threads = field(kThreads);
  B.CreateCall(runtime("sf_cpu_rt_begin"), {args, i32(static_cast<int32_t>(L.slots.size())), threads});
  B.CreateCall(f_parallel, {body_fn, B.CreateBitCast(args, i8p), threads, i32(0)});
  B.CreateCall(runtime("sf_cpu_rt_end"), {args});
  B.CreateRetVoid();

  std::string err;
  raw_string_ostream os(err);
  if (verifyModule(M, &os)) internal_error("cpu codegen produced an invalid module: {}", os.str());
}

// Loads the buffer table into this thread's slots (allocas: promoted to registers by the optimiser)
// and turns on flush-to-zero when asked.
Value* Gen::g_table() {
  slots.assign(P.buffers.size(), nullptr);
  Value* in = field(kBuffers);
  for (size_t i = 0; i < P.buffers.size(); ++i) {
    slots[i] = B.CreateAlloca(i8p, nullptr, Twine("b") + Twine(i));
    if (P.buffers[i].role != BufferRole::Row)
      B.CreateStore(B.CreateLoad(i8p, B.CreateInBoundsGEP(i8p, in, i64(static_cast<int64_t>(i)))), slots[i]);
    else
      B.CreateStore(ConstantPointerNull::get(cast<PointerType>(i8p)), slots[i]);
  }
  mxcsr = B.CreateAlloca(i32t, nullptr, "mxcsr");
  Value* m8 = B.CreateBitCast(mxcsr, i8p);
  B.CreateCall(Intrinsic::getDeclaration(&M, Intrinsic::x86_sse_stmxcsr), {m8});
  if_then(B.CreateICmpNE(field(kFtz), i32(0)), [&] {
    Value* tmp = B.CreateAlloca(i32t);
    B.CreateStore(B.CreateOr(B.CreateLoad(i32t, mxcsr), i32(0x8040)), tmp);  // FTZ (bit 15) | DAZ (bit 6)
    B.CreateCall(Intrinsic::getDeclaration(&M, Intrinsic::x86_sse_ldmxcsr), {B.CreateBitCast(tmp, i8p)});
  }, "ftz");
  return in;
}

void Gen::ftz_exit() {
  B.CreateCall(Intrinsic::getDeclaration(&M, Intrinsic::x86_sse_ldmxcsr), {B.CreateBitCast(mxcsr, i8p)});
}

namespace {
// Kernels with a requested vector width (kernel_gen.cpp) make the vectoriser print a remark to
// stderr when it cannot vectorise their loop (a call without a vector variant, a check's branch);
// that is expected and the loop stays scalar, so remarks are dropped.
struct DropRemarks : DiagnosticHandler {
  bool handleDiagnostics(const DiagnosticInfo& d) override { return d.getSeverity() == DS_Remark; }
};
}  // namespace

std::unique_ptr<Module> generate(const KernelProgram& p, const CodegenOptions& o, LLVMContext& ctx,
                                 const std::string& entry, Layout& layout) {
  ctx.setDiagnosticHandler(std::make_unique<DropRemarks>());
  auto m = std::make_unique<Module>(entry, ctx);
  Gen g(p, o, ctx, *m, layout);
  g.run(entry);
  return m;
}

}  // namespace sf::cpu
