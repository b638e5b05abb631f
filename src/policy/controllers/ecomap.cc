// policy/controllers/ecomap.h: Ecomap's controller: threshold, search, substitution, raise.
#include "policy/controllers/ecomap.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "policy/planning.h"

namespace ecomap::policy::controllers {

using platform::Configuration;

namespace {
// The intensity a carbon-blind twin's objective sees: any constant (the objective's carbon terms
// are relative to a reference at the same intensity, so it cancels: energy is what counts).
constexpr GramsPerKwh kBlindIntensity{100};
}  // namespace

EcomapController::EcomapController(const ControllerContext& ctx) : EcomapController("ecomap", ctx, nullptr) {}

EcomapController::EcomapController(std::string name, const ControllerContext& ctx, Variant variant)
    : EcomapController(std::move(name), ctx, nullptr, std::move(variant)) {}

EcomapController::EcomapController(std::string name, const ControllerContext& ctx,
                                   std::shared_ptr<const estimator::Predictor> predictor, Variant variant)
    : ControllerBase(std::move(name), ctx),
      no_budget_(ResolveNoBudget(*ctx.platform, ctx.options.no_budget_mode_w)),
      variant_(std::move(variant)),
      map_(ctx.options.threshold, BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).front(),
           BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).back()) {
  if (predictor) {
    predictor_ = std::move(predictor);
  } else {
    corrected_ = std::make_shared<estimator::CorrectedPredictor>(ctx.predictor);
    predictor_ = corrected_;
  }
}

std::vector<EcomapController::Run> EcomapController::Runs(const std::vector<int>& modes) const {
  return {{modes, opt().algorithm, opt().budget_evals}};
}

StatusOr<Decision> EcomapController::DoStep(const ControlInput& in, const Triggers& trig) {
  if (corrected_ && in.measured && last_) {
    Status s = corrected_->Observe(last_->config, *in.measured);
    if (!s.ok()) return s.WithContext("folding the measurement into the estimator");
  }
  ThresholdDecision td;
  GramsPerKwh intensity = in.intensity;
  if (variant_.carbon_blind) {
    const std::vector<Watts> ladder = BudgetLadder(info(), opt().no_budget_mode_w);
    const Watts hi = ladder.back(), lo = ladder.front();
    td.threshold = hi - (hi - lo) * variant_.position;
    td.changed = false;
    intensity = kBlindIntensity;
  } else {
    map_.Observe(in.intensity);
    td = map_.Decide(in.intensity, in.forecast);
  }
  std::string why;
  if (trig.first) {
    why = "first decision";
  } else if (td.changed) {
    why = fmt::format("threshold {:.1f} -> {:.1f} W", last_threshold_.value(), td.threshold.value());
  } else if (!trig.demand.empty()) {
    why = trig.demand;
  } else if (trig.breach) {
    why = "SLO breach for " + std::to_string(opt().slo_breach_intervals) + " intervals (" + trig.breach_what + ")";
  }
  if (why.empty()) {
    std::string k = fmt::format("threshold {:.1f} W unchanged, demand unchanged", td.threshold.value());
    k += trig.breach_what.empty() ? ", SLOs held" : ", breach " + std::to_string(breach_count_) + "/" +
                                                          std::to_string(opt().slo_breach_intervals) + " (" +
                                                          trig.breach_what + ")";
    return Keep(k);
  }
  last_threshold_ = td.threshold;
  const SloGuard guard = PlanningGuard(*predictor_, opt());
  ECOMAP_ASSIGN_OR_RETURN(Plan p, MakePlan(GuardedTenants(in.tenants, guard), td.threshold, intensity));
  Decision d;
  d.config = p.best.config;
  d.predicted = p.best.predicted;
  d.threshold = p.threshold;
  d.replanned = true;
  d.threshold_raised = p.raised;
  d.variants = ModelsOf(d.config);
  d.evaluations = p.evaluations;
  d.search_ms = p.search_ms;
  d.predict_ms = p.predict_ms;
  const platform::PowerMode* mode = info().FindMode(d.config.power_mode);
  d.reason = fmt::format("re-plan ({}): {}, predicted {:.1f} W", why, mode ? mode->name : "?", d.predicted.power.value());
  if (p.raised) {
    d.reason += fmt::format("; threshold raised {:.1f} -> {:.1f} W: no mapping held the SLOs even with the lightest variants",
                            td.threshold.value(), p.threshold.value());
  }
  if (!p.best.score.feasible) d.reason += "; NO configuration holds every SLO (best effort)";
  if (!p.substitutions.empty()) {
    d.reason += "; substituted";
    for (const auto& s : p.substitutions) d.reason += " " + s;
  } else if (p.best.score.feasible) {
    d.reason += ", best variants";
  }
  // The margin is the long-standing default and goes unsaid; a calibrated bound is named.
  if (guard.calibrated) d.reason += "; planned against the " + guard.Describe();
  return d;
}

StatusOr<search::MappingResult> EcomapController::SearchOnce(const std::vector<TenantSpec>& tenants,
                                                             const std::vector<int>& idx, const std::vector<int>& modes,
                                                             Watts threshold, GramsPerKwh intensity,
                                                             const search::MappingReference& ref,
                                                             const std::vector<Configuration>& warm, Plan* plan) {
  search::MappingResult best;
  bool have = false;
  for (const Run& run : Runs(modes)) {
    const std::vector<int>& g = run.modes;
    const int budget = run.budget;
    search::MappingSpaceOptions so;
    so.max_stages = variant_.units.empty() ? opt().max_stages : 1;
    so.modes = g;
    so.units = variant_.units;
    ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space,
                            search::MappingSpace::Create(info(), PinVariants(tenants, idx), so));
    std::vector<Configuration> ws;
    for (const Configuration& c : warm) {
      if (space.Encode(c).ok()) ws.push_back(c);
    }
    search::MappingGoal goal;
    goal.threshold = threshold;
    goal.intensity = intensity;
    goal.weights = opt().weights;
    goal.reference = ref;
    ECOMAP_ASSIGN_OR_RETURN(auto optimizer, search::MakeMappingOptimizer(run.algorithm, space, budget));
    search::Budget b;
    b.max_evals = budget;
    ECOMAP_ASSIGN_OR_RETURN(search::MappingResult r,
                            search::SearchMapping(space, *predictor_, goal, *optimizer, b, opt().seed + searches_++, ws));
    plan->evaluations += r.search.evaluations;
    plan->search_ms += r.search_ms;
    plan->predict_ms += r.predict_ms;
    if (!have || r.score.cost < best.score.cost) {
      best = std::move(r);
      have = true;
    }
  }
  return best;
}

StatusOr<EcomapController::Plan> EcomapController::MakePlan(const std::vector<TenantSpec>& tenants, Watts threshold,
                                                            GramsPerKwh intensity) {
  Plan plan;
  const std::vector<Watts> ladder = BudgetLadder(info(), opt().no_budget_mode_w);
  // The normalisation: best variants, all on the GPU, highest mode.
  search::MappingReference ref;
  {
    const auto t0 = Clock::now();
    ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace full,
                            search::MappingSpace::Create(info(), PinVariants(tenants, BestIndices(tenants))));
    ECOMAP_ASSIGN_OR_RETURN(ref, search::ComputeReference(full, *predictor_, intensity));
    plan.predict_ms += MsSince(t0);
    plan.evaluations += 1;
  }
  size_t rung = 0;
  for (size_t i = 0; i < ladder.size(); ++i) {
    if (ladder[i] <= threshold + Watts{1e-6}) rung = i;
  }
  std::vector<Configuration> warm;
  if (last_) warm.push_back(last_->config);
  search::MappingResult fallback;
  bool have_fallback = false;
  for (size_t r = rung; r < ladder.size(); ++r) {
    const Watts thr = r == rung ? std::max(threshold, ladder[rung]) : ladder[r];
    std::vector<int> modes;
    if (opt().filter_modes_by_budget) {
      modes = ModesUnder(info(), thr, opt().no_budget_mode_w);
    } else {
      for (const auto& m : info().modes) modes.push_back(m.id);
    }
    std::vector<int> idx = BestIndices(tenants);
    std::vector<Configuration> extra;
    std::vector<std::string> subs;
    for (;;) {
      std::vector<Configuration> ws = warm;
      ws.insert(ws.end(), extra.begin(), extra.end());
      ECOMAP_ASSIGN_OR_RETURN(search::MappingResult res, SearchOnce(tenants, idx, modes, thr, intensity, ref, ws, &plan));
      if (res.score.feasible) {
        plan.best = std::move(res);
        plan.threshold = thr;
        plan.raised = r != rung;
        plan.substitutions = subs;
        return plan;
      }
      if (!have_fallback || r + 1 == ladder.size()) {
        // Best effort if nothing holds: the last search at the highest rung (lightest variants).
        fallback = res;
        have_fallback = true;
      }
      if (!variant_.substitution) break;  // the ablation: raise the threshold instead
      const auto t0 = Clock::now();
      ECOMAP_ASSIGN_OR_RETURN(std::vector<DowngradeCandidate> cands,
                              RankDowngrades(info(), tenants, idx, res.config, res.predicted, *predictor_));
      plan.predict_ms += MsSince(t0);
      plan.evaluations += static_cast<int>(cands.size());
      if (cands.empty()) break;
      const DowngradeCandidate& c = cands.front();
      idx[c.tenant] -= 1;
      subs.push_back(tenants[c.tenant].name + ":" + c.from + "->" + c.to);
      extra = {c.config};
    }
  }
  plan.best = std::move(fallback);
  plan.threshold = ladder.back();
  plan.raised = ladder.back() > threshold + Watts{1e-6};
  return plan;
}

}  // namespace ecomap::policy::controllers
