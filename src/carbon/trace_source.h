// carbon/trace_source.h: a CarbonSource that serves a Trace, in trace time or time-compressed.
//
// Latest(now) returns the period in force at `now` (the last point starting at or before it).
// Before the trace's first point it fails (OutOfRange-like FailedPrecondition naming both
// times). Once `now` is at or past the end of the last period (last point + period), or inside a
// gap longer than one period, the reading is the last value before `now`, marked stale=true with
// a note saying why.
//
// Forecast(now, horizon) returns the trace's own future values (points starting after `now`, up
// to and including now + horizon), marked forecast=true: a *perfect* forecast, labelled as such
// in each reading's note ("perfect forecast: the trace's recorded values"). With
// TraceSourceOptions::forecaster = kSeasonal it instead runs the seasonal-profile forecaster
// (carbon/forecast.h) on the points up to `now`, which is what a real deployment would get.
//
// Time-compressed replay (for demos): with a ReplayMapping, the `now` handed to Latest/Forecast is
// wall-clock time and is first mapped to trace time:
//     trace_time = trace_origin + (now - wall_origin) * speedup
// e.g. speedup 3600 replays one hour of signal per wall second. With loop=true the trace time
// wraps around to the trace's start after its end. ReplayClock exposes the same mapping as a
// Clock, for code that should itself run on trace time.
//
//   StatusOr<Trace> t = LoadTrace("data/carbon/ES_2022_hourly.csv");
//   SystemClock& wall = SystemClock::Instance();
//   TraceSource src(*t, {.replay = ReplayMapping{wall.Now(), t->Start(), 3600.0}});
//   StatusOr<CarbonReading> r = src.Latest(wall.Now());   // one trace hour per second
//
// Thread-safety: TraceSource is immutable after construction; Latest/Forecast are const in effect
// and safe to call from several threads. ReplayClock is as thread-safe as the clock it wraps.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "carbon/source.h"
#include "carbon/trace.h"

namespace ecomap::carbon {

// Wall time -> trace time.
struct ReplayMapping {
  TimePoint wall_origin;   // wall-clock instant at which the replay starts
  TimePoint trace_origin;  // trace instant shown at wall_origin (the start offset)
  double speedup = 3600.0; // trace seconds per wall second (> 0); 3600 = one hour per second
  bool loop = false;       // wrap to the trace's start after its end

  // trace_origin + (wall - wall_origin) * speedup (wall before wall_origin maps before
  // trace_origin). Without looping the result is not clamped.
  TimePoint ToTraceTime(TimePoint wall) const;
};

// Validates a mapping against a trace: speedup must be finite and > 0, the trace origin must lie
// within [Start(), End()).
Status ValidateReplay(const ReplayMapping& mapping, const Trace& trace);

// A Clock whose Now() is the replayed trace time of a wall clock.
class ReplayClock final : public Clock {
 public:
  // `wall` must outlive this object. `trace_span_start`/`trace_span_end` are used when looping.
  ReplayClock(const Clock& wall, ReplayMapping mapping, TimePoint trace_span_start, TimePoint trace_span_end);
  TimePoint Now() const override;

 private:
  const Clock& wall_;
  ReplayMapping mapping_;
  TimePoint span_start_, span_end_;
};

enum class TraceForecastMode {
  kPerfect,   // the trace's recorded future values (an oracle; labelled as such)
  kSeasonal,  // the seasonal-profile forecaster over the points up to now (carbon/forecast.h)
};

struct TraceSourceOptions {
  std::optional<ReplayMapping> replay{};  // none: `now` is trace time
  TraceForecastMode forecast = TraceForecastMode::kPerfect;
};

class TraceSource final : public CarbonSource {
 public:
  // REQUIRES: trace has at least one point (LoadTrace guarantees it). An invalid replay mapping
  // (see ValidateReplay) makes every call fail with its error.
  explicit TraceSource(Trace trace, TraceSourceOptions options = {});

  // "trace:<file name>".
  std::string Name() const override;
  // Never blocks. Fails with FailedPrecondition before the trace's start (in trace time).
  StatusOr<CarbonReading> Latest(TimePoint now) override;
  // Points starting in (now, now + horizon], oldest first, forecast=true. Empty when now is at or
  // after the last point. Fails before the trace's start, or when horizon < 0.
  StatusOr<std::vector<CarbonReading>> Forecast(TimePoint now, Duration horizon) override;

  // `now` mapped to trace time (identity without a replay mapping; wraps when looping).
  TimePoint TraceTime(TimePoint now) const;
  const Trace& trace() const { return trace_; }

 private:
  Trace trace_;
  TraceSourceOptions options_;
  Status replay_status_;
};

}  // namespace ecomap::carbon
