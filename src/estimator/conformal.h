// estimator/conformal.h: a calibrated upper bound on a tenant's p95 (split conformal prediction).
//
// The conformity score of a tenant is s = log(measured p95 / predicted p95), over the tenants
// that the latency metrics score (measured not saturated, both figures > 0; estimator/metrics.h).
// On n scores from data the predictor never trained on (the training run's held-out split, or a
// separate calibration set), the finite-sample conformal quantile at level q is the k-th smallest
// score with k = ceil((n + 1) q); when k > n there are too few scores and the bound is infinite
// (no bound). For a new tenant exchangeable with the calibration tenants,
//   P(measured p95 <= predicted p95 x exp(quantile_q)) >= q,
// so exp(quantile_q) is the "p95 bound factor" at confidence q (it is below 1 where the predictor
// over-predicts). The guarantee is marginal (over tenants, not per configuration) and holds only
// for data like the calibration data: another simulator, another board or another measurement
// window needs a new calibration (`ecomap estimator calibrate`).
//
//   std::vector<double> s = P95ConformityScores(predicted, samples);
//   ConformalCalibration c = ConformalCalibration::Compute(s, "calibrate --data cal.jsonl");
//   std::optional<double> f = c.BoundFactor(0.95);     // exp(q) at 95%, or nullopt
//   P95Coverage(predicted_test, test_samples, *f).percent;   // ~95 on fresh data
//
// Model files keep a calibration as the meta key "conformal" (ToJson/FromJson; docs/estimator.md).
//
// Thread-safety: pure functions and a value type.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/sample.h"
#include "platform/types.h"

namespace ecomap::estimator {

// The confidence levels a calibration stores (Compute), ascending.
inline constexpr std::array<double, 4> kConformalLevels = {0.80, 0.90, 0.95, 0.99};

// log(measured p95 / predicted p95) of every latency-scored tenant (measured not saturated, both
// p95 > 0 and finite), in sample and tenant order.
// REQUIRES: predicted.size() == truth.size(), tenants matched by position.
std::vector<double> P95ConformityScores(const std::vector<platform::Performance>& predicted,
                                        const std::vector<const platform::Sample*>& truth);

// The split-conformal quantile of `scores` at `level` in (0, 1): the k-th smallest score
// (1-based) with k = ceil((n + 1) x level) (computed with a 1e-9 tolerance, so that e.g.
// 20 x 0.9 counts as 18, not 19); nullopt when k > n (too few scores: no finite bound) or when
// `level` is outside (0, 1).
std::optional<double> ConformalQuantile(std::vector<double> scores, double level);

struct ConformalCalibration {
  int64_t scores = 0;                      // calibration tenants the quantiles come from
  std::map<double, double> log_quantiles;  // level -> quantile of the scores; a level whose
                                           // bound is infinite (too few scores) is absent
  std::string source;                      // what data, for the reader ("held-out split ...")

  // The quantiles of `scores` at every kConformalLevels level.
  static ConformalCalibration Compute(const std::vector<double>& scores, std::string source);

  // exp(quantile) at the smallest stored level >= confidence (a stricter level is a valid, more
  // conservative bound); nullopt when no stored level reaches `confidence` or it is not in (0, 1).
  std::optional<double> BoundFactor(double confidence) const;

  // {"method": "split-conformal log(measured p95 / predicted p95)", "scores": n,
  //  "log_quantiles": {"0.8": q, "0.9": q, "0.95": q, "0.99": q}, "factors": {same keys: exp(q)},
  //  "source": "..."}; "factors" is for readers, FromJson uses "log_quantiles".
  nlohmann::json ToJson() const;
  // InvalidArgument naming the key and the bad value (another "method" than the one above, a
  // level outside (0, 1), a quantile that is not a finite number, a negative count, a missing
  // "log_quantiles" or "scores"). "method" may be absent (read as the one above).
  static StatusOr<ConformalCalibration> FromJson(const nlohmann::json& j);
};

struct CoverageResult {
  int64_t tenants = 0;  // latency-scored tenants
  double percent = 0;   // of them, measured p95 <= predicted p95 x factor (0 when none)
};

// How often the bound predicted p95 x `factor` holds, over the tenants P95ConformityScores scores.
CoverageResult P95Coverage(const std::vector<platform::Performance>& predicted,
                           const std::vector<const platform::Sample*>& truth, double factor);

}  // namespace ecomap::estimator
