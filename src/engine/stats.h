// engine/stats.h: latency statistics of the execution engine.
//
// Two recorders with one summary type:
//   - LatencyHistogram: bounded memory for runs of any length (a daemon's whole life);
//     log-spaced buckets 1% wide from 1 us to 1e7 ms, so a reported percentile is within 0.5%
//     of the exact one (count, mean, min and max are exact);
//   - ExactPercentile over a sample vector: used for control windows (seconds of samples).
// Percentiles use the nearest-rank definition: the smallest sample x such that at least p% of
// the samples are <= x.
//
//   LatencyHistogram h;
//   h.Add(Milliseconds(12.5));
//   LatencySummary s = h.Summary();   // s.p95_ms ...
//
// Thread-safety: not thread-safe; the engine guards each recorder with its tenant's mutex.
#pragma once

#include <cstdint>
#include <vector>

#include "core/units.h"

namespace ecomap::engine {

struct LatencySummary {
  uint64_t count = 0;
  double mean_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};

// Nearest-rank percentile of `samples` (any order; the vector is partially reordered).
// Returns 0 for an empty vector. REQUIRES: 0 < p <= 100.
double ExactPercentile(std::vector<double>& samples_ms, double p);
// Summary of exact samples (the vector is reordered).
LatencySummary SummarizeExact(std::vector<double>& samples_ms);

class LatencyHistogram {
 public:
  LatencyHistogram();
  void Add(Milliseconds latency);
  // Nearest-rank percentile, within 0.5% of the exact value (clamped to [min, max]).
  double Percentile(double p) const;
  LatencySummary Summary() const;
  uint64_t count() const { return count_; }
  void Clear();

 private:
  int BucketOf(double ms) const;
  double BucketValue(int bucket) const;

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ms_ = 0;
  double min_ms_ = 0;
  double max_ms_ = 0;
};

}  // namespace ecomap::engine
