#include "carbon/trace_source.h"

#include <algorithm>
#include <cmath>
#include <span>

#include <fmt/format.h>

#include "carbon/forecast.h"

namespace ecomap::carbon {
namespace {

// Wraps t into [start, end) when end > start.
TimePoint Wrap(TimePoint t, TimePoint start, TimePoint end) {
  const long long span = (end - start).count();
  if (span <= 0) return t;
  long long off = (t - start).count() % span;
  if (off < 0) off += span;
  return start + Duration(off);
}

}  // namespace

TimePoint ReplayMapping::ToTraceTime(TimePoint wall) const {
  const double elapsed_ms = static_cast<double>((wall - wall_origin).count());
  // Clamp to about +-3000 years so that absurd speedups cannot overflow the conversion.
  const double offset_ms = std::clamp(elapsed_ms * speedup, -1e14, 1e14);
  return trace_origin + Duration(static_cast<long long>(std::llround(offset_ms)));
}

Status ValidateReplay(const ReplayMapping& m, const Trace& trace) {
  if (!(std::isfinite(m.speedup) && m.speedup > 0)) {
    return InvalidArgument("replay speedup " + fmt::format("{:g}", m.speedup) +
                           " must be a positive number (3600 = one hour of signal per second)");
  }
  if (trace.points.empty()) return InvalidArgument("replay of an empty trace");
  if (m.trace_origin < trace.Start() || m.trace_origin >= trace.End()) {
    return InvalidArgument("replay start " + FormatIso8601(m.trace_origin) + " lies outside the trace " + trace.name +
                           " (" + FormatIso8601(trace.Start()) + " to " + FormatIso8601(trace.End()) + ")");
  }
  return Status::Ok();
}

ReplayClock::ReplayClock(const Clock& wall, ReplayMapping mapping, TimePoint trace_span_start,
                         TimePoint trace_span_end)
    : wall_(wall), mapping_(mapping), span_start_(trace_span_start), span_end_(trace_span_end) {}

TimePoint ReplayClock::Now() const {
  TimePoint t = mapping_.ToTraceTime(wall_.Now());
  return mapping_.loop ? Wrap(t, span_start_, span_end_) : t;
}

TraceSource::TraceSource(Trace trace, TraceSourceOptions options)
    : trace_(std::move(trace)), options_(options) {
  if (trace_.points.empty()) {
    replay_status_ = InvalidArgument("trace " + trace_.name + " has no points");
  } else if (options_.replay) {
    replay_status_ = ValidateReplay(*options_.replay, trace_);
  }
}

std::string TraceSource::Name() const { return "trace:" + trace_.name; }

TimePoint TraceSource::TraceTime(TimePoint now) const {
  if (!options_.replay) return now;
  TimePoint t = options_.replay->ToTraceTime(now);
  return options_.replay->loop ? Wrap(t, trace_.Start(), trace_.End()) : t;
}

StatusOr<CarbonReading> TraceSource::Latest(TimePoint now) {
  ECOMAP_RETURN_IF_ERROR(replay_status_);
  const TimePoint t = TraceTime(now);
  std::optional<size_t> idx = trace_.IndexAt(t);
  if (!idx) {
    return FailedPrecondition("time " + FormatIso8601(t) + " is before the start of trace " + trace_.name + " (" +
                              FormatIso8601(trace_.Start()) + "); pick a time within the trace or a replay start");
  }
  const TracePoint& p = trace_.points[*idx];
  CarbonReading r;
  r.time = p.time;
  r.intensity = p.intensity;
  r.source = Name();
  r.estimated = p.estimated;
  if (options_.replay) {
    r.note = "replay x" + fmt::format("{:g}", options_.replay->speedup) + " at trace time " + FormatIso8601(t);
  }
  const bool last = *idx + 1 == trace_.points.size();
  if (t >= p.time + trace_.period) {
    r.stale = true;
    std::string why = last ? "trace " + trace_.name + " ended at " + FormatIso8601(trace_.End()) +
                                 "; serving its last value from " + FormatIso8601(p.time)
                           : "gap in trace " + trace_.name + " after " + FormatIso8601(p.time) +
                                 "; serving the value before the gap";
    r.note = r.note.empty() ? why : r.note + "; " + why;
  }
  return r;
}

StatusOr<std::vector<CarbonReading>> TraceSource::Forecast(TimePoint now, Duration horizon) {
  ECOMAP_RETURN_IF_ERROR(replay_status_);
  if (horizon < Duration::zero()) return InvalidArgument("forecast horizon must be >= 0");
  const TimePoint t = TraceTime(now);
  std::optional<size_t> idx = trace_.IndexAt(t);
  if (!idx) {
    return FailedPrecondition("time " + FormatIso8601(t) + " is before the start of trace " + trace_.name + " (" +
                              FormatIso8601(trace_.Start()) + ")");
  }
  // In replay mode the horizon is in trace time too: one replayed hour ahead is one hour of signal.
  std::vector<CarbonReading> out;
  if (options_.forecast == TraceForecastMode::kSeasonal) {
    SeasonalForecaster f;
    std::span<const TracePoint> history(trace_.points.data(), *idx + 1);
    ECOMAP_ASSIGN_OR_RETURN(out, f.Forecast(history, t, horizon, trace_.period));
    for (CarbonReading& r : out) r.source = Name();
    return out;
  }
  for (size_t i = *idx + 1; i < trace_.points.size(); ++i) {
    const TracePoint& p = trace_.points[i];
    if (p.time > t + horizon) break;
    CarbonReading r;
    r.time = p.time;
    r.intensity = p.intensity;
    r.source = Name();
    r.forecast = true;
    r.estimated = p.estimated;
    r.note = "perfect forecast: the trace's recorded values";
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ecomap::carbon
