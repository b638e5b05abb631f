// Batch-1 forward latency of zoo models on this host's CPU with one intra-op thread, whole
// model (Forward(0, n)) against the same model run block by block (n calls of Forward(i,
// i+1)) in the same iterations: the ratio is the cost of cutting a model at every block
// boundary (the baseline is the whole-model forward).
//
//   build/src/zoo/zoo_bench            (20 iterations per model; counters are medians)
//
// Measured figures are real (not simulated): the host CPU, libtorch 1.13, random weights.
#include <benchmark/benchmark.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zoo/torch_models.h"

namespace ecomap::zoo {
namespace {

TorchModel& Model(const std::string& name) {
  static std::map<std::string, std::unique_ptr<TorchModel>> models;
  auto it = models.find(name);
  if (it == models.end()) {
    auto m = CreateTorchModel(name, 0);
    if (!m.ok()) {
      fprintf(stderr, "%s\n", m.status().ToString().c_str());
      std::abort();
    }
    it = models.emplace(name, std::move(m).value()).first;
  }
  return *it->second;
}

const char* kModels[] = {"resnet18", "resnet50", "mobilenet_v2", "bert_mini"};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Each iteration runs the whole model once and the block-by-block chain once; the counters
// report both medians (ms) and their ratio, measured in the same run.
void BM_Forward(benchmark::State& state) {
  at::set_num_threads(1);
  TorchModel& m = Model(kModels[state.range(0)]);
  state.SetLabel(std::string(kModels[state.range(0)]) + " batch 1, 1 thread, host CPU");
  at::Tensor x = m.MakeInput(1);
  const int n = m.num_blocks();
  for (int i = 0; i < 3; ++i) m.Forward(0, n, x);  // warm-up
  std::vector<double> whole_ms, blockwise_ms;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    at::Tensor y = m.Forward(0, n, x);
    const auto t1 = std::chrono::steady_clock::now();
    at::Tensor h = x;
    for (int i = 0; i < n; ++i) h = m.Forward(i, i + 1, h);
    const auto t2 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(y.data_ptr());
    benchmark::DoNotOptimize(h.data_ptr());
    whole_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    blockwise_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  const double whole = Median(whole_ms), blockwise = Median(blockwise_ms);
  state.counters["whole_median_ms"] = whole;
  state.counters["blockwise_median_ms"] = blockwise;
  state.counters["blockwise_over_whole"] = whole > 0 ? blockwise / whole : 0;
}

BENCHMARK(BM_Forward)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
}  // namespace ecomap::zoo

BENCHMARK_MAIN();
