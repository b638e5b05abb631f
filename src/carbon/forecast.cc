#include "carbon/forecast.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ecomap::carbon {
namespace {

// Index of the point at exactly `t` within history[0..end), or nullopt.
std::optional<size_t> FindExact(std::span<const TracePoint> history, size_t end, TimePoint t) {
  auto first = history.begin();
  auto last = history.begin() + static_cast<std::ptrdiff_t>(end);
  auto it = std::lower_bound(first, last, t, [](const TracePoint& p, TimePoint v) { return p.time < v; });
  if (it == last || it->time != t) return std::nullopt;
  return static_cast<size_t>(it - first);
}

std::string HoursText(Duration d) {
  return fmt::format("{:g}h", std::chrono::duration<double, std::ratio<3600>>(d).count());
}

}  // namespace

Status ValidateSeasonalOptions(const SeasonalForecastOptions& o) {
  if (o.days < 1 || o.days > 366) {
    return InvalidArgument("seasonal forecaster: days " + std::to_string(o.days) + " must be in 1..366");
  }
  if (!(o.day_decay > 0 && o.day_decay <= 1)) {
    return InvalidArgument("seasonal forecaster: day_decay " + std::to_string(o.day_decay) + " must be in (0, 1]");
  }
  if (!(o.anomaly_decay >= 0 && o.anomaly_decay <= 1)) {
    return InvalidArgument("seasonal forecaster: anomaly_decay " + std::to_string(o.anomaly_decay) +
                           " must be in [0, 1]");
  }
  if (o.season <= Duration::zero()) return InvalidArgument("seasonal forecaster: season must be > 0");
  return Status::Ok();
}

SeasonalForecaster::SeasonalForecaster(SeasonalForecastOptions options) : options_(options) {}

std::optional<double> SeasonalForecaster::SeasonalMean(std::span<const TracePoint> history, size_t origin,
                                                       TimePoint t) const {
  const TimePoint t0 = history[origin].time;
  double sum = 0, wsum = 0, w = 1;
  int used = 0;
  // Skip the seasons that lie in the future of the origin; then take up to D known days.
  long long d = 1;
  while (t - options_.season * d > t0) ++d;
  const long long last_d = d + options_.days - 1;
  for (; d <= last_d; ++d) {
    std::optional<size_t> j = FindExact(history, origin + 1, t - options_.season * d);
    if (j) {
      sum += w * history[*j].intensity.value();
      wsum += w;
      ++used;
    }
    w *= options_.day_decay;
  }
  if (used == 0) return std::nullopt;
  return sum / wsum;
}

double SeasonalForecaster::PredictAt(std::span<const TracePoint> history, size_t origin, TimePoint target) const {
  const double x0 = history[origin].intensity.value();
  std::optional<double> s_t = SeasonalMean(history, origin, target);
  std::optional<double> s_0 = SeasonalMean(history, origin, history[origin].time);
  if (!s_t) return x0;
  double anomaly = s_0 ? x0 - *s_0 : 0.0;
  double lead_h = std::chrono::duration<double, std::ratio<3600>>(target - history[origin].time).count();
  return std::max(0.0, *s_t + std::pow(options_.anomaly_decay, lead_h) * anomaly);
}

StatusOr<std::vector<CarbonReading>> SeasonalForecaster::Forecast(std::span<const TracePoint> history,
                                                                  TimePoint now, Duration horizon,
                                                                  Duration period) const {
  ECOMAP_RETURN_IF_ERROR(ValidateSeasonalOptions(options_));
  if (period <= Duration::zero()) return InvalidArgument("seasonal forecaster: period must be > 0");
  if (horizon < Duration::zero()) return InvalidArgument("seasonal forecaster: horizon must be >= 0");
  auto it = std::upper_bound(history.begin(), history.end(), now,
                             [](TimePoint v, const TracePoint& p) { return v < p.time; });
  if (it == history.begin()) {
    return FailedPrecondition("seasonal forecaster: no observation at or before " + FormatIso8601(now));
  }
  size_t origin = static_cast<size_t>(it - history.begin()) - 1;
  std::vector<CarbonReading> out;
  const TimePoint t0 = history[origin].time;
  for (long long k = 1;; ++k) {
    TimePoint t = t0 + period * k;
    if (t <= now) continue;
    if (t > now + horizon) break;
    CarbonReading r;
    r.time = t;
    r.intensity = GramsPerKwh(PredictAt(history, origin, t));
    r.source = "seasonal-forecast";
    r.forecast = true;
    r.note = "modelled: seasonal-profile forecast (" + std::to_string(options_.days) + "-day profile + decaying anomaly)";
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<ForecastEvaluation> EvaluateForecasts(const Trace& trace, const SeasonalForecastOptions& options,
                                               const std::vector<Duration>& horizons) {
  ECOMAP_RETURN_IF_ERROR(ValidateSeasonalOptions(options));
  if (horizons.empty()) return InvalidArgument("forecast evaluation: no horizons given");
  for (Duration h : horizons) {
    if (h <= Duration::zero()) return InvalidArgument("forecast evaluation: horizon " + HoursText(h) + " must be > 0");
  }
  const std::span<const TracePoint> pts(trace.points);
  if (pts.empty()) return InvalidArgument("forecast evaluation: empty trace");
  const TimePoint warm = pts.front().time + options.season * options.days;
  SeasonalForecaster seasonal(options);

  struct Acc {
    size_t n = 0, n_pct = 0;
    double abs_sum = 0, pct_sum = 0;
    void Add(double forecast, double actual) {
      double e = std::fabs(forecast - actual);
      ++n;
      abs_sum += e;
      if (actual > 0) {
        ++n_pct;
        pct_sum += 100.0 * e / actual;
      }
    }
  };
  constexpr int kMethods = 3;
  std::vector<std::vector<Acc>> acc(kMethods, std::vector<Acc>(horizons.size()));
  ForecastEvaluation ev;
  ev.trace_name = trace.name;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].time < warm) continue;
    bool used = false;
    for (size_t h = 0; h < horizons.size(); ++h) {
      TimePoint target = pts[i].time + horizons[h];
      std::optional<size_t> j = FindExact(pts, pts.size(), target);
      if (!j) continue;
      used = true;
      const double actual = pts[*j].intensity.value();
      acc[0][h].Add(seasonal.PredictAt(pts, i, target), actual);
      acc[1][h].Add(pts[i].intensity.value(), actual);
      // Seasonal naive: the value one season before the target that is known at the origin.
      TimePoint back = target - options.season;
      while (back > pts[i].time) back -= options.season;
      std::optional<size_t> b = FindExact(pts, i + 1, back);
      acc[2][h].Add(b ? pts[*b].intensity.value() : pts[i].intensity.value(), actual);
    }
    if (used) ++ev.origins;
  }
  if (ev.origins == 0) {
    return InvalidArgument("forecast evaluation: trace " + trace.name + " is too short (" +
                           std::to_string(pts.size()) + " points) for a " + std::to_string(options.days) +
                           "-day warm-up plus the longest horizon");
  }
  const char* names[kMethods] = {"seasonal-profile", "persistence", "seasonal-naive"};
  for (int m = 0; m < kMethods; ++m) {
    MethodErrors me;
    me.method = names[m];
    for (size_t h = 0; h < horizons.size(); ++h) {
      HorizonError he;
      he.horizon = horizons[h];
      he.samples = acc[m][h].n;
      he.mae = acc[m][h].n ? acc[m][h].abs_sum / static_cast<double>(acc[m][h].n) : 0;
      he.mape_pct = acc[m][h].n_pct ? acc[m][h].pct_sum / static_cast<double>(acc[m][h].n_pct) : 0;
      me.horizons.push_back(he);
    }
    ev.methods.push_back(std::move(me));
  }
  return ev;
}

}  // namespace ecomap::carbon
