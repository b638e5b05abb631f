// engine/torchscript_model.h: an operator's own TorchScript model: load, split, measure, run.
//
// RegisterTorchScriptModel loads a file saved by `torch.jit.save` (zoo/torchscript.h declares
// it), decides its blocks, measures them on this host and registers a zoo::ModelInfo for it
// (zoo::RegisterModel), so that zoo::FindModel, the controllers and the predictors plan with it;
// CreateTorchScriptStage then runs blocks [begin, end) of it inside the engine.
//
// Blocks (the pipeline's cut points):
//   * split: one block per top-level child (module.named_children(), in order), when the model
//     is declared split = "children", or split = "auto" (the default) and the check holds. The
//     check: the children run one after another on the sample input reproduce forward()'s
//     output (same shape, allclose rtol 1e-4 atol 1e-5) and every child takes and returns one
//     tensor. It holds for nn.Sequential and for modules whose forward calls their children in
//     order; a forward that does anything else (skips, extra ops) fails it, and the model runs as
//     one block ("auto") or is refused ("children": InvalidArgument with the max difference).
//   * otherwise one block named "model" that runs forward().
//
// Measured at registration (on a thread of its own with `intra_op_threads` libtorch threads,
// as an engine worker runs): every block runs `warmup_runs` times, then `timed_runs` times on
// the sample input (standard-normal float32, seed 0; zeros for int64 token ids); the median is
// its time. The descriptor of each block (kind "conv", dla_supported false) holds:
//   params        the child's parameters (numel, recursive)
//   input_bytes / output_bytes   the measured activations (numel x element size)
//   flops         EFFECTIVE, measured: time_s x host_rate, where host_rate (FLOP/s) is the
//                 catalogue FLOPs of zoo resnet18 divided by its median measured forward time
//                 on the same thread setup, measured once per process. So a block that takes
//                 as long as a conv stage of F FLOPs on this host is described as F "conv-
//                 equivalent" FLOPs: the host predictors (fitted on the zoo's conv blocks) and
//                 the simulated platforms' per-kind rates give it the time of that much conv
//                 work. It is not a count of the model's operations.
//   elementwise_ops 0 (the measured time covers them)
// The ModelInfo: the declared name, family, accuracy (accuracy_source says "declared by the
// operator"), input shape and dtype; task "custom (TorchScript)".
//
//   ECOMAP_ASSIGN_OR_RETURN(TorchScriptRegistration r, RegisterTorchScriptModel(spec));
//   auto stage = CreateTorchScriptStage(spec.name, 0, 2, /*intra_op_threads=*/1);
//
// Errors (never a crash): the file missing or unreadable: NotFound naming the file; not a
// TorchScript archive, truncated, no forward(), forward failing on the declared input or not
// returning one tensor: InvalidArgument naming the model, the file and the fix; the name taken
// by another declaration or file: FailedPrecondition (zoo::RegisterModel).
//
// Thread-safety: all functions are thread-safe. A registered model is loaded once and kept for
// the life of the process; its module is shared read-only by every stage (TorchScript methods
// may run concurrently on several threads; stages only call forward under no-grad).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/executor.h"
#include "zoo/model.h"
#include "zoo/torchscript.h"

namespace ecomap::engine {

struct TorchScriptMeasureOptions {
  int warmup_runs = 2;       // untimed runs per block (the TorchScript executor optimises here)
  int timed_runs = 5;        // timed runs per block; the median counts
  int intra_op_threads = 1;  // libtorch threads while measuring (the engine's default per stage)
};

// What registration measured (also in the ModelInfo's descriptors).
struct TorchScriptBlockMeasurement {
  std::string name;          // the child's attribute name, or "model"
  std::string type;          // the child's TorchScript class name, e.g. "...torch.nn.modules.conv.Conv2d"
  double time_ms = 0;        // median
  int64_t input_bytes = 0, output_bytes = 0, params = 0;
};

struct TorchScriptRegistration {
  const zoo::ModelInfo* info = nullptr;  // the registered descriptor (zoo::FindModel finds it)
  bool split = false;                    // one block per top-level child
  std::string split_note;                // why it is or is not split
  double split_max_abs_diff = 0;         // chained children vs forward() on the sample input
  double whole_ms = 0;                   // forward(), median
  double host_rate_flops_per_s = 0;      // the reference rate used for the effective FLOPs
  double measure_seconds = 0;            // wall time of the whole registration
  std::vector<TorchScriptBlockMeasurement> blocks;
};

// Loads, splits, measures and registers `spec` (see above). Registering the same declaration
// again with an unchanged file returns the first registration without measuring again.
StatusOr<TorchScriptRegistration> RegisterTorchScriptModel(const zoo::TorchScriptSpec& spec,
                                                           const TorchScriptMeasureOptions& options = {});

// The registration of `name`, nullptr when it is not a registered TorchScript model.
const TorchScriptRegistration* FindTorchScriptModel(const std::string& name);

// The executor of blocks [begin, end) of registered model `name` (a split model runs children
// begin..end-1 in order; an unsplit one runs forward()). NotFound when not registered;
// InvalidArgument for a bad range.
StatusOr<std::unique_ptr<StageExecutor>> CreateTorchScriptStage(const std::string& name, int begin, int end,
                                                                int intra_op_threads);

}  // namespace ecomap::engine
