#include "estimator/correction.h"

#include <algorithm>
#include <cmath>

namespace ecomap::estimator {

void OnlineCorrection::Update(Ewma* e, double measured, double predicted) {
  if (!(measured > 0) || !(predicted > 0) || !std::isfinite(measured) || !std::isfinite(predicted)) return;
  const double lim = std::log(std::max(options_.max_ratio, 1.0));
  const double r = std::clamp(std::log(measured / predicted), -lim, lim);
  const double a = std::clamp(options_.alpha, 1e-6, 1.0);
  e->log_ratio = e->seen ? (1.0 - a) * e->log_ratio + a * r : r;
  e->seen = true;
}

Status OnlineCorrection::Observe(const platform::Configuration& config, const platform::Performance& predicted,
                                 const platform::Performance& measured) {
  if (predicted.tenants.size() != config.tenants.size() || measured.tenants.size() != config.tenants.size()) {
    return InvalidArgument("correction: the configuration has " + std::to_string(config.tenants.size()) +
                           " tenants, the prediction " + std::to_string(predicted.tenants.size()) +
                           " and the measurement " + std::to_string(measured.tenants.size()) +
                           ": pass the measurement of this configuration");
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    Ewma* e = tenants_[Key(TenantName(config.tenants[i], i), config.tenants[i].model)];
    const platform::TenantPerformance& m = measured.tenants[i];
    const platform::TenantPerformance& p = predicted.tenants[i];
    if (!m.saturated) {
      Update(&e[0], m.latency_p50.value(), p.latency_p50.value());
      Update(&e[1], m.latency_p95.value(), p.latency_p95.value());
    } else {
      // Overloaded: the prediction was too optimistic, by an unknown amount (the latency of a
      // saturated queue says nothing of it). The latency factors step up, at least to 1.
      for (Ewma* l : {&e[0], &e[1]}) {
        l->log_ratio = std::min(std::log(options_.max_ratio),
                                std::max(l->log_ratio, 0.0) + std::log(options_.saturation_step));
        l->seen = true;
      }
    }
    Update(&e[2], m.throughput_rps, p.throughput_rps);
  }
  Update(&power_, measured.power.value(), predicted.power.value());
  return Status::Ok();
}

void OnlineCorrection::Apply(const platform::Configuration& config, platform::Performance* perf) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < config.tenants.size() && i < perf->tenants.size(); ++i) {
    auto it = tenants_.find(Key(TenantName(config.tenants[i], i), config.tenants[i].model));
    if (it == tenants_.end()) continue;
    platform::TenantPerformance& t = perf->tenants[i];
    t.latency_p50 = Milliseconds(t.latency_p50.value() * std::exp(it->second[0].log_ratio));
    t.latency_p95 = Milliseconds(t.latency_p95.value() * std::exp(it->second[1].log_ratio));
    t.throughput_rps *= std::exp(it->second[2].log_ratio);
  }
  perf->power = Watts(perf->power.value() * std::exp(power_.log_ratio));
}

double OnlineCorrection::Factor(const std::string& tenant, const std::string& model,
                                const std::string& output) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (output == "power") return std::exp(power_.log_ratio);
  auto it = tenants_.find(Key(tenant, model));
  if (it == tenants_.end()) return 1.0;
  int k = output == "p50" ? 0 : output == "p95" ? 1 : output == "throughput" ? 2 : -1;
  return k < 0 ? 1.0 : std::exp(it->second[k].log_ratio);
}

void OnlineCorrection::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  tenants_.clear();
  power_ = Ewma{};
}

StatusOr<std::vector<platform::Performance>> CorrectedPredictor::PredictBatch(
    const std::vector<platform::Configuration>& configs) const {
  ECOMAP_ASSIGN_OR_RETURN(std::vector<platform::Performance> out, inner_->PredictBatch(configs));
  for (size_t c = 0; c < out.size(); ++c) correction_.Apply(configs[c], &out[c]);
  return out;
}

Status CorrectedPredictor::Observe(const platform::Configuration& config, const platform::Performance& measured) {
  ECOMAP_ASSIGN_OR_RETURN(platform::Performance predicted, inner_->Predict(config));
  return correction_.Observe(config, predicted, measured);
}

}  // namespace ecomap::estimator
