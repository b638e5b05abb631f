// policy/controller.h: the controllers: from the carbon signal and the tenants' demand to a
// decision (power threshold, power mode, every tenant's variant, cut points and units).
//
// One interface for Ecomap's controller and the baselines, so that replay (trace-driven
// evaluation) and the serve daemon drive them alike:
//   * "ecomap":     relative carbon -> threshold map (policy/threshold.h) with hysteresis and
//                   forecast; LA-MCTS over mappings with the estimator under the threshold;
//                   mixed-quality substitution when no mapping holds the SLOs; SLO feedback
//                   (measured p95 above the SLO for N intervals -> re-plan with the estimator
//                   corrected by the measurements). Re-plans only on a threshold change, an
//                   SLO breach, a demand or tenant change, never on every tick.
//   * "maxn":       every tenant's best variant entirely on the GPU, highest mode.
//   * "throughput": best mapping at the highest mode, carbon-agnostic.
//   * "powercap":   the same carbon threshold, a fixed mapping and variants; only the mode moves.
//   * "clover":     variant choice by lambda*carbon - (1-lambda)*accuracy with simulated
//                   annealing; no power knob (highest mode), fixed mapping.
//   * "energy":     Ecomap's twin without the carbon signal: the threshold fixed at
//                   energy_position of the budget range, plans minimising energy under the SLOs
//                   (the same search, estimator, substitution); isolates carbon-awareness.
//   * "ecomap-max-threshold", "ecomap-no-substitution", "ecomap-gpu-only": ablations of Ecomap
//                   (threshold fixed at the highest budget; no mixed-quality substitution, the
//                   threshold rises instead; every tenant in one stage on the GPU).
//   * "ecomap-unpriced": Ecomap without the accuracy price (accuracy is given up only where the
//                   threshold leaves no mapping that holds the SLOs); isolates the price.
//   * "perfect-predictor": Ecomap's procedure with the simulator itself as predictor and a
//                   longer search (what a perfect estimator would change; not a bound).
//
//   ControllerContext ctx{.platform = &sim.info(), .predictor = transformer, .oracle = sim_pred};
//   ECOMAP_ASSIGN_OR_RETURN(auto c, MakeController("ecomap", ctx));
//   for each interval:
//     ControlInput in{.time = t, .intensity = ci, .forecast = fc, .tenants = demand,
//                     .measured = last_measured};
//     ECOMAP_ASSIGN_OR_RETURN(Decision d, c->Step(in));
//     apply(d.config);  last_measured = measure();
//
// The exact rules live beside each controller: policy/controllers/base.h (the common re-plan
// triggers, breach counting, Keep), ecomap.h (mode budgets, substitution order, raise rule),
// perfect_predictor.h, maxn.h, throughput.h, powercap.h, clover.h (the baselines' objectives and
// triggers); the building blocks in policy/planning.h. This header offers the interface, the
// options and the factory.
//
// Thread-safety: a Controller is used by one thread at a time (it keeps state between steps).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "estimator/predictor.h"
#include "platform/types.h"
#include "policy/tenant.h"
#include "policy/threshold.h"
#include "search/mapping.h"

namespace ecomap::policy {

struct ControlInput {
  TimePoint time{};
  GramsPerKwh intensity{0};
  bool intensity_stale = false;             // the carbon source served an old/fallback value
  std::vector<GramsPerKwh> forecast;        // coming hours; may be empty
  std::vector<TenantSpec> tenants;          // the demand now (rates may change hour by hour)
  // What the configuration in force did over the last interval (nullopt at the first step).
  std::optional<platform::Performance> measured;
};

struct Decision {
  platform::Configuration config;   // to apply (mode + every tenant's stages)
  platform::Performance predicted;  // the controller's predictor's figures for it
  Watts threshold{0};               // the power threshold in force (0: none, e.g. maxn)
  bool replanned = false;           // a new search ran this step
  bool threshold_raised = false;    // no configuration held the SLOs: threshold raised a mode
  std::string reason;               // one line: why this decision (or why no re-plan)
  std::vector<std::string> variants;  // per tenant, the model in service
  int evaluations = 0;              // predictor evaluations this step
  double decision_ms = 0;           // wall time of Step
  double search_ms = 0;             // of which search overhead
  double predict_ms = 0;            // of which prediction
};

struct ControllerOptions {
  // Ecomap's map from carbon to power threshold. Its depth is 0.5 here: the dirtiest hour takes
  // the threshold half way down the budget range, and the accuracy price (below) decides how
  // much more accuracy a dirty hour is worth spending (ThresholdMapConfig's own default, 1, is
  // the whole range).
  ThresholdMapConfig threshold = [] {
    ThresholdMapConfig c;
    c.depth = 0.5;
    return c;
  }();
  search::ObjectiveWeights weights;
  std::string algorithm = "lamcts";   // the optimizer
  int budget_evals = 300;             // per search
  int oracle_budget_evals = 300;      // "perfect-predictor": its extra search
  int max_stages = 2;
  int slo_breach_intervals = 2;       // N consecutive breaching intervals trigger a re-plan
  double clover_lambda = 0.5;
  // "energy": where its carbon-blind threshold sits in the budget range (0: the highest budget,
  // 1: the lowest); the knob that trades its accuracy for energy.
  double energy_position = 0.5;
  // "ecomap" and its twins: the price of one point of request-weighted accuracy loss against
  // the plan's energy, in units of the reference configuration's power at the reference
  // intensity (policy/controllers/ecomap.h, "Accuracy priced against carbon"). 0: not priced
  // (a plan keeps the most accurate variants that hold the SLOs under the threshold). >= 0.
  double accuracy_price = 0.05;
  uint64_t seed = 1;
  // Added by policy: the budget of a mode without one (MAXN), for the threshold map and the
  // mode filter; 0: 1.4 x the largest nominal budget (policy/planning.h).
  Watts no_budget_mode_w{0};
  // Added by policy: "ecomap"/"perfect-predictor" allow only the modes whose budget is <= the threshold
  // (true), or every mode with predicted power <= threshold as the only power rule (false).
  bool filter_modes_by_budget = true;
  // Added by policy: how "ecomap"/"perfect-predictor" guard the SLOs against measurement noise and
  // estimator error (policy/planning.h, PlanningGuard); breaches are judged against the real SLO.
  // When the predictor offers a calibrated p95 bound at `confidence`
  // (estimator::Predictor::P95BoundFactor), a configuration holds a tenant's SLO when that upper
  // bound (predicted p95 x the bound factor) is <= the SLO; otherwise, or with confidence 0, the
  // plan holds predicted p95 <= slo x (1 - slo_margin). confidence: 0 or [0.5, 1); slo_margin:
  // [0, 0.5).
  double confidence = 0.95;
  double slo_margin = 0.05;
  Status Validate() const;
};

struct ControllerContext {
  const platform::PlatformInfo* platform = nullptr;            // required, must outlive
  std::shared_ptr<const estimator::Predictor> predictor;       // required
  std::shared_ptr<const estimator::Predictor> oracle;          // the simulator: "perfect-predictor" only
  ControllerOptions options;
};

class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string name() const = 0;
  // One control interval. Errors: invalid tenants (InvalidArgument), the predictor's errors.
  virtual StatusOr<Decision> Step(const ControlInput& input) = 0;
};

// "ecomap", "maxn", "throughput", "powercap", "clover", "perfect-predictor"; NotFound listing the names.
StatusOr<std::unique_ptr<Controller>> MakeController(const std::string& name,
                                                     const ControllerContext& context);
std::vector<std::string> ControllerNames();

}  // namespace ecomap::policy
