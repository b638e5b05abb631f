// service/grpc_test_backend.h: a small real InferenceBackend for the gRPC transport's tests.
//
// Models:
//   affine    FP32 "x" (any shape) -> FP32 "y" = 2x + 1; with top_k > 0 also INT64 "top_k", the
//             indices of the k largest elements of y (largest first).
//   echo      returns every input unchanged (any datatype, BYTES included).
//   busy      always refuses: Unavailable, retry after 2.5 s.
//   hopeless  FailedPrecondition unless best_effort, then behaves like echo.
//   slow      sleeps 1.5 s, then behaves like echo (deadline tests).
// Anything else is NotFound. The last request is kept for inspection.
//
// Thread-safety: thread-safe, like any InferenceBackend.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "service/inference.h"

namespace ecomap::service::testing {

class TestBackend : public InferenceBackend {
 public:
  bool Live() const override { return true; }
  bool Ready() const override { return true; }
  ServerMetadata Metadata() const override { return {"ecomap-test", "0.1.0", {"binary_tensor_data"}}; }
  std::vector<std::string> Models() const override { return {"affine", "echo", "busy", "hopeless", "slow"}; }
  StatusOr<ModelMetadata> ModelMetadataOf(const std::string& model) const override {
    ECOMAP_RETURN_IF_ERROR(Known(model));
    ModelMetadata m;
    m.name = model;
    m.versions = {"v1"};
    m.platform = "ecomap-test";
    if (model == "affine") {
      m.inputs = {{"x", engine::DataType::kFp32, {-1}}};
      m.outputs = {{"y", engine::DataType::kFp32, {-1}}, {"top_k", engine::DataType::kInt64, {-1}}};
    } else {
      m.inputs = {{"in", engine::DataType::kBytes, {-1}}};
      m.outputs = {{"in", engine::DataType::kBytes, {-1}}};
    }
    return m;
  }
  StatusOr<bool> ModelReady(const std::string& model) const override {
    ECOMAP_RETURN_IF_ERROR(Known(model));
    return model != "busy";
  }

  StatusOr<InferResponse> Infer(InferRequest request, double* retry_after_s) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = request;
    }
    ECOMAP_RETURN_IF_ERROR(Known(request.model));
    InferResponse r;
    r.model = request.model;
    r.version = request.version.empty() ? "v1" : request.version;
    r.id = request.id;
    r.latency_ms = 0.25;
    if (request.model == "busy") {
      if (retry_after_s != nullptr) *retry_after_s = 2.5;
      return Unavailable("model 'busy' cannot meet its SLO under the plan in force");
    }
    if (request.model == "hopeless" && !request.best_effort) {
      return FailedPrecondition("model 'hopeless' fits no configuration; send best_effort");
    }
    if (request.model == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    if (request.model != "affine") {
      r.outputs = std::move(request.inputs);
      return r;
    }
    if (request.inputs.size() != 1 || request.inputs[0].name != "x" ||
        request.inputs[0].datatype != engine::DataType::kFp32) {
      return InvalidArgument("model 'affine' takes one FP32 input named 'x'");
    }
    const engine::HostTensor& x = request.inputs[0];
    std::vector<float> y(x.Span<float>().begin(), x.Span<float>().end());
    for (float& v : y) v = 2 * v + 1;
    std::vector<engine::HostTensor> outs;
    outs.push_back(engine::HostTensor::FromValues("y", engine::DataType::kFp32, x.shape, y));
    if (request.top_k > 0) {
      std::vector<int64_t> idx(y.size());
      std::iota(idx.begin(), idx.end(), 0);
      const size_t k = std::min(idx.size(), static_cast<size_t>(request.top_k));
      std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                        [&](int64_t a, int64_t b) { return y[a] > y[b]; });
      idx.resize(k);
      outs.push_back(
          engine::HostTensor::FromValues("top_k", engine::DataType::kInt64, {static_cast<int64_t>(k)}, idx));
    }
    for (const std::string& want : request.outputs) {
      if (want != "y" && want != "top_k") {
        return InvalidArgument(fmt::format("model 'affine' has no output '{}'", want));
      }
    }
    for (engine::HostTensor& t : outs) {
      if (request.outputs.empty() ||
          std::find(request.outputs.begin(), request.outputs.end(), t.name) != request.outputs.end()) {
        r.outputs.push_back(std::move(t));
      }
    }
    return r;
  }

  InferRequest last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  Status Known(const std::string& model) const {
    for (const std::string& m : Models()) {
      if (m == model) return Status::Ok();
    }
    return NotFound(fmt::format("unknown model '{}'", model));
  }

  mutable std::mutex mu_;
  InferRequest last_;
};

}  // namespace ecomap::service::testing
