// service/topk.h: the top-k classes of a model's logits, the extra outputs of a request's
// "top_k" parameter (service/inference.h InferRequest::top_k), shared by the transports'
// backend.
//
//   StatusOr<std::vector<HostTensor>> extra = TopKOutputs(logits, 5);
//   // extra[0]: "topk_classes" INT64 [1,5] class indices, best first
//   // extra[1]: "topk_scores"  FP32  [1,5] softmax probabilities of those classes
//
// Thread-safety: pure function.
#pragma once

#include <vector>

#include "core/status.h"
#include "engine/tensor.h"

namespace ecomap::service {

// `logits`: FP32 of shape [1, C] or [C]; k is clamped to C. InvalidArgument for other datatypes
// or shapes, or k < 1.
StatusOr<std::vector<engine::HostTensor>> TopKOutputs(const engine::HostTensor& logits, int k);

}  // namespace ecomap::service
