// search/mapping.h: the mapping search: (power mode, variants, cut points, units per stage) as a
// box the optimizers search, the objective of DESIGN.md with penalties, and one call that runs a
// decision with any predictor.
//
// Encoding (MappingSpace): one integer dimension for the power mode (an index into the allowed
// modes), and per tenant one for the variant (an index into its allowed variants), max_stages-1
// for the cut points and max_stages for the units of the stages (indices into the units the
// decoded mode has online). Every point of the box decodes to a valid configuration: cut values
// are clamped into [0, num_blocks] of the decoded variant, sorted, and values 0 / num_blocks or
// repeated ones mean "no cut here" (fewer stages); unit indices wrap around the units online in
// the mode. Encode() gives a point that decodes back to the same configuration.
//
// Objective (MappingGoal, ScoreConfiguration): a cost to minimise (the optimizers maximise -cost)
//   cost = w_energy * P / P_ref + w_cdp * CDP / CDP_ref + w_accuracy * accuracy_loss_pts
//          + (infeasible ? penalty_base + w_slo * sum_t max(0, p95_t / slo_t - 1)
//                          + w_power * max(0, P / threshold - 1) : 0)
// with P the predicted device power, CDP the mean over tenants of (P * CI / total throughput) x
// p95 latency (gCO2eq*s per inference), P_ref / CDP_ref the figures of a reference configuration
// (documented in the implementation) so the terms are comparable, accuracy_loss_pts the
// request-weighted accuracy loss against each tenant's best allowed variant. A saturated tenant,
// or one under its minimum throughput, counts as an SLO violation. Weights are configurable.
//
//   ECOMAP_ASSIGN_OR_RETURN(MappingSpace space,
//                           MappingSpace::Create(sim.info(), tenants, MappingSpaceOptions{}));
//   MappingGoal goal{.threshold = Watts{15}, .intensity = GramsPerKwh{250}};
//   ECOMAP_ASSIGN_OR_RETURN(auto opt, MakeOptimizer("lamcts"));
//   ECOMAP_ASSIGN_OR_RETURN(MappingResult r,
//       SearchMapping(space, predictor, goal, *opt, Budget{.max_evals = 300}, /*seed=*/1));
//   apply(r.config);  r.predicted.power;  r.score.feasible;  r.search_ms;  r.predict_ms
//
// Thread-safety: MappingSpace is immutable after Create (Decode/Encode const, thread-safe).
// SearchMapping uses the optimizer object (one thread at a time) and the predictor's const
// PredictBatch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "estimator/predictor.h"
#include "platform/platform.h"
#include "search/optimizer.h"

namespace ecomap::search {

// One tenant of a mapping problem: its demand, its SLO and the variants it may use.
struct MappingTenant {
  std::string name;                   // unique; becomes TenantConfig::name
  std::vector<std::string> variants;  // zoo models allowed, increasing accuracy (catalogue order)
  platform::ArrivalKind arrival = platform::ArrivalKind::kOpenLoop;
  double rate_rps = 0;                // open loop
  int concurrency = 1;                // closed loop
  Milliseconds slo_p95{0};            // 0: no latency SLO
  double min_throughput_rps = 0;      // 0: none
};

struct MappingSpaceOptions {
  int max_stages = 2;       // stages per tenant, >= 1
  std::vector<int> modes;   // allowed power-mode ids; empty: every mode of the platform
};

class MappingSpace {
 public:
  // InvalidArgument / NotFound naming the tenant and the bad value: no tenants, duplicate names,
  // no variants, unknown model, bad arrival figures, max_stages < 1, unknown mode.
  static StatusOr<MappingSpace> Create(const platform::PlatformInfo& info,
                                       std::vector<MappingTenant> tenants,
                                       MappingSpaceOptions options = {},
                                       platform::ModelLookup lookup = {});

  const Box& box() const;
  // Always a configuration that ValidateConfiguration accepts. x must have box().dims() values
  // (any values: they are snapped into the box first).
  platform::Configuration Decode(const std::vector<double>& x) const;
  // A point that decodes to `config`; InvalidArgument when config uses a mode, variant, unit or
  // more stages than the space allows (the message names it).
  StatusOr<std::vector<double>> Encode(const platform::Configuration& config) const;
  // Number of points of the box (distinct integer vectors; several may decode alike).
  long long Size() const;

  const platform::PlatformInfo& info() const;
  const std::vector<MappingTenant>& tenants() const;
  const MappingSpaceOptions& options() const;

  // Implementation detail, public for value semantics.
  struct State;
  explicit MappingSpace(std::shared_ptr<const State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<const State> state_;
};

struct ObjectiveWeights {
  double energy = 1.0;
  double cdp = 1.0;
  double accuracy = 0.05;      // per percentage point of request-weighted accuracy loss
  double penalty_base = 10.0;  // added once to every infeasible configuration
  double slo = 10.0;           // per unit of relative p95 excess, summed over tenants
  double power = 10.0;         // per unit of relative power excess over the threshold
  Status Validate() const;     // all finite and >= 0
};

struct MappingGoal {
  Watts threshold{0};          // predicted power must stay at or under it; 0: no threshold
  GramsPerKwh intensity{0};    // the carbon intensity of the interval (for CDP)
  ObjectiveWeights weights;
};

struct MappingScore {
  double cost = 0;                  // the objective (minimised)
  bool feasible = false;            // every SLO held and power <= threshold
  Watts power{0};
  double cdp_g_s = 0;               // mean over tenants, gCO2eq*s per inference
  double accuracy_loss_pts = 0;     // request-weighted
  std::vector<bool> slo_met;        // per tenant
};

// Scores one configuration of `space` from its predicted (or measured) performance.
MappingScore ScoreConfiguration(const MappingSpace& space, const MappingGoal& goal,
                                const platform::Configuration& config,
                                const platform::Performance& perf);

struct MappingResult {
  platform::Configuration config;   // the best configuration found
  platform::Performance predicted;  // the predictor's figures for it
  MappingScore score;
  SearchResult search;              // the optimizer's run (history in box coordinates)
  double search_ms = 0;             // optimizer overhead (total minus prediction)
  double predict_ms = 0;            // time inside the predictor
};

// Runs the optimizer over the space with the predictor as a batch objective. Errors: a bad goal
// or budget (InvalidArgument), or the predictor's error with context.
StatusOr<MappingResult> SearchMapping(const MappingSpace& space,
                                      const estimator::Predictor& predictor,
                                      const MappingGoal& goal, Optimizer& optimizer,
                                      const Budget& budget, uint64_t seed,
                                      const std::vector<platform::Configuration>& warm_start = {});

}  // namespace ecomap::search
