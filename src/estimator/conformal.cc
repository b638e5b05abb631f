#include "estimator/conformal.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ecomap::estimator {
namespace {

constexpr const char* kMethod = "split-conformal log(measured p95 / predicted p95)";

// The key of a level in the JSON: "0.8", "0.9", "0.95", "0.99".
std::string LevelKey(double level) { return fmt::format("{:g}", level); }

// Calls f(log(measured / predicted)) for every latency-scored tenant.
template <typename F>
void ForEachScore(const std::vector<platform::Performance>& predicted,
                  const std::vector<const platform::Sample*>& truth, F f) {
  const size_t n = std::min(predicted.size(), truth.size());
  for (size_t s = 0; s < n; ++s) {
    const platform::Performance& p = predicted[s];
    const platform::Performance& t = truth[s]->result;
    for (size_t i = 0; i < t.tenants.size() && i < p.tenants.size(); ++i) {
      if (t.tenants[i].saturated) continue;
      const double m = t.tenants[i].latency_p95.value(), q = p.tenants[i].latency_p95.value();
      if (!(m > 0) || !(q > 0) || !std::isfinite(m) || !std::isfinite(q)) continue;
      f(m, q);
    }
  }
}

}  // namespace

std::vector<double> P95ConformityScores(const std::vector<platform::Performance>& predicted,
                                        const std::vector<const platform::Sample*>& truth) {
  std::vector<double> out;
  ForEachScore(predicted, truth,
               [&out](double measured, double pred) { out.push_back(std::log(measured / pred)); });
  return out;
}

std::optional<double> ConformalQuantile(std::vector<double> scores, double level) {
  if (!(level > 0 && level < 1) || scores.empty()) return std::nullopt;
  const double n = static_cast<double>(scores.size());
  const double k = std::ceil((n + 1) * level - 1e-9);
  if (k > n) return std::nullopt;
  const size_t index = static_cast<size_t>(std::max(1.0, k)) - 1;
  std::nth_element(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(index), scores.end());
  return scores[index];
}

ConformalCalibration ConformalCalibration::Compute(const std::vector<double>& scores, std::string source) {
  ConformalCalibration c;
  c.scores = static_cast<int64_t>(scores.size());
  c.source = std::move(source);
  for (double level : kConformalLevels) {
    if (std::optional<double> q = ConformalQuantile(scores, level)) c.log_quantiles[level] = *q;
  }
  return c;
}

std::optional<double> ConformalCalibration::BoundFactor(double confidence) const {
  if (!(confidence > 0 && confidence < 1)) return std::nullopt;
  auto it = log_quantiles.lower_bound(confidence - 1e-9);
  if (it == log_quantiles.end()) return std::nullopt;
  return std::exp(it->second);
}

nlohmann::json ConformalCalibration::ToJson() const {
  nlohmann::json q = nlohmann::json::object(), f = nlohmann::json::object();
  for (const auto& [level, v] : log_quantiles) {
    q[LevelKey(level)] = v;
    f[LevelKey(level)] = std::exp(v);
  }
  return {{"method", kMethod}, {"scores", scores}, {"log_quantiles", q}, {"factors", f}, {"source", source}};
}

StatusOr<ConformalCalibration> ConformalCalibration::FromJson(const nlohmann::json& j) {
  if (!j.is_object())
    return InvalidArgument("conformal: expected a JSON object, found " + j.dump().substr(0, 60));
  ConformalCalibration c;
  if (j.contains("method") && j["method"] != kMethod) {
    return InvalidArgument("conformal.method is " + j["method"].dump() + ": this build reads only \"" + kMethod +
                           "\" (recalibrate with `ecomap estimator calibrate`)");
  }
  if (!j.contains("scores") || !j["scores"].is_number_integer() || j["scores"].get<int64_t>() < 0) {
    return InvalidArgument("conformal.scores: expected a count >= 0, found " +
                           (j.contains("scores") ? j["scores"].dump() : std::string("nothing")));
  }
  c.scores = j["scores"].get<int64_t>();
  if (!j.contains("log_quantiles") || !j["log_quantiles"].is_object()) {
    return InvalidArgument(
        "conformal.log_quantiles: expected an object {\"<level>\": <log quantile>}, found " +
        (j.contains("log_quantiles") ? j["log_quantiles"].dump().substr(0, 60) : std::string("nothing")));
  }
  for (const auto& [key, value] : j["log_quantiles"].items()) {
    double level = 0;
    size_t used = 0;
    try {
      level = std::stod(key, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != key.size() || !(level > 0 && level < 1)) {
      return InvalidArgument("conformal.log_quantiles: the level '" + key + "' is not a number in (0, 1)");
    }
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      return InvalidArgument("conformal.log_quantiles." + key + " is " + value.dump() +
                             ": expected a finite number (leave out a level without a bound)");
    }
    c.log_quantiles[level] = value.get<double>();
  }
  if (j.contains("source") && j["source"].is_string()) c.source = j["source"].get<std::string>();
  return c;
}

CoverageResult P95Coverage(const std::vector<platform::Performance>& predicted,
                           const std::vector<const platform::Sample*>& truth, double factor) {
  CoverageResult r;
  int64_t covered = 0;
  // Compared as scores (logs), so that the calibration tenant whose score is the quantile counts
  // as covered by exp(quantile) despite rounding.
  const double log_factor = factor > 0 ? std::log(factor) : -HUGE_VAL;
  ForEachScore(predicted, truth, [&](double measured, double pred) {
    ++r.tenants;
    covered += std::log(measured / pred) <= log_factor + 1e-12;
  });
  r.percent = r.tenants > 0 ? 100.0 * static_cast<double>(covered) / static_cast<double>(r.tenants) : 0.0;
  return r;
}

}  // namespace ecomap::estimator
