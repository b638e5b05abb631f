// The controllers of policy/controller.h. The rules each one follows are in the header's top
// comment; the details chosen here:
//
// Carbon input: ControlInput::intensity is used as given, stale or not (the carbon part's
// fallback chain decides what to serve); the forecast joins the threshold map's window.
//
// Re-plan triggers (every controller): the first step; a tenant change (set, family, variants,
// SLO, arrival kind, concurrency, minimum throughput); a rate change of a tenant since the last
// plan by more than +1% or -10% (a rise may break an SLO at once; a small fall only wastes a
// little); and per controller: "ecomap"/"oracle"/"powercap" a change of the threshold in force
// (ThresholdMap with hysteresis); "ecomap"/"throughput" measured SLO breaches (p95 above the SLO,
// saturation, or throughput under the minimum) in slo_breach_intervals consecutive intervals;
// "clover" a carbon-intensity change of more than 10% since its last plan. Otherwise the
// decision in force is kept (replanned = false, no predictor call).
//
// "ecomap" decision: budgets of the modes (planning.h) -> the threshold allows the modes whose
// budget is <= threshold (the power penalty of the objective holds predicted power <= threshold
// as well); the variants start at every tenant's best; SearchMapping (LA-MCTS, budget_evals,
// warm start: the decision in force and the last substitution's configuration) with the
// estimator corrected online by every measurement (estimator::CorrectedPredictor); if the best
// mapping found breaks an SLO, RankDowngrades picks the tenant to move one rung down and the
// search runs again; when every tenant is on its lightest variant and still no mapping holds, the
// threshold rises to the next budget rung (threshold_raised, reason says from/to) and the
// procedure restarts from the best variants. Upgrades come back by themselves: every plan
// starts from the best variants. The objective's energy and CDP terms are normalised by the
// "maxn" configuration (best variants on the GPU in the highest mode) predicted at the interval's
// intensity, the same for every search of one plan.
// Every ecomap/oracle plan is made against slo x (1 - slo_margin) (default 5%), so that a
// plan at the edge of an SLO is not broken by measurement noise or the estimator's error;
// breaches are judged against the real SLO.
// "oracle": the same procedure with ControllerContext::oracle (the simulator; no correction):
// every search is ecomap's LA-MCTS search plus one simulated-annealing run per allowed mode
// with oracle_budget_evals / (number of modes) evaluations each (at least 150), the best of all.
#include "policy/controller.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <numeric>
#include <set>

#include "estimator/correction.h"
#include "policy/planning.h"
#include "policy/scenario.h"
#include "zoo/model.h"

namespace ecomap::policy {

Status ControllerOptions::Validate() const {
  ECOMAP_RETURN_IF_ERROR(threshold.Validate());
  ECOMAP_RETURN_IF_ERROR(weights.Validate());
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
  if (!(no_budget_mode_w.value() >= 0) || !std::isfinite(no_budget_mode_w.value())) {
    return InvalidArgument("controller: no_budget_mode_w must be >= 0 W (0: 1.4 x the largest mode budget)");
  }
  return Status::Ok();
}

std::vector<std::string> ControllerNames() { return {"ecomap", "maxn", "throughput", "powercap", "clover", "oracle"}; }

namespace {

using platform::Configuration;
using platform::Performance;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::vector<std::string> ModelsOf(const Configuration& c) {
  std::vector<std::string> out;
  for (const auto& t : c.tenants) out.push_back(t.model);
  return out;
}

// Fills what a search-based re-plan records in its decision: the search's evaluations (plus
// the reference configuration), prediction and search time since `t0`, and the chosen variants.
void RecordSearch(const search::SearchResult& r, double predict_ms, Clock::time_point t0, Decision* d) {
  d->evaluations = r.evaluations + 1;
  d->predict_ms = predict_ms;
  d->search_ms = std::max(0.0, MsSince(t0) - predict_ms);
  d->replanned = true;
  d->variants = ModelsOf(d->config);
}

// Tenants with only the variants at `idx` on their ladders.
std::vector<search::MappingTenant> Fixed(const std::vector<TenantSpec>& tenants, const std::vector<int>& idx) {
  std::vector<search::MappingTenant> out;
  for (size_t i = 0; i < tenants.size(); ++i) {
    std::vector<std::string> ladder = Ladder(tenants[i]);
    out.push_back(ToMappingTenant(tenants[i], {ladder[static_cast<size_t>(idx[i])]}));
  }
  return out;
}

std::vector<int> BestIndices(const std::vector<TenantSpec>& tenants) {
  std::vector<int> idx;
  for (const TenantSpec& t : tenants) idx.push_back(static_cast<int>(Ladder(t).size()) - 1);
  return idx;
}

// Every tenant's model in one stage on the GPU (or the first unit that runs it), in `mode`.
Configuration AllOnGpu(const platform::PlatformInfo& info, const std::vector<TenantSpec>& tenants,
                       const std::vector<std::string>& models, int mode) {
  Configuration c;
  c.power_mode = mode;
  const platform::ModelLookup lookup = platform::DefaultModelLookup();
  for (size_t i = 0; i < tenants.size(); ++i) {
    platform::TenantConfig tc;
    tc.name = tenants[i].name;
    tc.model = models[i];
    tc.arrival = tenants[i].arrival;
    tc.rate_rps = tenants[i].rate_rps;
    tc.concurrency = tenants[i].concurrency;
    const zoo::ModelInfo* m = zoo::FindModel(models[i]);
    const int n = m ? static_cast<int>(m->blocks.size()) : 1;
    std::vector<std::string> order;
    for (const auto& u : info.units) {
      if (u.kind == platform::UnitKind::kGpu) order.push_back(u.id);
    }
    for (const auto& u : info.units) order.push_back(u.id);
    for (const std::string& u : order) {
      tc.stages = {{0, n, u}};
      Configuration one;
      one.power_mode = mode;
      one.tenants = {tc};
      if (platform::ValidateConfiguration(info, one, lookup).ok()) break;
    }
    c.tenants.push_back(std::move(tc));
  }
  return c;
}

// Per tenant: did the measurement break its SLO (p95, saturation, minimum throughput)?
std::vector<std::string> Breaches(const std::vector<TenantSpec>& specs, const Configuration& config,
                                  const Performance& measured) {
  std::vector<std::string> out;
  for (size_t i = 0; i < config.tenants.size() && i < measured.tenants.size(); ++i) {
    const TenantSpec* s = nullptr;
    for (const auto& t : specs) {
      if (t.name == config.tenants[i].name) s = &t;
    }
    if (s == nullptr) continue;
    SloVerdict v = JudgeSlo(*s, measured.tenants[i]);
    if (v.violated) out.push_back(s->name + " " + v.why);
  }
  return out;
}

// Why the demand differs from the one the last plan was made for; empty when it does not.
std::string DemandChange(const std::vector<TenantSpec>& before, const std::vector<TenantSpec>& now) {
  if (before.size() != now.size()) return "tenants changed (" + std::to_string(before.size()) + " -> " + std::to_string(now.size()) + ")";
  for (size_t i = 0; i < now.size(); ++i) {
    const TenantSpec& a = before[i];
    const TenantSpec& b = now[i];
    if (a.name != b.name || a.family != b.family || a.variants != b.variants || a.slo_p95 != b.slo_p95 ||
        a.arrival != b.arrival || a.concurrency != b.concurrency || a.min_throughput_rps != b.min_throughput_rps) {
      return "tenant '" + b.name + "' changed";
    }
    if (b.arrival == platform::ArrivalKind::kOpenLoop &&
        (b.rate_rps > a.rate_rps * 1.01 || b.rate_rps < a.rate_rps * 0.90)) {
      return "rate of '" + b.name + "' " + Fmt("%.1f", a.rate_rps) + " -> " + Fmt("%.1f", b.rate_rps) + " req/s";
    }
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// The shared skeleton: validation, trigger bookkeeping, timing.

class ControllerBase : public Controller {
 public:
  ControllerBase(std::string name, const ControllerContext& ctx) : name_(std::move(name)), ctx_(ctx) {}
  std::string name() const override { return name_; }

  StatusOr<Decision> Step(const ControlInput& in) final {
    const auto t0 = Clock::now();
    ECOMAP_RETURN_IF_ERROR(ValidateTenants(in.tenants));
    if (!std::isfinite(in.intensity.value()) || in.intensity.value() < 0) {
      return InvalidArgument("controller " + name_ + ": carbon intensity " + Fmt("%g", in.intensity.value()) +
                             " g/kWh must be a finite number >= 0");
    }
    Triggers trig;
    trig.first = !last_.has_value();
    if (!trig.first) {
      trig.demand = DemandChange(planned_tenants_, in.tenants);
      if (in.measured) {
        std::vector<std::string> b = Breaches(planned_tenants_, last_->config, *in.measured);
        if (b.empty()) {
          breach_count_ = 0;
        } else {
          ++breach_count_;
          trig.breach_what = b.front() + (b.size() > 1 ? " (+" + std::to_string(b.size() - 1) + " more)" : "");
        }
        trig.breach = breach_count_ >= ctx_.options.slo_breach_intervals;
      }
    }
    StatusOr<Decision> d = DoStep(in, trig);
    if (!d.ok()) return d.status().WithContext("controller " + name_);
    if (d->replanned) {
      planned_tenants_ = in.tenants;
      breach_count_ = 0;
    }
    d->decision_ms = MsSince(t0);
    last_ = *d;
    return d;
  }

 protected:
  struct Triggers {
    bool first = false;
    std::string demand;       // non-empty: the demand changed (why)
    bool breach = false;      // N consecutive breaching intervals
    std::string breach_what;  // the latest breach
  };
  virtual StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) = 0;

  // The decision in force, unchanged, with a reason.
  Decision Keep(const std::string& why) const {
    Decision d = *last_;
    d.replanned = false;
    d.threshold_raised = false;
    d.evaluations = 0;
    d.search_ms = 0;
    d.predict_ms = 0;
    d.reason = "kept: " + why;
    return d;
  }

  const platform::PlatformInfo& info() const { return *ctx_.platform; }
  const ControllerOptions& opt() const { return ctx_.options; }

  std::string name_;
  ControllerContext ctx_;
  std::optional<Decision> last_;
  std::vector<TenantSpec> planned_tenants_;
  int breach_count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// "ecomap" and "oracle".

class EcomapController final : public ControllerBase {
 public:
  EcomapController(const ControllerContext& ctx, bool oracle)
      : ControllerBase(oracle ? "oracle" : "ecomap", ctx),
        oracle_(oracle),
        no_budget_(ResolveNoBudget(*ctx.platform, ctx.options.no_budget_mode_w)),
        map_(ctx.options.threshold, BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).front(),
             BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).back()) {
    if (oracle) {
      predictor_ = ctx.oracle;
    } else {
      corrected_ = std::make_shared<estimator::CorrectedPredictor>(ctx.predictor);
      predictor_ = corrected_;
    }
  }

 private:
  struct Plan {
    search::MappingResult best;
    bool have = false;
    Watts threshold{0};
    bool raised = false;
    std::vector<std::string> substitutions;
    int evaluations = 0;
    double search_ms = 0, predict_ms = 0;
  };

  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override {
    if (corrected_ && in.measured && last_) {
      Status s = corrected_->Observe(last_->config, *in.measured);
      if (!s.ok()) return s.WithContext("folding the measurement into the estimator");
    }
    map_.Observe(in.intensity);
    ThresholdDecision td = map_.Decide(in.intensity, in.forecast);
    std::string why;
    if (trig.first) {
      why = "first decision";
    } else if (td.changed) {
      why = "threshold " + Fmt("%.1f", last_threshold_.value()) + " -> " + Fmt("%.1f", td.threshold.value()) + " W";
    } else if (!trig.demand.empty()) {
      why = trig.demand;
    } else if (trig.breach) {
      why = "SLO breach for " + std::to_string(opt().slo_breach_intervals) + " intervals (" + trig.breach_what + ")";
    }
    if (why.empty()) {
      std::string k = "threshold " + Fmt("%.1f", td.threshold.value()) + " W unchanged, demand unchanged";
      k += trig.breach_what.empty() ? ", SLOs held" : ", breach " + std::to_string(breach_count_) + "/" +
                                                            std::to_string(opt().slo_breach_intervals) + " (" +
                                                            trig.breach_what + ")";
      return Keep(k);
    }
    last_threshold_ = td.threshold;
    std::vector<TenantSpec> planned = in.tenants;
    for (TenantSpec& t : planned) t.slo_p95 = t.slo_p95 * (1 - opt().slo_margin);
    ECOMAP_ASSIGN_OR_RETURN(Plan p, MakePlan(planned, td.threshold, in.intensity));
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
    d.reason = "re-plan (" + why + "): " + (mode ? mode->name : "?") + ", predicted " +
               Fmt("%.1f", d.predicted.power.value()) + " W";
    if (p.raised) {
      d.reason += "; threshold raised " + Fmt("%.1f", td.threshold.value()) + " -> " +
                  Fmt("%.1f", p.threshold.value()) + " W: no mapping held the SLOs even with the lightest variants";
    }
    if (!p.best.score.feasible) d.reason += "; NO configuration holds every SLO (best effort)";
    if (!p.substitutions.empty()) {
      d.reason += "; substituted";
      for (const auto& s : p.substitutions) d.reason += " " + s;
    } else if (p.best.score.feasible) {
      d.reason += ", best variants";
    }
    return d;
  }

  // One search over `modes` with the tenants fixed on `idx`.
  StatusOr<search::MappingResult> SearchOnce(const std::vector<TenantSpec>& tenants, const std::vector<int>& idx,
                                             const std::vector<int>& modes, Watts threshold, GramsPerKwh intensity,
                                             const search::MappingReference& ref,
                                             const std::vector<Configuration>& warm, Plan* plan) {
    // ecomap: one search over the allowed modes. oracle: the same search, then one simulated
    // annealing run per allowed mode with oracle_budget_evals / (number of modes) evaluations
    // (at least 150) each; the best of all.
    struct Run {
      std::vector<int> modes;
      std::string algorithm;
      int budget;
    };
    std::vector<Run> runs = {{modes, opt().algorithm, opt().budget_evals}};
    if (oracle_) {
      const int per_mode = std::max(150, opt().oracle_budget_evals / static_cast<int>(modes.size()));
      for (int m : modes) runs.push_back({{m}, "sa", per_mode});
    }
    search::MappingResult best;
    bool have = false;
    for (const Run& run : runs) {
      const std::vector<int>& g = run.modes;
      const int budget = run.budget;
      search::MappingSpaceOptions so;
      so.max_stages = opt().max_stages;
      so.modes = g;
      ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space,
                              search::MappingSpace::Create(info(), Fixed(tenants, idx), so));
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

  StatusOr<Plan> MakePlan(const std::vector<TenantSpec>& tenants, Watts threshold, GramsPerKwh intensity) {
    Plan plan;
    const std::vector<Watts> ladder = BudgetLadder(info(), opt().no_budget_mode_w);
    // The normalisation: best variants, all on the GPU, highest mode.
    search::MappingReference ref;
    {
      const auto t0 = Clock::now();
      ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace full,
                              search::MappingSpace::Create(info(), Fixed(tenants, BestIndices(tenants))));
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
        ECOMAP_ASSIGN_OR_RETURN(search::MappingResult res,
                                SearchOnce(tenants, idx, modes, thr, intensity, ref, ws, &plan));
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

  bool oracle_;
  Watts no_budget_;
  ThresholdMap map_;
  Watts last_threshold_{0};
  std::shared_ptr<estimator::CorrectedPredictor> corrected_;
  std::shared_ptr<const estimator::Predictor> predictor_;
  uint64_t searches_ = 0;
};

// ---------------------------------------------------------------------------------------------
// "maxn": every tenant's best variant as one stage on the GPU, in the highest mode.

class MaxnController final : public ControllerBase {
 public:
  explicit MaxnController(const ControllerContext& ctx) : ControllerBase("maxn", ctx) {}

 private:
  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override {
    if (!trig.first && trig.demand.empty()) return Keep("carbon-agnostic, demand unchanged");
    const auto t0 = Clock::now();
    std::vector<std::string> models;
    for (const TenantSpec& t : in.tenants) models.push_back(Ladder(t).back());
    Decision d;
    d.config = AllOnGpu(info(), in.tenants, models, HighestMode(info()).id);
    ECOMAP_ASSIGN_OR_RETURN(d.predicted, ctx_.predictor->Predict(d.config));
    d.predict_ms = MsSince(t0);
    d.evaluations = 1;
    d.replanned = true;
    d.variants = models;
    d.reason = std::string(trig.first ? "first decision" : trig.demand) + ": best variants on the GPU at " +
               HighestMode(info()).name;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// "throughput": the fastest mapping of the best variants in the highest mode (minimises the mean
// of p95 / SLO over tenants; saturation and SLO misses penalised), carbon-agnostic.

class ThroughputController final : public ControllerBase {
 public:
  explicit ThroughputController(const ControllerContext& ctx) : ControllerBase("throughput", ctx) {}

 private:
  static double Cost(const std::vector<TenantSpec>& tenants, const Performance& p) {
    double sum = 0, penalty = 0;
    for (size_t i = 0; i < tenants.size() && i < p.tenants.size(); ++i) {
      const double slo = tenants[i].slo_p95.value();
      const double rel = std::min(100.0, p.tenants[i].latency_p95.value() / slo);
      sum += rel;
      if (p.tenants[i].saturated) penalty += 10;
      if (rel > 1) penalty += 10 + (rel - 1);
      if (tenants[i].min_throughput_rps > 0 && p.tenants[i].throughput_rps < tenants[i].min_throughput_rps) penalty += 10;
    }
    return sum / static_cast<double>(std::max<size_t>(1, tenants.size())) + penalty;
  }

  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override {
    std::string why = trig.first ? "first decision" : !trig.demand.empty() ? trig.demand
                                                   : trig.breach ? "SLO breach (" + trig.breach_what + ")" : "";
    if (why.empty()) return Keep("carbon-agnostic, demand unchanged, SLOs held");
    const int mode = HighestMode(info()).id;
    search::MappingSpaceOptions so;
    so.max_stages = opt().max_stages;
    so.modes = {mode};
    ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space,
                            search::MappingSpace::Create(info(), Fixed(in.tenants, BestIndices(in.tenants)), so));
    Decision d;
    double best_cost = std::numeric_limits<double>::infinity();
    double predict_ms = 0;
    auto consider = [&](const std::vector<Configuration>& configs, std::vector<double>* values) -> Status {
      const auto t0 = Clock::now();
      StatusOr<std::vector<Performance>> perf = ctx_.predictor->PredictBatch(configs);
      predict_ms += MsSince(t0);
      if (!perf.ok()) return perf.status();
      for (size_t i = 0; i < configs.size(); ++i) {
        double c = Cost(in.tenants, (*perf)[i]);
        if (values) values->push_back(-c);
        if (c < best_cost) {
          best_cost = c;
          d.config = configs[i];
          d.predicted = (*perf)[i];
        }
      }
      return Status::Ok();
    };
    const auto t0 = Clock::now();
    ECOMAP_RETURN_IF_ERROR(consider({search::ReferenceConfiguration(space)}, nullptr));
    ECOMAP_ASSIGN_OR_RETURN(auto optimizer, search::MakeMappingOptimizer(opt().algorithm, space, opt().budget_evals));
    search::Problem problem;
    problem.box = space.box();
    problem.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* values) -> Status {
      std::vector<Configuration> configs;
      for (const auto& x : xs) configs.push_back(space.Decode(x));
      return consider(configs, values);
    };
    search::Budget b;
    b.max_evals = opt().budget_evals;
    ECOMAP_ASSIGN_OR_RETURN(search::SearchResult r, optimizer->Maximize(problem, b, opt().seed + searches_++));
    RecordSearch(r, predict_ms, t0, &d);
    d.reason = "re-plan (" + why + "): fastest mapping of the best variants at " + HighestMode(info()).name;
    return d;
  }
  uint64_t searches_ = 0;
};

// ---------------------------------------------------------------------------------------------
// "powercap": the carbon threshold picks the fastest mode whose budget fits; mapping (all on the
// GPU) and variants (the best) fixed.

class PowercapController final : public ControllerBase {
 public:
  explicit PowercapController(const ControllerContext& ctx)
      : ControllerBase("powercap", ctx),
        map_(ctx.options.threshold, BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).front(),
             BudgetLadder(*ctx.platform, ctx.options.no_budget_mode_w).back()) {}

 private:
  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override {
    map_.Observe(in.intensity);
    ThresholdDecision td = map_.Decide(in.intensity, in.forecast);
    std::string why = trig.first ? "first decision" : td.changed ? "threshold -> " + Fmt("%.1f", td.threshold.value()) + " W"
                                                                 : trig.demand;
    if (why.empty()) return Keep("threshold " + Fmt("%.1f", td.threshold.value()) + " W unchanged, demand unchanged");
    const auto t0 = Clock::now();
    const int mode = FastestModeUnder(info(), td.threshold, opt().no_budget_mode_w);
    std::vector<std::string> models;
    for (const TenantSpec& t : in.tenants) models.push_back(Ladder(t).back());
    Decision d;
    d.config = AllOnGpu(info(), in.tenants, models, mode);
    ECOMAP_ASSIGN_OR_RETURN(d.predicted, ctx_.predictor->Predict(d.config));
    d.predict_ms = MsSince(t0);
    d.evaluations = 1;
    d.threshold = td.threshold;
    d.replanned = true;
    d.variants = models;
    d.reason = "re-plan (" + why + "): fixed mapping and variants in " + info().FindMode(mode)->name;
    return d;
  }
  ThresholdMap map_;
};

// ---------------------------------------------------------------------------------------------
// "clover": variants by simulated annealing on lambda * carbon - (1 - lambda) * accuracy, all on
// the GPU in the highest mode (no power knob). Carbon term: predicted power x CI over the "maxn"
// power x the mean CI seen so far (a week's window); accuracy term: request-weighted accuracy
// loss over the loss of every tenant's lightest variant. A configuration that breaks an SLO
// costs 10 + its relative p95 excess (Clover keeps its SLOs).

class CloverController final : public ControllerBase {
 public:
  explicit CloverController(const ControllerContext& ctx) : ControllerBase("clover", ctx) {}

 private:
  StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) override {
    window_.push_back(in.intensity.value());
    while (static_cast<int>(window_.size()) > opt().threshold.window) window_.pop_front();
    const bool ci_moved = std::abs(in.intensity.value() - planned_ci_) > 0.10 * std::max(1.0, planned_ci_);
    std::string why = trig.first ? "first decision" : !trig.demand.empty() ? trig.demand
                                                   : ci_moved ? "carbon intensity moved > 10%" : "";
    if (why.empty()) return Keep("carbon intensity within 10% of the last plan, demand unchanged");
    planned_ci_ = in.intensity.value();
    const double ci_ref = std::max(1.0, std::accumulate(window_.begin(), window_.end(), 0.0) / window_.size());
    const int mode = HighestMode(info()).id;
    const size_t n = in.tenants.size();
    std::vector<std::vector<std::string>> ladders;
    for (const auto& t : in.tenants) ladders.push_back(Ladder(t));
    const std::vector<double> shares = RequestShares(in.tenants);
    auto models_of = [&](const std::vector<double>& x) {
      std::vector<std::string> m;
      for (size_t i = 0; i < n; ++i) {
        int k = std::clamp(static_cast<int>(std::lround(x[i])), 0, static_cast<int>(ladders[i].size()) - 1);
        m.push_back(ladders[i][static_cast<size_t>(k)]);
      }
      return m;
    };
    auto loss_of = [&](const std::vector<std::string>& m) {
      double loss = 0;
      for (size_t i = 0; i < n; ++i) {
        loss += shares[i] * (zoo::FindModel(ladders[i].back())->accuracy - zoo::FindModel(m[i])->accuracy);
      }
      return loss;
    };
    std::vector<std::string> best_models, light_models;
    for (size_t i = 0; i < n; ++i) {
      best_models.push_back(ladders[i].back());
      light_models.push_back(ladders[i].front());
    }
    const double loss_max = std::max(1e-6, loss_of(light_models));
    double predict_ms = 0;
    const auto t0 = Clock::now();
    ECOMAP_ASSIGN_OR_RETURN(Performance ref, ctx_.predictor->Predict(AllOnGpu(info(), in.tenants, best_models, mode)));
    const double p_ref = std::max(1e-6, ref.power.value());
    const double lambda = opt().clover_lambda;
    Decision d;
    double best_cost = std::numeric_limits<double>::infinity();
    search::Problem problem;
    for (size_t i = 0; i < n; ++i) {
      problem.box.lb.push_back(0);
      problem.box.ub.push_back(std::max(1.0, static_cast<double>(ladders[i].size()) - 1));
      problem.box.integer.push_back(true);
    }
    problem.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* values) -> Status {
      std::vector<Configuration> configs;
      std::vector<std::vector<std::string>> ms;
      for (const auto& x : xs) {
        ms.push_back(models_of(x));
        configs.push_back(AllOnGpu(info(), in.tenants, ms.back(), mode));
      }
      const auto p0 = Clock::now();
      StatusOr<std::vector<Performance>> perf = ctx_.predictor->PredictBatch(configs);
      predict_ms += MsSince(p0);
      if (!perf.ok()) return perf.status();
      for (size_t k = 0; k < configs.size(); ++k) {
        const Performance& p = (*perf)[k];
        double cost = lambda * (p.power.value() * in.intensity.value()) / (p_ref * ci_ref) +
                      (1 - lambda) * loss_of(ms[k]) / loss_max;
        double excess = 0;
        bool ok = true;
        for (size_t i = 0; i < n && i < p.tenants.size(); ++i) {
          double rel = p.tenants[i].latency_p95.value() / in.tenants[i].slo_p95.value();
          if (rel > 1 || p.tenants[i].saturated) {
            ok = false;
            excess += std::min(100.0, std::max(0.0, rel - 1)) + (p.tenants[i].saturated ? 1 : 0);
          }
        }
        if (!ok) cost += 10 + excess;
        values->push_back(-cost);
        if (cost < best_cost) {
          best_cost = cost;
          d.config = configs[k];
          d.predicted = p;
        }
      }
      return Status::Ok();
    };
    ECOMAP_ASSIGN_OR_RETURN(auto sa, search::MakeOptimizer("sa"));
    search::Budget b;
    b.max_evals = opt().budget_evals;
    ECOMAP_ASSIGN_OR_RETURN(search::SearchResult r, sa->Maximize(problem, b, opt().seed + searches_++));
    RecordSearch(r, predict_ms, t0, &d);
    d.reason = "re-plan (" + why + "): variants by annealing (lambda " + Fmt("%.2f", lambda) + ") at " +
               HighestMode(info()).name;
    return d;
  }
  std::deque<double> window_;
  double planned_ci_ = -1;
  uint64_t searches_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<Controller>> MakeController(const std::string& name, const ControllerContext& context) {
  std::vector<std::string> names = ControllerNames();
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
  if (name == "oracle" && context.oracle == nullptr) {
    return InvalidArgument("controller oracle: ControllerContext::oracle (the simulator predictor) is required");
  }
  ECOMAP_RETURN_IF_ERROR(context.options.Validate());
  std::unique_ptr<Controller> c;
  if (name == "ecomap") c = std::make_unique<EcomapController>(context, false);
  if (name == "oracle") c = std::make_unique<EcomapController>(context, true);
  if (name == "maxn") c = std::make_unique<MaxnController>(context);
  if (name == "throughput") c = std::make_unique<ThroughputController>(context);
  if (name == "powercap") c = std::make_unique<PowercapController>(context);
  if (name == "clover") c = std::make_unique<CloverController>(context);
  return c;
}

}  // namespace ecomap::policy
