#include "carbon/plot_trace.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "carbon/plot_svg.h"
#include "carbon/stats.h"

namespace ecomap::carbon {
namespace {

std::string PeriodText(Duration d) {
  using namespace std::chrono;
  if (d == hours(1)) return "hourly";
  if (d == hours(24)) return "daily";
  if (d % minutes(1) == Duration::zero() && d < hours(1)) return std::to_string(d / minutes(1)) + "-minute";
  return fmt::format("{:g}-hour", duration<double, std::ratio<3600>>(d).count());
}

}  // namespace

StatusOr<std::string> RenderTracePlot(const Trace& trace, const TracePlotOptions& o) {
  if (o.from && o.to && *o.from >= *o.to) {
    return InvalidArgument("plot window is empty: --from " + FormatIso8601(*o.from) + " is not before --to " +
                           FormatIso8601(*o.to));
  }
  ECOMAP_ASSIGN_OR_RETURN(Trace window, SliceTrace(trace, o.from, o.to));
  const TraceStats stats = ComputeStats(window);
  const TimePoint x0 = o.from.value_or(window.Start());
  const TimePoint x1 = o.to.value_or(window.points.back().time + trace.period);

  TimeSeriesChart c;
  c.width_px = o.width_px;
  c.height_px = o.height_px;
  const std::string zone = trace.zone.empty() ? trace.name : trace.zone;
  std::string column;
  if (trace.format == TraceFormat::kElectricityMapsCsv) {
    column = trace.column == TraceColumn::kDirect ? " (direct)" : " (life cycle)";
  }
  c.title = "Grid carbon intensity \xE2\x80\x94 " + zone + column;
  c.y_label = "gCO\xE2\x82\x82" "eq/kWh";
  const bool long_window = (x1 - x0) > o.band_threshold;
  const std::string range = FormatShort(window.Start()) + " to " + FormatShort(window.points.back().time) + " UTC";
  c.subtitle = range + "  \xC2\xB7  " + PeriodText(trace.period) + ", " + std::to_string(stats.count) +
               " points  \xC2\xB7  min " + fmt::format("{:.0f}", stats.min.value()) + ", max " + fmt::format("{:.0f}", stats.max.value()) +
               ", mean daily swing " + fmt::format("{:.0f}", stats.mean_daily_swing.value()) + " gCO\xE2\x82\x82" "eq/kWh";
  c.x_min = x0;
  c.x_max = x1;
  const Duration gap = trace.period + trace.period / 2;
  if (long_window) {
    // Daily aggregates, plotted at noon of each UTC day.
    struct Day {
      double lo = 1e300, hi = -1e300, sum = 0;
      int n = 0;
    };
    std::map<long long, Day> days;
    for (const TracePoint& p : window.points) {
      Day& d = days[std::chrono::floor<std::chrono::days>(p.time).time_since_epoch().count()];
      const double v = p.intensity.value();
      d.lo = std::min(d.lo, v);
      d.hi = std::max(d.hi, v);
      d.sum += v;
      ++d.n;
    }
    BandSeries band;
    band.label = "daily min\xE2\x80\x93max";
    LineSeries mean;
    mean.label = "daily mean";
    mean.width_px = 1.8;
    mean.max_gap = std::chrono::hours(36);
    for (const auto& [day, d] : days) {
      TimePoint t = TimePoint(std::chrono::days(day)) + std::chrono::hours(12);
      band.low.push_back({t, d.lo});
      band.high.push_back({t, d.hi});
      mean.points.push_back({t, d.sum / d.n});
    }
    c.bands.push_back(std::move(band));
    c.lines.push_back(std::move(mean));
  } else {
    LineSeries line;
    line.label = PeriodText(trace.period) + " intensity";
    line.max_gap = gap;
    for (const TracePoint& p : window.points) line.points.push_back({p.time, p.intensity.value()});
    c.lines.push_back(std::move(line));
  }
  c.rules.push_back({stats.median.value(), "median " + fmt::format("{:.0f}", stats.median.value()), "#6b7280"});
  std::string attribution = trace.Attribution();
  c.footnote = (attribution.empty() ? "" : attribution + "  \xC2\xB7  ") + "trace " + trace.name;
  return RenderTimeSeriesSvg(c);
}

}  // namespace ecomap::carbon
