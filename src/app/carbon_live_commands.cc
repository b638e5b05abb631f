// `ecomap carbon now`: one carbon-intensity reading, from a live provider (with the fallback
// chain live -> forecast -> last known -> trace) or from a trace.
//
// Credentials come from the environment (ECOMAP_ELECTRICITYMAPS_TOKEN, ECOMAP_WATTTIME_USERNAME,
// ECOMAP_WATTTIME_PASSWORD) or the config file given with --config; never from flags.
// Adds itself to the `carbon` group created by carbon_commands.cc (order 10).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/cli_util.h"
#include "app/commands.h"
#include "carbon/cache.h"
#include "carbon/live_config.h"
#include "carbon/live_source.h"
#include "carbon/trace.h"
#include "carbon/trace_source.h"

namespace ecomap::app {
namespace {

struct NowFlags {
  std::string provider = "trace";
  std::string zone;
  std::string region;
  std::string trace = std::string(ECOMAP_DATA_DIR) + "/carbon/ES_2023_hourly.csv";
  std::string fallback_trace;
  std::string column = "direct";
  std::string config;
  int timeout_ms = 0;
  int max_attempts = 0;
  std::string base_url;
  std::string cache_file;
  std::string at;
  int forecast_hours = 0;
  bool json = false;
};

std::unique_ptr<carbon::TraceSource> TraceSourceAt(const std::string& path, const std::string& column_text,
                                                   TimePoint now) {
  carbon::TraceColumn column = OrFail(carbon::ParseTraceColumn(column_text));
  carbon::Trace t = OrFail(carbon::LoadTrace(path, {.column = column}));
  carbon::TraceSourceOptions o = carbon::StandInOptions(t, now);
  return std::make_unique<carbon::TraceSource>(std::move(t), o);
}

nlohmann::ordered_json ReadingJson(const carbon::CarbonReading& r) {
  nlohmann::ordered_json j;
  j["gco2_per_kwh"] = r.intensity.value();
  j["time"] = FormatIso8601(r.time);
  j["source"] = r.source;
  j["stale"] = r.stale;
  j["forecast"] = r.forecast;
  j["estimated"] = r.estimated;
  j["note"] = r.note;
  return j;
}

// The forecast window of --forecast-hours, or an error message in place of it.
struct ForecastOut {
  std::vector<carbon::CarbonReading> readings;
  std::string error;
  bool asked = false;
};

ForecastOut AskForecast(carbon::CarbonSource& src, TimePoint now, int hours) {
  ForecastOut out;
  if (hours <= 0) return out;
  out.asked = true;
  StatusOr<std::vector<carbon::CarbonReading>> f = src.Forecast(now, std::chrono::hours(hours));
  if (f.ok()) {
    out.readings = std::move(f).value();
  } else {
    out.error = f.status().ToString();
  }
  return out;
}

void Print(const carbon::CarbonReading& r, const std::string& provider, TimePoint asked_at, bool json,
           const ForecastOut& fc = {}) {
  if (json) {
    nlohmann::ordered_json j;
    j["gco2_per_kwh"] = r.intensity.value();
    j["time"] = FormatIso8601(r.time);
    j["source"] = r.source;
    j["provider"] = provider;
    j["stale"] = r.stale;
    j["forecast"] = r.forecast;
    j["estimated"] = r.estimated;
    j["note"] = r.note;
    j["asked_at"] = FormatIso8601(asked_at);
    if (fc.asked) {
      nlohmann::ordered_json arr = nlohmann::ordered_json::array();
      for (const auto& p : fc.readings) arr.push_back(ReadingJson(p));
      j["forecast_readings"] = arr;
      if (!fc.error.empty()) j["forecast_error"] = fc.error;
    }
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << "carbon intensity: " << fmt::format("{:.1f}", r.intensity.value()) << " gCO2eq/kWh";
  if (r.forecast) std::cout << " (forecast)";
  if (r.estimated) std::cout << " (estimated by the provider)";
  std::cout << "\n";
  std::cout << "period start:     " << FormatIso8601(r.time) << "\n";
  std::cout << "source:           " << r.source << "\n";
  std::cout << "staleness:        " << (r.stale ? "STALE" : "fresh") << " (asked at "
            << FormatIso8601(asked_at) << ")\n";
  if (!r.note.empty()) std::cout << "note:             " << r.note << "\n";
  if (fc.asked) {
    if (!fc.error.empty()) {
      std::cout << "forecast:         unavailable: " << fc.error << "\n";
    } else {
      std::cout << "forecast (" << fc.readings.size() << " readings, gCO2eq/kWh):\n";
      for (const auto& p : fc.readings) {
        std::cout << "  " << FormatIso8601(p.time) << " " << fmt::format("{:8.1f}", p.intensity.value()) << "  " << p.source
                  << (p.forecast ? "" : " (measured)") << (p.stale ? " STALE" : "") << "\n";
      }
      if (!fc.readings.empty() && !fc.readings.front().note.empty()) {
        std::cout << "  note: " << fc.readings.front().note << "\n";
      }
    }
  }
}

void Now(const NowFlags& f) {
  const TimePoint wall = SystemClock::Instance().Now();
  if (f.provider == "trace") {
    if (!f.fallback_trace.empty() || !f.cache_file.empty() || !f.base_url.empty() || !f.zone.empty() ||
        !f.region.empty()) {
      Fail(
          "--fallback-trace, --cache-file, --base-url, --zone and --region apply to live providers; "
          "with --provider trace give --trace FILE (and --at TIME)");
    }
    TimePoint at = f.at.empty() ? wall : OrFail(ParseTimestamp(f.at));
    auto src = TraceSourceAt(f.trace, f.column, at);
    carbon::CarbonReading r = OrFail(src->Latest(at));
    if (src->TraceTime(at) != at) {
      r.note = "the trace does not cover " + FormatIso8601(at) + ": the same date and hour of " +
               FormatIso8601(src->TraceTime(at)).substr(0, 4) + " stands in" +
               (r.note.empty() ? "" : "; " + r.note);
    }
    Print(r, "trace", at, f.json, AskForecast(*src, at, f.forecast_hours));
    return;
  }
  if (!f.at.empty()) Fail("--at applies to --provider trace only; live providers answer for the present");
  carbon::Provider provider = OrFail(carbon::ParseProvider(f.provider));

  carbon::LiveConfig cfg = OrFail(carbon::LoadLiveConfig(f.config, carbon::ProcessEnvironment()));
  if (f.timeout_ms > 0) cfg.http.total_timeout = Duration(f.timeout_ms);
  if (f.max_attempts > 0) cfg.http.retry.max_attempts = f.max_attempts;
  switch (provider) {
    case carbon::Provider::kElectricityMaps:
      if (!f.region.empty()) Fail("electricitymaps takes --zone (e.g. --zone ES), not --region");
      if (!f.zone.empty()) {
        cfg.electricitymaps.zone = f.zone;
        cfg.electricitymaps.lat.reset();
        cfg.electricitymaps.lon.reset();
      }
      if (!f.base_url.empty()) cfg.electricitymaps.base_url = f.base_url;
      break;
    case carbon::Provider::kWattTime:
      if (!f.zone.empty()) Fail("watttime takes --region (e.g. --region CAISO_NORTH), not --zone");
      if (!f.region.empty()) cfg.watttime.region = f.region;
      if (!f.base_url.empty()) cfg.watttime.base_url = f.base_url;
      break;
    case carbon::Provider::kUkGrid:
      if (!f.zone.empty() || !f.region.empty()) {
        Fail("ukgrid serves Great Britain as a whole: drop --zone/--region");
      }
      if (!f.base_url.empty()) cfg.ukgrid.base_url = f.base_url;
      break;
  }

  std::unique_ptr<carbon::CarbonSource> live = OrFail(carbon::MakeLiveSource(provider, cfg));
  std::unique_ptr<carbon::CarbonSource> trace;
  if (!f.fallback_trace.empty()) trace = TraceSourceAt(f.fallback_trace, f.column, wall);
  auto chain =
      carbon::MakeFallbackChain(provider, std::move(live), std::move(trace), cfg, SystemClock::Instance());

  if (!f.cache_file.empty()) {
    StatusOr<carbon::CacheSnapshot> snap = carbon::LoadCacheFile(f.cache_file);
    if (snap.ok()) {
      Status s = chain->live()->Restore(std::move(snap).value());
      if (!s.ok()) std::cerr << "ecomap: warning: " << s.message() << "; starting with an empty cache\n";
    } else if (snap.status().code() != StatusCode::kNotFound) {
      std::cerr << "ecomap: warning: " << snap.status().message() << "; starting with an empty cache\n";
    }
  }
  StatusOr<carbon::CarbonReading> r = chain->Latest(wall);
  ForecastOut fc = AskForecast(*chain, wall, f.forecast_hours);
  if (!f.cache_file.empty()) {
    Status s = carbon::SaveCacheFile(f.cache_file, chain->live()->Snapshot());
    if (!s.ok()) std::cerr << "ecomap: warning: " << s.message() << "\n";
  }
  if (!r.ok()) {
    std::string hint;
    if (f.fallback_trace.empty())
      hint = "\n(add --fallback-trace FILE to serve a trace when the provider fails)";
    Fail(r.status().message() + hint);
  }
  Print(*r, carbon::ProviderName(provider), wall, f.json, fc);
}

void AddCarbonLiveCommands(CLI::App& app) {
  CLI::App* carbon = nullptr;
  try {
    carbon = app.get_subcommand("carbon");
  } catch (const CLI::OptionNotFound&) {
    carbon = app.add_subcommand("carbon", "Grid carbon intensity");
    carbon->require_subcommand(1);
  }
  static NowFlags flags;
  CLI::App* now = carbon->add_subcommand(
      "now",
      "One carbon-intensity reading with its time, source and staleness.\n"
      "Live providers go through the fallback chain live -> latest forecast -> last known value -> "
      "--fallback-trace.\nCredentials: environment ECOMAP_ELECTRICITYMAPS_TOKEN, ECOMAP_WATTTIME_USERNAME "
      "and "
      "ECOMAP_WATTTIME_PASSWORD, or the --config file ([carbon.electricitymaps] token, [carbon.watttime] "
      "username/password); never flags.");
  now->add_option("--provider", flags.provider, "electricitymaps | watttime | ukgrid | trace")
      ->capture_default_str()
      ->check(CLI::IsMember({"electricitymaps", "watttime", "ukgrid", "trace"}));
  now->add_option("--zone", flags.zone,
                  "Electricity Maps zone, e.g. ES, DE, US-CAL-CISO (default: config file)");
  now->add_option("--region", flags.region, "WattTime region, e.g. CAISO_NORTH (default: config file)");
  now->add_option(
         "--trace", flags.trace,
         "--provider trace: the trace file; outside its span the same date and hour of the trace's year "
         "stands in")
      ->capture_default_str();
  now->add_option("--at", flags.at, "--provider trace: the time to read, UTC (default: now)");
  now->add_option(
      "--fallback-trace", flags.fallback_trace,
      "trace served (stale) when the live provider, its forecast and its last known value all fail");
  now->add_option("--column", flags.column, "trace files from the data portal: direct | lca")
      ->capture_default_str();
  now->add_option("--config", flags.config,
                  "TOML config file ([carbon.live], [carbon.electricitymaps], ...)");
  now->add_option("--timeout-ms", flags.timeout_ms, "total time of one HTTP attempt, ms (default 10000)")
      ->check(CLI::Range(1, 600000));
  now->add_option("--max-attempts", flags.max_attempts,
                  "HTTP attempts per request, retries included (default 3)")
      ->check(CLI::Range(1, 10));
  now->add_option("--base-url", flags.base_url, "provider base URL (for testing against a local server)");
  now->add_option(
      "--cache-file", flags.cache_file,
      "JSON cache kept between runs (latest reading and forecast; format: README, carbon/cache.h)");
  now->add_option(
         "--forecast-hours", flags.forecast_hours,
         "also print the forecast for the next H hours (provider's forecast through the same fallback "
         "chain; a trace gives its recorded values, labelled a perfect forecast)")
      ->check(CLI::Range(0, 72));
  now->add_flag(
      "--json", flags.json,
      "print one JSON object: gco2_per_kwh, time, source, provider, stale, forecast, estimated, note, "
      "asked_at [, forecast_readings, forecast_error]");
  now->callback([] { Now(flags); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(11, AddCarbonLiveCommands);

}  // namespace ecomap::app
