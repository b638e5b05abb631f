// service/grpc_server.h: the Open Inference Protocol (KServe v2) over gRPC.
//
// Serves `inference.GRPCInferenceService` (proto/grpc_predict_v2.proto) on one address and
// translates each RPC into a call of an InferenceBackend (service/inference.h): ServerLive,
// ServerReady, ModelReady, ServerMetadata, ModelMetadata and ModelInfer. The streaming,
// repository and statistics RPCs answer UNIMPLEMENTED.
//
//   GrpcServer server(&backend);
//   Status s = server.Start("127.0.0.1", 0);   // 0: pick a free port
//   int port = server.port();                  // the port it listens on
//   ...
//   server.Stop();                             // also done by the destructor
//
// Tensors: inputs arrive as typed contents (InferTensorContents: fp32_contents, int64_contents,
// bytes_contents, ...) or as raw_input_contents (the HostTensor byte layout, engine/tensor.h);
// every datatype of engine::DataType is accepted (FP16 only raw). Outputs go back as
// raw_output_contents, as Triton does, unless the request sets the bool parameter
// `binary_data_output` to false (then typed contents; FP16 outputs stay raw).
// Request parameters: `top_k` (int64_param) and `best_effort` (bool_param) reach
// InferRequest::top_k and ::best_effort; others are ignored.
//
// Errors (the backend's Status, see service/inference.h) become gRPC status codes:
//   NotFound -> NOT_FOUND, InvalidArgument -> INVALID_ARGUMENT,
//   Unavailable -> RESOURCE_EXHAUSTED with "retry after X s" in the message and the trailing
//     metadata `retry-after-s: X` (decimal seconds),
//   FailedPrecondition -> FAILED_PRECONDITION, DeadlineExceeded -> DEADLINE_EXCEEDED,
//   ResourceExhausted -> RESOURCE_EXHAUSTED, Internal and anything else -> INTERNAL.
// Requests larger than `max_message_bytes` are refused by gRPC with RESOURCE_EXHAUSTED
// ("received message larger than max").
//
// Thread-safety: Start and Stop from one thread; the RPCs run on gRPC's threads (at most
// `max_threads`) and call the backend concurrently, which InferenceBackend allows.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"
#include "service/inference.h"

namespace ecomap::service {

struct GrpcServerOptions {
  // The largest request or response message, in bytes (gRPC's own default is 4 MiB, too small
  // for a batch of images). Also bounds one decoded tensor.
  size_t max_message_bytes = size_t{64} << 20;
  // The most threads serving RPCs at once; each ModelInfer holds one while the backend works.
  int max_threads = 16;
  // How long Stop() lets calls in flight finish before cancelling them.
  double shutdown_grace_s = 2.0;
};

class GrpcServer {
 public:
  // `backend` must outlive the server.
  explicit GrpcServer(InferenceBackend* backend, GrpcServerOptions options = {});
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Listens on host:port (an IPv6 host may be given with or without brackets; port 0 picks a
  // free port, see port()). Unavailable naming the address when it cannot be bound,
  // InvalidArgument for a port outside 0..65535, FailedPrecondition when already started.
  Status Start(const std::string& host, int port);
  // The port listened on; 0 before Start.
  int port() const;
  // "host:port" as listened on; empty before Start.
  std::string address() const;
  // Stops accepting calls, lets those in flight finish (up to shutdown_grace_s), then returns.
  // Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomap::service
