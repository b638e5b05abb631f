// carbon/plot_svg.h: a small, dependency-free SVG writer for time-series line charts.
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

// Helpers exposed for tests and other writers.
std::string XmlEscape(const std::string& text);
// Nice tick values covering [lo, hi] with about `target` intervals.
std::vector<double> NiceTicks(double lo, double hi, int target);

}  // namespace ecomap::carbon
