// Speed of the searches: LA-MCTS's search overhead per evaluation at 500 samples in 20 dims
// (the goal: under 1 ms), against the baselines measured in the same run.
//
//   build/src/search/search_bench [--benchmark_filter=LaMcts]
//
// BM_LaMcts/<function>_<sampler>/<batch>: batch 0 is LaMctsOptions' default batch size (5).
// Counters: overhead_ms_per_eval (search CPU time without function time, per evaluation),
// vs_goal (overhead / 1 ms; < 1 meets the goal), vs_sa (overhead / simulated annealing's
// overhead measured in the same run, same function and budget).
#include <benchmark/benchmark.h>

#include "search/bench.h"
#include "search/lamcts.h"
#include "search/partition_tree.h"
#include "search/random_search.h"
#include "search/simulated_annealing.h"
#include "search/test_functions.h"

namespace ecomap::search {
namespace {

// Overhead in CPU time of this thread, so that other load on the machine does not inflate it.
double OverheadPerEval(Optimizer& opt, const Problem& p, int evals, uint64_t seed) {
  static const ThreadCpuClock cpu_clock;
  Budget b;
  b.max_evals = evals;
  b.clock = &cpu_clock;
  auto r = opt.Maximize(p, b, seed);
  if (!r.ok()) return -1.0;
  return r->overhead_ms_per_eval();
}

void BM_LaMcts(benchmark::State& state, const char* function, RegionSampler sampler) {
  auto fn = FindTestFunction(function);
  const Problem p = MakeMinimizationProblem(*fn, 20);
  LaMctsOptions o = *LaMctsDefaultsFor(function);
  o.sampler = sampler;
  if (state.range(0) > 0) o.batch_size = static_cast<int>(state.range(0));  // 0: the default
  state.counters["batch"] = o.batch_size;
  LaMcts opt(o);
  double sum = 0.0;
  int runs = 0;
  uint64_t seed = 0;
  for (auto _ : state) {
    sum += OverheadPerEval(opt, p, 500, seed++);
    ++runs;
  }
  SimulatedAnnealing sa;
  double sa_sum = 0.0;
  for (int i = 0; i < 3; ++i) sa_sum += OverheadPerEval(sa, p, 500, static_cast<uint64_t>(i));
  const double overhead = sum / runs;
  state.counters["overhead_ms_per_eval"] = overhead;
  state.counters["vs_goal"] = overhead / 1.0;
  state.counters["vs_sa"] = overhead / (sa_sum / 3.0);
}

void BM_Baseline(benchmark::State& state, const char* algo) {
  const Problem p = MakeMinimizationProblem(*FindTestFunction("ackley"), 20);
  std::unique_ptr<Optimizer> opt = std::move(*MakeOptimizer(algo));
  double sum = 0.0;
  int runs = 0;
  for (auto _ : state) {
    sum += OverheadPerEval(*opt, p, 500, static_cast<uint64_t>(runs));
    ++runs;
  }
  state.counters["overhead_ms_per_eval"] = sum / runs;
}

// One tree rebuild (2-means + SVM per split) over 500 samples in 20 dims.
void BM_TreeBuild(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Rng rng(1);
  const Eigen::MatrixXd xu = LatinHypercube(n, 20, rng);
  Eigen::VectorXd f(n);
  const Box box = Box::Uniform(20, -5, 10);
  for (int i = 0; i < n; ++i) f(i) = -Ackley(FromUnit(box, xu.row(i)));
  TreeOptions o;
  int leaves = 0;
  for (auto _ : state) {
    auto t = PartitionTree::Build(xu, f, o, rng);
    leaves = t->leaves();
    benchmark::DoNotOptimize(leaves);
  }
  state.counters["leaves"] = leaves;
}

}  // namespace
}  // namespace ecomap::search

namespace ecomap::search {
// Arg: batch size; 0 = LaMctsOptions' default (the configuration the 1 ms goal is about).
BENCHMARK_CAPTURE(BM_LaMcts, ackley_turbo, "ackley", RegionSampler::kTurbo)
    ->Arg(0)->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_LaMcts, levy_turbo, "levy", RegionSampler::kTurbo)
    ->Arg(0)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_LaMcts, ackley_bo, "ackley", RegionSampler::kBo)
    ->Arg(0)->Arg(1)->Arg(5)->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_LaMcts, levy_bo, "levy", RegionSampler::kBo)
    ->Arg(0)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_LaMcts, ackley_perturb, "ackley", RegionSampler::kPerturb)
    ->Arg(0)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_Baseline, random, "random")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Baseline, sa, "sa")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TreeBuild)->Arg(100)->Arg(500)->Unit(benchmark::kMillisecond);
}  // namespace ecomap::search

BENCHMARK_MAIN();
