// `ecomap search ...`: LA-MCTS and the baseline searches.
//
//   ecomap search bench --function ackley --dims 20 --budget 500 --algo lamcts --seeds 10 [--json]
//   ecomap search map --platform xavier-sim --scenario FILE --threshold W [--intensity G]
//                     --algo lamcts|random|sa|exhaustive --budget B [--seed S]
//                     [--predictor sim|analytic|transformer] [--model PATH] [--json]
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "app/cli_util.h"
#include "app/commands.h"
#include "estimator/analytic.h"
#include "estimator/model_file.h"
#include "estimator/simulator_predictor.h"
#include "platform/registry.h"
#include "search/bench.h"
#include "search/mapping.h"
#include "estimator/transformer.h"  // torch-free header; Load links only with ECOMAP_ESTIMATOR_TORCH
#ifdef ECOMAP_HAVE_POLICY_SCENARIO
#include "policy/planning.h"
#include "policy/scenario.h"
#endif

namespace ecomap::app {
namespace {

struct BenchFlags {
  search::BenchConfig config;
  bool json = false;
  bool quiet = false;
  double cp = 0, lb = 0, ub = 0;
  int leaf = 0, ninits = 0, batch = 0, batch_growth = 0;
  std::string kernel, sampler;
  long long first_seed = 0;
};

void RunBenchCommand(const BenchFlags& f, CLI::App* cmd) {
  search::BenchConfig c = f.config;
  if (cmd->count("--cp")) c.cp = f.cp;
  if (cmd->count("--leaf-size")) c.leaf_size = f.leaf;
  if (cmd->count("--ninits")) c.ninits = f.ninits;
  if (cmd->count("--batch-size")) c.batch_size = f.batch;
  if (cmd->count("--batch-growth")) c.batch_growth = f.batch_growth;
  if (cmd->count("--kernel")) c.kernel = f.kernel;
  if (cmd->count("--sampler")) c.sampler = f.sampler;
  if (cmd->count("--lb")) c.lb = f.lb;
  if (cmd->count("--ub")) c.ub = f.ub;
  if (f.first_seed < 0) Fail("--first-seed " + std::to_string(f.first_seed) + " must be >= 0");
  c.first_seed = static_cast<uint64_t>(f.first_seed);
  if (c.algo != "lamcts" && (c.cp || c.leaf_size || c.ninits || c.batch_size || c.batch_growth || c.kernel || c.sampler)) {
    Fail("--cp/--leaf-size/--ninits/--batch-size/--batch-growth/--kernel/--sampler apply to --algo lamcts only, not '" +
         c.algo + "'");
  }
  const bool show_progress = !f.quiet;
  auto progress = [&](int i, const search::BenchRun& run) {
    if (show_progress) {
      std::cerr << "[" << (i + 1) << "/" << c.seeds << "] " << c.algo << " seed " << run.seed << ": best "
                << run.best << " (" << run.evaluations << " evals, overhead " << run.overhead_ms << " ms)\n";
    }
  };
  const search::BenchReport r = OrFail(search::RunBench(c, progress));
  if (f.json) {
    std::cout << search::BenchReportJson(r) << "\n";
  } else {
    std::cout << search::BenchReportTable(r);
  }
}


// ---------------------------------------------------------------------------------------------
// search map

struct MapFlags {
  std::string platform = "xavier-sim";
  std::string scenario;
  std::string threshold;
  std::string intensity = "250";
  std::string algo = "lamcts";
  long long budget = 300;
  long long seed = 1;
  std::string predictor;
  std::string model;
  int max_stages = 2;
  int hour = -1;
  bool json = false;
};

#ifdef ECOMAP_ESTIMATOR_TORCH
constexpr const char* kDefaultPredictor = "transformer";
#else
constexpr const char* kDefaultPredictor = "sim";
#endif

// A finite number > 0 (or >= 0), or a clear error naming the flag, the value and the fix.
double ParsePositive(const std::string& flag, const std::string& text, bool allow_zero, const std::string& fix) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !std::isfinite(v)) {
    Fail(flag + " '" + text + "' is not a number: " + fix);
  }
  if (allow_zero ? v < 0 : v <= 0) {
    Fail(flag + " " + text + " must be " + (allow_zero ? ">= 0" : "> 0") + ": " + fix);
  }
  return v;
}

struct LoadedPredictor {
  std::shared_ptr<const estimator::Predictor> predictor;
  std::string label;       // "transformer (data/estimator/xavier-sim.ecomap)"
  std::string provenance;  // "predicted" / "simulated"
  platform::PlatformInfo info;
};

LoadedPredictor LoadMapPredictor(const std::string& kind, const std::string& model_flag,
                                 const std::string& platform_name) {
  LoadedPredictor out;
  const std::string path = model_flag.empty() ? estimator::DefaultModelPath(platform_name) : model_flag;
  if (kind == "sim") {
    if (!model_flag.empty()) Fail("--model applies to --predictor transformer or analytic, not sim");
    if (platform_name != "xavier-sim") {
      Fail("--predictor sim is the xavier-sim simulator: it cannot predict platform '" + platform_name +
           "'; use --platform xavier-sim");
    }
    auto sim = std::make_shared<estimator::SimulatorPredictor>();
    out.info = sim->info();
    out.predictor = sim;
    out.label = "xavier-sim oracle (the simulator itself)";
    out.provenance = "simulated";
    return out;
  }
  if (kind == "analytic") {
    // The analytic baseline stored in the transformer's model file (no libtorch needed).
    estimator::ModelFile f = OrFail(
        estimator::ReadModelFile(path, estimator::kTransformerFormat, estimator::kTransformerVersion));
    if (!f.meta.contains("platform") || !f.meta.contains("analytic")) {
      Fail(path + ": the model file has no platform/analytic record: retrain it with `ecomap estimator train`");
    }
    platform::PlatformInfo info = OrFail(platform::PlatformInfoFromJson(f.meta.at("platform")));
    estimator::AnalyticModel m = OrFail(estimator::AnalyticModel::FromJson(f.meta.at("analytic"), info));
    out.info = info;
    out.predictor = std::make_shared<estimator::AnalyticPredictor>(std::move(m));
    out.label = "analytic baseline (from " + path + ")";
    out.provenance = "predicted";
  } else if (kind == "transformer") {
#ifdef ECOMAP_ESTIMATOR_TORCH
    std::unique_ptr<estimator::TransformerPredictor> t = OrFail(estimator::TransformerPredictor::Load(path));
    t->set_intra_op_threads(1);
    out.info = t->info();
    out.predictor = std::shared_ptr<const estimator::Predictor>(std::move(t));
    out.label = "transformer estimator (" + path + ")";
    out.provenance = "predicted";
#else
    Fail("--predictor transformer needs libtorch, which this build does not have: use --predictor analytic or sim");
#endif
  } else {
    Fail("unknown --predictor '" + kind + "': use transformer (the shipped estimator), analytic or sim (the oracle)");
  }
  if (out.info.name != platform_name) {
    Fail("the model " + path + " was trained for platform '" + out.info.name + "', not '" + platform_name +
         "': pass --model for " + platform_name + " or --platform " + out.info.name);
  }
  return out;
}

std::string StagesText(const platform::TenantConfig& t) {
  std::string s;
  for (const auto& st : t.stages) {
    if (!s.empty()) s += " | ";
    s += "[" + std::to_string(st.begin_block) + "," + std::to_string(st.end_block) + ") " + st.unit;
  }
  return s;
}

void RunMapCommand(const MapFlags& f, CLI::App* cmd) {
#ifndef ECOMAP_HAVE_POLICY_SCENARIO
  (void)cmd;
  Fail("this build has no scenario reader (the policy part): `search map` is unavailable");
#else
  // Flags first: every bad value is reported before anything expensive runs.
  if (f.threshold.empty()) Fail("--threshold is required: the power threshold in W, e.g. --threshold 15");
  const double threshold = ParsePositive("--threshold", f.threshold, false, "give the power threshold in W, e.g. --threshold 15");
  const double intensity =
      ParsePositive("--intensity", f.intensity, true, "give the carbon intensity in gCO2/kWh, e.g. --intensity 250");
  if (f.algo != "lamcts" && f.algo != "random" && f.algo != "sa" && f.algo != "exhaustive") {
    Fail("unknown --algo '" + f.algo + "': use lamcts, random, sa or exhaustive");
  }
  const std::string predictor_kind = f.predictor.empty() ? kDefaultPredictor : f.predictor;
  if (predictor_kind != "transformer" && predictor_kind != "analytic" && predictor_kind != "sim") {
    Fail("unknown --predictor '" + predictor_kind +
         "': use transformer (the shipped estimator), analytic or sim (the xavier-sim oracle)");
  }
  if (f.budget < 1 || f.budget > 100000000) {
    Fail("--budget " + std::to_string(f.budget) + " must be between 1 and 100000000 evaluations, e.g. --budget 300");
  }
  if (f.seed < 0) Fail("--seed " + std::to_string(f.seed) + " must be >= 0");
  if (f.max_stages < 1 || f.max_stages > 8) {
    Fail("--max-stages " + std::to_string(f.max_stages) + " must be between 1 and 8");
  }
  if (f.hour < -1 || f.hour > 23) Fail("--hour " + std::to_string(f.hour) + " must be a UTC hour 0..23");
  {
    auto p = platform::MakePlatform(f.platform);
    if (!p.ok()) Fail("--platform: " + p.status().message());
  }
  LoadedPredictor pred = LoadMapPredictor(predictor_kind, f.model, f.platform);

  const std::string scenario_path = f.scenario.empty() ? policy::DefaultScenarioPath() : f.scenario;
  policy::ScenarioCheck check;
  check.platform = &pred.info;
  check.predictor = pred.predictor.get();
  policy::Scenario scenario = OrFail(policy::LoadScenario(scenario_path, check));
  std::vector<policy::TenantSpec> demand;
  if (f.hour >= 0) {
    demand = scenario.DemandAt(TimePoint{} + std::chrono::hours(f.hour));
  } else {
    demand = scenario.PeakDemand();
  }
  std::vector<search::MappingTenant> tenants;
  for (const policy::TenantSpec& t : demand) tenants.push_back(policy::ToMappingTenant(t, policy::Ladder(t)));
  search::MappingSpaceOptions so;
  so.max_stages = f.max_stages;
  search::MappingSpace space = OrFail(search::MappingSpace::Create(pred.info, tenants, so));
  const long long min_budget = search::MinimumMappingBudget(f.algo, space);
  if (f.budget < min_budget) {
    if (f.algo == "exhaustive") {
      Fail("--budget " + std::to_string(f.budget) + " is below the " + std::to_string(min_budget) +
           " points of this space: exhaustive needs --budget >= " + std::to_string(min_budget) +
           " (or use --algo lamcts)");
    }
    Fail("--budget " + std::to_string(f.budget) + " is too small for " + f.algo + ": it needs at least " +
         std::to_string(min_budget) + " evaluations (its initial design); use --budget >= " + std::to_string(min_budget));
  }
  std::unique_ptr<search::Optimizer> opt =
      OrFail(search::MakeMappingOptimizer(f.algo, space, static_cast<int>(f.budget)));
  search::MappingGoal goal;
  goal.threshold = Watts(threshold);
  goal.intensity = GramsPerKwh(intensity);
  search::Budget budget;
  budget.max_evals = static_cast<int>(f.budget);
  const search::MappingResult r =
      OrFail(search::SearchMapping(space, *pred.predictor, goal, *opt, budget, static_cast<uint64_t>(f.seed)));

  const platform::PowerMode* mode = pred.info.FindMode(r.config.power_mode);
  const std::string demand_text = f.hour >= 0 ? "rates of UTC hour " + std::to_string(f.hour) : "peak rates";
  if (f.json) {
    nlohmann::json j;
    j["platform"] = f.platform;
    j["scenario"] = scenario_path;
    j["demand"] = demand_text;
    j["threshold_w"] = threshold;
    j["intensity_g_per_kwh"] = intensity;
    j["predictor"] = pred.predictor->name();
    j["figures"] = pred.provenance;
    j["algo"] = f.algo;
    j["budget"] = f.budget;
    j["seed"] = f.seed;
    j["evaluations"] = r.search.evaluations;
    j["space_dims"] = space.box().dims();
    j["space_points"] = space.Size();
    j["config"] = r.config;
    j["predicted"] = r.predicted;
    j["feasible"] = r.score.feasible;
    j["cost"] = r.score.cost;
    j["power_w"] = r.score.power.value();
    j["cdp_g_s"] = r.score.cdp_g_s;
    j["accuracy_loss_pts"] = r.score.accuracy_loss_pts;
    j["slo_met"] = r.score.slo_met;
    j["reference_power_w"] = r.reference.power.value();
    j["reference_cdp_g_s"] = r.reference.cdp_g_s;
    j["total_ms"] = r.total_ms;
    j["search_ms"] = r.search_ms;
    j["predict_ms"] = r.predict_ms;
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("mapping search on %s (%s), scenario %s (%s, %s)\n", f.platform.c_str(),
              platform::ProvenanceName(pred.info.provenance), scenario.name.c_str(), scenario_path.c_str(),
              demand_text.c_str());
  std::printf("threshold %g W, carbon intensity %g gCO2/kWh; predictor: %s; figures below are %s\n", threshold,
              intensity, pred.label.c_str(), pred.provenance.c_str());
  std::printf("search: %s, %d evaluations, seed %lld; space: %s\n\n", f.algo.c_str(), r.search.evaluations, f.seed,
              space.Describe().c_str());
  std::printf("chosen configuration: power mode %d (%s)\n", r.config.power_mode, mode ? mode->name.c_str() : "?");
  std::printf("  %-12s %-20s %10s  %-34s %16s %8s %8s\n", "tenant", "variant", "load", "stages",
              pred.provenance == "simulated" ? "p95 (simulated)" : "p95 (predicted)", "SLO", "SLO held");
  for (size_t i = 0; i < r.config.tenants.size(); ++i) {
    const auto& t = r.config.tenants[i];
    const auto& p = r.predicted.tenants[i];
    const std::string load = t.arrival == platform::ArrivalKind::kOpenLoop ? fmt::format("{:.1f} rps", t.rate_rps)
                                                                           : fmt::format("closed x{}", t.concurrency);
    const std::string p95 = fmt::format("{:.2f} ms{}", p.latency_p95.value(), p.saturated ? " SAT" : "");
    const std::string slo = fmt::format("{:g} ms", tenants[i].slo_p95.value());
    fmt::print("  {:<12} {:<20} {:>10}  {:<34} {:>16} {:>8} {:>8}\n", t.name, t.model, load, StagesText(t), p95, slo,
               r.score.slo_met[i] ? "yes" : "NO");
  }
  std::printf("\npower (%s): %.2f W %s threshold %g W\n", pred.provenance.c_str(), r.score.power.value(),
              r.score.power.value() <= threshold ? "<=" : "ABOVE", threshold);
  std::printf("CDP (%s, mean over tenants of P x CI / total throughput x p95): %.3g gCO2eq*s per inference\n",
              pred.provenance.c_str(), r.score.cdp_g_s);
  std::printf("accuracy loss (request-weighted, vs each tenant's best variant): %.2f points\n",
              r.score.accuracy_loss_pts);
  std::printf("feasible: %s; objective cost %.4f (reference: maxn on the GPU, %.2f W, CDP %.3g)\n",
              r.score.feasible ? "yes (every SLO held, power under the threshold)" : "NO", r.score.cost,
              r.reference.power.value(), r.reference.cdp_g_s);
  std::printf("time: %.1f ms total = search %.1f ms + prediction %.1f ms (%s)\n", r.total_ms, r.search_ms,
              r.predict_ms, pred.predictor->name().c_str());
#endif
}

void AddSearchCommands(CLI::App& app) {
  auto* search = app.add_subcommand(
      "search", "Black-box search: LA-MCTS and baselines (random search, simulated annealing, exhaustive)");
  search->require_subcommand(1);

  static BenchFlags flags;
  auto* bench = search->add_subcommand(
      "bench",
      "Run an optimizer on a standard test function (minimisation) over several seeds; prints the best value\n"
      "per seed, the median and the search overhead per evaluation (CPU time of the search thread, function\n"
      "time excluded). LA-MCTS uses the reference settings per function (ackley: Cp 1, leaf 10, rbf, 40 inits;\n"
      "levy: Cp 10, leaf 8, poly, 40 inits) and the turbo sampler (levy: 2 coordinates replaced per candidate)\n"
      "unless overridden.");
  bench->add_option("--function", flags.config.function, "ackley | levy | rosenbrock | rastrigin")
      ->capture_default_str();
  bench->add_option("--dims", flags.config.dims, "Dimensions (>= 1)")->capture_default_str();
  bench->add_option("--budget", flags.config.budget, "Evaluations per seed (lamcts: >= its initial samples)")
      ->capture_default_str();
  bench->add_option("--algo", flags.config.algo, "lamcts | random | sa")->capture_default_str();
  bench->add_option("--seeds", flags.config.seeds, "Number of seeds (runs)")->capture_default_str();
  bench->add_option("--first-seed", flags.first_seed, "First seed; runs use first, first+1, ...")
      ->capture_default_str();
  bench->add_option("--lb", flags.lb, "Lower bound of every dimension (default: the function's)");
  bench->add_option("--ub", flags.ub, "Upper bound of every dimension (default: the function's)");
  bench->add_option("--cp", flags.cp, "LA-MCTS exploration constant Cp");
  bench->add_option("--leaf-size", flags.leaf, "LA-MCTS leaf size (split leaves with more samples)");
  bench->add_option("--kernel", flags.kernel, "LA-MCTS SVM kernel: rbf | poly | linear");
  bench->add_option("--ninits", flags.ninits, "LA-MCTS Latin-hypercube initial samples");
  bench->add_option("--sampler", flags.sampler,
                    "LA-MCTS in-region sampler: turbo (default: GP Thompson sampling in a trust region) | "
                    "bo (GP-EI over perturbations) | perturb (cheap, no model)");
  bench->add_option("--batch-size", flags.batch,
                    "LA-MCTS samples per batch (default 5; the tree is rebuilt every batch, every 2 with turbo)");
  bench->add_option("--batch-growth", flags.batch_growth,
                    "LA-MCTS: the batch is --batch-size x floor(samples / N) once that is larger (default 150: "
                    "from 300 samples on; 0: a fixed batch)");
  bench->add_flag("--json", flags.json,
                  "One JSON object: function, dims, budget, algo, best (list), median_best, ms_per_eval, "
                  "seeds, lb, ub, settings");
  bench->add_flag("--quiet", flags.quiet, "No per-seed progress on stderr");
  bench->callback([bench] { RunBenchCommand(flags, bench); });

  static MapFlags map_flags;
  auto* map = search->add_subcommand(
      "map",
      "Choose a mapping for a scenario's tenants under a power threshold: power mode, every tenant's variant,\n"
      "cut points and units, minimising the objective of search/mapping.h (energy + CDP + accuracy loss, with\n"
      "penalties for broken SLOs and power above the threshold) with the chosen predictor. Prints the\n"
      "configuration, its predicted (or simulated) figures, whether it is feasible and the search time split.");
  map->add_option("--platform", map_flags.platform, "Platform whose modes and units are searched")
      ->capture_default_str();
  map->add_option("--scenario", map_flags.scenario,
                  "Scenario TOML file (policy/scenario.h format; default: data/scenarios/default.toml)");
  map->add_option("--threshold", map_flags.threshold, "Power threshold in W (> 0); required");
  map->add_option("--intensity", map_flags.intensity, "Carbon intensity in gCO2/kWh (>= 0), for the CDP term")
      ->capture_default_str();
  map->add_option("--algo", map_flags.algo, "lamcts | random | sa | exhaustive")->capture_default_str();
  map->add_option("--budget", map_flags.budget, "Predictor evaluations (lamcts: >= 16; exhaustive: the space size)")
      ->capture_default_str();
  map->add_option("--seed", map_flags.seed, "Seed of the search (deterministic for a seed)")->capture_default_str();
  map->add_option("--predictor", map_flags.predictor,
                  std::string("transformer (shipped estimator, builds with libtorch) | analytic (its baseline) | sim "
                              "(the xavier-sim oracle); default: ") +
                      kDefaultPredictor);
  map->add_option("--model", map_flags.model,
                  "Estimator model file for transformer/analytic (default: data/estimator/<platform>.ecomap)");
  map->add_option("--max-stages", map_flags.max_stages, "Pipeline stages per tenant (1-8)")->capture_default_str();
  map->add_option("--hour", map_flags.hour, "Demand of this UTC hour (0-23) instead of the peak rates");
  map->add_flag("--json", map_flags.json,
                "One JSON object: config, predicted, feasible, cost, power_w, cdp_g_s, accuracy_loss_pts, slo_met, "
                "evaluations, total_ms, search_ms, predict_ms, ...");
  map->callback([map] { RunMapCommand(map_flags, map); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(60, AddSearchCommands);

}  // namespace ecomap::app
