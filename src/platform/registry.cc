#include "platform/registry.h"

#include <utility>

#include "platform/jetson_platform.h"
#include "platform/linux_host_platform.h"
#include "platform/xavier_sim.h"

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
    {"xavier-sim", "simulated NVIDIA Jetson AGX Xavier (calibrated analytical model)", &MakeXavierSim},
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

}  // namespace ecomap::platform
