// service/inference.h: what the daemon offers to inference clients, independent of the wire.
//
// The Open Inference Protocol (KServe v2) has two transports, REST (service/http_server.h) and
// gRPC (service/grpc_server.h). Both translate their messages into the values below and call one
// InferenceBackend (the daemon implements it: a model is a tenant; Infer runs the request
// through the engine under the mapping in force and returns the model's real outputs).
//
//   InferRequest req;  req.model = "cam";  req.inputs.push_back(tensor);  req.top_k = 5;
//   StatusOr<InferResponse> r = backend->Infer(std::move(req));   // blocks until answered
//
// Errors, and what each transport makes of them:
//   NotFound            unknown model                               REST 404, gRPC NOT_FOUND
//   InvalidArgument     malformed input (shape, datatype, size)     REST 400, gRPC INVALID_ARGUMENT
//   Unavailable         refused at admission: the request cannot be served within its SLO under
//                       the plan in force, or the model is not ready; retry_after_s says when
//                       to try again                                REST 503 + Retry-After,
//                                                                   gRPC RESOURCE_EXHAUSTED
//   FailedPrecondition  the tenant is one no configuration can serve (admitted only as best
//                       effort)                                     REST 409, gRPC FAILED_PRECONDITION
//   DeadlineExceeded    the engine did not answer in time            REST 504, gRPC DEADLINE_EXCEEDED
//   Internal            a stage failed                               REST 500, gRPC INTERNAL
//
// Thread-safety: implementations are thread-safe; transports call them from many threads.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "engine/tensor.h"

namespace ecomap::service {

struct TensorMetadata {
  std::string name;
  engine::DataType datatype = engine::DataType::kFp32;
  std::vector<int64_t> shape;  // -1: variable size
};

struct ServerMetadata {
  std::string name = "ecomap";
  std::string version;
  std::vector<std::string> extensions;  // e.g. "binary_tensor_data"
};

struct ModelMetadata {
  std::string name;                    // the tenant's name
  std::vector<std::string> versions;   // the variants it may be served by
  std::string platform;                // "libtorch"
  std::vector<TensorMetadata> inputs, outputs;
};

struct InferRequest {
  std::string model;
  std::string version;                 // empty: whatever variant the plan serves
  std::string id;                      // echoed back
  std::vector<engine::HostTensor> inputs;
  std::vector<std::string> outputs;    // requested output names; empty: all
  int top_k = 0;                       // > 0: also return the top-k classes of the logits
  bool best_effort = false;            // serve even a tenant that no configuration can serve
};

struct InferResponse {
  std::string model;
  std::string version;                 // the variant that served it
  std::string id;
  std::vector<engine::HostTensor> outputs;
  double latency_ms = 0;               // arrival to completion inside the engine
};

class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;

  virtual bool Live() const = 0;
  virtual bool Ready() const = 0;       // every tenant's pipeline is serving
  virtual ServerMetadata Metadata() const = 0;
  virtual std::vector<std::string> Models() const = 0;
  // NotFound for an unknown model.
  virtual StatusOr<ModelMetadata> ModelMetadataOf(const std::string& model) const = 0;
  virtual StatusOr<bool> ModelReady(const std::string& model) const = 0;
  // Blocks until the engine answered, refused or the deadline passed. On an Unavailable refusal
  // `*retry_after_s` (when non-null) receives the seconds after which a retry may succeed.
  virtual StatusOr<InferResponse> Infer(InferRequest request, double* retry_after_s = nullptr) = 0;
};

}  // namespace ecomap::service
