// carbon/trace.h: carbon-intensity traces from files, and a CarbonSource that replays them.
//
// Formats (detected from the content):
//   - Electricity Maps data-portal hourly CSV, both header variants
//     ("Carbon Intensity gCO₂eq/kWh (direct)" / "(LCA)" and the newer "(Life cycle)" naming);
//   - Carbon Aware SDK JSON: an array of {"Location","Time","Rating","Duration"};
//   - plain CSV: a header "timestamp,gco2_per_kwh" then one row per period.
// Rows must be strictly increasing in time, with non-negative numeric intensities; anything
// else fails with InvalidArgument naming the file, the line and the problem.
//
//   StatusOr<Trace> t = LoadTrace("data/carbon/ES_2022_hourly.csv", {.column = TraceColumn::kLifecycle});
//
// Thread-safety: Trace is a value; TraceSource is safe for one thread at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "carbon/source.h"

namespace ecomap::carbon {

enum class TraceColumn { kDirect, kLifecycle };

struct TraceOptions {
  TraceColumn column = TraceColumn::kDirect;  // data-portal CSVs only
};

struct TracePoint {
  TimePoint time;          // start of the period, UTC
  GramsPerKwh intensity;   // gCO2eq/kWh
  bool estimated = false;  // the data provider marked it estimated
};

struct Trace {
  std::string name;                 // file name without folders, e.g. "ES_2022_hourly.csv"
  std::string zone;                 // e.g. "ES" where the format says, else empty
  std::vector<TracePoint> points;   // strictly increasing in time, at least one
};

// Reads and validates a trace file; the format is detected from the content.
StatusOr<Trace> LoadTrace(const std::string& path, const TraceOptions& options = {});
// Same, from text already in memory; `name` is used in error messages ("name:line: ...").
StatusOr<Trace> ParseTrace(std::string_view content, const std::string& name,
                           const TraceOptions& options = {});

}  // namespace ecomap::carbon
