// engine/torch_executor.h: the real executors, libtorch models of the zoo (zoo/torch_models.h).
//
// Each stage builds its own instance of the tenant's model (same seed, so all stages share
// weights and compose to the whole model) and runs blocks [begin, end) with Forward. The worker
// thread of a stage sets its intra-op thread count (default 1: one thread per running stage;
// several OpenMP threads per model on a small CPU collapse).
//
//   Engine engine(MakeTorchExecutorFactory({.intra_op_threads = 1}));
//
// Thread-safety: the factory is thread-safe (model construction is serialised, so seeded
// weights stay deterministic). Exceptions from libtorch are caught here and become Status.
#pragma once

#include <memory>

#include "engine/executor.h"

namespace ecomap::engine {

struct TorchExecutorOptions {
  int intra_op_threads = 1;  // at::set_num_threads on each stage's worker thread
};

std::shared_ptr<ExecutorFactory> MakeTorchExecutorFactory(TorchExecutorOptions options = {});

// Sets the calling thread's libtorch intra-op threads (at::init_num_threads +
// at::set_num_threads). For code outside the engine that runs models on its own threads
// (e.g. the baseline loop of the benchmark).
void SetTorchThreads(int intra_op_threads);

}  // namespace ecomap::engine
