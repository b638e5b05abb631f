// estimator/simulator_predictor.h: the simulator as an oracle Predictor.
//
// Where the platform is simulated (xavier-sim), the simulator's noise-free model is the ground
// truth the estimators are trained on; wrapping it behind Predictor lets the search and the
// evaluation tables use it like any other predictor (e.g. "how good would a perfect estimator
// be?"). Figures are labelled simulated (Provenance::kSimulated).
//
//   SimulatorPredictor oracle;                      // a calibrated xavier-sim, no noise
//   auto perf = oracle.PredictBatch(configs);
//
// Thread-safety: PredictBatch is const and thread-safe (XavierSim::Predict is).
#pragma once

#include <memory>
#include <string>
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

 private:
  platform::XavierSim sim_;
};

}  // namespace ecomap::estimator
