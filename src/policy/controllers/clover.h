// policy/controllers/clover.h: "clover", the Clover baseline (SC'23, mixed-quality models) as
// published: simulated annealing (budget_evals) over the whole decision space, the same mapping
// space as Ecomap's (power mode, each tenant's variant, cut points, units: GPU, DLAs, CPU;
// max_stages), on
//   lambda * carbon - (1 - lambda) * accuracy      (lambda = clover_lambda),
// with no power threshold.
//   * carbon term: predicted power x CI over the reference's power (the best variants, all on
//     the GPU at the highest mode) x the mean CI seen over the threshold map's window
//     (ThresholdMapConfig::window readings);
//   * accuracy term: request-weighted accuracy loss over the loss of every tenant's lightest
//     variant;
//   * a configuration that breaks an SLO (p95 above it, or saturated) costs 10 + its relative
//     p95 excess (capped at 100 per tenant, +1 per saturated tenant): Clover keeps its SLOs.
// The reference point is always evaluated as a candidate.
//
// Triggers: the first step, demand changes (policy/controllers/base.h), and a carbon-intensity
// change of more than 10% since its last plan; SLO breaches are ignored. No threshold.
#pragma once

#include <cstdint>
#include <deque>

#include "policy/controllers/base.h"

namespace ecomap::policy::controllers {

class CloverController final : public ControllerBase {
 public:
  explicit CloverController(const ControllerContext& ctx) : ControllerBase("clover", ctx) {}

 private:
  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override;

  std::deque<double> window_;
  double planned_ci_ = -1;
  uint64_t searches_ = 0;
};

}  // namespace ecomap::policy::controllers
