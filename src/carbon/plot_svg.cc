#include "carbon/plot_svg.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace ecomap::carbon {
namespace {

using std::chrono::days;
using std::chrono::hours;

constexpr const char* kFont = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', Helvetica, Arial, sans-serif";
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string TickText(double v) {
  if (std::fabs(v) < 1e-9) v = 0;
  return fmt::format("{:g}", v);
}

struct TimeTick {
  TimePoint time;
  std::string label;
};

std::string DayLabel(std::chrono::year_month_day ymd) {
  return std::string(kMonths[static_cast<unsigned>(ymd.month()) - 1]) + " " +
         std::to_string(static_cast<unsigned>(ymd.day()));
}

// Ticks for [lo, hi] with at most `max_ticks` ticks, from hours to years.
std::vector<TimeTick> TimeTicks(TimePoint lo, TimePoint hi, int max_ticks) {
  using namespace std::chrono;
  const double span_h = duration<double, std::ratio<3600>>(hi - lo).count();
  std::vector<TimeTick> out;
  // Fixed steps (hours, days, weeks).
  const int hour_steps[] = {1, 2, 3, 6, 12, 24, 48, 168, 336};
  for (int step_h : hour_steps) {
    if (span_h / step_h > max_ticks) continue;
    const long long step_ms = step_h * 3600000LL;
    // Days and weeks align to UTC midnight; weeks to Mondays (1970-01-05 was a Monday).
    const long long align = step_h == 168 || step_h == 336 ? 4 * 86400000LL : 0;
    long long first = (lo.time_since_epoch().count() - align + step_ms - 1) / step_ms * step_ms + align;
    if (first < lo.time_since_epoch().count()) first += step_ms;
    for (long long t = first; t <= hi.time_since_epoch().count(); t += step_ms) {
      TimePoint tp{Duration(t)};
      auto d = floor<days>(tp);
      year_month_day ymd(d);
      std::string label;
      if (step_h < 24 && tp != d) {
        hh_mm_ss<Duration> hms(tp - d);
        label = fmt::format("{:02}:{:02}", static_cast<long long>(hms.hours().count()),
                            static_cast<long long>(hms.minutes().count()));
      } else {
        label = DayLabel(ymd);
      }
      out.push_back({tp, label});
    }
    return out;
  }
  // Calendar steps: months, then years.
  const int month_steps[] = {1, 2, 3, 6, 12, 24, 60, 120};
  for (int step_m : month_steps) {
    if (span_h / (step_m * 730.0) > max_ticks && step_m != 120) continue;
    year_month_day start(floor<days>(lo));
    year_month ym(start.year(), start.month());
    bool first = true;
    for (;; ym += months(1)) {
      TimePoint tp = time_point_cast<Duration>(sys_days(ym / 1));
      if (tp > hi) break;
      const int idx = static_cast<int>(ym.year()) * 12 + static_cast<int>(static_cast<unsigned>(ym.month())) - 1;
      if (tp < lo || idx % step_m != 0) continue;
      std::string label;
      if (step_m >= 12) {
        label = std::to_string(static_cast<int>(ym.year()));
      } else {
        label = kMonths[static_cast<unsigned>(ym.month()) - 1];
        if (first || ym.month() == January) label += " " + std::to_string(static_cast<int>(ym.year()));
      }
      first = false;
      out.push_back({tp, label});
    }
    return out;
  }
  return out;
}

double TextWidth(const std::string& s, double font_px) {
  // Rough advance width of a sans-serif font: 0.56 em per character (UTF-8 continuation bytes
  // do not count).
  size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return static_cast<double>(chars) * font_px * 0.56;
}

std::string F1(double v) { return fmt::format("{:.1f}", v); }

// The opening of a chart, shared by both kinds: the <svg> element, its <title>, the white
// background, a clip path `clip_id` over the plotting area, the title and the subtitle.
std::string SvgHead(int width_px, int height_px, const std::string& title, const std::string& subtitle, double left,
                    double top, double pw, double ph, const std::string& clip_id = "plot");

// A value axis over the data's [vmin, vmax] with the chart's optional fixed ends: its nice
// ticks and its ends (the outer ticks unless fixed).
struct Axis {
  std::vector<double> ticks;
  double a0 = 0, a1 = 1;
};
Axis ValueAxis(double vmin, double vmax, std::optional<double> fixed_min, std::optional<double> fixed_max);

}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!(hi > lo) || target < 1) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw * 0.999) {
      step = m * mag;
      break;
    }
  }
  const double start = std::floor(lo / step + 1e-9) * step;
  const double end = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (int i = 0;; ++i) {
    double v = start + i * step;
    if (v > end + step * 1e-6) break;
    ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return ticks;
}

namespace {

std::string SvgHead(int width_px, int height_px, const std::string& title, const std::string& subtitle, double left,
                    double top, double pw, double ph, const std::string& clip_id) {
  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width_px) + "\" height=\"" +
       std::to_string(height_px) + "\" viewBox=\"0 0 " + std::to_string(width_px) + " " +
       std::to_string(height_px) + "\" font-family=\"" + kFont + "\">\n";
  s += "<title>" + XmlEscape(title) + "</title>\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  s += "<defs><clipPath id=\"" + clip_id + "\"><rect x=\"" + F1(left) + "\" y=\"" + F1(top - 1) + "\" width=\"" + F1(pw) +
       "\" height=\"" + F1(ph + 2) + "\"/></clipPath></defs>\n";
  s += "<text x=\"" + F1(left) + "\" y=\"28\" font-size=\"17\" font-weight=\"600\" fill=\"#111827\">" +
       XmlEscape(title) + "</text>\n";
  if (!subtitle.empty()) {
    s += "<text x=\"" + F1(left) + "\" y=\"48\" font-size=\"12\" fill=\"#6b7280\">" + XmlEscape(subtitle) +
         "</text>\n";
  }
  return s;
}

Axis ValueAxis(double vmin, double vmax, std::optional<double> fixed_min, std::optional<double> fixed_max) {
  const double lo = fixed_min.value_or(vmin >= 0 ? 0.0 : vmin);
  double hi = fixed_max.value_or(vmax);
  if (!(hi > lo)) hi = lo + 1;
  Axis a;
  a.ticks = NiceTicks(lo, hi, 5);
  a.a0 = fixed_min ? *fixed_min : a.ticks.front();
  a.a1 = fixed_max ? *fixed_max : a.ticks.back();
  return a;
}

// A marker at (x, y): a circle, or a square of the same area.
std::string Marker(double x, double y, const std::string& color, bool square) {
  if (square) {
    return "<rect x=\"" + F1(x - 4) + "\" y=\"" + F1(y - 4) + "\" width=\"8\" height=\"8\" fill=\"" + XmlEscape(color) +
           "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n";
  }
  return "<circle cx=\"" + F1(x) + "\" cy=\"" + F1(y) + "\" r=\"4\" fill=\"" + XmlEscape(color) +
         "\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n";
}

}  // namespace

StatusOr<std::string> RenderTimeSeriesSvg(const TimeSeriesChart& c) {
  if (c.width_px < 200 || c.height_px < 150) {
    return InvalidArgument("chart size " + std::to_string(c.width_px) + "x" + std::to_string(c.height_px) +
                           " px is too small; use at least 200x150");
  }
  // Data ranges.
  double vmin = std::numeric_limits<double>::infinity(), vmax = -vmin;
  TimePoint tmin = TimePoint::max(), tmax = TimePoint::min();
  size_t n = 0;
  auto take = [&](const ChartPoint& p) -> Status {
    if (!std::isfinite(p.value)) {
      return InvalidArgument("chart value at " + FormatIso8601(p.time) + " is not a finite number");
    }
    vmin = std::min(vmin, p.value);
    vmax = std::max(vmax, p.value);
    tmin = std::min(tmin, p.time);
    tmax = std::max(tmax, p.time);
    ++n;
    return Status::Ok();
  };
  for (const LineSeries& l : c.lines) {
    for (const ChartPoint& p : l.points) ECOMAP_RETURN_IF_ERROR(take(p));
  }
  for (const BandSeries& b : c.bands) {
    if (b.low.size() != b.high.size()) return InvalidArgument("band '" + b.label + "': low and high differ in length");
    for (const ChartPoint& p : b.low) ECOMAP_RETURN_IF_ERROR(take(p));
    for (const ChartPoint& p : b.high) ECOMAP_RETURN_IF_ERROR(take(p));
  }
  if (n == 0) return InvalidArgument("chart '" + c.title + "' has no data points");
  for (const HorizontalRule& r : c.rules) {
    vmin = std::min(vmin, r.value);
    vmax = std::max(vmax, r.value);
  }
  TimePoint x0 = c.x_min.value_or(tmin), x1 = c.x_max.value_or(tmax);
  if (x1 <= x0) x1 = x0 + hours(1);
  const Axis ya = ValueAxis(vmin, vmax, c.y_min, c.y_max);
  const std::vector<double>& yt = ya.ticks;
  const double y0 = ya.a0, y1 = ya.a1;
  if (!(y1 > y0)) return InvalidArgument("chart value axis is empty (y_min >= y_max)");

  // Layout.
  const double W = c.width_px, H = c.height_px;
  const double left = 62, right = W - 36, top = 74, bottom = H - 58;
  const double pw = right - left, ph = bottom - top;
  const double xspan_ms = static_cast<double>((x1 - x0).count());
  auto X = [&](TimePoint t) { return left + pw * static_cast<double>((t - x0).count()) / xspan_ms; };
  auto Y = [&](double v) { return bottom - ph * (v - y0) / (y1 - y0); };

  std::string s;
  s.reserve(64 * 1024);
  s += SvgHead(c.width_px, c.height_px, c.title, c.subtitle, left, top, pw, ph);
  if (!c.y_label.empty()) {
    s += "<text x=\"" + fmt::format("{:.1f}", left - 8) + "\" y=\"" + fmt::format("{:.1f}", top - 12) +
         "\" font-size=\"11\" fill=\"#4b5563\" text-anchor=\"start\">" + XmlEscape(c.y_label) + "</text>\n";
  }
  // Grid and value ticks.
  s += "<g font-size=\"11\" fill=\"#4b5563\">\n";
  for (double v : yt) {
    if (v < y0 - 1e-9 || v > y1 + 1e-9) continue;
    const double y = Y(v);
    s += "<line x1=\"" + fmt::format("{:.1f}", left) + "\" x2=\"" + fmt::format("{:.1f}", right) + "\" y1=\"" + fmt::format("{:.1f}", y) + "\" y2=\"" + fmt::format("{:.1f}", y) +
         "\" stroke=\"" + (std::fabs(v - y0) < 1e-9 ? "#9ca3af" : "#e5e7eb") + "\" stroke-width=\"1\"/>\n";
    s += "<text x=\"" + fmt::format("{:.1f}", left - 8) + "\" y=\"" + fmt::format("{:.1f}", y + 4) + "\" text-anchor=\"end\">" + TickText(v) +
         "</text>\n";
  }
  // Time ticks.
  const int max_ticks = std::max(3, static_cast<int>(pw / 95));
  for (const TimeTick& t : TimeTicks(x0, x1, max_ticks)) {
    const double x = X(t.time);
    s += "<line x1=\"" + fmt::format("{:.1f}", x) + "\" x2=\"" + fmt::format("{:.1f}", x) + "\" y1=\"" + fmt::format("{:.1f}", top) + "\" y2=\"" + fmt::format("{:.1f}", bottom) +
         "\" stroke=\"#f0f1f3\" stroke-width=\"1\"/>\n";
    s += "<line x1=\"" + fmt::format("{:.1f}", x) + "\" x2=\"" + fmt::format("{:.1f}", x) + "\" y1=\"" + fmt::format("{:.1f}", bottom) + "\" y2=\"" + fmt::format("{:.1f}", bottom + 5) +
         "\" stroke=\"#9ca3af\" stroke-width=\"1\"/>\n";
    s += "<text x=\"" + fmt::format("{:.1f}", x) + "\" y=\"" + fmt::format("{:.1f}", bottom + 19) + "\" text-anchor=\"middle\">" + XmlEscape(t.label) +
         "</text>\n";
  }
  s += "</g>\n";
  // Bands.
  s += "<g clip-path=\"url(#plot)\">\n";
  for (const BandSeries& b : c.bands) {
    if (b.high.empty()) continue;
    std::string d;
    for (size_t i = 0; i < b.high.size(); ++i) {
      d += (i == 0 ? "M" : "L") + fmt::format("{:.1f}", X(b.high[i].time)) + "," + fmt::format("{:.1f}", Y(b.high[i].value)) + " ";
    }
    for (size_t i = b.low.size(); i-- > 0;) d += "L" + fmt::format("{:.1f}", X(b.low[i].time)) + "," + fmt::format("{:.1f}", Y(b.low[i].value)) + " ";
    d += "Z";
    s += "<path d=\"" + d + "\" fill=\"" + XmlEscape(b.color) + "\" fill-opacity=\"" + fmt::format("{:.2f}", b.opacity) + "\" stroke=\"none\"/>\n";
  }
  // Lines.
  for (const LineSeries& l : c.lines) {
    if (l.points.empty()) continue;
    std::string d;
    for (size_t i = 0; i < l.points.size(); ++i) {
      const ChartPoint& p = l.points[i];
      const bool gap = i > 0 && l.max_gap && p.time - l.points[i - 1].time > *l.max_gap;
      if (i == 0 || gap) {
        d += "M" + fmt::format("{:.1f}", X(p.time)) + "," + fmt::format("{:.1f}", Y(p.value)) + " ";
      } else if (l.step) {
        d += "H" + fmt::format("{:.1f}", X(p.time)) + " V" + fmt::format("{:.1f}", Y(p.value)) + " ";
      } else {
        d += "L" + fmt::format("{:.1f}", X(p.time)) + "," + fmt::format("{:.1f}", Y(p.value)) + " ";
      }
    }
    s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + XmlEscape(l.color) + "\" stroke-width=\"" + fmt::format("{:.2f}", l.width_px) +
         "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" +
         (l.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
  }
  s += "</g>\n";
  // Reference rules with their labels at the right end.
  for (const HorizontalRule& r : c.rules) {
    if (r.value < y0 || r.value > y1) continue;
    const double y = Y(r.value);
    s += "<line x1=\"" + fmt::format("{:.1f}", left) + "\" x2=\"" + fmt::format("{:.1f}", right) + "\" y1=\"" + fmt::format("{:.1f}", y) + "\" y2=\"" + fmt::format("{:.1f}", y) +
         "\" stroke=\"" + XmlEscape(r.color) + "\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>\n";
    if (!r.label.empty()) {
      const double tw = TextWidth(r.label, 11) + 8;
      s += "<rect x=\"" + fmt::format("{:.1f}", right - tw - 2) + "\" y=\"" + fmt::format("{:.1f}", y - 15) + "\" width=\"" + fmt::format("{:.1f}", tw) +
           "\" height=\"14\" rx=\"2\" fill=\"#ffffff\" fill-opacity=\"0.6\"/>\n";
      s += "<text x=\"" + fmt::format("{:.1f}", right - 6) + "\" y=\"" + fmt::format("{:.1f}", y - 4) + "\" font-size=\"11\" fill=\"" +
           XmlEscape(r.color) + "\" text-anchor=\"end\">" + XmlEscape(r.label) + "</text>\n";
    }
  }
  // Legend, right-aligned on the title row.
  {
    double x = right;
    std::string legend;
    // Bands then lines, laid out right to left.
    struct Entry {
      std::string label, color;
      bool band;
      bool dashed;
    };
    std::vector<Entry> entries;
    for (const BandSeries& b : c.bands) entries.push_back({b.label, b.color, true, false});
    for (const LineSeries& l : c.lines) entries.push_back({l.label, l.color, false, l.dashed});
    for (size_t i = entries.size(); i-- > 0;) {
      const Entry& e = entries[i];
      if (e.label.empty()) continue;
      x -= TextWidth(e.label, 12);
      legend += "<text x=\"" + fmt::format("{:.1f}", x) + "\" y=\"64\" font-size=\"12\" fill=\"#374151\">" + XmlEscape(e.label) +
                "</text>\n";
      x -= 24;
      if (e.band) {
        legend += "<rect x=\"" + fmt::format("{:.1f}", x) + "\" y=\"55\" width=\"18\" height=\"11\" rx=\"2\" fill=\"" +
                  XmlEscape(e.color) + "\" fill-opacity=\"0.35\"/>\n";
      } else {
        legend += "<line x1=\"" + fmt::format("{:.1f}", x) + "\" x2=\"" + fmt::format("{:.1f}", x + 18) + "\" y1=\"60\" y2=\"60\" stroke=\"" +
                  XmlEscape(e.color) + "\" stroke-width=\"2.2\"" + (e.dashed ? " stroke-dasharray=\"4 3\"" : "") +
                  "/>\n";
      }
      x -= 16;
    }
    s += legend;
  }
  if (!c.footnote.empty()) {
    s += "<text x=\"" + fmt::format("{:.1f}", left) + "\" y=\"" + fmt::format("{:.1f}", H - 12) + "\" font-size=\"10\" fill=\"#9ca3af\">" +
         XmlEscape(c.footnote) + "</text>\n";
  }
  s += "</svg>\n";
  return s;
}

StatusOr<std::string> RenderXYSvg(const XYChart& c) {
  if (c.width_px < 200 || c.height_px < 150) {
    return InvalidArgument("chart size " + std::to_string(c.width_px) + "x" + std::to_string(c.height_px) +
                           " px is too small; use at least 200x150");
  }
  const double inf = std::numeric_limits<double>::infinity();
  double xmin = inf, xmax = -inf, ymin = inf, ymax = -inf;
  size_t n = 0;
  for (const XYSeries& l : c.series) {
    for (const XYPoint& p : l.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
        return InvalidArgument(fmt::format("chart '{}': point ({}, {}) of '{}' is not finite", c.title, p.x, p.y,
                                           l.label));
      }
      xmin = std::min(xmin, p.x), xmax = std::max(xmax, p.x);
      ymin = std::min(ymin, p.y), ymax = std::max(ymax, p.y);
      ++n;
    }
  }
  if (n == 0) return InvalidArgument("chart '" + c.title + "' has no data points");
  const Axis xa = ValueAxis(xmin, xmax, c.x_min, c.x_max);
  const Axis ya = ValueAxis(ymin, ymax, c.y_min, c.y_max);
  if (!(xa.a1 > xa.a0) || !(ya.a1 > ya.a0)) return InvalidArgument("chart axis is empty (min >= max)");

  // Layout: the legend wraps over rows under the subtitle, the plot starts below it.
  const double W = c.width_px, H = c.height_px;
  const double left = 62, right = W - 36;
  struct Entry {
    const XYSeries* s;
    double x, y;
  };
  std::vector<Entry> legend;
  {
    double x = left, y = 66;
    for (const XYSeries& l : c.series) {
      if (l.label.empty()) continue;
      const double w = 24 + TextWidth(l.label, 12) + 16;
      if (x > left && x + w > right) x = left, y += 18;
      legend.push_back({&l, x, y});
      x += w;
    }
  }
  const double top = (legend.empty() ? 56 : legend.back().y) + 22, bottom = H - 70;
  const double pw = right - left, ph = bottom - top;
  if (ph < 40) return InvalidArgument("chart '" + c.title + "': too many legend rows for its height");
  auto X = [&](double v) { return left + pw * (v - xa.a0) / (xa.a1 - xa.a0); };
  auto Y = [&](double v) { return bottom - ph * (v - ya.a0) / (ya.a1 - ya.a0); };

  // The time series share one layout and so one clip id; an XY chart's plotting area depends on
  // its legend, so its clip id is its own (FNV-1a of the title: deterministic), or a page with
  // both kinds would clip it with the first chart's rectangle.
  uint32_t h = 2166136261u;
  for (unsigned char ch : c.title) h = (h ^ ch) * 16777619u;
  const std::string clip = fmt::format("xy-plot-{:08x}", h);
  std::string s;
  s.reserve(32 * 1024);
  s += SvgHead(c.width_px, c.height_px, c.title, c.subtitle, left, top, pw, ph, clip);
  if (!c.y_label.empty()) {
    s += "<text x=\"" + F1(left - 8) + "\" y=\"" + F1(top - 8) +
         "\" font-size=\"11\" fill=\"#4b5563\" text-anchor=\"start\">" + XmlEscape(c.y_label) + "</text>\n";
  }
  if (!c.x_label.empty()) {
    s += "<text x=\"" + F1(left + pw / 2) + "\" y=\"" + F1(bottom + 36) +
         "\" font-size=\"11\" fill=\"#4b5563\" text-anchor=\"middle\">" + XmlEscape(c.x_label) + "</text>\n";
  }
  // Grid and ticks of both axes.
  s += "<g font-size=\"11\" fill=\"#4b5563\">\n";
  for (double v : ya.ticks) {
    if (v < ya.a0 - 1e-9 || v > ya.a1 + 1e-9) continue;
    const double y = Y(v);
    s += "<line x1=\"" + F1(left) + "\" x2=\"" + F1(right) + "\" y1=\"" + F1(y) + "\" y2=\"" + F1(y) + "\" stroke=\"" +
         (std::fabs(v - ya.a0) < 1e-9 ? "#9ca3af" : "#e5e7eb") + "\" stroke-width=\"1\"/>\n";
    s += "<text x=\"" + F1(left - 8) + "\" y=\"" + F1(y + 4) + "\" text-anchor=\"end\">" + TickText(v) + "</text>\n";
  }
  for (double v : NiceTicks(xa.a0, xa.a1, std::max(3, static_cast<int>(pw / 95)))) {
    if (v < xa.a0 - 1e-9 || v > xa.a1 + 1e-9) continue;
    const double x = X(v);
    s += "<line x1=\"" + F1(x) + "\" x2=\"" + F1(x) + "\" y1=\"" + F1(top) + "\" y2=\"" + F1(bottom) + "\" stroke=\"" +
         (std::fabs(v - xa.a0) < 1e-9 ? "#9ca3af" : "#f0f1f3") + "\" stroke-width=\"1\"/>\n";
    s += "<text x=\"" + F1(x) + "\" y=\"" + F1(bottom + 19) + "\" text-anchor=\"middle\">" + TickText(v) + "</text>\n";
  }
  s += "</g>\n";
  // Series: polyline, markers, then the markers' labels (moved down where they would cover an
  // earlier label, so that runs at the same point stay readable).
  struct Box {
    double x0, y0, x1, y1;
  };
  std::vector<Box> placed;
  for (const XYSeries& l : c.series) {
    s += "<g class=\"xy-series\" data-label=\"" + XmlEscape(l.label) + "\">\n";
    if (l.line && l.points.size() > 1) {
      std::string pts;
      for (const XYPoint& p : l.points) pts += (pts.empty() ? "" : " ") + F1(X(p.x)) + "," + F1(Y(p.y));
      s += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + XmlEscape(l.color) + "\" stroke-width=\"" +
           fmt::format("{:.2f}", l.width_px) + "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" +
           (l.dashed ? " stroke-dasharray=\"6 4\"" : "") + " clip-path=\"url(#" + clip + ")\"/>\n";
    }
    if (l.markers) {
      for (const XYPoint& p : l.points) s += Marker(X(p.x), Y(p.y), l.color, l.square_markers);
    }
    for (const XYPoint& p : l.points) {
      if (p.label.empty()) continue;
      const double w = TextWidth(p.label, 11);
      double x = X(p.x) + 7, y = Y(p.y) - 6;
      if (x + w > W - 4) x = X(p.x) - 7 - w;  // keep it inside the chart
      for (bool moved = true; moved;) {
        moved = false;
        for (const Box& b : placed) {
          if (x < b.x1 && x + w > b.x0 && y - 10 < b.y1 && y + 2 > b.y0) {
            y = b.y1 + 11;
            moved = true;
          }
        }
      }
      placed.push_back({x, y - 10, x + w, y + 2});
      s += "<text x=\"" + F1(x) + "\" y=\"" + F1(y) + "\" font-size=\"11\" fill=\"" + XmlEscape(l.color) + "\">" +
           XmlEscape(p.label) + "</text>\n";
    }
    s += "</g>\n";
  }
  // Legend.
  for (const Entry& e : legend) {
    const XYSeries& l = *e.s;
    const double mid = e.y - 4;
    if (l.line) {
      s += "<line x1=\"" + F1(e.x) + "\" x2=\"" + F1(e.x + 18) + "\" y1=\"" + F1(mid) + "\" y2=\"" + F1(mid) +
           "\" stroke=\"" + XmlEscape(l.color) + "\" stroke-width=\"2.2\"" +
           (l.dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>\n";
    }
    if (l.markers) s += Marker(e.x + 9, mid, l.color, l.square_markers);
    s += "<text x=\"" + F1(e.x + 24) + "\" y=\"" + F1(e.y) + "\" font-size=\"12\" fill=\"#374151\">" +
         XmlEscape(l.label) + "</text>\n";
  }
  if (!c.footnote.empty()) {
    s += "<text x=\"" + F1(left) + "\" y=\"" + F1(H - 12) + "\" font-size=\"10\" fill=\"#9ca3af\">" +
         XmlEscape(c.footnote) + "</text>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace ecomap::carbon
