// How fast xavier-sim simulates, in simulated requests per second of CPU time on one core
// (the figure that decides how long a replay or a profile takes), and Predict() against a
// baseline measured in the same run: serialising that configuration and its result as one JSON
// line (what the profiler writes per sample).
//
//   build/src/platform/xavier_sim_bench
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

#include "platform/sim/calibration.h"
#include "platform/sim/xavier_sim.h"

namespace ecomap::platform {
namespace {

// n tenants (1..6): ResNet-50 / MobileNet-v1, each split in two stages over the units.
Configuration Mix(int n) {
  const char* units[] = {"GPU", "DLA0", "DLA1", "CPU"};
  Configuration c;
  c.power_mode = 3;
  for (int i = 0; i < n; ++i) {
    const zoo::ModelInfo& m = CalibrationModels()[static_cast<size_t>(i % 2)];
    int blocks = static_cast<int>(m.blocks.size());
    TenantConfig t;
    t.name = "t" + std::to_string(i);
    t.model = m.name;
    t.stages = {{0, blocks / 2, units[i % 4]}, {blocks / 2, blocks, units[(i + 1) % 4]}};
    if (i % 2 == 0) {
      t.arrival = ArrivalKind::kOpenLoop;
      t.rate_rps = 20;
    } else {
      t.concurrency = 2;
    }
    c.tenants.push_back(t);
  }
  return c;
}

XavierSim& Sim() {
  static XavierSim* sim = [] {
    PlatformOptions o;
    o.model_lookup = CalibrationLookup();
    return new XavierSim(o);
  }();
  return *sim;
}

void BM_Predict(benchmark::State& state) {
  Configuration c = Mix(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto p = Sim().Predict(c);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_Predict)->DenseRange(1, 6);

// One Evaluate-length simulation (2 s warm-up + 60 s window); counter: simulated requests
// completed per second of benchmark time (one thread: per core).
void BM_SimulateWindow(benchmark::State& state) {
  Configuration c = Mix(static_cast<int>(state.range(0)));
  sim::RunOptions run;
  run.warmup_s = 2;
  run.window_s = 60;
  int64_t requests = 0;
  for (auto _ : state) {
    auto r = Sim().Simulate(c, run);
    for (const auto& t : r->tenants) requests += t.completed;
    benchmark::DoNotOptimize(r);
  }
  state.counters["requests_per_s"] = benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulateWindow)->Arg(2)->Arg(4)->Arg(6)->Unit(benchmark::kMillisecond);

// Baseline: one JSON line of the configuration and its (precomputed) result.
void BM_JsonLineBaseline(benchmark::State& state) {
  Configuration c = Mix(static_cast<int>(state.range(0)));
  Performance p = *Sim().Predict(c);
  for (auto _ : state) {
    std::string line = nlohmann::json{{"config", c}, {"result", p}}.dump();
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_JsonLineBaseline)->DenseRange(1, 6);

}  // namespace
}  // namespace ecomap::platform

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  // Ratios against the baseline of the same run.
  using clock = std::chrono::steady_clock;
  std::printf("\nxavier-sim Predict vs one JSON line (same run, simulated figures):\n");
  for (int n = 1; n <= 6; ++n) {
    auto c = ecomap::platform::Mix(n);
    auto p = *ecomap::platform::Sim().Predict(c);
    const int reps = 50;
    auto t0 = clock::now();
    for (int i = 0; i < reps; ++i) benchmark::DoNotOptimize(ecomap::platform::Sim().Predict(c));
    auto t1 = clock::now();
    for (int i = 0; i < reps; ++i) {
      benchmark::DoNotOptimize(nlohmann::json{{"config", c}, {"result", p}}.dump());
    }
    auto t2 = clock::now();
    double predict_us = std::chrono::duration<double, std::micro>(t1 - t0).count() / reps;
    double json_us = std::chrono::duration<double, std::micro>(t2 - t1).count() / reps;
    std::printf("  %d tenants: predict %.1f us, json line %.1f us, ratio %.2f\n", n, predict_us, json_us,
                predict_us / json_us);
  }
  {
    // Simulated requests per CPU-second of one core, over one 32 s simulation of 4 tenants.
    auto c = ecomap::platform::Mix(4);
    ecomap::platform::sim::RunOptions run;
    run.warmup_s = 2;
    run.window_s = 30;
    auto t0 = clock::now();
    auto r = *ecomap::platform::Sim().Simulate(c, run);
    auto t1 = clock::now();
    int64_t done = 0;
    for (const auto& t : r.tenants) done += t.completed;
    const double s = std::chrono::duration<double>(t1 - t0).count();
    std::printf("  simulated requests per second per core: %.0f (%lld requests, %lld events, %.1f ms)\n",
                static_cast<double>(done) * (32.0 / 30.0) / s, static_cast<long long>(done),
                static_cast<long long>(r.events), s * 1000);
  }
  benchmark::Shutdown();
  return 0;
}
