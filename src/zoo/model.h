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
// Thread-safety: the catalogue is immutable after first use; safe from any thread.
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
  double flops = 0;            // multiply-accumulates x 2 per inference (batch 1)
  int64_t params = 0;          // trainable parameters
  int64_t input_bytes = 0;     // float32 activation bytes entering the block (batch 1)
  int64_t output_bytes = 0;    // float32 activation bytes leaving the block (batch 1)
  bool dla_supported = true;   // can a DLA run it (conv/pool/activation/FC-style only)
};

struct ModelInfo {
  std::string name;            // "resnet50"
  std::string family;          // "resnet": variants of one family replace one another
  std::string task;            // "imagenet-classification", "text-encoding"
  std::vector<int64_t> input_shape;  // batch-1 input shape, e.g. {1,3,224,224}
  double accuracy = 0;         // published top-1 (%) or task metric
  std::string accuracy_source; // where the figure comes from
  std::vector<BlockDescriptor> blocks;

  double TotalFlops() const;
  int64_t TotalParams() const;
};

// All models, ordered by family then by increasing cost.
const std::vector<ModelInfo>& Models();
// nullptr when no model has that name.
const ModelInfo* FindModel(const std::string& name);
// The members of a family, lightest first.
std::vector<const ModelInfo*> Family(const std::string& family);

}  // namespace ecomap::zoo
