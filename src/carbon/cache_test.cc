#include "carbon/cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "carbon/electricitymaps.h"
#include "carbon/live_test_server.h"

namespace ecomap::carbon {
namespace {

using std::chrono::minutes;
using testing::RecordedServer;
using testing::TestData;

constexpr const char* kLatest = "/v3/carbon-intensity/latest";
constexpr const char* kForecast = "/v3/carbon-intensity/forecast";

TimePoint T(const char* s) { return *ParseTimestamp(s); }

class CacheTest : public ::testing::Test {
 protected:
  CacheTest() : clock_(T("2024-09-24T03:20:00Z")) {
    server_.Script(kLatest, {{200, TestData("em_latest.json")}});
    server_.Script(kForecast, {{200, TestData("em_forecast.json")}});
  }
  std::unique_ptr<CachedSource> Make(CacheOptions co = {}) {
    ElectricityMapsOptions o;
    o.base_url = server_.base_url();
    o.token = "t";
    o.zone = "US-MIDW-MISO";
    o.http.retry.max_attempts = 1;
    auto em = ElectricityMapsSource::Create(o);
    EXPECT_TRUE(em.ok());
    return std::make_unique<CachedSource>(std::move(em).value(), clock_, co);
  }
  RecordedServer server_;
  ManualClock clock_;
};

TEST_F(CacheTest, LatestServedFromCacheUntilTtl) {
  auto c = Make({.latest_ttl = minutes(5), .forecast_ttl = minutes(30), .max_age = std::chrono::hours(2)});
  ASSERT_TRUE(c->Latest(clock_.Now()).ok());
  clock_.Advance(minutes(4));
  StatusOr<CarbonReading> r = c->Latest(clock_.Now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(server_.hits(kLatest), 1);
  EXPECT_NE(r->note.find("cached, fetched 2024-09-24T03:20:00Z"), std::string::npos) << r->note;
  EXPECT_DOUBLE_EQ(r->intensity.value(), 466);
  clock_.Advance(minutes(2));  // 6 min: expired
  ASSERT_TRUE(c->Latest(clock_.Now()).ok());
  EXPECT_EQ(server_.hits(kLatest), 2);
  EXPECT_EQ(c->inner_latest_calls(), 2);
}

TEST_F(CacheTest, CachedReadingIsRecheckedForStaleness) {
  auto c = Make(
      {.latest_ttl = std::chrono::hours(10), .forecast_ttl = minutes(30), .max_age = std::chrono::hours(2)});
  ASSERT_TRUE(c->Latest(clock_.Now()).ok());
  clock_.Advance(std::chrono::hours(3));
  StatusOr<CarbonReading> r = c->Latest(clock_.Now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(server_.hits(kLatest), 1);
  EXPECT_TRUE(r->stale);
}

TEST_F(CacheTest, FailuresAreNotCached) {
  server_.Script(kLatest, {{500, "down"}, {200, TestData("em_latest.json")}});
  auto c = Make();
  EXPECT_FALSE(c->Latest(clock_.Now()).ok());
  EXPECT_FALSE(c->last_latest().has_value());
  EXPECT_TRUE(c->Latest(clock_.Now()).ok());
  EXPECT_EQ(server_.hits(kLatest), 2);
}

TEST_F(CacheTest, ForecastCachedWithinTtl) {
  auto c = Make();
  ASSERT_TRUE(c->Forecast(clock_.Now(), std::chrono::hours(24)).ok());
  clock_.Advance(minutes(20));
  StatusOr<std::vector<CarbonReading>> f = c->Forecast(clock_.Now(), std::chrono::hours(3));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->size(), 4u);  // 03:00 .. 06:00
  EXPECT_EQ(server_.hits(kForecast), 1);
  clock_.Advance(minutes(20));  // 40 min > 30 min TTL
  ASSERT_TRUE(c->Forecast(clock_.Now(), std::chrono::hours(3)).ok());
  EXPECT_EQ(server_.hits(kForecast), 2);
}

TEST_F(CacheTest, ForecastFailureRememberedForLatestTtl) {
  server_.Script(kForecast,
                 {{403, R"({"error":"forecast not in plan"})"}, {200, TestData("em_forecast.json")}});
  auto c = Make({.latest_ttl = minutes(5), .forecast_ttl = minutes(30), .max_age = std::chrono::hours(2)});
  EXPECT_EQ(c->Forecast(clock_.Now(), std::chrono::hours(3)).status().code(), StatusCode::kPermissionDenied);
  clock_.Advance(minutes(1));
  StatusOr<std::vector<CarbonReading>> f = c->Forecast(clock_.Now(), std::chrono::hours(3));
  EXPECT_EQ(f.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(f.status().message().find("remembered from"), std::string::npos) << f.status().message();
  EXPECT_EQ(server_.hits(kForecast), 1);
  clock_.Advance(minutes(5));
  EXPECT_TRUE(c->Forecast(clock_.Now(), std::chrono::hours(3)).ok());
  EXPECT_EQ(server_.hits(kForecast), 2);
}

TEST_F(CacheTest, SnapshotRoundTripsThroughFile) {
  auto c = Make();
  ASSERT_TRUE(c->Latest(clock_.Now()).ok());
  ASSERT_TRUE(c->Forecast(clock_.Now(), std::chrono::hours(24)).ok());
  const std::string path = ::testing::TempDir() + "/ecomap_cache_test.json";
  ASSERT_TRUE(SaveCacheFile(path, c->Snapshot()).ok());
  StatusOr<CacheSnapshot> s = LoadCacheFile(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->source, "electricitymaps:US-MIDW-MISO");
  ASSERT_TRUE(s->latest);
  EXPECT_EQ(s->latest->fetched_at, T("2024-09-24T03:20:00Z"));
  EXPECT_DOUBLE_EQ(s->latest->reading.intensity.value(), 466);
  EXPECT_TRUE(s->latest->reading.estimated);
  ASSERT_TRUE(s->forecast);
  EXPECT_EQ(s->forecast->readings.size(), 25u);

  // A fresh cache restored from the file answers without the provider.
  auto c2 = Make();
  ASSERT_TRUE(c2->Restore(*s).ok());
  ASSERT_TRUE(c2->Latest(clock_.Now()).ok());
  EXPECT_EQ(server_.hits(kLatest), 1);
  std::filesystem::remove(path);
}

TEST_F(CacheTest, RestoreRejectsOtherSource) {
  auto c = Make();
  CacheSnapshot s;
  s.source = "watttime:CAISO_NORTH";
  EXPECT_EQ(c->Restore(s).code(), StatusCode::kInvalidArgument);
}

TEST(CacheFileTest, BadFiles) {
  const std::string path = ::testing::TempDir() + "/ecomap_cache_bad.json";
  struct Case {
    const char* content;
    const char* says;
  } cases[] = {
      {"{not json", "not valid JSON"},
      {R"({"format":"other","version":1})", "format is 'other'"},
      {R"({"format":"ecomap-carbon-cache","version":2})", "version 2"},
      {R"({"format":"ecomap-carbon-cache","version":1,"source":"s","latest":{"fetched_at":"2024-09-24T03:00:00Z","reading":{"time":"x"}},"forecast":null})",
       "bad timestamp 'x'"},
      {R"({"format":"ecomap-carbon-cache","version":1,"source":"s","latest":null})",
       "missing key 'forecast'"},
  };
  for (const auto& c : cases) {
    std::ofstream(path) << c.content;
    StatusOr<CacheSnapshot> s = LoadCacheFile(path);
    ASSERT_FALSE(s.ok()) << c.content;
    EXPECT_NE(s.status().message().find(c.says), std::string::npos) << s.status().message();
    EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status().message();
  }
  std::filesystem::remove(path);
  EXPECT_EQ(LoadCacheFile(path).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ecomap::carbon
