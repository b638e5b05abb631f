// engine/configuration_adapter.h: the one translation of a platform::Configuration (a power mode
// and every tenant's stages and load, what controllers decide and profilers sample) into the
// engine's EngineSpec. The serve daemon (service/) and the host evaluator (profiler/) both run
// configurations through it; what differs between them is in the options.
//
//   ConfigurationAdapterOptions o;
//   o.map_unit = [](const std::string& u) { return u == "GPU" ? "cpu0" : u; };
//   EngineSpec spec = ToEngineSpec(config, o);
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/spec.h"
#include "platform/types.h"

namespace ecomap::engine {

struct ConfigurationAdapterOptions {
  // The engine unit that runs a stage on a platform unit; empty: the unit of the same name.
  std::function<std::string(const std::string& platform_unit)> map_unit;
  // Merge neighbouring stages of a tenant that land on the same engine unit into one stage.
  bool merge_stages_on_one_unit = false;
  // Each tenant's queue holds max(queue_capacity, its closed loop's outstanding requests).
  int queue_capacity = 16;
  // The seed of tenant `index`'s arrival sequence; empty: index + 1.
  std::function<uint64_t(size_t index, const std::string& name)> seed;
  // The SLO of a tenant, by name; empty or nullopt: the engine's default SloSpec.
  std::function<std::optional<SloSpec>(const std::string& name)> slo;
};

// One engine tenant per configured tenant, in order: name (empty: "t<index>"), model, stages
// (units mapped, optionally merged), source (open loop: Poisson at rate_rps; closed loop:
// max(1, concurrency) outstanding), queue capacity, seed and SLO from the options. The
// configuration is taken as validated (platform::ValidateConfiguration); the engine's own
// validation names what it cannot run.
EngineSpec ToEngineSpec(const platform::Configuration& config, const ConfigurationAdapterOptions& options);

}  // namespace ecomap::engine
