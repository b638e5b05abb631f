// Engine throughput against a plain libtorch forward loop of the same model, threads and CPU
// (see engine/overhead.h), plus the models' single-thread latencies. One benchmark per model;
// its counters are medians over ECOMAP_BENCH_REPEATS (default 5) pairs of
// ECOMAP_BENCH_SECONDS-long (default 3) runs, measured in the same process run:
//   ratio      engine inferences/s / plain inferences/s (goal >= 0.97)
//   plain_rps, engine_rps, fwd_p50_ms, fwd_p95_ms (one plain forward), e2e_p50_ms (engine),
//   cpu_ratio  plain CPU ms per inference / engine CPU ms per inference (robust to other load).
// The same figures: `ecomap engine bench`.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "engine/overhead.h"

namespace {

double EnvDouble(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : fallback;
}

void BM_EngineVsPlain(benchmark::State& state, const char* model) {
  ecomap::engine::OverheadOptions o;
  o.model = model;
  o.seconds = EnvDouble("ECOMAP_BENCH_SECONDS", 3);
  o.repeats = static_cast<int>(EnvDouble("ECOMAP_BENCH_REPEATS", 5));
  o.intra_op_threads = static_cast<int>(EnvDouble("ECOMAP_BENCH_THREADS", 1));
  for (auto _ : state) {
    auto r = ecomap::engine::MeasureEngineOverhead(o);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    state.counters["ratio"] = r->ratio_median;
    state.counters["plain_rps"] = r->plain_rps_median;
    state.counters["engine_rps"] = r->engine_rps_median;
    state.counters["fwd_p50_ms"] = r->plain_p50_ms;
    state.counters["fwd_p95_ms"] = r->plain_p95_ms;
    state.counters["e2e_p50_ms"] = r->engine_p50_ms;
    state.counters["cpu_ratio"] = r->cpu_ratio_median;
  }
}

BENCHMARK_CAPTURE(BM_EngineVsPlain, resnet18, "resnet18")->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EngineVsPlain, resnet50, "resnet50")->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_EngineVsPlain, mobilenet_v2, "mobilenet_v2")
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
