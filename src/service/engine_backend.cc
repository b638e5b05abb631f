#include "service/engine_backend.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>

#include "service/topk.h"
#include "zoo/model.h"

namespace ecomap::service {

StatusOr<InferResponse> InferOnEngine(engine::Engine& engine, const InferRequest& request, bool check_slo,
                                      double* retry_after_s, double deadline_s) {
  if (request.inputs.size() != 1) {
    return InvalidArgument("model '" + request.model + "' takes exactly one input ('input'); got " +
                           std::to_string(request.inputs.size()));
  }
  for (const std::string& o : request.outputs) {
    const bool known = o == "output" || (request.top_k > 0 && (o == "topk_classes" || o == "topk_scores"));
    if (!known) {
      return InvalidArgument("model '" + request.model + "' has no output '" + o +
                             "'; outputs: output (and topk_classes, topk_scores with parameters.top_k)");
    }
  }
  auto promise = std::make_shared<std::promise<engine::SubmitResult>>();
  std::future<engine::SubmitResult> future = promise->get_future();
  engine::SubmitOptions so;
  so.check_slo = check_slo;
  double retry = 0;
  Status s = engine.Submit(request.model, request.inputs[0],
                           [promise](engine::SubmitResult r) { promise->set_value(std::move(r)); }, so, &retry);
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kFailedPrecondition) {
      if (retry_after_s) *retry_after_s = 1;
      return Unavailable("model '" + request.model + "' is not ready: " + s.message());
    }
    if (s.code() == StatusCode::kUnavailable && retry_after_s) *retry_after_s = retry;
    return s;
  }
  if (future.wait_for(std::chrono::duration<double>(deadline_s)) != std::future_status::ready) {
    return DeadlineExceeded("model '" + request.model + "' did not answer within " +
                            std::to_string(static_cast<int>(deadline_s)) + " s");
  }
  engine::SubmitResult r = future.get();
  if (!r.output.ok()) {
    if (r.output.status().code() == StatusCode::kUnavailable && retry_after_s) *retry_after_s = 1;
    return r.output.status();
  }
  InferResponse resp;
  resp.model = request.model;
  resp.version = r.model;
  resp.id = request.id;
  resp.latency_ms = r.latency_ms;
  engine::HostTensor logits = std::move(r.output).value();
  std::vector<engine::HostTensor> extra;
  if (request.top_k > 0) {
    ECOMAP_ASSIGN_OR_RETURN(extra, TopKOutputs(logits, request.top_k));
  }
  auto wanted = [&](const std::string& name) {
    return request.outputs.empty() ||
           std::find(request.outputs.begin(), request.outputs.end(), name) != request.outputs.end();
  };
  if (wanted(logits.name)) resp.outputs.push_back(std::move(logits));
  for (auto& e : extra) {
    if (wanted(e.name)) resp.outputs.push_back(std::move(e));
  }
  return resp;
}

StatusOr<ModelMetadata> ModelMetadataFor(const engine::ExecutorFactory& factory, const std::string& model,
                                         const std::string& variant, std::vector<std::string> versions) {
  ModelMetadata m;
  m.name = model;
  m.versions = std::move(versions);
  m.platform = "libtorch";
  const zoo::ModelInfo* info = variant.empty() ? nullptr : factory.FindModel(variant);
  if (info == nullptr) return Unavailable("model '" + model + "': variant '" + variant + "' is not loaded yet");
  m.inputs.push_back({"input", info->input_dtype == "int64" ? engine::DataType::kInt64 : engine::DataType::kFp32,
                      info->input_shape});
  m.outputs.push_back({"output", engine::DataType::kFp32, {1, info->OutputBytes() / 4}});
  return m;
}

EngineBackend::EngineBackend(engine::Engine* engine, std::string version)
    : engine_(engine), version_(std::move(version)) {}

bool EngineBackend::Ready() const {
  for (const std::string& m : Models()) {
    if (!engine_->Serving(m)) return false;
  }
  return true;
}

ServerMetadata EngineBackend::Metadata() const {
  ServerMetadata m;
  m.version = version_;
  m.extensions = {"binary_tensor_data", "top_k", "best_effort"};
  return m;
}

std::vector<std::string> EngineBackend::Models() const {
  std::vector<std::string> out;
  for (const engine::PipelineSpec& t : engine_->spec().tenants) out.push_back(t.name);
  return out;
}

StatusOr<ModelMetadata> EngineBackend::ModelMetadataOf(const std::string& model) const {
  for (const engine::PipelineSpec& t : engine_->spec().tenants) {
    if (t.name == model) return ModelMetadataFor(engine_->factory(), model, t.model, {t.model});
  }
  return NotFound("no model named '" + model + "'");
}

StatusOr<bool> EngineBackend::ModelReady(const std::string& model) const {
  for (const std::string& m : Models()) {
    if (m == model) return engine_->Serving(model);
  }
  return NotFound("no model named '" + model + "'");
}

StatusOr<InferResponse> EngineBackend::Infer(InferRequest request, double* retry_after_s) {
  return InferOnEngine(*engine_, request, /*check_slo=*/!request.best_effort, retry_after_s);
}

}  // namespace ecomap::service
