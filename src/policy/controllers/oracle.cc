// policy/controllers/oracle.h: the oracle's predictor and its long search.
#include "policy/controllers/oracle.h"

#include <algorithm>

namespace ecomap::policy::controllers {

OracleController::OracleController(const ControllerContext& ctx) : EcomapController("oracle", ctx, ctx.oracle) {}

std::vector<EcomapController::Run> OracleController::Runs(const std::vector<int>& modes) const {
  std::vector<Run> runs = EcomapController::Runs(modes);
  const int per_mode = std::max(30, opt().oracle_budget_evals / static_cast<int>(modes.size()));
  for (int m : modes) runs.push_back({{m}, "sa", per_mode});
  return runs;
}

}  // namespace ecomap::policy::controllers
