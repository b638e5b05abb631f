// policy/controllers/ecomap.h: Ecomap's controller: threshold, search, substitution, raise.
#include "policy/controllers/ecomap.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "estimator/memo.h"
#include "policy/planning.h"
#include "zoo/model.h"

namespace ecomap::policy::controllers {

using platform::Configuration;

namespace {
// The intensity a carbon-blind twin's objective sees: any constant (the objective's carbon terms
// are relative to a reference at the same intensity, so it cancels: energy is what counts).
constexpr GramsPerKwh kBlindIntensity{100};
// The smallest evaluation budget of a resumed plan's searches (LA-MCTS's smallest initial design
// plus room for the warm starts and a few iterations).
constexpr int kResumeMinBudget = 40;

// `sum` plus the tenants' open-loop offered loads, added one by one (req/s).
double AddOfferedRps(const std::vector<TenantSpec>& tenants, double sum) {
  for (const TenantSpec& t : tenants) {
    if (t.arrival == platform::ArrivalKind::kOpenLoop) sum += t.rate_rps;
  }
  return sum;
}

EcomapVariant Resuming() {
  EcomapVariant v;
  v.resume = true;
  return v;
}
}  // namespace

EcomapController::EcomapController(const ControllerContext& ctx)
    : EcomapController("ecomap", ctx, nullptr, Resuming()) {}

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
  // The carbon weight of the accuracy price: CI against the middle of the map's band (the
  // reference intensity); 0 in an always-clean hour; 1 for a carbon-blind twin (its constant
  // intensity is its own reference) or before the band exists.
  carbon_weight_ = 1;
  if (!variant_.carbon_blind) {
    const double ref_ci = 0.5 * (td.band_low.value() + td.band_high.value());
    if (in.intensity.value() <= opt().threshold.always_clean_below_g) {
      carbon_weight_ = 0;
    } else if (ref_ci > 0) {
      carbon_weight_ = in.intensity.value() / ref_ci;
    }
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
  } else if (p.best.score.feasible && p.priced.empty()) {
    d.reason += ", best variants";
  }
  if (!p.priced.empty()) {
    d.reason += fmt::format("; accuracy priced at carbon weight {:.2f}:", carbon_weight_);
    for (const auto& s : p.priced) d.reason += " " + s;
  }
  // The margin is the long-standing default and goes unsaid; a calibrated bound is named.
  if (guard.calibrated) d.reason += "; planned against the " + guard.Describe();
  return d;
}

StatusOr<search::MappingResult> EcomapController::SearchOnce(const std::vector<TenantSpec>& tenants,
                                                             const std::vector<int>& idx, const std::vector<int>& modes,
                                                             Watts threshold, GramsPerKwh intensity,
                                                             const search::MappingReference& ref,
                                                             const std::vector<Configuration>& warm,
                                                             const estimator::Predictor& predictor, Plan* plan,
                                                             int budget_override, std::vector<Configuration>* top) {
  search::MappingResult best;
  bool have = false;
  for (const Run& run : Runs(modes)) {
    const std::vector<int>& g = run.modes;
    search::MappingSpaceOptions so;
    so.max_stages = variant_.units.empty() ? opt().max_stages : 1;
    so.modes = g;
    so.units = variant_.units;
    ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space,
                            search::MappingSpace::Create(info(), PinVariants(tenants, idx), so));
    // A shorter budget never goes under what the algorithm needs (all of "exhaustive"'s space)
    // nor over the run's own.
    const long long least = search::MinimumMappingBudget(run.algorithm, space);
    const int budget = budget_override > 0 ? static_cast<int>(std::min<long long>(
                                                 run.budget, std::max<long long>(budget_override, least)))
                                           : run.budget;
    std::vector<Configuration> ws;
    // A short search keeps two thirds of its budget for the optimizer, and at least what the
    // algorithm needs (LA-MCTS's initial design, "exhaustive"'s space).
    const size_t cap = budget_override > 0
                           ? static_cast<size_t>(std::max<long long>(0, std::min<long long>(budget / 3, budget - least)))
                           : warm.size();
    for (const Configuration& c : warm) {
      if (ws.size() < cap && space.Encode(c).ok()) ws.push_back(c);
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
                            search::SearchMapping(space, predictor, goal, *optimizer, b, opt().seed + searches_++, ws));
    plan->evaluations += r.search.evaluations;
    plan->search_ms += r.search_ms;
    plan->predict_ms += r.predict_ms;
    if (!have || r.score.cost < best.score.cost) {
      if (top != nullptr) {
        // The best distinct configurations of this run, best first.
        constexpr size_t kTop = 6;
        std::vector<size_t> order(r.search.history.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          return r.search.history[a].f > r.search.history[b].f;
        });
        top->clear();
        for (size_t i : order) {
          if (top->size() >= kTop) break;
          Configuration c = space.Decode(r.search.history[i].x);
          if (std::find(top->begin(), top->end(), c) == top->end()) top->push_back(std::move(c));
        }
      }
      best = std::move(r);
      have = true;
    }
  }
  return best;
}

bool EcomapController::Eased(const std::vector<TenantSpec>& tenants, Watts threshold) const {
  if (threshold > last_plan_threshold_ + Watts{1e-6}) return true;
  for (size_t i = 0; i < tenants.size() && i < last_plan_tenants_.size(); ++i) {
    const TenantSpec& a = last_plan_tenants_[i];
    const TenantSpec& b = tenants[i];
    if (b.arrival == platform::ArrivalKind::kOpenLoop ? b.rate_rps < a.rate_rps : b.concurrency < a.concurrency) return true;
  }
  return false;
}

bool EcomapController::CanResume(const std::vector<TenantSpec>& tenants) const {
  if (!variant_.resume || !variant_.substitution || !resumable_ || !last_) return false;
  if (tenants.size() != last_plan_tenants_.size() || last_idx_.size() != tenants.size()) return false;
  if (last_->config.tenants.size() != tenants.size()) return false;
  for (size_t i = 0; i < tenants.size(); ++i) {
    if (tenants[i].name != last_plan_tenants_[i].name || Ladder(tenants[i]) != Ladder(last_plan_tenants_[i])) return false;
    if (last_->config.tenants[i].name != tenants[i].name) return false;
    if (last_idx_[i] < 0 || last_idx_[i] >= static_cast<int>(Ladder(tenants[i]).size())) return false;
  }
  return true;
}

StatusOr<std::optional<search::MappingResult>> EcomapController::ResumeLadder(
    const std::vector<TenantSpec>& tenants, const std::vector<int>& modes, Watts threshold, GramsPerKwh intensity,
    const search::MappingReference& ref, const estimator::Predictor& predictor, std::vector<int> idx, bool probe_up,
    Plan* plan, search::MappingResult* fallback) {
  const int budget = std::max(kResumeMinBudget, opt().budget_evals / 2);
  const int probe_budget = std::max(kResumeMinBudget, opt().budget_evals / 6);
  const int up_budget = std::max(kResumeMinBudget, opt().budget_evals / 6);
  const std::vector<double> shares = RequestShares(tenants);
  std::vector<std::vector<std::string>> ladders;
  for (const TenantSpec& t : tenants) ladders.push_back(Ladder(t));
  // The request-weighted accuracy of variants `idx` (what an upgrade buys).
  auto accuracy = [&](const std::vector<int>& idx) {
    double a = 0;
    for (size_t t = 0; t < tenants.size(); ++t) {
      const zoo::ModelInfo* m = zoo::FindModel(ladders[t][static_cast<size_t>(idx[t])]);
      a += (m ? m->accuracy : 0.0) * shares[t];
    }
    return a;
  };
  // Warm starts: `first`, then the configuration in force and the last plan's best ones, all
  // with the variants swapped to `idx` (SwapVariant keeps every stage's unit).
  const int fastest = FastestModeUnder(info(), threshold, opt().no_budget_mode_w);
  std::vector<Configuration> base;
  if (last_ && last_->config.tenants.size() == tenants.size()) base.push_back(last_->config);
  if (resumable_) {
    for (const Configuration& c : last_top_) {
      if (c.tenants.size() == tenants.size() && std::find(base.begin(), base.end(), c) == base.end()) base.push_back(c);
    }
  }
  auto warm_for = [&](const std::vector<int>& idx, std::vector<Configuration> first) {
    std::vector<Configuration> ws;
    first.insert(first.end(), base.begin(), base.end());
    for (const Configuration& c : first) {
      Configuration s = c;
      for (size_t t = 0; t < tenants.size() && t < s.tenants.size(); ++t) {
        const std::string& m = ladders[t][static_cast<size_t>(idx[t])];
        if (s.tenants[t].model != m) s = SwapVariant(info(), s, t, m);
      }
      if (std::find(ws.begin(), ws.end(), s) == ws.end()) ws.push_back(s);
      // The same mapping in the fastest mode the threshold allows: the headroom an upgrade or a
      // heavier demand needs (a short search rarely leaves the warm starts' mode).
      if (fastest >= 0 && s.power_mode != fastest) {
        s.power_mode = fastest;
        if (std::find(ws.begin(), ws.end(), s) == ws.end()) ws.push_back(std::move(s));
      }
    }
    return ws;
  };
  auto finish = [&](const std::vector<int>& idx, search::MappingResult res, std::vector<Configuration> top) {
    plan->idx = idx;
    plan->substitutions.clear();
    for (size_t t = 0; t < tenants.size(); ++t) {
      const size_t best = ladders[t].size() - 1;
      if (static_cast<size_t>(idx[t]) != best) {
        plan->substitutions.push_back(tenants[t].name + ":" + ladders[t][best] + "->" +
                                      ladders[t][static_cast<size_t>(idx[t])]);
      }
    }
    plan->top = std::move(top);
    return std::optional<search::MappingResult>(std::move(res));
  };

  // Upwards (only when the conditions eased): from the variants in force, a probe of every
  // one-step upgrade in decreasing order of the accuracy it buys; the first feasible one is
  // taken, and the probes go on from there.
  std::optional<search::MappingResult> up;
  std::vector<Configuration> up_top;
  while (probe_up) {
    std::vector<std::pair<double, size_t>> order;
    for (size_t t = 0; t < tenants.size(); ++t) {
      if (static_cast<size_t>(idx[t]) + 1 >= ladders[t].size()) continue;
      std::vector<int> cand = idx;
      cand[t] += 1;
      order.emplace_back(-accuracy(cand), t);
    }
    std::stable_sort(order.begin(), order.end());
    bool moved = false;
    for (const auto& [neg_acc, t] : order) {
      std::vector<int> cand = idx;
      cand[t] += 1;
      std::vector<Configuration> ptop;
      ECOMAP_ASSIGN_OR_RETURN(search::MappingResult probe,
                              SearchOnce(tenants, cand, modes, threshold, intensity, ref, warm_for(cand, up_top),
                                         predictor, plan, up_budget, &ptop));
      if (!probe.score.feasible) continue;
      idx = std::move(cand);
      up = std::move(probe);
      up_top = std::move(ptop);
      moved = true;
      break;
    }
    if (!moved) break;
  }
  // Down (only when no upgrade holds): the variants in force, then one downgrade at a time as a
  // fresh plan does, each step screened by a probe.
  std::vector<Configuration> extra = up_top;
  for (bool first = !up.has_value();; first = false) {
    if (!up && !first) {
      std::vector<Configuration> ptop;
      ECOMAP_ASSIGN_OR_RETURN(search::MappingResult probe,
                              SearchOnce(tenants, idx, modes, threshold, intensity, ref, warm_for(idx, extra),
                                         predictor, plan, probe_budget, &ptop));
      if (probe.score.feasible) {
        up = std::move(probe);
        up_top = std::move(ptop);
        extra = up_top;
      } else {
        *fallback = probe;
        ECOMAP_ASSIGN_OR_RETURN(search::MappingResult step, Downgrade(tenants, probe, predictor, plan, &idx));
        if (idx.empty()) return std::optional<search::MappingResult>();
        extra = {step.config};
        continue;
      }
    }
    // The full search at `idx`, warm-started by the probe's best.
    std::vector<Configuration> top;
    ECOMAP_ASSIGN_OR_RETURN(search::MappingResult res, SearchOnce(tenants, idx, modes, threshold, intensity, ref,
                                                                  warm_for(idx, extra), predictor, plan, budget, &top));
    if (up && (!res.score.feasible || up->score.cost < res.score.cost)) {
      // The probe's best is one of the warm starts, so only a predictor that answers
      // differently for the same configuration gets here.
      res = std::move(*up);
      top = up_top;
    }
    if (res.score.feasible) return finish(idx, std::move(res), std::move(top));
    *fallback = res;
    ECOMAP_ASSIGN_OR_RETURN(search::MappingResult step, Downgrade(tenants, res, predictor, plan, &idx));
    if (idx.empty()) return std::optional<search::MappingResult>();
    extra = {step.config};
    up.reset();
  }
}

StatusOr<search::MappingResult> EcomapController::PriceAccuracy(
    const std::vector<TenantSpec>& tenants, const std::vector<int>& modes, Watts threshold, GramsPerKwh intensity,
    const search::MappingReference& ref, const estimator::Predictor& predictor, std::vector<int> idx,
    search::MappingResult res, Plan* plan) {
  const double price = opt().accuracy_price;
  if (price <= 0 || !variant_.priced || !variant_.substitution || !res.score.feasible || idx.size() != tenants.size() ||
      res.config.tenants.size() != tenants.size()) {
    return res;
  }
  // The priced cost: ScoreConfiguration over the tenants' whole ladders (so accuracy loss is
  // counted against every tenant's best variant) with the energy term weighted by the carbon
  // weight, no CDP term and the accuracy price; its feasibility is the search's.
  std::vector<std::vector<std::string>> ladders;
  std::vector<search::MappingTenant> whole;
  for (const TenantSpec& t : tenants) {
    ladders.push_back(Ladder(t));
    whole.push_back(ToMappingTenant(t, ladders.back()));
  }
  search::MappingSpaceOptions so;
  so.max_stages = variant_.units.empty() ? opt().max_stages : 1;
  so.modes = modes;
  so.units = variant_.units;
  ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space, search::MappingSpace::Create(info(), whole, so));
  search::MappingGoal goal;
  goal.threshold = threshold;
  goal.intensity = intensity;
  goal.weights = opt().weights;
  goal.weights.energy = carbon_weight_;
  goal.weights.cdp = 0;
  goal.weights.accuracy = price;
  goal.reference = ref;
  // One rate of carbon per point for the whole window, as the bound's Lagrangian: power against
  // the mean reference power of the plans so far (not this plan's own, which grows with the
  // demand), and the loss, a rate-weighted mean within the interval, scaled by the interval's
  // offered load against the mean (the window's loss weights every request alike).
  if (plans_ > 0 && ref_power_sum_ > 0) goal.reference.power = Watts{ref_power_sum_ / plans_};
  const double offered = AddOfferedRps(tenants, 0);
  if (plans_ > 0 && offered > 0 && offered_sum_ > 0) goal.weights.accuracy = price * offered / (offered_sum_ / plans_);
  const platform::ModelLookup lookup = platform::DefaultModelLookup();
  res.score = search::ScoreConfiguration(space, goal, res.config, res.predicted);
  if (!res.score.feasible) return res;
  bool moved = false;
  for (;;) {
    // Every one-variant move down, each in every allowed mode (a lighter variant often holds the
    // SLOs in a slower, cheaper mode), predicted in one batch.
    std::vector<Configuration> cands;
    std::vector<size_t> who;
    for (size_t t = 0; t < tenants.size(); ++t) {
      if (idx[t] <= 0) continue;
      const Configuration swapped = SwapVariant(info(), res.config, t, ladders[t][static_cast<size_t>(idx[t] - 1)]);
      for (int m : modes) {
        Configuration c = swapped;
        c.power_mode = m;
        if (!platform::ValidateConfiguration(info(), c, lookup).ok() || !space.Encode(c).ok()) continue;
        if (std::find(cands.begin(), cands.end(), c) != cands.end()) continue;
        cands.push_back(std::move(c));
        who.push_back(t);
      }
    }
    if (cands.empty()) break;
    const auto t0 = Clock::now();
    ECOMAP_ASSIGN_OR_RETURN(std::vector<platform::Performance> perf, predictor.PredictBatch(cands));
    plan->predict_ms += MsSince(t0);
    plan->evaluations += static_cast<int>(cands.size());
    size_t best = cands.size();
    search::MappingScore best_score;
    for (size_t k = 0; k < cands.size(); ++k) {
      search::MappingScore sc = search::ScoreConfiguration(space, goal, cands[k], perf[k]);
      if (sc.feasible && (best == cands.size() || sc.cost < best_score.cost)) {
        best = k;
        best_score = std::move(sc);
      }
    }
    if (best == cands.size() || !(best_score.cost < res.score.cost - 1e-9)) {
      // No move that keeps the mapping pays (often none is feasible: a plan in a fast mode whose
      // mapping does not hold the SLOs in a slower one). Each one-variant move down then gets a
      // short search of its own, warm-started by the swapped configuration, and the one with the
      // lowest priced cost is taken if it lowers it.
      size_t moved_t = tenants.size();
      search::MappingResult moved_res;
      for (size_t t = 0; t < tenants.size(); ++t) {
        if (idx[t] <= 0) continue;
        std::vector<int> down = idx;
        down[t] -= 1;
        const Configuration swapped =
            SwapVariant(info(), res.config, t, ladders[t][static_cast<size_t>(down[t])]);
        ECOMAP_ASSIGN_OR_RETURN(search::MappingResult r,
                                SearchOnce(tenants, down, modes, threshold, intensity, ref, {swapped}, predictor, plan,
                                           std::max(kResumeMinBudget, opt().budget_evals / 6)));
        r.score = search::ScoreConfiguration(space, goal, r.config, r.predicted);
        if (r.score.feasible && r.score.cost < res.score.cost - 1e-9 &&
            (moved_t == tenants.size() || r.score.cost < moved_res.score.cost)) {
          moved_t = t;
          moved_res = std::move(r);
        }
      }
      if (moved_t == tenants.size()) break;
      plan->priced.push_back(tenants[moved_t].name + ":" + res.config.tenants[moved_t].model + "->" +
                             moved_res.config.tenants[moved_t].model + " (re-mapped)");
      idx[moved_t] -= 1;
      res = std::move(moved_res);
      moved = true;
      continue;
    }
    const size_t t = who[best];
    plan->priced.push_back(tenants[t].name + ":" + res.config.tenants[t].model + "->" + cands[best].tenants[t].model);
    idx[t] -= 1;
    res.config = std::move(cands[best]);
    res.predicted = std::move(perf[best]);
    res.score = std::move(best_score);
    moved = true;
  }
  if (!moved) return res;
  // A short search at the priced variants, warm-started by the move's configuration: a lighter
  // variant may fit another mapping better than the swapped one.
  ECOMAP_ASSIGN_OR_RETURN(search::MappingResult refined,
                          SearchOnce(tenants, idx, modes, threshold, intensity, ref, {res.config}, predictor, plan,
                                     std::max(kResumeMinBudget, opt().budget_evals / 6)));
  search::MappingScore sc = search::ScoreConfiguration(space, goal, refined.config, refined.predicted);
  if (sc.feasible && sc.cost < res.score.cost) {
    refined.score = std::move(sc);
    return refined;
  }
  return res;
}

StatusOr<search::MappingResult> EcomapController::Downgrade(const std::vector<TenantSpec>& tenants,
                                                            const search::MappingResult& res,
                                                            const estimator::Predictor& predictor, Plan* plan,
                                                            std::vector<int>* idx) {
  const auto t0 = Clock::now();
  ECOMAP_ASSIGN_OR_RETURN(std::vector<DowngradeCandidate> cands,
                          RankDowngrades(info(), tenants, *idx, res.config, res.predicted, predictor));
  plan->predict_ms += MsSince(t0);
  plan->evaluations += static_cast<int>(cands.size());
  if (cands.empty()) {
    idx->clear();
    return res;
  }
  const DowngradeCandidate& c = cands.front();
  (*idx)[c.tenant] -= 1;
  search::MappingResult step;
  step.config = c.config;
  step.predicted = c.predicted;
  return step;
}

StatusOr<EcomapController::Plan> EcomapController::MakePlan(const std::vector<TenantSpec>& tenants, Watts threshold,
                                                            GramsPerKwh intensity) {
  Plan plan;
  // One memo of predictions for the whole plan: the searches of the substitution ladder and of
  // the budget rungs, the accuracy price's searches, their warm starts and the downgrade
  // rankings ask about overlapping configurations (estimator/memo.h; the predictor does not
  // change within a decision). Every variant plans through it (the twins with Ecomap's own
  // machinery); the transformer's figures for a configuration may differ in the last bits with
  // the batch it was predicted in, so a memo's figures are those of the first batch.
  estimator::MemoPredictor memo_of_plan(*predictor_);
  const estimator::Predictor& memo = memo_of_plan;
  const std::vector<Watts> ladder = BudgetLadder(info(), opt().no_budget_mode_w);
  // The normalisation: best variants, all on the GPU, highest mode.
  search::MappingReference ref;
  {
    const auto t0 = Clock::now();
    ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace full,
                            search::MappingSpace::Create(info(), PinVariants(tenants, BestIndices(tenants))));
    ECOMAP_ASSIGN_OR_RETURN(ref, search::ComputeReference(full, memo, intensity));
    plan.predict_ms += MsSince(t0);
    plan.evaluations += 1;
  }
  ref_power_sum_ += ref.power.value();
  offered_sum_ = AddOfferedRps(tenants, offered_sum_);
  plans_ += 1;
  size_t rung = 0;
  for (size_t i = 0; i < ladder.size(); ++i) {
    if (ladder[i] <= threshold + Watts{1e-6}) rung = i;
  }
  // What the next re-plan resumes from.
  auto done = [&](Plan p) {
    resumable_ = p.best.score.feasible && p.idx.size() == tenants.size();
    last_raised_ = p.raised;
    last_served_threshold_ = p.threshold;
    last_idx_ = p.idx;
    last_top_ = p.top;
    last_plan_tenants_ = tenants;
    last_plan_threshold_ = threshold;
    return p;
  };
  const bool resume = CanResume(tenants);
  const bool eased = resume && Eased(tenants, threshold);
  // When the plan in force had to raise the threshold and the conditions are no easier, the
  // rungs under the one it was served at hold no mapping now either: a resumed plan starts there.
  size_t start = rung;
  if (resume && last_raised_ && !eased) {
    for (size_t i = rung; i < ladder.size(); ++i) {
      if (ladder[i] <= last_served_threshold_ + Watts{1e-6}) start = i;
    }
  }
  std::vector<Configuration> warm;
  if (last_) warm.push_back(last_->config);
  search::MappingResult fallback;
  bool have_fallback = false;
  for (size_t r = start; r < ladder.size(); ++r) {
    const Watts thr = r == rung ? std::max(threshold, ladder[rung]) : ladder[r];
    std::vector<int> modes;
    if (opt().filter_modes_by_budget) {
      modes = ModesUnder(info(), thr, opt().no_budget_mode_w);
    } else {
      for (const auto& m : info().modes) modes.push_back(m.id);
    }
    if (variant_.resume && variant_.substitution) {
      // A resumed plan starts every rung from the variants in force, a fresh one from the best
      // variants; then down the screened ladder.
      // Upgrades are probed only at a rung as high as the one the plan in force was served at
      // (under it, even the variants in force held no mapping before the conditions eased).
      const bool up = eased && (!last_raised_ || ladder[r] >= last_served_threshold_ - Watts{1e-6});
      plan.resumed = plan.resumed || resume;
      ECOMAP_ASSIGN_OR_RETURN(std::optional<search::MappingResult> res,
                              ResumeLadder(tenants, modes, thr, intensity, ref, memo,
                                           resume ? last_idx_ : BestIndices(tenants), up, &plan, &fallback));
      have_fallback = true;
      if (res) {
        plan.threshold = thr;
        plan.raised = r != rung;
        ECOMAP_ASSIGN_OR_RETURN(plan.best,
                                PriceAccuracy(tenants, modes, thr, intensity, ref, memo, plan.idx, std::move(*res), &plan));
        return done(std::move(plan));
      }
      continue;
    }
    std::vector<int> idx = BestIndices(tenants);
    std::vector<Configuration> extra;
    std::vector<std::string> subs;
    for (;;) {
      std::vector<Configuration> ws = warm;
      ws.insert(ws.end(), extra.begin(), extra.end());
      std::vector<Configuration> top;
      ECOMAP_ASSIGN_OR_RETURN(search::MappingResult res,
                              SearchOnce(tenants, idx, modes, thr, intensity, ref, ws, memo, &plan, 0, &top));
      if (res.score.feasible) {
        plan.threshold = thr;
        plan.raised = r != rung;
        plan.substitutions = subs;
        plan.idx = idx;
        plan.top = std::move(top);
        ECOMAP_ASSIGN_OR_RETURN(plan.best, PriceAccuracy(tenants, modes, thr, intensity, ref, memo, idx, std::move(res), &plan));
        return done(std::move(plan));
      }
      if (!have_fallback || r + 1 == ladder.size()) {
        // Best effort if nothing holds: the last search at the highest rung (lightest variants).
        fallback = res;
        have_fallback = true;
      }
      if (!variant_.substitution) break;  // the ablation: raise the threshold instead
      const auto t0 = Clock::now();
      ECOMAP_ASSIGN_OR_RETURN(std::vector<DowngradeCandidate> cands,
                              RankDowngrades(info(), tenants, idx, res.config, res.predicted, memo));
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
  return done(std::move(plan));
}

}  // namespace ecomap::policy::controllers
