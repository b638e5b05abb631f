// policy/controllers/clover.h: variants by annealing on carbon vs accuracy, all on the GPU.
#include "policy/controllers/clover.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "policy/planning.h"
#include "policy/scenario.h"
#include "zoo/model.h"

namespace ecomap::policy::controllers {

using platform::Configuration;
using platform::Performance;

StatusOr<Decision> CloverController::DoStep(const ControlInput& in, const Triggers& trig) {
  window_.push_back(in.intensity.value());
  while (static_cast<int>(window_.size()) > opt().threshold.window) window_.pop_front();
  const bool ci_moved = std::abs(in.intensity.value() - planned_ci_) > 0.10 * std::max(1.0, planned_ci_);
  std::string why = trig.first ? "first decision" : !trig.demand.empty() ? trig.demand
                                                 : ci_moved ? "carbon intensity moved > 10%" : "";
  if (why.empty()) return Keep("carbon intensity within 10% of the last plan, demand unchanged");
  planned_ci_ = in.intensity.value();
  const double ci_ref = std::max(1.0, std::accumulate(window_.begin(), window_.end(), 0.0) / window_.size());
  const int top = HighestMode(info()).id;
  const size_t n = in.tenants.size();
  std::vector<std::vector<std::string>> ladders;
  std::vector<search::MappingTenant> mts;
  for (const auto& t : in.tenants) {
    ladders.push_back(Ladder(t));
    mts.push_back(ToMappingTenant(t, ladders.back()));
  }
  const std::vector<double> shares = RequestShares(in.tenants);
  auto loss_of = [&](const Configuration& c) {
    double loss = 0;
    for (size_t i = 0; i < n && i < c.tenants.size(); ++i) {
      loss += shares[i] * (zoo::FindModel(ladders[i].back())->accuracy - zoo::FindModel(c.tenants[i].model)->accuracy);
    }
    return loss;
  };
  std::vector<std::string> best_models, light_models;
  for (size_t i = 0; i < n; ++i) {
    best_models.push_back(ladders[i].back());
    light_models.push_back(ladders[i].front());
  }
  const double loss_max = std::max(1e-6, loss_of(AllOnGpu(info(), in.tenants, light_models, top)));
  // The whole decision space, as published: power mode, variants, cut points and units.
  search::MappingSpaceOptions so;
  so.max_stages = opt().max_stages;
  ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space, search::MappingSpace::Create(info(), mts, so));
  double predict_ms = 0;
  const auto t0 = Clock::now();
  ECOMAP_ASSIGN_OR_RETURN(Performance ref, ctx_.predictor->Predict(AllOnGpu(info(), in.tenants, best_models, top)));
  const double p_ref = std::max(1e-6, ref.power.value());
  const double lambda = opt().clover_lambda;
  Decision d;
  double best_cost = std::numeric_limits<double>::infinity();
  search::Problem problem;
  problem.box = space.box();
  problem.canonical = [&space](const std::vector<double>& x) { return space.Canonical(x); };
  problem.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* values) -> Status {
    std::vector<Configuration> configs;
    for (const auto& x : xs) configs.push_back(space.Decode(x));
    const auto p0 = Clock::now();
    StatusOr<std::vector<Performance>> perf = ctx_.predictor->PredictBatch(configs);
    predict_ms += MsSince(p0);
    if (!perf.ok()) return perf.status();
    for (size_t k = 0; k < configs.size(); ++k) {
      const Performance& p = (*perf)[k];
      double cost = lambda * (p.power.value() * in.intensity.value()) / (p_ref * ci_ref) +
                    (1 - lambda) * loss_of(configs[k]) / loss_max;
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
  // The reference point (the best variants, all on the GPU at the highest mode) is always a
  // candidate, as in the throughput baseline.
  if (StatusOr<std::vector<double>> x0 = space.Encode(AllOnGpu(info(), in.tenants, best_models, top)); x0.ok()) {
    std::vector<double> v;
    ECOMAP_RETURN_IF_ERROR(problem.objective({*x0}, &v));
  }
  ECOMAP_ASSIGN_OR_RETURN(auto sa, search::MakeMappingOptimizer("sa", space, opt().budget_evals));
  search::Budget b;
  b.max_evals = opt().budget_evals;
  ECOMAP_ASSIGN_OR_RETURN(search::SearchResult r, sa->Maximize(problem, b, opt().seed + searches_++));
  RecordSearch(r, predict_ms, t0, &d);
  const platform::PowerMode* pm = info().FindMode(d.config.power_mode);
  d.reason = fmt::format("re-plan ({}): variants, mapping and mode by annealing (lambda {:.2f}): {}", why, lambda,
                         pm ? pm->name : "?");
  return d;
}

}  // namespace ecomap::policy::controllers
