#include "service/topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ecomap::service {

using engine::DataType;
using engine::HostTensor;

StatusOr<std::vector<HostTensor>> TopKOutputs(const HostTensor& logits, int k) {
  if (k < 1) return InvalidArgument("top_k " + std::to_string(k) + " must be >= 1");
  if (logits.datatype != DataType::kFp32) {
    return InvalidArgument("top_k needs FP32 logits; output '" + logits.name + "' is " +
                           engine::DataTypeName(logits.datatype));
  }
  const bool batch1 = logits.shape.size() == 2 && logits.shape[0] == 1;
  if (!(batch1 || logits.shape.size() == 1)) {
    return InvalidArgument("top_k needs logits of shape [1,C] or [C]; output '" + logits.name + "' has " +
                           std::to_string(logits.shape.size()) + " dimensions");
  }
  ECOMAP_RETURN_IF_ERROR(logits.Validate());
  std::span<const float> v = logits.Span<float>();
  if (v.empty()) return InvalidArgument("top_k: output '" + logits.name + "' is empty");
  const size_t n = std::min<size_t>(static_cast<size_t>(k), v.size());
  std::vector<int64_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(),
                    [&](int64_t a, int64_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(n);
  const float top = v[idx[0]];
  double sum = 0;
  for (float x : v) sum += std::exp(static_cast<double>(x - top));
  std::vector<float> scores;
  for (int64_t i : idx) scores.push_back(static_cast<float>(std::exp(static_cast<double>(v[i] - top)) / sum));
  const auto kk = static_cast<int64_t>(n);
  return std::vector<HostTensor>{HostTensor::FromValues<int64_t>("topk_classes", DataType::kInt64, {1, kk}, idx),
                                 HostTensor::FromValues<float>("topk_scores", DataType::kFp32, {1, kk}, scores)};
}

}  // namespace ecomap::service
