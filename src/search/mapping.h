// search/mapping.h: the mapping search: (power mode, variants, cut points, units per stage) as a
// box the optimizers search, the objective of DESIGN.md with penalties, and one call that runs a
// decision with any predictor.
//
// Encoding (MappingSpace): one integer dimension for the power mode (an index into the allowed
// modes), and per tenant one for the variant (an index into its allowed variants), max_stages-1
// for the cut points and max_stages for the units of the stages (indices into the units the
// decoded mode has online; categorical dimensions, Box::categorical, so that the optimizers'
// local moves reach any unit in one step). Every point of the box decodes to a valid configuration: a cut value
// v in [0, B] (B: the most blocks of the tenant's variants) is scaled to round(v * n / B) for the
// decoded variant's n blocks, the cuts are sorted, and 0 / n or repeated ones mean "no cut here"
// (fewer stages); stage k takes unit dimension k, whose index wraps around the units online in
// the mode (CPU units past the mode's online_cpu_cores are offline: the host's cpuN), moving on to
// the next online unit when that one cannot run the stage's blocks (not even through its
// fallback). Dimensions with a single value (one mode, one variant, max_stages 1, one online
// unit) are left out of the box; a space with none at all has one dummy dimension [0, 1].
// Encode() gives a point that decodes back to the same configuration (the space's tenants fix
// the arrival figures: those of the configuration are ignored; frequency overrides are refused).
//
// Objective (MappingGoal, ScoreConfiguration): a cost to minimise (the optimizers maximise -cost)
//   cost = w_energy * P / P_ref + w_cdp * CDP / CDP_ref + w_accuracy * accuracy_loss_pts
//          + (infeasible ? penalty_base + w_slo * sum_t max(0, p95_t / slo_t - 1)
//                          + w_power * max(0, P / threshold - 1) : 0)
// with P the predicted device power, CDP the mean over tenants of (P * CI / total throughput) x
// p95 latency (gCO2eq*s per inference), P_ref / CDP_ref the figures of a reference configuration
// so the terms are comparable, accuracy_loss_pts the request-weighted accuracy loss against each
// tenant's best allowed variant. A saturated tenant, or one under its minimum throughput, counts
// as an SLO violation. Weights are configurable.
// The reference (MappingReference, goal.reference) is the "maxn" configuration of the space
// (ReferenceConfiguration: every tenant's most accurate allowed variant as one stage on the GPU,
// or the first online unit that runs it, in the allowed mode with the largest nominal budget,
// a mode without budget such as MAXN counting as the largest) predicted by the search's
// predictor; SearchMapping computes it when goal.reference is unset (one extra prediction, not
// counted as an evaluation). With an unset reference ScoreConfiguration divides by 1 W and
// 1 gCO2eq*s. Every cost is > 0 when the predicted power is > 0 (w_energy > 0), so "within 98% of
// the optimum" is measured as optimum_cost / found_cost >= 0.98.
// Details of the penalty: per tenant, the relative p95 excess max(0, p95 / slo - 1) (capped at
// 100), + 1 when saturated, + the relative throughput shortfall (min - thr) / min; the request
// weight of a tenant is its rate (open loop) or its predicted throughput (closed loop).
//
//   ECOMAP_ASSIGN_OR_RETURN(MappingSpace space,
//                           MappingSpace::Create(sim.info(), tenants, MappingSpaceOptions{}));
//   MappingGoal goal{.threshold = Watts{15}, .intensity = GramsPerKwh{250}};
//   ECOMAP_ASSIGN_OR_RETURN(auto opt, MakeMappingOptimizer("lamcts", space, 300));
//   ECOMAP_ASSIGN_OR_RETURN(MappingResult r,
//       SearchMapping(space, predictor, goal, *opt, Budget{.max_evals = 300}, /*seed=*/1));
//   apply(r.config);  r.predicted.power;  r.score.feasible;  r.search_ms;  r.predict_ms
//
// Thread-safety: MappingSpace is immutable after Create (Decode/Encode const, thread-safe).
// SearchMapping uses the optimizer object (one thread at a time) and the predictor's const
// PredictBatch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "estimator/predictor.h"
#include "platform/types.h"
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
  std::vector<std::string> units;  // allowed unit ids (e.g. {"GPU"}); empty: every unit
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
  // The canonical point of x's configuration, Encode(Decode(x)): points that decode alike (a unit
  // index of a stage that a "no cut" value leaves out, cut values that scale to the same block)
  // share it. The mapping searches pass it as Problem::canonical, so that the optimizers do not
  // spend evaluations on a configuration twice.
  std::vector<double> Canonical(const std::vector<double>& x) const;
  // Number of points of the box (distinct integer vectors; several may decode alike);
  // saturates at LLONG_MAX.
  long long Size() const;
  // The units online in an allowed mode, platform order (empty for a mode outside the space).
  std::vector<std::string> OnlineUnits(int mode_id) const;
  // The allowed mode ids (options().modes, or every mode of the platform), in order.
  const std::vector<int>& modes() const;
  // A one-line description of the encoding ("17 integer dims: mode(3) cam.variant(2) ...
  // cam.unit0(4, categorical) ...").
  std::string Describe() const;

  const platform::PlatformInfo& info() const;
  // The model catalogue the space was created with.
  const platform::ModelLookup& lookup() const;
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

// The normalisation of the energy and CDP terms (see the top comment). 0: unset.
struct MappingReference {
  Watts power{0};
  double cdp_g_s = 0;
};

struct MappingGoal {
  Watts threshold{0};          // predicted power must stay at or under it; 0: no threshold
  GramsPerKwh intensity{0};    // the carbon intensity of the interval (for CDP)
  ObjectiveWeights weights;
  MappingReference reference;  // unset: SearchMapping computes it (ComputeReference)
  // InvalidArgument naming the field: threshold or intensity negative or not finite, bad weights.
  Status Validate() const;
};

// The "maxn" configuration of the space (see the top comment).
platform::Configuration ReferenceConfiguration(const MappingSpace& space);
// Predicts ReferenceConfiguration(space) and returns its power and CDP at `intensity`.
StatusOr<MappingReference> ComputeReference(const MappingSpace& space,
                                            const estimator::Predictor& predictor,
                                            GramsPerKwh intensity);

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
  SearchResult search;              // the run (history in box coordinates, maximising -cost):
                                    // the warm starts first (batch 0), then the optimizer's
  int warm_start_evals = 0;         // evaluations of warm_start configurations
  MappingReference reference;       // the normalisation used
  double total_ms = 0;              // the whole call (budget.clock)
  double search_ms = 0;             // optimizer overhead (total minus prediction)
  double predict_ms = 0;            // time inside the predictor (the reference included)
};

// Runs the optimizer over the space with the predictor as a batch objective. The warm_start
// configurations (e.g. the decision in force) are encoded, evaluated first and count against the
// evaluation budget; the optimizer gets the rest (and the rest of the time budget). The result
// is the best of everything evaluated. Deterministic for a seed with an evaluation budget.
// Errors: a bad goal or budget (InvalidArgument), a warm start outside the space (naming its
// index), the optimizer's errors (e.g. the budget left below LA-MCTS's initial samples), or the
// predictor's error, with context.
StatusOr<MappingResult> SearchMapping(const MappingSpace& space,
                                      const estimator::Predictor& predictor,
                                      const MappingGoal& goal, Optimizer& optimizer,
                                      const Budget& budget, uint64_t seed,
                                      const std::vector<platform::Configuration>& warm_start = {});

// The optimizers tuned for mapping spaces (integer boxes of 10-40 dims, a few hundred
// evaluations): "lamcts" (perturbation sampler, settings in mapping_optimizers.cc), "random",
// "sa", "exhaustive" (up to 5,000,000 points). `budget_evals` (0: unknown) lets LA-MCTS size
// its initial design. NotFound naming the valid names otherwise.
StatusOr<std::unique_ptr<Optimizer>> MakeMappingOptimizer(const std::string& name, const MappingSpace& space,
                                                          int budget_evals = 0);
// The smallest evaluation budget MakeMappingOptimizer(name, space, budget) accepts: LA-MCTS's
// smallest initial design (16), the space's size for "exhaustive", 1 otherwise (unknown names: 1).
long long MinimumMappingBudget(const std::string& name, const MappingSpace& space);

}  // namespace ecomap::search
