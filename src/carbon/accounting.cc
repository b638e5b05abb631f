#include "carbon/accounting.h"

#include <cmath>

namespace ecomap::carbon {
namespace {

double SecondsBetween(TimePoint a, TimePoint b) {
  return std::chrono::duration<double>(b - a).count();
}

Status CheckSamples(std::span<const PowerSample> s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const double p = s[i].power.value();
    if (!std::isfinite(p) || p < 0) {
      return InvalidArgument("power sample " + std::to_string(i) + " at " + FormatIso8601(s[i].time) + " is " +
                             std::to_string(p) + " W; power must be finite and >= 0");
    }
    if (i > 0 && s[i].time <= s[i - 1].time) {
      return InvalidArgument("power sample " + std::to_string(i) + " at " + FormatIso8601(s[i].time) +
                             " is not after sample " + std::to_string(i - 1) + " at " +
                             FormatIso8601(s[i - 1].time) + "; samples must be in increasing time order");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Joules> IntegrateEnergy(std::span<const PowerSample> samples) {
  ECOMAP_RETURN_IF_ERROR(CheckSamples(samples));
  double joules = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    joules += 0.5 * (samples[i - 1].power.value() + samples[i].power.value()) *
              SecondsBetween(samples[i - 1].time, samples[i].time);
  }
  return Joules(joules);
}

StatusOr<CarbonAccount> AccountCarbon(std::span<const PowerSample> power, std::span<const TracePoint> intensity,
                                      Duration last_period) {
  ECOMAP_RETURN_IF_ERROR(CheckSamples(power));
  if (intensity.empty()) return InvalidArgument("carbon accounting: empty intensity series");
  if (last_period <= Duration::zero()) return InvalidArgument("carbon accounting: last_period must be > 0");
  for (size_t k = 1; k < intensity.size(); ++k) {
    if (intensity[k].time <= intensity[k - 1].time) {
      return InvalidArgument("carbon accounting: intensity series not in increasing time order at " +
                             FormatIso8601(intensity[k].time));
    }
  }
  CarbonAccount acc;
  if (power.empty()) return acc;
  const TimePoint ci_start = intensity.front().time;
  const TimePoint ci_end = intensity.back().time + last_period;
  if (power.front().time < ci_start || power.back().time > ci_end) {
    return FailedPrecondition("carbon accounting: power samples span " + FormatIso8601(power.front().time) + " to " +
                              FormatIso8601(power.back().time) + " but the intensity covers only " +
                              FormatIso8601(ci_start) + " to " + FormatIso8601(ci_end));
  }
  double joules = 0, grams = 0;
  size_t k = 0;  // intensity period in force at the current piece's start
  for (size_t i = 1; i < power.size(); ++i) {
    const TimePoint a = power[i - 1].time, b = power[i].time;
    const double pa = power[i - 1].power.value(), pb = power[i].power.value();
    const double span_s = SecondsBetween(a, b);
    auto power_at = [&](TimePoint t) { return pa + (pb - pa) * SecondsBetween(a, t) / span_s; };
    TimePoint u = a;
    while (u < b) {
      while (k + 1 < intensity.size() && intensity[k + 1].time <= u) ++k;
      TimePoint v = b;
      if (k + 1 < intensity.size() && intensity[k + 1].time < b) v = intensity[k + 1].time;
      const double e = 0.5 * (power_at(u) + power_at(v)) * SecondsBetween(u, v);
      joules += e;
      grams += e / kJoulesPerKilowattHour * intensity[k].intensity.value();
      u = v;
    }
  }
  acc.energy = Joules(joules);
  acc.carbon = GramsCO2(grams);
  acc.mean_intensity = joules > 0 ? GramsPerKwh(grams / (joules / kJoulesPerKilowattHour)) : GramsPerKwh(0);
  return acc;
}

Status EnergyMeter::Add(PowerSample sample, GramsPerKwh ci) {
  const double p = sample.power.value();
  if (!std::isfinite(p) || p < 0) {
    return InvalidArgument("power sample at " + FormatIso8601(sample.time) + " is " + std::to_string(p) +
                           " W; power must be finite and >= 0");
  }
  if (!std::isfinite(ci.value()) || ci.value() < 0) {
    return InvalidArgument("carbon intensity " + std::to_string(ci.value()) + " gCO2eq/kWh must be finite and >= 0");
  }
  if (last_) {
    if (sample.time <= last_->time) {
      return InvalidArgument("power sample at " + FormatIso8601(sample.time) + " is not after the previous one at " +
                             FormatIso8601(last_->time));
    }
    const Joules e(0.5 * (last_->power.value() + p) * SecondsBetween(last_->time, sample.time));
    energy_ += e;
    carbon_ += CarbonOf(e, ci);
  }
  last_ = sample;
  return Status::Ok();
}

StatusOr<GramsCO2> CarbonPerInferenceOf(GramsCO2 total, long long inferences) {
  if (inferences <= 0) {
    return InvalidArgument("per-inference carbon needs a positive inference count, got " + std::to_string(inferences));
  }
  return GramsCO2(total.value() / static_cast<double>(inferences));
}

StatusOr<CdpSummary> ComputeCdp(Watts device_power, GramsPerKwh ci, std::span<const TenantLoad> tenants) {
  if (tenants.empty()) return InvalidArgument("CDP needs at least one tenant");
  if (!(device_power.value() >= 0) || !(ci.value() >= 0)) {
    return InvalidArgument("CDP needs power >= 0 W and intensity >= 0 gCO2eq/kWh");
  }
  double total = 0;
  for (const TenantLoad& t : tenants) {
    if (!(t.throughput_per_s >= 0) || !(t.latency.value() >= 0)) {
      return InvalidArgument("tenant '" + t.tenant + "': throughput and latency must be >= 0");
    }
    total += t.throughput_per_s;
  }
  if (total <= 0) return InvalidArgument("CDP needs a positive total throughput (all tenants report 0 inferences/s)");
  CdpSummary s;
  s.per_inference = CarbonPerInference(device_power, ci, total);
  double sum = 0, weighted = 0;
  for (const TenantLoad& t : tenants) {
    GramSeconds cdp = CarbonDelay(s.per_inference, t.latency);
    s.tenants.push_back({t.tenant, cdp});
    sum += cdp.value();
    weighted += cdp.value() * t.throughput_per_s;
  }
  s.mean_cdp = GramSeconds(sum / static_cast<double>(tenants.size()));
  s.weighted_cdp = GramSeconds(weighted / total);
  return s;
}

}  // namespace ecomap::carbon
