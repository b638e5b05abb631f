// estimator/simulator_predictor.h: the simulator as an oracle Predictor.
//
// Where the platform is simulated (xavier-sim), the simulator is the ground truth the estimators
// are trained on; wrapping its short fixed-seed simulation (XavierSim::Predict) behind Predictor
// lets the search and the evaluation tables use it like any other predictor (e.g. "how good
// would a perfect estimator be?"). Figures are labelled simulated (Provenance::kSimulated).
// Searches ask for the same configuration many times (substitution ladders, modes, restarts):
// results are memoised (up to kCacheSize configurations, then the memo starts over).
//
//   SimulatorPredictor oracle;                      // a calibrated xavier-sim
//   auto perf = oracle.PredictBatch(configs);
//
// Thread-safety: PredictBatch is const and thread-safe (XavierSim::Predict is; the memo has a
// mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "estimator/predictor.h"
#include "platform/sim/xavier_sim.h"

namespace ecomap::estimator {

class SimulatorPredictor final : public Predictor {
 public:
  explicit SimulatorPredictor(const platform::PlatformOptions& options = {},
                              platform::XavierSimParams params = platform::XavierSimParams::Calibrated());

  std::string name() const override { return "xavier-sim"; }
  StatusOr<std::vector<platform::Performance>> PredictBatch(
      const std::vector<platform::Configuration>& configs) const override;

  const platform::PlatformInfo& info() const { return sim_.info(); }

  static constexpr size_t kCacheSize = 200000;

 private:
  platform::XavierSim sim_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, platform::Performance> memo_;  // guarded by mu_
};

}  // namespace ecomap::estimator
