// service/loadgen.h: a load generator for the Open Inference Protocol (`ecomap loadgen`).
//
// Drives models of a server (the daemon, or any KServe v2 server) with open-loop Poisson or
// closed-loop clients for a bounded time and reports per model: requests sent, successes,
// refusals (503: the server's admission control), other errors by status, and the successes'
// latency p50/p95/p99 measured on the client (open loop: from the scheduled arrival, so a
// client falling behind counts as latency, not as a lower rate).
//
//   ECOMAP_ASSIGN_OR_RETURN(ModelLoad m, ParseModelLoad("cam:rate=20"));
//   auto transport = MakeRestTransport("127.0.0.1", 8470, /*binary=*/true);
//   LoadgenOptions o;  o.models = {m};  o.duration_s = 10;
//   ECOMAP_ASSIGN_OR_RETURN(LoadgenReport r, RunLoad(*transport, o));
//
// The Transport interface is the wire: MakeRestTransport speaks REST (cpp-httplib client, binary
// or JSON tensors), MakeGrpcTransport gRPC (raw tensor contents).
//
// Thread-safety: a Transport is called from many threads at once; RunLoad blocks its caller.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/inference.h"

namespace ecomap::service {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual StatusOr<ModelMetadata> Metadata(const std::string& model) = 0;
  // The server's answer; on a 503 refusal `*retry_after_s` receives its Retry-After.
  // Errors carry the protocol's codes (service/inference.h); a connection failure is Internal.
  virtual StatusOr<InferResponse> Infer(const InferRequest& request, double* retry_after_s) = 0;
  virtual std::string Name() const = 0;  // "rest-binary", "rest-json"
};

// REST on host:port; `binary`: inputs and outputs as binary tensors (else JSON "data").
// `timeout_s`: per request (connect, read, write).
std::unique_ptr<Transport> MakeRestTransport(const std::string& host, int port, bool binary,
                                             double timeout_s = 10);

// The Open Inference Protocol over gRPC at HOST:PORT (service/grpc_client.h). Unimplemented in
// a build without gRPC; InvalidArgument for a target that is not HOST:PORT.
StatusOr<std::unique_ptr<Transport>> MakeGrpcTransport(const std::string& target, double timeout_s = 10);

struct ModelLoad {
  std::string model;
  bool closed = false;       // closed loop: `concurrency` requests outstanding at all times
  double rate_rps = 0;       // open loop: Poisson arrivals at this mean rate
  int concurrency = 1;
};

// "NAME:rate=R" (open loop) or "NAME:closed=N" (closed loop). InvalidArgument naming the bad
// part and the accepted forms otherwise.
StatusOr<ModelLoad> ParseModelLoad(const std::string& text);

struct LoadgenOptions {
  std::vector<ModelLoad> models;
  double duration_s = 10;      // arrivals stop then; requests in flight finish (bounded by the
                               // transport's timeout)
  int top_k = 0;               // ask for the top-k outputs (0: no)
  bool best_effort = false;    // parameters.best_effort
  int max_outstanding = 64;    // open loop: client threads per model (arrivals beyond wait)
  uint64_t seed = 1;           // arrivals and input data
  const std::atomic<bool>* cancel = nullptr;  // when it turns true, arrivals stop early
};

struct ModelStats {
  std::string model;
  std::string mode;            // "rate=20" or "closed=4"
  uint64_t sent = 0, ok = 0, refused = 0, errors = 0;
  std::map<std::string, uint64_t> errors_by_code;  // StatusCodeName -> count
  std::string first_error;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, mean_ms = 0, max_ms = 0;  // successes
  double server_p50_ms = 0, server_p95_ms = 0;  // the server's own latency (parameters.latency_ms)
  double throughput_rps = 0;   // successes / duration
  double offered_rps = 0;      // sent / duration
  std::vector<std::string> versions;  // variants that answered
};

struct LoadgenReport {
  std::string transport;
  double duration_s = 0;
  std::vector<ModelStats> models;
};

// Fetches each model's metadata (its input's shape and datatype), makes one random input per
// model (FP32 uniform in [0,1), INT64 token ids in [0,1000)), then runs the load. Errors only
// for setup (unknown model, unsupported input); request failures are counted.
StatusOr<LoadgenReport> RunLoad(Transport& transport, const LoadgenOptions& options);

nlohmann::json ToJson(const LoadgenReport& r);
std::string FormatReport(const LoadgenReport& r);  // a table, one row per model

}  // namespace ecomap::service
