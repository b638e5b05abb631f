// policy/controllers/powercap.h: the carbon threshold moves the mode; mapping and variants fixed.
#include "policy/controllers/powercap.h"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "policy/planning.h"

namespace ecomap::policy::controllers {

PowercapController::PowercapController(const ControllerContext& ctx)
    : ControllerBase("powercap", ctx),
      map_(ctx.options.threshold, BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).front(),
           BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).back()) {}

StatusOr<Decision> PowercapController::DoStep(const ControlInput& in, const Triggers& trig) {
  map_.Observe(in.intensity);
  ThresholdDecision td = map_.Decide(in.intensity, in.forecast);
  std::string why = trig.first ? "first decision"
                    : td.changed ? fmt::format("threshold -> {:.1f} W", td.threshold.value())
                                 : trig.demand;
  if (why.empty()) return Keep(fmt::format("threshold {:.1f} W unchanged, demand unchanged", td.threshold.value()));
  const auto t0 = Clock::now();
  const int mode = FastestModeUnder(info(), td.threshold, opt().no_budget_mode_w);
  std::vector<std::string> models;
  for (const TenantSpec& t : in.tenants) models.push_back(Ladder(t).back());
  Decision d;
  d.config = AllOnGpu(info(), in.tenants, models, mode);
  ECOMAP_ASSIGN_OR_RETURN(d.predicted, ctx_.predictor->Predict(d.config));
  d.predict_ms = MsSince(t0);
  d.evaluations = 1;
  d.threshold = td.threshold;
  d.replanned = true;
  d.variants = models;
  d.reason = "re-plan (" + why + "): fixed mapping and variants in " + info().FindMode(mode)->name;
  return d;
}

}  // namespace ecomap::policy::controllers
