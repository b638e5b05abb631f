// policy/planning.h: the building blocks of the controllers' decisions, public for tests and
// for tools: which power modes a threshold allows, the variant ladders, and mixed-quality
// substitution (which tenant to downgrade first).
//
// Modes and budgets: a mode's budget is its nominal budget (PowerMode::budget); a mode without
// one (MAXN) counts as `no_budget_w` (ControllerOptions::no_budget_mode_w; 0: 1.4 x the largest
// nominal budget, i.e. 42 W on the Xavier, where the simulator predicts 42.0 W at MAXN with every
// unit saturated). A threshold allows the modes whose budget is <= threshold (at least the mode
// with the lowest budget). The budget ladder is the sorted list of distinct budgets; "raise the
// threshold one mode" moves to the next rung.
//
// Substitution: when no mapping of the current variants holds the SLOs, the controller
// downgrades one tenant to its next-lighter variant (the previous rung of its ladder, the
// variants in increasing accuracy). RankDowngrades scores every possible one-step downgrade of
// the best configuration found: the swapped configuration keeps every stage's unit and scales the
// cut points to the lighter model's blocks; it is predicted in one batch, and
//   accuracy_cost_pts = (accuracy(current) - accuracy(lighter)) x the tenant's request share
//   saved_ms          = sum over tenants of the drop of min(p95, 10 x SLO) (contention relief
//                       of the other tenants counts)
//   ratio             = accuracy_cost_pts / saved_ms (infinite when nothing is saved)
// and the candidates are ranked by ratio (then by accuracy cost, then by tenant order).
//
// SLO guard: a plan counts on a tenant's "planned p95", its predicted p95 times one factor
// (PlanningGuard), and a configuration holds the SLO when the planned p95 <= SLO. With a
// predictor that offers a calibrated bound at ControllerOptions::confidence
// (estimator::Predictor::P95BoundFactor, split conformal) the factor is that bound's f: the
// planned p95 is the p95's upper bound at that confidence. Without one (the analytic baseline, the
// simulator, an uncalibrated model, confidence 0) the factor is 1 / (1 - slo_margin), i.e. the
// plan holds predicted p95 <= slo x (1 - slo_margin) as before. The mapping search compares
// predicted p95 with each tenant's SLO, so GuardedTenants hands it every SLO scaled by
// 1 / factor: the same rule, one mechanism for every controller that guards its SLOs.
//
// Thread-safety: pure functions; the predictor's PredictBatch must be thread-safe if shared.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "estimator/predictor.h"
#include "platform/types.h"
#include "policy/controller.h"

namespace ecomap::policy {

// How a plan guards the p95 SLOs (see the top comment).
struct SloGuard {
  // The SLO a search must hold is slo x slo_scale; planned p95 = predicted p95 / slo_scale.
  // Calibrated: 1 / bound factor; otherwise 1 - slo_margin.
  double slo_scale = 1;
  bool calibrated = false;   // from the predictor's bound at `confidence`
  double confidence = 0;     // calibrated: the confidence asked for
  // "95% p95 bound: predicted x 1.083" or "5% SLO margin".
  std::string Describe() const;
};
// The guard of a plan with `predictor` under `options` (confidence, slo_margin).
SloGuard PlanningGuard(const estimator::Predictor& predictor, const ControllerOptions& options);
// The p95 a plan counts on for a tenant: predicted p95 / guard.slo_scale.
Milliseconds PlannedP95(Milliseconds predicted_p95, const SloGuard& guard);
// `tenants` as the search must see them: every SLO x guard.slo_scale (a zero SLO, "none", stays).
std::vector<TenantSpec> GuardedTenants(std::vector<TenantSpec> tenants, const SloGuard& guard);

// The budget a controller assigns to a mode (see the top comment).
Watts ModeBudget(const platform::PlatformInfo& info, const platform::PowerMode& mode, Watts no_budget_w);
// The resolved no-budget figure: no_budget_w, or 1.4 x the largest nominal budget when 0.
Watts ResolveNoBudget(const platform::PlatformInfo& info, Watts no_budget_w);
// Distinct budgets, ascending.
std::vector<Watts> BudgetLadder(const platform::PlatformInfo& info, Watts no_budget_w);
// The ids of the modes whose budget is <= threshold (at least those with the lowest budget),
// in id order.
std::vector<int> ModesUnder(const platform::PlatformInfo& info, Watts threshold, Watts no_budget_w);
// Among ModesUnder(threshold): the one with the highest budget (ties: the lowest id).
int FastestModeUnder(const platform::PlatformInfo& info, Watts threshold, Watts no_budget_w);

// A tenant's variants in increasing accuracy: spec.variants, or the whole family.
std::vector<std::string> Ladder(const TenantSpec& spec);

// The mapping search's view of a tenant: its demand and SLO with the given variants.
search::MappingTenant ToMappingTenant(const TenantSpec& spec, std::vector<std::string> variants);

// The request share of each tenant: open-loop rate / total (closed loop: its concurrency
// counts as its rate in requests/s units; all zero: equal shares).
std::vector<double> RequestShares(const std::vector<TenantSpec>& tenants);

// `config` with tenant `index` running `model`: same units per stage, cut points scaled to the
// model's blocks (duplicates merged). Falls back to one stage on the first stage's unit, then on
// the GPU, when the scaled stages are not valid on `info`.
platform::Configuration SwapVariant(const platform::PlatformInfo& info, const platform::Configuration& config,
                                    size_t index, const std::string& model);

struct DowngradeCandidate {
  size_t tenant = 0;
  std::string from, to;
  double accuracy_cost_pts = 0;  // request-weighted
  double saved_ms = 0;           // sum of p95 drops (capped at 10 x SLO)
  double ratio = 0;              // accuracy_cost_pts / saved_ms; +inf when saved_ms <= 0
  platform::Configuration config;     // the swapped configuration
  platform::Performance predicted;    // its prediction
};

// Every one-step downgrade of `current` (tenants in the order of `tenants`, `variant_index`
// their positions on Ladder(spec)), ranked best first. Empty when every tenant is on its
// lightest variant. Errors: the predictor's.
StatusOr<std::vector<DowngradeCandidate>> RankDowngrades(const platform::PlatformInfo& info,
                                                         const std::vector<TenantSpec>& tenants,
                                                         const std::vector<int>& variant_index,
                                                         const platform::Configuration& current,
                                                         const platform::Performance& current_perf,
                                                         const estimator::Predictor& predictor);

}  // namespace ecomap::policy
