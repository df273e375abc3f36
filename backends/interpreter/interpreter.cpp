// The evaluator: prepares each graph once (buffers, kernels, where every value lives), then runs
// it. A scan prepares its body once and re-runs the body's steps at every time step, so a long
// simulation does no allocation after its first step.
//
// Pieces:
//   Frame      - one graph ready to run: a buffer per computed node (shaped by its static type),
//                a pointer per node to its value, and the steps that compute the values, split
//                into the loop-invariant ones (run once per scan) and the ones that vary per step.
//   ScanRunner - one scan node: its body Frame, the carry buffers, the current xs rows, and the
//                recording of per-step outputs (stacked rows, sink chunks, events).
//   KernelRunner - one kernel node (a fused region): its body Frame with the params bound to the
//                kernel's operands; the kernel's outputs are the body's result values.
#include "backends/interpreter/interpreter.h"

#include <algorithm>
#include <memory>

#include "backends/interpreter/kernels.h"
#include "graph/error.h"

namespace sf {
namespace {

using interp::copy_bytes;
using interp::Step;

class ScanRunner;
class KernelRunner;

class Frame {
 public:
  // `bound[i]` is the value of node i when it is an input or param (set by the caller); `varies[i]`
  // marks the params that change at every step of a scan (carries and xs rows).
  Frame(const Graph& g, const std::vector<const Tensor*>& bound, const std::vector<bool>& varies,
        const RunOptions& options, bool top);
  ~Frame();

  void run_invariant() { run(invariant_); }  // once per scan run (or once, at top level)
  void run_varying() { run(varying_); }      // every step
  const Tensor& value(NodeId id) const { return *value_[static_cast<size_t>(id)]; }
  // The value moved out when the frame owns it (saves copying a long run's stacked output), else
  // copied. The frame is not run again afterwards.
  Tensor take(NodeId id);

 private:
  struct Planned {
    Step step;
    ScanRunner* scan = nullptr;      // a scan node runs its runner instead of a kernel
    KernelRunner* fused = nullptr;   // so does a kernel node
  };
  std::vector<bool> live_nodes() const;
  void plan(NodeId id, const std::vector<const Tensor*>& bound, const RunOptions& options, bool top);
  static void run(std::vector<Planned>& steps);

  const Graph& g_;
  std::vector<Tensor> buf_;            // computed nodes' buffers; never resized, so addresses stay
  std::vector<const Tensor*> value_;   // where each node's value is
  std::vector<Tensor*> owned_;         // the same, for values this frame (or its scans) owns
  std::vector<bool> varies_;           // depends on a carry or an xs row
  std::vector<std::unique_ptr<ScanRunner>> scans_;
  std::vector<std::unique_ptr<KernelRunner>> kernels_;
  std::vector<Planned> invariant_, varying_;
};

class KernelRunner {
 public:
  // `operands` are the kernel's operand values (stable for the runner's life).
  KernelRunner(const Graph& g, NodeId id, const std::vector<const Tensor*>& operands, const RunOptions& options);
  void run();
  const Tensor* output(int64_t i) const { return outputs_.at(static_cast<size_t>(i)); }

 private:
  const Graph& g_;
  NodeId id_;
  std::unique_ptr<Frame> body_;
  std::vector<const Tensor*> outputs_;  // the body's results, in the body frame's buffers
  bool primed_ = false;                 // the body's sources are computed (once)
};

class ScanRunner {
 public:
  // `operands` are the scan's operand values (stable for the runner's life); `top` is whether the
  // scan is in the top-level graph (only those may use the sink and report progress).
  ScanRunner(const Graph& g, NodeId id, std::vector<const Tensor*> operands, const RunOptions& options, bool top);
  void run();
  Tensor* output(int64_t i);  // element i of the scan's tuple

 private:
  void start();
  void step(int64_t k);
  void record(int64_t k);
  void finish();
  void flush_rows(size_t y);
  void flush_events(size_t y);
  std::string where(int64_t k) const { return fmt::format("{} step {}", node_label(g_, id_), k); }

  const Graph& g_;
  NodeId id_;
  ScanInfo info_;
  const RunOptions& options_;
  bool top_;
  std::vector<const Tensor*> operands_;  // init carries, xs, captures
  std::vector<Tensor> carry_, next_;     // the carries entering this step, and the new ones
  std::vector<Tensor> x_;                // row k of each xs
  std::vector<const Tensor*> results_;   // the body's results: new carries, then per-step outputs
  std::unique_ptr<Frame> body_;

  // Recording, per per-step output y.
  std::vector<Tensor> out_;      // stack: [rows, ...]; sink and events: the i64 count
  std::vector<Tensor> chunk_;    // sink: rows waiting for the sink
  std::vector<int64_t> filled_;  // sink: rows in the chunk; events: not used
  std::vector<int64_t> sent_;    // sink: rows already sent; events: events counted
  std::vector<std::vector<Event>> events_;
};

// ---- Frame -----------------------------------------------------------------------------------

Frame::Frame(const Graph& g, const std::vector<const Tensor*>& bound, const std::vector<bool>& varies,
             const RunOptions& options, bool top)
    : g_(g), buf_(g.nodes.size()), value_(g.nodes.size(), nullptr), owned_(g.nodes.size(), nullptr), varies_(varies) {
  varies_.resize(g.nodes.size(), false);
  std::vector<bool> live = live_nodes();
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (live[i]) plan(static_cast<NodeId>(i), bound, options, top);
}

Frame::~Frame() = default;

// The nodes the results depend on, and the scans that stream to the run's sink (a side effect:
// they run whether or not a result reads them, as compiler DCE keeps them); the others are never
// evaluated.
std::vector<bool> Frame::live_nodes() const {
  std::vector<bool> live(g_.nodes.size(), false);
  for (NodeId r : g_.results) live[static_cast<size_t>(r)] = true;
  for (size_t i = 0; i < g_.nodes.size(); ++i)
    if (g_.nodes[i].op == Op::Scan)
      for (const std::string& m : g_.nodes[i].attrs.strs("record"))
        if (m != "stack") live[i] = true;
  for (size_t i = g_.nodes.size(); i-- > 0;)  // operands precede users: one backward sweep
    if (live[i])
      for (NodeId o : g_.nodes[i].operands) live[static_cast<size_t>(o)] = true;
  return live;
}

void Frame::plan(NodeId id, const std::vector<const Tensor*>& bound, const RunOptions& options, bool top) {
  size_t i = static_cast<size_t>(id);
  const Node& n = g_.nodes[i];
  for (NodeId o : n.operands) varies_[i] = varies_[i] || varies_[static_cast<size_t>(o)];
  switch (n.op) {
    case Op::Input:
    case Op::Param:
      value_[i] = bound.at(i);
      if (!value_[i]) internal_error("{} is not bound", node_label(g_, id));
      return;
    case Op::Const: value_[i] = &n.attrs.tensor("value"); return;
    case Op::Get: return;  // already pointed at its scan's (or kernel's) output when that was planned
    default: break;
  }
  Planned p;
  p.step.graph = &g_;
  p.step.id = id;
  p.step.node = &n;
  for (NodeId o : n.operands) p.step.in.push_back(value_[static_cast<size_t>(o)]);
  if (n.op == Op::Scan) {
    scans_.push_back(std::make_unique<ScanRunner>(g_, id, p.step.in, options, top));
    p.scan = scans_.back().get();
    // Point the scan's `get` users at its outputs (they follow the scan in node order).
    for (size_t u = i + 1; u < g_.nodes.size(); ++u)
      if (g_.nodes[u].op == Op::Get && g_.nodes[u].operands[0] == id) {
        owned_[u] = p.scan->output(g_.nodes[u].attrs.i("index"));
        value_[u] = owned_[u];
        varies_[u] = varies_[i];
      }
  } else if (n.op == Op::Kernel) {
    kernels_.push_back(std::make_unique<KernelRunner>(g_, id, p.step.in, options));
    p.fused = kernels_.back().get();
    // A kernel's values live in its body frame: one output is the node's value, several are
    // taken apart by `get` users (which follow the kernel in node order).
    if (!n.type.is_tuple()) value_[i] = p.fused->output(0);
    for (size_t u = i + 1; u < g_.nodes.size() && n.type.is_tuple(); ++u)
      if (g_.nodes[u].op == Op::Get && g_.nodes[u].operands[0] == id) {
        value_[u] = p.fused->output(g_.nodes[u].attrs.i("index"));
        varies_[u] = varies_[i];
      }
  } else {
    buf_[i].reset(n.type.dtype, n.type.shape);
    p.step.out = &buf_[i];
    p.step.kernel = interp::select_kernel(g_, id);
    value_[i] = owned_[i] = &buf_[i];
  }
  (varies_[i] ? varying_ : invariant_).push_back(std::move(p));
}

Tensor Frame::take(NodeId id) {
  Tensor* t = owned_[static_cast<size_t>(id)];
  return t ? std::move(*t) : value(id);
}

void Frame::run(std::vector<Planned>& steps) {
  for (Planned& p : steps) {
    if (p.scan)
      p.scan->run();
    else if (p.fused)
      p.fused->run();
    else
      p.step.kernel(p.step);
  }
}

// ---- KernelRunner ----------------------------------------------------------------------------

KernelRunner::KernelRunner(const Graph& g, NodeId id, const std::vector<const Tensor*>& operands,
                           const RunOptions& options)
    : g_(g), id_(id) {
  const Graph& body = *g.node(id).body;
  // Every param is an operand and may change between runs (a kernel in a scan body runs every
  // step); only the body's sources are computed once.
  std::vector<const Tensor*> bound(body.nodes.size(), nullptr);
  std::vector<bool> varies(body.nodes.size(), false);
  std::vector<NodeId> params = body.params();
  for (size_t p = 0; p < params.size(); ++p) {
    bound[static_cast<size_t>(params[p])] = operands.at(p);
    varies[static_cast<size_t>(params[p])] = true;
  }
  body_ = std::make_unique<Frame>(body, bound, varies, options, false);
  for (NodeId r : body.results) outputs_.push_back(&body_->value(r));
}

void KernelRunner::run() {
  try {
    if (!primed_) body_->run_invariant();
    primed_ = true;
    body_->run_varying();
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", node_label(g_, id_), e.what()));
  }
}

// ---- ScanRunner ------------------------------------------------------------------------------

ScanRunner::ScanRunner(const Graph& g, NodeId id, std::vector<const Tensor*> operands, const RunOptions& options,
                       bool top)
    : g_(g), id_(id), info_(scan_info(g.node(id))), options_(options), top_(top), operands_(std::move(operands)) {
  const Node& n = g.node(id);
  const Graph& body = *n.body;
  size_t nc = static_cast<size_t>(info_.carry), nx = static_cast<size_t>(info_.xs);
  for (size_t i = 0; i < nc; ++i) {
    carry_.emplace_back(operands_[i]->dtype(), operands_[i]->shape());
    next_.emplace_back(operands_[i]->dtype(), operands_[i]->shape());
  }
  for (size_t j = 0; j < nx; ++j) {
    const Tensor& xs = *operands_[nc + j];
    x_.emplace_back(xs.dtype(), Shape(xs.shape().begin() + 1, xs.shape().end()));
  }

  // Bind the body's params: carries and xs rows are ours (and vary), captures are the operands.
  std::vector<const Tensor*> bound(body.nodes.size(), nullptr);
  std::vector<bool> varies(body.nodes.size(), false);
  std::vector<NodeId> params = body.params();
  for (size_t p = 0; p < params.size(); ++p) {
    size_t node = static_cast<size_t>(params[p]);
    bound[node] = p < nc ? &carry_[p] : p < nc + nx ? &x_[p - nc] : operands_[p];
    varies[node] = p < nc + nx;
  }
  body_ = std::make_unique<Frame>(body, bound, varies, options, false);
  for (NodeId r : body.results) results_.push_back(&body_->value(r));

  // Recording buffers, allocated once.
  const std::vector<Type>& elems = n.type.elems;
  for (size_t y = 0; y < info_.record.size(); ++y) {
    const Type& t = elems[nc + y];
    const Tensor& row = *results_[nc + y];
    RecordMode mode = info_.record[y];
    out_.emplace_back(t.dtype, t.shape);
    chunk_.emplace_back();
    events_.emplace_back();
    if (mode != RecordMode::Stack && (!top_ || !options_.sink))
      fail("{}: per-step output {} is recorded in {} mode, which needs a sink{}", node_label(g_, id_), y,
           record_mode_name(mode), top_ ? ", but the run has none" : " and a top-level scan");
    if (mode == RecordMode::Sink) {
      if (options_.chunk_rows < 1) fail("run options: chunk_rows must be >= 1, got {}", options_.chunk_rows);
      Shape cs = row.shape();
      cs.insert(cs.begin(), sink_chunk_rows(options_, info_.length, info_.every));
      chunk_.back().reset(row.dtype(), cs);
    }
    if (mode == RecordMode::Events) {
      if (options_.event_chunk < 1) fail("run options: event_chunk must be >= 1, got {}", options_.event_chunk);
      events_.back().reserve(static_cast<size_t>(options_.event_chunk));
    }
  }
  filled_.assign(info_.record.size(), 0);
  sent_.assign(info_.record.size(), 0);
}

Tensor* ScanRunner::output(int64_t i) {
  return i < info_.carry ? &carry_[static_cast<size_t>(i)] : &out_[static_cast<size_t>(i - info_.carry)];
}

void ScanRunner::run() {
  start();
  int64_t every_pct = std::max<int64_t>(1, info_.length / 100);
  for (int64_t k = 0; k < info_.length; ++k) {
    try {
      if (k == 0) body_->run_invariant();  // captures may differ between runs of a nested scan
      step(k);
    } catch (const Error& e) {
      throw Error(where(k) + ": " + e.what());
    }
    if (top_ && options_.sink && (k + 1) % every_pct == 0) options_.sink->progress(id_, k + 1, info_.length);
  }
  finish();
}

void ScanRunner::start() {
  for (size_t i = 0; i < carry_.size(); ++i) copy_bytes(carry_[i].raw(), operands_[i]->raw(), carry_[i].bytes());
  std::fill(filled_.begin(), filled_.end(), 0);
  std::fill(sent_.begin(), sent_.end(), 0);
  for (auto& ev : events_) ev.clear();
}

void ScanRunner::step(int64_t k) {
  size_t nc = carry_.size();
  for (size_t j = 0; j < x_.size(); ++j) {
    int64_t row = x_[j].bytes();
    copy_bytes(x_[j].raw(), static_cast<const char*>(operands_[nc + j]->raw()) + k * row, row);
  }
  body_->run_varying();
  record(k);  // before the carries move: a per-step output may be a carry param
  // All new carries are copied out before any is replaced (a body may permute its carries); the
  // swap exchanges buffers, so the params keep pointing at carry_.
  for (size_t i = 0; i < nc; ++i) copy_bytes(next_[i].raw(), results_[i]->raw(), next_[i].bytes());
  for (size_t i = 0; i < nc; ++i) std::swap(carry_[i], next_[i]);
}

void ScanRunner::record(int64_t k) {
  bool recorded_step = (k + 1) % info_.every == 0;
  int64_t row = (k + 1) / info_.every - 1;
  size_t nc = carry_.size();
  for (size_t y = 0; y < info_.record.size(); ++y) {
    const Tensor& v = *results_[nc + y];
    switch (info_.record[y]) {
      case RecordMode::Stack:
        if (recorded_step) copy_bytes(static_cast<char*>(out_[y].raw()) + row * v.bytes(), v.raw(), v.bytes());
        break;
      case RecordMode::Sink:
        if (!recorded_step) break;
        copy_bytes(static_cast<char*>(chunk_[y].raw()) + filled_[y] * v.bytes(), v.raw(), v.bytes());
        if (++filled_[y] == options_.chunk_rows) flush_rows(y);
        break;
      case RecordMode::Events: {
        const uint8_t* b = v.data<uint8_t>();
        for (int64_t i = 0; i < v.size(); ++i) {
          if (!b[i]) continue;
          events_[y].push_back(Event{i, k});
          ++sent_[y];
          if (static_cast<int64_t>(events_[y].size()) == options_.event_chunk) flush_events(y);
        }
        break;
      }
    }
  }
}

// Sends the buffered rows. Only the last chunk of a run is short: it is re-shaped to its row count
// for the call (keeping its allocation), then back.
void ScanRunner::flush_rows(size_t y) {
  Tensor& c = chunk_[y];
  if (filled_[y] == 0) return;
  if (filled_[y] == c.shape()[0]) {
    options_.sink->rows(id_, static_cast<int64_t>(y), c, sent_[y]);
  } else {
    Shape part = c.shape();
    part[0] = filled_[y];
    c.reset(c.dtype(), part);
    options_.sink->rows(id_, static_cast<int64_t>(y), c, sent_[y]);
    part[0] = sink_chunk_rows(options_, info_.length, info_.every);
    c.reset(c.dtype(), part);
  }
  sent_[y] += filled_[y];
  filled_[y] = 0;
}

void ScanRunner::flush_events(size_t y) {
  if (events_[y].empty()) return;
  options_.sink->events(id_, static_cast<int64_t>(y), events_[y]);
  events_[y].clear();
}

void ScanRunner::finish() {
  for (size_t y = 0; y < info_.record.size(); ++y) {
    RecordMode mode = info_.record[y];
    if (mode == RecordMode::Stack) continue;
    if (mode == RecordMode::Sink) flush_rows(y);
    if (mode == RecordMode::Events) flush_events(y);
    out_[y].data<int64_t>()[0] = sent_[y];
  }
}

// ---- inputs ----------------------------------------------------------------------------------

// The value of each input node: its binding or its default.
std::vector<const Tensor*> bind_inputs(const Graph& g, const std::map<std::string, Tensor>& inputs) {
  std::vector<const Tensor*> bound(g.nodes.size(), nullptr);
  for (auto& [name, t] : inputs) {
    NodeId id = g.input(name);
    if (id < 0) {
      std::string known;
      for (NodeId i : g.inputs()) known += (known.empty() ? "" : ", ") + g.node(i).attrs.s("name");
      fail("unknown input '{}' (the graph's inputs: {})", name, known.empty() ? "none" : known);
    }
    if (t.type() != g.type(id))
      fail("input '{}' is {} but the value bound to it is {}", name, type_str(g.type(id)), type_str(t.type()));
    bound[static_cast<size_t>(id)] = &t;
  }
  for (NodeId id : g.inputs()) {
    const Node& n = g.node(id);
    if (bound[static_cast<size_t>(id)]) continue;
    if (!n.attrs.has("default")) fail("input '{}' has no value and no default", n.attrs.s("name"));
    bound[static_cast<size_t>(id)] = &n.attrs.tensor("default");
  }
  return bound;
}

}  // namespace

std::vector<Tensor> interpret(const Graph& g, const std::map<std::string, Tensor>& inputs, const RunOptions& options) {
  std::vector<const Tensor*> bound = bind_inputs(g, inputs);
  Frame top(g, bound, {}, options, true);
  top.run_invariant();  // at top level nothing varies: every step runs once
  std::vector<Tensor> results;
  for (size_t i = 0; i < g.results.size(); ++i) {
    NodeId r = g.results[i];
    if (g.type(r).is_tuple()) fail("result {} is a tuple; take its elements with get", node_label(g, r));
    // A value that is also a later result (the same node, or another `get` of it) is copied.
    bool again = std::any_of(g.results.begin() + static_cast<std::ptrdiff_t>(i) + 1, g.results.end(),
                             [&](NodeId o) { return &top.value(o) == &top.value(r); });
    results.push_back(again ? top.value(r) : top.take(r));
  }
  return results;
}

}  // namespace sf
