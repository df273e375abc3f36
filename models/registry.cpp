// The list of built-in models and lookup by name.
#include "graph/error.h"
#include "models/catalog.h"

namespace sf {

const std::vector<ModelInfo>& models() {
  static const std::vector<ModelInfo> all{exp_growth_model(),    linear2d_model(), lorenz_model(),
                                          hh_traub_model(),      hh_fi_model(),    net3_model(),
                                          antennal_lobe_model(), hh_squid_model()};
  return all;
}

const ModelInfo& find_model(const std::string& name) {
  std::vector<std::string> known;
  for (const ModelInfo& m : models()) {
    if (m.name == name) return m;
    known.push_back(m.name);
  }
  fail("unknown model '{}'; known models: {}", name, fmt::join(known, ", "));
}

}  // namespace sf
