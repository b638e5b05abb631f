#include "policy/threshold.h"

#include "carbon/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ecomap::policy {
namespace {

// A daily cycle: base +/- amplitude, 24 readings per day.
std::vector<double> DailyCycle(double base, double amplitude, int days) {
  std::vector<double> v;
  for (int h = 0; h < 24 * days; ++h) v.push_back(base + amplitude * std::sin(2 * M_PI * h / 24.0));
  return v;
}

TEST(ThresholdMap, ValidatesConfig) {
  struct Case {
    const char* field;
    ThresholdMapConfig cfg;
  };
  std::vector<Case> cases;
  ThresholdMapConfig c;
  c.window = 0; cases.push_back({"window", c}); c = {};
  c.low_percentile = -1; cases.push_back({"low_percentile", c}); c = {};
  c.high_percentile = 5; cases.push_back({"high_percentile", c}); c = {};
  c.exponent = 0; cases.push_back({"exponent", c}); c = {};
  c.hysteresis = 1.5; cases.push_back({"hysteresis", c}); c = {};
  c.min_spread_g = -3; cases.push_back({"min_spread_g", c}); c = {};
  for (const auto& k : cases) {
    Status s = k.cfg.Validate();
    EXPECT_FALSE(s.ok()) << k.field;
    EXPECT_NE(s.message().find(k.field), std::string::npos) << s.message();
  }
  EXPECT_TRUE(ThresholdMapConfig{}.Validate().ok());
}

TEST(ThresholdMap, MonotoneAndWithinBudgetsOnGridsOfDifferentLevels) {
  // Three grids 100x apart in level: the map must use the whole budget range on each.
  for (double base : {8.0, 200.0, 700.0}) {
    ThresholdMap map({}, Watts{10}, Watts{40});
    for (double v : DailyCycle(base, base * 0.4, 7)) map.Observe(GramsPerKwh{v});
    double prev = 1e9;
    for (double ci = base * 0.5; ci <= base * 1.5; ci += base * 0.05) {
      double t = map.Map(GramsPerKwh{ci}).raw.value();
      EXPECT_GE(t, 10.0);
      EXPECT_LE(t, 40.0);
      EXPECT_LE(t, prev + 1e-9) << "not monotone at base " << base << " ci " << ci;
      prev = t;
    }
    if (base > 30) {  // above the always-clean level the whole range is used
      EXPECT_DOUBLE_EQ(map.Map(GramsPerKwh{base * 1.5}).raw.value(), 10.0) << base;
      EXPECT_DOUBLE_EQ(map.Map(GramsPerKwh{base * 0.5}).raw.value(), 40.0) << base;
    }
  }
}

TEST(ThresholdMap, FlatCleanGridStaysAtHighestBudget) {
  // A hydro grid: 5-12 g/kWh all week. Below the always-clean level: highest budget always.
  ThresholdMap map({}, Watts{10}, Watts{40});
  for (double v : DailyCycle(8.5, 3.5, 7)) map.Observe(GramsPerKwh{v});
  for (double ci : {5.0, 8.0, 12.0}) {
    ThresholdDecision d = map.Decide(GramsPerKwh{ci});
    EXPECT_DOUBLE_EQ(d.threshold.value(), 40.0) << ci;
  }
}

TEST(ThresholdMap, MinSpreadDampsTinySwings) {
  // A flat grid at 300 +/- 2 g/kWh: without the spread guard the threshold would swing fully.
  ThresholdMapConfig cfg;
  cfg.min_spread_g = 40;
  ThresholdMap map(cfg, Watts{10}, Watts{40});
  for (double v : DailyCycle(300, 2, 7)) map.Observe(GramsPerKwh{v});
  double at_dirty = map.Map(GramsPerKwh{302}).raw.value();
  double at_clean = map.Map(GramsPerKwh{298}).raw.value();
  // A 4 g/kWh swing inside a 40 g/kWh band moves at most 4/40 of the 30 W range.
  EXPECT_GT(at_clean, at_dirty);
  EXPECT_LE(at_clean - at_dirty, 30.0 * 4.0 / 40.0 + 1e-9);
}

TEST(ThresholdMap, HysteresisKeepsThresholdUntilMoveIsLarge) {
  ThresholdMapConfig cfg;
  cfg.hysteresis = 0.2;  // 6 W of a 30 W range
  ThresholdMap map(cfg, Watts{10}, Watts{40});
  for (double v : DailyCycle(200, 100, 7)) map.Observe(GramsPerKwh{v});
  ThresholdDecision first = map.Decide(GramsPerKwh{200});
  EXPECT_FALSE(first.changed);
  double t0 = first.threshold.value();
  // A small move: kept.
  ThresholdDecision small = map.Decide(GramsPerKwh{210});
  EXPECT_FALSE(small.changed);
  EXPECT_DOUBLE_EQ(small.threshold.value(), t0);
  EXPECT_NE(small.reason.find("hysteresis"), std::string::npos);
  // A large move: adopted.
  ThresholdDecision big = map.Decide(GramsPerKwh{300});
  EXPECT_TRUE(big.changed);
  EXPECT_LT(big.threshold.value(), t0 - 6.0);
}

TEST(ThresholdMap, ForecastJoinsTheBand) {
  ThresholdMap with({}, Watts{10}, Watts{40});
  ThresholdMapConfig no_fc;
  no_fc.use_forecast = false;
  ThresholdMap without(no_fc, Watts{10}, Watts{40});
  for (int i = 0; i < 24; ++i) {
    with.Observe(GramsPerKwh{100});
    without.Observe(GramsPerKwh{100});
    with.Observe(GramsPerKwh{200});
    without.Observe(GramsPerKwh{200});
  }
  // The coming hours are much dirtier: 200 is then relatively clean.
  std::vector<GramsPerKwh> fc(48, GramsPerKwh{400});
  EXPECT_GT(with.Map(GramsPerKwh{200}, fc).raw.value(), without.Map(GramsPerKwh{200}, fc).raw.value());
}

TEST(ThresholdMap, TooLittleHistoryMeansHighestBudget) {
  ThresholdMap map({}, Watts{10}, Watts{40});
  map.Observe(GramsPerKwh{500});
  ThresholdDecision d = map.Decide(GramsPerKwh{900});
  EXPECT_DOUBLE_EQ(d.threshold.value(), 40.0);
  EXPECT_NE(d.reason.find("readings so far"), std::string::npos);
}

// The map's band uses the carbon part's percentile (linear interpolation between ranks).
TEST(Percentile, InterpolatesLinearly) {
  const std::vector<double> five = {1, 2, 3, 4, 5}, one = {7};
  EXPECT_DOUBLE_EQ(carbon::Percentile(five, 50), 3);
  EXPECT_DOUBLE_EQ(carbon::Percentile(five, 10), 1.4);
  EXPECT_DOUBLE_EQ(carbon::Percentile(one, 90), 7);
}

}  // namespace
}  // namespace ecomap::policy
