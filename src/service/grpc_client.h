// service/grpc_client.h: a client of the Open Inference Protocol over gRPC.
//
// Speaks `inference.GRPCInferenceService` (proto/grpc_predict_v2.proto) to Ecomap's GrpcServer
// or any other server of the protocol (Triton, KServe). Used by tests and, as a transport, by
// the load generator.
//
//   GrpcInferenceClient client("127.0.0.1:8471", {.deadline_s = 5});
//   StatusOr<bool> live = client.Live();
//   InferRequest req;  req.model = "cam";  req.inputs.push_back(tensor);
//   double retry_after_s = 0;
//   StatusOr<InferResponse> r = client.Infer(req, &retry_after_s);
//
// Every call carries a deadline of `deadline_s` and returns DeadlineExceeded past it. gRPC
// statuses become ecomap Status codes, the inverse of GrpcServer's mapping: RESOURCE_EXHAUSTED
// with a `retry-after-s` trailer -> Unavailable (and *retry_after_s is set), without ->
// ResourceExhausted; UNAVAILABLE (no connection) -> Unavailable; NOT_FOUND, INVALID_ARGUMENT,
// FAILED_PRECONDITION, DEADLINE_EXCEEDED -> the same names; the rest -> Internal. Messages name
// the target and the RPC.
//
// Inputs are sent as raw_input_contents; outputs are read in either form.
//
// Thread-safety: all methods may be called from many threads at once (one channel, shared).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"
#include "service/inference.h"

namespace ecomap::service {

struct GrpcClientOptions {
  double deadline_s = 10.0;                     // per call
  size_t max_message_bytes = size_t{64} << 20;  // the largest message sent or received
};

class GrpcInferenceClient {
 public:
  // `target`: "host:port" (or any gRPC target URI). Connects lazily, on the first call.
  explicit GrpcInferenceClient(std::string target, GrpcClientOptions options = {});
  ~GrpcInferenceClient();
  GrpcInferenceClient(const GrpcInferenceClient&) = delete;
  GrpcInferenceClient& operator=(const GrpcInferenceClient&) = delete;

  StatusOr<bool> Live();
  StatusOr<bool> Ready();
  StatusOr<ServerMetadata> Metadata();
  // NotFound for an unknown model. `version` empty: the server picks.
  StatusOr<bool> ModelReady(const std::string& model, const std::string& version = "");
  StatusOr<ModelMetadata> ModelMetadataOf(const std::string& model, const std::string& version = "");
  // InvalidArgument (before sending) when an input does not validate. On Unavailable,
  // `*retry_after_s` (when non-null) receives the server's retry hint in seconds.
  StatusOr<InferResponse> Infer(const InferRequest& request, double* retry_after_s = nullptr);

  const std::string& target() const { return target_; }

 private:
  class Impl;
  std::string target_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomap::service
