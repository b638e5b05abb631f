// policy/controllers/throughput.h: "throughput", the carbon-agnostic performance baseline: the
// fastest mapping of every tenant's best variant in the highest mode.
//
// Triggers: the first step, demand changes and SLO breaches for slo_breach_intervals intervals
// (policy/controllers/base.h); the carbon signal is ignored. No threshold.
// Objective (minimised, by the configured algorithm with budget_evals, starting from the
// reference configuration: all on the GPU): the mean over tenants of p95 / SLO (each capped at
// 100), plus 10 per saturated tenant, 10 + the relative excess per tenant above its SLO, and 10
// per tenant under its minimum throughput.
#pragma once

#include <cstdint>
#include <vector>

#include "policy/controllers/base.h"

namespace ecomap::policy::controllers {

class ThroughputController final : public ControllerBase {
 public:
  explicit ThroughputController(const ControllerContext& ctx) : ControllerBase("throughput", ctx) {}

 private:
  // The objective above for predicted performance `p`.
  static double Cost(const std::vector<TenantSpec>& tenants, const platform::Performance& p);
  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override;

  uint64_t searches_ = 0;
};

}  // namespace ecomap::policy::controllers
