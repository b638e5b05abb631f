// policy/controllers/maxn.h: "maxn", the carbon-agnostic baseline: every tenant's best variant
// as one stage on the GPU (or the first unit that runs it), in the highest mode.
//
// Triggers: the first step and demand changes only (policy/controllers/base.h); SLO breaches
// and the carbon signal are ignored. No threshold (Decision::threshold = 0).
#pragma once

#include "policy/controllers/base.h"

namespace ecomap::policy::controllers {

class MaxnController final : public ControllerBase {
 public:
  explicit MaxnController(const ControllerContext& ctx) : ControllerBase("maxn", ctx) {}

 private:
  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override;
};

}  // namespace ecomap::policy::controllers
