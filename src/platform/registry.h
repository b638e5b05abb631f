// platform/registry.h: choose a Platform by name.
//
//   PlatformOptions o;
//   o.root = "/";                                    // fixture trees stand in for "/" in tests
//   StatusOr<std::unique_ptr<Platform>> p = MakePlatform("xavier-sim", o);
//   if (!p.ok()) { std::cerr << p.status().message(); }   // names the known platforms
//
// Known names: "xavier-sim" (simulated Jetson AGX Xavier) and, where their drivers are built,
// "jetson" and "host". Adding a platform is one line in registry.cc's table.
//
// Thread-safety: MakePlatform and PlatformNames may be called from any thread; each call builds
// a fresh object that is not shared.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "platform/platform.h"

namespace ecomap::platform {

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

struct PlatformEntry {
  std::string name;         // "xavier-sim"
  std::string description;  // one line for `ecomap platform list` and error messages
};

// Every registered platform, in registration order.
std::vector<PlatformEntry> PlatformNames();

// Builds the named platform. NotFound (listing the known names) for an unknown name; otherwise
// whatever the platform's constructor reports, e.g. Unavailable "jetson: /etc/nvpmodel.conf not
// found under root '/': this is not a Jetson (use --platform xavier-sim or host)".
StatusOr<std::unique_ptr<Platform>> MakePlatform(const std::string& name,
                                                 const PlatformOptions& options = {});

}  // namespace ecomap::platform
