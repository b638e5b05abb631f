#include "engine/stats.h"

#include <algorithm>
#include <cmath>

namespace ecomap::engine {
namespace {
constexpr double kMinMs = 1e-3;      // 1 us: everything below lands in bucket 0
constexpr double kMaxMs = 1e7;       // ~2.8 h: everything above lands in the last bucket
constexpr double kRatio = 1.01;      // bucket width: 1%
const double kLogRatio = std::log(kRatio);
const int kBuckets = static_cast<int>(std::ceil(std::log(kMaxMs / kMinMs) / kLogRatio)) + 1;

size_t NearestRank(uint64_t n, double p) {
  // Smallest rank r (1-based) with r >= p/100 * n.
  double r = std::ceil(p / 100.0 * static_cast<double>(n) - 1e-9);
  if (r < 1) r = 1;
  if (r > static_cast<double>(n)) r = static_cast<double>(n);
  return static_cast<size_t>(r);
}
}  // namespace

double ExactPercentile(std::vector<double>& samples_ms, double p) {
  if (samples_ms.empty()) return 0;
  size_t k = NearestRank(samples_ms.size(), p) - 1;
  std::nth_element(samples_ms.begin(), samples_ms.begin() + static_cast<long>(k), samples_ms.end());
  return samples_ms[k];
}

LatencySummary SummarizeExact(std::vector<double>& samples_ms) {
  LatencySummary s;
  s.count = samples_ms.size();
  if (samples_ms.empty()) return s;
  std::sort(samples_ms.begin(), samples_ms.end());
  double sum = 0;
  for (double v : samples_ms) sum += v;
  s.mean_ms = sum / static_cast<double>(s.count);
  s.min_ms = samples_ms.front();
  s.max_ms = samples_ms.back();
  s.p50_ms = samples_ms[NearestRank(s.count, 50) - 1];
  s.p95_ms = samples_ms[NearestRank(s.count, 95) - 1];
  s.p99_ms = samples_ms[NearestRank(s.count, 99) - 1];
  return s;
}

LatencyHistogram::LatencyHistogram() : buckets_(kBuckets, 0) {}

int LatencyHistogram::BucketOf(double ms) const {
  if (!(ms > kMinMs)) return 0;
  int b = static_cast<int>(std::log(ms / kMinMs) / kLogRatio) + 1;
  return std::min(b, kBuckets - 1);
}

double LatencyHistogram::BucketValue(int bucket) const {
  if (bucket == 0) return kMinMs;
  // Bucket b holds (kMinMs * r^(b-1), kMinMs * r^b]; report its geometric middle.
  return kMinMs * std::pow(kRatio, bucket - 0.5);
}

void LatencyHistogram::Add(Milliseconds latency) {
  double ms = latency.value();
  if (!std::isfinite(ms) || ms < 0) ms = 0;
  ++buckets_[BucketOf(ms)];
  if (count_ == 0) {
    min_ms_ = max_ms_ = ms;
  } else {
    min_ms_ = std::min(min_ms_, ms);
    max_ms_ = std::max(max_ms_, ms);
  }
  ++count_;
  sum_ms_ += ms;
}

double LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  uint64_t rank = NearestRank(count_, p);
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::clamp(BucketValue(b), min_ms_, max_ms_);
  }
  return max_ms_;
}

LatencySummary LatencyHistogram::Summary() const {
  LatencySummary s;
  s.count = count_;
  if (count_ == 0) return s;
  s.mean_ms = sum_ms_ / static_cast<double>(count_);
  s.min_ms = min_ms_;
  s.max_ms = max_ms_;
  s.p50_ms = Percentile(50);
  s.p95_ms = Percentile(95);
  s.p99_ms = Percentile(99);
  return s;
}

void LatencyHistogram::Clear() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  sum_ms_ = min_ms_ = max_ms_ = 0;
}

}  // namespace ecomap::engine
