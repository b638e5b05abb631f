// carbon/live_config.h: settings and credentials of the live carbon providers.
//
// Credentials come from the environment or from a TOML config file, never from command-line
// flags (which end up in shell history and `ps`). The environment wins over the file:
//   ECOMAP_ELECTRICITYMAPS_TOKEN                      Electricity Maps API token
//   ECOMAP_WATTTIME_USERNAME, ECOMAP_WATTTIME_PASSWORD WattTime login
//
// Config file (every key optional; unknown keys are rejected to catch typos):
//
//   [carbon.live]
//   timeout_ms = 10000            # total time of one HTTP attempt
//   connect_timeout_ms = 3000
//   max_attempts = 3              # attempts per request (retries on timeout/5xx/429)
//   cache_latest_ttl_s = 300      # reuse a latest reading this long
//   cache_forecast_ttl_s = 1800   # reuse a forecast this long
//   last_known_max_age_min = 360  # the fallback serves a last-known value up to this age
//   live_cooldown_s = 60          # after a live failure, skip the provider this long
//
//   [carbon.electricitymaps]
//   token = "..."                 # or ECOMAP_ELECTRICITYMAPS_TOKEN
//   zone = "ES"                   # or lat = 40.4 and lon = -3.7
//   emission_factor_type = "lifecycle"   # or "direct"; empty: the account's default
//   base_url = "https://api.electricitymap.org"
//   max_age_min = 120             # older readings are stale
//
//   [carbon.watttime]
//   username = "..."  password = "..."   # or the ECOMAP_WATTTIME_* variables
//   region = "CAISO_NORTH"
//   base_url = "https://api.watttime.org"
//   max_age_min = 30
//
//   [carbon.ukgrid]
//   base_url = "https://api.carbonintensity.org.uk"
//   max_age_min = 60
//
//   StatusOr<LiveConfig> c = LoadLiveConfig("ecomap.toml", ProcessEnvironment());
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "carbon/cache.h"
#include "carbon/electricitymaps.h"
#include "carbon/fallback.h"
#include "carbon/ukgrid.h"
#include "carbon/watttime.h"

namespace ecomap::carbon {

struct LiveConfig {
  ElectricityMapsOptions electricitymaps;
  WattTimeOptions watttime;
  UkGridOptions ukgrid;
  HttpOptions http;    // copied into each provider's options by MakeLiveSource
  CacheOptions cache;  // max_age is taken from the provider's max_age
  FallbackOptions fallback;
  std::string path;  // the file it was read from; empty when none
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// Parses TOML text (`name` is used in messages), then applies the environment.
StatusOr<LiveConfig> ParseLiveConfig(std::string_view toml, const std::string& name, const EnvLookup& env);
// Reads `path` (empty: no file, defaults + environment) and applies the environment.
StatusOr<LiveConfig> LoadLiveConfig(const std::string& path, const EnvLookup& env);

}  // namespace ecomap::carbon
