#include "loop/accounting.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "carbon/accounting.h"
#include "zoo/model.h"

namespace ecomap::loop {

StatusOr<double> BestAccuracy(const policy::TenantSpec& tenant) {
  double best = -1;
  if (!tenant.variants.empty()) {
    for (const auto& v : tenant.variants) {
      const zoo::ModelInfo* m = zoo::FindModel(v);
      if (m == nullptr) return NotFound("tenant '" + tenant.name + "': unknown model '" + v + "'");
      best = std::max(best, m->accuracy);
    }
  } else {
    for (const zoo::ModelInfo* m : zoo::Family(tenant.family)) best = std::max(best, m->accuracy);
  }
  if (best < 0) {
    return NotFound("tenant '" + tenant.name + "': family '" + tenant.family + "' has no models in the catalogue");
  }
  return best;
}

StatusOr<IntervalRecord> AccountInterval(const std::vector<policy::TenantSpec>& demand,
                                         const platform::Configuration& config,
                                         const platform::Performance& measured, GramsPerKwh intensity,
                                         Seconds window) {
  if (measured.tenants.size() != config.tenants.size()) {
    return InvalidArgument("the measurement has " + std::to_string(measured.tenants.size()) +
                           " tenants, the configuration " + std::to_string(config.tenants.size()));
  }
  if (!(measured.power.value() >= 0) || !std::isfinite(measured.power.value())) {
    return InvalidArgument("measured power must be finite and >= 0 W");
  }
  IntervalRecord r;
  r.power_mode = config.power_mode;
  r.intensity_g_per_kwh = intensity.value();
  r.power_w = measured.power.value();
  if (!(window.value() >= 0) || !std::isfinite(window.value())) {
    return InvalidArgument("the accounted window must be finite and >= 0 s");
  }
  const Seconds secs = window;
  r.window_s = secs.value();
  const Joules e = measured.power * secs;
  r.energy_j = e.value();
  r.energy_wh = ToWattHours(e).value();
  r.carbon_g = CarbonOf(e, intensity).value();

  std::vector<carbon::TenantLoad> loads;
  double weighted_loss = 0, weight = 0, throughput = 0;
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const platform::TenantConfig& tc = config.tenants[i];
    const platform::TenantPerformance& tp = measured.tenants[i];
    const policy::TenantSpec* spec = policy::FindTenant(demand, tc.name);
    if (spec == nullptr) return InvalidArgument("tenant '" + tc.name + "' is not in the demand");
    const zoo::ModelInfo* served = zoo::FindModel(tc.model);
    if (served == nullptr) return NotFound("tenant '" + tc.name + "': unknown model '" + tc.model + "'");
    ECOMAP_ASSIGN_OR_RETURN(double best, BestAccuracy(*spec));
    TenantInterval t;
    t.name = tc.name;
    t.variant = tc.model;
    t.throughput_rps = tp.throughput_rps;
    t.p50_ms = tp.latency_p50.value();
    t.p95_ms = tp.latency_p95.value();
    t.slo_ms = spec->slo_p95.value();
    t.saturated = tp.saturated;
    t.offered_rps = spec->arrival == platform::ArrivalKind::kOpenLoop ? spec->rate_rps : tp.throughput_rps;
    policy::SloVerdict verdict = policy::JudgeSlo(*spec, tp);
    t.slo_violated = verdict.violated;
    t.slo_why = std::move(verdict.why);
    r.slo_violations += t.slo_violated ? 1 : 0;
    t.accuracy_loss_pts = std::max(0.0, best - served->accuracy);
    weighted_loss += t.accuracy_loss_pts * t.offered_rps;
    weight += t.offered_rps;
    throughput += std::max(0.0, tp.throughput_rps);
    r.requests += t.offered_rps * secs.value();
    t.completed_requests = std::max(0.0, tp.throughput_rps) * secs.value();
    t.good_requests = t.slo_violated ? 0.0 : t.completed_requests;
    t.dropped_requests = spec->arrival == platform::ArrivalKind::kOpenLoop
                             ? std::max(0.0, t.offered_rps * secs.value() - t.completed_requests)
                             : 0.0;
    r.completed_requests += t.completed_requests;
    r.good_requests += t.good_requests;
    r.dropped_requests += t.dropped_requests;
    loads.push_back({tc.name, tp.throughput_rps, tp.latency_p95});
    r.tenants.push_back(std::move(t));
  }
  r.accuracy_loss_pts = weight > 0 ? weighted_loss / weight : 0;
  r.served = throughput > 0;
  if (r.served) {
    ECOMAP_ASSIGN_OR_RETURN(carbon::CdpSummary cdp, carbon::ComputeCdp(measured.power, intensity, loads));
    r.per_inference_g = cdp.per_inference.value();
    r.cdp_g_s = cdp.mean_cdp.value();
    for (size_t i = 0; i < r.tenants.size(); ++i) r.tenants[i].cdp_g_s = cdp.tenants[i].cdp.value();
  }
  return r;
}

StatusOr<IntervalRecord> AccountInterval(const std::vector<policy::TenantSpec>& demand,
                                         const platform::Configuration& config,
                                         const platform::Performance& measured, GramsPerKwh intensity,
                                         Duration window) {
  return AccountInterval(demand, config, measured, intensity,
                         Seconds(std::chrono::duration<double>(window).count()));
}

}  // namespace ecomap::loop
