// profiler/host_evaluator.h: measure a configuration on this machine with the real engine.
//
// For each configuration: the tenants are started in the execution engine (real libtorch
// models, one pinned worker per stage), run for `warmup` (discarded, models warm their caches),
// then measured for `window`: per-tenant p50/p95 latency (arrival to completion, queueing
// included) and throughput are measured; device power is modelled: the engine's per-unit busy
// time in the window through the host power model (platform/host/power_model.h), whether or not the
// machine has RAPL counters. Performance::provenance is kMeasured (latency/throughput);
// power_provenance() is kModelled.
//
//   auto ev = HostEvaluator::Create({});
//   StatusOr<platform::Performance> p = (*ev)->Evaluate(config);
//
// A platform::Evaluator (platform/evaluator.h), like the simulator: code that evaluates
// configurations takes either.
//
// Thread-safety: one thread at a time (it owns an engine per call).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "platform/evaluator.h"
#include "platform/types.h"

namespace ecomap::platform {
class LinuxHostPlatform;
}
namespace ecomap::engine {
class ExecutorFactory;
}

namespace ecomap::profiler {

struct HostEvaluatorOptions {
  Seconds window{2.0};       // measured window per configuration
  Seconds warmup{0.5};       // run before the window, not measured
  std::string root = "/";    // sysfs/procfs root of the host platform
  int queue_capacity = 16;   // per-stage queue; an overloaded open-loop tenant rejects beyond it
  // Adaptive window: a percentile of a handful of requests is mostly noise, so the window may go
  // on until every tenant completed `min_completions` requests in it, up to `max_window`
  // (0: the fixed `window`). The window actually measured is Performance::window.
  int min_completions = 0;
  // Open-loop tenants may need more: a Poisson-fed queue's percentile converges far more slowly
  // than a closed loop's (-1: min_completions). Needs min_completions > 0.
  int min_open_completions = -1;
  Seconds max_window{0};
  // Saturation: an open-loop tenant is saturated when its queue overflowed (a rejected request)
  // or when its backlog (admitted, not finished) grew in the window by more than
  // max(kMinBacklogGrowth, backlog_growth x the window's arrivals): a stable queue's backlog
  // returns to where it was, an overloaded one grows by (arrival - service rate) x window. The
  // latency of such a tenant is only what the window saw, so it is not a label (0: overflow only).
  double backlog_growth = 0.1;
};

// Requests of backlog growth below which a window is never called saturated (queue noise).
inline constexpr int kMinBacklogGrowth = 5;

class HostEvaluator final : public platform::Evaluator {
 public:
  static StatusOr<std::unique_ptr<HostEvaluator>> Create(const HostEvaluatorOptions& options);
  ~HostEvaluator() override;

  const platform::PlatformInfo& info() const override;
  // Models light enough to profile many configurations on a small CPU: five vision models and
  // the two smallest BERTs (the serve demo's text tenant).
  std::vector<std::string> DefaultModels() const;
  platform::Provenance power_provenance() const;

  // Validates, runs and measures `config`. The mode is not applied (the host driver needs root
  // and hardware support); the power model uses the mode's online cores and clock.
  StatusOr<platform::Performance> Evaluate(const platform::Configuration& config) override;

 private:
  HostEvaluator() = default;
  HostEvaluatorOptions options_;
  std::unique_ptr<platform::LinuxHostPlatform> host_;
  std::shared_ptr<engine::ExecutorFactory> factory_;
  uint64_t evaluations_ = 0;
};

}  // namespace ecomap::profiler
