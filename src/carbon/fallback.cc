#include "carbon/fallback.h"

#include "carbon/live_json.h"

namespace ecomap::carbon {

FallbackSource::FallbackSource(std::unique_ptr<CachedSource> live, std::unique_ptr<CarbonSource> trace,
                               const Clock& clock, FallbackOptions options)
    : live_(std::move(live)), trace_(std::move(trace)), clock_(clock), options_(options) {}

std::string FallbackSource::Name() const {
  return "fallback(" + (live_ ? live_->Name() : std::string("-")) + "|" +
         (trace_ ? trace_->Name() : std::string("-")) + ")";
}

std::optional<CarbonReading> FallbackSource::TryLive(TimePoint now, std::string* why,
                                                     std::optional<CarbonReading>* stale) {
  if (!live_) {
    *why = "no live provider configured";
    return std::nullopt;
  }
  const TimePoint t = clock_.Now();
  if (live_failed_at_ && t >= *live_failed_at_ && t - *live_failed_at_ < options_.live_cooldown) {
    *why = "live provider skipped until " + FormatIso8601(*live_failed_at_ + options_.live_cooldown) +
           " after it failed: " + live_failure_;
    return std::nullopt;
  }
  StatusOr<CarbonReading> r = live_->Latest(now);
  if (!r.ok()) {
    live_failed_at_ = t;
    live_failure_ = r.status().ToString();
    *why = "live provider failed: " + live_failure_;
    return std::nullopt;
  }
  live_failed_at_.reset();
  // Keep a forecast for later outages (the cache limits how often this asks the provider).
  // A failure here is not the reading's problem: the next call tries again.
  (void)live_->Forecast(now, options_.forecast_horizon);
  if (r->stale) {
    *why = "live provider's reading is stale: " + r->note;
    *stale = std::move(*r);
    return std::nullopt;
  }
  return std::move(*r);
}

StatusOr<CarbonReading> FallbackSource::Latest(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string why;
  std::optional<CarbonReading> stale_live;
  if (std::optional<CarbonReading> r = TryLive(now, &why, &stale_live)) return std::move(*r);

  std::vector<std::string> tried = {"live: " + why};
  auto fallback_note = [&](const std::string& what) { return what + " (" + why + ")"; };

  if (live_ && live_->last_forecast() && !live_->last_forecast()->readings.empty()) {
    const CachedForecast& f = *live_->last_forecast();
    if (const CarbonReading* p = InForceAt(f.readings, now, std::chrono::hours(1))) {
      CarbonReading out = *p;
      out.source = live_->Name() + "/forecast";
      out.stale = true;
      out.forecast = true;
      out.note = fallback_note("served from the forecast fetched " + FormatIso8601(f.fetched_at));
      return out;
    }
    tried.push_back("forecast: the cached forecast (" + FormatIso8601(f.readings.front().time) + " to " +
                    FormatIso8601(f.readings.back().time) + ") does not cover " + FormatIso8601(now));
  } else {
    tried.push_back("forecast: none cached");
  }

  if (live_ && live_->last_latest()) {
    const CachedLatest& l = *live_->last_latest();
    Duration age = now - l.reading.time;
    if (age <= options_.last_known_max_age) {
      CarbonReading out = l.reading;
      out.source = live_->Name() + "/last-known";
      out.stale = true;
      out.note = fallback_note("last known value, " + FormatAge(age) + " old, fetched " +
                               FormatIso8601(l.fetched_at));
      return out;
    }
    tried.push_back("last known: " + FormatAge(age) + " old, beyond the " +
                    FormatAge(options_.last_known_max_age) + " bound");
  } else {
    tried.push_back("last known: none");
  }

  if (trace_) {
    StatusOr<CarbonReading> r = trace_->Latest(now);
    if (r.ok()) {
      CarbonReading out = std::move(*r);
      out.stale = true;
      out.note = fallback_note("served from " + trace_->Name() + (out.note.empty() ? "" : ": " + out.note));
      return out;
    }
    tried.push_back("trace: " + r.status().ToString());
  } else {
    tried.push_back("trace: none configured (add a fallback trace)");
  }
  if (stale_live) {
    // Nothing better: the provider's own reading, old as it is (its note says how old).
    return std::move(*stale_live);
  }
  std::string msg = "no carbon source could serve a reading for " + FormatIso8601(now) + ":";
  for (const auto& t : tried) msg += "\n  - " + t;
  return Unavailable(msg);
}

StatusOr<std::vector<CarbonReading>> FallbackSource::Forecast(TimePoint now, Duration horizon) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string why = "no live provider configured";
  if (live_) {
    StatusOr<std::vector<CarbonReading>> f = live_->Forecast(now, horizon);
    if (f.ok()) return f;
    why = f.status().ToString();
    if (live_->last_forecast()) {
      std::vector<CarbonReading> w =
          WindowOf(live_->last_forecast()->readings, now, horizon, std::chrono::hours(1));
      if (!w.empty()) {
        for (auto& r : w) {
          r.source = live_->Name() + "/forecast";
          r.stale = true;
          r.note = "cached forecast fetched " + FormatIso8601(live_->last_forecast()->fetched_at) + " (" +
                   why + ")";
        }
        return w;
      }
    }
  }
  if (trace_) {
    StatusOr<std::vector<CarbonReading>> f = trace_->Forecast(now, horizon);
    if (!f.ok()) return f.status().WithContext("live forecast failed (" + why + "); trace");
    for (auto& r : *f) {
      r.stale = true;
      r.note = "from " + trace_->Name() + (r.note.empty() ? "" : ": " + r.note) + " (" + why + ")";
    }
    return f;
  }
  return Unavailable("no forecast: " + why + "; no fallback trace configured");
}

}  // namespace ecomap::carbon
