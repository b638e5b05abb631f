// policy/controllers/perfect_predictor.h: "perfect-predictor", Ecomap's procedure
// (policy/controllers/ecomap.h: the same triggers, threshold map, substitution and raise rule)
// with ControllerContext::oracle (the simulator itself as predictor, no online correction) and
// a longer search: every search is ecomap's search plus one simulated-annealing run per allowed
// mode with oracle_budget_evals / (number of modes) evaluations each (at least 30); the best of
// all. It shows what a perfect estimator would change. It is NOT a bound: it follows Ecomap's
// heuristics (threshold map, substitution order), so Ecomap can beat it, and did (it was called
// "oracle" before).
#pragma once

#include <vector>

#include "policy/controllers/ecomap.h"

namespace ecomap::policy::controllers {

class PerfectPredictorController final : public EcomapController {
 public:
  explicit PerfectPredictorController(const ControllerContext& ctx);

 protected:
  std::vector<Run> Runs(const std::vector<int>& modes) const override;
};

}  // namespace ecomap::policy::controllers
