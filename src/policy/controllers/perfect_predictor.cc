// policy/controllers/perfect_predictor.h: the simulator as predictor and a longer search.
#include "policy/controllers/perfect_predictor.h"

#include <algorithm>

namespace ecomap::policy::controllers {

PerfectPredictorController::PerfectPredictorController(const ControllerContext& ctx)
    : EcomapController("perfect-predictor", ctx, ctx.oracle) {}

std::vector<EcomapController::Run> PerfectPredictorController::Runs(const std::vector<int>& modes) const {
  std::vector<Run> runs = EcomapController::Runs(modes);
  const int per_mode = std::max(30, opt().oracle_budget_evals / static_cast<int>(modes.size()));
  for (int m : modes) runs.push_back({{m}, "sa", per_mode});
  return runs;
}

}  // namespace ecomap::policy::controllers
