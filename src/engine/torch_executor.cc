#include "engine/torch_executor.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <exception>
#include <mutex>

#include <map>

#include "engine/torchscript_model.h"
#include "zoo/catalog.h"
#include "zoo/derive.h"
#include "zoo/torch_models.h"

namespace ecomap::engine {
namespace {

class TorchStage final : public StageExecutor {
 public:
  TorchStage(std::unique_ptr<zoo::TorchModel> model, int begin, int end, int threads)
      : model_(std::move(model)), begin_(begin), end_(end), threads_(threads) {}

  void PrepareThread() override { SetTorchThreads(threads_); }

  Status Run(Activation& io) override {
    try {
      const at::Tensor* x = std::any_cast<at::Tensor>(&io);
      if (x == nullptr) return Internal("stage input is not a tensor");
      at::Tensor y = model_->Forward(begin_, end_, *x);
      io = std::move(y);
      return Status::Ok();
    } catch (const std::exception& e) {
      return Internal(model_->info().name + " blocks " + std::to_string(begin_) + "-" +
                      std::to_string(end_) + ": " + e.what());
    }
  }

  StatusOr<Activation> MakeInput() override {
    try {
      return Activation(model_->MakeInput(1));
    } catch (const std::exception& e) {
      return Internal(model_->info().name + ": making an input: " + e.what());
    }
  }

 private:
  std::unique_ptr<zoo::TorchModel> model_;
  const int begin_, end_, threads_;
};

class TorchFactory final : public ExecutorFactory {
 public:
  explicit TorchFactory(TorchExecutorOptions options) : options_(options) {}

  // The embedded catalogue; for a known model missing from it (a build before `ecomap zoo
  // export` wrote data/zoo/catalog.json) the descriptors are derived once from libtorch.
  const zoo::ModelInfo* FindModel(const std::string& name) const override {
    if (const zoo::ModelInfo* m = zoo::FindModel(name)) return m;
    if (zoo::FindModelSpec(name) == nullptr) return nullptr;
    std::lock_guard<std::mutex> lk(derived_mu_);
    auto it = derived_.find(name);
    if (it == derived_.end()) {
      StatusOr<zoo::ModelInfo> info = zoo::DeriveModelInfo(name);
      if (!info.ok()) return nullptr;
      it = derived_.emplace(name, std::make_unique<zoo::ModelInfo>(std::move(info).value())).first;
    }
    return it->second.get();
  }

  // The model's batch-1 input (zoo::ModelInfo input_shape and input_dtype) from a client tensor:
  // FP32 for "float32" models, INT64 for "int64" ones (token ids); the shape is the model's, or
  // the model's without its leading batch dimension of 1.
  StatusOr<Activation> FromTensor(const std::string& model, const HostTensor& t) override {
    const zoo::ModelInfo* info = FindModel(model);
    if (info == nullptr) return NotFound("unknown model '" + model + "'");
    const bool ints = info->input_dtype == "int64";
    const DataType want = ints ? DataType::kInt64 : DataType::kFp32;
    auto shape_text = [](const std::vector<int64_t>& v) {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
      return out + "]";
    };
    if (t.datatype != want) {
      return InvalidArgument("input '" + t.name + "' of " + model + " is " + DataTypeName(t.datatype) +
                             "; the model takes " + DataTypeName(want) + " " + shape_text(info->input_shape));
    }
    std::vector<int64_t> unbatched(info->input_shape.begin() + (info->input_shape.empty() ? 0 : 1),
                                   info->input_shape.end());
    if (t.shape != info->input_shape && !(info->input_shape.size() > 1 && info->input_shape[0] == 1 &&
                                          t.shape == unbatched)) {
      return InvalidArgument("input '" + t.name + "' of " + model + " has shape " + shape_text(t.shape) +
                             "; the model takes " + shape_text(info->input_shape) + " (batch 1)");
    }
    ECOMAP_RETURN_IF_ERROR(t.Validate());
    try {
      at::Tensor x = at::empty(info->input_shape, ints ? at::kLong : at::kFloat);
      std::memcpy(x.data_ptr(), t.data.data(), t.data.size());
      return Activation(std::move(x));
    } catch (const std::exception& e) {
      return Internal(model + ": converting input '" + t.name + "': " + e.what());
    }
  }

  // The output activation as FP32 with the activation's shape (logits {1, classes}).
  StatusOr<HostTensor> ToTensor(const std::string& model, const Activation& a,
                                const std::string& name) override {
    const at::Tensor* y = std::any_cast<at::Tensor>(&a);
    if (y == nullptr) return Internal(model + ": the output is not a tensor");
    try {
      at::Tensor f = y->to(at::kFloat).contiguous();
      HostTensor out;
      out.name = name;
      out.datatype = DataType::kFp32;
      out.shape.assign(f.sizes().begin(), f.sizes().end());
      out.data.resize(static_cast<size_t>(f.numel()) * sizeof(float));
      if (!out.data.empty()) std::memcpy(out.data.data(), f.data_ptr<float>(), out.data.size());
      return out;
    } catch (const std::exception& e) {
      return Internal(model + ": converting the output: " + e.what());
    }
  }

  StatusOr<const zoo::ModelInfo*> RegisterModel(const zoo::TorchScriptSpec& spec) override {
    TorchScriptMeasureOptions o;
    o.intra_op_threads = options_.intra_op_threads;
    ECOMAP_ASSIGN_OR_RETURN(TorchScriptRegistration r, RegisterTorchScriptModel(spec, o));
    return r.info;
  }

  StatusOr<std::unique_ptr<StageExecutor>> CreateStage(const std::string& model, int begin, int end,
                                                       uint64_t seed) override {
    // An operator's own TorchScript model (its weights are the file's; the seed is unused).
    if (FindTorchScriptModel(model) != nullptr) {
      return CreateTorchScriptStage(model, begin, end, options_.intra_op_threads);
    }
    std::lock_guard<std::mutex> lk(mu_);
    try {
      ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<zoo::TorchModel> m, zoo::CreateTorchModel(model, seed));
      if (begin < 0 || end > m->num_blocks() || begin >= end) {
        return InvalidArgument(model + ": block range " + std::to_string(begin) + "-" + std::to_string(end) +
                               " is outside 0-" + std::to_string(m->num_blocks()));
      }
      return std::unique_ptr<StageExecutor>(
          std::make_unique<TorchStage>(std::move(m), begin, end, options_.intra_op_threads));
    } catch (const std::exception& e) {
      return Internal("building " + model + ": " + e.what());
    }
  }

 private:
  TorchExecutorOptions options_;
  std::mutex mu_;
  mutable std::mutex derived_mu_;
  mutable std::map<std::string, std::unique_ptr<zoo::ModelInfo>> derived_;
};

}  // namespace

void SetTorchThreads(int intra_op_threads) {
  at::init_num_threads();
  at::set_num_threads(intra_op_threads < 1 ? 1 : intra_op_threads);
}

std::shared_ptr<ExecutorFactory> MakeTorchExecutorFactory(TorchExecutorOptions options) {
  return std::make_shared<TorchFactory>(options);
}

}  // namespace ecomap::engine
