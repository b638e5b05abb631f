// Batched prediction throughput on one core: the transformer estimator against the analytic
// baseline (and the simulator oracle), for 4-tenant configurations, in the same run.
//
//   build/src/estimator/estimator_bench [--model PATH]   (default: the shipped model)
//
// Reports configurations/s (items_per_second) per predictor and batch size, then one line with
// the transformer/analytic ratio measured here. Target: >= 20,000 configurations/s for the
// transformer at batch 4096.
#include <benchmark/benchmark.h>

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include "estimator/analytic.h"
#include "estimator/model_file.h"
#include "estimator/simulator_predictor.h"
#include "estimator/transformer.h"
#include "profiler/sampler.h"

namespace ecomap::estimator {
namespace {

std::string g_model_path = DefaultModelPath();
std::unique_ptr<TransformerPredictor> g_model;
std::vector<platform::Configuration> g_configs;  // 4 tenants each

void Setup() {
  if (g_model) return;
  at::set_num_threads(1);
  auto m = TransformerPredictor::Load(g_model_path);
  if (!m.ok()) {
    std::fprintf(stderr, "estimator_bench: %s\n(train one with `ecomap estimator train`, see README)\n",
                 m.status().message().c_str());
    std::exit(1);
  }
  g_model = std::move(*m);
  g_model->set_intra_op_threads(1);
  profiler::SamplerOptions o;
  o.min_tenants = 4;
  o.max_tenants = 4;
  auto sampler = profiler::Sampler::Create(g_model->info(), o, zoo::Models());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 16384; ++i) g_configs.push_back(sampler->Next(rng));
}

void Run(benchmark::State& state, const Predictor& p) {
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<platform::Configuration> configs(g_configs.begin(), g_configs.begin() + static_cast<std::ptrdiff_t>(batch));
  for (auto _ : state) {
    auto r = p.PredictBatch(configs);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(r->data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch));
  state.SetLabel(p.name() + ", 4 tenants, 1 thread");
}

void BM_Transformer(benchmark::State& state) {
  Setup();
  Run(state, *g_model);
}
void BM_Analytic(benchmark::State& state) {
  Setup();
  static AnalyticPredictor analytic(g_model->analytic());
  Run(state, analytic);
}
void BM_SimulatorOracle(benchmark::State& state) {
  Setup();
  static SimulatorPredictor oracle;
  Run(state, oracle);
}
BENCHMARK(BM_Transformer)->Arg(256)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Analytic)->Arg(256)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SimulatorOracle)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Rate {
  double wall = 0;  // configurations per wall-clock second
  double cpu = 0;   // configurations per second of this thread's CPU time (robust to a busy machine)
};

Rate ConfigsPerSecond(const Predictor& p, size_t batch, int reps) {
  std::vector<platform::Configuration> configs(g_configs.begin(), g_configs.begin() + static_cast<std::ptrdiff_t>(batch));
  (void)p.PredictBatch(configs);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = ThreadCpuSeconds();
  for (int i = 0; i < reps; ++i) (void)p.PredictBatch(configs);
  const double c = ThreadCpuSeconds() - c0;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {static_cast<double>(batch) * reps / s, static_cast<double>(batch) * reps / c};
}

}  // namespace
}  // namespace ecomap::estimator

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--model") == 0) {
      ecomap::estimator::g_model_path = argv[i + 1];
      for (int j = i; j + 2 <= argc; ++j) argv[j] = argv[j + 2];
      argc -= 2;
      break;
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  using namespace ecomap::estimator;
  Setup();
  AnalyticPredictor analytic(g_model->analytic());
  const Rate t = ConfigsPerSecond(*g_model, 4096, 10);
  const Rate a = ConfigsPerSecond(analytic, 4096, 10);
  std::printf("summary (batch 4096, 4-tenant configurations, 1 thread, %lld parameters): transformer %.0f configs/s "
              "(%.0f per CPU-second), analytic %.0f configs/s (%.0f per CPU-second), ratio transformer/analytic "
              "%.3f (CPU %.3f); target >= 20000 configs/s: %s\n",
              static_cast<long long>(g_model->num_parameters()), t.wall, t.cpu, a.wall, a.cpu, t.wall / a.wall,
              t.cpu / a.cpu, t.wall >= 20000 ? "met" : (t.cpu >= 20000 ? "met in CPU time (machine busy)" : "NOT met"));
  return 0;
}
