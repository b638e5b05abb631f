// zoo/torchscript.h: an operator's own model, a TorchScript file, as declared (torch-free).
//
// A tenant may serve models of its own instead of zoo names: files saved by `torch.jit.save`
// (from torch.jit.script or torch.jit.trace), each declared with a name, an accuracy and the
// batch-1 input. The serve config ([[serve.tenants.models]]) and POST /tenants ("models") parse
// into TorchScriptSpec; the libtorch executor factory loads, splits and measures the file
// (engine/torchscript_model.h) and registers a zoo::ModelInfo for it (zoo::RegisterModel), so
// the controllers plan with it like with a zoo model. Docs: docs/serve.md "Serve your own model".
//
//   TorchScriptSpec s{.name = "doorbell_s", .family = "doorbell", .path = "models/doorbell.pt",
//                     .accuracy = 81.5, .input_shape = {1, 3, 64, 64}};
//   ECOMAP_RETURN_IF_ERROR(ValidateTorchScriptSpec(s));
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace ecomap::zoo {

// How a TorchScript model is cut into blocks (pipeline cut points).
enum class SplitMode {
  kAuto,      // one block per top-level child when running the children one after another
              // reproduces forward() on the sample input (allclose), else one block
  kChildren,  // the operator declares that forward() calls the top-level children in order:
              // one block per child; registration fails when the check above does not hold
  kNone,      // the whole model is one block (one stage)
};
const char* SplitModeName(SplitMode mode);
// "auto" | "children" | "none"; InvalidArgument naming the value and the choices.
StatusOr<SplitMode> ParseSplitMode(const std::string& name);

struct TorchScriptSpec {
  std::string name;                  // model (variant) name, unique across the zoo
  std::string family;                // the tenant's family (not a built-in zoo family)
  std::string path;                  // the TorchScript file (resolved by the caller)
  double accuracy = 0;               // declared by the operator, in [0, 100]
  std::string accuracy_metric = "declared by the operator";
  std::vector<int64_t> input_shape;  // batch-1 input, e.g. {1, 3, 224, 224}; first dim 1
  std::string input_dtype = "float32";  // "float32" | "int64"
  SplitMode split = SplitMode::kAuto;

  bool operator==(const TorchScriptSpec&) const = default;
};

// Limits of a declaration.
inline constexpr int kMaxInputRank = 6;
inline constexpr int64_t kMaxInputElements = int64_t{64} << 20;  // 64 Mi elements (256 MB f32)

// A valid model name (1-64 letters, digits, '-', '_', '.'), a family, a path, 0 <= accuracy
// <= 100, an input shape of rank 1-6 starting with 1 whose dimensions are >= 1 and whose size
// is at most kMaxInputElements, a known dtype. InvalidArgument naming the model, the bad value
// and the fix.
Status ValidateTorchScriptSpec(const TorchScriptSpec& spec);

// The JSON form (POST /tenants "models" entries; also GET /tenants):
//   {"name": "doorbell_s", "torchscript": "models/doorbell.pt", "accuracy": 81.5,
//    "input_shape": [1, 3, 64, 64], "input_dtype": "float32", "split": "auto",
//    "accuracy_metric": "..."}
// name, torchscript, accuracy and input_shape are required; unknown keys are an error.
// `family` is the tenant's. The path is taken as written (the caller resolves it).
StatusOr<TorchScriptSpec> TorchScriptSpecFromJson(const nlohmann::json& j, const std::string& family);
nlohmann::json TorchScriptSpecToJson(const TorchScriptSpec& spec);

}  // namespace ecomap::zoo
