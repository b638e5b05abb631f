// carbon/live_source.h: builds the live provider clients and the fallback chain from a LiveConfig.
//
//   ECOMAP_ASSIGN_OR_RETURN(LiveConfig cfg, LoadLiveConfig(path, ProcessEnvironment()));
//   ECOMAP_ASSIGN_OR_RETURN(Provider p, ParseProvider("electricitymaps"));
//   ECOMAP_ASSIGN_OR_RETURN(auto live, MakeLiveSource(p, cfg));            // a bare client
//   auto chain = MakeFallbackChain(std::move(live), std::move(trace), cfg, clock);
//
// Thread-safety: pure factories.
#pragma once

#include <memory>
#include <string>

#include "carbon/fallback.h"
#include "carbon/live_config.h"
#include "carbon/trace_source.h"

namespace ecomap::carbon {

enum class Provider { kElectricityMaps, kWattTime, kUkGrid };

// "electricitymaps" | "watttime" | "ukgrid"; InvalidArgument naming the value otherwise.
StatusOr<Provider> ParseProvider(const std::string& name);
const char* ProviderName(Provider p);

// The provider's client with cfg.http applied. Fails with Unauthenticated (naming the
// environment variable and config key to set) when its credentials are missing.
StatusOr<std::unique_ptr<CarbonSource>> MakeLiveSource(Provider provider, const LiveConfig& cfg);

// The freshness bound the provider's options set (used for the cache's staleness check).
Duration ProviderMaxAge(Provider provider, const LiveConfig& cfg);

// live (through a CachedSource with cfg.cache) -> forecast -> last known -> trace.
std::unique_ptr<FallbackSource> MakeFallbackChain(Provider provider, std::unique_ptr<CarbonSource> live,
                                                  std::unique_ptr<CarbonSource> trace, const LiveConfig& cfg,
                                                  const Clock& clock);

// Options for a TraceSource standing in for a live provider at `now`: none when the trace
// covers `now`; otherwise a 1x replay (looping) that maps `now` to the same UTC month, day and
// time of day in a year the trace covers (29 February -> 28 February), so that e.g. a 2023
// trace stands in for today with the same season and hour. The reading's note says so.
TraceSourceOptions StandInOptions(const Trace& trace, TimePoint now);

}  // namespace ecomap::carbon
