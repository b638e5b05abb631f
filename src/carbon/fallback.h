// carbon/fallback.h: a CarbonSource that keeps answering when the live provider does not.
//
// Latest(now) tries, in order:
//   1. live           the live provider (through its CachedSource); served as is when not stale;
//   2. forecast       the latest forecast the live provider gave (cached), if a point covers now;
//   3. last known     the last reading the live provider gave, if at most last_known_max_age old;
//   4. trace          the fallback source (normally a TraceSource over a bundled trace);
//   5. stale live     when nothing else can serve, the live provider's own stale reading.
// Every reading says which step served it: `source` is "<live name>" for step 1,
// "<live name>/forecast", "<live name>/last-known", or the trace's name, and `note` says why the
// live provider was not used. Readings from steps 2-4 are always stale=true. While the live
// provider answers, Latest also refreshes the cached forecast (at most once per the cache's
// forecast TTL) so that step 2 has something to serve when it stops answering. After a live
// failure, the live provider is skipped for `live_cooldown` (by the injected clock), so an outage
// does not make every call wait for timeouts.
//
//   auto cached = std::make_unique<CachedSource>(std::move(live), clock);
//   FallbackSource src(std::move(cached), std::make_unique<TraceSource>(trace), clock, {});
//   StatusOr<CarbonReading> r = src.Latest(clock.Now());   // r->source, r->stale, r->note
//
// Thread-safety: thread-safe; calls are serialised by an internal mutex.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "carbon/cache.h"
#include "carbon/source.h"

namespace ecomap::carbon {

struct FallbackOptions {
  Duration last_known_max_age = std::chrono::hours(6);  // older last-known values are not served
  Duration forecast_horizon = std::chrono::hours(24);   // how much forecast to keep for step 2
  Duration live_cooldown = std::chrono::seconds(60);    // skip live this long after it failed
};

class FallbackSource final : public CarbonSource {
 public:
  // `live` may be null (then only the trace serves); `trace` may be null (then an outage with no
  // forecast or last-known value fails). `clock` must outlive this object.
  FallbackSource(std::unique_ptr<CachedSource> live, std::unique_ptr<CarbonSource> trace, const Clock& clock,
                 FallbackOptions options = {});

  // "fallback(<live>|<trace>)".
  std::string Name() const override;
  // Fails (Unavailable, listing why each step could not serve) only when no step can.
  StatusOr<CarbonReading> Latest(TimePoint now) override;
  // The live forecast, else the cached forecast window (stale=true), else the trace's.
  StatusOr<std::vector<CarbonReading>> Forecast(TimePoint now, Duration horizon) override;

  // The live source's cache (nullptr without a live source), e.g. to persist it.
  CachedSource* live() { return live_.get(); }

 private:
  // Step 1; sets *why to the reason live did not serve, and *stale to the live provider's
  // reading when it answered with a stale one.
  std::optional<CarbonReading> TryLive(TimePoint now, std::string* why, std::optional<CarbonReading>* stale);

  std::mutex mu_;
  std::unique_ptr<CachedSource> live_;
  std::unique_ptr<CarbonSource> trace_;
  const Clock& clock_;
  FallbackOptions options_;
  std::optional<TimePoint> live_failed_at_;
  std::string live_failure_;
};

}  // namespace ecomap::carbon
