// estimator/metrics.h: how good is a predictor? MAPE and R2 per output, per tenant count.
//
// Outputs: latency p50, latency p95, throughput (per tenant) and power (per configuration).
// MAPE = mean(|predicted - measured| / measured) x 100 (percent); R2 = 1 - SS_res / SS_tot on
// the raw values. Latency of a saturated open-loop tenant (its queue grows without bound; the
// figure is only "what the window saw") is excluded from the latency metrics and counted in
// `saturated`; the saturation flag itself is scored as an accuracy.
//
//   EvalReport r = Score(predictions, samples);
//   r.latency_p95.mape;  r.by_tenants[4].power.mape;  ReportToJson(r)["latency_p95_mape"]
//
// Also: splitting datasets (random hold-out, or by tenant count for "mixes never seen").
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/types.h"
#include "platform/sample.h"

namespace ecomap::estimator {

struct OutputMetrics {
  int64_t count = 0;
  double mape = 0;   // percent; 0 when count == 0
  double r2 = 0;     // 0 when count < 2
};

struct Scores {
  int64_t samples = 0;
  int64_t tenants = 0;
  int64_t saturated = 0;            // measured saturated tenants (excluded from latency)
  double saturation_accuracy = 1;   // share of tenants whose predicted flag matches
  OutputMetrics latency_p50, latency_p95, throughput, power;
};

struct EvalReport : Scores {
  std::map<int, Scores> by_tenants;  // key: tenants in the configuration
  // Per-tenant outputs (latency, throughput, saturation) of closed-loop and of open-loop tenants
  // ("closed", "open"); `samples` counts configurations with such a tenant; no power.
  std::map<std::string, Scores> by_arrival;
};

// REQUIRES: predicted.size() == truth.size(), each prediction with as many tenants as its sample.
EvalReport Score(const std::vector<platform::Performance>& predicted,
                 const std::vector<const platform::Sample*>& truth);

// {"samples", "tenants", "saturated_excluded", "saturation_accuracy",
//  "latency_p50_mape", "latency_p50_r2", "latency_p95_mape", "latency_p95_r2", "throughput_mape",
//  "throughput_r2", "power_mape", "power_r2", "by_tenants": {"1": {same keys}, ...},
//  "by_arrival": {"closed": {same keys, power count 0}, "open": {...}}}
nlohmann::json ReportToJson(const EvalReport& r);
nlohmann::json ScoresToJson(const Scores& s);

// How repeatable are the measurements themselves? Samples whose configuration appears more
// than once are grouped; each is "predicted" by the median of the OTHER measurements of its
// configuration (leave one out, per output, per tenant; with two measurements, each predicts
// the other), and the result is scored like a predictor: what knowing the configuration's own
// behaviour from independent runs buys. A median taken over the very sample it is scored on
// (as this function did before model version 3) reads optimistic: with three measurements one of them always scores
// 0. The median is not the MAPE-optimal constant where measurements scatter widely (MAPE
// rewards predicting low), so a predictor can score below this floor there. On simulated data
// without run-to-run spread it is 0.
struct RepeatFloor {
  int64_t groups = 0;    // configurations measured at least twice
  EvalReport report;     // over the samples of those groups (report.samples == 0: no repeats)
};
RepeatFloor MeasurementRepeatFloor(const std::vector<const platform::Sample*>& samples);

// Per-sample predictions for a closer look than the aggregate metrics: one JSON line per sample,
//   {"schema": "ecomap.predictions.v1", "index": <the sample's index>, "seed": <its run's seed>,
//    "config": {...}, "truth": {<measured or simulated Performance>},
//    "<predictor name>": {<Performance>}, ...}
// (`index` and `seed` together name a dataset line; a file may hold several runs.)
// written with WriteFileAtomic (core/file.h: a crash leaves `path` as it was).
// InvalidArgument when a predictor has not one prediction per sample; Unavailable naming the
// path when it cannot be written.
struct NamedPredictions {
  std::string name;                                     // "transformer", "analytic"
  const std::vector<platform::Performance>* predicted;  // one per sample
};
Status WritePredictions(const std::string& path, const std::vector<const platform::Sample*>& samples,
                        const std::vector<NamedPredictions>& predictors);

struct Split {
  std::vector<const platform::Sample*> train;
  std::vector<const platform::Sample*> holdout;   // random share of the seen mixes
  std::vector<const platform::Sample*> unseen;    // configurations with more tenants than max_train_tenants
};

// Deterministic for a seed: samples with more than `max_train_tenants` tenants (0: no limit) go
// to `unseen`; of the rest, a `holdout_share` random share to `holdout`, the others to `train`.
Split SplitSamples(const std::vector<platform::Sample>& samples, double holdout_share, uint64_t seed,
                   int max_train_tenants = 0);

}  // namespace ecomap::estimator
