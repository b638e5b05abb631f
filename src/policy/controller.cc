// policy/controller.h: ControllerOptions::Validate and the factory. The controllers live in
// policy/controllers/ (one pair per controller, the shared skeleton in base.h).
#include "policy/controller.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "policy/controllers/clover.h"
#include "policy/controllers/ecomap.h"
#include "policy/controllers/maxn.h"
#include "policy/controllers/perfect_predictor.h"
#include "policy/controllers/powercap.h"
#include "policy/controllers/throughput.h"

namespace ecomap::policy {

Status ControllerOptions::Validate() const {
  ECOMAP_RETURN_IF_ERROR(threshold.Validate());
  ECOMAP_RETURN_IF_ERROR(weights.Validate());
  if (!(accuracy_price >= 0) || !std::isfinite(accuracy_price)) {
    return InvalidArgument(fmt::format("controller: accuracy_price {} must be a finite number >= 0 (0: accuracy not priced)",
                                       accuracy_price));
  }
  if (!(energy_position >= 0 && energy_position <= 1)) {
    return InvalidArgument("controller: energy_position must be in [0, 1] (0: the highest budget, 1: the lowest)");
  }
  static const std::set<std::string> algos = {"lamcts", "random", "sa", "exhaustive"};
  if (!algos.count(algorithm)) {
    return InvalidArgument("controller: algorithm '" + algorithm + "' is not known; use lamcts, random, sa or exhaustive");
  }
  if (budget_evals < 20 || budget_evals > 1000000) {
    return InvalidArgument("controller: budget_evals = " + std::to_string(budget_evals) +
                           " is out of range; use 20..1000000 (default 300)");
  }
  if (oracle_budget_evals < 20 || oracle_budget_evals > 10000000) {
    return InvalidArgument("controller: oracle_budget_evals = " + std::to_string(oracle_budget_evals) +
                           " is out of range; use 20..10000000 (default 5000)");
  }
  if (max_stages < 1 || max_stages > 8) {
    return InvalidArgument("controller: max_stages = " + std::to_string(max_stages) + " is out of range; use 1..8");
  }
  if (slo_breach_intervals < 1) {
    return InvalidArgument("controller: slo_breach_intervals = " + std::to_string(slo_breach_intervals) +
                           " must be >= 1");
  }
  if (!(clover_lambda >= 0 && clover_lambda <= 1)) {
    return InvalidArgument("controller: clover_lambda = " + std::to_string(clover_lambda) + " must be in [0, 1]");
  }
  if (!(slo_margin >= 0 && slo_margin < 0.5)) {
    return InvalidArgument("controller: slo_margin = " + std::to_string(slo_margin) + " must be in [0, 0.5)");
  }
  if (!(confidence == 0 || (confidence >= 0.5 && confidence < 1))) {
    return InvalidArgument("controller: confidence = " + std::to_string(confidence) +
                           " must be in [0.5, 1) (the p95 bound's level, default 0.95), or 0 to plan with "
                           "slo_margin only");
  }
  if (!(no_budget_mode_w.value() >= 0) || !std::isfinite(no_budget_mode_w.value())) {
    return InvalidArgument("controller: no_budget_mode_w must be >= 0 W (0: 1.4 x the largest mode budget)");
  }
  return Status::Ok();
}

std::vector<std::string> ControllerNames() {
  return {"ecomap",  "maxn",   "throughput", "powercap", "clover", "perfect-predictor",
          "energy", "ecomap-max-threshold", "ecomap-no-substitution", "ecomap-gpu-only",
          "ecomap-unpriced"};
}

StatusOr<std::unique_ptr<Controller>> MakeController(const std::string& name, const ControllerContext& context) {
  std::vector<std::string> names = ControllerNames();
  if (name == "oracle") {
    return NotFound("controller 'oracle' was renamed 'perfect-predictor' (Ecomap's procedure with the "
                    "simulator as predictor: not a bound)");
  }
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return NotFound("unknown controller '" + name + "'; known controllers: " + list);
  }
  if (context.platform == nullptr) return InvalidArgument("controller " + name + ": ControllerContext::platform is required");
  if (context.platform->modes.empty() || context.platform->units.empty()) {
    return InvalidArgument("controller " + name + ": platform " + context.platform->name + " has no modes or units");
  }
  if (context.predictor == nullptr) return InvalidArgument("controller " + name + ": ControllerContext::predictor is required");
  if (name == "perfect-predictor" && context.oracle == nullptr) {
    return InvalidArgument("controller perfect-predictor: ControllerContext::oracle (the simulator predictor) is required");
  }
  ECOMAP_RETURN_IF_ERROR(context.options.Validate());
  std::unique_ptr<Controller> c;
  if (name == "ecomap") c = std::make_unique<controllers::EcomapController>(context);
  if (name == "perfect-predictor") c = std::make_unique<controllers::PerfectPredictorController>(context);
  if (name == "maxn") c = std::make_unique<controllers::MaxnController>(context);
  if (name == "throughput") c = std::make_unique<controllers::ThroughputController>(context);
  if (name == "powercap") c = std::make_unique<controllers::PowercapController>(context);
  if (name == "clover") c = std::make_unique<controllers::CloverController>(context);
  using Variant = controllers::EcomapController::Variant;
  if (name == "energy" || name == "ecomap-max-threshold") {
    Variant v;
    v.carbon_blind = true;
    v.position = name == "energy" ? context.options.energy_position : 0.0;
    c = std::make_unique<controllers::EcomapController>(name, context, v);
  }
  if (name == "ecomap-no-substitution") {
    Variant v;
    v.substitution = false;
    c = std::make_unique<controllers::EcomapController>(name, context, v);
  }
  if (name == "ecomap-unpriced") {
    Variant v;
    v.resume = true;
    v.priced = false;
    c = std::make_unique<controllers::EcomapController>(name, context, v);
  }
  if (name == "ecomap-gpu-only") {
    std::vector<std::string> gpus;
    for (const platform::ComputeUnit& u : context.platform->units) {
      if (u.kind == platform::UnitKind::kGpu) gpus.push_back(u.id);
    }
    if (gpus.empty()) return InvalidArgument("controller ecomap-gpu-only: platform " + context.platform->name + " has no GPU");
    Variant v;
    v.units = gpus;
    c = std::make_unique<controllers::EcomapController>(name, context, v);
  }
  return c;
}

}  // namespace ecomap::policy
