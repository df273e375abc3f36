// The tutorial ran two batches of np.arange(0, 700, 0.01), each as two parts:
//   batch 1: t = 0 .. 349.99 from the noisy initial state (34999 steps)
//            part_1 = grid rows 0..17499, part_2 = rows 17499..34999 (its row 0 repeats part_1's last)
//   batch 2: t = 349.99 .. 699.99 (grid index 34999 on), restarted from the *initial* state (the
//            runner's bug); part_1 = rows 34999..52499, part_2 = rows 52499..69999
// Every grid time is k * 0.01 (checked once against d5_time.npy with NumPy).
#include "tf_reference.h"

#include <doctest/doctest.h>

#include <cmath>

#include "graph/npy.h"
#include "model_run.h"
#include "models/net3.h"

namespace sf::test {

namespace {

const std::string kDir = std::string(SF_SHARED_DIR) + "/reference/psst-tf/";

Tensor load(const std::string& name) { return read_npy(kDir + name + ".npy"); }

std::vector<double> values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.size(); ++i) v.push_back(t.get(i));
  return v;
}

// Runs the Day 5 network over grid indices [k0, k_end] from the tutorial's initial state.
SimRun run_batch(const GraphRunner& run, int64_t k0, int64_t k_end) {
  Net3Config cfg;
  cfg.ach_mat = values(load("d5_ach_mat"));
  cfg.gaba_mat = values(load("d5_gaba_mat"));
  cfg.I_table = load("d5_current_input");
  cfg.y0 = values(load("d5_state_vector"));
  cfg.k0 = k0;
  RunConfig rc;
  rc.t_end = static_cast<double>(k_end) * 0.01;
  SimRun r;
  r.graph = build_net3(rc, cfg);
  r.info = SimInfo::load(r.graph);
  REQUIRE(r.info.steps == k_end - k0);
  REQUIRE(r.info.columns.size() == 17);  // the tutorial's state layout, in order
  RunOptions o;
  o.sink = &r.sink;
  r.results = run(r.graph, o);
  REQUIRE(r.initial().size() == 17);
  REQUIRE(r.rows().size() == r.info.steps * 17);
  return r;
}

// Largest |ours - TF| over a part file whose row i is our recorded row first_row + i (a NaN counts
// as infinitely far).
double max_error(const SimRun& r, const std::string& part, int64_t first_row) {
  Tensor ref = load(part);
  REQUIRE(ref.rank() == 2);
  REQUIRE(ref.shape()[1] == 17);
  REQUIRE(first_row + ref.shape()[0] <= r.info.steps + 1);
  double worst = 0;
  for (int64_t i = 0; i < ref.shape()[0]; ++i)
    for (int64_t c = 0; c < 17; ++c) {
      double diff = std::abs(r.at(first_row + i, c) - ref.get(i * 17 + c));
      if (!(diff <= worst)) worst = std::isnan(diff) ? INFINITY : diff;
    }
  return worst;
}

}  // namespace

void check_tf_reference(const GraphRunner& run, const std::string& label, TfBatches batches) {
  struct Part {
    const char* file;
    int64_t first_row;
  };
  struct Batch {
    int64_t k0, k_end;
    std::vector<Part> parts;
  };
  std::vector<Batch> all = {Batch{0, 34999, {{"d5_batch1_part_1", 0}, {"d5_batch1_part_2", 17499}}},
                            Batch{34999, 69999, {{"d5_batch2_part_1", 0}, {"d5_batch2_part_2", 17500}}}};
  if (batches == TfBatches::First) all.resize(1);
  const std::string suffix = label.empty() ? "" : " [" + label + "]";
  for (const Batch& batch : all) {
    SimRun r = run_batch(run, batch.k0, batch.k_end);
    for (const Part& p : batch.parts) {
      double err = max_error(r, p.file, p.first_row);
      MESSAGE(std::string(p.file) << suffix << ": max abs error " << err);
      CHECK(err <= 1e-8);
    }
    // The spike time the README quotes: X1's first spike at the step starting at 109.36 ms.
    if (batch.k0 == 0) CHECK(r.at(10937, 14) == doctest::Approx(109.35999999940395).epsilon(1e-15));
  }
}

}  // namespace sf::test
