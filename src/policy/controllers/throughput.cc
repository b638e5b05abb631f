// policy/controllers/throughput.h: the fastest mapping of the best variants at the highest mode.
#include "policy/controllers/throughput.h"

#include <algorithm>
#include <limits>
#include <string>

#include "policy/planning.h"
#include "policy/scenario.h"

namespace ecomap::policy::controllers {

using platform::Configuration;
using platform::Performance;

double ThroughputController::Cost(const std::vector<TenantSpec>& tenants, const Performance& p) {
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

StatusOr<Decision> ThroughputController::DoStep(const ControlInput& in, const Triggers& trig) {
  std::string why = trig.first ? "first decision" : !trig.demand.empty() ? trig.demand
                                                 : trig.breach ? "SLO breach (" + trig.breach_what + ")" : "";
  if (why.empty()) return Keep("carbon-agnostic, demand unchanged, SLOs held");
  const int mode = HighestMode(info()).id;
  search::MappingSpaceOptions so;
  so.max_stages = opt().max_stages;
  so.modes = {mode};
  ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space,
                          search::MappingSpace::Create(info(), PinVariants(in.tenants, BestIndices(in.tenants)), so));
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
  problem.canonical = [&space](const std::vector<double>& x) { return space.Canonical(x); };
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

}  // namespace ecomap::policy::controllers
