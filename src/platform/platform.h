// platform/platform.h: one interface for an edge device.
//
// A Platform describes its compute units and power modes (PlatformInfo, platform/types.h), applies
// a mode, sets a continuous power cap where the hardware has one (RAPL on a Linux host), reads
// power (per rail and total, flagged measured / modelled / simulated), models power from the
// engine's busy time where it can (the host), and validates a Configuration. Predicting what a configuration costs is not part of it: that is an Evaluator
// (platform/evaluator.h), which the simulator also is; AsEvaluator() finds it.
//
// Implementations: xavier-sim (a calibrated simulated Jetson AGX Xavier, platform/sim/), jetson
// (the real nvpmodel/INA3221 driver, platform/jetson/) and host (Linux RAPL/cpufreq, or a
// documented power model, platform/host/). Create one by name with MakePlatform()
// (platform/registry.h, library ecomap_platform).
//
//   ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<Platform> p, MakePlatform("xavier-sim", {}));
//   ECOMAP_RETURN_IF_ERROR(p->Validate(c));
//   if (Evaluator* ev = AsEvaluator(p.get())) {                   // nullptr on real devices
//     ECOMAP_ASSIGN_OR_RETURN(Performance perf, ev->Evaluate(c));
//     perf.tenants[0].latency_p95;  perf.power;  perf.provenance == Provenance::kSimulated
//   }
//
// This header is header-only (no library of its own): the simulator (ecomap_platform_sim) and the
// drivers (ecomap_platform) implement it.
//
// Thread-safety: a Platform object may be used by one thread at a time unless its own header says
// more (XavierSim::Predict is const and thread-safe).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "core/time.h"
#include "platform/evaluator.h"
#include "platform/types.h"

namespace ecomap::platform {

// How to build a platform (MakePlatform, platform/registry.h) or the simulator.
struct PlatformOptions {
  // Root directory under which the real drivers read sysfs/procfs/etc files ("/" on a device;
  // a fixture tree in tests). Unused by xavier-sim.
  std::string root = "/";
  // Path of the nvpmodel program for the jetson driver (looked up in PATH when not absolute).
  std::string nvpmodel_path = "nvpmodel";
  // Time source for PowerReading::time; nullptr: the system clock. Must outlive the platform.
  const Clock* clock = nullptr;
  // Simulators: seed of the measurement noise, and its relative standard deviation (0: none).
  // The same seed and the same sequence of calls give the same figures.
  uint64_t seed = 0;
  double noise = 0;
  // Model catalogue used by Validate/Evaluate; empty: the zoo's (DefaultModelLookup()).
  ModelLookup model_lookup;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // What the platform offers. Never changes during the object's life.
  virtual const PlatformInfo& info() const = 0;

  // The power mode the device is in now (nvpmodel -q on a Jetson). Unavailable when the device
  // cannot be queried (the message says why).
  virtual StatusOr<int> CurrentMode() = 0;

  // Switches to the mode with that id. On success the device runs in it (clocks may take a
  // moment to settle on real hardware). NotFound for an unknown id, PermissionDenied when the
  // process may not change it, Unimplemented when the platform cannot switch; on failure the
  // previous mode stays.
  virtual Status ApplyMode(int mode_id) = 0;

  // Reads power now: per rail and total, with the time (from the platform's Clock) and whether
  // it is measured, modelled or simulated. Fails with a message naming the sensor and why.
  virtual StatusOr<PowerReading> ReadPower() = 0;

  // Checks a configuration (see ValidateConfiguration) with this platform's model catalogue.
  virtual Status Validate(const Configuration& config) const {
    return ValidateConfiguration(info(), config, DefaultModelLookup());
  }

  // The platform's own Evaluator when it can predict configurations (simulators), else nullptr
  // (real devices: their tenants run in the engine instead). See AsEvaluator().
  virtual Evaluator* AsEvaluator() { return nullptr; }

  // Sets a continuous power cap where the hardware has one: on a Linux host, RAPL's long-term
  // limit of the packages (split evenly between them). Unimplemented where the device changes
  // power only through its modes (the default: Jetson, the simulator); InvalidArgument for a
  // cap <= 0, not finite, or above what the hardware allows; PermissionDenied without the right.
  virtual Status SetPowerCap(Watts cap) {
    return Unimplemented(info().name + " has no continuous power cap; its power changes through its modes");
  }

  // Modelled power of `mode_id` for the busy time of each unit (keyed by unit id, e.g. from the
  // engine) over `window`, for when ReadPower fails while tenants run in the engine.
  // Unimplemented where the platform has no such model (the default); the Linux host has one.
  virtual StatusOr<PowerReading> ModelPowerFromBusy(int mode_id, const std::map<std::string, Milliseconds>& busy,
                                                    Milliseconds window) const {
    return Unimplemented(info().name + " has no power model of busy time");
  }
};

// The Evaluator of `p` (see Platform::AsEvaluator); nullptr when p is nullptr or cannot predict.
inline Evaluator* AsEvaluator(Platform* p) { return p ? p->AsEvaluator() : nullptr; }

}  // namespace ecomap::platform
