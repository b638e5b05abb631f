#include "policy/planning.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "zoo/model.h"

namespace ecomap::policy {

std::string SloGuard::Describe() const {
  if (calibrated) return fmt::format("{:g}% p95 bound: predicted x {:.3f}", 100 * confidence, 1 / slo_scale);
  return fmt::format("{:g}% SLO margin", 100 * (1 - slo_scale));
}

SloGuard PlanningGuard(const estimator::Predictor& predictor, const ControllerOptions& options) {
  SloGuard g;
  if (options.confidence > 0) {
    std::optional<double> f = predictor.P95BoundFactor(options.confidence);
    if (f && *f > 0 && std::isfinite(*f)) {
      g.slo_scale = 1 / *f;
      g.calibrated = true;
      g.confidence = options.confidence;
      return g;
    }
  }
  g.slo_scale = 1 - options.slo_margin;
  return g;
}

Milliseconds PlannedP95(Milliseconds predicted_p95, const SloGuard& guard) { return predicted_p95 / guard.slo_scale; }

std::vector<TenantSpec> GuardedTenants(std::vector<TenantSpec> tenants, const SloGuard& guard) {
  for (TenantSpec& t : tenants) t.slo_p95 = t.slo_p95 * guard.slo_scale;
  return tenants;
}

Watts ResolveNoBudget(const platform::PlatformInfo& info, Watts no_budget_w) {
  if (no_budget_w.value() > 0) return no_budget_w;
  double largest = 0;
  for (const platform::PowerMode& m : info.modes) {
    if (m.budget) largest = std::max(largest, m.budget->value());
  }
  return Watts{largest > 0 ? 1.4 * largest : 40.0};
}

Watts ModeBudget(const platform::PlatformInfo& info, const platform::PowerMode& mode, Watts no_budget_w) {
  return mode.budget ? *mode.budget : ResolveNoBudget(info, no_budget_w);
}

std::vector<Watts> BudgetLadder(const platform::PlatformInfo& info, Watts no_budget_w) {
  std::vector<Watts> out;
  for (const platform::PowerMode& m : info.modes) out.push_back(ModeBudget(info, m, no_budget_w));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<int> ModesUnder(const platform::PlatformInfo& info, Watts threshold, Watts no_budget_w) {
  std::vector<Watts> ladder = BudgetLadder(info, no_budget_w);
  // Tolerate rounding (a threshold computed as 15.0000001 W allows the 15 W mode).
  Watts limit = std::max(threshold + Watts{1e-6}, ladder.empty() ? Watts{0} : ladder.front());
  std::vector<int> out;
  for (const platform::PowerMode& m : info.modes) {
    if (ModeBudget(info, m, no_budget_w) <= limit) out.push_back(m.id);
  }
  return out;
}

int FastestModeUnder(const platform::PlatformInfo& info, Watts threshold, Watts no_budget_w) {
  int best = -1;
  Watts best_budget{-1};
  for (int id : ModesUnder(info, threshold, no_budget_w)) {
    Watts b = ModeBudget(info, *info.FindMode(id), no_budget_w);
    if (b > best_budget) {
      best_budget = b;
      best = id;
    }
  }
  return best;
}

std::vector<std::string> Ladder(const TenantSpec& spec) {
  if (!spec.variants.empty()) return spec.variants;
  std::vector<std::string> out;
  for (const zoo::ModelInfo* m : zoo::Family(spec.family)) out.push_back(m->name);
  return out;
}

std::vector<double> RequestShares(const std::vector<TenantSpec>& tenants) {
  std::vector<double> w;
  double total = 0;
  for (const TenantSpec& t : tenants) {
    double r = t.arrival == platform::ArrivalKind::kOpenLoop ? t.rate_rps : static_cast<double>(t.concurrency);
    r = std::isfinite(r) && r > 0 ? r : 0;
    w.push_back(r);
    total += r;
  }
  for (double& x : w) x = total > 0 ? x / total : 1.0 / static_cast<double>(tenants.size());
  return w;
}

platform::Configuration SwapVariant(const platform::PlatformInfo& info, const platform::Configuration& config,
                                    size_t index, const std::string& model) {
  platform::Configuration c = config;
  if (index >= c.tenants.size()) return c;
  platform::TenantConfig& tc = c.tenants[index];
  const zoo::ModelInfo* from = zoo::FindModel(tc.model);
  const zoo::ModelInfo* to = zoo::FindModel(model);
  tc.model = model;
  if (to == nullptr) return c;
  const int n_to = static_cast<int>(to->blocks.size());
  const int n_from = from != nullptr ? static_cast<int>(from->blocks.size()) : n_to;
  std::vector<platform::Stage> stages;
  int begin = 0;
  for (size_t k = 0; k < tc.stages.size(); ++k) {
    int end = k + 1 == tc.stages.size()
                  ? n_to
                  : static_cast<int>(std::lround(static_cast<double>(tc.stages[k].end_block) * n_to / std::max(1, n_from)));
    end = std::clamp(end, begin, n_to);
    if (end > begin) {
      if (!stages.empty() && stages.back().unit == tc.stages[k].unit) {
        stages.back().end_block = end;
      } else {
        stages.push_back({begin, end, tc.stages[k].unit});
      }
      begin = end;
    }
  }
  if (stages.empty() || stages.back().end_block != n_to) stages = {{0, n_to, tc.stages.empty() ? "GPU" : tc.stages[0].unit}};
  tc.stages = stages;
  const platform::ModelLookup lookup = platform::DefaultModelLookup();
  if (platform::ValidateConfiguration(info, c, lookup).ok()) return c;
  for (const std::string& unit : {tc.stages.front().unit, std::string("GPU")}) {
    tc.stages = {{0, n_to, unit}};
    if (platform::ValidateConfiguration(info, c, lookup).ok()) return c;
  }
  // Any unit that runs it.
  for (const platform::ComputeUnit& u : info.units) {
    tc.stages = {{0, n_to, u.id}};
    if (platform::ValidateConfiguration(info, c, lookup).ok()) return c;
  }
  return c;
}

StatusOr<std::vector<DowngradeCandidate>> RankDowngrades(const platform::PlatformInfo& info,
                                                         const std::vector<TenantSpec>& tenants,
                                                         const std::vector<int>& variant_index,
                                                         const platform::Configuration& current,
                                                         const platform::Performance& current_perf,
                                                         const estimator::Predictor& predictor) {
  std::vector<DowngradeCandidate> cands;
  const std::vector<double> shares = RequestShares(tenants);
  for (size_t i = 0; i < tenants.size() && i < variant_index.size() && i < current.tenants.size(); ++i) {
    if (variant_index[i] <= 0) continue;
    const std::vector<std::string> ladder = Ladder(tenants[i]);
    DowngradeCandidate c;
    c.tenant = i;
    c.from = current.tenants[i].model;
    c.to = ladder[static_cast<size_t>(variant_index[i] - 1)];
    const zoo::ModelInfo* a = zoo::FindModel(c.from);
    const zoo::ModelInfo* b = zoo::FindModel(c.to);
    c.accuracy_cost_pts = (a && b ? std::max(0.0, a->accuracy - b->accuracy) : 0.0) * shares[i];
    c.config = SwapVariant(info, current, i, c.to);
    cands.push_back(std::move(c));
  }
  if (cands.empty()) return cands;
  std::vector<platform::Configuration> configs;
  for (const auto& c : cands) configs.push_back(c.config);
  ECOMAP_ASSIGN_OR_RETURN(std::vector<platform::Performance> perf, predictor.PredictBatch(configs));
  auto capped = [&](const platform::Performance& p, size_t t) {
    double slo = tenants[t].slo_p95.value();
    double v = t < p.tenants.size() ? p.tenants[t].latency_p95.value() : 10 * slo;
    if (t < p.tenants.size() && p.tenants[t].saturated) v = 10 * slo;
    return std::min(v, 10 * slo);
  };
  for (size_t k = 0; k < cands.size(); ++k) {
    DowngradeCandidate& c = cands[k];
    c.predicted = perf[k];
    double saved = 0;
    for (size_t t = 0; t < tenants.size(); ++t) saved += capped(current_perf, t) - capped(c.predicted, t);
    c.saved_ms = saved;
    c.ratio = saved > 1e-9 ? c.accuracy_cost_pts / saved : std::numeric_limits<double>::infinity();
  }
  std::stable_sort(cands.begin(), cands.end(), [](const DowngradeCandidate& x, const DowngradeCandidate& y) {
    if (x.ratio != y.ratio) return x.ratio < y.ratio;
    if (x.accuracy_cost_pts != y.accuracy_cost_pts) return x.accuracy_cost_pts < y.accuracy_cost_pts;
    return x.tenant < y.tenant;
  });
  return cands;
}

search::MappingTenant ToMappingTenant(const TenantSpec& spec, std::vector<std::string> variants) {
  search::MappingTenant m;
  m.name = spec.name;
  m.variants = std::move(variants);
  m.arrival = spec.arrival;
  m.rate_rps = spec.rate_rps;
  m.concurrency = spec.concurrency;
  m.slo_p95 = spec.slo_p95;
  m.min_throughput_rps = spec.min_throughput_rps;
  return m;
}

}  // namespace ecomap::policy
