// carbon/plot_svg.h: a small, dependency-free SVG writer for time-series and XY line charts.
//
// Generic on purpose: the carbon trace plot (carbon/plot_trace.h) uses it, and so can replay
// reports (power, carbon, latency over time). A chart has a time axis (UTC; ticks chosen from
// hours to years so that about one tick per 100 px is shown, labelled "06:00", "Mar 3",
// "Jan 2022"), a value axis with "nice" ticks (1, 2, 2.5, 5 x 10^k) and light grid lines, any
// number of lines and min/max bands, optional horizontal reference rules, a title, a subtitle, a
// legend and a small footnote (e.g. data attribution). Text is XML-escaped. Output is
// deterministic for the same input.
//
//   TimeSeriesChart c;
//   c.title = "Device power";  c.y_label = "W";
//   c.lines.push_back({.label = "power", .points = {{t0, 12.0}, {t1, 14.5}}});
//   StatusOr<std::string> svg = RenderTimeSeriesSvg(c);
//
// An XY chart (RenderXYSvg) has two numeric axes with the same nice ticks and grid, labelled
// under the x axis and above the y axis, and series drawn as a polyline, markers or both, each
// marker optionally labelled (e.g. the replay report's Pareto chart: accuracy loss against
// carbon, one curve per swept controller). Its legend wraps over as many rows under the subtitle
// as it needs. Every series is one <g class="xy-series" data-label="..."> holding its
// <polyline> (when drawn as a line) and its markers, in the series' point order, so a test can
// read the chart back.
//
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace ecomap::carbon {

struct ChartPoint {
  TimePoint time{};
  double value = 0;
};

struct LineSeries {
  std::string label{};               // legend text; empty: not in the legend
  std::vector<ChartPoint> points{};  // increasing in time
  std::string color = "#0f766e";
  double width_px = 1.6;
  bool dashed = false;
  bool step = false;               // draw as steps (value holds until the next point)
  // Break the line where consecutive points are further apart than this (gaps in the data).
  std::optional<Duration> max_gap{};
};

struct BandSeries {
  std::string label;
  std::vector<ChartPoint> low;     // same times as high, increasing
  std::vector<ChartPoint> high;
  std::string color = "#14b8a6";
  double opacity = 0.22;
};

struct HorizontalRule {
  double value = 0;
  std::string label;               // drawn at the right end of the rule
  std::string color = "#6b7280";
};

struct TimeSeriesChart {
  std::string title;
  std::string subtitle;
  std::string y_label;             // unit of the value axis, e.g. "gCO2eq/kWh"
  std::string footnote;            // small text at the bottom (attribution, "simulated", ...)
  int width_px = 960;
  int height_px = 440;
  std::vector<BandSeries> bands;   // drawn first
  std::vector<LineSeries> lines;   // drawn over the bands, in order
  std::vector<HorizontalRule> rules;
  std::optional<double> y_min;     // default: 0 when all values >= 0, else a nice floor
  std::optional<double> y_max;     // default: a nice ceiling above the largest value
  std::optional<TimePoint> x_min;  // default: the data's span
  std::optional<TimePoint> x_max;
};

// Fails with InvalidArgument when there is no data point at all, a value is not finite, the
// size is below 200x150 px, or the axis ranges are empty.
StatusOr<std::string> RenderTimeSeriesSvg(const TimeSeriesChart& chart);

struct XYPoint {
  double x = 0;
  double y = 0;
  std::string label{};             // drawn beside the marker; empty: none
};

struct XYSeries {
  std::string label{};               // legend text; empty: not in the legend
  std::vector<XYPoint> points{};     // drawn (and joined) in this order
  std::string color = "#0f766e";
  double width_px = 1.6;
  bool line = true;                  // a polyline through the points
  bool markers = true;               // a marker at every point
  bool square_markers = false;       // squares instead of circles (e.g. single runs beside curves)
  bool dashed = false;
};

struct XYChart {
  std::string title;
  std::string subtitle;
  std::string x_label;             // under the x axis, e.g. "accuracy loss (pts)"
  std::string y_label;             // above the y axis, e.g. "carbon (gCO2eq)"
  std::string footnote;
  int width_px = 960;
  int height_px = 480;
  std::vector<XYSeries> series;    // drawn in order
  std::optional<double> x_min;     // defaults as for the value axis of a time series: 0 when all
  std::optional<double> x_max;     // values >= 0, else a nice floor; a nice ceiling above
  std::optional<double> y_min;
  std::optional<double> y_max;
};

// Fails like RenderTimeSeriesSvg: no point at all, a coordinate not finite, a size below
// 200x150 px, an empty axis range.
StatusOr<std::string> RenderXYSvg(const XYChart& chart);

// Helpers exposed for tests and other writers.
std::string XmlEscape(const std::string& text);
// Nice tick values covering [lo, hi] with about `target` intervals.
std::vector<double> NiceTicks(double lo, double hi, int target);

}  // namespace ecomap::carbon
