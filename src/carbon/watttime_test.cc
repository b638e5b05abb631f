#include "carbon/watttime.h"

#include <gtest/gtest.h>

#include "carbon/live_test_server.h"

namespace ecomap::carbon {
namespace {

using std::chrono::milliseconds;
using testing::RecordedServer;
using testing::Reply;
using testing::TestData;

TimePoint T(const char* s) { return *ParseTimestamp(s); }

class WattTimeTest : public ::testing::Test {
 protected:
  std::unique_ptr<WattTimeSource> Make() {
    WattTimeOptions o;
    o.base_url = server_.base_url();
    o.username = "ecomap";
    o.password = "s3cret";
    o.region = "CAISO_NORTH";
    o.http.retry.max_attempts = 2;
    o.http.sleep = [](Duration) {};
    auto s = WattTimeSource::Create(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  RecordedServer server_;
};

TEST_F(WattTimeTest, LoginThenForecastConvertsUnits) {
  server_.Script("/login", {{200, TestData("wt_login.json")}});
  server_.Script("/v3/forecast", {{200, TestData("wt_forecast.json")}});
  auto wt = Make();
  StatusOr<CarbonReading> r = wt->Latest(T("2024-09-24T03:07:00Z"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The point of 03:05 is 910.5 lbs/MWh = 910.5 * 0.45359237 g/kWh.
  EXPECT_EQ(r->time, T("2024-09-24T03:05:00Z"));
  EXPECT_NEAR(r->intensity.value(), 413.0, 0.05);
  EXPECT_NEAR(r->intensity.value(), 910.5 * 0.45359237, 1e-9);
  EXPECT_TRUE(r->forecast);
  EXPECT_FALSE(r->stale);
  EXPECT_EQ(r->source, "watttime:CAISO_NORTH");
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/login");
  EXPECT_EQ(reqs[0].headers["Authorization"], "Basic ZWNvbWFwOnMzY3JldA==");  // ecomap:s3cret
  EXPECT_EQ(reqs[1].headers["Authorization"], "Bearer eyJhbGciOiJSUzI1NiJ9.test-token-1");
  EXPECT_EQ(reqs[1].params.find("region")->second, "CAISO_NORTH");
  EXPECT_EQ(reqs[1].params.find("signal_type")->second, "co2_moer");
}

TEST_F(WattTimeTest, ForecastWindowAndTokenReuse) {
  server_.Script("/login", {{200, TestData("wt_login.json")}});
  server_.Script("/v3/forecast", {{200, TestData("wt_forecast.json")}});
  auto wt = Make();
  StatusOr<std::vector<CarbonReading>> f = wt->Forecast(T("2024-09-24T03:00:00Z"), std::chrono::minutes(30));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->size(), 7u);  // 03:00 .. 03:30 every 5 minutes
  ASSERT_TRUE(wt->Latest(T("2024-09-24T03:10:00Z")).ok());
  EXPECT_EQ(wt->logins(), 1);  // the token is reused
  EXPECT_EQ(server_.hits("/login"), 1);
  // Past the token lifetime (25 min) it logs in again.
  ASSERT_TRUE(wt->Latest(T("2024-09-24T04:00:00Z")).ok());
  EXPECT_EQ(wt->logins(), 2);
}

TEST_F(WattTimeTest, RefreshesTokenOnceOn401) {
  server_.Script("/login", {{200, TestData("wt_login.json")}, {200, TestData("wt_login_2.json")}});
  server_.Script("/v3/forecast",
                 {{401, TestData("wt_unauthorized.json")}, {200, TestData("wt_forecast.json")}});
  auto wt = Make();
  StatusOr<CarbonReading> r = wt->Latest(T("2024-09-24T03:07:00Z"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(wt->logins(), 2);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 4u);  // login, forecast(401), login, forecast
  EXPECT_EQ(reqs[3].headers["Authorization"], "Bearer eyJhbGciOiJSUzI1NiJ9.test-token-2");
}

TEST_F(WattTimeTest, PersistentUnauthorizedFailsAfterOneRefresh) {
  server_.Script("/login", {{200, TestData("wt_login.json")}});
  server_.Script("/v3/forecast", {{401, TestData("wt_unauthorized.json")}});
  auto wt = Make();
  StatusOr<CarbonReading> r = wt->Latest(T("2024-09-24T03:07:00Z"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wt->logins(), 2);
  EXPECT_EQ(server_.hits("/v3/forecast"), 2);
}

TEST_F(WattTimeTest, LoginRejected) {
  server_.Script("/login", {{401, TestData("wt_unauthorized.json")}});
  auto wt = Make();
  StatusOr<CarbonReading> r = wt->Latest(T("2024-09-24T03:07:00Z"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("ECOMAP_WATTTIME_USERNAME"), std::string::npos) << r.status().message();
  EXPECT_EQ(server_.hits("/v3/forecast"), 0);
}

TEST_F(WattTimeTest, OldForecastIsStale) {
  server_.Script("/login", {{200, TestData("wt_login.json")}});
  server_.Script("/v3/forecast", {{200, TestData("wt_forecast.json")}});
  auto wt = Make();
  StatusOr<CarbonReading> r = wt->Latest(T("2024-09-24T04:50:00Z"));  // last point, generated 03:00
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->stale);
  EXPECT_NE(r->note.find("1h50m old"), std::string::npos) << r->note;
  // Beyond the forecast's end: Unavailable, naming the span.
  StatusOr<CarbonReading> late = wt->Latest(T("2024-09-24T06:00:00Z"));
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(late.status().message().find("covers"), std::string::npos);
}

TEST_F(WattTimeTest, BadBodies) {
  struct Case {
    const char* file;
    const char* says;
  } cases[] = {
      {"malformed.json", "not valid JSON"},
      {"wt_forecast_bad_units.json", "unsupported units 'percentile'"},
      {"wt_forecast_no_period.json", "missing key 'data_point_period_seconds'"},
      {"em_latest.json", "missing key 'meta'"},
  };
  for (const auto& c : cases) {
    server_.Script("/login", {{200, TestData("wt_login.json")}});
    server_.Script("/v3/forecast", {{200, TestData(c.file)}});
    auto wt = Make();
    StatusOr<CarbonReading> r = wt->Latest(T("2024-09-24T03:07:00Z"));
    ASSERT_FALSE(r.ok()) << c.file;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("WattTime"), std::string::npos) << r.status().message();
  }
}

TEST(WattTimeCreateTest, CredentialsRequired) {
  WattTimeOptions o;
  o.region = "CAISO_NORTH";
  auto s = WattTimeSource::Create(o);
  EXPECT_EQ(s.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.status().message().find("ECOMAP_WATTTIME_PASSWORD"), std::string::npos);
  o.username = "u";
  o.password = "p";
  o.region.clear();
  EXPECT_EQ(WattTimeSource::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.region = "R";
  o.signal_type = "health_damage";
  EXPECT_EQ(WattTimeSource::Create(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ecomap::carbon
