#include "policy/threshold.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "carbon/stats.h"

namespace ecomap::policy {

Status ThresholdMapConfig::Validate() const {
  auto bad = [](const std::string& field, double v, const std::string& want) {
    return InvalidArgument(fmt::format("threshold map: {} = {:g} is out of range; {}", field, v, want));
  };
  if (window < 1) return bad("window", window, "use at least 1 reading (e.g. 168 for a week of hours)");
  if (!(low_percentile >= 0 && low_percentile < 100)) return bad("low_percentile", low_percentile, "use 0 <= low < 100");
  if (!(high_percentile > low_percentile && high_percentile <= 100))
    return bad("high_percentile", high_percentile, "use low_percentile < high <= 100");
  if (!(exponent > 0 && std::isfinite(exponent))) return bad("exponent", exponent, "use a positive number (1 = linear)");
  if (!(depth >= 0 && depth <= 1)) return bad("depth", depth, "use a value in [0, 1] (1 = the whole budget range)");
  if (!(min_spread_g >= 0 && std::isfinite(min_spread_g))) return bad("min_spread_g", min_spread_g, "use >= 0 g/kWh");
  if (!(always_clean_below_g >= 0 && std::isfinite(always_clean_below_g)))
    return bad("always_clean_below_g", always_clean_below_g, "use >= 0 g/kWh");
  if (!(hysteresis >= 0 && hysteresis < 1)) return bad("hysteresis", hysteresis, "use a share in [0, 1)");
  if (min_history < 1) return bad("min_history", min_history, "use at least 1");
  return Status::Ok();
}

ThresholdMap::ThresholdMap(ThresholdMapConfig config, Watts min_budget, Watts max_budget)
    : config_(config), min_budget_(min_budget), max_budget_(max_budget), current_(max_budget) {}

void ThresholdMap::Observe(GramsPerKwh intensity) {
  window_.push_back(intensity.value());
  while (static_cast<int>(window_.size()) > config_.window) window_.pop_front();
}

ThresholdDecision ThresholdMap::Map(GramsPerKwh now, const std::vector<GramsPerKwh>& forecast) const {
  ThresholdDecision d;
  std::vector<double> values(window_.begin(), window_.end());
  if (config_.use_forecast) {
    for (GramsPerKwh f : forecast) values.push_back(f.value());
  }
  if (static_cast<int>(values.size()) < config_.min_history) {
    d.raw = max_budget_;
    d.position = 0;
    d.reason = fmt::format("only {} readings so far (< {}): highest budget until the window fills", values.size(),
                           config_.min_history);
    return d;
  }
  std::sort(values.begin(), values.end());
  double lo = carbon::Percentile(values, config_.low_percentile);
  double hi = carbon::Percentile(values, config_.high_percentile);
  if (hi - lo < config_.min_spread_g) {
    double mid = 0.5 * (lo + hi);
    lo = std::max(0.0, mid - 0.5 * config_.min_spread_g);
    hi = lo + config_.min_spread_g;
  }
  d.band_low = GramsPerKwh(lo);
  d.band_high = GramsPerKwh(hi);
  if (now.value() <= config_.always_clean_below_g) {
    d.raw = max_budget_;
    d.position = 0;
    d.reason = fmt::format("CI {:.1f} g/kWh <= always-clean level {:.1f}: highest budget", now.value(),
                           config_.always_clean_below_g);
    return d;
  }
  double pos = std::clamp((now.value() - lo) / (hi - lo), 0.0, 1.0);
  d.position = pos;
  double shaped = std::pow(pos, config_.exponent);
  d.raw = max_budget_ - (max_budget_ - min_budget_) * (shaped * config_.depth);
  d.reason = fmt::format("CI {:.1f} g/kWh at {:.0f}% of band [{:.1f}, {:.1f}] (p{:.0f}-p{:.0f} of {} values)", now.value(),
                         pos * 100, lo, hi, config_.low_percentile, config_.high_percentile, values.size());
  return d;
}

ThresholdDecision ThresholdMap::Decide(GramsPerKwh now, const std::vector<GramsPerKwh>& forecast) {
  ThresholdDecision d = Map(now, forecast);
  double range = (max_budget_ - min_budget_).value();
  double move = std::abs((d.raw - current_).value());
  bool at_end = d.raw == max_budget_ || d.raw == min_budget_;
  if (!has_current_ || (move > config_.hysteresis * range) || (at_end && move > 1e-9)) {
    d.changed = has_current_ && move > 1e-9;
    current_ = d.raw;
    has_current_ = true;
  } else {
    d.changed = false;
    d.reason += "; kept the threshold in force (within hysteresis)";
  }
  d.threshold = current_;
  return d;
}

}  // namespace ecomap::policy
