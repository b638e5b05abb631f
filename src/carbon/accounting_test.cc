#include "carbon/accounting.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ecomap::carbon {
namespace {

using ::testing::HasSubstr;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint t0 = ParseTimestamp("2022-06-01T00:00:00Z").value();

std::vector<PowerSample> Samples(std::initializer_list<std::pair<Duration, double>> s) {
  std::vector<PowerSample> out;
  for (const auto& [d, w] : s) out.push_back({t0 + d, Watts(w)});
  return out;
}

TEST(AccountingTest, TrapezoidOnIrregularSamples) {
  struct Case {
    const char* name;
    std::vector<PowerSample> samples;
    double joules;
  } cases[] = {
      {"none", {}, 0},
      {"one sample", Samples({{seconds(0), 50}}), 0},
      {"constant 10 W for 1 min", Samples({{seconds(0), 10}, {seconds(60), 10}}), 600},
      {"ramp 10->20 W over 1 s", Samples({{seconds(0), 10}, {seconds(1), 20}}), 15},
      // (10+20)/2*0.5 + (20+20)/2*2 + (20+0)/2*0.25 = 7.5 + 40 + 2.5
      {"irregular", Samples({{milliseconds(0), 10}, {milliseconds(500), 20}, {milliseconds(2500), 20},
                             {milliseconds(2750), 0}}),
       50},
  };
  for (const Case& c : cases) {
    StatusOr<Joules> e = IntegrateEnergy(c.samples);
    ASSERT_TRUE(e.ok()) << c.name;
    EXPECT_NEAR(e->value(), c.joules, 1e-9) << c.name;
  }
}

TEST(AccountingTest, BadSamplesAreRejected) {
  StatusOr<Joules> unordered = IntegrateEnergy(Samples({{seconds(1), 1}, {seconds(0), 1}}));
  ASSERT_FALSE(unordered.ok());
  EXPECT_THAT(unordered.status().message(), HasSubstr("increasing time order"));
  EXPECT_FALSE(IntegrateEnergy(Samples({{seconds(0), 1}, {seconds(0), 1}})).ok());
  StatusOr<Joules> negative = IntegrateEnergy(Samples({{seconds(0), 1}, {seconds(1), -2}}));
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.status().message(), HasSubstr("sample 1"));
}

TEST(AccountingTest, CarbonUnderConstantIntensity) {
  // 1 kW for one hour = 1 kWh; at 200 g/kWh -> 200 g.
  std::vector<TracePoint> ci = {{t0, GramsPerKwh(200), false}};
  StatusOr<CarbonAccount> a = AccountCarbon(Samples({{seconds(0), 1000}, {hours(1), 1000}}), ci, hours(1));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_NEAR(a->energy.value(), 3.6e6, 1e-6);
  EXPECT_NEAR(a->carbon.value(), 200, 1e-9);
  EXPECT_NEAR(a->mean_intensity.value(), 200, 1e-9);
  // Agrees with units.h for a constant intensity.
  EXPECT_NEAR(CarbonOf(a->energy, GramsPerKwh(200)).value(), a->carbon.value(), 1e-9);
}

TEST(AccountingTest, CarbonSplitsSegmentsAtIntensityBoundaries) {
  // Intensity 100 g/kWh on [0, 1h), 300 on [1h, 2h). Power ramps linearly 0 -> 2000 W over 2 h
  // with samples at 0 and 2 h only: the split at 1 h interpolates 1000 W.
  // Energy in hour 1: (0+1000)/2 W * 3600 s = 0.5 kWh -> 50 g; hour 2: (1000+2000)/2 * 3600 s =
  // 1.5 kWh -> 450 g. Total 2 kWh, 500 g, mean 250 g/kWh.
  std::vector<TracePoint> ci = {{t0, GramsPerKwh(100), false}, {t0 + hours(1), GramsPerKwh(300), false}};
  StatusOr<CarbonAccount> a = AccountCarbon(Samples({{seconds(0), 0}, {hours(2), 2000}}), ci, hours(1));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_NEAR(a->energy.value(), 2 * 3.6e6, 1e-6);
  EXPECT_NEAR(a->carbon.value(), 500, 1e-9);
  EXPECT_NEAR(a->mean_intensity.value(), 250, 1e-9);
}

TEST(AccountingTest, CarbonWithSeveralBoundariesInsideOneSegmentAndIrregularSamples) {
  // 60 W constant from 00:10 to 03:20 across intensity periods at 00:00 (100), 01:00 (200),
  // 02:00 (400), 03:00 (50); one extra sample at 00:40.
  // Pieces: 50 min at 100, 60 at 200, 60 at 400, 20 at 50 -> Wh = 60 W * h.
  std::vector<TracePoint> ci = {{t0, GramsPerKwh(100), false},
                                {t0 + hours(1), GramsPerKwh(200), false},
                                {t0 + hours(2), GramsPerKwh(400), false},
                                {t0 + hours(3), GramsPerKwh(50), false}};
  StatusOr<CarbonAccount> a =
      AccountCarbon(Samples({{minutes(10), 60}, {minutes(40), 60}, {minutes(200), 60}}), ci, hours(1));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const double kwh = 0.060;  // per hour
  const double want = kwh * (50.0 / 60 * 100 + 200 + 400 + 20.0 / 60 * 50);
  EXPECT_NEAR(a->carbon.value(), want, 1e-9);
  EXPECT_NEAR(a->energy.value(), 60 * 190 * 60, 1e-6);
}

TEST(AccountingTest, PowerOutsideTheIntensitySeriesFails) {
  std::vector<TracePoint> ci = {{t0, GramsPerKwh(100), false}};
  StatusOr<CarbonAccount> before = AccountCarbon(Samples({{-seconds(1), 1}, {seconds(1), 1}}), ci, hours(1));
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(AccountCarbon(Samples({{seconds(0), 1}, {hours(2), 1}}), ci, hours(1)).ok());
  EXPECT_TRUE(AccountCarbon(Samples({{seconds(0), 1}, {hours(1), 1}}), ci, hours(1)).ok());
  EXPECT_FALSE(AccountCarbon(Samples({{seconds(0), 1}}), {}, hours(1)).ok());
}

TEST(AccountingTest, EnergyMeterMatchesBatchIntegration) {
  auto samples = Samples({{milliseconds(0), 10}, {milliseconds(500), 20}, {milliseconds(2500), 20},
                          {milliseconds(2750), 0}});
  EnergyMeter m;
  for (const PowerSample& s : samples) ASSERT_TRUE(m.Add(s, GramsPerKwh(360)).ok());
  EXPECT_NEAR(m.energy().value(), 50, 1e-9);
  // 50 J = 50/3.6e6 kWh at 360 g/kWh = 0.005 g.
  EXPECT_NEAR(m.carbon().value(), 0.005, 1e-12);
  EXPECT_FALSE(m.Add({t0, Watts(1)}).ok());  // not after the last sample
  EXPECT_FALSE(m.Add({t0 + hours(1), Watts(-1)}).ok());
  EXPECT_NEAR(m.energy().value(), 50, 1e-9);  // failed adds change nothing
}

TEST(AccountingTest, PerInferenceCarbonAndCdp) {
  // Device at 30 W, 400 g/kWh, tenants at 20/s (latency 50 ms) and 10/s (latency 200 ms).
  // c = 30 W / 30 inf/s = 1 J per inference = 1/3.6e6 kWh * 400 = 1.1111e-4 g.
  std::vector<TenantLoad> tenants = {{"resnet", 20, Milliseconds(50)}, {"bert", 10, Milliseconds(200)}};
  StatusOr<CdpSummary> s = ComputeCdp(Watts(30), GramsPerKwh(400), tenants);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const double c = 400.0 / 3.6e6;
  EXPECT_NEAR(s->per_inference.value(), c, 1e-15);
  ASSERT_EQ(s->tenants.size(), 2u);
  EXPECT_NEAR(s->tenants[0].cdp.value(), c * 0.05, 1e-15);
  EXPECT_NEAR(s->tenants[1].cdp.value(), c * 0.2, 1e-15);
  EXPECT_NEAR(s->mean_cdp.value(), c * 0.125, 1e-15);
  EXPECT_NEAR(s->weighted_cdp.value(), c * (20 * 0.05 + 10 * 0.2) / 30, 1e-15);

  StatusOr<GramsCO2> per = CarbonPerInferenceOf(GramsCO2(10), 4);
  ASSERT_TRUE(per.ok());
  EXPECT_DOUBLE_EQ(per->value(), 2.5);
  EXPECT_FALSE(CarbonPerInferenceOf(GramsCO2(10), 0).ok());
  EXPECT_FALSE(ComputeCdp(Watts(30), GramsPerKwh(400), {}).ok());
  std::vector<TenantLoad> idle = {{"a", 0, Milliseconds(5)}};
  EXPECT_FALSE(ComputeCdp(Watts(30), GramsPerKwh(400), idle).ok());
  std::vector<TenantLoad> negative = {{"a", -1, Milliseconds(5)}};
  EXPECT_FALSE(ComputeCdp(Watts(30), GramsPerKwh(400), negative).ok());
}

}  // namespace
}  // namespace ecomap::carbon
