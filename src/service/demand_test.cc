#include "service/demand.h"

#include <gtest/gtest.h>

namespace ecomap::service {
namespace {

TimePoint At(const char* text) { return *ParseTimestamp(text); }

TEST(DemandModelTest, DeclaredUntilObservedThenBlendedThenObserved) {
  DemandModel m;  // hint_intervals 3, smoothing 0.5
  DemandEstimate e = m.Expect("cam", At("2023-06-05 10:00:00"), 20);
  EXPECT_EQ(e.source, "declared");
  EXPECT_DOUBLE_EQ(e.rate_rps, 20);
  m.Observe("cam", At("2023-06-05 10:00:00"), 60, 600);  // 10 req/s
  e = m.Expect("cam", At("2023-06-05 10:01:00"), 20);
  EXPECT_EQ(e.source, "declared+observed");
  EXPECT_NEAR(e.rate_rps, 10.0 / 3 + 20.0 * 2 / 3, 1e-9);
  m.Observe("cam", At("2023-06-05 10:01:00"), 60, 600);
  m.Observe("cam", At("2023-06-05 10:02:00"), 60, 1200);  // 20 req/s: level 10 -> 15
  e = m.Expect("cam", At("2023-06-05 10:03:00"), 20);
  EXPECT_EQ(e.observed_intervals, 3);
  // The 10:00 bin has 3 samples (smoothed 10, 10, 20 -> 13), so the profile joins in.
  EXPECT_EQ(e.source, "observed+profile");
  EXPECT_NEAR(e.rate_rps, 0.5 * (15 + 13), 1e-9);
  // Another hour has no profile: the level alone.
  e = m.Expect("cam", At("2023-06-05 11:00:00"), 20);
  EXPECT_EQ(e.source, "observed");
  EXPECT_NEAR(e.rate_rps, 15, 1e-9);
  // Without a declared rate the observations count from the first interval.
  DemandModel n;
  n.Observe("x", At("2023-06-05 10:00:00"), 10, 50);
  e = n.Expect("x", At("2023-06-05 10:00:10"), 0);
  EXPECT_EQ(e.source, "observed");
  EXPECT_DOUBLE_EQ(e.rate_rps, 5);
}

TEST(DemandModelTest, LearnsAnHourOfDayProfile) {
  DemandModel m;
  // Three days: 40 req/s from 08:00 to 09:00, 5 req/s otherwise, hourly intervals.
  TimePoint t = At("2023-06-05 00:00:00");
  for (int h = 0; h < 72; ++h) {
    const bool busy = h % 24 == 8;
    m.Observe("cam", t, 3600, busy ? 144000 : 18000);
    t += std::chrono::hours(1);
  }
  // At 07:00 on day 4 the level is 5 req/s but the 08:00 bin remembers the rush.
  DemandEstimate e = m.Expect("cam", At("2023-06-08 08:00:00"), 0);
  EXPECT_EQ(e.source, "observed+profile");
  EXPECT_GT(e.rate_rps, 20);
  DemandEstimate quiet = m.Expect("cam", At("2023-06-08 03:00:00"), 0);
  EXPECT_NEAR(quiet.rate_rps, 5, 1e-3);  // the level still decays from the rush
}

TEST(DemandModelTest, IgnoresEmptyIntervalsAndForgets) {
  DemandModel m;
  m.Observe("cam", At("2023-06-05 10:00:00"), 0, 100);
  m.Observe("cam", At("2023-06-05 10:00:00"), -1, 100);
  EXPECT_FALSE(m.Knows("cam"));
  m.Observe("cam", At("2023-06-05 10:00:00"), 1, 0);
  EXPECT_TRUE(m.Knows("cam"));
  EXPECT_DOUBLE_EQ(m.Expect("cam", At("2023-06-05 10:00:01"), 0).rate_rps, 0);
  m.Forget("cam");
  EXPECT_EQ(m.Expect("cam", At("2023-06-05 10:00:01"), 7).source, "declared");
}

TEST(DemandModelTest, JsonRoundTripAndCorruptInput) {
  DemandModel m;
  TimePoint t = At("2023-06-05 00:00:00");
  for (int i = 0; i < 30; ++i, t += std::chrono::minutes(30)) m.Observe("cam", t, 1800, 1800 * (i % 7));
  StatusOr<DemandModel> back = DemandModel::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), m.ToJson());
  for (TimePoint at : {At("2023-06-06 03:00:00"), At("2023-06-06 11:00:00")}) {
    EXPECT_DOUBLE_EQ(back->Expect("cam", at, 0).rate_rps, m.Expect("cam", at, 0).rate_rps);
  }
  nlohmann::json j = m.ToJson();
  j["tenants"]["cam"]["profile"].erase(0);
  EXPECT_EQ(DemandModel::FromJson(j).status().code(), StatusCode::kDataLoss);
  j = m.ToJson();
  j["tenants"]["cam"]["level_rps"] = -1;
  EXPECT_EQ(DemandModel::FromJson(j).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DemandModel::FromJson(nlohmann::json::array()).status().code(), StatusCode::kDataLoss);
  j = m.ToJson();
  j["version"] = 2;
  Status s = DemandModel::FromJson(j).status();
  EXPECT_NE(s.message().find("version"), std::string::npos);
  EXPECT_FALSE(DemandModel::FromJson(m.ToJson(), {.smoothing = 0}).ok());
}

}  // namespace
}  // namespace ecomap::service
