// carbon/source.h: where carbon intensity comes from, behind one interface.
//
// A CarbonSource answers "what is the grid's carbon intensity now?" and, where it can, "what
// will it be?". Implementations: trace files (Electricity Maps data-portal CSV, Carbon Aware
// SDK JSON, plain CSV), live APIs (Electricity Maps v3, WattTime v3, UK Carbon Intensity), and
// the FallbackSource that chains them (live -> latest forecast -> last known -> trace).
//
// Every reading says which source served it and whether it is stale, so that a decision made
// on old data says so.
//
//   StatusOr<Trace> trace = LoadTrace("data/carbon/ES_2022_hourly.csv", {});
//   TraceSource src(*trace);
//   StatusOr<CarbonReading> r = src.Latest(clock.Now());
//
// Thread-safety: implementations are safe to call from one thread at a time unless they say
// otherwise; FallbackSource serialises its own calls.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/units.h"

namespace ecomap::carbon {

struct CarbonReading {
  TimePoint time;            // the instant (start of the period) the value describes, UTC
  GramsPerKwh intensity;     // gCO2eq/kWh
  std::string source;        // who served it: "trace:ES_2022_hourly.csv", "electricitymaps", ...
  bool stale = false;        // true when older than the source's freshness bound, or a fallback
  bool forecast = false;     // true when the value is a forecast, not a measurement/estimate
  bool estimated = false;    // the provider marked the value estimated
  std::string note;          // why it is stale or which fallback served it; empty otherwise
};

class CarbonSource {
 public:
  virtual ~CarbonSource() = default;

  // Short name used in readings and logs ("electricitymaps", "trace:ES_2022_hourly.csv").
  virtual std::string Name() const = 0;

  // The reading in force at `now`. Fails (Unavailable, DeadlineExceeded, Unauthenticated, ...)
  // when the source cannot answer; never blocks longer than the source's configured timeout
  // times its retry count.
  virtual StatusOr<CarbonReading> Latest(TimePoint now) = 0;

  // Readings from `now` up to `now + horizon`, oldest first, marked forecast=true where they
  // are predictions. Unimplemented where the source has no forecast.
  virtual StatusOr<std::vector<CarbonReading>> Forecast(TimePoint now, Duration horizon) = 0;
};

}  // namespace ecomap::carbon
