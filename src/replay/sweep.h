// replay/sweep.h: equal-accuracy comparisons: controllers replayed along their accuracy knob.
//
// A controller that spends more accuracy can emit less carbon, so a saving means little unless
// both sides lost the same accuracy. Every controller with an accuracy knob is replayed at N
// settings (`ecomap replay --sweep N`) and its (accuracy loss, carbon) points form its curve:
//   ecomap   threshold.depth in [0, 1]   how far down the budget range the dirtiest hour cuts
//   energy   energy_position in [0, 1]   where its carbon-blind threshold sits
//   clover   clover_lambda in [0, 1]     its weight of carbon against accuracy
//   bound    the accuracy-loss budget    from 0 to the largest loss of any run (no replay: the
//                                        hindsight bound is re-solved, replay/bound.h)
// The settings are i / (N - 1), i = 0..N-1 (N >= 2). A swept run is named "NAME@KNOB" (e.g.
// "energy@0.25") and is a controller of the replay like any other (and a candidate of the bound).
// Ecomap's saving against a baseline at equal accuracy reads the baseline's curve at Ecomap's own
// accuracy loss (the default run's) as its lower envelope (CarbonAtLoss): the least carbon of any
// setting, or time-shared mix of two settings, that loses at most that much accuracy, so a
// setting that another beats on both counts never lifts the baseline's figure; outside the
// curve's range there is no figure ("covered": false). The bound's figure is the bound solved at
// exactly that loss (the replay's `bound.at`), not a point of its curve; "bound-carbon-blind" is
// the carbon-blind bound solved there (bound.h, SolveCarbonBlindBound): the least-energy mix of
// the same candidates, which separates what the bound gains by knowing the carbon signal from
// what it gains by hindsight alone.
//
// JSON (added to the replay's by ReplayToJson when a sweep ran):
//   "pareto": { NAME: [ {"knob", "carbon_g", "accuracy_loss_pts", "cdp", "slo_violation_rate",
//               "good_requests"} ... sorted by accuracy loss ] },
//   "equal_accuracy": {"reference": "ecomap", "accuracy_loss_pts", "carbon_g",
//               "vs": { NAME: {"covered", "carbon_g" (at that loss), "saving_pct"} },
//               with NAME every swept baseline, "bound" and "bound-carbon-blind" (which adds
//               "energy_wh" and "accuracy_loss_pts", its mix's; "error" when it could not be solved) }
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/controller.h"
#include "replay/replay.h"

namespace ecomap::replay {

// Controllers with an accuracy knob (the bound's is handled separately).
const std::vector<std::string>& SweptControllers();

// The extra runs of a sweep: for every name of `names` that has a knob, N runs "NAME@KNOB".
// InvalidArgument when points < 2.
StatusOr<std::vector<ControllerRun>> SweepRuns(const std::vector<std::string>& names, int points,
                                               const policy::ControllerContext& context);

// The "pareto" and "equal_accuracy" objects of a replay that included sweep runs (see above).
nlohmann::json SweepJson(const ReplayResult& r, int points, const std::string& reference = "ecomap");

// The key of the carbon-blind bound in "equal_accuracy"'s "vs".
inline constexpr const char* kCarbonBlindBound = "bound-carbon-blind";

// A curve's carbon at `loss` from (loss, carbon) points: the least carbon of one point with loss
// <= `loss`, or of a line between two points on either side of it (a time-shared mix of two
// settings); nullopt outside [least loss, largest loss].
std::optional<double> CarbonAtLoss(std::vector<std::pair<double, double>> curve, double loss);

}  // namespace ecomap::replay
