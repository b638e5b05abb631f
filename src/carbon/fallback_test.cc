#include "carbon/fallback.h"

#include <gtest/gtest.h>

#include "carbon/electricitymaps.h"
#include "carbon/live_test_server.h"
#include "carbon/trace.h"
#include "carbon/trace_source.h"

namespace ecomap::carbon {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using testing::RecordedServer;
using testing::TestData;

constexpr const char* kLatest = "/v3/carbon-intensity/latest";
constexpr const char* kForecast = "/v3/carbon-intensity/forecast";
constexpr const char* kLive = "electricitymaps:US-MIDW-MISO";

TimePoint T(const char* s) { return *ParseTimestamp(s); }

// A real Electricity Maps client against the recorded server, behind a cache, with the bundled
// test trace as the last resort.
class FallbackTest : public ::testing::Test {
 protected:
  FallbackTest() : clock_(T("2024-09-24T03:20:00Z")) {
    server_.Script(kLatest, {{200, TestData("em_latest.json")}});
    server_.Script(kForecast, {{200, TestData("em_forecast.json")}});
  }
  std::unique_ptr<FallbackSource> Make(FallbackOptions fo, bool with_trace = true) {
    ElectricityMapsOptions o;
    o.base_url = server_.base_url();
    o.token = "t";
    o.zone = "US-MIDW-MISO";
    o.http.total_timeout = milliseconds(300);
    o.http.retry.max_attempts = 2;
    o.http.sleep = [](Duration) {};
    auto em = ElectricityMapsSource::Create(o);
    EXPECT_TRUE(em.ok());
    auto cached = std::make_unique<CachedSource>(std::move(em).value(), clock_,
                                                 CacheOptions{minutes(5), minutes(30), hours(2)});
    std::unique_ptr<CarbonSource> trace;
    if (with_trace) {
      StatusOr<Trace> t =
          LoadTrace(std::string(ECOMAP_SOURCE_DIR) + "/src/carbon/testdata/live/fallback_trace.csv");
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      trace = std::make_unique<TraceSource>(std::move(t).value());
    }
    return std::make_unique<FallbackSource>(std::move(cached), std::move(trace), clock_, fo);
  }
  StatusOr<CarbonReading> Read(FallbackSource& s) { return s.Latest(clock_.Now()); }

  RecordedServer server_;
  ManualClock clock_;
};

TEST_F(FallbackTest, OutageServesStaleForecastThenRecovers) {
  auto src =
      Make({.last_known_max_age = hours(6), .forecast_horizon = hours(24), .live_cooldown = minutes(2)});
  // 1. Live works: fresh, from the provider; the forecast is fetched on the side.
  StatusOr<CarbonReading> r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, kLive);
  EXPECT_FALSE(r->stale);
  EXPECT_DOUBLE_EQ(r->intensity.value(), 466);
  EXPECT_EQ(server_.hits(kForecast), 1);

  // 2. The provider starts failing (HTTP 500). Past the cache TTL, readings come from the
  //    cached forecast, stale, and say why.
  server_.Script(kLatest, {{500, R"({"error":"internal"})"}});
  clock_.Advance(minutes(50));  // 04:10
  r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, std::string(kLive) + "/forecast");
  EXPECT_TRUE(r->stale);
  EXPECT_TRUE(r->forecast);
  EXPECT_EQ(r->time, T("2024-09-24T04:00:00Z"));
  EXPECT_DOUBLE_EQ(r->intensity.value(), 482);
  EXPECT_NE(r->note.find("live provider failed"), std::string::npos) << r->note;
  EXPECT_NE(r->note.find("HTTP 500"), std::string::npos) << r->note;
  const int hits_at_failure = server_.hits(kLatest);

  // 3. Within the cool-down the provider is not asked again; readings keep coming.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::seconds(20));
    r = Read(*src);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->stale);
    EXPECT_NE(r->note.find("skipped until"), std::string::npos) << r->note;
  }
  EXPECT_EQ(server_.hits(kLatest), hits_at_failure);

  // 4. The server goes away entirely (connection refused): still served, from the forecast.
  server_.Stop();
  clock_.Advance(minutes(20));  // 04:31
  r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, std::string(kLive) + "/forecast");
  EXPECT_DOUBLE_EQ(r->intensity.value(), 482);
  EXPECT_TRUE(r->stale);
  EXPECT_NE(r->note.find("Unavailable"), std::string::npos) << r->note;

  // 5. The provider comes back: after the cool-down, fresh live readings again.
  server_.Script(kLatest, {{200, TestData("em_latest.json")}});
  server_.Restart();
  clock_.Advance(minutes(3));
  r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, kLive);
  EXPECT_DOUBLE_EQ(r->intensity.value(), 466);
  EXPECT_FALSE(r->stale);
  EXPECT_TRUE(r->note.empty()) << r->note;
}

TEST_F(FallbackTest, LastKnownThenTraceWhenNoForecast) {
  server_.Script(kForecast, {{404, R"({"error":"no forecast for zone"})"}});
  auto src =
      Make({.last_known_max_age = hours(3), .forecast_horizon = hours(24), .live_cooldown = Duration(0)});
  ASSERT_TRUE(Read(*src).ok());

  server_.Stop();
  clock_.Advance(minutes(30));  // 03:50: the 03:00 value is 50 min old
  StatusOr<CarbonReading> r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, std::string(kLive) + "/last-known");
  EXPECT_TRUE(r->stale);
  EXPECT_DOUBLE_EQ(r->intensity.value(), 466);
  EXPECT_NE(r->note.find("last known value, 50m old"), std::string::npos) << r->note;

  clock_.Advance(hours(3));  // 06:50: the last known value is too old: the trace serves
  r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, "trace:fallback_trace.csv");
  EXPECT_TRUE(r->stale);
  EXPECT_EQ(r->time, T("2024-09-24T06:00:00Z"));
  EXPECT_DOUBLE_EQ(r->intensity.value(), 330);  // 300 + 5 * 6
  EXPECT_NE(r->note.find("served from trace:fallback_trace.csv"), std::string::npos) << r->note;
}

TEST_F(FallbackTest, StaleLiveReadingPrefersForecast) {
  auto src =
      Make({.last_known_max_age = hours(6), .forecast_horizon = hours(24), .live_cooldown = Duration(0)});
  clock_.Set(T("2024-09-24T06:10:00Z"));  // em_latest.json (03:00) is 3h10m old: stale
  StatusOr<CarbonReading> r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, std::string(kLive) + "/forecast");
  EXPECT_EQ(r->time, T("2024-09-24T06:00:00Z"));
  EXPECT_NE(r->note.find("stale"), std::string::npos) << r->note;
}

TEST_F(FallbackTest, StaleLiveReadingIsTheLastResort) {
  server_.Script(kForecast, {{404, R"({"error":"no forecast for zone"})"}});
  auto src =
      Make({.last_known_max_age = hours(6), .forecast_horizon = hours(24), .live_cooldown = Duration(0)},
           /*with_trace=*/false);
  clock_.Set(T("2024-09-25T03:00:00Z"));  // the provider's 03:00 reading of the day before
  StatusOr<CarbonReading> r = Read(*src);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, kLive);
  EXPECT_TRUE(r->stale);
  EXPECT_NE(r->note.find("24h00m old"), std::string::npos) << r->note;
}

TEST_F(FallbackTest, NothingLeftFailsListingEachStep) {
  server_.Stop();
  auto src =
      Make({.last_known_max_age = hours(6), .forecast_horizon = hours(24), .live_cooldown = Duration(0)},
           /*with_trace=*/false);
  StatusOr<CarbonReading> r = Read(*src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  for (const char* step : {"live:", "forecast: none cached", "last known: none", "trace: none configured"}) {
    EXPECT_NE(r.status().message().find(step), std::string::npos) << r.status().message();
  }
}

TEST_F(FallbackTest, ForecastFallsBackToCacheThenTrace) {
  auto src =
      Make({.last_known_max_age = hours(6), .forecast_horizon = hours(24), .live_cooldown = Duration(0)});
  ASSERT_TRUE(Read(*src).ok());
  server_.Stop();
  clock_.Advance(hours(1));  // past the forecast TTL: live forecast fails, cached one serves
  StatusOr<std::vector<CarbonReading>> f = src->Forecast(clock_.Now(), hours(2));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ(f->front().source, std::string(kLive) + "/forecast");
  EXPECT_TRUE(f->front().stale);

  clock_.Set(T("2024-09-25T12:00:00Z"));  // beyond the cached forecast: the trace's
  f = src->Forecast(clock_.Now(), hours(2));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_FALSE(f->empty());
  EXPECT_EQ(f->front().source, "trace:fallback_trace.csv");
  EXPECT_TRUE(f->front().stale);
}

TEST(FallbackTraceOnlyTest, ServesTraceMarkedStale) {
  ManualClock clock(T("2024-09-23T05:30:00Z"));
  StatusOr<Trace> t =
      LoadTrace(std::string(ECOMAP_SOURCE_DIR) + "/src/carbon/testdata/live/fallback_trace.csv");
  ASSERT_TRUE(t.ok());
  FallbackSource src(nullptr, std::make_unique<TraceSource>(std::move(t).value()), clock, {});
  StatusOr<CarbonReading> r = src.Latest(clock.Now());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->intensity.value(), 325);
  EXPECT_TRUE(r->stale);
  EXPECT_NE(r->note.find("no live provider configured"), std::string::npos) << r->note;
}

}  // namespace
}  // namespace ecomap::carbon
