// engine/executor.h: what the engine runs inside a pipeline stage, behind a torch-free interface.
//
// The engine (engine/engine.h) owns threads, queues and accounting; an ExecutorFactory supplies
// the computation. The real one is engine/torch_executor.h (libtorch models of the zoo); tests
// of the queueing core plug in their own small real computation.
//
//   std::shared_ptr<ExecutorFactory> f = MakeTorchExecutorFactory();
//   auto stage = f->CreateStage("resnet18", 0, 5, /*seed=*/1);   // blocks [0, 5)
//   Activation x = *(*stage)->MakeInput();
//   Status s = (*stage)->Run(x);                                  // x is now block 4's output
//
// Thread-safety: a factory is shared by all control threads and must be thread-safe. A
// StageExecutor is used by exactly one worker thread (the stage's), never concurrently.
#pragma once

#include <any>
#include <memory>
#include <string>

#include "core/status.h"
#include "engine/tensor.h"
#include "zoo/model.h"
#include "zoo/torchscript.h"

namespace ecomap::engine {

// The value flowing between stages: the model input, then each stage's output. For libtorch
// executors it holds an at::Tensor. Copies share storage (the input is shared read-only by all
// requests of a pipeline).
using Activation = std::any;

class StageExecutor {
 public:
  virtual ~StageExecutor() = default;

  // Called once, on the worker thread that will call Run, after that thread was pinned to its
  // unit and before the first Run: the place to set per-thread settings (e.g. intra-op threads).
  virtual void PrepareThread() {}

  // Runs the stage's blocks on `io` in place: on entry the stage's input, on success the
  // stage's output. On error `io` is unspecified; the engine drops the request and counts it.
  // Called only from the stage's worker thread. Must not throw.
  virtual Status Run(Activation& io) = 0;

  // A model input of batch 1 (the input of the model's first block, whatever this stage's
  // range). The engine makes one per pipeline; all its requests share it read-only. Called
  // from control threads before the worker starts.
  virtual StatusOr<Activation> MakeInput() = 0;
};

class ExecutorFactory {
 public:
  virtual ~ExecutorFactory() = default;

  // The descriptor of a model this factory can run, nullptr when unknown. Thread-safe; the
  // returned object outlives the factory's use.
  virtual const zoo::ModelInfo* FindModel(const std::string& name) const = 0;

  // Builds the executor of blocks [begin, end) of `model` with weights drawn from `seed`; every
  // stage of a tenant gets the same seed, so its stages compose to the whole model. May take
  // seconds (it builds a model); the engine calls it from control threads, never from workers,
  // while the tenant's old pipeline keeps serving. REQUIRES: 0 <= begin < end <= blocks.
  virtual StatusOr<std::unique_ptr<StageExecutor>> CreateStage(const std::string& model, int begin,
                                                               int end, uint64_t seed) = 0;

  // Registers an operator's own model (a TorchScript file, zoo/torchscript.h): loads it, cuts it
  // into blocks, measures them on this host and registers its descriptor (zoo::RegisterModel), so
  // FindModel and CreateStage know it afterwards. Registering the same declaration and file again
  // returns the first descriptor. Takes seconds; called from control threads. NotFound /
  // InvalidArgument naming the file for a missing or malformed file. Unimplemented unless the
  // factory runs TorchScript (the torch executors do: engine/torchscript_model.h).
  virtual StatusOr<const zoo::ModelInfo*> RegisterModel(const zoo::TorchScriptSpec& spec) {
    (void)spec;
    return Status(StatusCode::kUnimplemented,
                  "this executor runs only the built-in zoo; TorchScript models need the libtorch build");
  }

  // A client's tensor as the input activation of `model` (batch 1; datatype and shape checked
  // against the model's input: InvalidArgument naming both), and an output activation of
  // `model` back as a tensor named `name`. Unimplemented unless the factory supports client
  // inputs (the torch executors do).
  virtual StatusOr<Activation> FromTensor(const std::string& model, const HostTensor& t) {
    (void)model; (void)t;
    return Status(StatusCode::kUnimplemented, "this executor does not take client inputs");
  }
  virtual StatusOr<HostTensor> ToTensor(const std::string& model, const Activation& a,
                                        const std::string& name) {
    (void)model; (void)a; (void)name;
    return Status(StatusCode::kUnimplemented, "this executor does not return outputs");
  }
};

}  // namespace ecomap::engine
