#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "carbon/plot_svg.h"
#include "carbon/plot_trace.h"

namespace ecomap::carbon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::hours;

TimePoint T(const char* s) { return ParseTimestamp(s).value(); }
std::string DataPath(const std::string& file) { return std::string(ECOMAP_SOURCE_DIR) + "/data/carbon/" + file; }

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Every '<' opens a tag that is closed: a cheap well-formedness check (no text '<' or '&' raw).
void ExpectBalancedTags(const std::string& svg) {
  EXPECT_EQ(Count(svg, "<svg"), 1u);
  EXPECT_EQ(Count(svg, "</svg>"), 1u);
  EXPECT_EQ(Count(svg, "<text"), Count(svg, "</text>"));
  EXPECT_EQ(Count(svg, "<g"), Count(svg, "</g>"));
  std::regex raw_amp("&(?!amp;|lt;|gt;|quot;|apos;)");
  EXPECT_FALSE(std::regex_search(svg, raw_amp));
}

TEST(PlotSvgTest, NiceTicks) {
  struct Case {
    double lo, hi;
    int target;
    std::vector<double> want;
  } cases[] = {{0, 317.5, 5, {0, 100, 200, 300, 400}},
               {0, 9, 5, {0, 2, 4, 6, 8, 10}},
               {0, 1, 4, {0, 0.25, 0.5, 0.75, 1}},
               {-3, 3, 3, {-4, -2, 0, 2, 4}}};
  for (const Case& c : cases) EXPECT_EQ(NiceTicks(c.lo, c.hi, c.target), c.want) << c.lo << ".." << c.hi;
}

TEST(PlotSvgTest, EscapesText) {
  EXPECT_EQ(XmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
}

TEST(PlotSvgTest, GenericChartHasTitleAxesLegendAndFootnote) {
  TimeSeriesChart c;
  c.title = "Power <test> & more";
  c.y_label = "W";
  c.footnote = "simulated";
  LineSeries l;
  l.label = "device power";
  for (int h = 0; h < 12; ++h) l.points.push_back({T("2022-03-03") + hours(h), 10.0 + h});
  c.lines.push_back(l);
  c.rules.push_back({15, "budget 15 W", "#b91c1c"});
  StatusOr<std::string> svg = RenderTimeSeriesSvg(c);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_THAT(*svg, HasSubstr("Power &lt;test&gt; &amp; more"));
  EXPECT_THAT(*svg, HasSubstr(">device power</text>"));
  EXPECT_THAT(*svg, HasSubstr(">budget 15 W</text>"));
  EXPECT_THAT(*svg, HasSubstr(">simulated</text>"));
  EXPECT_THAT(*svg, HasSubstr(">02:00</text>"));  // hour ticks on a 12-hour window
  EXPECT_THAT(*svg, HasSubstr(">Mar 3</text>"));   // midnight is labelled with the date
  EXPECT_THAT(*svg, HasSubstr(">20</text>"));      // value tick
  ExpectBalancedTags(*svg);
  // Deterministic.
  EXPECT_EQ(*svg, *RenderTimeSeriesSvg(c));
}

TEST(PlotSvgTest, GapsBreakTheLine) {
  TimeSeriesChart c;
  LineSeries l;
  l.max_gap = hours(2);
  l.points = {{T("2022-01-01T00:00Z"), 1}, {T("2022-01-01T01:00Z"), 2}, {T("2022-01-01T08:00Z"), 3},
              {T("2022-01-01T09:00Z"), 4}};
  c.lines.push_back(l);
  StatusOr<std::string> svg = RenderTimeSeriesSvg(c);
  ASSERT_TRUE(svg.ok());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*svg, m, std::regex("<path d=\"(M[^\"]*)\" fill=\"none\"")));
  EXPECT_EQ(Count(m[1].str(), "M"), 2u);
}

TEST(PlotSvgTest, RejectsEmptyOrBadCharts) {
  TimeSeriesChart empty;
  EXPECT_FALSE(RenderTimeSeriesSvg(empty).ok());
  TimeSeriesChart nan;
  nan.lines.push_back({.label = "x", .points = {{T("2022-01-01"), std::nan("")}}});
  EXPECT_FALSE(RenderTimeSeriesSvg(nan).ok());
  TimeSeriesChart tiny;
  tiny.lines.push_back({.label = "x", .points = {{T("2022-01-01"), 1}}});
  tiny.width_px = 10;
  EXPECT_FALSE(RenderTimeSeriesSvg(tiny).ok());
}

TEST(PlotSvgTest, XYChartDrawsEachSeriesInItsOrderWithAxisLabels) {
  XYChart c;
  c.title = "Carbon against accuracy loss";
  c.x_label = "accuracy loss (pts)";
  c.y_label = "carbon (g) & more";
  c.footnote = "simulated";
  c.series.push_back({.label = "curve", .points = {{0, 500}, {1, 300}, {2.5, 250}}});
  c.series.push_back({.label = "runs", .points = {{0.5, 400, "maxn"}, {0.5, 400, "powercap"}}, .color = "#4b5563",
                      .line = false, .square_markers = true});
  StatusOr<std::string> svg = RenderXYSvg(c);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  ExpectBalancedTags(*svg);
  EXPECT_THAT(*svg, HasSubstr(">accuracy loss (pts)</text>"));
  EXPECT_THAT(*svg, HasSubstr(">carbon (g) &amp; more</text>"));
  EXPECT_THAT(*svg, HasSubstr(">simulated</text>"));
  EXPECT_THAT(*svg, HasSubstr(">curve</text>"));  // legend
  EXPECT_THAT(*svg, HasSubstr(">2.5</text>"));    // x tick
  EXPECT_EQ(Count(*svg, "class=\"xy-series\""), 2u);
  EXPECT_EQ(Count(*svg, "<polyline"), 1u);  // the runs are markers only
  // The curve's points in its order, left to right: x grows with the loss, y falls with carbon.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*svg, m, std::regex("<polyline points=\"([^\"]*)\"")));
  std::vector<std::pair<double, double>> pts;
  std::istringstream in(m[1].str());
  for (std::string p; in >> p;) pts.push_back({std::stod(p), std::stod(p.substr(p.find(',') + 1))});
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_LT(pts[0].first, pts[1].first);
  EXPECT_LT(pts[1].first, pts[2].first);
  EXPECT_LT(pts[0].second, pts[1].second);  // SVG y grows downwards
  // Two runs at one point: both labels drawn, the second moved below the first.
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(*svg, a, std::regex("y=\"([0-9.]+)\" font-size=\"11\" fill=\"#4b5563\">maxn<")));
  ASSERT_TRUE(std::regex_search(*svg, b, std::regex("y=\"([0-9.]+)\" font-size=\"11\" fill=\"#4b5563\">powercap<")));
  EXPECT_GE(std::stod(b[1].str()) - std::stod(a[1].str()), 11.0);
  EXPECT_EQ(*svg, *RenderXYSvg(c));  // deterministic
}

TEST(PlotSvgTest, XYChartRejectsEmptyOrBadCharts) {
  EXPECT_FALSE(RenderXYSvg(XYChart{}).ok());
  XYChart nan;
  nan.series.push_back({.label = "x", .points = {{1, std::nan("")}}});
  EXPECT_FALSE(RenderXYSvg(nan).ok());
  XYChart tiny;
  tiny.series.push_back({.label = "x", .points = {{1, 1}}});
  tiny.height_px = 100;
  EXPECT_FALSE(RenderXYSvg(tiny).ok());
}

TEST(PlotTraceTest, YearUsesDailyBandWithMonthTicksAndAttribution) {
  StatusOr<Trace> t = LoadTrace(DataPath("ES_2022_hourly.csv"));
  ASSERT_TRUE(t.ok());
  StatusOr<std::string> svg = RenderTracePlot(*t);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_THAT(*svg, HasSubstr("ES (direct)"));
  EXPECT_THAT(*svg, HasSubstr("daily min"));
  EXPECT_THAT(*svg, HasSubstr(">daily mean</text>"));
  EXPECT_THAT(*svg, HasSubstr(">Jan 2022</text>"));
  EXPECT_THAT(*svg, HasSubstr(">Jul</text>"));
  EXPECT_THAT(*svg, HasSubstr("ODbL"));
  EXPECT_THAT(*svg, HasSubstr("median 165"));
  EXPECT_LT(svg->size(), 200u * 1024u);
  ExpectBalancedTags(*svg);
}

TEST(PlotTraceTest, WeekWindowDrawsEveryHour) {
  StatusOr<Trace> t = LoadTrace(DataPath("US-CAL-CISO_2023_hourly.csv"), {.column = TraceColumn::kLifecycle});
  ASSERT_TRUE(t.ok());
  StatusOr<std::string> svg = RenderTracePlot(*t, {.from = T("2023-06-01"), .to = T("2023-06-08")});
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_THAT(*svg, HasSubstr("US-CAL-CISO (life cycle)"));
  EXPECT_THAT(*svg, HasSubstr(">hourly intensity</text>"));
  EXPECT_THAT(*svg, Not(HasSubstr("daily min")));
  EXPECT_THAT(*svg, HasSubstr(">Jun 1</text>"));
  EXPECT_THAT(*svg, HasSubstr("168 points"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*svg, m, std::regex("<path d=\"(M[^\"]*)\" fill=\"none\"")));
  EXPECT_EQ(Count(m[1].str(), "L"), 167u);
  ExpectBalancedTags(*svg);
}

TEST(PlotTraceTest, BadWindows) {
  StatusOr<Trace> t = LoadTrace(DataPath("ES_2022_hourly.csv"));
  ASSERT_TRUE(t.ok());
  StatusOr<std::string> reversed = RenderTracePlot(*t, {.from = T("2022-06-08"), .to = T("2022-06-01")});
  ASSERT_FALSE(reversed.ok());
  EXPECT_THAT(reversed.status().message(), HasSubstr("not before --to"));
  StatusOr<std::string> outside = RenderTracePlot(*t, {.from = T("2030-01-01")});
  ASSERT_FALSE(outside.ok());
  EXPECT_THAT(outside.status().message(), HasSubstr("no points of ES_2022_hourly.csv"));
}

}  // namespace
}  // namespace ecomap::carbon
