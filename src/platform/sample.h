// platform/sample.h: one profiled sample, a configuration and what it cost, with where the figures
// come from. Header-only, in ecomap_platform_types: the estimator trains and scores on samples
// without depending on the profiler, which reads and writes them as JSON lines
// (profiler/dataset.h, where profiler::Sample names this type).
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>

#include "platform/types.h"

namespace ecomap::platform {

struct Sample {
  std::string platform;                           // registry name of the platform that produced it
  Provenance provenance = Provenance::kSimulated;        // latency, throughput
  Provenance power_provenance = Provenance::kSimulated;  // power
  int64_t index = 0;                              // 0-based sample number within its run
  uint64_t seed = 0;                              // the run's seed
  Configuration config;
  Performance result;
};

}  // namespace ecomap::platform
