#include "engine/torchscript_model.h"

#include <torch/script.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "engine/torch_executor.h"
#include "zoo/torch_models.h"

namespace ecomap::engine {
namespace {

using Clock = std::chrono::steady_clock;

// The first line of a libtorch error, without its C++ backtrace.
std::string Short(const std::exception& e) {
  std::string m;
  if (const auto* ce = dynamic_cast<const c10::Error*>(&e)) {
    m = ce->what_without_backtrace();
  } else {
    m = e.what();
  }
  // The TorchScript interpreter's report starts with a generic line and a traceback; the cause
  // is on the last "RuntimeError: " line.
  if (size_t re = m.rfind("RuntimeError: "); re != std::string::npos) m = m.substr(re + 14);
  if (size_t nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
  if (m.size() > 300) m = m.substr(0, 300) + "...";
  return m;
}

std::string ShapeText(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t Bytes(const at::Tensor& t) { return t.numel() * static_cast<int64_t>(t.element_size()); }

int64_t Params(const torch::jit::Module& m) {
  int64_t n = 0;
  for (const at::Tensor& p : m.parameters(/*recurse=*/true)) n += p.numel();
  return n;
}

double MedianMs(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Runs `f` warmup + timed times; the median wall time in ms.
double TimeMs(const TorchScriptMeasureOptions& o, const std::function<void()>& f) {
  for (int i = 0; i < o.warmup_runs; ++i) f();
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, o.timed_runs); ++i) {
    auto t0 = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return MedianMs(std::move(ms));
}

// The model input of a spec: standard-normal float32 (seed 0), or zeros for int64 token ids.
at::Tensor SampleInput(const zoo::TorchScriptSpec& s) {
  if (s.input_dtype == "int64") return at::zeros(s.input_shape, at::TensorOptions().dtype(at::kLong));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0);
  return at::randn(s.input_shape, gen, at::TensorOptions().dtype(at::kFloat));
}

// A loaded, registered model. Immutable after registration; shared by its stages.
struct Loaded {
  zoo::TorchScriptSpec spec;
  size_t file_size = 0, file_hash = 0;
  torch::jit::Module module;
  std::vector<torch::jit::Module> children;  // the blocks when split
  TorchScriptRegistration reg;
};

struct Store {
  std::mutex register_mu;  // one registration (and measurement) at a time
  std::mutex mu;           // guards models
  std::map<std::string, std::shared_ptr<const Loaded>> models;
};

Store& GetStore() {
  static Store* s = new Store;
  return *s;
}

// FLOP/s of this host on the zoo's conv work: resnet18's catalogue FLOPs over its median
// measured forward time. Measured once per process (REQUIRES: Store::register_mu held; runs on
// the measuring thread).
StatusOr<double> HostRate(const TorchScriptMeasureOptions& o) {
  static double rate = 0;
  if (rate > 0) return rate;
  ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<zoo::TorchModel> ref, zoo::CreateTorchModel("resnet18", 0));
  const double flops = ref->info().TotalFlops();
  if (!(flops > 0)) return Internal("the zoo catalogue has no FLOPs for resnet18 (the host rate's reference)");
  at::Tensor x = ref->MakeInput(1);
  const int n = ref->num_blocks();
  double ms = TimeMs({.warmup_runs = 1, .timed_runs = std::max(3, o.timed_runs)},
                     [&] { (void)ref->Forward(0, n, x); });
  if (!(ms > 0)) return Internal("measuring the host rate: resnet18 took no time");
  rate = flops / (ms / 1e3);
  return rate;
}

// Loads and measures (on the calling thread). Exceptions from libtorch become Status.
StatusOr<std::shared_ptr<Loaded>> LoadAndMeasure(const zoo::TorchScriptSpec& s, const std::string& bytes,
                                                 const TorchScriptMeasureOptions& o) {
  const std::string who = "TorchScript model '" + s.name + "' (file '" + s.path + "')";
  auto l = std::make_shared<Loaded>();
  l->spec = s;
  try {
    std::istringstream in(bytes);
    l->module = torch::jit::load(in, c10::Device(c10::kCPU));
  } catch (const std::exception& e) {
    return InvalidArgument(who + " cannot be loaded: " + Short(e) +
                           "; save the model with torch.jit.save(torch.jit.script(model), path) "
                           "(or torch.jit.trace) and check the file is complete");
  }
  l->module.eval();
  if (!l->module.find_method("forward")) {
    return InvalidArgument(who + " has no forward() method; script or trace a module whose forward takes the input tensor");
  }
  torch::NoGradGuard no_grad;
  const at::Tensor x = SampleInput(s);
  const std::string input_text = s.input_dtype + " " + ShapeText(x.sizes());
  at::Tensor whole;
  try {
    c10::IValue out = l->module.forward({x});
    if (!out.isTensor()) {
      return InvalidArgument(who + ": forward() returns a " + out.tagKind() +
                             ", not a tensor; serve a module that returns one tensor (wrap it if needed)");
    }
    whole = out.toTensor();
  } catch (const std::exception& e) {
    return InvalidArgument(who + ": forward() fails on a " + input_text + " input: " + Short(e) +
                           "; check input_shape and input_dtype");
  }
  TorchScriptRegistration& r = l->reg;
  r.whole_ms = TimeMs(o, [&] { (void)l->module.forward({x}); });

  // The split check: the children, one after another, reproduce forward().
  std::vector<std::string> names, types;
  std::vector<at::Tensor> inputs, outputs;
  std::vector<torch::jit::Module> children;
  for (const torch::jit::NameModule& c : l->module.named_children()) {
    names.push_back(c.name);
    types.push_back(c.value.type()->name() ? c.value.type()->name()->qualifiedName() : "?");
    children.push_back(c.value);
  }
  if (s.split == zoo::SplitMode::kNone) {
    r.split_note = "split = \"none\": one block";
  } else if (children.size() < 2) {
    r.split_note = fmt::format("{} top-level children: one block", children.size());
  } else {
    at::Tensor h = x;
    std::string fail;
    try {
      for (size_t i = 0; i < children.size() && fail.empty(); ++i) {
        if (!children[i].find_method("forward")) {
          fail = "child '" + names[i] + "' has no forward()";
          break;
        }
        inputs.push_back(h);
        c10::IValue out = children[i].forward({h});
        if (!out.isTensor()) {
          fail = "child '" + names[i] + "' returns a " + out.tagKind() + ", not a tensor";
          break;
        }
        h = out.toTensor();
        outputs.push_back(h);
      }
    } catch (const std::exception& e) {
      fail = "running child '" + names[inputs.size() - 1] + "' on the previous child's output fails: " + Short(e);
    }
    if (fail.empty()) {
      if (!h.sizes().equals(whole.sizes())) {
        fail = "the last child's output " + ShapeText(h.sizes()) + " differs from forward()'s " +
               ShapeText(whole.sizes());
      } else {
        r.split_max_abs_diff = whole.numel() == 0 ? 0 : (h - whole).abs().max().item<double>();
        if (!at::allclose(h, whole, 1e-4, 1e-5)) {
          fail = fmt::format("the children run in order differ from forward() (max abs difference {:.3g})",
                             r.split_max_abs_diff);
        }
      }
    }
    if (fail.empty()) {
      r.split = true;
      r.split_note = fmt::format("{} top-level children reproduce forward() (max abs difference {:.3g}): one block each",
                                 children.size(), r.split_max_abs_diff);
    } else if (s.split == zoo::SplitMode::kChildren) {
      return InvalidArgument(who + " is declared split = \"children\", but " + fail +
                             "; declare split = \"none\" (or \"auto\") to run it as one block");
    } else {
      r.split_note = "not split (" + fail + "): one block";
    }
  }

  ECOMAP_ASSIGN_OR_RETURN(r.host_rate_flops_per_s, HostRate(o));
  if (r.split) {
    l->children = children;
    for (size_t i = 0; i < children.size(); ++i) {
      TorchScriptBlockMeasurement b;
      b.name = names[i];
      b.type = types[i];
      torch::jit::Module& c = l->children[i];
      const at::Tensor& in = inputs[i];
      b.time_ms = TimeMs(o, [&] { (void)c.forward({in}); });
      b.input_bytes = Bytes(inputs[i]);
      b.output_bytes = Bytes(outputs[i]);
      b.params = Params(c);
      r.blocks.push_back(std::move(b));
    }
  } else {
    TorchScriptBlockMeasurement b;
    b.name = "model";
    b.type = l->module.type()->name() ? l->module.type()->name()->qualifiedName() : "?";
    b.time_ms = r.whole_ms;
    b.input_bytes = Bytes(x);
    b.output_bytes = Bytes(whole);
    b.params = Params(l->module);
    r.blocks.push_back(std::move(b));
  }
  return l;
}

zoo::ModelInfo Describe(const zoo::TorchScriptSpec& s, const TorchScriptRegistration& r) {
  zoo::ModelInfo m;
  m.name = s.name;
  m.family = s.family;
  m.task = "custom (TorchScript)";
  m.input_shape = s.input_shape;
  m.input_dtype = s.input_dtype;
  m.accuracy = s.accuracy;
  m.accuracy_metric = s.accuracy_metric;
  m.accuracy_source = "declared by the operator; blocks measured on the host at registration (TorchScript file '" +
                      std::filesystem::path(s.path).filename().string() + "')";
  for (const TorchScriptBlockMeasurement& b : r.blocks) {
    zoo::BlockDescriptor d;
    d.name = b.name;
    d.kind = zoo::BlockKind::kConv;  // conv-equivalent measured work (see the header)
    d.flops = b.time_ms / 1e3 * r.host_rate_flops_per_s;
    d.params = b.params;
    d.input_bytes = b.input_bytes;
    d.output_bytes = b.output_bytes;
    d.dla_supported = false;  // unknown operators: a DLA falls back to the GPU
    d.elementwise_ops = 0;
    m.blocks.push_back(std::move(d));
  }
  return m;
}

class TorchScriptStage final : public StageExecutor {
 public:
  TorchScriptStage(std::shared_ptr<const Loaded> model, int begin, int end, int threads)
      : model_(std::move(model)), begin_(begin), end_(end), threads_(threads) {}

  void PrepareThread() override { SetTorchThreads(threads_); }

  Status Run(Activation& io) override {
    try {
      const at::Tensor* x = std::any_cast<at::Tensor>(&io);
      if (x == nullptr) return Internal("stage input is not a tensor");
      torch::NoGradGuard no_grad;
      at::Tensor h = *x;
      if (model_->reg.split) {
        for (int i = begin_; i < end_; ++i) {
          // Module handles are cheap copies of one shared object; forward only reads it.
          torch::jit::Module child = model_->children[static_cast<size_t>(i)];
          h = child.forward({h}).toTensor();
        }
      } else {
        torch::jit::Module m = model_->module;
        h = m.forward({h}).toTensor();
      }
      io = std::move(h);
      return Status::Ok();
    } catch (const std::exception& e) {
      return Internal(model_->spec.name + " blocks " + std::to_string(begin_) + "-" + std::to_string(end_) + ": " +
                      Short(e));
    }
  }

  StatusOr<Activation> MakeInput() override {
    try {
      return Activation(SampleInput(model_->spec));
    } catch (const std::exception& e) {
      return Internal(model_->spec.name + ": making an input: " + Short(e));
    }
  }

 private:
  std::shared_ptr<const Loaded> model_;
  const int begin_, end_, threads_;
};

}  // namespace

StatusOr<TorchScriptRegistration> RegisterTorchScriptModel(const zoo::TorchScriptSpec& spec,
                                                           const TorchScriptMeasureOptions& options) {
  ECOMAP_RETURN_IF_ERROR(zoo::ValidateTorchScriptSpec(spec));
  const std::string who = "TorchScript model '" + spec.name + "'";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(spec.path, ec)) {
    return NotFound(who + ": file '" + spec.path +
                    "' not found (or not a file); give the path of a file saved by torch.jit.save "
                    "(relative paths: against the config file's folder)");
  }
  std::string bytes;
  {
    std::ifstream in(spec.path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in) return NotFound(who + ": cannot read file '" + spec.path + "'");
    bytes = ss.str();
  }
  const size_t hash = std::hash<std::string>{}(bytes);

  Store& store = GetStore();
  std::lock_guard<std::mutex> reg_lock(store.register_mu);
  {
    std::lock_guard<std::mutex> l(store.mu);
    auto it = store.models.find(spec.name);
    if (it != store.models.end()) {
      const Loaded& e = *it->second;
      if (e.spec == spec && e.file_size == bytes.size() && e.file_hash == hash) return e.reg;
      return FailedPrecondition(who + " is already registered from another declaration or file ('" + e.spec.path +
                                "'); give this model another name");
    }
  }
  if (zoo::FindModel(spec.name) != nullptr) {
    return FailedPrecondition(who + ": the name is taken by a zoo model; give your model another name");
  }
  if (zoo::IsCatalogueFamily(spec.family)) {
    return InvalidArgument(who + ": family '" + spec.family +
                           "' is a built-in zoo family; give your own models a family of their own (e.g. '" +
                           spec.family + "-custom')");
  }

  // Measure on a thread of our own, with the engine's per-stage thread setting.
  const auto t0 = Clock::now();
  StatusOr<std::shared_ptr<Loaded>> loaded = Internal("not run");
  std::thread worker([&] {
    try {
      SetTorchThreads(options.intra_op_threads);
      loaded = LoadAndMeasure(spec, bytes, options);
    } catch (const std::exception& e) {
      loaded = Internal(who + ": " + Short(e));
    }
  });
  worker.join();
  if (!loaded.ok()) return loaded.status();
  std::shared_ptr<Loaded> l = std::move(loaded).value();
  l->file_size = bytes.size();
  l->file_hash = hash;
  l->reg.measure_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ECOMAP_ASSIGN_OR_RETURN(l->reg.info, zoo::RegisterModel(Describe(spec, l->reg)));
  {
    std::lock_guard<std::mutex> lk(store.mu);
    store.models[spec.name] = l;
  }
  return l->reg;
}

const TorchScriptRegistration* FindTorchScriptModel(const std::string& name) {
  Store& store = GetStore();
  std::lock_guard<std::mutex> l(store.mu);
  auto it = store.models.find(name);
  return it == store.models.end() ? nullptr : &it->second->reg;
}

StatusOr<std::unique_ptr<StageExecutor>> CreateTorchScriptStage(const std::string& name, int begin, int end,
                                                                int intra_op_threads) {
  std::shared_ptr<const Loaded> m;
  {
    Store& store = GetStore();
    std::lock_guard<std::mutex> l(store.mu);
    auto it = store.models.find(name);
    if (it == store.models.end()) {
      return NotFound("'" + name + "' is not a registered TorchScript model; declare it in the tenant's models");
    }
    m = it->second;
  }
  const int n = static_cast<int>(m->reg.blocks.size());
  if (begin < 0 || end > n || begin >= end) {
    return InvalidArgument(name + ": block range " + std::to_string(begin) + "-" + std::to_string(end) +
                           " is outside 0-" + std::to_string(n));
  }
  return std::unique_ptr<StageExecutor>(std::make_unique<TorchScriptStage>(std::move(m), begin, end, intra_op_threads));
}

}  // namespace ecomap::engine
