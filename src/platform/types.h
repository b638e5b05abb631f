// platform/types.h: the value types that describe a platform, a multi-tenant mapping on it and
// what it costs (latency, throughput, power), with their JSON. Library ecomap_platform_types
// (core, zoo and nlohmann_json only): no device, no driver, no simulator. Code that only needs
// these values (the search, the estimator, the policy) includes this header, not platform.h.
//
// A platform has compute units (a CPU, a GPU, accelerators such as NVDLA engines) and power modes
// (nvpmodel modes on a Jetson, cpufreq/online-core levels on a Linux host). A Configuration is a
// power mode plus every tenant's model split into contiguous pipeline stages, one compute unit per
// stage; a Performance is what it costs.
//
//   Configuration c;
//   c.power_mode = 2;                                             // MODE_15W
//   c.tenants.push_back({.name = "cam0", .model = "resnet50",
//                        .stages = {{0, 3, "DLA0"}, {3, 7, "GPU"}},   // resnet50: 7 blocks
//                        .arrival = ArrivalKind::kOpenLoop, .rate_rps = 20});
//   ECOMAP_RETURN_IF_ERROR(ValidateConfiguration(info, c, DefaultModelLookup()));
//
// All the types below are plain values with JSON round-trip (to_json/from_json found by ADL, for
// nlohmann::json); the profiler writes {"config": Configuration, "result": Performance} lines.
// The JSON schema is documented next to each field (key names are the field names unless noted).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "zoo/model.h"

namespace ecomap::platform {

// ---------------------------------------------------------------------------------------------
// Compute units and power modes.

enum class UnitKind { kCpu, kGpu, kDla };
const char* UnitKindName(UnitKind kind);                    // "cpu", "gpu", "dla"
StatusOr<UnitKind> ParseUnitKind(const std::string& name);  // accepts those names

// Where a figure comes from. Every printed figure that is not kMeasured says so.
enum class Provenance {
  kMeasured,   // read from real sensors / counters (INA3221 rails, RAPL) or the real engine
  kModelled,   // a documented model driven by real activity (e.g. host power from busy time)
  kSimulated,  // produced by a simulator (xavier-sim); nothing ran
};
const char* ProvenanceName(Provenance p);  // "measured", "modelled", "simulated"
StatusOr<Provenance> ParseProvenance(const std::string& name);

struct ComputeUnit {
  std::string id;  // unique on the platform: "CPU", "GPU", "DLA0", "DLA1"; host: "cpu0"...
  UnitKind kind = UnitKind::kCpu;
  std::string description;       // "8-core NVIDIA Carmel ARMv8.2 (4 clusters of 2)"
  int cores = 1;                 // hardware cores of the unit (CPU cores; 1 for GPU/DLA)
  double max_frequency_mhz = 0;  // the highest clock in any mode (0 when unknown)
  // Block kinds the unit runs itself. Empty means "every kind". On a DLA unit a block also needs
  // its BlockDescriptor::dla_supported flag; otherwise it runs on the fallback unit.
  std::vector<zoo::BlockKind> native_kinds;
  // Unit that runs the blocks this unit does not support (TensorRT's GPU fallback for a DLA);
  // empty when every kind is native. A block of a stage on this unit whose kind is not native
  // runs on the fallback unit, with a transfer each way.
  std::string fallback_unit;

  // True when `kind` is in native_kinds (or native_kinds is empty).
  bool RunsNatively(zoo::BlockKind kind) const;

  bool operator==(const ComputeUnit&) const = default;
};

struct PowerMode {
  int id = 0;                   // nvpmodel id on a Jetson; level index on a host
  std::string name;             // "MAXN", "MODE_15W"
  std::optional<Watts> budget;  // the mode's nominal power budget; nullopt: none (MAXN)
  // Per-unit frequency cap in MHz, keyed by ComputeUnit::id. A unit absent from the map is not
  // capped by this mode (runs up to its max_frequency_mhz). For the CPU: the cap of every core.
  std::map<std::string, double> max_frequency_mhz;
  int online_cpu_cores = 0;           // CPU cores online in this mode (0: unknown/all)
  std::optional<double> emc_max_mhz;  // memory-controller (EMC) clock cap; nullopt: none/unknown

  bool operator==(const PowerMode&) const = default;
};

// What a platform is, for `ecomap platform show` and for the search's decision space.
struct PlatformInfo {
  std::string name;                               // registry name: "xavier-sim", "jetson", "host"
  std::string description;                        // one line
  Provenance provenance = Provenance::kMeasured;  // of its power readings and evaluations
  std::vector<ComputeUnit> units;
  std::vector<PowerMode> modes;  // ordered by id
  int default_mode = 0;          // the mode the device boots in

  // nullptr when absent.
  const ComputeUnit* FindUnit(const std::string& id) const;
  const PowerMode* FindMode(int id) const;
  const PowerMode* FindModeByName(const std::string& name) const;
  // "CPU, GPU, DLA0, DLA1" (for error messages).
  std::string UnitIdList() const;
  std::string ModeList() const;  // "0 (MAXN), 1 (MODE_10W), ..."

  bool operator==(const PlatformInfo&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Power readings.

struct RailPower {
  std::string name;  // "GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V", "package-0"
  Watts power{0};
  std::optional<double> voltage_v;  // where the sensor reports it
  std::optional<double> current_a;

  bool operator==(const RailPower&) const = default;
};

struct PowerReading {
  TimePoint time{};              // when the reading was taken (the platform's Clock)
  std::vector<RailPower> rails;  // may be empty when only a total exists
  Watts total{0};                // device total (the sum of the rails that make it up)
  Provenance provenance = Provenance::kMeasured;

  bool operator==(const PowerReading&) const = default;
};

// ---------------------------------------------------------------------------------------------
// A mapping of tenants onto units under a power mode.

// Blocks [begin_block, end_block) of the tenant's model, on one unit.
struct Stage {
  int begin_block = 0;
  int end_block = 0;
  std::string unit;  // ComputeUnit::id

  bool operator==(const Stage&) const = default;
};

// Builds stages from cut points: `cut_points` are the block indices where a new stage starts
// (strictly increasing, each in (0, num_blocks)), `units` has cut_points.size() + 1 entries.
// InvalidArgument naming the bad value otherwise.
StatusOr<std::vector<Stage>> StagesFromCuts(int num_blocks, const std::vector<int>& cut_points,
                                            const std::vector<std::string>& units);
// The inverse: the begin_block of every stage but the first.
std::vector<int> CutPoints(const std::vector<Stage>& stages);

enum class ArrivalKind {
  kClosedLoop,  // `concurrency` requests always outstanding: a new one is sent when one completes
  kOpenLoop,    // Poisson arrivals at `rate_rps` requests per second
};
const char* ArrivalKindName(ArrivalKind k);  // "closed", "open"
StatusOr<ArrivalKind> ParseArrivalKind(const std::string& name);

struct TenantConfig {
  std::string name;           // unique within a Configuration; empty: "t<index>"
  std::string model;          // zoo model name, e.g. "resnet50"
  std::vector<Stage> stages;  // contiguous, cover every block of the model
  ArrivalKind arrival = ArrivalKind::kClosedLoop;
  double rate_rps = 0;  // open loop: mean arrival rate (req/s), > 0
  int concurrency = 1;  // closed loop: requests outstanding, >= 1

  bool operator==(const TenantConfig&) const = default;
};

struct Configuration {
  int power_mode = 0;  // PowerMode::id
  // Optional per-unit clocks below the mode's caps (MHz, keyed by unit id); a unit absent runs
  // at its cap. Lets a search explore DVFS inside a mode; Validate rejects values above the cap.
  std::map<std::string, double> frequency_mhz;
  std::vector<TenantConfig> tenants;

  bool operator==(const Configuration&) const = default;
};

// ---------------------------------------------------------------------------------------------
// What a configuration costs.

struct TenantPerformance {
  std::string name;             // TenantConfig::name (after defaulting)
  Milliseconds latency_p50{0};  // JSON: latency_p50_ms; request latency, queueing included
  Milliseconds latency_p95{0};  // JSON: latency_p95_ms
  double throughput_rps = 0;    // completed requests per second
  // Open loop only: the offered rate exceeds what the pipeline can serve; the queue grows
  // without bound and the latencies are those seen over the evaluation window.
  bool saturated = false;

  bool operator==(const TenantPerformance&) const = default;
};

struct Performance {
  std::vector<TenantPerformance> tenants;          // same order as Configuration::tenants
  Watts power{0};                                  // JSON: power_w; device total, average over the window
  std::map<std::string, double> unit_utilisation;  // unit id -> busy fraction in [0, 1]
  double emc_utilisation = 0;                      // memory bandwidth demand / EMC bandwidth, may exceed 1
  Provenance provenance = Provenance::kMeasured;
  Seconds window{0};  // JSON: window_s; the measurement (or modelled) window

  bool operator==(const Performance&) const = default;
};

// Resolves a zoo model name to its descriptors; nullptr when unknown. The default is
// zoo::FindModel; tests may pass their own catalogue. The result must outlive the call.
using ModelLookup = std::function<const zoo::ModelInfo*(const std::string&)>;
ModelLookup DefaultModelLookup();

// Checks a configuration against a platform and a model catalogue: the mode exists; at least
// one tenant; tenant names unique; every model is known; stages non-empty, contiguous, cover
// [0, num_blocks) of the model; every stage's unit exists and can run (natively or through its
// fallback unit) every block of the stage; open loop has rate_rps > 0 and finite; closed loop
// has concurrency >= 1; frequency overrides name existing units and are in (0, cap].
// InvalidArgument / NotFound with a message naming the tenant, the bad value and the fix.
Status ValidateConfiguration(const PlatformInfo& info, const Configuration& config,
                             const ModelLookup& lookup);

// ---------------------------------------------------------------------------------------------
// JSON (nlohmann). from_json throws nlohmann::json::exception on missing keys or wrong types;
// the *FromJson helpers catch that and return InvalidArgument naming the problem.

void to_json(nlohmann::json& j, const ComputeUnit& v);
void from_json(const nlohmann::json& j, ComputeUnit& v);
void to_json(nlohmann::json& j, const PowerMode& v);
void from_json(const nlohmann::json& j, PowerMode& v);
void to_json(nlohmann::json& j, const PlatformInfo& v);
void from_json(const nlohmann::json& j, PlatformInfo& v);
void to_json(nlohmann::json& j, const RailPower& v);
void from_json(const nlohmann::json& j, RailPower& v);
void to_json(nlohmann::json& j, const PowerReading& v);  // time as ISO-8601 UTC
void from_json(const nlohmann::json& j, PowerReading& v);
void to_json(nlohmann::json& j, const Stage& v);  // {"begin":0,"end":3,"unit":"GPU"}
void from_json(const nlohmann::json& j, Stage& v);
void to_json(nlohmann::json& j, const TenantConfig& v);  // arrival "closed"|"open"
void from_json(const nlohmann::json& j, TenantConfig& v);
void to_json(nlohmann::json& j, const Configuration& v);
void from_json(const nlohmann::json& j, Configuration& v);
void to_json(nlohmann::json& j, const TenantPerformance& v);
void from_json(const nlohmann::json& j, TenantPerformance& v);
void to_json(nlohmann::json& j, const Performance& v);
void from_json(const nlohmann::json& j, Performance& v);

StatusOr<Configuration> ConfigurationFromJson(const nlohmann::json& j);
StatusOr<Performance> PerformanceFromJson(const nlohmann::json& j);
StatusOr<PlatformInfo> PlatformInfoFromJson(const nlohmann::json& j);

}  // namespace ecomap::platform
