// service/protocol_bench.h: what the Open Inference Protocol over REST costs, against calling
// the engine in process (`ecomap serve --bench-protocol`).
//
// Two cases, each on an engine of its own serving one tenant (a zoo model, a fixed pipeline):
//   saturation  (default resnet18): a closed loop of `concurrency` clients keeps the engine
//               saturated; the figure is the throughput over REST / in process (goal >= 0.9);
//   latency     (default mobilenet_v3_small): one request at a time (closed loop of 1); the
//               figure is the added p50 latency, REST p50 - in-process p50 (goal <= 1 ms).
// Each case alternates phases of the two sides on the same engine, `pairs` times (in process
// first in even pairs, REST first in odd ones, so a drift of the machine's load favours
// neither), and quotes the medians over the pairs; the latency case by default alternates the
// sides request by request within one window per pair instead (one client: in process, REST,
// in process, ...), since on a shared machine the background load moves more between phases
// than the protocol costs:
//   in process  client threads call engine::Engine::Submit with a ready HostTensor (FP32, the
//               model's input shape) and wait for the callback;
//   REST        client threads call the load generator's REST transport (service/loadgen.h,
//               binary tensors both ways, keep-alive connections; a fresh client per phase,
//               closed at its end) on the v2 endpoints of the
//               daemon's HttpServer (service/http_server.h) on 127.0.0.1, whose backend runs
//               the request on the same engine (service/engine_backend.h: the daemon's
//               InferOnEngine).
// Both sides' clients run as threads of this process, on the same cores as the engine's stage
// workers and the HTTP server: the REST side pays for its client (encoding the body, the
// loopback socket, parsing the reply) as well as for the server. The CPU time per request is
// split into the clients' threads, the engine's stage workers and the rest of the process (the
// HTTP server's workers on the REST side).
//
// Thread-safety: runs its own threads; call from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "engine/executor.h"
#include "engine/spec.h"

namespace ecomap::service {

struct ProtocolBenchOptions {
  std::string saturation_model = "resnet18";
  std::string latency_model = "mobilenet_v3_small";
  int concurrency = 4;         // saturation case: clients in the closed loop
  double seconds = 3;          // measured seconds per phase
  double warmup_s = 1;         // per phase, before measuring
  int pairs = 5;               // alternating (in process, REST) pairs per case
  // The tenants' pipeline in the compact stage syntax (engine/spec.h, e.g. "0-5:cpu0|5-:cpu1");
  // empty: the model's blocks split over the units in contiguous ranges of about equal FLOPs
  // (one stage per unit, at most one per block).
  std::string stages;
  std::vector<engine::UnitInfo> units;  // empty: engine::HostUnits()
  // Latency case: one client alternates the sides request by request within each pair's window
  // (both sides then meet the same background load); false: two phases per pair, as saturation.
  bool interleave_latency = true;
  std::string host = "127.0.0.1";
  uint64_t seed = 1;
  double throughput_goal = 0.9;    // REST / in-process throughput, saturation case
  double added_p50_goal_ms = 1.0;  // REST p50 - in-process p50, latency case
  std::function<void(const std::string&)> progress;  // a line per phase; may be empty
};

struct ProtocolPhase {
  std::string side;             // "in_process" or "rest"
  double seconds = 0;           // measured
  uint64_t ok = 0, errors = 0;  // answers completed in the window; failed calls
  std::string first_error;
  double throughput_rps = 0;    // ok / seconds
  double p50_ms = 0, p95_ms = 0;  // on the client: call to answer
  double engine_p50_ms = 0;     // inside the engine (arrival to completion)
  // CPU milliseconds per answered request in the window: the client threads, the engine's stage
  // workers, and the rest of the process (HTTP server workers, the engine's hand-offs).
  double client_cpu_ms = 0, engine_cpu_ms = 0, other_cpu_ms = 0, process_cpu_ms = 0;
};

struct ProtocolCase {
  std::string kind;             // "saturation" or "latency"
  std::string model;
  int concurrency = 1;
  std::string pipeline;         // "0-5:cpu0|5-10:cpu1"
  bool interleaved = false;     // sides alternated request by request (see the options)
  std::vector<ProtocolPhase> in_process, rest;  // one per pair
  std::vector<double> throughput_ratios;        // rest / in process, per pair
  std::vector<double> added_p50_ms;             // rest p50 - in-process p50, per pair
  // Process CPU ms per request in process / over REST, per pair: the throughput ratio the CPU
  // cost alone allows when the cores are the bottleneck, insensitive to how much of the cores
  // other processes take in each phase (which the wall-clock ratio is not, on a shared machine).
  std::vector<double> cpu_ratios;
  double in_process_rps = 0, rest_rps = 0;      // medians over the pairs
  double in_process_p50_ms = 0, rest_p50_ms = 0, in_process_p95_ms = 0, rest_p95_ms = 0;
  double in_process_client_cpu_ms = 0, rest_client_cpu_ms = 0, rest_other_cpu_ms = 0;
  double throughput_ratio = 0;  // median of the per-pair ratios
  double added_p50 = 0;         // median of the per-pair differences, ms
  double cpu_ratio = 0;         // median of cpu_ratios
};

struct ProtocolBenchResult {
  ProtocolBenchOptions options;
  int cores = 0;                // CPUs this process may use (shared by clients and server)
  ProtocolCase saturation, latency;
  bool throughput_pass = false, latency_pass = false;
};

// Runs both cases with `factory` (the torch executors in `ecomap`; a factory must take client
// inputs: FromTensor/ToTensor). Errors: unknown model, a bad `stages`, the engine or the HTTP
// server failing to start.
StatusOr<ProtocolBenchResult> RunProtocolBench(std::shared_ptr<engine::ExecutorFactory> factory,
                                               const ProtocolBenchOptions& options);

// {"cores", "options": {...}, "saturation": {case}, "latency": {case}, "throughput_ratio",
//  "added_p50_ms", "throughput_pass", "latency_pass", "pass"}; a case: {"model", "concurrency",
//  "pipeline", "in_process": {medians}, "rest": {medians}, "pairs": [{"in_process": phase,
//  "rest": phase, "throughput_ratio", "added_p50_ms"}], "throughput_ratio", "added_p50_ms"}.
nlohmann::json ToJson(const ProtocolBenchResult& r);
std::string FormatProtocolBench(const ProtocolBenchResult& r);  // the table and the verdicts

// The default pipeline of `model` over `units`: contiguous block ranges of about equal FLOPs,
// one per unit (at most one per block).
std::vector<engine::StageSpec> BalancedStages(const zoo::ModelInfo& model, const std::vector<engine::UnitInfo>& units);

}  // namespace ecomap::service
