// zoo/torch_models.h: the real DNNs, as libtorch C++ front-end modules split into blocks.
//
// This is the only zoo header that pulls in libtorch (ATen's Tensor, not <torch/torch.h>);
// code that only needs figures uses zoo/model.h.
//
//   auto m = CreateTorchModel("resnet50");            // random weights, eval mode
//   at::Tensor x = (*m)->MakeInput();
//   at::Tensor y = (*m)->Forward(0, (*m)->num_blocks(), x);   // whole model
//   at::Tensor h = (*m)->Forward(0, 5, x);                    // first pipeline stage
//
// Blocks pass activations on as tensors: images [N,C,H,W] float32; the text family takes token
// ids [N,128] int64, passes hidden states [S,N,H] (sequence first, libtorch 1.13's
// TransformerEncoderLayer layout) between blocks and returns logits [N,2]. info() is the
// catalogue entry (zoo/model.h). Weights and MakeInput() are deterministic for a seed
// (private generators; the global libtorch generator is not used for them).
//
// Thread-safety: a TorchModel may be used by one thread at a time; Forward runs under
// no-grad/inference mode itself. Create one instance per worker that runs it.
// CreateTorchModel may be called from several threads at once.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "zoo/model.h"

namespace ecomap::zoo {

class TorchModel {
 public:
  virtual ~TorchModel() = default;
  virtual const ModelInfo& info() const = 0;
  int num_blocks() const { return static_cast<int>(info().blocks.size()); }

  // Runs blocks [begin, end) on `x` (the output of block begin-1, or the model input when
  // begin == 0) in inference mode; `x` is not modified. REQUIRES: 0 <= begin < end <=
  // num_blocks(); throws std::out_of_range otherwise. libtorch errors (c10::Error, e.g. a
  // wrongly shaped input) propagate: callers in a worker thread catch std::exception.
  virtual at::Tensor Forward(int begin, int end, const at::Tensor& x) = 0;

  // A random input of the model's input shape with the given batch size (standard-normal
  // float32 images, or uniform token ids in [0, 30522) for the text family).
  virtual at::Tensor MakeInput(int64_t batch = 1) const = 0;
};

// Builds the named model with random weights (seeded), in eval mode. NotFound for an unknown
// name, with the list of known names in the message.
StatusOr<std::unique_ptr<TorchModel>> CreateTorchModel(const std::string& name, uint64_t seed = 0);

}  // namespace ecomap::zoo
