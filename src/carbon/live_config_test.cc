#include "carbon/live_config.h"

#include <gtest/gtest.h>

#include <map>

#include "carbon/live_source.h"
#include "carbon/trace.h"

namespace ecomap::carbon {
namespace {

using std::chrono::minutes;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(LiveConfigTest, FullFile) {
  const char* toml = R"(
[carbon.live]
timeout_ms = 2500
connect_timeout_ms = 800
max_attempts = 4
cache_latest_ttl_s = 120
cache_forecast_ttl_s = 600
last_known_max_age_min = 90
live_cooldown_s = 30

[carbon.electricitymaps]
token = "file-token"
zone = "ES"
emission_factor_type = "direct"
base_url = "http://127.0.0.1:9"
max_age_min = 75

[carbon.watttime]
username = "u"
password = "p"
region = "CAISO_NORTH"

[carbon.ukgrid]
max_age_min = 45

[policy]
anything = "belongs to another part"
)";
  StatusOr<LiveConfig> c = ParseLiveConfig(toml, "ecomap.toml", Env({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.total_timeout, Duration(2500));
  EXPECT_EQ(c->http.connect_timeout, Duration(800));
  EXPECT_EQ(c->http.retry.max_attempts, 4);
  EXPECT_EQ(c->cache.latest_ttl, minutes(2));
  EXPECT_EQ(c->cache.forecast_ttl, minutes(10));
  EXPECT_EQ(c->fallback.last_known_max_age, minutes(90));
  EXPECT_EQ(c->fallback.live_cooldown, Duration(30000));
  EXPECT_EQ(c->electricitymaps.token, "file-token");
  EXPECT_EQ(c->electricitymaps.zone, "ES");
  EXPECT_EQ(c->electricitymaps.emission_factor_type, "direct");
  EXPECT_EQ(c->electricitymaps.base_url, "http://127.0.0.1:9");
  EXPECT_EQ(c->electricitymaps.max_age, minutes(75));
  EXPECT_EQ(c->watttime.region, "CAISO_NORTH");
  EXPECT_EQ(c->ukgrid.max_age, minutes(45));
  EXPECT_EQ(c->ukgrid.base_url, "https://api.carbonintensity.org.uk");
}

TEST(LiveConfigTest, EnvironmentWinsOverFile) {
  StatusOr<LiveConfig> c = ParseLiveConfig("[carbon.electricitymaps]\ntoken = \"file\"\n", "f.toml",
                                           Env({{"ECOMAP_ELECTRICITYMAPS_TOKEN", "env"},
                                                {"ECOMAP_WATTTIME_USERNAME", "wu"},
                                                {"ECOMAP_WATTTIME_PASSWORD", "wp"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->electricitymaps.token, "env");
  EXPECT_EQ(c->watttime.username, "wu");
  EXPECT_EQ(c->watttime.password, "wp");
  // Empty variables do not erase the file's values.
  c = ParseLiveConfig("[carbon.electricitymaps]\ntoken = \"file\"\n", "f.toml",
                      Env({{"ECOMAP_ELECTRICITYMAPS_TOKEN", ""}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->electricitymaps.token, "file");
}

TEST(LiveConfigTest, Defaults) {
  StatusOr<LiveConfig> c = LoadLiveConfig("", Env({}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->electricitymaps.base_url, "https://api.electricitymap.org");
  EXPECT_EQ(c->watttime.base_url, "https://api.watttime.org");
  EXPECT_TRUE(c->electricitymaps.token.empty());
  EXPECT_EQ(c->http.retry.max_attempts, 3);
}

TEST(LiveConfigTest, RejectsBadFiles) {
  struct Case {
    const char* toml;
    const char* says;
  } cases[] = {
      {"[carbon.electricitymaps]\ntokn = \"x\"\n",
       "f.toml:2: unknown key 'tokn' in [carbon.electricitymaps]"},
      {"[carbon.live]\ntimeout_ms = -5\n", "f.toml:2: [carbon.live] timeout_ms must be a positive number"},
      {"[carbon.live]\ntimeout_ms = \"fast\"\n", "timeout_ms must be a positive number"},
      {"[carbon.live]\nmax_attempts = 0\n", "max_attempts must be an integer in [1, 10]"},
      {"[carbon.watttime]\nregion = 3\n", "region must be a string"},
      {"[carbon.electricitymaps]\nlat = \"north\"\n", "lat must be a number"},
      {"[carbon.live\n", "f.toml:1:"},
  };
  for (const auto& c : cases) {
    StatusOr<LiveConfig> r = ParseLiveConfig(c.toml, "f.toml", Env({}));
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(LoadLiveConfig("/nonexistent/ecomap.toml", Env({})).status().code(), StatusCode::kNotFound);
}

TEST(LiveSourceTest, MissingCredentialsNameTheFix) {
  LiveConfig c;
  c.electricitymaps.zone = "ES";
  c.watttime.region = "CAISO_NORTH";
  auto em = MakeLiveSource(Provider::kElectricityMaps, c);
  EXPECT_EQ(em.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(em.status().message().find("ECOMAP_ELECTRICITYMAPS_TOKEN"), std::string::npos);
  EXPECT_NE(em.status().message().find("[carbon.electricitymaps]"), std::string::npos);
  auto wt = MakeLiveSource(Provider::kWattTime, c);
  EXPECT_EQ(wt.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(wt.status().message().find("ECOMAP_WATTTIME_USERNAME"), std::string::npos);
  auto uk = MakeLiveSource(Provider::kUkGrid, c);  // no key needed
  ASSERT_TRUE(uk.ok());
  EXPECT_EQ((*uk)->Name(), "ukgrid:GB");
}

TEST(LiveSourceTest, ParseProvider) {
  EXPECT_EQ(*ParseProvider("watttime"), Provider::kWattTime);
  EXPECT_EQ(*ParseProvider("ukgrid"), Provider::kUkGrid);
  StatusOr<Provider> p = ParseProvider("co2signal");
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("co2signal"), std::string::npos);
}

TEST(LiveSourceTest, StandInMapsToSameDateInTraceYear) {
  StatusOr<Trace> t =
      ParseTrace("timestamp,gco2_per_kwh\n2023-01-01 00:00,100\n2023-06-15 13:00,200\n2023-12-31 23:00,300\n",
                 "year.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  TimePoint now = *ParseTimestamp("2026-06-15T13:20:00Z");
  TraceSourceOptions o = StandInOptions(*t, now);
  ASSERT_TRUE(o.replay.has_value());
  EXPECT_EQ(o.replay->ToTraceTime(now), *ParseTimestamp("2023-06-15T13:20:00Z"));
  TraceSource src(*t, o);
  StatusOr<CarbonReading> r = src.Latest(now);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->intensity.value(), 200);
  // Inside the trace: no mapping.
  EXPECT_FALSE(StandInOptions(*t, *ParseTimestamp("2023-03-01T00:00:00Z")).replay.has_value());
  // 29 February maps to 28 February.
  o = StandInOptions(*t, *ParseTimestamp("2028-02-29T10:00:00Z"));
  ASSERT_TRUE(o.replay.has_value());
  EXPECT_EQ(o.replay->trace_origin, *ParseTimestamp("2023-02-28T10:00:00Z"));
}

}  // namespace
}  // namespace ecomap::carbon
