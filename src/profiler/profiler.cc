#include "profiler/profiler.h"

#include <chrono>
#include <functional>

namespace ecomap::profiler {

namespace {

// The loop both entry points share: `next` gives the next configuration (false: none left),
// `total` the number of samples to write (for the progress line and the stop condition).
StatusOr<ProfileSummary> Loop(int64_t total, const std::function<bool(platform::Configuration*)>& next,
                              const Evaluator& evaluate, const ProfileOptions& options, DatasetWriter& writer,
                              const ProgressFn& progress) {
  ProfileSummary summary;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double last_progress = -1;
  int consecutive_failures = 0;
  int64_t index = 0;
  platform::Configuration config;
  while (summary.written < total && next(&config)) {
    StatusOr<platform::Performance> perf = evaluate(config);
    if (!perf.ok()) {
      ++summary.rejected;
      summary.last_error = perf.status().message();
      if (++consecutive_failures >= options.max_consecutive_failures) {
        return Status(perf.status().code(),
                      "profile: the evaluator failed " + std::to_string(consecutive_failures) +
                          " times in a row; last error: " + perf.status().message());
      }
      continue;
    }
    consecutive_failures = 0;
    Sample s;
    s.platform = options.platform_name;
    s.provenance = options.provenance;
    s.power_provenance = options.power_provenance;
    s.index = index++;
    s.seed = options.seed;
    s.config = config;
    s.result = std::move(*perf);
    ECOMAP_RETURN_IF_ERROR(writer.Append(s));
    ++summary.written;
    if (progress) {
      double t = elapsed();
      if (t - last_progress >= 0.5 || summary.written == total) {
        progress(summary.written, total, t);
        last_progress = t;
      }
    }
  }
  summary.seconds = elapsed();
  return summary;
}

}  // namespace

StatusOr<ProfileSummary> RunProfile(const Sampler& sampler, const Evaluator& evaluate,
                                    const ProfileOptions& options, DatasetWriter& writer,
                                    const ProgressFn& progress) {
  if (options.samples < 1) return InvalidArgument("profile: --samples must be >= 1");
  std::mt19937_64 rng(options.seed);
  auto next = [&](platform::Configuration* c) {
    *c = sampler.Next(rng);
    return true;
  };
  return Loop(options.samples, next, evaluate, options, writer, progress);
}

StatusOr<ProfileSummary> RunProfileOn(const std::vector<platform::Configuration>& configs, int repeat,
                                      const Evaluator& evaluate, const ProfileOptions& options,
                                      DatasetWriter& writer, const ProgressFn& progress) {
  if (configs.empty()) return InvalidArgument("profile: no configurations to measure");
  if (repeat < 1) return InvalidArgument("profile: repeat must be >= 1, got " + std::to_string(repeat));
  size_t k = 0;
  auto next = [&](platform::Configuration* c) {
    if (k >= configs.size() * static_cast<size_t>(repeat)) return false;
    *c = configs[k++ / static_cast<size_t>(repeat)];
    return true;
  };
  const int64_t total = static_cast<int64_t>(configs.size()) * repeat;
  return Loop(total, next, evaluate, options, writer, progress);
}

}  // namespace ecomap::profiler
