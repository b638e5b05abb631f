// engine/overhead.h: how much throughput the engine costs, against a plain libtorch loop.
//
// For one model, alternately runs (a) a plain loop of Forward(0, n, x) on one thread pinned to
// a CPU, with `intra_op_threads` libtorch threads, and (b) the engine with one tenant of that
// model: one stage on the same CPU, closed loop with `outstanding` requests, the same threads.
// Each run warms up, then counts inferences for `seconds`. The ratio engine/plain is taken per
// pair of runs; the reported figures are medians over `repeats` pairs (the machine is shared,
// so single runs are noisy).
//
//   auto r = MeasureEngineOverhead({.model = "resnet18", .seconds = 3, .repeats = 5});
//   printf("%.3f\n", r->ratio_median);   // >= 0.97 is the goal
//
// Thread-safety: runs its own threads; call from one thread at a time.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ecomap::engine {

struct OverheadOptions {
  std::string model = "resnet18";
  double seconds = 3;         // measured time per run (after warm-up)
  double warmup_s = 0.5;
  int repeats = 5;            // pairs of runs
  int intra_op_threads = 1;
  int outstanding = 2;        // engine closed loop
  int cpu = -1;               // CPU to pin both to; -1: the first CPU of this process
  uint64_t seed = 1;
};

struct OverheadResult {
  OverheadOptions options;
  std::vector<double> plain_rps, engine_rps, ratios;  // one per repeat
  double plain_rps_median = 0;
  double engine_rps_median = 0;
  double ratio_median = 0;    // median of the per-pair ratios engine / plain
  double plain_p50_ms = 0;    // plain loop: latency of one forward (all repeats pooled)
  double plain_p95_ms = 0;
  double engine_p50_ms = 0;   // engine: arrival to completion, median over repeats (queueing
  double engine_p95_ms = 0;   // behind `outstanding`-1 others included)
  // The same comparison in CPU time, robust when other processes share the CPUs: process CPU
  // milliseconds per inference in the measured window (plain: the loop; engine: workers,
  // source and queues together), and the median per-pair ratio plain / engine.
  std::vector<double> cpu_ratios;
  double plain_cpu_ms_per_inference = 0;
  double engine_cpu_ms_per_inference = 0;
  double cpu_ratio_median = 0;
};

StatusOr<OverheadResult> MeasureEngineOverhead(const OverheadOptions& options);

nlohmann::json ToJson(const OverheadResult& r);

}  // namespace ecomap::engine
