// policy/controllers/oracle.h: "oracle", the bound: Ecomap's procedure
// (policy/controllers/ecomap.h: the same triggers, threshold map, substitution and raise rule)
// with ControllerContext::oracle (the simulator itself as predictor, no online correction) and
// a long search: every search is ecomap's search plus one simulated-annealing run per allowed
// mode with oracle_budget_evals / (number of modes) evaluations each (at least 150); the best
// of all.
#pragma once

#include <vector>

#include "policy/controllers/ecomap.h"

namespace ecomap::policy::controllers {

class OracleController final : public EcomapController {
 public:
  explicit OracleController(const ControllerContext& ctx);

 protected:
  std::vector<Run> Runs(const std::vector<int>& modes) const override;
};

}  // namespace ecomap::policy::controllers
