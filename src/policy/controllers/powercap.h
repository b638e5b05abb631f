// policy/controllers/powercap.h: "powercap", the power-capping baseline: Ecomap's carbon
// threshold (the same ThresholdMap, policy/threshold.h) picks the fastest mode whose budget fits
// (policy/planning.h: FastestModeUnder); mapping (every tenant in one stage on the GPU) and
// variants (every tenant's best) are fixed; only the mode moves.
//
// Triggers: the first step, a change of the threshold in force, demand changes
// (policy/controllers/base.h); SLO breaches are ignored.
#pragma once

#include "policy/controllers/base.h"
#include "policy/threshold.h"

namespace ecomap::policy::controllers {

class PowercapController final : public ControllerBase {
 public:
  explicit PowercapController(const ControllerContext& ctx);

 private:
  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override;

  ThresholdMap map_;
};

}  // namespace ecomap::policy::controllers
