#include "platform/host/power_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::FixtureDir;
using testing::TempTree;

TEST(HostPowerModelTest, FollowsTheDocumentedFormula) {
  HostPowerModel m;  // idle 2 + 1/core, dynamic 5 W/core, exponent 2.5
  struct Case {
    std::vector<CoreActivity> cores;
    double want_w;
  } cases[] = {
      {{}, 2.0},
      {{{0, 1}, {0, 1}}, 4.0},
      {{{1, 1}, {0, 1}}, 9.0},
      {{{0.5, 1}, {0.5, 1}}, 9.0},
      {{{1, 0.5}}, 3.0 + 5.0 * std::pow(0.5, 2.5)},
      {{{2.0, 1.5}}, 8.0},           // clamped to u = 1, f/fmax = 1
      {{{-1, 1}, {NAN, NAN}}, 4.0},  // clamped / ignored
  };
  for (const Case& c : cases) {
    ModelledPower p = m.Estimate(c.cores);
    EXPECT_NEAR(p.total.value(), c.want_w, 1e-9);
    EXPECT_EQ(p.per_core.size(), c.cores.size());
  }
  EXPECT_NEAR(m.FullLoad(4).value(), 2 + 4 + 20, 1e-9);
  EXPECT_LT(m.FullLoad(4, 0.6).value(), m.FullLoad(4).value());
  EXPECT_LT(m.FullLoad(2).value(), m.FullLoad(4).value());
  HostPowerModelParams custom;
  custom.idle_base_w = 10;
  EXPECT_NEAR(HostPowerModel(custom).Estimate({}).total.value(), 10, 1e-9);
}

TEST(HostPowerModelTest, MonotoneInLoadAndClock) {
  HostPowerModel m;
  double last = -1;
  for (double u = 0; u <= 1.0001; u += 0.1) {
    double p = m.Estimate({{u, 0.8}}).total.value();
    EXPECT_GT(p, last);
    last = p;
  }
  last = -1;
  for (double r = 0.1; r <= 1.0001; r += 0.1) {
    double p = m.Estimate({{0.7, r}}).total.value();
    EXPECT_GT(p, last);
    last = p;
  }
}

TEST(HostPowerModelTest, UtilisationFromBusyTime) {
  auto u = HostPowerModel::UtilisationFromBusy({Milliseconds(250), Milliseconds(0), Milliseconds(1500)},
                                               Milliseconds(1000));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (std::vector<double>{0.25, 0.0, 1.0}));
  EXPECT_EQ(HostPowerModel::UtilisationFromBusy({}, Milliseconds(0)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ProcStatTest, ParsesCpuLines) {
  auto j = ParseProcStat("cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpu1 0 0 0 10\nintr 5\n");
  ASSERT_TRUE(j.ok()) << j.status().message();
  ASSERT_EQ(j->size(), 2u);
  EXPECT_EQ(j->at(0).busy, 1u + 2 + 3 + 6 + 7 + 8);
  EXPECT_EQ(j->at(0).total, 1u + 2 + 3 + 6 + 7 + 8 + 4 + 5);
  EXPECT_EQ(j->at(1).busy, 0u);
  EXPECT_EQ(j->at(1).total, 10u);
  for (std::string bad : {"cpu0 1 2 x 4\n", "cpu0 1 2\n", "cpuX 1 2 3 4\n", "cpu0 -1 2 3 4\n"}) {
    auto r = ParseProcStat(bad);
    ASSERT_FALSE(r.ok()) << bad;
    if (bad.rfind("cpuX", 0) == 0) {
      EXPECT_EQ(r.status().code(), StatusCode::kNotFound);  // not a cpuN line at all
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
      EXPECT_NE(r.status().message().find("/proc/stat:1"), std::string::npos);
    }
  }
  EXPECT_EQ(ParseProcStat("intr 1\n").status().code(), StatusCode::kNotFound);
}

TEST(ProcStatTest, SamplerGivesUtilisationBetweenReads) {
  TempTree t("host_vm");
  RootedSysfs fs(t.root());
  ProcStatSampler s(&fs);
  EXPECT_EQ(s.Sample().status().code(), StatusCode::kFailedPrecondition);
  // cpu0: +75 busy of +100; cpu1: +10 busy of +100.
  t.Write("/proc/stat",
          "cpu  0 0 0 0\ncpu0 3438 0 1047 36996 29 0 3 4 0 0\ncpu1 3056 0 1623 36421 376 0 52 8 0 0\n");
  auto u = s.Sample();
  ASSERT_TRUE(u.ok()) << u.status().message();
  ASSERT_EQ(u->size(), 2u);
  EXPECT_NEAR((*u)[0].utilisation, 0.75, 1e-9);
  EXPECT_NEAR((*u)[1].utilisation, 0.10, 1e-9);
  // Unchanged counters: 0, not NaN.
  u = s.Sample();
  ASSERT_TRUE(u.ok());
  EXPECT_EQ((*u)[0].utilisation, 0.0);
  t.Remove("/proc/stat");
  EXPECT_EQ(s.Sample().status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ecomap::platform
