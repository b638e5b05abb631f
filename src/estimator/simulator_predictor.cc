#include "estimator/simulator_predictor.h"

namespace ecomap::estimator {

SimulatorPredictor::SimulatorPredictor(const platform::PlatformOptions& options,
                                       platform::XavierSimParams params)
    : sim_(options, std::move(params)) {}

StatusOr<std::vector<platform::Performance>> SimulatorPredictor::PredictBatch(
    const std::vector<platform::Configuration>& configs) const {
  std::vector<platform::Performance> out;
  out.reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    StatusOr<platform::Performance> p = sim_.Predict(configs[i]);
    if (!p.ok()) return p.status().WithContext("configuration " + std::to_string(i));
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace ecomap::estimator
