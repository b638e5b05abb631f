// zoo/model.h: the DNN catalogue, free of libtorch.
//
// Every model is an ordered list of blocks: the points where a pipeline may be cut (like
// torchvision's top-level children). Each block carries descriptors derived from the real
// libtorch module by shape propagation (see zoo/torch_models.h), so that the platform models,
// the estimator and the search can reason about a model without linking libtorch.
// Models are grouped in mixed-quality families whose members can replace one another.
//
//   const ModelInfo* m = FindModel("resnet50");           // nullptr when unknown
//   for (const BlockDescriptor& b : m->blocks) total += b.flops;
//
// The catalogue is data/zoo/catalog.json (format: zoo/catalog.h), generated from the libtorch
// modules by `ecomap zoo export` and embedded into this library at build time, so it is
// available in builds without libtorch. Models are ordered by family, then by increasing
// published accuracy (the quality ladder mixed-quality substitution climbs down).
//
// Besides the catalogue, models may be registered at run time (RegisterModel: the operator's own
// TorchScript models, measured on the host, zoo/torchscript.h). FindModel, Family, Families,
// LookupModel and KnownModelNames see them; Models() is the catalogue alone.
//
// Thread-safety: the catalogue is immutable after first use; registered models are never
// removed or changed (their pointers stay valid for the life of the process); every function is
// safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace ecomap::zoo {

enum class BlockKind {
  kConv,        // dense convolution (+BN/activation) stages, residual stages
  kDepthwise,   // depthwise-separable / inverted-residual stages
  kLinear,      // fully connected layers
  kAttention,   // transformer encoder layers (self-attention + MLP)
  kPool,        // pooling, global average pooling
  kEmbedding,   // token/position embeddings
  kOther,       // reshapes, flatten, softmax and the like
};
const char* BlockKindName(BlockKind kind);
StatusOr<BlockKind> ParseBlockKind(const std::string& name);

struct BlockDescriptor {
  std::string name;            // e.g. "layer3"
  BlockKind kind = BlockKind::kOther;
  double flops = 0;            // multiply-accumulates x 2 per inference (batch 1): convolution,
                               // linear and attention matmuls (torchvision's "GFLOPS" are MACs)
  int64_t params = 0;          // trainable parameters
  int64_t input_bytes = 0;     // activation bytes entering the block (batch 1; float32, or
                               // int64 token ids for the first block of a text model)
  int64_t output_bytes = 0;    // activation bytes leaving the block (batch 1)
  bool dla_supported = true;   // can a DLA run it (conv/pool/activation/FC-style only)
  // Extension: non-MAC element operations per inference (batch 1): one per element for
  // BN/LayerNorm, activations, residual adds, SE scaling, softmax; window size per output
  // element for pooling. Memory-bound work the MAC count leaves out.
  double elementwise_ops = 0;
  // Extension: MAC-carrying layers (convolutions, linear layers, attention matmuls) in the
  // block, one kernel each on a GPU; 0 where unknown (taken as one).
  int layers = 0;

  bool operator==(const BlockDescriptor&) const = default;
};

struct ModelInfo {
  std::string name;            // "resnet50"
  std::string family;          // "resnet": variants of one family replace one another
  std::string task;            // "imagenet-classification", "text-encoding"
  std::vector<int64_t> input_shape;  // batch-1 input shape, e.g. {1,3,224,224}
  double accuracy = 0;         // published top-1 (%) or task metric
  std::string accuracy_source; // where the figure comes from
  std::vector<BlockDescriptor> blocks;
  // Extensions:
  std::string accuracy_metric;   // what `accuracy` measures, e.g. "ImageNet-1K top-1 (%)"
  std::string input_dtype = "float32";  // "float32" (images) or "int64" (token ids)
  double published_gmacs = 0;    // the source's published GMACs ("GFLOPS"), 0 when none

  double TotalFlops() const;
  int64_t TotalParams() const;
  double TotalElementwiseOps() const;
  // Output bytes of the last block (the model's output), batch 1.
  int64_t OutputBytes() const { return blocks.empty() ? 0 : blocks.back().output_bytes; }

  bool operator==(const ModelInfo&) const = default;
};

// All models, ordered by family then by increasing published accuracy. Empty when the
// embedded catalogue is missing or malformed (CatalogStatus() says why).
const std::vector<ModelInfo>& Models();
// Extension: Ok when the embedded catalogue parsed and matches the specifications.
Status CatalogStatus();
// nullptr when no model has that name.
const ModelInfo* FindModel(const std::string& name);
// The members of a family, in catalogue order: increasing published accuracy. This is also
// increasing cost except in "mobilenet", where mobilenet_v3_large has fewer MACs (0.22 G)
// than mobilenet_v2 (0.30 G) but more parameters and higher accuracy.
std::vector<const ModelInfo*> Family(const std::string& family);
// Extension: like FindModel, but NotFound names the known models.
StatusOr<const ModelInfo*> LookupModel(const std::string& name);
// Extension: the names of all models, catalogue order, joined by ", ".
std::string KnownModelNames();
// Extension: the family names, catalogue order (then registered families), no duplicates.
std::vector<std::string> Families();

// Extension: adds a model built outside the catalogue (e.g. a TorchScript file measured on the
// host, engine/torchscript_model.h) so that FindModel and Family find it. Its family must not be
// a catalogue family (InvalidArgument) and its name must be new (FailedPrecondition). Returns the
// stored model; never removed. Registered members of a family are ordered by accuracy.
StatusOr<const ModelInfo*> RegisterModel(ModelInfo info);
// Extension: every registered model, in registration order.
std::vector<const ModelInfo*> RegisteredModels();
// Extension: true when `family` is a family of the built-in catalogue.
bool IsCatalogueFamily(const std::string& family);

}  // namespace ecomap::zoo
