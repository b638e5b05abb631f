#include "estimator/features.h"

#include <algorithm>
#include <cmath>

namespace ecomap::estimator {
namespace {

inline float L1p(double v) { return static_cast<float>(std::log1p(std::max(0.0, v))); }
inline float LogPos(double v) { return static_cast<float>(std::log(std::max(v, 1e-6))); }

}  // namespace

int Featurizer::num_features() const {
  const int u = model_.decomposer().num_units();
  const int m = model_.decomposer().num_modes();
  return u + 1 + kNumBlockKinds + 5 + 4 + (u + 2 + m) + 3 + (11 + u) + 7;
}

Status Featurizer::Build(const std::vector<platform::Configuration>& configs, TokenBatch* batch) const {
  std::vector<const platform::Configuration*> ptrs(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) ptrs[i] = &configs[i];
  return Build(ptrs, batch);
}

Status Featurizer::Build(const std::vector<const platform::Configuration*>& configs, TokenBatch* b,
                         int min_tokens, int min_tenants) const {
  const Decomposer& dec = model_.decomposer();
  const int nu = dec.num_units();
  const int nm = dec.num_modes();
  const int nf = num_features();
  const size_t n = configs.size();
  std::vector<ConfigView> views(n);
  b->analytic.resize(n);
  int max_tokens = min_tokens, max_tenants = min_tenants;
  for (size_t c = 0; c < n; ++c) {
    Status s = dec.Decompose(*configs[c], &views[c]);
    if (!s.ok()) return s.WithContext("configuration " + std::to_string(c));
    model_.EstimateWithHints(views[c], &b->analytic[c]);
    max_tokens = std::max(max_tokens, static_cast<int>(views[c].stages.size()));
    max_tenants = std::max(max_tenants, static_cast<int>(views[c].tenants.size()));
  }
  b->batch = static_cast<int>(n);
  b->max_tokens = max_tokens;
  b->max_tenants = max_tenants;
  b->features = nf;
  const size_t S = static_cast<size_t>(max_tokens), T = static_cast<size_t>(max_tenants), F = static_cast<size_t>(nf);
  b->x.assign(n * S * F, 0.0f);
  b->padding.assign(n * S, 1);
  b->pool.assign(n * T * S, 0.0f);
  b->global_pool.assign(n * S, 0.0f);
  b->tenant_valid.assign(n * T, 0);
  b->base.assign(n * T * kTenantOutputs, 0.0f);
  b->base_power.assign(n, 0.0f);
  b->num_tenants.assign(n, 0);
  for (size_t c = 0; c < n; ++c) {
    const ConfigView& v = views[c];
    const AnalyticEstimate& e = b->analytic[c];
    const size_t nt = v.tenants.size();
    b->num_tenants[c] = static_cast<int>(nt);
    const float log_power = LogPos(e.power_w);
    b->base_power[c] = log_power;
    for (size_t i = 0; i < nt; ++i) {
      b->tenant_valid[c * T + i] = 1;
      float* base = &b->base[(c * T + i) * kTenantOutputs];
      base[0] = LogPos(e.tenants[i].latency_p50_s * 1000.0);
      base[1] = LogPos(e.tenants[i].latency_p95_s * 1000.0);
      base[2] = LogPos(e.tenants[i].throughput_rps);
    }
    const float inv_tokens = 1.0f / static_cast<float>(std::max<size_t>(v.stages.size(), 1));
    for (size_t s = 0; s < v.stages.size(); ++s) {
      const StageView& st = v.stages[s];
      const TenantView& tv = v.tenants[static_cast<size_t>(st.tenant)];
      b->padding[c * S + s] = 0;
      b->global_pool[c * S + s] = inv_tokens;
      b->pool[(c * T + static_cast<size_t>(st.tenant)) * S + s] = 1.0f / static_cast<float>(tv.num_stages);
      float* x = &b->x[(c * S + s) * F];
      int k = 0;
      x[k + st.unit] = 1.0f;
      k += nu;
      double flops_kind[kNumBlockKinds];
      double total = 0, fb = 0;
      for (int q = 0; q < kNumBlockKinds; ++q) {
        flops_kind[q] = st.native.flops[static_cast<size_t>(q)] + st.fallback.flops[static_cast<size_t>(q)];
        total += flops_kind[q];
        fb += st.fallback.flops[static_cast<size_t>(q)];
      }
      x[k++] = static_cast<float>(fb / (total + 1.0));
      for (int q = 0; q < kNumBlockKinds; ++q) x[k++] = L1p(flops_kind[q] / 1e6);
      x[k++] = L1p(total / 1e6);
      x[k++] = L1p(st.activation_bytes / 1e3);
      x[k++] = L1p(st.params / 1e3);
      x[k++] = L1p((st.native.elementwise + st.fallback.elementwise) / 1e3);
      x[k++] = static_cast<float>(st.native.blocks + st.fallback.blocks) / 10.0f;
      x[k++] = static_cast<float>(st.position) / static_cast<float>(tv.num_stages);
      x[k++] = st.position == 0 ? 1.0f : 0.0f;
      x[k++] = st.position == tv.num_stages - 1 ? 1.0f : 0.0f;
      x[k++] = static_cast<float>(tv.num_stages) / 4.0f;
      for (int u = 0; u < nu; ++u) x[k++] = static_cast<float>(v.mhz_fraction[static_cast<size_t>(u)]);
      x[k++] = static_cast<float>(v.cpu_core_fraction);
      x[k++] = static_cast<float>(v.emc_fraction);
      x[k + v.mode_index] = 1.0f;
      k += nm;
      x[k++] = tv.open ? 1.0f : 0.0f;
      x[k++] = tv.open ? L1p(tv.rate_rps) : 0.0f;
      x[k++] = static_cast<float>(std::log(std::max(1, tv.concurrency)));
      const AnalyticEstimate::Tenant& at = e.tenants[static_cast<size_t>(st.tenant)];
      const double util_unit = e.utilisation[static_cast<size_t>(st.unit)];
      const double own = at.throughput_rps * e.stage_service_s[s];
      x[k++] = LogPos(e.stage_service_s[s] * 1000.0);
      x[k++] = LogPos(at.fixed_s * 1000.0);
      x[k++] = LogPos(at.latency_p50_s * 1000.0);
      x[k++] = LogPos(at.latency_p95_s * 1000.0);
      x[k++] = LogPos(at.throughput_rps);
      x[k++] = static_cast<float>(std::clamp((at.latency_p50_s - at.fixed_s) / std::max(at.latency_p50_s, 1e-9), 0.0, 1.0));
      x[k++] = static_cast<float>(std::min(util_unit, 1.5));
      x[k++] = static_cast<float>(std::clamp(util_unit - own, 0.0, 1.5));
      x[k++] = at.saturated ? 1.0f : 0.0f;
      x[k++] = log_power;
      x[k++] = L1p(e.memory_gbps / (v.emc_mhz / 1000.0));
      for (int u = 0; u < nu; ++u) x[k++] = static_cast<float>(std::min(e.utilisation[static_cast<size_t>(u)], 1.5));
      // Contention hints: the waits under both sharing disciplines relative to the fixed latency,
      // and who else runs on the stage's unit (how many other tenants, their work per request
      // against this stage's).
      const double fixed = std::max(at.fixed_s, 1e-9);
      x[k++] = L1p(at.stretch_s / fixed);
      x[k++] = L1p(at.queue_s / fixed);
      x[k++] = L1p(at.alt_stretch_s / fixed);
      x[k++] = L1p(at.alt_queue_s / fixed);
      x[k++] = static_cast<float>(std::clamp(
          std::log(std::max(at.alt_throughput_rps, 1e-6) / std::max(at.throughput_rps, 1e-6)), -5.0, 5.0));
      int others = 0;
      double others_service = 0;
      int last_other = -1;
      for (size_t o = 0; o < v.stages.size(); ++o) {
        const StageView& so = v.stages[o];
        if (so.tenant == st.tenant || so.unit != st.unit) continue;
        if (so.tenant != last_other) ++others;  // a tenant's stages are consecutive
        last_other = so.tenant;
        others_service += e.stage_service_s[o];
      }
      x[k++] = static_cast<float>(others) / 4.0f;
      const double size_ratio = std::max(others_service / std::max(others, 1), 1e-9) / std::max(e.stage_service_s[s], 1e-9);
      x[k++] = others == 0 ? 0.0f : static_cast<float>(std::clamp(std::log(size_ratio), -8.0, 8.0));
      if (k != nf) return Internal("featurizer: wrote " + std::to_string(k) + " features, expected " + std::to_string(nf));
    }
  }
  return Status::Ok();
}

}  // namespace ecomap::estimator
