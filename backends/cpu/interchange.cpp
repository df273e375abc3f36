// Elementwise scans with the time loop inside the element loop. When every kernel of a scan's body
// is a Map over the same n elements that reads and writes the scan's state only at its own element
// o, element i's trajectory depends on element i alone: each thread takes its static share of
// blocks of kBlock elements and integrates each block through a block of steps (a "time block")
// before moving on, so a block's state stays in L1 and no barrier is needed between steps.
//
//   - Recording writes only the requested rows, straight to their destination: a per-step value
//     the body writes at any index (a concatenation of states) is redirected to its row of the
//     stacked output or the sink chunk on recorded steps; a value that is itself state is copied
//     block by block. Sink outputs make the time block chunk_rows*every steps, so the chunk is full
//     when every thread is done with the block, and memory stays bounded.
//   - Events go to per-thread buffers (runtime.h), merged into step order at each time block's end.
//   - Scalar carries that every element's code updates the same way (a step counter: a once-store
//     of a value that depends on no element) are kept per thread, restored at each element
//     block's start; thread 0 writes the final value back.
//   - Double-buffered carries swap pointers every step; every element block starts from the
//     time block's configuration (the parity of the steps done).
#include <set>

#include "backends/cpu/gen.h"
#include "graph/error.h"

namespace sf::cpu {

using namespace llvm;
using llvm::Type;

namespace {

constexpr int64_t kEventSteps = 1024;  // time block of scans that record events but no sink rows

enum class How { Redirect, Copy, Events, Plain };

struct Plan {
  int64_t n = 0;
  std::vector<const Kernel*> kernels;
  std::set<int> uniform;      // per-thread scalar carries
  std::vector<How> ys;        // per recorded output
  std::vector<std::pair<int, int>> pairs;  // double-buffered carries (state, next)
};

bool index_is_o(const std::vector<Inst>& is, int a) {
  return a >= 0 && is[static_cast<size_t>(a)].kind == InstKind::Index;
}

// The plan, or false when the scan does not have the shape above.
bool make_plan(const Gen& g, const KernelProgram& P, const ScanRegion& r, Plan& plan) {
  if (r.cls != "elementwise" || r.body.empty() || r.length < 1) return false;
  for (const Step& s : r.body) {
    if (s.kind != StepKind::Kernel || s.kernel.kind != KernelKind::Map || s.kernel.n < 1) return false;
    if (plan.n == 0) plan.n = s.kernel.n;
    if (s.kernel.n != plan.n) return false;
    plan.kernels.push_back(&s.kernel);
  }
  std::map<int, int> partner;
  for (const ScanCarry& c : r.carries)
    if (c.next >= 0) partner[c.state] = c.next, partner[c.next] = c.state, plan.pairs.push_back({c.state, c.next});
  std::set<int> written, read_any, values;
  for (const ScanOutput& o : r.ys) values.insert(o.value);
  // Scalar buffers written only by once-stores of element-independent values, read only as buf[0].
  std::set<int> scalar_ok, elementwise_ok;
  for (const Kernel* k : plan.kernels) {
    std::vector<bool> u = uniform_insts(k->body);
    for (size_t i = 0; i < k->body.size(); ++i) {
      const Inst& in = k->body[i];
      if (in.kind == InstKind::Check) return false;  // errors would need the executor's (step, element) order
      if (in.kind != InstKind::Load && in.kind != InstKind::Store) continue;
      if (in.kind == InstKind::Store) written.insert(in.buf);
      else read_any.insert(in.buf);
    }
  }
  // Blocks touch their own elements of every buffer; two buffers sharing memory (the memory plan
  // reuses space) would let one block's bytes be another's.
  std::set<int> touched = written;
  touched.insert(read_any.begin(), read_any.end());
  for (int b : touched)
    for (int c : touched)
      if (b != c && g.may_overlap(b, c)) return false;
  std::set<int> state = written;  // what the steps change, with the other buffer of each carry
  for (int b : written)
    if (partner.count(b)) state.insert(partner[b]);
  for (int b : state) {
    bool scalar = P.buffers[static_cast<size_t>(b)].elements() == 1, at_o = true, once_uniform = true;
    for (const Kernel* k : plan.kernels) {
      std::vector<bool> u = uniform_insts(k->body);
      for (const Inst& in : k->body) {
        if ((in.kind != InstKind::Load && in.kind != InstKind::Store) || in.buf != b) continue;
        if (!index_is_o(k->body, in.a)) at_o = false;
        if (in.a >= 0) once_uniform = false;
        if (in.kind == InstKind::Store && !u[static_cast<size_t>(in.b)]) once_uniform = false;
      }
    }
    bool redirect = values.count(b) && !read_any.count(b) && !partner.count(b);
    if (scalar && once_uniform && !values.count(b)) plan.uniform.insert(b);
    else if (!at_o && !redirect) return false;
  }
  for (int b : plan.uniform)
    if (partner.count(b) && !plan.uniform.count(partner[b])) return false;
  for (const ScanOutput& o : r.ys) {
    const Buffer& v = P.buffers[static_cast<size_t>(o.value)];
    bool is_state = state.count(o.value) > 0;
    if (o.mode == RecordMode::Events) {
      if (!is_state || v.elements() != plan.n || read_any.count(o.value)) return false;
      plan.ys.push_back(How::Events);
    } else if (is_state && !read_any.count(o.value) && !partner.count(o.value) &&
               std::count_if(r.ys.begin(), r.ys.end(), [&](const ScanOutput& x) { return x.value == o.value; }) == 1) {
      plan.ys.push_back(How::Redirect);
    } else if (is_state && v.elements() == plan.n) {
      plan.ys.push_back(How::Copy);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

bool Gen::can_interchange(const ScanRegion& r) const {
  Plan plan;
  return make_plan(*this, P, r, plan);
}

void Gen::interchanged_scan(const ScanRegion& r, int region) {
  Plan plan;
  make_plan(*this, P, r, plan);
  ++L.interchanged;
  inline_exp = plan.n * r.length >= opt.inline_exp_work;
  const int64_t kBlock = opt.block;  // a multiple of the vector width; a block's state fits in L1
  const int64_t n = plan.n, nblocks = (n + kBlock - 1) / kBlock;
  if (nblocks > 1 && !solo) L.parallel = true;
  auto buf = [&](int b) -> const Buffer& { return P.buffers[static_cast<size_t>(b)]; };
  auto slot_of = [&](int b) { return slots[static_cast<size_t>(b)]; };

  // Output slots of streamed outputs.
  std::vector<int> slot(r.ys.size(), -1);
  bool sink = false, events = false;
  for (size_t y = 0; y < r.ys.size(); ++y)
    if (r.ys[y].mode != RecordMode::Stack) {
      L.slots.push_back(SlotInfo{region, static_cast<int64_t>(y), r.ys[y].value, r.ys[y].mode, r.length, r.every});
      slot[y] = static_cast<int>(L.slots.size()) - 1;
      (r.ys[y].mode == RecordMode::Sink ? sink : events) = true;
    }
  auto chunk_of = [&](int s) {
    return B.CreateLoad(i8p, B.CreateInBoundsGEP(i8p, field(kSinkChunks), i64(s)));
  };

  // This thread's elements [lo, hi): an equal share rounded up to whole vectors of 8, so threads
  // differ by at most 8 elements (whole blocks per thread had left thread 0 a block ahead: 40
  // against 39 at 10^4 elements), cut into blocks of kBlock.
  Value* nt = B.CreateSExt(nthreads, i64t);
  Value* t = B.CreateSExt(tid, i64t);
  auto share = [&](Value* th) {  // min(n, round_up_8(ceil(n * th / nt))): thread 0 owns element 0
    Value* x = B.CreateUDiv(B.CreateAdd(B.CreateMul(i64(n), th), B.CreateSub(nt, i64(1))), nt);
    x = B.CreateAnd(B.CreateAdd(x, i64(7)), i64(~int64_t{7}));
    return B.CreateSelect(B.CreateICmpSLT(x, i64(n)), x, i64(n));
  };
  Value* lo = share(t);
  Value* hi = share(B.CreateAdd(t, i64(1)));
  Value* my_blocks = B.CreateUDiv(B.CreateAdd(B.CreateSub(hi, lo), i64(kBlock - 1)), i64(kBlock));

  // The configuration at the region's start: pointers of every carry pair and of the recorded
  // values (redirected per step); per-thread copies of the scalar carries.
  std::map<int, Value*> start;
  for (auto [s, x] : plan.pairs) start[s] = buf_ptr(s), start[x] = buf_ptr(x);
  for (int b : plan.uniform) {
    if (!start.count(b)) start[b] = buf_ptr(b);
  }
  std::map<int, Value*> priv, snap;  // scalar carries: this thread's copy, and its value at the time block's start
  for (int b : plan.uniform) {
    Type* at = ArrayType::get(B.getInt64Ty(), 1);
    priv[b] = B.CreateBitCast(entry_alloca(at, "priv"), i8p);
    snap[b] = B.CreateBitCast(entry_alloca(at, "snap"), i8p);
    B.CreateMemCpy(snap[b], MaybeAlign(1), start[b], MaybeAlign(1), i64(buf(b).bytes()));
  }
  std::map<int, Value*> value_home;
  for (size_t y = 0; y < r.ys.size(); ++y) value_home[r.ys[y].value] = buf_ptr(r.ys[y].value);

  // Sets the pointer table to the configuration after `done` steps (private copies for scalar carries).
  auto configure = [&](Value* done) {
    Value* odd = B.CreateICmpEQ(B.CreateAnd(done, i64(1)), i64(1));
    auto home = [&](int b) { return plan.uniform.count(b) ? priv[b] : start[b]; };
    for (auto [s, x] : plan.pairs) {
      B.CreateStore(B.CreateSelect(odd, home(x), home(s)), slot_of(s));
      B.CreateStore(B.CreateSelect(odd, home(s), home(x)), slot_of(x));
    }
    for (int b : plan.uniform)
      if (!std::any_of(plan.pairs.begin(), plan.pairs.end(), [&](auto p) { return p.first == b || p.second == b; }))
        B.CreateStore(priv[b], slot_of(b));
  };
  // Private scalar carries hold two cells per pair; keep them apart.
  for (auto [s, x] : plan.pairs)
    if (plan.uniform.count(s)) B.CreateMemCpy(snap[x], MaybeAlign(1), start[x], MaybeAlign(1), i64(buf(x).bytes()));

  // Time block: a sink chunk's worth of steps, or kEventSteps with events, or the whole scan.
  Value* tb;
  if (sink) tb = B.CreateMul(field(kChunkRows), i64(r.every));
  else if (events) tb = i64(kEventSteps);
  else tb = i64(r.length);
  Value* scan_k = B.CreateInBoundsGEP(i64t, field(kScanK), i64(region));
  AllocaInst* sent = entry_alloca(i64t, "rows_sent");
  B.CreateStore(i64(0), sent);
  int64_t every_pct = std::max<int64_t>(1, r.length / 100);

  // for (k0 = 0; k0 < length; k0 += tb)
  Function* f = B.GetInsertBlock()->getParent();
  BasicBlock* pre = B.GetInsertBlock();
  BasicBlock* head = BasicBlock::Create(C, "tb.head", f);
  BasicBlock* body = BasicBlock::Create(C, "tb.body", f);
  BasicBlock* out = BasicBlock::Create(C, "tb.end", f);
  B.CreateBr(head);
  B.SetInsertPoint(head);
  PHINode* k0 = B.CreatePHI(i64t, 2, "k0");
  k0->addIncoming(i64(0), pre);
  B.CreateCondBr(B.CreateICmpSLT(k0, i64(r.length)), body, out);
  B.SetInsertPoint(body);
  Value* k1 = B.CreateAdd(k0, tb);
  k1 = B.CreateSelect(B.CreateICmpSLT(k1, i64(r.length)), k1, i64(r.length));
  Value* row0 = B.CreateUDiv(k0, i64(r.every));  // rows recorded before this time block

  loop(i64(0), my_blocks, [&](Value* blk) {
    Value* b = B.CreateAdd(lo, B.CreateMul(blk, i64(kBlock)));
    Value* e = B.CreateAdd(b, i64(kBlock));
    e = B.CreateSelect(B.CreateICmpSLT(e, hi), e, hi);
    for (int u : plan.uniform) B.CreateMemCpy(priv[u], MaybeAlign(1), snap[u], MaybeAlign(1), i64(buf(u).bytes()));
    configure(k0);
    loop(k0, k1, [&](Value* k) {
      set_rows(r, k);
      Value* kp1 = B.CreateAdd(k, i64(1));
      Value* recorded = B.CreateICmpEQ(B.CreateURem(kp1, i64(r.every)), i64(0));
      Value* row = B.CreateSub(B.CreateUDiv(kp1, i64(r.every)), i64(1));
      // Where row `row` of output y goes.
      auto dest = [&](size_t y) -> Value* {
        int64_t bytes = buf(r.ys[y].value).bytes();
        if (r.ys[y].mode == RecordMode::Stack)
          return B.CreateInBoundsGEP(B.getInt8Ty(), buf_ptr(r.ys[y].out), B.CreateMul(row, i64(bytes)));
        return B.CreateInBoundsGEP(B.getInt8Ty(), chunk_of(slot[y]), B.CreateMul(B.CreateSub(row, row0), i64(bytes)));
      };
      for (size_t y = 0; y < r.ys.size(); ++y)
        if (plan.ys[y] == How::Redirect)
          B.CreateStore(B.CreateSelect(recorded, dest(y), value_home[r.ys[y].value]), slot_of(r.ys[y].value));
      for (const Kernel* kn : plan.kernels) call_kernel(*kn, b, e, /*once_per_call=*/true);
      for (size_t y = 0; y < r.ys.size(); ++y) {
        const Buffer& v = buf(r.ys[y].value);
        int64_t es = dtype_size(v.dtype);
        if (plan.ys[y] == How::Copy) {
          if_then(recorded, [&] {
            Value* d = B.CreateInBoundsGEP(B.getInt8Ty(), dest(y), B.CreateMul(b, i64(es)));
            Value* s = B.CreateInBoundsGEP(B.getInt8Ty(), buf_ptr(r.ys[y].value), B.CreateMul(b, i64(es)));
            B.CreateMemCpy(d, MaybeAlign(1), s, MaybeAlign(1), B.CreateMul(B.CreateSub(e, b), i64(es)));
          }, "copy");
        } else if (plan.ys[y] == How::Events) {
          Value* flags = buf_ptr(r.ys[y].value);
          loop(b, e, [&](Value* i) {
            Value* x = B.CreateLoad(B.getInt8Ty(), B.CreateInBoundsGEP(B.getInt8Ty(), flags, i));
            if_then(B.CreateICmpNE(x, B.getInt8(0)), [&] {
              B.CreateCall(runtime("sf_cpu_event_push"), {args, i32(slot[y]), tid, i, k});
            }, "spike");
          }, "ev");
        }
      }
      for (auto [s, x] : plan.pairs) {  // swap
        Value* ps = buf_ptr(s);
        Value* px = buf_ptr(x);
        B.CreateStore(px, slot_of(s));
        B.CreateStore(ps, slot_of(x));
      }
    }, "k");
  }, "blk");
  // The scalar carries after the time block (the same in every block). Threads without elements
  // keep a stale copy: only thread 0, which owns element 0, writes them back.
  if (!plan.uniform.empty())
    if_then(B.CreateICmpSLT(lo, hi), [&] {
      for (int u : plan.uniform) B.CreateMemCpy(snap[u], MaybeAlign(1), priv[u], MaybeAlign(1), i64(buf(u).bytes()));
    }, "advance");
  barrier();
  // Thread 0 makes the sink calls of the time block in the executor's order: per step, per output.
  serial([&] {
    for (size_t y = 0; y < r.ys.size(); ++y)
      if (plan.ys[y] == How::Events) B.CreateCall(runtime("sf_cpu_event_merge"), {args, i32(slot[y])});
    loop(k0, k1, [&](Value* k) {
      B.CreateStore(k, scan_k);
      Value* kp1 = B.CreateAdd(k, i64(1));
      for (size_t y = 0; y < r.ys.size(); ++y) {
        if (r.ys[y].mode == RecordMode::Events) {
          B.CreateCall(runtime("sf_cpu_event_emit"), {args, i32(slot[y]), k});
        } else if (r.ys[y].mode == RecordMode::Sink) {
          // The chunk is full after the time block's last step when it holds chunk_rows rows.
          Value* rows = B.CreateSub(B.CreateUDiv(k1, i64(r.every)), row0);
          Value* full = B.CreateAnd(B.CreateICmpEQ(kp1, k1), B.CreateICmpEQ(rows, field(kChunkRows)));
          if_then(full, [&] {
            Value* fp = field(kRows);
            auto* ft = cast<FunctionType>(fp->getType()->getPointerElementType());
            Value* s = B.CreateLoad(i64t, sent);
            B.CreateCall(ft, fp, {field(kCtx), i32(slot[y]), chunk_of(slot[y]), rows, s});
          }, "flush");
        }
      }
      if (r.top)
        if_then(B.CreateICmpEQ(B.CreateURem(kp1, i64(every_pct)), i64(0)), [&] {
          Value* fp = field(kProgress);
          auto* ft = cast<FunctionType>(fp->getType()->getPointerElementType());
          B.CreateCall(ft, fp, {field(kCtx), i32(region), kp1, i64(r.length)});
        }, "progress");
    }, "emit");
    if (sink) {  // rows handed on (full chunks only; the partial last one is flushed below)
      Value* rows = B.CreateSub(B.CreateUDiv(k1, i64(r.every)), row0);
      Value* full = B.CreateICmpEQ(rows, field(kChunkRows));
      Value* s = B.CreateLoad(i64t, sent);
      B.CreateStore(B.CreateSelect(full, B.CreateAdd(s, rows), s), sent);
    }
  });
  barrier();
  Value* next_k0 = k1;
  k0->addIncoming(next_k0, B.GetInsertBlock());
  B.CreateBr(head);
  B.SetInsertPoint(out);

  // The end: the partial last chunk, counts, the final pointer configuration and scalar carries.
  serial([&] {
    for (size_t y = 0; y < r.ys.size(); ++y) {
      const ScanOutput& o = r.ys[y];
      if (o.mode == RecordMode::Stack) continue;
      Value* count;
      if (o.mode == RecordMode::Events) {
        count = B.CreateCall(runtime("sf_cpu_event_finish"), {args, i32(slot[y])});
      } else {
        Value* total = i64(r.length / r.every);
        Value* s = B.CreateLoad(i64t, sent);
        Value* rest = B.CreateSub(total, s);
        if_then(B.CreateICmpSGT(rest, i64(0)), [&] {
          Value* fp = field(kRows);
          auto* ft = cast<FunctionType>(fp->getType()->getPointerElementType());
          B.CreateCall(ft, fp, {field(kCtx), i32(slot[y]), chunk_of(slot[y]), rest, s});
        }, "last");
        count = total;
      }
      B.CreateStore(count, typed(buf_ptr(o.out), DType::i64));
    }
  });
  // Every thread: the pointers after `length` steps (shared buffers); thread 0 copies the scalar
  // carries' final cells into them.
  Value* odd = B.getInt1(r.length % 2 == 1);
  for (auto [s, x] : plan.pairs) {
    B.CreateStore(B.CreateSelect(odd, start[x], start[s]), slot_of(s));
    B.CreateStore(B.CreateSelect(odd, start[s], start[x]), slot_of(x));
  }
  for (int u : plan.uniform) {
    bool paired = std::any_of(plan.pairs.begin(), plan.pairs.end(), [&](auto p) { return p.first == u || p.second == u; });
    if (!paired) B.CreateStore(start[u], slot_of(u));
  }
  serial([&] {
    for (int u : plan.uniform) {
      // Private cell of u after `length` steps: priv[u] or its partner's, by parity.
      int other = u;
      for (auto [s, x] : plan.pairs) other = s == u ? x : x == u ? s : other;
      Value* src = B.CreateSelect(odd, snap[other], snap[u]);
      B.CreateMemCpy(buf_ptr(u), MaybeAlign(1), src, MaybeAlign(1), i64(buf(u).bytes()));
    }
  });
  for (size_t y = 0; y < r.ys.size(); ++y) B.CreateStore(value_home[r.ys[y].value], slot_of(r.ys[y].value));
  inline_exp = false;
}

}  // namespace sf::cpu
