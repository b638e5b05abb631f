// replay/bound_search.h: the bound's own candidates, searched in hindsight.
//
// The bound (replay/bound.h) is only as strong as its candidates, and the replayed controllers'
// choices alone make it a bound over those controllers. Each interval therefore also gets
// configurations that searches found knowing the world:
//   * per distinct demand of the window (the scenario's hours repeat from day to day), LA-MCTS
//     searches over every tenant's variant, the mapping (units and pipeline cuts, up to
//     `max_stages` stages) and the power mode together, with the simulator itself as the
//     predictor (estimator::SimulatorPredictor: xavier-sim's short noise-free simulation, the
//     ground truth, no estimator), minimising
//       P / P_ref + price x accuracy_loss_pts   under every SLO, no power threshold,
//     (search/mapping.h, ScoreConfiguration: P_ref the best variants on the GPU in the highest
//     mode; the loss request-weighted against every tenant's best variant), once per price of
//     `prices` (0: the least power whatever the accuracy; the largest: close to the best
//     variants), each search `evals` evaluations;
//   * every configuration those searches evaluated that held every SLO in the prediction is a
//     contender, the lowest-power one of each (power mode, variant combination) kept; the kept
//     ones on the (predicted power, request-weighted loss) front, then those on the front of the
//     rest, and so on, up to `per_demand` configurations, are the demand's candidates;
//   * each candidate is measured in every interval of its demand exactly as a controller's
//     choice is measured: the same simulator (platform::XavierSim::Measure) with that interval's
//     measurement draws (the seed stream every controller's platform draws from, one draw per
//     interval), accounted by loop::AccountInterval at the interval's intensity.
// Carry-over: a searched candidate is measured as if its power mode had been in force already
// (no mode-switch cost). Like the free switching between the controllers' candidates this is
// optimistic for the bound, i.e. it can only lower it; queues do not carry over between the
// simulator's intervals.
//
// Needs the xavier-sim platform (the measurement draws and the noise-free simulation);
// FailedPrecondition on another. Thread-safety: a pure function of its inputs; it runs the
// demands' searches on `threads` worker threads (the figures do not depend on the count).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "platform/platform.h"
#include "policy/tenant.h"
#include "replay/bound.h"

namespace ecomap::replay {

struct BoundSearchOptions {
  int evals = 0;  // evaluations per search (>= 40); 0: no searched candidates (`ecomap replay`: 600)
  std::vector<double> prices = {0, 0.01, 0.03, 0.06, 0.12, 0.25, 0.5};  // each >= 0, finite
  int per_demand = 24;  // candidates measured per demand (>= 1)
  int max_stages = 2;   // stages per tenant (the controllers' default)
  int threads = 0;      // 0: one per hardware thread
  uint64_t seed = 1;    // of the searches
  // InvalidArgument naming the bad field and the fix.
  Status Validate() const;
};

struct SearchedCandidates {
  BoundSearchOptions options;  // as asked (evals 0: none searched)
  // Per interval, the searched candidates (source "search"), measured in that interval.
  std::vector<std::vector<BoundCandidate>> intervals;
  // configs[k][i]: the configuration of intervals[k][i] (demand of interval k imposed).
  std::vector<std::vector<platform::Configuration>> configs;
  int demands = 0;      // distinct demands searched
  int searches = 0;     // searches run
  int evaluations = 0;  // predictions of the simulator asked by the searches
  int measured = 0;     // candidate measurements (candidates x intervals)
  double wall_s = 0;
};

// `demand[k]` and `intensity[k]` are interval k's demand and carbon intensity; `interval` the
// control interval; `platform` and `platform_options` those of the replay (the measurement draws
// of interval k are the k-th of a fresh platform built with them). InvalidArgument for bad
// options or mismatched sizes; FailedPrecondition when the platform is not xavier-sim; the
// search's or the simulator's errors with the demand as context.
StatusOr<SearchedCandidates> SearchBoundCandidates(const std::vector<std::vector<policy::TenantSpec>>& demand,
                                                   const std::vector<GramsPerKwh>& intensity,
                                                   Duration interval, const std::string& platform,
                                                   const platform::PlatformOptions& platform_options,
                                                   const BoundSearchOptions& options);

}  // namespace ecomap::replay
