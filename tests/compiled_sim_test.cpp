// A compiled simulation graph is still a simulation: SimInfo finds the scan and its outputs through
// the graph's results, which every pass preserves, so runners read compiled graphs like built ones.
#include <doctest/doctest.h>

#include "compiler/pipeline.h"
#include "models/model.h"

using namespace sf;

TEST_CASE("compiled: every model's compiled graph loads as a simulation") {
  for (const ModelInfo& m : models()) {
    CAPTURE(m.name);
    RunConfig cfg;
    cfg.t_end = 5 * m.dt;
    cfg.stream = true;
    Graph g = m.build(cfg);
    SimInfo before = SimInfo::load(g);
    Graph c = compile_graph(g).graph;
    SimInfo after = SimInfo::load(c);
    CHECK(c.node(after.scan).op == Op::Scan);
    CHECK(after.columns == before.columns);
    CHECK(after.y_rows == before.y_rows);
    CHECK(after.y_spikes == before.y_spikes);
    CHECK(scan_info(c.node(after.scan)).length == before.steps);
  }
}
