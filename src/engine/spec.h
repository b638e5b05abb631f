// engine/spec.h: what the execution engine runs, as plain values (no libtorch, no threads).
//
// A PipelineSpec says which DNN variant a tenant serves, its SLO, where its requests come from
// and how its model is cut into a pipeline of contiguous block ranges, one per compute unit.
// An EngineSpec is a whole mix plus the set of online units. Policy, search and service code
// build these without linking libtorch; the engine (engine/engine.h) executes them.
//
//   StatusOr<std::vector<PipelineSpec>> t =
//       ParseTenantsSpec("resnet18@cpu0,rate=20,slo=100;mobilenet_v2@0-8:cpu0|8-:cpu1,closed=2");
//   Status s = ValidateEngineSpec(spec, find_model, HostUnits());   // before anything starts
//
// Compact syntax (documented for users in `ecomap engine run --help` and the README):
//
//   SPEC    := TENANT (';' TENANT)*
//   TENANT  := MODEL '@' STAGES (',' OPTION)*
//   STAGES  := UNIT                       all blocks on one unit
//            | STAGE ('|' STAGE)*         a pipeline, stages in block order
//   STAGE   := RANGE ':' UNIT
//   RANGE   := [BEGIN] '-' [END]          half-open block range [BEGIN, END); BEGIN defaults
//                                         to 0, END to the model's number of blocks
//   OPTION  := name=NAME                  tenant name (default: the model name, "-2", "-3"
//                                         appended for repeats)
//            | rate=R                     open-loop Poisson arrivals, R requests/s (> 0)
//            | closed=N                   closed loop, N requests outstanding (>= 1)
//            | slo=MS                     latency bound in ms (> 0; default 200)
//            | pct=P                      percentile the bound applies to (default 95)
//            | min_rps=R                  optional minimum throughput, requests/s
//            | queue=N                    capacity of each stage queue (default 64)
//            | seed=S                     seed of the model weights and arrivals
//            | external=1                 no generator: requests come from clients
//                                         (Engine::Submit); rate=/closed= become hints
//   A tenant with neither rate= nor closed= runs closed=1.
//
// JSON form (a file given to `--tenants-file`, also produced by ToJson):
//   {"online_units": ["cpu0","cpu1"],            // optional; default: every unit
//    "tenants": [{"name": "cam", "model": "resnet18",
//                 "stages": [{"begin": 0, "end": 5, "unit": "cpu0"},
//                            {"begin": 5, "end": 10, "unit": "cpu1"}],   // "end" -1 = last
//                 "source": {"kind": "poisson", "rate_rps": 20}        // or
//                           {"kind": "closed", "outstanding": 2},
//                           (either with "external": true: no generator, a planning hint)
//                 "slo": {"latency_ms": 100, "percentile": 95, "min_throughput_rps": 0},
//                 "queue_capacity": 64, "seed": 1}]}
//   A bare array of tenant objects is accepted too. Unknown keys are an error.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/units.h"
#include "zoo/model.h"

namespace ecomap::engine {

// A compute unit the engine can place a stage on. On a Linux host the units are the CPU cores
// this process may run on ("cpu0", "cpu1", ...); worker threads of a stage are pinned to it.
struct UnitInfo {
  std::string name;   // "cpu0"
  int cpu_id = -1;    // the Linux CPU number the worker is pinned to; -1: not pinned
};

// The CPU cores this process may run on (sched_getaffinity), as units "cpuN".
std::vector<UnitInfo> HostUnits();

// Stage = blocks [begin, end) of the tenant's model on one unit. end == kToEnd means "up to
// the last block" and is resolved against the model by ResolveStages.
struct StageSpec {
  static constexpr int kToEnd = -1;
  int begin = 0;
  int end = kToEnd;
  std::string unit;
  bool operator==(const StageSpec&) const = default;
};

struct SourceSpec {
  enum class Kind { kPoisson, kClosed };
  Kind kind = Kind::kClosed;
  double rate_rps = 0;     // kPoisson: mean arrival rate, requests per second
  int outstanding = 1;     // kClosed: requests in flight at all times
  // External: no generator runs; requests come only from clients (Engine::Submit), and
  // kind/rate_rps/outstanding are planning hints (the load the controller plans for).
  // Engine::Submit works on every tenant; with external = false its requests join the
  // generated ones.
  bool external = false;
  bool operator==(const SourceSpec&) const = default;
};

struct SloSpec {
  Milliseconds latency_bound{200};  // bound on the `percentile` latency
  double percentile = 95;           // in (0, 100)
  double min_throughput_rps = 0;    // 0: no throughput requirement
  bool operator==(const SloSpec&) const = default;
};

// One tenant as the engine runs it: its pipeline (model split into stages on units), its
// request source, SLO and queue. (The tenant as an operator declares it, with a family of
// variants and an SLO, is policy::TenantSpec; engine/configuration_adapter.h turns a decision
// into these.)
struct PipelineSpec {
  std::string name;                 // unique within an engine
  std::string model;                // zoo name, e.g. "resnet18"
  std::vector<StageSpec> stages;    // contiguous, in block order, covering every block
  SourceSpec source;
  SloSpec slo;
  int queue_capacity = 64;          // per stage queue; arrivals beyond it are rejected
  uint64_t seed = 0;                // model weights and arrival process
  bool operator==(const PipelineSpec&) const = default;
};

struct EngineSpec {
  std::vector<std::string> online_units;  // empty: every unit of the engine
  std::vector<PipelineSpec> tenants;
};

// Finds a model's descriptor by name; nullptr when unknown (zoo::FindModel has this shape).
using ModelLookup = std::function<const zoo::ModelInfo*(const std::string&)>;

// Parses the compact syntax above. Errors name the bad token and the expected form.
// Stage ends are left as written (kToEnd when omitted); names are filled in (defaults,
// "-2" suffixes for repeated models). `base_seed` seeds tenants that give no seed= (tenant i
// gets base_seed + i).
StatusOr<std::vector<PipelineSpec>> ParseTenantsSpec(const std::string& text, uint64_t base_seed = 0);

// JSON form, see above. `what` names the source in errors (e.g. the file name).
StatusOr<EngineSpec> EngineSpecFromJson(const nlohmann::json& j, const std::string& what,
                                        uint64_t base_seed = 0);
StatusOr<EngineSpec> LoadEngineSpecFile(const std::string& path, uint64_t base_seed = 0);
nlohmann::json ToJson(const PipelineSpec& t);
nlohmann::json ToJson(const EngineSpec& s);
// The compact form of one tenant's pipeline: "0-5:cpu0|5-10:cpu1".
std::string FormatStages(const std::vector<StageSpec>& stages);
// The compact form of a whole tenant (parseable by ParseTenantsSpec).
std::string FormatTenant(const PipelineSpec& t);

// Checks one tenant against the models and the online units; replaces kToEnd by the model's
// block count in `t`. Fails (InvalidArgument / NotFound) naming the tenant and the bad value:
// unknown model, no stages, empty range, range outside the model, overlap, gap, not covering
// all blocks, out-of-order stages, unknown or offline unit, rate <= 0, closed < 1, slo <= 0,
// percentile outside (0,100), min_rps < 0, queue < 1, closed > queue.
Status ValidateTenant(PipelineSpec& t, const ModelLookup& find_model,
                      const std::vector<UnitInfo>& units,
                      const std::vector<std::string>& online_units);

// Validates every tenant, duplicate names and the online-unit list (each must exist; empty
// means all). Resolves kToEnd in place. Nothing is started by validation.
Status ValidateEngineSpec(EngineSpec& spec, const ModelLookup& find_model,
                          const std::vector<UnitInfo>& units);

}  // namespace ecomap::engine
