#include "estimator/predictor.h"

namespace ecomap::estimator {

StatusOr<platform::Performance> Predictor::Predict(const platform::Configuration& config) const {
  ECOMAP_ASSIGN_OR_RETURN(std::vector<platform::Performance> r, PredictBatch({config}));
  if (r.size() != 1) return Internal(name() + ": PredictBatch returned " + std::to_string(r.size()) + " results for 1");
  return std::move(r[0]);
}

std::optional<double> Predictor::P95BoundFactor(double /*confidence*/) const { return std::nullopt; }

std::string TenantName(const platform::TenantConfig& t, size_t index) {
  return t.name.empty() ? "t" + std::to_string(index) : t.name;
}

}  // namespace ecomap::estimator
