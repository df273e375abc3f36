// SimInfo <-> graph attrs, and the small shared helpers of models/model.h.
#include "models/model.h"

#include <cmath>

#include "graph/error.h"

namespace sf {

const char* integrator_name(Integrator i) { return i == Integrator::Euler ? "euler" : "rk4"; }

int64_t step_count(double t_end, double dt) {
  if (!(dt > 0) || !std::isfinite(dt)) fail("dt must be a positive number, got {}", dt);
  if (!(t_end >= 0) || !std::isfinite(t_end)) fail("t_end must be a non-negative number, got {}", t_end);
  double steps = t_end / dt;
  if (steps > 9e15) fail("t_end / dt = {} steps is too many", steps);
  return std::llround(steps);
}

namespace {

// Groups and final-state entries are stored as "NAME:a:b" and "NAME:i" strings.
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

int64_t parse_int(const std::string& s, const std::string& what) {
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  fail("not a simulation graph: bad {} entry '{}'", what, s);
}

// Reads attribute `key` of type T or throws "not a simulation graph: missing sim.x".
template <class T>
const T& need(const Attrs& a, const std::string& key) {
  const AttrValue* v = a.find(key);
  if (!v) fail("not a simulation graph: missing {}", key);
  if (!std::holds_alternative<T>(*v)) fail("not a simulation graph: {} has the wrong kind", key);
  return std::get<T>(*v);
}

}  // namespace

void SimInfo::store(Graph& g) const {
  std::vector<std::string> group_strs, final_strs;
  for (auto& [name, range] : groups) group_strs.push_back(fmt::format("{}:{}:{}", name, range.first, range.second));
  for (auto& [name, result] : final_state) final_strs.push_back(fmt::format("{}:{}", name, result));
  g.attrs.set("sim.dt", dt);
  g.attrs.set("sim.k0", k0);
  g.attrs.set("sim.steps", steps);
  g.attrs.set("sim.every", every);
  g.attrs.set("sim.columns", columns);
  g.attrs.set("sim.groups", group_strs);
  g.attrs.set("sim.result_initial", result_initial);
  g.attrs.set("sim.result_rows", result_rows);
  g.attrs.set("sim.final_state", final_strs);
}

SimInfo SimInfo::load(const Graph& g) {
  const Attrs& a = g.attrs;
  SimInfo s;
  s.dt = need<double>(a, "sim.dt");
  s.k0 = need<int64_t>(a, "sim.k0");
  s.steps = need<int64_t>(a, "sim.steps");
  s.every = need<int64_t>(a, "sim.every");
  s.columns = need<std::vector<std::string>>(a, "sim.columns");
  s.result_initial = need<int64_t>(a, "sim.result_initial");
  s.result_rows = need<int64_t>(a, "sim.result_rows");
  for (auto& str : need<std::vector<std::string>>(a, "sim.groups")) {
    auto p = split(str, ':');
    if (p.size() != 3) fail("not a simulation graph: bad sim.groups entry '{}' (want NAME:begin:end)", str);
    s.groups.push_back({p[0], {parse_int(p[1], "sim.groups"), parse_int(p[2], "sim.groups")}});
  }
  for (auto& str : need<std::vector<std::string>>(a, "sim.final_state")) {
    auto p = split(str, ':');
    if (p.size() != 2) fail("not a simulation graph: bad sim.final_state entry '{}' (want NAME:result)", str);
    s.final_state.push_back({p[0], parse_int(p[1], "sim.final_state")});
  }

  // The indices must point at what they claim to.
  if (!(s.dt > 0)) fail("not a simulation graph: sim.dt = {} must be positive", s.dt);
  if (s.steps < 0 || s.every < 1 || s.k0 < 0) fail("not a simulation graph: bad sim.steps/sim.every/sim.k0");
  // The scan and its outputs are found through the rows result (a `get` of the scan), not stored
  // as node ids: compiler passes renumber nodes but keep the results.
  if (s.result_rows < 0 || s.result_rows >= static_cast<int64_t>(g.results.size()))
    fail("not a simulation graph: sim.result_rows = {} is not a result of the graph", s.result_rows);
  const Node& rows = g.node(g.results[static_cast<size_t>(s.result_rows)]);
  if (rows.op != Op::Get || g.node(rows.operands[0]).op != Op::Scan)
    fail("not a simulation graph: result sim.result_rows = {} is not an output of a scan", s.result_rows);
  s.scan = rows.operands[0];
  ScanInfo info = scan_info(g.node(s.scan));
  s.y_rows = rows.attrs.i("index") - info.carry;
  s.y_spikes = -1;
  for (int64_t y = 0; y < info.ys(); ++y)
    if (info.record[static_cast<size_t>(y)] == RecordMode::Events && s.y_spikes < 0) s.y_spikes = y;
  if (info.length != s.steps || info.every != s.every)
    fail("not a simulation graph: the scan's length/every ({}/{}) disagree with sim.steps/sim.every ({}/{})",
         info.length, info.every, s.steps, s.every);
  if (s.y_rows < 0 || s.y_rows >= info.ys()) fail("not a simulation graph: sim.y_rows = {} out of range", s.y_rows);
  if (s.y_spikes >= info.ys() ||
      (s.y_spikes >= 0 && info.record[static_cast<size_t>(s.y_spikes)] != RecordMode::Events))
    fail("not a simulation graph: sim.y_spikes = {} is not an events output", s.y_spikes);
  const Graph& body = *g.node(s.scan).body;
  const Type& row = body.type(body.results[static_cast<size_t>(info.carry + s.y_rows)]);
  if (row.rank() != 1 || row.shape[0] != static_cast<int64_t>(s.columns.size()))
    fail("not a simulation graph: {} column names for a recorded row of type {}", s.columns.size(), type_str(row));
  auto check_result = [&](int64_t r, const char* what) {
    if (r < 0 || r >= static_cast<int64_t>(g.results.size()))
      fail("not a simulation graph: {} = {} is not a result of the graph", what, r);
  };
  check_result(s.result_initial, "sim.result_initial");
  check_result(s.result_rows, "sim.result_rows");
  for (auto& [name, r] : s.final_state) check_result(r, "sim.final_state");
  return s;
}

}  // namespace sf
