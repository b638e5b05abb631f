#include "profiler/profiler.h"

#include <chrono>

namespace ecomap::profiler {

StatusOr<ProfileSummary> RunProfile(const Sampler& sampler, const Evaluator& evaluate,
                                    const ProfileOptions& options, DatasetWriter& writer,
                                    const ProgressFn& progress) {
  if (options.samples < 1) return InvalidArgument("profile: --samples must be >= 1");
  std::mt19937_64 rng(options.seed);
  ProfileSummary summary;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double last_progress = -1;
  int consecutive_failures = 0;
  int64_t index = 0;
  while (summary.written < options.samples) {
    platform::Configuration config = sampler.Next(rng);
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
    s.config = std::move(config);
    s.result = std::move(*perf);
    ECOMAP_RETURN_IF_ERROR(writer.Append(s));
    ++summary.written;
    if (progress) {
      double t = elapsed();
      if (t - last_progress >= 0.5 || summary.written == options.samples) {
        progress(summary.written, options.samples, t);
        last_progress = t;
      }
    }
  }
  summary.seconds = elapsed();
  return summary;
}

}  // namespace ecomap::profiler
