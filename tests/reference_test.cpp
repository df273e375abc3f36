// The golden check: net3 rebuilt from the tutorial's Day 5 files reproduces TensorFlow's float64
// trajectories (../shared/reference/psst-tf, README there) row for row.
//
// The tutorial ran two batches of np.arange(0, 700, 0.01), each as two parts:
//   batch 1: t = 0 .. 349.99 from the noisy initial state (34999 steps)
//            part_1 = grid rows 0..17499, part_2 = rows 17499..34999 (its row 0 repeats part_1's last)
//   batch 2: t = 349.99 .. 699.99 (grid index 34999 on), restarted from the *initial* state (the
//            runner's bug); part_1 = rows 34999..52499, part_2 = rows 52499..69999
// Every grid time is k * 0.01 (checked once against d5_time.npy with NumPy).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "graph/npy.h"
#include "model_run.h"
#include "models/net3.h"

using namespace sf;

namespace {

const std::string kDir = std::string(SF_SHARED_DIR) + "/reference/psst-tf/";

Tensor load(const std::string& name) { return read_npy(kDir + name + ".npy"); }

std::vector<double> values(const Tensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.size(); ++i) v.push_back(t.get(i));
  return v;
}

// Runs the Day 5 network over grid indices [k0, k_end] from the tutorial's initial state.
test::SimRun run_batch(int64_t k0, int64_t k_end) {
  Net3Config cfg;
  cfg.ach_mat = values(load("d5_ach_mat"));
  cfg.gaba_mat = values(load("d5_gaba_mat"));
  cfg.I_table = load("d5_current_input");
  cfg.y0 = values(load("d5_state_vector"));
  cfg.k0 = k0;
  RunConfig rc;
  rc.t_end = static_cast<double>(k_end) * 0.01;
  test::SimRun r = test::run_graph(build_net3(rc, cfg));
  REQUIRE(r.info.steps == k_end - k0);
  REQUIRE(r.info.columns.size() == 17);  // the tutorial's state layout, in order
  return r;
}

// Largest |ours - TF| over a part file whose row i is our recorded row first_row + i.
double max_error(const test::SimRun& r, const std::string& part, int64_t first_row) {
  Tensor ref = load(part);
  REQUIRE(ref.rank() == 2);
  REQUIRE(ref.shape()[1] == 17);
  double worst = 0;
  for (int64_t i = 0; i < ref.shape()[0]; ++i)
    for (int64_t c = 0; c < 17; ++c) {
      double diff = std::abs(r.at(first_row + i, c) - ref.get(i * 17 + c));
      if (!(diff <= worst)) worst = std::isnan(diff) ? INFINITY : diff;
    }
  return worst;
}

}  // namespace

TEST_CASE("reference: net3 reproduces the TensorFlow Day 5 trajectories to 1e-8") {
  test::SimRun b1 = run_batch(0, 34999);
  test::SimRun b2 = run_batch(34999, 69999);
  struct Part {
    const char* file;
    const test::SimRun* run;
    int64_t first_row;
  };
  for (Part p : {Part{"d5_batch1_part_1", &b1, 0}, Part{"d5_batch1_part_2", &b1, 17499},
                 Part{"d5_batch2_part_1", &b2, 0}, Part{"d5_batch2_part_2", &b2, 17500}}) {
    double err = max_error(*p.run, p.file, p.first_row);
    MESSAGE(std::string(p.file) << ": max abs error " << err);
    CHECK(err <= 1e-8);
  }
  // The spike times the README quotes: X1's first spike at the step starting at 109.36 ms.
  CHECK(b1.at(10937, 14) == doctest::Approx(109.35999999940395).epsilon(1e-15));
}
