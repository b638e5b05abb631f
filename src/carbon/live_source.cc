#include "carbon/live_source.h"

namespace ecomap::carbon {

StatusOr<Provider> ParseProvider(const std::string& name) {
  if (name == "electricitymaps") return Provider::kElectricityMaps;
  if (name == "watttime") return Provider::kWattTime;
  if (name == "ukgrid") return Provider::kUkGrid;
  return InvalidArgument("unknown live provider '" + name + "'; use electricitymaps, watttime or ukgrid");
}

const char* ProviderName(Provider p) {
  switch (p) {
    case Provider::kElectricityMaps:
      return "electricitymaps";
    case Provider::kWattTime:
      return "watttime";
    case Provider::kUkGrid:
      return "ukgrid";
  }
  return "?";
}

Duration ProviderMaxAge(Provider provider, const LiveConfig& cfg) {
  switch (provider) {
    case Provider::kElectricityMaps:
      return cfg.electricitymaps.max_age;
    case Provider::kWattTime:
      return cfg.watttime.max_age;
    case Provider::kUkGrid:
      return cfg.ukgrid.max_age;
  }
  return cfg.cache.max_age;
}

StatusOr<std::unique_ptr<CarbonSource>> MakeLiveSource(Provider provider, const LiveConfig& cfg) {
  switch (provider) {
    case Provider::kElectricityMaps: {
      ElectricityMapsOptions o = cfg.electricitymaps;
      o.http = cfg.http;
      ECOMAP_ASSIGN_OR_RETURN(auto s, ElectricityMapsSource::Create(std::move(o)));
      return std::unique_ptr<CarbonSource>(std::move(s));
    }
    case Provider::kWattTime: {
      WattTimeOptions o = cfg.watttime;
      o.http = cfg.http;
      ECOMAP_ASSIGN_OR_RETURN(auto s, WattTimeSource::Create(std::move(o)));
      return std::unique_ptr<CarbonSource>(std::move(s));
    }
    case Provider::kUkGrid: {
      UkGridOptions o = cfg.ukgrid;
      o.http = cfg.http;
      ECOMAP_ASSIGN_OR_RETURN(auto s, UkGridSource::Create(std::move(o)));
      return std::unique_ptr<CarbonSource>(std::move(s));
    }
  }
  return InvalidArgument("unknown provider");
}

std::unique_ptr<FallbackSource> MakeFallbackChain(Provider provider, std::unique_ptr<CarbonSource> live,
                                                  std::unique_ptr<CarbonSource> trace, const LiveConfig& cfg,
                                                  const Clock& clock) {
  std::unique_ptr<CachedSource> cached;
  if (live) {
    CacheOptions co = cfg.cache;
    co.max_age = ProviderMaxAge(provider, cfg);
    cached = std::make_unique<CachedSource>(std::move(live), clock, co);
  }
  return std::make_unique<FallbackSource>(std::move(cached), std::move(trace), clock, cfg.fallback);
}

TraceSourceOptions StandInOptions(const Trace& trace, TimePoint now) {
  using namespace std::chrono;
  TraceSourceOptions o;
  if (now >= trace.Start() && now < trace.End()) return o;
  const auto day = floor<days>(now);
  const year_month_day ymd{day};
  const Duration time_of_day = duration_cast<Duration>(now - day);
  const int first_year = static_cast<int>(year_month_day{floor<days>(trace.Start())}.year());
  const int last_year = static_cast<int>(year_month_day{floor<days>(trace.End())}.year());
  for (int y = first_year; y <= last_year; ++y) {
    year_month_day cand{year{y}, ymd.month(), ymd.day()};
    if (!cand.ok()) cand = year_month_day{year{y}, ymd.month(), std::chrono::day{28}};
    TimePoint t = time_point_cast<Duration>(sys_days{cand}) + time_of_day;
    if (t >= trace.Start() && t < trace.End()) {
      o.replay = ReplayMapping{now, t, 1.0, true};
      return o;
    }
  }
  // The trace is shorter than a year and misses this date: start the replay at its beginning.
  o.replay = ReplayMapping{now, trace.Start(), 1.0, true};
  return o;
}

}  // namespace ecomap::carbon
