// service/config.h: the configuration of `ecomap serve`, read from a TOML file.
//
// The file has a [serve] table (plus the carbon part's optional [carbon.*] tables for live
// providers, see carbon/live_config.h). data/serve/ecomap.toml is the commented example;
// every key and its default:
//
//   [serve]
//   platform = "host"              # "host" | "xavier-sim" | "jetson" (platform/registry.h)
//   interval_s = 60                # control interval, seconds (0.2 .. 86400)
//   data_dir = "ecomap-data"       # history.sqlite lives here; relative to the config file
//   seed = 1                       # engine weights/arrivals and controller seed
//   drain_ms = 2000                # drain deadline at shutdown and tenant removal
//   power_knob = "cpu-share"       # how a decision's power mode takes effect (service/power_knob.h):
//                                  # "mode" (the platform's modes; default except on host, whose
//                                  # modes hot-unplug cores / cap clocks of the whole machine),
//                                  # "cpu-share" (host: the daemon's own CPU share; host default),
//                                  # "none" (the chosen mode is reported, not applied)
//   load = "generated"             # where requests come from: "generated" (each tenant's declared
//                                  # rate/concurrency drives an in-engine generator; clients may
//                                  # infer too) | "clients" (only inference clients, the KServe v2
//                                  # REST endpoints; declared rates are planning hints)
//
//   [serve.api]
//   listen = "127.0.0.1:8470"      # port 0: any free port (printed at start)
//   token = ""                     # bearer token for mutating calls; ECOMAP_API_TOKEN wins
//   max_body_bytes = 65536         # the operator API; the v2 infer endpoint takes up to
//                                  # max_infer_body_bytes
//   max_infer_body_bytes = 67108864
//   rate_limit_rps = 20000         # all requests, token bucket (burst = 1 s worth)
//   mutating_rate_limit_rps = 5    # POST/DELETE, token bucket (burst 10)
//
//   [serve.grpc]                   # the Open Inference Protocol over gRPC (service/grpc_server.h)
//   listen = ""                    # HOST:PORT, e.g. "127.0.0.1:8471"; empty: no gRPC server
//   max_message_bytes = 67108864
//
//   [serve.carbon]
//   provider = "trace"             # "trace" | "electricitymaps" | "watttime" | "ukgrid"
//   trace = "data/carbon/ES_2023_hourly.csv"   # replayed; the live providers' last fallback
//   column = "direct"              # "direct" | "lca" (Electricity Maps data-portal CSVs)
//   speedup = 1.0                  # trace seconds per wall second (provider = "trace")
//   start = ""                     # trace time at start-up; empty: same time of year as now
//   loop = true                    # wrap around at the trace's end
//
//   [serve.controller]
//   name = "ecomap"                # policy/controller.h names
//   algorithm = "lamcts"  budget_evals = 300  max_stages = 2  slo_breach_intervals = 2
//   seed = 1  clover_lambda = 0.5
//   accuracy_price = 0.05          # ecomap: price of a point of accuracy against energy; 0: off
//   threshold_depth = 0.5          # ecomap: how far down the budget range the dirtiest hour cuts
//   predictor = "analytic"         # "analytic" (fitted on profile) | "simulator" (xavier-sim;
//                                  # the default there)
//   profile = "data/profiles/host.jsonl"   # samples the analytic predictor is fitted on
//
//   [[serve.tenants]]               # one table per tenant
//   name = "cam"                   # unique
//   family = "mobilenet"           # zoo family
//   variants = ["mobilenet_v3_small"]   # optional subset of the family, increasing accuracy
//   slo_ms = 200                   # p95 latency bound, > 0
//   rate_rps = 10                  # open-loop Poisson arrivals ...
//   concurrency = 2                # ... or closed loop (exactly one of the two)
//   min_throughput_rps = 0
//
//     [[serve.tenants.models]]       # optional: the tenant's own TorchScript models (its
//     name = "doorbell_small"        # variants then, in increasing accuracy, unless listed);
//     torchscript = "models/doorbell_small.pt"   # saved by torch.jit.save; required
//     accuracy = 81.5                # declared, in [0, 100]; required
//     input_shape = [1, 3, 224, 224] # batch 1 first; required (not recorded in the file)
//     input_dtype = "float32"        # "float32" | "int64"
//     split = "auto"                 # "auto" | "children" | "none" (engine/torchscript_model.h)
//     accuracy_metric = "..."        # what accuracy measures (free text)
//   The family of a tenant with models is its own (not a built-in zoo family); the daemon
//   loads and measures the files at start-up, SIGHUP or POST /tenants (docs/serve.md).
//
// Relative paths are resolved against the config file's folder, then (for the bundled data)
// against the repository's data folder. Errors name FILE:LINE, the key and the fix.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbon/live_config.h"
#include "core/status.h"
#include "core/time.h"
#include "policy/controller.h"

namespace ecomap::service {

struct ApiConfig {
  std::string host = "127.0.0.1";
  int port = 8470;                 // 0: any free port
  std::string token;               // empty: mutating calls are refused (403)
  size_t max_body_bytes = 64 * 1024;
  size_t max_infer_body_bytes = 64 * 1024 * 1024;
  double rate_limit_rps = 20000;
  double mutating_rate_limit_rps = 5;
};

struct GrpcConfig {
  bool enabled = false;            // [serve.grpc] listen given
  std::string host = "127.0.0.1";
  int port = 8471;                 // 0: any free port
  size_t max_message_bytes = 64 * 1024 * 1024;
};

struct CarbonConfig {
  std::string provider = "trace";  // "trace" or a live provider name
  std::string trace_path;          // resolved
  std::string column = "direct";
  double speedup = 1.0;
  std::optional<TimePoint> start;  // trace time at start-up
  bool loop = true;
};

struct ControllerConfig {
  std::string name = "ecomap";
  policy::ControllerOptions options;
  std::string predictor = "analytic";
  std::string profile_path;        // resolved; analytic predictor's samples
};

struct ServeConfig {
  std::string path;                // the file read; empty when parsed from text
  std::string platform = "host";
  double interval_s = 60;
  std::string data_dir;            // resolved
  uint64_t seed = 1;
  int drain_ms = 2000;
  std::string power_knob = "cpu-share";  // "mode" | "cpu-share" | "none"; default by platform
  bool client_load = false;        // load = "clients": no generators (engine sources external)
  ApiConfig api;
  GrpcConfig grpc;
  CarbonConfig carbon;
  ControllerConfig controller;
  std::vector<policy::TenantSpec> tenants;
  carbon::LiveConfig live;         // the [carbon.*] tables (live providers)
};

// Parses TOML text. `name` is used in messages ("name:LINE: ..."); `base_dir` resolves relative
// paths. `env` supplies ECOMAP_API_TOKEN and the live providers' credentials.
StatusOr<ServeConfig> ParseServeConfig(std::string_view toml, const std::string& name,
                                       const std::string& base_dir, const carbon::EnvLookup& env);
// Reads `path` and parses it (base_dir = the file's folder).
StatusOr<ServeConfig> LoadServeConfig(const std::string& path, const carbon::EnvLookup& env);

// The tenant checks are policy's (policy/tenant.h: ValidateTenant, ValidateTenants); a serve
// config may also declare no tenant (they may come later through the API).

// The variants a tenant may use: its list, or its zoo family (increasing accuracy).
std::vector<std::string> TenantVariants(const policy::TenantSpec& t);

}  // namespace ecomap::service
