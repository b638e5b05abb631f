// carbon/stats.h: summary statistics of a carbon-intensity trace.
//
// Percentiles use linear interpolation between the two nearest ranks (the "linear" method of
// numpy/R type 7): with the n values sorted, p-th percentile = v[floor(r)] + frac(r) *
// (v[floor(r)+1] - v[floor(r)]), r = (n-1)*p/100. The mean daily swing is the mean over the UTC
// calendar days present in the trace of (max - min) within the day; days with one point count
// with a swing of 0.
//
//   StatusOr<Trace> t = LoadTrace("data/carbon/ES_2022_hourly.csv");
//   TraceStats s = ComputeStats(*t);   // s.median.value() ~ 165.3 gCO2eq/kWh
//   std::cout << StatsToJson(s);       // {"count":8760,"start":"2022-01-01T00:00:00Z",...}
//
// Thread-safety: pure functions of values.
#pragma once

#include <span>
#include <string>

#include "carbon/trace.h"

namespace ecomap::carbon {

struct TraceStats {
  size_t count = 0;        // points
  size_t days = 0;         // UTC days with at least one point
  size_t estimated = 0;    // points the provider marked estimated
  TimePoint start{};       // first point's time
  TimePoint end{};         // last point's time (the start of the last period)
  GramsPerKwh min, p10, median, p90, max, mean;
  GramsPerKwh mean_daily_swing;  // mean over UTC days of (max - min)
};

// REQUIRES: trace.points not empty (LoadTrace guarantees it).
TraceStats ComputeStats(const Trace& trace);

// The p-th percentile (0..100) of `values` by linear interpolation. REQUIRES: values not empty.
double Percentile(std::span<const double> sorted_values, double p);

// One JSON object with exactly the keys count, start, end, min, p10, median, p90, max,
// mean_daily_swing (times ISO-8601 UTC, intensities in gCO2eq/kWh rounded to 0.01).
std::string StatsToJson(const TraceStats& stats);

// A readable multi-line table with units, for the terminal.
std::string StatsToText(const TraceStats& stats, const Trace& trace);

}  // namespace ecomap::carbon
