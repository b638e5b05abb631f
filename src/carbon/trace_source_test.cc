#include "carbon/trace_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ecomap::carbon {
namespace {

using ::testing::HasSubstr;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint T(const char* s) { return ParseTimestamp(s).value(); }

// Hourly values 100, 110, ..., 150 from 2022-01-01T00:00Z.
Trace SixHours() {
  std::string text = "timestamp,gco2_per_kwh\n";
  for (int h = 0; h < 6; ++h) text += "2022-01-01T0" + std::to_string(h) + ":00Z," + std::to_string(100 + 10 * h) + "\n";
  return ParseTrace(text, "six.csv").value();
}

TEST(TraceSourceTest, LatestIsThePeriodInForce) {
  TraceSource src(SixHours());
  EXPECT_EQ(src.Name(), "trace:six.csv");
  struct Case {
    const char* now;
    double want;
    const char* period_start;
  } cases[] = {{"2022-01-01T00:00Z", 100, "2022-01-01T00:00Z"},
               {"2022-01-01T00:59:59Z", 100, "2022-01-01T00:00Z"},
               {"2022-01-01T01:00Z", 110, "2022-01-01T01:00Z"},
               {"2022-01-01T05:30Z", 150, "2022-01-01T05:00Z"}};
  for (const Case& c : cases) {
    StatusOr<CarbonReading> r = src.Latest(T(c.now));
    ASSERT_TRUE(r.ok()) << c.now << ": " << r.status().ToString();
    EXPECT_DOUBLE_EQ(r->intensity.value(), c.want) << c.now;
    EXPECT_EQ(r->time, T(c.period_start)) << c.now;
    EXPECT_FALSE(r->stale) << c.now;
    EXPECT_FALSE(r->forecast);
    EXPECT_EQ(r->source, "trace:six.csv");
  }
}

TEST(TraceSourceTest, StaleAfterTheEndAndErrorBeforeTheStart) {
  TraceSource src(SixHours());
  StatusOr<CarbonReading> end = src.Latest(T("2022-01-01T06:00Z"));  // the last period has ended
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->stale);
  EXPECT_DOUBLE_EQ(end->intensity.value(), 150);
  EXPECT_THAT(end->note, HasSubstr("ended at 2022-01-01T06:00:00Z"));
  StatusOr<CarbonReading> before = src.Latest(T("2021-12-31T23:59:59Z"));
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(before.status().message(), HasSubstr("before the start of trace six.csv"));
}

TEST(TraceSourceTest, StaleInsideAGap) {
  Trace t = ParseTrace("timestamp,gco2_per_kwh\n2022-01-01T00:00Z,1\n2022-01-01T01:00Z,2\n2022-01-01T05:00Z,3\n",
                       "gap.csv")
                .value();
  TraceSource src(t);
  StatusOr<CarbonReading> in_gap = src.Latest(T("2022-01-01T03:00Z"));
  ASSERT_TRUE(in_gap.ok());
  EXPECT_TRUE(in_gap->stale);
  EXPECT_THAT(in_gap->note, HasSubstr("gap"));
  EXPECT_FALSE(src.Latest(T("2022-01-01T01:30Z"))->stale);
}

TEST(TraceSourceTest, PerfectForecastIsLabelled) {
  TraceSource src(SixHours());
  StatusOr<std::vector<CarbonReading>> f = src.Forecast(T("2022-01-01T01:30Z"), hours(3));
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 3u);  // 02:00, 03:00, 04:00 (04:30 is the horizon)
  EXPECT_EQ((*f)[0].time, T("2022-01-01T02:00Z"));
  EXPECT_DOUBLE_EQ((*f)[2].intensity.value(), 140);
  for (const CarbonReading& r : *f) {
    EXPECT_TRUE(r.forecast);
    EXPECT_THAT(r.note, HasSubstr("perfect forecast"));
  }
  EXPECT_TRUE(src.Forecast(T("2022-01-01T05:00Z"), hours(3))->empty());
  EXPECT_FALSE(src.Forecast(T("2021-01-01T00:00Z"), hours(3)).ok());
  EXPECT_FALSE(src.Forecast(T("2022-01-01T01:00Z"), hours(-1)).ok());
}

TEST(TraceSourceTest, SeasonalForecastMode) {
  TraceSource src(SixHours(), {.forecast = TraceForecastMode::kSeasonal});
  StatusOr<std::vector<CarbonReading>> f = src.Forecast(T("2022-01-01T02:00Z"), hours(2));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 2u);
  // No same-hour history yet: the forecaster falls back to persistence of the value at 02:00.
  EXPECT_DOUBLE_EQ((*f)[0].intensity.value(), 120);
  EXPECT_TRUE((*f)[0].forecast);
  EXPECT_THAT((*f)[0].note, HasSubstr("modelled"));
}

TEST(TraceSourceTest, ReplayMapsWallClockToTraceTime) {
  // One hour of signal per wall second, starting at trace hour 2 when the wall clock reads W.
  const TimePoint wall0 = T("2030-06-01T12:00:00Z");
  ManualClock wall(wall0);
  Trace trace = SixHours();
  TraceSource src(trace, {.replay = ReplayMapping{wall0, T("2022-01-01T02:00Z"), 3600.0}});
  struct Step {
    Duration advance;
    double want;
    bool stale;
  } steps[] = {{seconds(0), 120, false},   {milliseconds(999), 120, false}, {milliseconds(1), 130, false},
               {milliseconds(2500), 150, false}, {seconds(1), 150, true}};
  for (const Step& s : steps) {
    wall.Advance(s.advance);
    StatusOr<CarbonReading> r = src.Latest(wall.Now());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_DOUBLE_EQ(r->intensity.value(), s.want) << FormatIso8601(wall.Now());
    EXPECT_EQ(r->stale, s.stale) << FormatIso8601(wall.Now());
    EXPECT_THAT(r->note, HasSubstr("replay x3600"));
  }
  // ReplayClock shows the same mapping as a Clock.
  ReplayClock clock(wall, ReplayMapping{wall0, T("2022-01-01T02:00Z"), 3600.0}, trace.Start(), trace.End());
  EXPECT_EQ(clock.Now(), T("2022-01-01T06:30Z"));
}

TEST(TraceSourceTest, ReplayLoops) {
  const TimePoint wall0 = T("2030-06-01T12:00:00Z");
  ManualClock wall(wall0);
  Trace trace = SixHours();
  ReplayMapping m{wall0, T("2022-01-01T04:00Z"), 3600.0, /*loop=*/true};
  TraceSource src(trace, {.replay = m});
  wall.Advance(seconds(3));  // 04:00 + 3 h = 07:00 -> wraps to 01:00
  StatusOr<CarbonReading> r = src.Latest(wall.Now());
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->intensity.value(), 110);
  EXPECT_FALSE(r->stale);
  ReplayClock clock(wall, m, trace.Start(), trace.End());
  EXPECT_EQ(clock.Now(), T("2022-01-01T01:00Z"));
}

TEST(TraceSourceTest, InvalidReplayFailsEveryCall) {
  const TimePoint wall0 = T("2030-06-01T12:00:00Z");
  struct Case {
    ReplayMapping m;
    const char* want;
  } cases[] = {{{wall0, T("2022-01-01T02:00Z"), 0.0}, "speedup 0"},
               {{wall0, T("2022-01-01T02:00Z"), -5.0}, "speedup -5"},
               {{wall0, T("2023-01-01T00:00Z"), 60.0}, "outside the trace"}};
  for (const Case& c : cases) {
    TraceSource src(SixHours(), {.replay = c.m});
    StatusOr<CarbonReading> r = src.Latest(wall0);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr(c.want));
    EXPECT_FALSE(src.Forecast(wall0, hours(1)).ok());
  }
}

}  // namespace
}  // namespace ecomap::carbon
