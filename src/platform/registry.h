// platform/registry.h: choose a Platform (or an Evaluator) by name. Library ecomap_platform: it
// links every driver (platform/jetson/, platform/host/) and the simulator (platform/sim/).
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

// PlatformOptions: platform/platform.h.

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

// Builds an Evaluator (platform/evaluator.h) for the named platform: xavier-sim predicts. NotFound
// for an unknown name; Unimplemented, saying which command to use instead, for the real devices
// (jetson, host), whose tenants run in the engine rather than in the driver.
StatusOr<std::unique_ptr<Evaluator>> MakeEvaluator(const std::string& name,
                                                   const PlatformOptions& options = {});

}  // namespace ecomap::platform
