// `ecomap replay`: trace-driven evaluation of the controllers on the simulated Xavier.
#include <unistd.h>

#include <chrono>
#include <map>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <memory>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli_util.h"
#include "app/commands.h"
#include "carbon/trace.h"
#include "estimator/analytic.h"
#include "estimator/model_file.h"
#include "estimator/simulator_predictor.h"
#include "platform/sim/xavier_sim.h"
#include "policy/controller.h"
#include "policy/scenario.h"
#include "replay/replay.h"
#include "replay/report.h"
#include "replay/sweep.h"
#include "replay/tables.h"
#include "estimator/transformer.h"  // torch-free header: the model-file format constants

namespace ecomap::app {
namespace {

#ifdef ECOMAP_ESTIMATOR_TORCH
constexpr const char* kDefaultPredictor = "transformer";
#else
constexpr const char* kDefaultPredictor = "analytic";
#endif

struct ReplayArgs {
  std::string trace = std::string(ECOMAP_DATA_DIR) + "/carbon/US-CAL-CISO_2023_hourly.csv";
  std::string column = "direct";
  std::string scenario;  // default: policy::DefaultScenarioPath()
  int days = 7;
  std::string start;
  std::string controllers = "ecomap,maxn,throughput,powercap,clover,perfect-predictor";
  double interval_min = 60;
  bool json = false;
  std::string report;
  uint64_t seed = 1;
  double noise = 0.03;
  std::string predictor = kDefaultPredictor;
  std::string model = std::string(ECOMAP_DATA_DIR) + "/estimator/xavier-sim.ecomap";
  std::string forecast = "on";
  int budget = 0;         // 0: the controller default
  int oracle_budget = 0;  // 0: the controller default
  double energy_position = 0.5;
  double accuracy_price = policy::ControllerOptions{}.accuracy_price;
  double threshold_depth = policy::ControllerOptions{}.threshold.depth;
  int sweep = 0;
  int threads = 0;        // 0: one per hardware thread
  int bound_search = 600;  // evaluations per search of the bound's own candidates
  bool quiet = false;
};

ReplayArgs replay_args;

// The analytic baseline stored in a transformer model file (no libtorch needed).
std::shared_ptr<const estimator::Predictor> LoadAnalytic(const std::string& path, const platform::PlatformInfo& info) {
  estimator::ModelFile f = OrFail(estimator::ReadModelFile(path, estimator::kTransformerFormat, estimator::kTransformerVersion));
  if (!f.meta.contains("analytic")) Fail(path + ": the model file has no 'analytic' object; retrain it");
  estimator::AnalyticModel m = OrFail(estimator::AnalyticModel::FromJson(f.meta["analytic"], info));
  return std::make_shared<estimator::AnalyticPredictor>(std::move(m));
}

std::shared_ptr<const estimator::Predictor> MakePredictor(const ReplayArgs& a, const platform::PlatformInfo& info) {
  if (a.predictor == "sim") return std::make_shared<estimator::SimulatorPredictor>();
  if (a.predictor == "analytic") return LoadAnalytic(a.model, info);
  if (a.predictor == "transformer") {
#ifdef ECOMAP_ESTIMATOR_TORCH
    auto p = OrFail(estimator::TransformerPredictor::Load(a.model));
    p->set_intra_op_threads(1);
    return std::shared_ptr<const estimator::Predictor>(std::move(p));
#else
    Fail("--predictor transformer needs a build with libtorch (ECOMAP_WITH_TORCH=ON); use --predictor analytic or sim");
#endif
  }
  Fail("unknown --predictor '" + a.predictor + "'; use transformer, analytic or sim");
}

nlohmann::json ScenarioJson(const policy::Scenario& s, const std::string& path) {
  nlohmann::json tenants = nlohmann::json::array();
  for (const auto& t : s.tenants) {
    tenants.push_back({{"name", t.spec.name},
                       {"family", t.spec.family},
                       {"variants", t.spec.variants},
                       {"slo_ms", t.spec.slo_p95.value()},
                       {"arrival", platform::ArrivalKindName(t.spec.arrival)},
                       {"rate_rps", t.spec.rate_rps},
                       {"peak_rate_rps", t.PeakRate()}});
  }
  return {{"name", s.name}, {"description", s.description}, {"file", path}, {"tenants", tenants}};
}

void RunReplayCommand(const ReplayArgs& a) {
  // Flags first, so that errors come before any slow loading.
  if (a.days <= 0) Fail("--days must be > 0 (got " + std::to_string(a.days) + ")");
  if (!(a.interval_min > 0) || a.interval_min > 60 || std::fmod(60.0, a.interval_min) != 0 ||
      a.interval_min != std::floor(a.interval_min)) {
    Fail("--interval must be a whole number of minutes that divides 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60); got " +
         fmt::format("{:g}", a.interval_min));
  }
  if (a.forecast != "on" && a.forecast != "off") Fail("--forecast must be 'on' or 'off' (got '" + a.forecast + "')");
  if (!(a.noise >= 0) || a.noise > 0.5) Fail("--noise must be in [0, 0.5] (relative standard deviation)");
  std::vector<std::string> names = OrFail(replay::ParseControllerList(a.controllers));
  if (a.predictor != "transformer" && a.predictor != "analytic" && a.predictor != "sim") {
    Fail("unknown --predictor '" + a.predictor + "'; use transformer, analytic or sim");
  }

  carbon::TraceOptions topt;
  topt.column = OrFail(carbon::ParseTraceColumn(a.column));
  carbon::Trace trace = OrFail(carbon::LoadTrace(a.trace, topt));
  const std::string scenario_path = a.scenario.empty() ? policy::DefaultScenarioPath() : a.scenario;
  policy::Scenario scenario = OrFail(policy::LoadScenario(scenario_path));

  replay::ReplayOptions o;
  o.days = a.days;
  o.interval = std::chrono::minutes(static_cast<int>(a.interval_min));
  o.use_forecast = a.forecast == "on";
  o.platform_options.seed = a.seed;
  o.platform_options.noise = a.noise;
  if (a.threads < 0 || a.threads > 256) Fail("--threads must be in [0, 256] (0: one per hardware thread)");
  o.threads = a.threads;
  o.bound_search.evals = a.bound_search;
  o.bound_search.seed = a.seed;
  o.bound_search.max_stages = policy::ControllerOptions{}.max_stages;
  o.start = a.start.empty() ? replay::DefaultStart(trace, a.days) : OrFail(ParseTimestamp(a.start));

  static const platform::PlatformInfo info = platform::XavierSim::MakeInfo();
  policy::ControllerContext ctx;
  ctx.platform = &info;
  ctx.predictor = MakePredictor(a, info);
  ctx.oracle = std::make_shared<estimator::SimulatorPredictor>();
  ctx.options.seed = a.seed;
  if (a.budget > 0) ctx.options.budget_evals = a.budget;
  ctx.options.energy_position = a.energy_position;
  ctx.options.accuracy_price = a.accuracy_price;
  ctx.options.threshold.depth = a.threshold_depth;
  if (a.oracle_budget > 0) ctx.options.oracle_budget_evals = a.oracle_budget;
  OrFail(ctx.options.Validate());

  const bool tty = ::isatty(STDERR_FILENO);
  const int steps_per_day = static_cast<int>(std::chrono::hours(24) / o.interval);
  auto wall0 = std::chrono::steady_clock::now();
  auto ctl0 = wall0;
  auto last_line = wall0;
  if (!a.quiet) {
    // A line per simulated day and controller; in between, on a terminal, an updated line every
    // few intervals, elsewhere a line at least every 15 s of a slow controller.
    // Controllers replay in parallel: each keeps its own start time.
    o.progress = [&, starts = std::map<int, std::chrono::steady_clock::time_point>()](
                     const replay::ProgressEvent& e) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (e.step == 1) starts[e.controller_index] = last_line = now;
      ctl0 = starts.count(e.controller_index) ? starts[e.controller_index] : wall0;
      const bool day_done = e.step % steps_per_day == 0;
      const bool slow = std::chrono::duration<double>(now - last_line).count() > 15;
      if (!day_done && !slow && !(tty && e.step % std::max(1, steps_per_day / 6) == 0)) return;
      last_line = now;
      const double s = std::chrono::duration<double>(now - ctl0).count();
      std::fprintf(stderr, "%sreplay: [%d/%d] %-10s day %d/%d (%3.0f%%) %6.1f s%s", tty ? "\r" : "",
                   e.controller_index + 1, e.controllers, e.controller.c_str(),
                   (e.step + steps_per_day - 1) / steps_per_day, e.steps / steps_per_day, 100.0 * e.step / e.steps, s,
                   (tty && e.step != e.steps) ? "" : "\n");
      std::fflush(stderr);
    };
  }
  std::vector<replay::ControllerRun> runs = replay::ControllerRuns(names, ctx);
  if (a.sweep != 0) {
    std::vector<replay::ControllerRun> swept = OrFail(replay::SweepRuns(names, a.sweep, ctx));
    if (swept.empty()) Fail("--sweep: none of the controllers has an accuracy knob (ecomap, energy, clover)");
    runs.insert(runs.end(), swept.begin(), swept.end());
  }
  replay::ReplayResult result = OrFail(replay::RunReplay(
      trace, [&scenario](TimePoint t) { return scenario.DemandAt(t); }, runs, o));
  if (!a.quiet && result.searched.demands > 0) {
    std::fprintf(
        stderr, "replay: the bound's searched candidates: %d demands, %d searches, %d measurements, %.1f s\n",
        result.searched.demands, result.searched.searches, result.searched.measured, result.searched.wall_s);
  }
  if (!a.quiet) {
    std::fprintf(stderr, "replay: done in %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count());
  }

  replay::ReportOptions ro;
  ro.reference = result.Find("ecomap") ? "ecomap" : result.controllers.front().name;
  ro.scenario = ScenarioJson(scenario, scenario_path);
  ro.predictor = ctx.predictor->name();
  ro.trace_file = a.trace;
  ro.sweep_points = a.sweep;  // the JSON's "pareto" / "equal_accuracy", the report's Pareto chart
  if (!a.report.empty()) {
    OrFail(replay::WriteHtmlReport(result, ro, a.report));
    std::fprintf(stderr, "replay: wrote %s/index.html and %s/replay.json\n", a.report.c_str(), a.report.c_str());
  }
  if (a.json) {
    nlohmann::json j = replay::ReplayToJson(result, ro, false);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Scenario: " << scenario.name << " (" << scenario_path << "), " << scenario.tenants.size()
              << " tenants\n";
    std::cout << replay::FormatTextReport(result, ro);
    if (a.sweep != 0) {
      const nlohmann::json sj = replay::SweepJson(result, a.sweep, ro.reference);
      if (sj.contains("equal_accuracy")) {
        const nlohmann::json& ea = sj["equal_accuracy"];
        std::cout << fmt::format(
            "\nAt {}'s accuracy loss ({:.2f} pts): each swept curve's lower envelope, the bounds solved "
            "there:\n",
            ro.reference, ea["accuracy_loss_pts"].get<double>());
        for (const auto& [name, v] : ea["vs"].items()) {
          if (!v["covered"].get<bool>()) {
            std::cout << fmt::format(
                "  {:<18} no figure at that accuracy loss (the curve does not reach it, or no plan fits)\n",
                name);
          } else {
            std::cout << fmt::format("  {:<18} {:8.1f} g  -> {} emits {:.1f}% less\n", name,
                                     v["carbon_g"].get<double>(), ro.reference,
                                     v["saving_pct"].get<double>());
          }
        }
      }
    }
  }
}

void AddReplayCommands(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "replay",
      "trace-driven evaluation: run controllers over days of a carbon trace on the simulated Xavier and compare "
      "carbon, energy, CDP, latency, SLO violations and accuracy (all figures simulated)");
  ReplayArgs& a = replay_args;
  cmd->add_option("--trace", a.trace, "carbon-intensity trace (Electricity Maps CSV, plain CSV or Carbon Aware SDK JSON)")
      ->capture_default_str();
  cmd->add_option("--column", a.column, "data-portal CSVs: 'direct' or 'lca'")->capture_default_str();
  cmd->add_option("--scenario", a.scenario,
                  "scenario TOML: tenants, SLOs, variant families, rates by hour (default: data/scenarios/default.toml)");
  cmd->add_option("--days", a.days, "days to replay (> 0)")->capture_default_str();
  cmd->add_option("--start", a.start,
                  "first interval, UTC (e.g. 2023-06-01); default: 7 days after the trace's start (a week of "
                  "forecast history), or its start when the trace is shorter");
  std::string known;
  for (const std::string& n : policy::ControllerNames()) known += (known.empty() ? "" : ", ") + n;
  cmd->add_option("--controllers", a.controllers, "comma-separated controllers (" + known + ")")
      ->capture_default_str();
  cmd->add_option("--interval", a.interval_min,
                  "control interval in minutes, dividing 60; sub-hour intervals hold the hour's intensity")
      ->capture_default_str();
  cmd->add_flag("--json", a.json, "print one JSON object (format: src/replay/report.h) instead of tables");
  cmd->add_option("--report", a.report, "write DIR/index.html (inline SVG plots + tables) and DIR/replay.json");
  cmd->add_option("--seed", a.seed, "seed of the measurement noise and the controllers' searches")->capture_default_str();
  cmd->add_option("--noise", a.noise, "relative standard deviation of the simulated power sensor's noise")
      ->capture_default_str();
  cmd->add_option("--predictor", a.predictor,
                  "the controllers' predictor: transformer (learned, needs libtorch), analytic (its fitted baseline) "
                  "or sim (xavier-sim itself: its short fixed-seed simulation)")
      ->capture_default_str();
  cmd->add_option("--model", a.model, "estimator model file for transformer/analytic")->capture_default_str();
  cmd->add_option("--forecast", a.forecast, "give the controllers a 24 h seasonal forecast: on|off")
      ->capture_default_str();
  cmd->add_option("--budget", a.budget, "predictor evaluations per search (0: the controller default, 300)");
  cmd->add_option("--perfect-predictor-budget", a.oracle_budget,
                  "evaluations perfect-predictor adds per search, spread over the modes (0: the default, 300)");
  cmd->add_option("--energy-position", a.energy_position,
                  "the energy twin's fixed threshold within the budget range: 0 = the highest budget, 1 = the lowest")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--accuracy-price", a.accuracy_price,
                  "ecomap and its twins: the price of one point of accuracy loss against the plan's energy (units of the "
                  "reference configuration's power at the reference intensity; 0: not priced; src/policy/controllers/ecomap.h)")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--threshold-depth", a.threshold_depth,
                  "ecomap: how far down the budget range the dirtiest hour takes the power threshold: 1 = to the lowest "
                  "budget, 0 = never below the highest")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--sweep", a.sweep,
                  "also replay ecomap, energy and clover (those listed) at N settings of their accuracy knob and add "
                  "the curves and equal-accuracy savings to --json (\"pareto\", \"equal_accuracy\"; src/replay/sweep.h) and a "
                  "Pareto chart to --report")
      ->check(CLI::Range(0, 21));
  cmd->add_option("--threads", a.threads, "controllers replayed at once (0: one per hardware thread)")
      ->capture_default_str();
  cmd->add_option(
         "--bound-search", a.bound_search,
         "evaluations of each of the bound's own hindsight searches (src/replay/bound_search.h); 0: the "
         "bound mixes only the replayed controllers' choices")
      ->check(CLI::Range(0, 5000))
      ->capture_default_str();
  cmd->add_flag("--quiet", a.quiet, "no progress on stderr");
  cmd->callback([] { RunReplayCommand(replay_args); });
}

struct ResultsArgs {
  std::vector<std::string> files;
  bool update = false;
  std::string root = ".";
};
ResultsArgs results_args;

void RunResultsTables(const ResultsArgs& a) {
  if (a.files.empty()) Fail("results tables: name the Markdown files to check or update (e.g. README.md)");
  const replay::ResultLoader load = replay::FileLoader(a.root);
  int differ = 0;
  for (const std::string& path : a.files) {
    std::ifstream in(path);
    if (!in) Fail("results tables: cannot read '" + path + "'");
    std::stringstream text;
    text << in.rdbuf();
    StatusOr<std::string> updated = replay::UpdateResultTables(text.str(), load);
    if (!updated.ok()) Fail("results tables: " + path + ": " + updated.status().message());
    if (*updated == text.str()) {
      std::cout << path << ": tables up to date\n";
      continue;
    }
    if (a.update) {
      const std::string tmp = path + ".tmp";
      {
        std::ofstream out(tmp, std::ios::trunc);
        out << *updated;
        if (!out) Fail("results tables: cannot write '" + tmp + "'");
      }
      if (std::rename(tmp.c_str(), path.c_str()) != 0) Fail("results tables: cannot replace '" + path + "'");
      std::cout << path << ": tables regenerated\n";
    } else {
      std::cout << path << ": tables differ from their JSON (run with --update)\n";
      ++differ;
    }
  }
  if (differ > 0) std::exit(1);
}

void AddResultsCommands(CLI::App& app) {
  auto* cmd = app.add_subcommand("results", "Committed result JSON -> the documentation's tables");
  cmd->require_subcommand(1);
  auto* tables = cmd->add_subcommand(
      "tables",
      "check (default) or --update the tables marked <!-- replay-table KIND FILE... --> in Markdown files from "
      "the committed replay JSON they name (format: src/replay/tables.h)");
  tables->add_option("files", results_args.files, "Markdown files, e.g. README.md docs/replay.md")->required();
  tables->add_flag("--update", results_args.update, "rewrite the marked blocks (default: only check, exit 1 on a difference)");
  tables->add_option("--root", results_args.root, "folder the JSON paths are relative to")->capture_default_str();
  tables->callback([] { RunResultsTables(results_args); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(90, AddReplayCommands);
ECOMAP_REGISTER_COMMANDS(91, AddResultsCommands);

}  // namespace ecomap::app
