// `ecomap carbon stats|plot|forecast-eval|replay`: the carbon-intensity traces.
//
// This file creates the `carbon` group (order 10). Other carbon commands (`carbon now`, in
// carbon_live_commands.cc or similar) add themselves to it with app.get_subcommand("carbon")
// from a registration with a later order number.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <optional>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/cli_util.h"
#include "app/commands.h"
#include "carbon/forecast.h"
#include "carbon/plot_trace.h"
#include "carbon/stats.h"
#include "carbon/trace.h"
#include "carbon/trace_source.h"

namespace ecomap::app {
namespace {

using carbon::Trace;

const std::string kDefaultTrace = std::string(ECOMAP_DATA_DIR) + "/carbon/ES_2022_hourly.csv";

struct TraceFlags {
  std::string path = kDefaultTrace;
  std::string column = "direct";
};

void AddTraceFlags(CLI::App* cmd, TraceFlags* f) {
  cmd->add_option("--trace", f->path,
                  "trace file: Electricity Maps data-portal CSV, Carbon Aware SDK JSON or "
                  "'timestamp,gco2_per_kwh' CSV")
      ->capture_default_str();
  cmd->add_option("--column", f->column, "data-portal CSVs: 'direct' (operational) or 'lca' (life cycle)")
      ->capture_default_str();
}

Trace LoadOrFail(const TraceFlags& f) {
  StatusOr<carbon::TraceColumn> column_or = carbon::ParseTraceColumn(f.column);
  if (!column_or.ok()) Fail("--column: " + column_or.status().message());
  carbon::TraceColumn column = *column_or;
  return OrFail(carbon::LoadTrace(f.path, {.column = column}));
}

// Parses a time flag, naming the flag in the error.
TimePoint ParseTimeFlag(const char* flag, const std::string& text) {
  StatusOr<TimePoint> t = ParseTimestamp(text);
  if (!t.ok()) Fail(std::string(flag) + ": " + t.status().message());
  return *t;
}

// A bare date ("2022-06-07") given to --to means the end of that day, so that
// --from 2022-06-01 --to 2022-06-07 covers seven whole days.
TimePoint ParseWindowEnd(const std::string& text) {
  TimePoint t = ParseTimeFlag("--to", text);
  std::string trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
  if (trimmed.size() == 10) t += std::chrono::hours(24);
  return t;
}

std::string Stem(const std::string& name) {
  size_t dot = name.find_last_of('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

std::string HoursText(Duration d) {
  return fmt::format("{:g}h", std::chrono::duration<double, std::ratio<3600>>(d).count());
}

void Stats(const TraceFlags& f, bool json) {
  Trace t = LoadOrFail(f);
  carbon::TraceStats s = carbon::ComputeStats(t);
  if (json) {
    std::cout << carbon::StatsToJson(s) << "\n";
  } else {
    std::cout << carbon::StatsToText(s, t);
  }
}

struct PlotFlags {
  TraceFlags trace;
  std::string out;
  std::string from, to;
  int width = 960, height = 440;
};

void Plot(const PlotFlags& f) {
  Trace t = LoadOrFail(f.trace);
  carbon::TracePlotOptions o;
  if (!f.from.empty()) o.from = ParseTimeFlag("--from", f.from);
  if (!f.to.empty()) o.to = ParseWindowEnd(f.to);
  o.width_px = f.width;
  o.height_px = f.height;
  std::string svg = OrFail(carbon::RenderTracePlot(t, o));
  std::string out = f.out.empty() ? Stem(t.name) + "_" + carbon::TraceColumnName(t.column) + ".svg" : f.out;
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!file) Fail("cannot write '" + out + "'; check that its folder exists and is writable");
  file << svg;
  file.close();
  if (!file) Fail("error writing '" + out + "'");
  std::cout << "wrote " << out << " (" << svg.size() / 1024 << " KiB SVG)\n";
}

struct ForecastFlags {
  TraceFlags trace;
  bool json = false;
  std::vector<double> horizons_h = {1, 6, 24};
  carbon::SeasonalForecastOptions options;
};

void ForecastEval(const ForecastFlags& f) {
  Trace t = LoadOrFail(f.trace);
  std::vector<Duration> horizons;
  for (double h : f.horizons_h) {
    if (!(h > 0) || h > 24 * 366) Fail(fmt::format("--horizons value {:g} must be in (0, 8784] hours", h));
    horizons.push_back(Duration(static_cast<long long>(h * 3600000.0)));
  }
  if (Status s = carbon::ValidateSeasonalOptions(f.options); !s.ok()) {
    Fail(s.message() + " (flags --days, --day-decay, --anomaly-decay)");
  }
  carbon::ForecastEvaluation ev = OrFail(carbon::EvaluateForecasts(t, f.options, horizons));
  if (f.json) {
    nlohmann::ordered_json j;
    j["trace"] = ev.trace_name;
    j["column"] = carbon::TraceColumnName(t.column);
    j["origins"] = ev.origins;
    j["forecaster"] = {{"method", "seasonal-profile"},
                       {"days", f.options.days},
                       {"day_decay", f.options.day_decay},
                       {"anomaly_decay", f.options.anomaly_decay}};
    nlohmann::ordered_json methods = nlohmann::ordered_json::array();
    for (const carbon::MethodErrors& m : ev.methods) {
      nlohmann::ordered_json hs = nlohmann::ordered_json::array();
      for (const carbon::HorizonError& h : m.horizons) {
        hs.push_back({{"horizon_h", std::chrono::duration<double, std::ratio<3600>>(h.horizon).count()},
                      {"samples", h.samples},
                      {"mae_g_per_kwh", std::round(h.mae * 100) / 100},
                      {"mape_pct", std::round(h.mape_pct * 100) / 100}});
      }
      methods.push_back({{"method", m.method}, {"horizons", hs}});
    }
    j["methods"] = methods;
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << fmt::format("Forecast error on {} ({} column), {} forecast origins after a {}-day warm-up\n",
                           ev.trace_name, carbon::TraceColumnName(t.column), ev.origins, f.options.days);
  std::cout << fmt::format("seasonal-profile: D={} days, lambda={:g}, phi={:g} (see carbon/forecast.h)\n\n",
                           f.options.days, f.options.day_decay, f.options.anomaly_decay);
  std::cout << fmt::format("{:<18}", "METHOD");
  for (Duration h : horizons) {
    std::cout << fmt::format("{:>12}{:>9}", "MAE@" + HoursText(h), "MAPE");
  }
  std::cout << "\n";
  for (const carbon::MethodErrors& m : ev.methods) {
    std::cout << fmt::format("{:<18}", m.method);
    for (const carbon::HorizonError& h : m.horizons) {
      std::cout << fmt::format("{:>12.1f}{:>8.1f}%", h.mae, h.mape_pct);
    }
    std::cout << "\n";
  }
  std::cout << "\nMAE in gCO2eq/kWh; MAPE in % of the recorded value. persistence: the value at the origin;\n"
               "seasonal-naive: the same hour one day earlier.\n";
}

struct ReplayFlags {
  TraceFlags trace;
  double speedup = 3600;
  std::string start;
  int count = 24;
  bool loop = false;
};

void Replay(const ReplayFlags& f) {
  Trace t = LoadOrFail(f.trace);
  if (f.count < 1) Fail(fmt::format("--count {} must be at least 1", f.count));
  SystemClock& wall = SystemClock::Instance();
  TimePoint trace_start = f.start.empty() ? t.Start() : ParseTimeFlag("--start", f.start);
  carbon::ReplayMapping mapping{wall.Now(), trace_start, f.speedup, f.loop};
  OrFail(carbon::ValidateReplay(mapping, t));
  carbon::TraceSource src(t, {.replay = mapping});
  std::cout << fmt::format("Replaying {} at x{:g} ({:g} s of signal per wall second) from {}\n", t.name, f.speedup,
                           f.speedup, FormatIso8601(trace_start));
  std::optional<TimePoint> last_period;
  int shown = 0;
  // Poll often enough to see every period: a tenth of a period's wall duration, 1 ms to 1 s.
  const double period_wall_ms = static_cast<double>(t.period.count()) / f.speedup;
  const auto poll = std::chrono::milliseconds(
      static_cast<long long>(std::clamp(period_wall_ms / 10.0, 1.0, 1000.0)));
  while (shown < f.count) {
    carbon::CarbonReading r = OrFail(src.Latest(wall.Now()));
    // A stale reading (the trace has ended) is printed once, then the replay stops.
    if (!last_period || r.time != *last_period || r.stale) {
      last_period = r.time;
      ++shown;
      std::cout << fmt::format("{}  {:>8.1f} gCO2eq/kWh{}{}\n", FormatIso8601(r.time), r.intensity.value(),
                               r.estimated ? "  (estimated)" : "", r.stale ? "  STALE: " + r.note : "");
      std::cout.flush();
      if (r.stale) break;
    }
    std::this_thread::sleep_for(poll);
  }
}

void AddCarbonCommands(CLI::App& app) {
  CLI::App* carbon = app.add_subcommand("carbon", "Grid carbon intensity: traces, statistics, plots, forecasts");
  carbon->require_subcommand(1);

  static TraceFlags stats_flags;
  static bool stats_json = false;
  CLI::App* stats = carbon->add_subcommand(
      "stats", "Summary of a trace: count, span, min, p10, median, p90, max, mean daily swing (gCO2eq/kWh)");
  AddTraceFlags(stats, &stats_flags);
  stats->add_flag("--json", stats_json,
                  "print one JSON object with keys count,start,end,min,p10,median,p90,max,mean_daily_swing");
  stats->callback([] { Stats(stats_flags, stats_json); });

  static PlotFlags plot_flags;
  CLI::App* plot = carbon->add_subcommand("plot", "Draw a trace as an SVG chart");
  AddTraceFlags(plot, &plot_flags.trace);
  plot->add_option("--out", plot_flags.out, "SVG file to write (default: <trace>_<column>.svg here)");
  plot->add_option("--from", plot_flags.from, "window start, UTC (e.g. 2022-06-01 or 2022-06-01T12:00Z)");
  plot->add_option("--to", plot_flags.to,
                   "window end, UTC, exclusive; a bare date means the end of that day (e.g. 2022-06-07)");
  plot->add_option("--width", plot_flags.width, "width in px")->capture_default_str()->check(CLI::Range(200, 10000));
  plot->add_option("--height", plot_flags.height, "height in px")->capture_default_str()->check(CLI::Range(150, 10000));
  plot->callback([] { Plot(plot_flags); });

  static ForecastFlags fc_flags;
  CLI::App* fc = carbon->add_subcommand(
      "forecast-eval",
      "Error (MAE, MAPE) of the seasonal-profile forecaster vs persistence and seasonal naive on a trace");
  AddTraceFlags(fc, &fc_flags.trace);
  fc->add_flag("--json", fc_flags.json, "print one JSON object");
  fc->add_option("--horizons", fc_flags.horizons_h, "forecast horizons in hours")->delimiter(',')->capture_default_str();
  fc->add_option("--days", fc_flags.options.days, "D: past days in the daily profile")->capture_default_str();
  fc->add_option("--day-decay", fc_flags.options.day_decay, "lambda: weight ratio of each older day, (0, 1]")
      ->capture_default_str();
  fc->add_option("--anomaly-decay", fc_flags.options.anomaly_decay,
                 "phi: per-hour decay of the current anomaly, [0, 1]")
      ->capture_default_str();
  fc->callback([] { ForecastEval(fc_flags); });

  static ReplayFlags replay_flags;
  CLI::App* replay = carbon->add_subcommand(
      "replay", "Serve a trace on a compressed wall clock (e.g. one hour of signal per second) and print each reading");
  AddTraceFlags(replay, &replay_flags.trace);
  replay->add_option("--speedup", replay_flags.speedup, "trace seconds per wall second (3600: one hour per second)")
      ->capture_default_str();
  replay->add_option("--start", replay_flags.start, "trace time to start from (default: the trace's start)");
  replay->add_option("--count", replay_flags.count, "readings to print")->capture_default_str();
  replay->add_flag("--loop", replay_flags.loop, "wrap around to the trace's start after its end");
  replay->callback([] { Replay(replay_flags); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(10, AddCarbonCommands);

}  // namespace ecomap::app
