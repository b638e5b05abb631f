// carbon/trace.h: carbon-intensity traces from files.
//
// Formats (detected from the content):
//   - Electricity Maps data-portal hourly CSV, both header variants
//     ("Carbon Intensity gCO₂eq/kWh (direct)" / "(LCA)" and the newer "(Life cycle)", "CFE %",
//     "RE %" naming; header names are matched case-insensitively). Quoted fields (RFC 4180) are
//     accepted; the "Data Estimated" column (true/false) sets TracePoint::estimated.
//   - Carbon Aware SDK JSON: an array of {"Location","Time","Rating","Duration"}; Duration is a
//     .NET TimeSpan ("01:00:00", "1.00:00:00") or ISO-8601 ("PT1H"). Location becomes the zone.
//   - plain CSV: a header "timestamp,gco2_per_kwh" (extra columns are ignored; an optional
//     "estimated" column is read) then one row per period.
// A UTF-8 byte-order mark and CRLF line ends are accepted. Rows must be strictly increasing in
// time, with finite, non-negative numeric intensities; anything else fails with InvalidArgument
// "NAME:LINE: problem" (LINE counts from 1, the header is line 1). Gaps are allowed.
//
//   StatusOr<Trace> t = LoadTrace("data/carbon/ES_2022_hourly.csv", {.column = TraceColumn::kLifecycle});
//   for (const TracePoint& p : t->points) use(p.time, p.intensity);
//
// The CarbonSource that serves a trace (with time-compressed replay) is in carbon/trace_source.h.
//
// Thread-safety: Trace is a value; the functions are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbon/source.h"

namespace ecomap::carbon {

enum class TraceColumn { kDirect, kLifecycle };

// "direct" / "lca"; ParseTraceColumn also accepts "lifecycle" and "life-cycle".
const char* TraceColumnName(TraceColumn column);
StatusOr<TraceColumn> ParseTraceColumn(std::string_view text);

enum class TraceFormat { kElectricityMapsCsv, kCarbonAwareSdkJson, kPlainCsv };
const char* TraceFormatName(TraceFormat format);  // "electricitymaps-csv", "carbon-aware-sdk-json", "plain-csv"

struct TraceOptions {
  TraceColumn column = TraceColumn::kDirect;  // data-portal CSVs only; other formats have one value
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
  // Added by carbon-traces:
  TraceFormat format = TraceFormat::kPlainCsv;
  TraceColumn column = TraceColumn::kDirect;  // which column was read (data-portal CSVs)
  // Length of one period: the SDK's Duration where given, else the most common spacing between
  // consecutive points (1 h for a single-point trace).
  Duration period = std::chrono::hours(1);

  // The point in force at `t` (the last one starting at or before t), or nullopt before the start.
  // O(log n).
  std::optional<size_t> IndexAt(TimePoint t) const;
  // First point's time, and the end of the last period (last point + period).
  TimePoint Start() const { return points.front().time; }
  TimePoint End() const { return points.back().time + period; }
  // Attribution text to print beside any figure drawn from the trace (the Electricity Maps ODbL
  // notice for data-portal files, else empty).
  std::string Attribution() const;
};

// Reads and validates a trace file; the format is detected from the content.
StatusOr<Trace> LoadTrace(const std::string& path, const TraceOptions& options = {});
// Same, from text already in memory; `name` is used in error messages ("name:line: ...").
StatusOr<Trace> ParseTrace(std::string_view content, const std::string& name,
                           const TraceOptions& options = {});

// The points of `trace` with from <= time < to (either bound optional), as a new Trace with the
// same metadata. Fails with InvalidArgument when nothing lies in the window.
StatusOr<Trace> SliceTrace(const Trace& trace, std::optional<TimePoint> from, std::optional<TimePoint> to);

}  // namespace ecomap::carbon
