// profiler/dataset.h: the estimator's datasets, as JSON lines.
//
// One sample per line (UTF-8, '\n' terminated), each a JSON object:
//   {"schema": "ecomap.profile.v1",
//    "platform": "xavier-sim",            // registry name of the platform that produced it
//    "provenance": "simulated",           // measured | modelled | simulated: latency/throughput
//    "power_provenance": "modelled",      // the same, for result.power_w (absent: = provenance)
//    "index": 17,                         // 0-based sample number within its run
//    "seed": 1,                           // the run's seed
//    "config": {...},                     // platform::Configuration (platform/types.h)
//    "result": {...}}                     // platform::Performance  (platform/types.h)
// Configuration: {"power_mode": 2, "frequency_mhz": {}, "tenants": [{"name": "t0", "model":
//   "resnet50", "stages": [{"begin":0,"end":3,"unit":"GPU"}, ...], "arrival": "closed"|"open",
//   "rate_rps": 20.0, "concurrency": 1}]}
// Performance: {"tenants": [{"name":"t0","latency_p50_ms":..,"latency_p95_ms":..,
//   "throughput_rps":..,"saturated":false}], "power_w":.., "unit_utilisation": {"GPU":0.7},
//   "emc_utilisation":.., "provenance":"simulated", "window_s":..}
//
// Crash safety: the writer appends whole lines and flushes each one, so a crash can lose at
// most the line being written; the reader skips (and counts) a final line without its '\n'.
//
// Thread-safety: DatasetWriter serialises Append() internally; ReadDataset is a pure function.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/sample.h"
#include "platform/types.h"

namespace ecomap::profiler {

inline constexpr const char* kDatasetSchema = "ecomap.profile.v1";

// One line of the dataset (platform/sample.h, where the estimator uses it without the profiler).
using Sample = platform::Sample;

class DatasetWriter {
 public:
  // Opens `path` for appending (created when absent; `truncate` empties it first).
  static StatusOr<std::unique_ptr<DatasetWriter>> Open(const std::string& path, bool truncate);
  ~DatasetWriter();

  // Writes one line and flushes it. DataLoss on a short write (disk full).
  Status Append(const Sample& sample);
  int64_t lines() const { return lines_; }

 private:
  DatasetWriter(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
  std::FILE* f_;
  std::string path_;
  std::mutex mu_;
  int64_t lines_ = 0;
};

struct Dataset {
  std::vector<Sample> samples;
  int truncated_lines = 0;   // a last line without '\n' (an interrupted write), skipped
};

// Reads and validates every line. InvalidArgument "FILE:LINE: problem" on malformed JSON, a
// missing field or a wrong type (e.g. "FILE:12: result.power_w: missing"), a wrong schema, or an
// empty file. NotFound when the file does not exist.
StatusOr<Dataset> ReadDataset(const std::string& path);

// Removes from `samples` every sample whose configuration equals one in `others` (e.g. a test
// set measured separately, so that no configuration is both trained on and scored); keeps the
// order of the rest. Returns how many were removed.
int RemoveConfigurations(std::vector<Sample>* samples, const std::vector<Sample>& others);
// The converse: keeps only the samples whose configuration equals one in `others` (e.g. to score
// the measurements of one dataset's configurations against another measurement of them). Returns
// how many were removed.
int KeepConfigurations(std::vector<Sample>* samples, const std::vector<Sample>& others);

// One line of the format above, without the '\n'.
std::string SampleToJsonLine(const Sample& sample);
// Parses one line; `where` prefixes errors ("FILE:LINE").
StatusOr<Sample> SampleFromJsonLine(const std::string& line, const std::string& where);

}  // namespace ecomap::profiler
