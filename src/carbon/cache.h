// carbon/cache.h: a CarbonSource decorator that caches another source's answers with expiry.
//
// Latest() answers from the cache while the cached reading was fetched less than `latest_ttl`
// ago (by the injected Clock), else asks the inner source; Forecast() likewise with
// `forecast_ttl`, as long as the cached forecast covers the window asked for. A reading served
// from the cache says so in its note and is re-checked for staleness against `now`.
// Latest() failures are not cached. A failed Forecast() is remembered for `latest_ttl` (an
// Unimplemented one for `forecast_ttl`), so that a provider whose plan has no forecast is not
// asked again on every call.
//
// The cache also remembers the last reading and forecast it ever got, whatever their age, for the
// FallbackSource ("latest forecast", "last known value"), and can be saved to / restored from a
// JSON file so that a one-shot command keeps them between runs. File format (version 1):
//
//   {"format": "ecomap-carbon-cache", "version": 1, "source": "electricitymaps:ES",
//    "latest":   {"fetched_at": "2024-09-24T03:10:00Z", "reading": READING} | null,
//    "forecast": {"fetched_at": "...", "readings": [READING, ...]} | null}
//   READING = {"time": ISO-8601 UTC, "gco2_per_kwh": number, "source": string, "stale": bool,
//              "forecast": bool, "estimated": bool, "note": string}
//
//   CachedSource cached(std::move(live), clock, {.latest_ttl = std::chrono::minutes(5)});
//   StatusOr<CarbonReading> r = cached.Latest(clock.Now());
//
// Thread-safety: one thread at a time (FallbackSource serialises its calls).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbon/source.h"

namespace ecomap::carbon {

struct CacheOptions {
  Duration latest_ttl = std::chrono::minutes(5);     // reuse a latest reading this long
  Duration forecast_ttl = std::chrono::minutes(30);  // reuse a forecast this long
  Duration max_age = std::chrono::hours(2);          // cached readings older than this are stale
};

struct CachedLatest {
  CarbonReading reading;
  TimePoint fetched_at;  // by the cache's clock
};
struct CachedForecast {
  std::vector<CarbonReading> readings;  // oldest first
  TimePoint fetched_at;
};

struct CacheSnapshot {
  std::string source;  // the inner source's Name()
  std::optional<CachedLatest> latest;
  std::optional<CachedForecast> forecast;
};

class CachedSource final : public CarbonSource {
 public:
  // `clock` must outlive this object.
  CachedSource(std::unique_ptr<CarbonSource> inner, const Clock& clock, CacheOptions options = {});

  std::string Name() const override { return inner_->Name(); }
  StatusOr<CarbonReading> Latest(TimePoint now) override;
  StatusOr<std::vector<CarbonReading>> Forecast(TimePoint now, Duration horizon) override;

  // What the cache holds, whatever its age (nullopt when nothing was ever fetched).
  const std::optional<CachedLatest>& last_latest() const { return snap_.latest; }
  const std::optional<CachedForecast>& last_forecast() const { return snap_.forecast; }

  CacheSnapshot Snapshot() const { return snap_; }
  // Restores a snapshot; fails with InvalidArgument when it belongs to another source.
  Status Restore(CacheSnapshot snapshot);

  int inner_latest_calls() const { return inner_latest_calls_; }  // for tests and logs

 private:
  std::unique_ptr<CarbonSource> inner_;
  const Clock& clock_;
  CacheOptions options_;
  CacheSnapshot snap_;
  std::optional<TimePoint> forecast_failed_at_;
  Status forecast_failure_;
  int inner_latest_calls_ = 0;
};

// Save/load the file format above. Load fails with NotFound when the file does not exist and
// InvalidArgument naming the file and the problem when it is malformed.
Status SaveCacheFile(const std::string& path, const CacheSnapshot& snapshot);
StatusOr<CacheSnapshot> LoadCacheFile(const std::string& path);

}  // namespace ecomap::carbon
