// platform/evaluator.h: what a configuration costs, predicted (the simulator) or run (the host
// engine, profiler/host_evaluator.h). Header-only, in ecomap_platform_types; torch-free.
//
//   Evaluator& ev = sim;                        // platform::XavierSim (platform/sim/xavier_sim.h)
//   ECOMAP_ASSIGN_OR_RETURN(Performance perf, ev.Evaluate(config));
//
// A Platform that can predict hands out its Evaluator through AsEvaluator() (platform/platform.h);
// MakeEvaluator() (platform/registry.h) builds one by platform name.
//
// Thread-safety: an Evaluator may be used by one thread at a time unless its own header says more.
#pragma once

#include "core/status.h"
#include "platform/types.h"

namespace ecomap::platform {

class Evaluator {
 public:
  virtual ~Evaluator() = default;

  // The platform whose configurations it evaluates. Never changes during the object's life.
  virtual const PlatformInfo& info() const = 0;

  // Runs or predicts the configuration: per-tenant latency and throughput, device power and
  // per-unit utilisation, with their provenance. Validates first and returns its error. May
  // change the platform's current mode to config.power_mode.
  virtual StatusOr<Performance> Evaluate(const Configuration& config) = 0;
};

}  // namespace ecomap::platform
