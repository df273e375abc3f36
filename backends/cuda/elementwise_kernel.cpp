// The elementwise scan kernel: each thread takes element o, loads the values it keeps in registers
// (elementwise.h's Private and Scalar buffers), runs every step of [k0, k1) with the body's kernels
// inlined one after the other, records as it goes, and writes its registers back at the end. Per
// step, nothing but the recorded rows (and the last step's per-step outputs) touches memory.
#include <algorithm>

#include "backends/cuda/codegen_internal.h"
#include "backends/cuda/elementwise.h"
#include "backends/cuda/emit.h"
#include "graph/error.h"

namespace sf::cuda {

std::string Generator::elementwise_kernel(int id) {
  Region& reg = code_.regions[static_cast<size_t>(id)];
  const ScanRegion& r = *reg.scan;
  ElementwisePlan plan = plan_elementwise(p_, r);
  if (!plan.blocker.empty()) internal_error("cuda codegen: {} cannot run elementwise: {}", r.label, plan.blocker);
  reg.fn = fmt::format("sf_r{}_elementwise", id);
  reg.threads = plan.n;
  // The table: every buffer the body touches, then each per-step output's destination.
  std::map<int, size_t> slot_of;
  for (auto& [b, res] : plan.buffers) {
    slot_of[b] = reg.table.size();
    reg.table.push_back({b});
  }
  size_t scratch = reg.table.size();
  reg.table.push_back({-1, -1, -1, id});
  for (auto& [b, res] : plan.buffers)
    if (res == Residence::Scalar) reg.scalars.push_back(b);
  std::vector<size_t> dest(r.ys.size(), 0);
  for (size_t y = 0; y < r.ys.size(); ++y) {
    dest[y] = reg.table.size();
    if (r.ys[y].mode == RecordMode::Stack) reg.table.push_back({r.ys[y].out});
    if (r.ys[y].mode == RecordMode::Sink) reg.table.push_back({-1, id, static_cast<int>(y)});
  }
  auto type = [&](int b) { return std::string(cuda_type(buffer(b).dtype)); };
  auto reg_name = [](int b) { return fmt::format("r{}", b); };
  std::vector<int> events_j(r.ys.size(), -1);
  for (size_t j = 0; j < reg.events_y.size(); ++j) events_j[static_cast<size_t>(reg.events_y[j])] = static_cast<int>(j);

  // What recording element `idx` of output y's value `v` at step k takes (idx "" = element 0).
  auto record = [&](size_t y, const std::string& idx, const std::string& v) {
    const ScanOutput& o = r.ys[y];
    int64_t e = buffer(o.value).elements();
    std::string at = idx.empty() ? "0" : idx, guard = idx.empty() ? " && o == 0" : "";
    switch (o.mode) {
      case RecordMode::Stack: return fmt::format("if (rec{}) d{}[row * {}LL + {}] = {};", guard, y, e, at, v);
      case RecordMode::Sink:
        return fmt::format("if (rec{}) d{}[row % c.dev->ring_rows * {}LL + {}] = {};", guard, y, e, at, v);
      case RecordMode::Events:
        return fmt::format("if ({}{}) sf_event(sf_events(c, {}), k, {});", v, guard, events_j[y], at);
    }
    return std::string();
  };

  std::string s = fmt::format("// {}: elementwise: thread o integrates element o of {} for steps [k0, k1) in registers\n", r.label, plan.n);
  s += fmt::format("extern \"C\" __global__ void __launch_bounds__(128) {}(char* const* tab, SfCtx c, long long k0, long long k1) {{\n", reg.fn);
  s += fmt::format("  char* const* p0 = tab + (k0 & 1) * {0}LL;  // pointers as at step k0\n", reg.table.size());
  s += fmt::format("  char* const* p1 = tab + (k1 & 1) * {0}LL;  // ... and as at step k1 (double-buffered carries swapped)\n", reg.table.size());
  for (auto& [b, res] : plan.buffers)
    if (res != Residence::Private && res != Residence::Scalar && buffer(b).role != BufferRole::Row)
      s += fmt::format("  {0}* b{1} = ({0}*)p0[{2}];  // {3}\n", type(b), b, slot_of[b], buffer(b).name);
  for (size_t y = 0; y < r.ys.size(); ++y)
    if (r.ys[y].mode != RecordMode::Events)
      s += fmt::format("  {0}* d{1} = ({0}*)p0[{2}];  // y{1}: {3}\n", type(r.ys[y].value), y, dest[y],
                       r.ys[y].mode == RecordMode::Stack ? "stacked rows" : "the sink ring");
  s += fmt::format("  for (long long o = SF_TID; o < {}LL; o += SF_NT) {{\n", plan.n);
  for (auto& [b, res] : plan.buffers) {
    if (res == Residence::Private)
      s += fmt::format("    {} {} = (({} *)p0[{}])[o];  // {}\n", type(b), reg_name(b), type(b), slot_of[b], buffer(b).name);
    if (res == Residence::Scalar)
      s += fmt::format("    {} {} = (({} *)p0[{}])[0];  // {} (every thread's own copy)\n", type(b), reg_name(b), type(b),
                       slot_of[b], buffer(b).name);
  }
  s += "    for (long long k = k0; k < k1; ++k) {\n      c.k[0] = k;\n";
  s += fmt::format("      const bool rec = (k + 1) % {0}LL == 0;\n      const long long row = (k + 1) / {0}LL - 1;\n", r.every);
  for (auto& [b, res] : plan.buffers)
    if (buffer(b).role == BufferRole::Row)
      s += fmt::format("      const {0}* b{1} = (const {0}*)(p0[{2}] + k * {3}LL);  // row k of b{4}\n", type(b), b, slot_of[b],
                       buffer(b).bytes(), code_.row_xs[static_cast<size_t>(b)]);
  for (const Step& st : r.body) {
    const Kernel& k = st.kernel;
    ListEmitter e(k.body);
    e.check_id = [&](const Inst& in) { return check_id(in, id); };
    e.load = [&](const Inst& in, const std::string&, std::string* expr) {
      Residence res = plan.buffers.at(in.buf);
      if (res != Residence::Private && res != Residence::Scalar) return false;
      *expr = reg_name(in.buf);
      return true;
    };
    e.store = [&](const Inst& in, const std::string& idx, const std::string& v, std::string* stmt) {
      Residence res = plan.buffers.at(in.buf);
      if (res == Residence::Private || res == Residence::Scalar) {
        *stmt = fmt::format("{} = {};", reg_name(in.buf), v);
        return true;
      }
      // WriteOnly: recorded as stored; kept in memory after the last step only.
      std::string guard = idx.empty() ? " && o == 0" : "";
      *stmt = fmt::format("if (k == {}LL{}) b{}[{}] = {};", r.length - 1, guard, in.buf, idx.empty() ? "0" : idx, v);
      for (size_t y = 0; y < r.ys.size(); ++y)
        if (r.ys[y].value == in.buf) *stmt += fmt::format(" {}", record(y, idx, v));
      return true;
    };
    s += fmt::format("      {{  // k{} ({})\n", k.id, k.name);
    s += emit_list(e, "        ");
    s += "      }\n";
  }
  // Outputs held in registers are recorded once the step is done.
  for (size_t y = 0; y < r.ys.size(); ++y) {
    Residence res = plan.buffers.at(r.ys[y].value);
    if (res == Residence::Private) s += "      " + record(y, "o", reg_name(r.ys[y].value)) + "\n";
    if (res == Residence::Scalar) s += "      " + record(y, "", reg_name(r.ys[y].value)) + "\n";
  }
  for (const ScanCarry& cr : r.carries)
    if (cr.next >= 0)
      s += fmt::format("      {{ const {0} t = {1}; {1} = {2}; {2} = t; }}  // swap the double-buffered carry\n", type(cr.state),
                       reg_name(cr.state), reg_name(cr.next));
  s += "    }\n";
  for (auto& [b, res] : plan.buffers) {
    if (res == Residence::Private) s += fmt::format("    (({} *)p1[{}])[o] = {};\n", type(b), slot_of[b], reg_name(b));
    if (res == Residence::Scalar) {
      size_t j = std::find(reg.scalars.begin(), reg.scalars.end(), b) - reg.scalars.begin();
      s += fmt::format("    if (o == 0) *({} *)(p1[{}] + {}) = {};  // to the scratch words (see Region::scalars)\n", type(b),
                       scratch, 8 * j, reg_name(b));
    }
  }
  s += "  }\n}\n\n";
  return s;
}

}  // namespace sf::cuda
