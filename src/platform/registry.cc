#include "platform/registry.h"

#include <utility>

#include "platform/jetson/jetson_platform.h"
#include "platform/host/linux_host_platform.h"
#include "platform/sim/xavier_sim.h"

namespace ecomap::platform {
namespace {

using Factory = StatusOr<std::unique_ptr<Platform>> (*)(const PlatformOptions&);

struct Registration {
  const char* name;
  const char* description;
  Factory factory;
};

StatusOr<std::unique_ptr<Platform>> MakeXavierSim(const PlatformOptions& options) {
  return std::unique_ptr<Platform>(std::make_unique<XavierSim>(options));
}

// The table of platforms. To add one: a factory function and one line here.
const Registration kPlatforms[] = {
    {"xavier-sim", "simulated NVIDIA Jetson AGX Xavier (request-level discrete-event simulation, calibrated)", &MakeXavierSim},
    {"jetson", "real NVIDIA Jetson: nvpmodel modes, INA3221 rails (measured)", &MakeJetsonPlatform},
    {"host", "this Linux machine: cpufreq/online-core levels, RAPL power or a modelled estimate", &MakeHostPlatform},
};

}  // namespace

std::vector<PlatformEntry> PlatformNames() {
  std::vector<PlatformEntry> out;
  for (const Registration& r : kPlatforms) out.push_back(PlatformEntry{r.name, r.description});
  return out;
}

StatusOr<std::unique_ptr<Platform>> MakePlatform(const std::string& name,
                                                 const PlatformOptions& options) {
  for (const Registration& r : kPlatforms) {
    if (name == r.name) return r.factory(options);
  }
  std::string known;
  for (const Registration& r : kPlatforms) known += (known.empty() ? "" : ", ") + std::string(r.name);
  return NotFound("unknown platform '" + name + "': use one of " + known);
}

StatusOr<std::unique_ptr<Evaluator>> MakeEvaluator(const std::string& name, const PlatformOptions& options) {
  if (name == "xavier-sim") return std::unique_ptr<Evaluator>(std::make_unique<XavierSim>(options));
  if (name == "jetson") return Unimplemented(kJetsonCannotEvaluate);
  if (name == "host") return Unimplemented(kHostCannotEvaluate);
  StatusOr<std::unique_ptr<Platform>> p = MakePlatform(name, options);  // NotFound lists the names
  if (!p.ok()) return p.status();
  return Unimplemented(name + ": this platform cannot predict configurations; use --platform xavier-sim");
}

}  // namespace ecomap::platform
