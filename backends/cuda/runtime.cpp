// The CUDA Executable: follows compiler/program_executor.cpp step for step, with every buffer in
// device memory. The host keeps the executor's pointer table (arena buffers at their offsets,
// inputs and consts in their own allocations, double-buffered carries swapped after each step) and
// launches ops with their slots resolved from it; scan regions run in time blocks with the region's
// strategy, and top-level regions stream their recordings through the Recorder (recorder.h).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include "backends/cuda/codegen.h"
#include "backends/cuda/cublas.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/device_buffer.h"
#include "backends/cuda/driver.h"
#include "backends/cuda/nvrtc.h"
#include "backends/cuda/recorder.h"
#include "backends/cuda/runtime.h"
#include "compiler/program_executor.h"
#include "graph/error.h"

namespace sf {
namespace cuda {
namespace {

constexpr int kThreads = 256;       // block size of the op wrappers
constexpr int64_t kBlockSteps = 1024;  // steps per time block (launch, graph, persistent)
constexpr int64_t kElementwiseBlockSteps = 8192;

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

class CudaExecutable : public Executable {
 public:
  CudaExecutable(const KernelProgram& p, const BackendOptions& o);
  ~CudaExecutable() override;
  std::vector<Tensor> run(const std::map<std::string, Tensor>& inputs, const RunOptions& options) override;
  std::vector<std::pair<std::string, std::string>> stats() const override;

 private:
  const Buffer& buffer(int b) const { return p_.buffers[static_cast<size_t>(b)]; }
  void bind(const std::map<std::string, Tensor>& inputs);
  void steps(const std::vector<Step>& ss);
  void launch_op(const DevOp& op);
  CUdeviceptr resolve(const Slot& s, const std::vector<CUdeviceptr>& ptr) const;
  CUdeviceptr actual(int b) const;  // where buffer b is now (a row: its xs at the current step)
  HostCtx ctx() const;
  void launch(CUfunction f, int64_t blocks, int threads, void** params, bool cooperative = false);
  void region(const ScanRegion& r);
  void swap_carries(const ScanRegion& r, std::vector<CUdeviceptr>& ptr) const;
  void block(const Region& reg, int64_t k0, int64_t k1, Recorder* rec);
  void upload_table(const Region& reg, int id);
  void capture_graphs(const Region& reg, int id);
  void set_dev(const Region& reg, int64_t k0, Recorder* rec);
  void throw_error(const HostErr& e) const;
  void check_error();
  CUfunction fn(const std::string& name);

  const KernelProgram& p_;
  BackendOptions opt_;
  const Driver& d_;
  const Device& dev_;
  CudaCode code_;
  CompiledModule compiled_;
  CUmodule module_ = nullptr;
  CUstream stream_ = nullptr;
  std::map<std::string, CUfunction> fns_;
  const RunOptions* run_ = nullptr;

  DeviceBuffer arena_, err_, devs_;
  std::vector<DeviceBuffer> owned_;      // per buffer: consts and inputs
  std::vector<CUdeviceptr> ptr_;         // the executor's pointer table
  std::vector<int64_t> k_;               // the step of each nesting depth
  std::vector<DeviceBuffer> tables_;     // per region: its kernel's slot table (two parities)
  std::vector<DeviceBuffer> scratch_;    // per region: the elementwise kernel's Scalar results
  std::vector<std::array<CUgraphExec, 2>> graphs_;
  std::map<const ScanRegion*, Recorder*> recorders_;  // top-level regions being run
  Cublas* cublas_ = nullptr;
  double nvrtc_ms_ = 0, load_ms_ = 0, run_ms_ = 0;
  int64_t launches_ = 0;
  int active_ = 0;  // scan regions being run
};

CudaExecutable::CudaExecutable(const KernelProgram& p, const BackendOptions& o)
    : p_(p), opt_(o), d_(driver()), dev_(device()) {
  auto t0 = Clock::now();
  cublas_ = Cublas::get();
  CodegenOptions co;
  co.strategy = o.scan_strategy;
  co.cooperative = dev_.cooperative;
  co.cublas = cublas_ != nullptr;
  code_ = generate_cuda(p, co);
  compiled_ = compile_cuda(code_.source, dev_.arch(), p.name + ".cu");
  nvrtc_ms_ = compiled_.ms;
  check(d_.cuModuleLoadData(&module_, compiled_.image.c_str()), "cuModuleLoadData");
  check(d_.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  arena_.reset(p.plan.peak_bytes + 64);
  err_.reset(sizeof(HostErr));
  devs_.reset(sizeof(HostDev));
  owned_.resize(p.buffers.size());
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    const Buffer& b = p.buffers[i];
    if (b.role == BufferRole::Const) owned_[i].upload(b.value->raw(), b.value->bytes());
    if (b.role == BufferRole::Input) owned_[i].reset(b.bytes());
  }
  tables_.resize(code_.regions.size());
  scratch_.resize(code_.regions.size());
  for (size_t i = 0; i < code_.regions.size(); ++i)
    if (!code_.regions[i].scalars.empty()) scratch_[i].reset(static_cast<int64_t>(8 * code_.regions[i].scalars.size()));
  graphs_.assign(code_.regions.size(), {nullptr, nullptr});
  load_ms_ = ms_since(t0);
}

CudaExecutable::~CudaExecutable() {
  if (stream_) d_.cuStreamSynchronize(stream_);  // nothing in flight uses what is freed
  for (auto& g : graphs_)
    for (CUgraphExec e : g)
      if (e) d_.cuGraphExecDestroy(e);
  if (stream_) d_.cuStreamDestroy(stream_);
  if (module_) d_.cuModuleUnload(module_);
}

CUfunction CudaExecutable::fn(const std::string& name) {
  auto it = fns_.find(name);
  if (it != fns_.end()) return it->second;
  CUfunction f = nullptr;
  check(d_.cuModuleGetFunction(&f, module_, name.c_str()), "cuModuleGetFunction");
  return fns_[name] = f;
}

// ---- binding, as the reference executor ------------------------------------------------------

void CudaExecutable::bind(const std::map<std::string, Tensor>& inputs) {
  std::vector<const void*> data = bind_inputs(p_, inputs);
  for (int i : p_.inputs)
    owned_[static_cast<size_t>(i)].write(data[static_cast<size_t>(i)], buffer(i).bytes(), stream_);
}

// ---- ops -------------------------------------------------------------------------------------

CUdeviceptr CudaExecutable::resolve(const Slot& s, const std::vector<CUdeviceptr>& ptr) const {
  if (s.scratch_region >= 0) return scratch_[static_cast<size_t>(s.scratch_region)].ptr();
  if (s.ring_region >= 0) {
    const ScanRegion* r = code_.regions[static_cast<size_t>(s.ring_region)].scan;
    auto it = recorders_.find(r);
    if (it == recorders_.end()) internal_error("cuda: ring of {} asked outside its run", r->label);
    return it->second->ring(s.ring_y);
  }
  int xs = code_.row_xs[static_cast<size_t>(s.buf)];
  return ptr[static_cast<size_t>(xs >= 0 ? xs : s.buf)];  // a row: its xs (the op adds the row offset)
}

CUdeviceptr CudaExecutable::actual(int b) const {
  int xs = code_.row_xs[static_cast<size_t>(b)];
  if (xs < 0) return ptr_[static_cast<size_t>(b)];
  const Buffer& row = buffer(b);
  int depth = code_.regions[static_cast<size_t>(code_.row_region[static_cast<size_t>(b)])].depth;
  return actual(xs) + static_cast<CUdeviceptr>(k_.at(static_cast<size_t>(depth)) * row.bytes());
}

HostCtx CudaExecutable::ctx() const {
  HostCtx c{};
  for (size_t d = 0; d < k_.size() && d < 8; ++d) c.k[d] = k_[d];
  c.dev = devs_.ptr();
  c.err = err_.ptr();
  c.ev = 0;
  c.nev = 0;
  for (auto& [r, rec] : recorders_) c.ev = rec->events_base(), c.nev = rec->events_count();
  return c;
}

void CudaExecutable::launch(CUfunction f, int64_t blocks, int threads, void** params, bool cooperative) {
  unsigned g = static_cast<unsigned>(std::max<int64_t>(1, blocks));
  if (cooperative)
    check(d_.cuLaunchCooperativeKernel(f, g, 1, 1, static_cast<unsigned>(threads), 1, 1, 0, stream_, params),
          "cuLaunchCooperativeKernel");
  else
    check(d_.cuLaunchKernel(f, g, 1, 1, static_cast<unsigned>(threads), 1, 1, 0, stream_, params, nullptr), "cuLaunchKernel");
  ++launches_;
}

void CudaExecutable::launch_op(const DevOp& op) {
  if (op.n == 0) return;
  if (op.cublas) {
    const MatmulStep& m = op.step->matmul;
    cublas_->gemm(buffer(m.out).dtype == DType::f64, stream_, actual(m.a), actual(m.b), actual(m.out), m.m, m.n, m.k);
    ++launches_;
    return;
  }
  std::vector<CUdeviceptr> slots;
  for (const Slot& s : op.slots) slots.push_back(resolve(s, ptr_));
  if (slots.empty()) slots.push_back(0);
  HostCtx c = ctx();
  void* params[] = {slots.data(), &c};
  int64_t blocks = std::min<int64_t>((op.n + kThreads - 1) / kThreads, int64_t{dev_.sms} * 8);
  launch(fn(op.fn), blocks, kThreads, params);
}

void CudaExecutable::steps(const std::vector<Step>& ss) {
  for (const Step& s : ss) {
    if (s.kind == StepKind::Scan) {
      region(s.scan);
      continue;
    }
    launch_op(code_.ops[static_cast<size_t>(code_.op_of_step.at(&s))]);
    if (s.kind == StepKind::Segments && active_ == 0) check_error();  // a bad index stops here, as the reference
  }
}

// ---- scan regions ----------------------------------------------------------------------------

void CudaExecutable::swap_carries(const ScanRegion& r, std::vector<CUdeviceptr>& ptr) const {
  for (const ScanCarry& c : r.carries)
    if (c.next >= 0) std::swap(ptr[static_cast<size_t>(c.state)], ptr[static_cast<size_t>(c.next)]);
}

// The region kernel's slot table: its slots resolved as at even steps, then as at odd steps.
void CudaExecutable::upload_table(const Region& reg, int id) {
  std::vector<CUdeviceptr> t, odd = ptr_;
  swap_carries(*reg.scan, odd);
  for (const auto* ptr : {&ptr_, &odd})
    for (const Slot& s : reg.table) t.push_back(resolve(s, *ptr));
  tables_[static_cast<size_t>(id)].upload(t.data(), static_cast<int64_t>(t.size() * sizeof(CUdeviceptr)), stream_);
}

// One step's launches captured twice (as at even and at odd steps); the step number comes from
// device memory, advanced by the graph's last node.
void CudaExecutable::capture_graphs(const Region& reg, int id) {
  std::vector<CUdeviceptr> saved = ptr_;
  for (int op : reg.body_ops) fn(code_.ops[static_cast<size_t>(op)].fn);  // (no module calls while capturing)
  if (reg.record_op >= 0) fn(code_.ops[static_cast<size_t>(reg.record_op)].fn);
  fn("sf_advance");
  for (int parity = 0; parity < 2; ++parity) {
    CUgraphExec& exec = graphs_[static_cast<size_t>(id)][static_cast<size_t>(parity)];
    if (exec) d_.cuGraphExecDestroy(exec), exec = nullptr;
    check(d_.cuStreamBeginCapture(stream_, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
    for (int op : reg.body_ops) launch_op(code_.ops[static_cast<size_t>(op)]);
    if (reg.record_op >= 0) launch_op(code_.ops[static_cast<size_t>(reg.record_op)]);
    HostCtx c = ctx();
    void* params[] = {&c};
    launch(fn("sf_advance"), 1, 1, params);
    CUgraph graph = nullptr;
    check(d_.cuStreamEndCapture(stream_, &graph), "cuStreamEndCapture");
    check(d_.cuGraphInstantiate(&exec, graph, 0), "cuGraphInstantiate");
    d_.cuGraphDestroy(graph);
    swap_carries(*reg.scan, ptr_);
  }
  ptr_ = saved;
}

// The device-side step, ring size and event half of the top-level region being run (nested
// regions run in launch mode and leave it alone).
void CudaExecutable::set_dev(const Region& reg, int64_t k0, Recorder* rec) {
  if (reg.depth > 0) return;
  HostDev h{};
  h.step = k0;
  h.ring_rows = rec ? rec->ring_rows() : 1;
  h.half = rec ? rec->half() : 0;
  h.use_step = reg.strategy == Strategy::Graph ? 1 : 0;
  check(d_.cuMemcpyHtoDAsync(devs_.ptr(), &h, sizeof h, stream_), "cuMemcpyHtoDAsync");
}

// Steps [k0, k1) of a region with its strategy. The host's pointer table ends as the reference's
// (carries swapped once per step).
void CudaExecutable::block(const Region& reg, int64_t k0, int64_t k1, Recorder* rec) {
  const ScanRegion& r = *reg.scan;
  int id = code_.region_of.at(&r);
  size_t depth = static_cast<size_t>(reg.depth);
  set_dev(reg, k0, rec);
  if (k0 == 0 && !r.prologue.empty()) {  // loop-invariant steps, as at step 0
    k_[depth] = 0;
    steps(r.prologue);
    set_dev(reg, k0, rec);
  }
  switch (reg.strategy) {
    case Strategy::Launch:
      for (int64_t k = k0; k < k1; ++k) {
        k_[depth] = k;
        steps(r.body);
        if (reg.record_op >= 0) launch_op(code_.ops[static_cast<size_t>(reg.record_op)]);
        swap_carries(r, ptr_);
      }
      return;
    case Strategy::Graph:
      for (int64_t k = k0; k < k1; ++k) {
        check(d_.cuGraphLaunch(graphs_[static_cast<size_t>(id)][static_cast<size_t>(k & 1)], stream_), "cuGraphLaunch");
        ++launches_;
      }
      break;
    case Strategy::Persistent:
    case Strategy::Elementwise: {
      CUdeviceptr tab = tables_[static_cast<size_t>(id)].ptr();
      HostCtx c = ctx();
      long long a = k0, b = k1;
      void* params[] = {&tab, &c, &a, &b};
      CUfunction f = fn(reg.fn);
      if (reg.strategy == Strategy::Elementwise) {
        launch(f, (reg.threads + 127) / 128, 128, params);
        // The Scalar carries, from the scratch words to where they are as at step k1.
        std::vector<CUdeviceptr> end = ptr_;
        if ((k1 - k0) % 2) swap_carries(r, end);
        for (size_t j = 0; j < reg.scalars.size(); ++j)
          check(d_.cuMemcpyDtoDAsync(end[static_cast<size_t>(reg.scalars[j])], scratch_[static_cast<size_t>(id)].ptr() + 8 * j,
                                     static_cast<size_t>(dtype_size(buffer(reg.scalars[j]).dtype)), stream_),
                "cuMemcpyDtoDAsync");
      } else if (reg.one_block) {
        launch(f, 1, 1024, params);
      } else {
        int per_sm = 0;
        check(d_.cuOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, f, kThreads, 0), "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        if (per_sm < 1) fail("{}: the persistent kernel does not fit on a multiprocessor", r.label);
        int64_t want = (reg.threads + kThreads - 1) / kThreads;
        launch(f, std::min<int64_t>(want, int64_t{per_sm} * dev_.sms), kThreads, params, /*cooperative=*/true);
      }
      break;
    }
  }
  if ((k1 - k0) % 2) swap_carries(r, ptr_);
}

void CudaExecutable::region(const ScanRegion& r) {
  int id = code_.region_of.at(&r);
  const Region& reg = code_.regions[static_cast<size_t>(id)];
  size_t depth = static_cast<size_t>(reg.depth);
  if (k_.size() <= depth) k_.resize(depth + 1, 0);
  for (const ScanCarry& c : r.carries)
    if (actual(c.state) != actual(c.init))
      check(d_.cuMemcpyDtoDAsync(actual(c.state), actual(c.init), static_cast<size_t>(buffer(c.state).bytes()), stream_),
            "cuMemcpyDtoDAsync");
  if (r.length == 0) return;
  bool streams = r.top && run_->sink && reg.depth == 0;
  int64_t steps_per_block = reg.strategy == Strategy::Elementwise ? kElementwiseBlockSteps : kBlockSteps;
  steps_per_block = std::max<int64_t>(r.every, steps_per_block / r.every * r.every);
  if (!streams && reg.depth > 0) steps_per_block = r.length;
  std::unique_ptr<Recorder> rec;
  if (streams) {
    rec = std::make_unique<Recorder>(p_, r, *run_, steps_per_block, stream_, err_.ptr(), arena_.ptr(),
                                     p_.plan.peak_bytes + 64);
    recorders_[&r] = rec.get();
  }
  struct Active {  // the region is being run: its ring and events are reachable, its depth counted
    CudaExecutable& x;
    const ScanRegion* r;
    ~Active() { x.recorders_.erase(r), --x.active_; }
  } active{*this, &r};
  ++active_;
  // Tables and graphs hold the pointers as at even and at odd steps, taken at step 0.
  if (reg.strategy == Strategy::Persistent || reg.strategy == Strategy::Elementwise) upload_table(reg, id);
  if (reg.strategy == Strategy::Graph) capture_graphs(reg, id);
  if (!rec) {
    for (int64_t k0 = 0; k0 < r.length; k0 += steps_per_block) block(reg, k0, std::min(r.length, k0 + steps_per_block), nullptr);
  } else {
    // Top level, streaming: each block's recordings are copied out while the next block runs.
    rec->run([&](int64_t k0, int64_t k1) { block(reg, k0, k1, rec.get()); }, ptr_,
             [&](const HostErr& e) { throw_error(e); });
  }
  k_[depth] = 0;
}

// ---- errors ----------------------------------------------------------------------------------

// The message the reference executor gives: the check's, wrapped in "label step k: " by every
// enclosing scan, outermost first.
void CudaExecutable::throw_error(const HostErr& e) const {
  const ErrorSite& site = code_.errors.at(static_cast<size_t>(e.id));
  std::string msg = fmt::format("{}: index {} out of range [0, {}) at position {}", site.what, e.value, site.limit, e.pos);
  for (int r = site.region; r >= 0; r = code_.regions[static_cast<size_t>(r)].parent) {
    const Region& reg = code_.regions[static_cast<size_t>(r)];
    msg = fmt::format("{} step {}: {}", reg.scan->label, e.k[reg.depth], msg);
  }
  throw Error(msg);
}

void CudaExecutable::check_error() {
  check(d_.cuStreamSynchronize(stream_), "cuStreamSynchronize");
  HostErr e{};
  err_.read(&e, sizeof e, stream_);
  if (e.flag) throw_error(e);
}

// ---- the run ---------------------------------------------------------------------------------

std::vector<Tensor> CudaExecutable::run(const std::map<std::string, Tensor>& inputs, const RunOptions& options) {
  auto t0 = Clock::now();
  run_ = &options;
  check(d_.cuCtxSetCurrent(dev_.ctx), "cuCtxSetCurrent");
  bind(inputs);
  check_recording(p_, *run_);
  ptr_.assign(p_.buffers.size(), 0);
  k_.clear();
  recorders_.clear();
  check(d_.cuMemsetD8Async(arena_.ptr(), 0, static_cast<size_t>(p_.plan.peak_bytes + 64), stream_), "cuMemsetD8Async");
  check(d_.cuMemsetD8Async(err_.ptr(), 0, sizeof(HostErr), stream_), "cuMemsetD8Async");
  for (size_t i = 0; i < p_.buffers.size(); ++i) {
    const Buffer& b = p_.buffers[i];
    if (b.role == BufferRole::Const || b.role == BufferRole::Input) ptr_[i] = owned_[i].ptr();
    if (!b.in_arena()) continue;
    if (b.offset < 0 || b.offset + b.bytes() > p_.plan.peak_bytes)
      internal_error("cuda: buffer b{} ({}) has no place in the arena", i, b.name);
    ptr_[i] = arena_.ptr() + static_cast<CUdeviceptr>(b.offset);
  }
  steps(p_.steps);
  check_error();
  std::vector<Tensor> results;
  for (int r : p_.results) {
    const Buffer& b = buffer(r);
    Tensor t(b.dtype, b.shape);
    if (t.bytes() > 0)
      check(d_.cuMemcpyDtoHAsync(t.raw(), ptr_[static_cast<size_t>(r)], static_cast<size_t>(t.bytes()), stream_),
            "cuMemcpyDtoHAsync");
    results.push_back(std::move(t));
  }
  check(d_.cuStreamSynchronize(stream_), "cuStreamSynchronize");
  run_ms_ = ms_since(t0);
  return results;
}

std::vector<std::pair<std::string, std::string>> CudaExecutable::stats() const {
  std::vector<std::pair<std::string, std::string>> s = {
      {"device", fmt::format("{} ({}, {} SMs)", dev_.name, dev_.arch(), dev_.sms)},
      {"nvrtc_ms", compiled_.from_memory || compiled_.from_disk ? fmt::format("0 (cached, {})", compiled_.from_disk ? "disk" : "memory")
                                                                 : fmt::format("{:.1f}", nvrtc_ms_)},
      {"load_ms", fmt::format("{:.1f}", load_ms_)},
      {"device_run_ms", fmt::format("{:.3f}", run_ms_)},
      {"launches", fmt::format("{}", launches_)},
  };
  for (size_t i = 0; i < code_.regions.size(); ++i) {
    const Region& r = code_.regions[i];
    s.push_back({fmt::format("scan_strategy {}", r.scan->label), fmt::format("{} ({})", strategy_name(r.strategy), r.why)});
  }
  return s;
}

}  // namespace
}  // namespace cuda

std::unique_ptr<Executable> make_cuda_executable(const KernelProgram& program, const BackendOptions& options) {
  return std::make_unique<cuda::CudaExecutable>(program, options);
}

}  // namespace sf
