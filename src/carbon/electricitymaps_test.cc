#include "carbon/electricitymaps.h"

#include <gtest/gtest.h>

#include "carbon/live_test_server.h"

namespace ecomap::carbon {
namespace {

using std::chrono::milliseconds;
using testing::RecordedServer;
using testing::Reply;
using testing::TestData;

constexpr const char* kLatest = "/v3/carbon-intensity/latest";
constexpr const char* kHistory = "/v3/carbon-intensity/history";
constexpr const char* kForecast = "/v3/carbon-intensity/forecast";

TimePoint T(const char* s) { return *ParseTimestamp(s); }

class ElectricityMapsTest : public ::testing::Test {
 protected:
  std::unique_ptr<ElectricityMapsSource> Make(int attempts = 3) {
    ElectricityMapsOptions o;
    o.base_url = server_.base_url();
    o.token = "em-test-token";
    o.zone = "US-MIDW-MISO";
    o.http.total_timeout = milliseconds(2000);
    o.http.retry.max_attempts = attempts;
    o.http.sleep = [this](Duration d) { waits_.push_back(d); };
    auto s = ElectricityMapsSource::Create(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  RecordedServer server_;
  std::vector<Duration> waits_;
};

TEST_F(ElectricityMapsTest, LatestHappyPath) {
  server_.Script(kLatest, {{200, TestData("em_latest.json")}});
  auto em = Make();
  StatusOr<CarbonReading> r = em->Latest(T("2024-09-24T03:20:00Z"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->intensity.value(), 466);
  EXPECT_EQ(r->time, T("2024-09-24T03:00:00Z"));
  EXPECT_EQ(r->source, "electricitymaps:US-MIDW-MISO");
  EXPECT_TRUE(r->estimated);
  EXPECT_FALSE(r->stale);
  EXPECT_FALSE(r->forecast);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers["auth-token"], "em-test-token");
  EXPECT_EQ(reqs[0].params.find("zone")->second, "US-MIDW-MISO");
}

TEST_F(ElectricityMapsTest, LatestOlderThanBoundIsStale) {
  server_.Script(kLatest, {{200, TestData("em_latest.json")}});
  auto em = Make();
  StatusOr<CarbonReading> r = em->Latest(T("2024-09-24T07:00:00Z"));  // 4 h later, bound 2 h
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stale);
  EXPECT_NE(r->note.find("4h00m old"), std::string::npos) << r->note;
}

TEST_F(ElectricityMapsTest, LatLonQuery) {
  server_.Script(kLatest, {{200, TestData("em_latest.json")}});
  ElectricityMapsOptions o;
  o.base_url = server_.base_url() + "/";
  o.token = "t";
  o.lat = 40.4168;
  o.lon = -3.7038;
  o.emission_factor_type = "direct";
  auto em = ElectricityMapsSource::Create(o);
  ASSERT_TRUE(em.ok());
  ASSERT_TRUE((*em)->Latest(T("2024-09-24T03:20:00Z")).ok());
  auto p = server_.requests()[0].params;
  EXPECT_EQ(p.find("lat")->second, "40.416800");
  EXPECT_EQ(p.find("lon")->second, "-3.703800");
  EXPECT_EQ(p.find("emissionFactorType")->second, "direct");
  EXPECT_EQ(p.count("zone"), 0u);
}

TEST_F(ElectricityMapsTest, History) {
  server_.Script(kHistory, {{200, TestData("em_history.json")}});
  auto em = Make();
  StatusOr<std::vector<CarbonReading>> h = em->History();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->size(), 23u);  // 24 hours, one without data
  EXPECT_EQ(h->front().time, T("2024-09-23T04:00:00Z"));
  EXPECT_EQ(h->back().time, T("2024-09-24T03:00:00Z"));
  EXPECT_TRUE(h->back().estimated);
}

TEST_F(ElectricityMapsTest, ForecastWindow) {
  server_.Script(kForecast, {{200, TestData("em_forecast.json")}});
  auto em = Make();
  StatusOr<std::vector<CarbonReading>> f = em->Forecast(T("2024-09-24T05:30:00Z"), std::chrono::hours(6));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->size(), 7u);  // 05:00 (in force) .. 11:00
  EXPECT_EQ(f->front().time, T("2024-09-24T05:00:00Z"));
  EXPECT_EQ(f->back().time, T("2024-09-24T11:00:00Z"));
  for (const auto& r : *f) EXPECT_TRUE(r.forecast);
  // Outside the forecast's span: a clear error.
  StatusOr<std::vector<CarbonReading>> late = em->Forecast(T("2024-09-27T00:00:00Z"), std::chrono::hours(6));
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
}

TEST_F(ElectricityMapsTest, HttpErrorsMapToCodes) {
  struct Case {
    int http;
    const char* body;
    StatusCode code;
    int hits;  // attempts made (3 allowed)
  } cases[] = {
      {401, R"({"error":"Invalid auth-token"})", StatusCode::kUnauthenticated, 1},
      {403, R"({"error":"zone not in plan"})", StatusCode::kPermissionDenied, 1},
      {404, R"({"error":"No recent data for zone \"XX-NOPE\""})", StatusCode::kNotFound, 1},
      {429, R"({"message":"API rate limit exceeded"})", StatusCode::kResourceExhausted, 3},
      {500, "Internal Server Error", StatusCode::kUnavailable, 3},
  };
  for (const auto& c : cases) {
    server_.Script(kLatest, {{c.http, c.body}});
    int before = server_.hits(kLatest);
    auto em = Make();
    StatusOr<CarbonReading> r = em->Latest(T("2024-09-24T03:20:00Z"));
    ASSERT_FALSE(r.ok()) << c.http;
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_NE(r.status().message().find("Electricity Maps latest"), std::string::npos)
        << r.status().message();
    EXPECT_EQ(server_.hits(kLatest) - before, c.hits) << c.http;
  }
}

TEST_F(ElectricityMapsTest, RateLimitedThenSucceeds) {
  server_.Script(kLatest, {{429, TestData("rate_limited.json"), {{"Retry-After", "1"}}},
                           {200, TestData("em_latest.json")}});
  auto em = Make();
  StatusOr<CarbonReading> r = em->Latest(T("2024-09-24T03:20:00Z"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->intensity.value(), 466);
  ASSERT_EQ(waits_.size(), 1u);
  EXPECT_GE(waits_[0], milliseconds(1000));
}

TEST_F(ElectricityMapsTest, ServerErrorThenSucceeds) {
  server_.Script(kLatest, {{500, "oops"}, {200, TestData("em_latest.json")}});
  auto em = Make();
  EXPECT_TRUE(em->Latest(T("2024-09-24T03:20:00Z")).ok());
  EXPECT_EQ(server_.hits(kLatest), 2);
}

TEST_F(ElectricityMapsTest, BadBodies) {
  struct Case {
    const char* file;
    StatusCode code;
    const char* says;
  } cases[] = {
      {"malformed.json", StatusCode::kInvalidArgument, "not valid JSON"},
      {"em_latest_missing_ci.json", StatusCode::kInvalidArgument, "missing key 'carbonIntensity'"},
      {"em_latest_null_ci.json", StatusCode::kUnavailable, "carbonIntensity is null"},
      {"em_error_zone.json", StatusCode::kUnavailable, "No recent data for zone"},
      {"uk_intensity.json", StatusCode::kInvalidArgument, "missing key 'carbonIntensity'"},
  };
  for (const auto& c : cases) {
    server_.Script(kLatest, {{200, TestData(c.file)}});
    auto em = Make();
    StatusOr<CarbonReading> r = em->Latest(T("2024-09-24T03:20:00Z"));
    ASSERT_FALSE(r.ok()) << c.file;
    EXPECT_EQ(r.status().code(), c.code) << c.file << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("Electricity Maps"), std::string::npos) << r.status().message();
  }
}

TEST_F(ElectricityMapsTest, SlowResponsePastTimeout) {
  server_.Script(kLatest, {{200, TestData("em_latest.json"), {}, milliseconds(400)}});
  ElectricityMapsOptions o;
  o.base_url = server_.base_url();
  o.token = "t";
  o.zone = "ES";
  o.http.total_timeout = milliseconds(150);
  o.http.retry.max_attempts = 1;
  auto em = ElectricityMapsSource::Create(o);
  ASSERT_TRUE(em.ok());
  StatusOr<CarbonReading> r = (*em)->Latest(T("2024-09-24T03:20:00Z"));
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
}

TEST(ElectricityMapsCreateTest, RejectsBadOptions) {
  struct Case {
    const char* name;
    std::function<void(ElectricityMapsOptions&)> edit;
    StatusCode code;
    const char* says;
  } cases[] = {
      {"no token", [](auto& o) { o.token.clear(); }, StatusCode::kUnauthenticated,
       "ECOMAP_ELECTRICITYMAPS_TOKEN"},
      {"no zone", [](auto& o) { o.zone.clear(); }, StatusCode::kInvalidArgument, "needs a zone"},
      {"lat only",
       [](auto& o) {
         o.zone.clear();
         o.lat = 1;
       },
       StatusCode::kInvalidArgument, "needs a zone"},
      {"bad lat",
       [](auto& o) {
         o.zone.clear();
         o.lat = 91;
         o.lon = 0;
       },
       StatusCode::kInvalidArgument, "lat"},
      {"bad factor", [](auto& o) { o.emission_factor_type = "marginal"; }, StatusCode::kInvalidArgument,
       "marginal"},
      {"no url", [](auto& o) { o.base_url.clear(); }, StatusCode::kInvalidArgument, "base URL"},
  };
  for (const auto& c : cases) {
    ElectricityMapsOptions o;
    o.token = "t";
    o.zone = "ES";
    c.edit(o);
    auto s = ElectricityMapsSource::Create(o);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.status().code(), c.code) << c.name;
    EXPECT_NE(s.status().message().find(c.says), std::string::npos) << c.name << ": " << s.status().message();
  }
}

}  // namespace
}  // namespace ecomap::carbon
