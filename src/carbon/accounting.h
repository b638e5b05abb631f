// carbon/accounting.h: energy, carbon, per-inference carbon and carbon-delay product.
//
// Energy of a power series. Power is sampled at irregular instants t_0 < t_1 < ... < t_n and
// assumed to vary linearly between samples (trapezoid rule):
//     E = sum_i (P_i + P_{i+1}) / 2 * (t_{i+1} - t_i)            [W * s = J]
// Nothing is counted before t_0 or after t_n. One sample gives 0 J.
//
// Carbon of a power series under a time-varying intensity. The intensity is piecewise constant:
// point k's value holds on [time_k, time_{k+1}) and the last one on [time_last, time_last +
// last_period). Every trapezoid segment is split at the intensity boundaries that fall inside
// it (power interpolated linearly at the split), and each piece contributes
//     C = E_piece[kWh] * CI_k                                    [gCO2eq]
// The energy-weighted mean intensity is C / E[kWh].
//
// Per-inference carbon and CDP follow DESIGN.md: c = P * CI / throughput_total (gCO2eq per
// inference; the device's power is shared by all inferences of all tenants), and per tenant
// CDP_i = c * latency_i (gCO2eq*s per inference). Summaries give both the plain mean of CDP over
// tenants and the throughput-weighted mean (each inference counts once).
//
//   std::vector<PowerSample> p = {{t0, Watts(10)}, {t0 + 1s, Watts(20)}};
//   StatusOr<Joules> e = IntegrateEnergy(p);                           // 15 J
//   StatusOr<CarbonAccount> c = AccountCarbon(p, trace.points, trace.period);
//
// Thread-safety: functions are pure; an EnergyMeter is for one thread at a time.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "carbon/trace.h"
#include "core/units.h"

namespace ecomap::carbon {

struct PowerSample {
  TimePoint time;
  Watts power;
};

// Trapezoid integral of `samples`. Fails with InvalidArgument when times are not strictly
// increasing or a power is negative or not finite (naming the sample).
StatusOr<Joules> IntegrateEnergy(std::span<const PowerSample> samples);

struct CarbonAccount {
  Joules energy;                 // J over the samples' span
  GramsCO2 carbon;               // gCO2eq
  GramsPerKwh mean_intensity;    // energy-weighted; 0 when energy is 0
};

// Energy and carbon of `power` under the piecewise-constant `intensity` (strictly increasing
// times, as in a Trace). Fails with FailedPrecondition when a power sample lies outside
// [intensity.front().time, intensity.back().time + last_period], InvalidArgument on bad samples.
StatusOr<CarbonAccount> AccountCarbon(std::span<const PowerSample> power, std::span<const TracePoint> intensity,
                                      Duration last_period);

// Streaming trapezoid integration, for a control loop that sees one sample at a time. Each
// added sample closes the segment from the previous one; `ci` is the intensity in force over
// that segment (the caller's reading at the segment's start).
class EnergyMeter {
 public:
  // Fails (and adds nothing) when the sample is not after the previous one or its power is
  // negative or not finite.
  Status Add(PowerSample sample, GramsPerKwh ci = GramsPerKwh(0));
  Joules energy() const { return energy_; }
  GramsCO2 carbon() const { return carbon_; }
  std::optional<PowerSample> last() const { return last_; }

 private:
  std::optional<PowerSample> last_;
  Joules energy_{0};
  GramsCO2 carbon_{0};
};

// Total carbon spread over `inferences` (> 0) inferences.
StatusOr<GramsCO2> CarbonPerInferenceOf(GramsCO2 total, long long inferences);

struct TenantLoad {
  std::string tenant;
  double throughput_per_s = 0;   // inferences/s served for this tenant (>= 0)
  Milliseconds latency{0};       // the latency the CDP is taken on (e.g. p95)
};

struct TenantCdp {
  std::string tenant;
  GramSeconds cdp;               // c * latency_i
};

struct CdpSummary {
  GramsCO2 per_inference;        // c = P * CI / sum of throughputs
  std::vector<TenantCdp> tenants;
  GramSeconds mean_cdp;          // plain mean over tenants
  GramSeconds weighted_cdp;      // mean weighted by each tenant's throughput
};

// Per-inference carbon and CDP of a device drawing `device_power` at intensity `ci` while serving
// `tenants`. Fails when there are no tenants, the total throughput is 0, or a value is negative.
StatusOr<CdpSummary> ComputeCdp(Watts device_power, GramsPerKwh ci, std::span<const TenantLoad> tenants);

}  // namespace ecomap::carbon
