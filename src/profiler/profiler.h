// profiler/profiler.h: measure (or simulate) many random configurations into a dataset.
//
//   auto sampler = Sampler::Create(platform.info(), {}, zoo::Models());
//   ProfileOptions o{.samples = 1000, .seed = 1};
//   ProfileSummary s = RunProfile(*sampler, evaluator, o, writer.get(), progress);
//
// The evaluator is whatever answers "what does this configuration cost?": a simulator's
// Evaluate (xavier-sim) or the real engine on this host (profiler/host_evaluator.h).
// A configuration the evaluator rejects is counted and skipped, not written.
//
// Thread-safety: RunProfile runs on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/types.h"
#include "profiler/dataset.h"
#include "profiler/sampler.h"

namespace ecomap::profiler {

using Evaluator = std::function<StatusOr<platform::Performance>(const platform::Configuration&)>;

struct ProfileOptions {
  int64_t samples = 1000;
  uint64_t seed = 1;
  std::string platform_name;    // written into every sample
  platform::Provenance provenance = platform::Provenance::kSimulated;        // latency, throughput
  platform::Provenance power_provenance = platform::Provenance::kSimulated;  // power
  // Stop after this many consecutive evaluator failures (a broken evaluator, not a bad sample).
  int max_consecutive_failures = 50;
};

struct ProfileSummary {
  int64_t written = 0;
  int64_t rejected = 0;         // configurations the evaluator refused (skipped)
  double seconds = 0;
  std::string last_error;       // the last evaluator error, for the report
};

// Progress callback: (done, total, elapsed seconds). Called at most a few times per second.
using ProgressFn = std::function<void(int64_t, int64_t, double)>;

// Draws options.samples configurations from `sampler` (one generator seeded with options.seed,
// so a run is reproducible), evaluates each and appends it to `writer`. Fails on a write error
// (DataLoss) or when the evaluator keeps failing (the last error, with the count).
StatusOr<ProfileSummary> RunProfile(const Sampler& sampler, const Evaluator& evaluate,
                                    const ProfileOptions& options, DatasetWriter& writer,
                                    const ProgressFn& progress = nullptr);

// Measures given configurations instead of drawn ones: each of `configs`, `repeat` times in a
// row (with the host evaluator every measurement draws a fresh arrival sequence, so the
// repeats show how far a measurement can be trusted). options.samples is ignored; a
// configuration the evaluator rejects is counted and skipped.
StatusOr<ProfileSummary> RunProfileOn(const std::vector<platform::Configuration>& configs, int repeat,
                                      const Evaluator& evaluate, const ProfileOptions& options,
                                      DatasetWriter& writer, const ProgressFn& progress = nullptr);

}  // namespace ecomap::profiler
