// carbon/plot_trace.h: an SVG chart of a carbon-intensity trace (`ecomap carbon plot`).
//
// Short windows (up to `band_threshold`, default 21 days) show every period as a line. Longer
// windows would be an unreadable scribble at one point per hour, so they show the daily mean as a
// line over a band from each UTC day's minimum to its maximum. A dashed rule marks the window's
// median. The title names the zone and the column; the subtitle the window, resolution and unit;
// the footnote carries the data attribution (Electricity Maps, ODbL) and the file name.
//
//   StatusOr<Trace> t = LoadTrace("data/carbon/ES_2022_hourly.csv");
//   StatusOr<std::string> svg = RenderTracePlot(*t, {.from = ParseTimestamp("2022-06-01").value()});
//
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string>

#include "carbon/trace.h"

namespace ecomap::carbon {

struct TracePlotOptions {
  std::optional<TimePoint> from{};   // inclusive; default: the trace's start
  std::optional<TimePoint> to{};     // exclusive; default: the trace's end
  int width_px = 960;
  int height_px = 440;
  Duration band_threshold = std::chrono::hours(24 * 21);  // longer windows: daily mean + min/max band
};

// Fails with InvalidArgument when the window holds no point or from >= to.
StatusOr<std::string> RenderTracePlot(const Trace& trace, const TracePlotOptions& options = {});

}  // namespace ecomap::carbon
