// policy/controllers/maxn.h: best variants on the GPU at the highest mode.
#include "policy/controllers/maxn.h"

#include <string>
#include <vector>

#include "policy/planning.h"
#include "policy/scenario.h"

namespace ecomap::policy::controllers {

StatusOr<Decision> MaxnController::DoStep(const ControlInput& in, const Triggers& trig) {
  if (!trig.first && trig.demand.empty()) return Keep("carbon-agnostic, demand unchanged");
  const auto t0 = Clock::now();
  std::vector<std::string> models;
  for (const TenantSpec& t : in.tenants) models.push_back(Ladder(t).back());
  Decision d;
  d.config = AllOnGpu(info(), in.tenants, models, HighestMode(info()).id);
  ECOMAP_ASSIGN_OR_RETURN(d.predicted, ctx_.predictor->Predict(d.config));
  d.predict_ms = MsSince(t0);
  d.evaluations = 1;
  d.replanned = true;
  d.variants = models;
  d.reason = std::string(trig.first ? "first decision" : trig.demand) + ": best variants on the GPU at " +
             HighestMode(info()).name;
  return d;
}

}  // namespace ecomap::policy::controllers
