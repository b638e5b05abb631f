#include "replay/bound_search.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "estimator/simulator_predictor.h"
#include "loop/accounting.h"
#include "platform/sim/xavier_sim.h"
#include "policy/planning.h"
#include "search/mapping.h"

namespace ecomap::replay {
namespace {

// The simulator's predictions, every one recorded (the contenders of a demand).
class RecordingPredictor final : public estimator::Predictor {
 public:
  explicit RecordingPredictor(const estimator::Predictor& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  StatusOr<std::vector<platform::Performance>> PredictBatch(
      const std::vector<platform::Configuration>& configs) const override {
    ECOMAP_ASSIGN_OR_RETURN(std::vector<platform::Performance> perf, inner_.PredictBatch(configs));
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < configs.size(); ++i) seen_.emplace_back(configs[i], perf[i]);
    return perf;
  }
  std::vector<std::pair<platform::Configuration, platform::Performance>> Take() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(seen_);
  }

 private:
  const estimator::Predictor& inner_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<platform::Configuration, platform::Performance>> seen_;
};

// What makes two intervals' demands the same search problem.
std::string DemandKey(const std::vector<policy::TenantSpec>& tenants) {
  std::ostringstream k;
  k.precision(17);
  for (const policy::TenantSpec& t : tenants) {
    k << t.name << '|' << t.family << '|';
    for (const std::string& v : policy::Ladder(t)) k << v << ',';
    k << '|' << t.slo_p95.value() << '|' << t.min_throughput_rps << '|' << static_cast<int>(t.arrival) << '|'
      << t.rate_rps << '|' << t.concurrency << ';';
  }
  return k.str();
}

struct Contender {
  platform::Configuration config;
  double power_w = 0;
  double loss_pts = 0;  // request-weighted, against every tenant's best variant
};

// Up to `n` contenders by fronts of (power, loss): the front, then the front of the rest, ...
std::vector<Contender> Fronts(std::vector<Contender> pool, size_t n) {
  std::sort(pool.begin(), pool.end(), [](const Contender& a, const Contender& b) {
    return a.power_w != b.power_w ? a.power_w < b.power_w : a.loss_pts < b.loss_pts;
  });
  std::vector<Contender> out;
  while (!pool.empty() && out.size() < n) {
    std::vector<Contender> rest;
    double best_loss = INFINITY;
    for (Contender& c : pool) {
      // Sorted by power: a contender is on the front when it loses less than every cheaper one.
      if (c.loss_pts < best_loss - 1e-12 && out.size() < n) {
        best_loss = c.loss_pts;
        out.push_back(std::move(c));
      } else {
        rest.push_back(std::move(c));
      }
    }
    pool = std::move(rest);
  }
  return out;
}

}  // namespace

Status BoundSearchOptions::Validate() const {
  if (evals < 0 || (evals > 0 && evals < 40)) {
    return InvalidArgument(
        "bound search: evals (ecomap replay --bound-search) must be 0 (off) or >= 40 (got " +
        std::to_string(evals) + ")");
  }
  if (prices.empty()) return InvalidArgument("bound search: give at least one price (e.g. 0)");
  for (double p : prices) {
    if (!std::isfinite(p) || p < 0) {
      return InvalidArgument("bound search: every price must be finite and >= 0 (got " + std::to_string(p) +
                             ")");
    }
  }
  if (per_demand < 1) {
    return InvalidArgument("bound search: per_demand must be >= 1 (got " + std::to_string(per_demand) + ")");
  }
  if (max_stages < 1) {
    return InvalidArgument("bound search: max_stages must be >= 1 (got " + std::to_string(max_stages) + ")");
  }
  if (threads < 0)
    return InvalidArgument("bound search: threads must be >= 0 (got " + std::to_string(threads) + ")");
  return Status::Ok();
}

StatusOr<SearchedCandidates> SearchBoundCandidates(const std::vector<std::vector<policy::TenantSpec>>& demand,
                                                   const std::vector<GramsPerKwh>& intensity,
                                                   Duration interval, const std::string& platform,
                                                   const platform::PlatformOptions& platform_options,
                                                   const BoundSearchOptions& options) {
  ECOMAP_RETURN_IF_ERROR(options.Validate());
  if (demand.size() != intensity.size()) {
    return InvalidArgument("bound search: " + std::to_string(demand.size()) + " demands for " +
                           std::to_string(intensity.size()) + " intervals");
  }
  const auto t0 = std::chrono::steady_clock::now();
  SearchedCandidates out;
  out.options = options;
  out.intervals.resize(demand.size());
  out.configs.resize(demand.size());
  if (options.evals == 0 || demand.empty()) return out;
  if (platform != "xavier-sim") {
    return FailedPrecondition("the bound's searched candidates need the xavier-sim platform (got '" +
                              platform +
                              "'): its measurement draws and noise-free simulation; turn them off with "
                              "--bound-search 0");
  }
  // The measurement draws of every interval: a fresh platform's stream, one draw per interval
  // (every controller's platform is such a fresh one, platform::MakeEvaluator("xavier-sim"), and
  // measures once per interval). Measure() leaves the platform's state alone, so the same object
  // measures every candidate.
  platform::XavierSim measurer(platform_options);
  std::vector<platform::XavierSim::MeasurementDraw> draws;
  for (size_t k = 0; k < demand.size(); ++k) draws.push_back(measurer.NextDraw());
  const estimator::SimulatorPredictor truth(platform_options);

  // The distinct demands, in order of first appearance, and their intervals.
  std::vector<std::vector<size_t>> groups;
  {
    std::map<std::string, size_t> index;
    for (size_t k = 0; k < demand.size(); ++k) {
      auto [it, fresh] = index.emplace(DemandKey(demand[k]), groups.size());
      if (fresh) groups.emplace_back();
      groups[it->second].push_back(k);
    }
  }
  out.demands = static_cast<int>(groups.size());

  struct GroupResult {
    Status status = Status::Ok();
    std::vector<std::pair<size_t, BoundCandidate>> measured;  // (interval, candidate)
    std::vector<platform::Configuration> configs;             // of each measured one
    int searches = 0, evaluations = 0;
  };
  std::vector<GroupResult> results(groups.size());
  auto run_group = [&](size_t g) -> Status {
    const std::vector<policy::TenantSpec>& tenants = demand[groups[g].front()];
    std::vector<search::MappingTenant> mt;
    for (const policy::TenantSpec& t : tenants) mt.push_back(policy::ToMappingTenant(t, policy::Ladder(t)));
    search::MappingSpaceOptions so;
    so.max_stages = options.max_stages;
    ECOMAP_ASSIGN_OR_RETURN(search::MappingSpace space,
                            search::MappingSpace::Create(measurer.info(), mt, so));
    search::MappingGoal goal;
    goal.intensity = intensity[groups[g].front()];
    goal.weights.energy = 1;
    goal.weights.cdp = 0;
    ECOMAP_ASSIGN_OR_RETURN(goal.reference, search::ComputeReference(space, truth, goal.intensity));
    RecordingPredictor recorder(truth);
    for (size_t i = 0; i < options.prices.size(); ++i) {
      goal.weights.accuracy = options.prices[i];
      ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<search::Optimizer> opt,
                              search::MakeMappingOptimizer("lamcts", space, options.evals));
      search::Budget budget;
      budget.max_evals = options.evals;
      ECOMAP_ASSIGN_OR_RETURN(search::MappingResult r,
                              search::SearchMapping(space, recorder, goal, *opt, budget, options.seed + i));
      results[g].searches += 1;
      results[g].evaluations += r.search.evaluations;
    }
    // The contenders: the lowest-power SLO-holding configuration of each (mode, variants).
    goal.weights.accuracy = 0;
    std::map<std::string, Contender> best;
    for (auto& [config, perf] : recorder.Take()) {
      const search::MappingScore sc = search::ScoreConfiguration(space, goal, config, perf);
      if (!sc.feasible) continue;
      std::string key = std::to_string(config.power_mode);
      for (const platform::TenantConfig& t : config.tenants) key += "|" + t.model;
      auto it = best.find(key);
      if (it == best.end() || perf.power.value() < it->second.power_w) {
        best[key] = Contender{config, perf.power.value(), sc.accuracy_loss_pts};
      }
    }
    std::vector<Contender> pool;
    for (auto& [key, c] : best) pool.push_back(std::move(c));
    const std::vector<Contender> chosen = Fronts(std::move(pool), static_cast<size_t>(options.per_demand));
    // Measured in every interval of the demand, as a controller's choice is.
    for (size_t k : groups[g]) {
      for (const Contender& c : chosen) {
        ECOMAP_ASSIGN_OR_RETURN(platform::Performance m,
                                measurer.Measure(c.config, draws[k], c.config.power_mode));
        ECOMAP_ASSIGN_OR_RETURN(loop::IntervalRecord rec,
                                loop::AccountInterval(demand[k], c.config, m, intensity[k], interval));
        results[g].measured.push_back({k,
                                       {"search", rec.carbon_g, rec.accuracy_loss_pts * rec.requests,
                                        rec.requests, rec.slo_violations, rec.energy_wh}});
        results[g].configs.push_back(c.config);
      }
    }
    return Status::Ok();
  };
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, groups.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t g = next++; g < groups.size(); g = next++) results[g].status = run_group(g);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (size_t g = 0; g < groups.size(); ++g) {
    if (!results[g].status.ok()) {
      return results[g].status.WithContext("bound search, the demand of interval " +
                                           std::to_string(groups[g].front()));
    }
    out.searches += results[g].searches;
    out.evaluations += results[g].evaluations;
    for (size_t i = 0; i < results[g].measured.size(); ++i) {
      const size_t k = results[g].measured[i].first;
      out.intervals[k].push_back(std::move(results[g].measured[i].second));
      out.configs[k].push_back(std::move(results[g].configs[i]));
      out.measured += 1;
    }
  }
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace ecomap::replay
