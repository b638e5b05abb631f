// `ecomap search ...`: LA-MCTS and the baseline searches.
//
//   ecomap search bench --function ackley --dims 20 --budget 500 --algo lamcts --seeds 10 [--json]
#include <iostream>
#include <optional>
#include <string>

#include "app/cli_util.h"
#include "app/commands.h"
#include "search/bench.h"

namespace ecomap::app {
namespace {

struct BenchFlags {
  search::BenchConfig config;
  bool json = false;
  bool quiet = false;
  double cp = 0, lb = 0, ub = 0;
  int leaf = 0, ninits = 0, batch = 0;
  std::string kernel, sampler;
  long long first_seed = 0;
};

void RunBenchCommand(const BenchFlags& f, CLI::App* cmd) {
  search::BenchConfig c = f.config;
  if (cmd->count("--cp")) c.cp = f.cp;
  if (cmd->count("--leaf-size")) c.leaf_size = f.leaf;
  if (cmd->count("--ninits")) c.ninits = f.ninits;
  if (cmd->count("--batch-size")) c.batch_size = f.batch;
  if (cmd->count("--kernel")) c.kernel = f.kernel;
  if (cmd->count("--sampler")) c.sampler = f.sampler;
  if (cmd->count("--lb")) c.lb = f.lb;
  if (cmd->count("--ub")) c.ub = f.ub;
  if (f.first_seed < 0) Fail("--first-seed " + std::to_string(f.first_seed) + " must be >= 0");
  c.first_seed = static_cast<uint64_t>(f.first_seed);
  if (c.algo != "lamcts" && (c.cp || c.leaf_size || c.ninits || c.batch_size || c.kernel || c.sampler)) {
    Fail("--cp/--leaf-size/--ninits/--batch-size/--kernel/--sampler apply to --algo lamcts only, not '" +
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

void AddSearchCommands(CLI::App& app) {
  auto* search = app.add_subcommand(
      "search", "Black-box search: LA-MCTS and baselines (random search, simulated annealing, exhaustive)");
  search->require_subcommand(1);

  static BenchFlags flags;
  auto* bench = search->add_subcommand(
      "bench",
      "Run an optimizer on a standard test function (minimisation) over several seeds; prints the best value\n"
      "per seed, the median and the search overhead per evaluation (function time excluded).\n"
      "LA-MCTS uses the reference settings per function (ackley: Cp 1, leaf 10, rbf, 40 inits;\n"
      "levy: Cp 10, leaf 8, poly, 40 inits) unless overridden.");
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
  bench->add_option("--sampler", flags.sampler, "LA-MCTS in-region sampler: perturb (cheap) | bo (GP-EI)");
  bench->add_option("--batch-size", flags.batch, "LA-MCTS samples per iteration (tree rebuilt each iteration)");
  bench->add_flag("--json", flags.json,
                  "One JSON object: function, dims, budget, algo, best (list), median_best, ms_per_eval, "
                  "seeds, lb, ub, settings");
  bench->add_flag("--quiet", flags.quiet, "No per-seed progress on stderr");
  bench->callback([bench] { RunBenchCommand(flags, bench); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(60, AddSearchCommands);

}  // namespace ecomap::app
