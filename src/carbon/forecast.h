// carbon/forecast.h: a simple, documented carbon-intensity forecaster for sources that have
// none, and an evaluation of its error against a persistence baseline.
//
// The seasonal-profile forecaster. Let x(t) be the observed intensity, t0 the time of the last
// observation (the forecast origin), P the season (24 h) and k = (t - t0) / 1 h the lead time in
// hours. For a target time t:
//
//   s(t)  = sum_{d=1..D} w_d * x(t - d*P) / sum_d w_d,    w_d = lambda^(d-1)
//           (exponentially weighted mean of the same hour of day over the past D days; only
//            observations at or before t0 are used: for t more than P ahead, the nearest D days
//            that are known; days missing from the history are skipped)
//   f(t)  = max(0, s(t) + phi^k * (x(t0) - s(t0)))
//
// i.e. the daily profile, plus today's anomaly (how far the current value sits from its own
// profile) decaying towards zero with lead time: for the next hours the forecast is close to
// persistence, further ahead it moves towards the profile (with phi = 0.97 half of the anomaly
// is left a day ahead). With no same-hour history at all it falls back
// to persistence (f = x(t0)). Defaults D = 7, lambda = 0.9, phi = 0.97 were chosen by a small grid
// search (D in 1..14, lambda in 0.3..0.9, phi in 0.8..0.99) minimising the mean MAE ratio to
// persistence at 1, 6 and 24 h on the 2022 traces (ES, US-CAL-CISO); the 2023 traces are out of
// sample (see `ecomap carbon forecast-eval`).
//
// Evaluation: every point of a trace after a warm-up of D days is a forecast origin; for each
// horizon h with a recorded value at t0 + h the forecast error is taken. MAE (gCO2eq/kWh) and
// MAPE (% of the actual; actual values of 0 are left out of MAPE) are reported per horizon for
// the seasonal forecaster, persistence (f = x(t0)) and seasonal naive (f = x(t - P)).
//
//   SeasonalForecaster f({});
//   StatusOr<std::vector<CarbonReading>> fc = f.Forecast(trace.points, now, std::chrono::hours(24),
//                                                        trace.period);
//   StatusOr<ForecastEvaluation> ev = EvaluateForecasts(trace, {}, {1h, 6h, 24h});
//
// Thread-safety: SeasonalForecaster is immutable; all functions are thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "carbon/source.h"
#include "carbon/trace.h"

namespace ecomap::carbon {

struct SeasonalForecastOptions {
  int days = 7;                  // D: past days averaged per hour of day (>= 1)
  double day_decay = 0.9;        // lambda in (0, 1]: weight of the day d back is lambda^(d-1)
  double anomaly_decay = 0.97;  // phi in [0, 1]: per-hour decay of the current anomaly
  Duration season = std::chrono::hours(24);  // P
};

Status ValidateSeasonalOptions(const SeasonalForecastOptions& options);

class SeasonalForecaster {
 public:
  explicit SeasonalForecaster(SeasonalForecastOptions options = {});

  // Forecasts on the grid t0 + k*period (k >= 1) for every such time in (now, now + horizon],
  // where t0 is the time of the last point of `history` at or before `now`. Each reading has
  // forecast=true, source "seasonal-forecast" and a note naming the method.
  // REQUIRES: history strictly increasing in time. Fails when no point is at or before `now`,
  // when period <= 0, horizon < 0 or the options are invalid.
  StatusOr<std::vector<CarbonReading>> Forecast(std::span<const TracePoint> history, TimePoint now,
                                                Duration horizon, Duration period) const;

  // The forecast for `target` made at origin history[origin] using history[0..origin] only.
  // REQUIRES: origin < history.size(), target > history[origin].time.
  double PredictAt(std::span<const TracePoint> history, size_t origin, TimePoint target) const;

  const SeasonalForecastOptions& options() const { return options_; }

 private:
  // The weighted same-hour mean s(t) over points at or before history[origin]; nullopt when none.
  std::optional<double> SeasonalMean(std::span<const TracePoint> history, size_t origin, TimePoint t) const;

  SeasonalForecastOptions options_;
};

struct HorizonError {
  Duration horizon{};
  size_t samples = 0;      // forecasts scored (MAE)
  double mae = 0;          // gCO2eq/kWh
  double mape_pct = 0;     // % of the actual value, over actual values > 0
};

struct MethodErrors {
  std::string method;      // "seasonal-profile", "persistence", "seasonal-naive"
  std::vector<HorizonError> horizons;
};

struct ForecastEvaluation {
  std::string trace_name;
  size_t origins = 0;                // forecast origins used (after the warm-up)
  std::vector<MethodErrors> methods; // seasonal-profile first, then the baselines
};

// Scores the seasonal forecaster and the baselines on `trace` at every origin after the warm-up
// (options.days seasons). Fails when the trace is too short to leave any origin, a horizon is
// <= 0 or the options are invalid.
StatusOr<ForecastEvaluation> EvaluateForecasts(const Trace& trace, const SeasonalForecastOptions& options,
                                               const std::vector<Duration>& horizons);

}  // namespace ecomap::carbon
