// policy/controllers/ecomap.h: "ecomap", Ecomap's controller (and the base of
// "perfect-predictor", policy/controllers/perfect_predictor.h).
//
// Triggers: the common ones (policy/controllers/base.h) plus a change of the threshold in force
// (ThresholdMap with hysteresis and forecast, policy/threshold.h); in that order of precedence
// in the reason: first decision, threshold change, demand change, SLO breach for
// slo_breach_intervals intervals. Otherwise the decision in force is kept.
//
// Decision:
//   * budgets of the modes (policy/planning.h) -> the threshold allows the modes whose budget
//     is <= threshold (filter_modes_by_budget; otherwise every mode, the power penalty of the
//     objective holding predicted power <= threshold as the only power rule);
//   * the variants start at every tenant's best; SearchMapping (the configured algorithm,
//     LA-MCTS by default, budget_evals, warm start: the decision in force and the last
//     substitution's configuration) with the estimator corrected online by every measurement
//     (estimator::CorrectedPredictor);
//   * if the best mapping found breaks an SLO, RankDowngrades picks the tenant to move one rung
//     down and the search runs again; when every tenant is on its lightest variant and still no
//     mapping holds, the threshold rises to the next budget rung (threshold_raised, the reason
//     says from/to) and the procedure restarts from the best variants; when no rung holds, the
//     last search at the highest rung is served as best effort (the reason says so);
//   * upgrades come back by themselves: every plan starts from the best variants;
//   * the objective's energy and CDP terms are normalised by the "maxn" configuration (best
//     variants on the GPU in the highest mode) predicted at the interval's intensity, the same
//     for every search of one plan;
//   * every plan guards the SLOs (policy/planning.h, PlanningGuard): with a predictor that
//     offers a calibrated p95 bound at ControllerOptions::confidence (default 95%), a tenant's
//     SLO holds when predicted p95 x the bound factor <= SLO (the reason names the bound);
//     otherwise the plan is made against slo x (1 - slo_margin) (default 5%). Either way a plan
//     at the edge of an SLO is not broken by measurement noise or the estimator's error;
//     breaches are judged against the real SLO.
//
// Accuracy priced against carbon (every variant with substitution except "ecomap-unpriced";
// ControllerOptions::accuracy_price, default 0.05; 0 turns it off). The threshold decides what
// a plan may draw; the price decides how much accuracy an hour is worth giving up. After the
// plan above found the most accurate variants that hold the SLOs under the threshold, it moves
// down while that lowers the priced cost
//   J = w x P / P_mean + price x (R / R_mean) x accuracy_loss_pts
// (P the predicted power, accuracy loss request-weighted within the interval against every
// tenant's best variant; search::ScoreConfiguration with these weights and no CDP term), with
// the carbon weight w = CI / the reference intensity, the middle of the threshold map's band
// [p10, p90] of the seen and forecast intensities (w = 0 at or under always_clean_below_g; a
// carbon-blind twin sees its constant intensity as its own reference, so w = 1: it spends
// accuracy evenly). P_mean is the mean of the controller's plans' reference powers since it
// started and R_mean the mean of their total open-loop offered loads, R the interval's: so J is, up to one constant for the
// whole window, carbon + price x the window's request-weighted loss (this plan's own reference
// grows with the demand and would price a busy hour's watts and points differently). Each step
// predicts, in one batch, every one-variant move down (SwapVariant of the configuration in force)
// in every mode the threshold allows and takes the feasible one with the lowest J if it is lower
// than the current J. When no such move pays (a plan in a fast mode often holds the SLOs in a
// slower one only with another mapping), every one-variant move down gets a short search of its
// own (budget_evals / 6, at least 40), warm-started by the swapped configuration, and the one
// with the lowest J is taken if it lowers J (the reason names it "(re-mapped)"). After the
// moves one short search at the final variants, warm-started by the configuration, may find a
// better mapping for them. This is the Lagrangian rule the hindsight bound applies over a whole
// window (replay/bound.h): with one rate of carbon per point for every hour, accuracy goes where
// the carbon per point saved is highest, i.e. in the dirty hours. A resumed re-plan starts from
// the variants the threshold allowed (Plan::idx), not from the priced ones, so a cleaner hour
// gets its accuracy back.
//
// Every plan (every variant) asks its predictor through one memo (estimator/memo.h): a
// configuration met again within the plan (decoding duplicates, the searches of the ladder, of
// the rungs and of the price, warm starts, downgrade rankings) is predicted once.
//
// Resumed re-plans ("ecomap" only: EcomapVariant::resume; the twins, the ablations and
// "perfect-predictor" plan as above). A resumed plan walks the substitution ladder with short
// searches and spends a full one only where it serves:
//   * the ladder starts at the variants the last plan's threshold allowed (before the accuracy
//     price moved any down) when that plan was served feasible for the same tenants (same names
//     and variant ladders), else at the best variants;
//   * when the conditions eased since the last plan (a higher threshold, or a lower demand of
//     some tenant), every one-step upgrade is probed in decreasing order of the request-weighted
//     accuracy it buys (a search of budget_evals / 6, at least 40), the first feasible one is
//     taken and the probes go on from there (upgrades come back); under no easier conditions
//     no upgrade is probed (the heavier variants did not hold before);
//   * then a search of budget_evals / 2 (at least 40) at those variants; while it finds nothing
//     feasible, RankDowngrades moves one tenant down, each rung of variants screened by a search
//     of budget_evals / 6 (at least 40) before the full one;
//   * every search is warm-started by the configuration in force and the last plan's six best
//     configurations, with the variants swapped (SwapVariant) and each also in the fastest mode
//     the threshold allows (at most a third of a short search's budget);
//   * when the plan in force had to raise the threshold and the conditions are no easier, the
//     rungs under the one it was served at are skipped (they held nothing then).
// On the default scenario's US week this cut the decision time's p95 about tenfold, with carbon,
// SLO violations and accuracy loss no worse (232.94 against 233.06 g, 0.89% against 1.04%, 2.83
// against 2.89 pts; docs/replay.md, "Decision time").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "estimator/correction.h"
#include "estimator/predictor.h"
#include "policy/controllers/base.h"
#include "policy/threshold.h"

namespace ecomap::policy::controllers {

// What a twin or an ablation of Ecomap changes (the defaults are Ecomap itself).
struct EcomapVariant {
  // The threshold ignores the carbon signal: it stays at `position` of the budget range
  // (0 = the highest budget, 1 = the lowest), and the objective sees a constant intensity, so
  // the plans minimise energy under the SLOs ("energy", "ecomap-max-threshold").
  bool carbon_blind = false;
  double position = 0;
  // Mixed-quality substitution when no mapping holds the SLOs (false: raise the threshold).
  bool substitution = true;
  // Units the mapping may use (empty: every unit); with units set, one stage per tenant.
  std::vector<std::string> units;
  // Re-plans resume the substitution ladder of the plan in force with short screening searches
  // (see the top comment, "Resumed re-plans"); "ecomap" sets it, its twins and ablations and
  // "perfect-predictor" do not.
  bool resume = false;
  // Accuracy priced against carbon after each feasible plan (ControllerOptions::accuracy_price;
  // false: "ecomap-unpriced", the ablation without the price).
  bool priced = true;
};


class EcomapController : public ControllerBase {
 public:
  using Variant = EcomapVariant;

  explicit EcomapController(const ControllerContext& ctx);
  // "energy", "ecomap-max-threshold", "ecomap-no-substitution", "ecomap-gpu-only",
  // "ecomap-unpriced".
  EcomapController(std::string name, const ControllerContext& ctx, Variant variant);

 protected:
  // For "perfect-predictor": another name, and `predictor` (not corrected by the measurements) in place of
  // the corrected ControllerContext::predictor.
  EcomapController(std::string name, const ControllerContext& ctx,
                   std::shared_ptr<const estimator::Predictor> predictor, Variant variant = {});

  // One search run of a plan step: the modes, the optimizer and its evaluation budget.
  struct Run {
    std::vector<int> modes;
    std::string algorithm;
    int budget;
  };
  // The runs of one search over the allowed `modes` (the best of all is taken). "ecomap": one
  // run of the configured algorithm with budget_evals.
  virtual std::vector<Run> Runs(const std::vector<int>& modes) const;

 private:
  struct Plan {
    search::MappingResult best;
    bool have = false;
    Watts threshold{0};
    bool raised = false;
    std::vector<std::string> substitutions;
    // The variants moved down by the accuracy price (PriceAccuracy): "tenant:from->to".
    std::vector<std::string> priced;
    // The variants served (indices into the ladders) and the served search's best
    // configurations: what the next re-plan resumes from.
    std::vector<int> idx;
    std::vector<platform::Configuration> top;
    bool resumed = false;
    int evaluations = 0;
    double search_ms = 0, predict_ms = 0;
  };

  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override;
  // One search over `modes` with the tenants fixed on `idx`; `budget` > 0 replaces the runs'
  // evaluation budgets; `top` (optional) receives the best distinct configurations evaluated.
  StatusOr<search::MappingResult> SearchOnce(const std::vector<TenantSpec>& tenants, const std::vector<int>& idx,
                                             const std::vector<int>& modes, Watts threshold, GramsPerKwh intensity,
                                             const search::MappingReference& ref,
                                             const std::vector<platform::Configuration>& warm,
                                             const estimator::Predictor& predictor, Plan* plan, int budget = 0,
                                             std::vector<platform::Configuration>* top = nullptr);
  // One rung of a resumed or screened plan from variants `idx` (see the top comment, "Resumed
  // re-plans"; `probe_up`: probe upgrades first); nullopt when the ladder went past its bottom
  // (the caller goes on with the next rung). `fallback` receives the last infeasible search.
  StatusOr<std::optional<search::MappingResult>> ResumeLadder(const std::vector<TenantSpec>& tenants,
                                                              const std::vector<int>& modes, Watts threshold,
                                                              GramsPerKwh intensity, const search::MappingReference& ref,
                                                              const estimator::Predictor& predictor, std::vector<int> idx,
                                                              bool probe_up, Plan* plan, search::MappingResult* fallback);
  // Whether the conditions eased since the last plan: a higher threshold or a lower demand of
  // some tenant (heavier variants may hold again).
  bool Eased(const std::vector<TenantSpec>& tenants, Watts threshold) const;
  // Accuracy priced against carbon (see the top comment): from the feasible `res` at variants
  // `idx`, the cheapest priced one-variant move down, until none lowers the priced cost. Returns
  // the result to serve (`res` when no move pays); the moves go to plan->priced.
  StatusOr<search::MappingResult> PriceAccuracy(const std::vector<TenantSpec>& tenants, const std::vector<int>& modes,
                                                Watts threshold, GramsPerKwh intensity,
                                                const search::MappingReference& ref,
                                                const estimator::Predictor& predictor, std::vector<int> idx,
                                                search::MappingResult res, Plan* plan);
  // Moves `idx` one rung down by RankDowngrades of `res` and returns the swapped configuration
  // (config and predicted); `idx` empty when every tenant is on its lightest variant.
  StatusOr<search::MappingResult> Downgrade(const std::vector<TenantSpec>& tenants, const search::MappingResult& res,
                                            const estimator::Predictor& predictor, Plan* plan, std::vector<int>* idx);
  // Whether the ladder of the last plan applies to `tenants` (same names and variant ladders).
  bool CanResume(const std::vector<TenantSpec>& tenants) const;
  StatusOr<Plan> MakePlan(const std::vector<TenantSpec>& tenants, Watts threshold, GramsPerKwh intensity);

  Watts no_budget_;
  Variant variant_;
  ThresholdMap map_;
  Watts last_threshold_{0};
  // The plan's carbon weight: CI / the threshold map's reference intensity (1 when carbon-blind).
  double carbon_weight_ = 1;
  // The price's window-wide normalisation: the sums of the plans' reference powers and of their
  // total open-loop offered loads, over the plans made so far (the current one included).
  double ref_power_sum_ = 0, offered_sum_ = 0;
  int plans_ = 0;
  std::shared_ptr<estimator::CorrectedPredictor> corrected_;
  std::shared_ptr<const estimator::Predictor> predictor_;
  uint64_t searches_ = 0;
  // The last plan's variants and best configurations (Plan::idx, Plan::top) and the tenants it was
  // made for; resumable when it was served feasible (raised or not).
  bool resumable_ = false;
  std::vector<int> last_idx_;
  std::vector<platform::Configuration> last_top_;
  std::vector<TenantSpec> last_plan_tenants_;
  Watts last_plan_threshold_{0};
  bool last_raised_ = false;          // the last plan raised the threshold ...
  Watts last_served_threshold_{0};    // ... to this rung
};

}  // namespace ecomap::policy::controllers
