// core/units.h: physical quantities with their unit in the type.
//
// Every interface between parts passes these instead of bare doubles, so a value in mW can
// never be taken for W, or J for Wh. Construction is explicit; .value() returns the number in
// the unit the type names.
//
//   Watts p{12.5};
//   Joules e = p * Seconds{60};             // 750 J
//   WattHours wh = ToWattHours(e);          // 0.2083 Wh
//   GramsCO2 c = CarbonOf(e, GramsPerKwh{200});
//
// Thread-safety: plain values.
#pragma once

#include <compare>
#include <string>

namespace ecomap {

template <typename Tag>
class Quantity {
 public:
  constexpr Quantity() = default;
  constexpr explicit Quantity(double v) : v_(v) {}
  constexpr double value() const { return v_; }

  constexpr Quantity operator+(Quantity o) const { return Quantity(v_ + o.v_); }
  constexpr Quantity operator-(Quantity o) const { return Quantity(v_ - o.v_); }
  constexpr Quantity operator-() const { return Quantity(-v_); }
  constexpr Quantity operator*(double k) const { return Quantity(v_ * k); }
  constexpr Quantity operator/(double k) const { return Quantity(v_ / k); }
  constexpr double operator/(Quantity o) const { return v_ / o.v_; }  // dimensionless ratio
  constexpr Quantity& operator+=(Quantity o) { v_ += o.v_; return *this; }
  constexpr Quantity& operator-=(Quantity o) { v_ -= o.v_; return *this; }
  constexpr auto operator<=>(const Quantity&) const = default;

 private:
  double v_ = 0.0;
};
template <typename Tag>
constexpr Quantity<Tag> operator*(double k, Quantity<Tag> q) { return q * k; }

struct WattsTag {};
struct JoulesTag {};
struct WattHoursTag {};
struct KilowattHoursTag {};
struct GramsPerKwhTag {};
struct GramsCO2Tag {};
struct MillisecondsTag {};
struct SecondsTag {};
struct GramSecondsTag {};

using Watts = Quantity<WattsTag>;                  // W (power)
using Joules = Quantity<JoulesTag>;                // J (energy)
using WattHours = Quantity<WattHoursTag>;          // Wh (energy, for reports)
using KilowattHours = Quantity<KilowattHoursTag>;  // kWh (energy, for carbon)
using GramsPerKwh = Quantity<GramsPerKwhTag>;      // gCO2eq/kWh (carbon intensity)
using GramsCO2 = Quantity<GramsCO2Tag>;            // gCO2eq (carbon)
using Milliseconds = Quantity<MillisecondsTag>;    // ms (latency)
using Seconds = Quantity<SecondsTag>;              // s (durations in accounting)
using GramSeconds = Quantity<GramSecondsTag>;      // gCO2eq*s (carbon-delay product)

// Aliases that say what a quantity means in the design's vocabulary.
using CarbonIntensity = GramsPerKwh;
using Carbon = GramsCO2;
using CarbonDelayProduct = GramSeconds;

constexpr double kJoulesPerWattHour = 3600.0;
constexpr double kJoulesPerKilowattHour = 3.6e6;

constexpr Joules operator*(Watts p, Seconds t) { return Joules(p.value() * t.value()); }
constexpr Joules operator*(Seconds t, Watts p) { return p * t; }
constexpr Watts operator/(Joules e, Seconds t) { return Watts(e.value() / t.value()); }
constexpr WattHours ToWattHours(Joules e) { return WattHours(e.value() / kJoulesPerWattHour); }
constexpr KilowattHours ToKilowattHours(Joules e) { return KilowattHours(e.value() / kJoulesPerKilowattHour); }
constexpr Joules ToJoules(WattHours e) { return Joules(e.value() * kJoulesPerWattHour); }
constexpr Seconds ToSeconds(Milliseconds t) { return Seconds(t.value() / 1000.0); }
constexpr Milliseconds ToMilliseconds(Seconds t) { return Milliseconds(t.value() * 1000.0); }

// C = E[kWh] * CI.
constexpr GramsCO2 CarbonOf(Joules e, GramsPerKwh ci) {
  return GramsCO2(ToKilowattHours(e).value() * ci.value());
}

// Per-inference carbon c = P * CI / throughput_total (gCO2eq per inference).
// REQUIRES: throughput_per_s > 0.
constexpr GramsCO2 CarbonPerInference(Watts p, GramsPerKwh ci, double throughput_per_s) {
  return CarbonOf(Joules(p.value() / throughput_per_s), ci);
}

// Carbon-delay product CDP = c * latency (gCO2eq*s per inference).
constexpr GramSeconds CarbonDelay(GramsCO2 per_inference, Milliseconds latency) {
  return GramSeconds(per_inference.value() * ToSeconds(latency).value());
}

// Unit conversion used by WattTime: lbs CO2 per MWh -> g CO2 per kWh.
constexpr double kGramsPerKwhPerLbsPerMwh = 0.45359237;
constexpr GramsPerKwh FromLbsPerMwh(double lbs_per_mwh) {
  return GramsPerKwh(lbs_per_mwh * kGramsPerKwhPerLbsPerMwh);
}

}  // namespace ecomap
