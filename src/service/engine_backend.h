// service/engine_backend.h: an inference request run through an engine::Engine.
//
// InferOnEngine is the engine half of the daemon's InferenceBackend::Infer (service/daemon.h):
// submit the request's input to the tenant (engine::Engine::Submit), wait for its answer, add
// the top-k outputs and keep the requested outputs. The daemon checks its models, versions and
// feasibility first, then calls it; EngineBackend serves an engine's tenants with nothing else
// (each running tenant is a model, served by the variant it runs): what a benchmark or a test
// puts behind the REST or gRPC transport to measure the protocol alone.
//
//   engine::Engine e(factory);  e.Start(spec);
//   EngineBackend backend(&e);                     // models = e's tenants
//   HttpServer server(&backend, ApiConfig{});      // the daemon's v2 endpoints on it
//
// Thread-safety: thread-safe (the engine is).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "engine/engine.h"
#include "service/inference.h"

namespace ecomap::service {

// Submits `request.inputs[0]` to tenant `request.model` and blocks until the engine answers or
// `deadline_s` passes (DeadlineExceeded). `check_slo`: the engine's SLO admission estimate
// (SubmitOptions::check_slo). Errors as service/inference.h lists them: a tenant that is not
// running is Unavailable (retry after 1 s), a refusal at admission Unavailable with the
// engine's retry estimate, a request with other than one input, or asking for outputs the
// model does not have, InvalidArgument.
StatusOr<InferResponse> InferOnEngine(engine::Engine& engine, const InferRequest& request, bool check_slo,
                                      double* retry_after_s = nullptr, double deadline_s = 30);

// The running tenants of an engine as the models of an InferenceBackend. Versions: the variant
// each tenant runs. Admission: the engine's SLO estimate unless the request is best effort.
class EngineBackend final : public InferenceBackend {
 public:
  explicit EngineBackend(engine::Engine* engine, std::string version = "dev");  // not owned

  bool Live() const override { return true; }
  bool Ready() const override;
  ServerMetadata Metadata() const override;
  std::vector<std::string> Models() const override;
  StatusOr<ModelMetadata> ModelMetadataOf(const std::string& model) const override;
  StatusOr<bool> ModelReady(const std::string& model) const override;
  StatusOr<InferResponse> Infer(InferRequest request, double* retry_after_s = nullptr) override;

 private:
  engine::Engine* engine_;
  std::string version_;
};

// The model metadata of zoo model `variant` as tenant `model` serves it (input "input" of the
// model's batch-1 shape and datatype, output "output" FP32 [1, C]). Unavailable when the
// factory does not know `variant`.
StatusOr<ModelMetadata> ModelMetadataFor(const engine::ExecutorFactory& factory, const std::string& model,
                                         const std::string& variant, std::vector<std::string> versions);

}  // namespace ecomap::service
