#include "estimator/simulator_predictor.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <thread>

namespace ecomap::estimator {

SimulatorPredictor::SimulatorPredictor(const platform::PlatformOptions& options,
                                       platform::XavierSimParams params)
    : sim_(options, std::move(params)) {}

StatusOr<std::vector<platform::Performance>> SimulatorPredictor::PredictBatch(
    const std::vector<platform::Configuration>& configs) const {
  std::vector<std::optional<platform::Performance>> out(configs.size());
  std::vector<std::string> keys(configs.size());
  std::vector<size_t> misses;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < configs.size(); ++i) {
      keys[i] = nlohmann::json(configs[i]).dump();
      if (auto it = memo_.find(keys[i]); it != memo_.end()) {
        out[i] = it->second;
      } else {
        misses.push_back(i);
      }
    }
  }
  // The simulations of a batch are independent: two threads when there is enough work (the
  // simulator is single-threaded and thread-safe).
  std::vector<Status> errors(configs.size(), Status::Ok());
  auto simulate = [&](size_t from, size_t step) {
    for (size_t k = from; k < misses.size(); k += step) {
      StatusOr<platform::Performance> p = sim_.Predict(configs[misses[k]]);
      if (p.ok()) {
        out[misses[k]] = std::move(*p);
      } else {
        errors[misses[k]] = p.status();
      }
    }
  };
  if (misses.size() >= 8) {
    std::thread helper(simulate, 1, 2);
    simulate(0, 2);
    helper.join();
  } else {
    simulate(0, 1);
  }
  std::vector<platform::Performance> result;
  result.reserve(configs.size());
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < configs.size(); ++i) {
    if (!errors[i].ok()) return errors[i].WithContext("configuration " + std::to_string(i));
    if (memo_.size() >= kCacheSize) memo_.clear();
    memo_.emplace(keys[i], *out[i]);
    result.push_back(std::move(*out[i]));
  }
  return result;
}

}  // namespace ecomap::estimator
