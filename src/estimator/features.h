// estimator/features.h: configurations as token tensors for the transformer estimator.
//
// One token per pipeline stage of every tenant (a configuration of 4 tenants with 1-3 stages
// each has 4-12 tokens). Nothing in a token says which tenant slot it belongs to or how many
// tenants there are: the tokens are a set (the transformer is permutation-equivariant over
// tenants), so configurations with more tenants than any seen in training stay inside the
// features' training range; contention reaches a token only through the analytic hints (the
// utilisations, others' load on its unit) and attention. Token features, in order
// (U = platform units, M = power modes):
//   unit one-hot (U); share of the stage's FLOPs run by the fallback unit (1);
//   log1p(MFLOPs) per block kind (7); log1p(total MFLOPs), log1p(activation KB), log1p(K params),
//   log1p(K elementwise ops), blocks / 10 (5);
//   tenant-local stage position / stages, first?, last?, stages / 4 (4);
//   mode: clock / max clock per unit (U), online-core fraction, EMC fraction, mode one-hot (M);
//   tenant: open loop?, log1p(rate rps), log(concurrency) (3);
//   analytic hints (estimator/analytic.h): log stage service ms, log tenant fixed ms, log tenant
//   p50 ms, log tenant p95 ms, log tenant throughput, tenant wait / p50, utilisation of the
//   stage's unit, the other tenants' share of it, analytic saturated?, log analytic power W,
//   log1p(memory GB/s / EMC GHz) (11), utilisation of every unit (U);
//   contention hints (7, since model version 3): the tenant's time-sharing stretch and queueing
//   wait relative to its fixed latency under the fitted sharing discipline and under the other
//   one (analytic.h: queue and threads; the simulated Xavier time-slices its GPU between
//   contexts, which neither models exactly), log(throughput under the other / under the
//   fitted one), the number of other tenants with a stage on the token's unit / 4, and
//   log(their mean stage service there / this stage's service).
// Per tenant, the analytic estimates log p50 ms, log p95 ms, log throughput (the bases the
// transformer's outputs are relative to); per configuration, log analytic power W.
// Normalisation (feature mean/std) is the transformer's job (estimator/transformer.h).
//
//   Featurizer f(analytic_model);
//   TokenBatch b;
//   Status s = f.Build(configs, &b);   // errors name the configuration index
//
// Thread-safety: Featurizer is immutable; Build is const and thread-safe (distinct batches).
#pragma once

#include <cstdint>
#include <vector>

#include "estimator/analytic.h"

namespace ecomap::estimator {

inline constexpr int kTenantOutputs = 3; // log p50, log p95, log throughput

struct TokenBatch {
  int batch = 0;
  int max_tokens = 0;
  int max_tenants = 0;
  int features = 0;
  std::vector<float> x;              // [batch][max_tokens][features], zero padded
  std::vector<uint8_t> padding;      // [batch][max_tokens]: 1 for padding tokens
  std::vector<float> pool;           // [batch][max_tenants][max_tokens]: mean-pooling weights
  std::vector<float> global_pool;    // [batch][max_tokens]: mean over the real tokens
  std::vector<uint8_t> tenant_valid; // [batch][max_tenants]
  std::vector<float> base;           // [batch][max_tenants][kTenantOutputs]: analytic log outputs
  std::vector<float> base_power;     // [batch]: log analytic power W
  std::vector<int> num_tenants;      // [batch]
  // The analytic estimates themselves (for saturation and as the fallback of predictions).
  std::vector<AnalyticEstimate> analytic;
};

class Featurizer {
 public:
  explicit Featurizer(const AnalyticModel& model) : model_(model) {}

  int num_features() const;

  // Builds the batch: max_tokens / max_tenants are the largest in `configs` (at least
  // min_tokens / min_tenants). Fails naming the configuration index and the problem.
  Status Build(const std::vector<const platform::Configuration*>& configs, TokenBatch* batch,
               int min_tokens = 1, int min_tenants = 1) const;
  Status Build(const std::vector<platform::Configuration>& configs, TokenBatch* batch) const;

  const AnalyticModel& model() const { return model_; }

 private:
  const AnalyticModel& model_;
};

}  // namespace ecomap::estimator
