// policy/threshold.h: the carbon -> power-threshold map.
//
// Absolute carbon intensities differ by 100x between grids (hydro under 10 g/kWh, coal-heavy
// over 700), so the map is relative: it places CI(t) within the rolling percentiles of the
// signal the controller has seen (and of the forecast, when one is given) and interpolates the
// device's power threshold between the platform's highest budget (clean hour) and its lowest
// budget (dirty hour). Two guards keep it sensible on any grid:
//   - `min_spread_g`: the percentile band is never narrower than this, so tiny swings on a
//     flat grid do not move the threshold across its whole range;
//   - `always_clean_below_g`: at or below this intensity every hour counts as clean (the
//     energy's carbon is negligible, so performance and accuracy win).
// Hysteresis: a new threshold is adopted only when it differs from the one in force by more
// than `hysteresis` of the budget range, so the threshold does not flap.
//
//   ThresholdMap map(ThresholdMapConfig{}, Watts{10}, Watts{40});
//   map.Observe(reading);                              // every control interval
//   ThresholdDecision d = map.Decide(reading.intensity, forecast_values);
//   if (d.changed) replan(d.threshold);
//
// Thread-safety: not thread-safe; one controller owns one map. Pure: no clock, no I/O.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"

namespace ecomap::policy {

struct ThresholdMapConfig {
  // Number of past readings kept (one per control interval; 168 hourly readings = one week).
  int window = 168;
  // CI at or below the low percentile -> highest budget; at or above the high one -> lowest.
  double low_percentile = 10.0;
  double high_percentile = 90.0;
  // Shape of the interpolation: 1 = linear in the percentile position; >1 keeps the threshold
  // high longer (only the dirtiest hours are cut hard).
  double exponent = 1.0;
  // The band [p_low, p_high] is widened around its centre to at least this many g/kWh.
  double min_spread_g = 20.0;
  // At or below this CI the threshold is the highest budget whatever the percentiles say.
  double always_clean_below_g = 30.0;
  // Adopt a new threshold only when it moves by more than this share of (max - min budget).
  double hysteresis = 0.08;
  // Forecast values (when given) join the window for the percentile computation.
  bool use_forecast = true;
  // Fewer readings than this (and no forecast): the threshold stays at the highest budget.
  int min_history = 3;
  // How far down the budget range the dirtiest hour takes the threshold, in [0, 1]: the map
  // reaches max - depth x (max - min). 1 (default): the whole range; 0: never below the highest
  // budget. Ecomap's accuracy knob: a deeper cut saves carbon with lighter variants.
  double depth = 1.0;

  // InvalidArgument naming the bad field when a value is out of range.
  Status Validate() const;
};

struct ThresholdDecision {
  Watts threshold;       // the threshold in force after this decision
  Watts raw;             // the map's value before hysteresis
  double position = 0;   // where CI sits in the band: 0 = clean end, 1 = dirty end
  GramsPerKwh band_low;  // the band used (after widening)
  GramsPerKwh band_high;
  bool changed = false;  // the threshold in force moved
  std::string reason;    // one line: why this value
};

class ThresholdMap {
 public:
  // REQUIRES: config.Validate().ok(), 0 < min_budget <= max_budget.
  ThresholdMap(ThresholdMapConfig config, Watts min_budget, Watts max_budget);

  // Adds one reading to the rolling window (oldest dropped past `window`).
  void Observe(GramsPerKwh intensity);

  // The threshold for `now`, given optional forecast values for the coming hours. Updates the
  // threshold in force (hysteresis) and returns it with the reason.
  ThresholdDecision Decide(GramsPerKwh now, const std::vector<GramsPerKwh>& forecast = {});

  // The pure map without hysteresis or state change (for plots and tests).
  ThresholdDecision Map(GramsPerKwh now, const std::vector<GramsPerKwh>& forecast = {}) const;

  Watts current() const { return current_; }
  const ThresholdMapConfig& config() const { return config_; }

 private:
  ThresholdMapConfig config_;
  Watts min_budget_;
  Watts max_budget_;
  Watts current_;
  bool has_current_ = false;
  std::deque<double> window_;
};

}  // namespace ecomap::policy
