#include "platform/host/rapl.h"

#include <gtest/gtest.h>

#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::FixtureDir;
using testing::TempTree;

constexpr uint64_t kRange = 262143328850ull;

TEST(RaplTest, DiscoversZonesAndConstraints) {
  RootedSysfs fs(FixtureDir("host_rapl"));
  auto zones = DiscoverRaplZones(fs);
  ASSERT_TRUE(zones.ok()) << zones.status().message();
  ASSERT_EQ(zones->size(), 4u);
  const RaplZone& pkg0 = (*zones)[0];
  EXPECT_EQ(pkg0.id, "intel-rapl:0");
  EXPECT_EQ(pkg0.name, "package-0");
  EXPECT_EQ(pkg0.depth, 0);
  EXPECT_EQ(pkg0.max_energy_range_uj, kRange);
  EXPECT_TRUE(*pkg0.enabled);
  ASSERT_EQ(pkg0.constraints.size(), 2u);
  EXPECT_EQ(pkg0.constraints[0].name, "long_term");
  EXPECT_EQ(pkg0.constraints[0].power_limit_uw, 125000000u);
  EXPECT_EQ(*pkg0.constraints[0].time_window_us, 27983872u);
  EXPECT_EQ(*pkg0.constraints[0].max_power_uw, 125000000u);
  EXPECT_EQ(pkg0.constraints[1].name, "short_term");
  EXPECT_FALSE(pkg0.constraints[1].max_power_uw.has_value());  // 0 = not reported
  EXPECT_EQ((*zones)[1].id, "intel-rapl:0:0");
  EXPECT_EQ((*zones)[1].name, "core");
  EXPECT_EQ((*zones)[1].depth, 1);
  EXPECT_EQ((*zones)[3].name, "package-1");
  // The host total: both packages, not their subzones.
  EXPECT_EQ(RaplTotalZones(*zones), (std::vector<size_t>{0, 3}));
}

TEST(RaplTest, PsysIsTheTotalWhenPresent) {
  TempTree t("host_rapl");
  t.Write("/sys/class/powercap/intel-rapl:2/name", "psys\n");
  t.Write("/sys/class/powercap/intel-rapl:2/energy_uj", "5\n");
  t.Write("/sys/class/powercap/intel-rapl:2/max_energy_range_uj", "262143328850\n");
  RootedSysfs fs(t.root());
  auto zones = DiscoverRaplZones(fs);
  ASSERT_TRUE(zones.ok()) << zones.status().message();
  auto total = RaplTotalZones(*zones);
  ASSERT_EQ(total.size(), 1u);
  EXPECT_EQ((*zones)[total[0]].name, "psys");
}

TEST(RaplTest, NoPowercapIsUnimplementedNotAnError) {
  RootedSysfs fs(FixtureDir("host_vm"));
  auto zones = DiscoverRaplZones(fs);
  ASSERT_FALSE(zones.ok());
  EXPECT_EQ(zones.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(zones.status().message().find("no RAPL"), std::string::npos);

  TempTree t;  // powercap exists but has no RAPL zone (e.g. only dtpm)
  t.Write("/sys/class/powercap/dtpm/enabled", "1\n");
  RootedSysfs fs2(t.root());
  EXPECT_EQ(DiscoverRaplZones(fs2).status().code(), StatusCode::kUnimplemented);
}

TEST(RaplTest, EnergyDeltaHandlesWrapAround) {
  struct Case {
    uint64_t before, after, range, want;
  } cases[] = {
      {100, 300, 1000, 200},
      {0, 0, 1000, 0},
      {900, 100, 1000, 200},                         // wrapped once
      {kRange - 1000000, 2000000, kRange, 3000000},  // the fixture's range
      {kRange, 0, kRange, 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RaplEnergyDeltaUj(c.before, c.after, c.range), c.want) << c.before << " -> " << c.after;
  }
}

TEST(RaplTest, MeterTurnsCountersIntoPowerAcrossAWrap) {
  TempTree t("host_rapl");
  RootedSysfs fs(t.root());
  auto zones = DiscoverRaplZones(fs);
  ASSERT_TRUE(zones.ok());
  ManualClock clock(TimePoint(std::chrono::seconds(1764201600)));
  RaplPowerMeter meter(&fs, *zones, &clock);
  auto first = meter.Sample();
  EXPECT_EQ(first.status().code(), StatusCode::kFailedPrecondition);  // primed
  // Two seconds later: package-0 +50 J, core +30 J, dram +4 J, package-1 wrapped (+60 J).
  t.Write("/sys/class/powercap/intel-rapl:0/energy_uj", std::to_string(81234567890ull + 50000000) + "\n");
  t.Write("/sys/class/powercap/intel-rapl:0:0/energy_uj", std::to_string(41234567890ull + 30000000) + "\n");
  t.Write("/sys/class/powercap/intel-rapl:0:1/energy_uj", std::to_string(1234567890ull + 4000000) + "\n");
  const uint64_t pkg1_before = 262143000000ull;
  const uint64_t pkg1_after = 60000000 - (kRange - pkg1_before);
  t.Write("/sys/class/powercap/intel-rapl:1/energy_uj", std::to_string(pkg1_after) + "\n");
  clock.Advance(std::chrono::milliseconds(2000));
  auto p = meter.Sample();
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_DOUBLE_EQ(p->interval.value(), 2.0);
  ASSERT_EQ(p->zones.size(), 4u);
  EXPECT_EQ(p->zones[0].first, "package-0 (intel-rapl:0)");
  EXPECT_NEAR(p->zones[0].second.value(), 25.0, 1e-9);
  EXPECT_NEAR(p->zones[1].second.value(), 15.0, 1e-9);
  EXPECT_NEAR(p->zones[2].second.value(), 2.0, 1e-9);
  EXPECT_NEAR(p->zones[3].second.value(), 30.0, 1e-9);
  EXPECT_NEAR(p->total.value(), 55.0, 1e-9);  // packages only
  // No time passed: not a division by zero.
  EXPECT_EQ(meter.Sample().status().code(), StatusCode::kFailedPrecondition);
}

TEST(RaplTest, UnreadableCountersArePermissionDeniedNotUnsupported) {
  TempTree t("host_rapl");
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  auto zones = DiscoverRaplZones(fs);  // discovery does not need energy_uj
  ASSERT_TRUE(zones.ok());
  fs.FailReads("/sys/class/powercap/intel-rapl:0/energy_uj",
               PermissionDenied("cannot open /sys/class/powercap/intel-rapl:0/energy_uj: Permission denied"));
  auto e = ReadRaplEnergyUj(fs, (*zones)[0]);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(e.status().message().find("root only"), std::string::npos) << e.status().message();
  ManualClock clock(TimePoint{});
  RaplPowerMeter meter(&fs, *zones, &clock);
  EXPECT_EQ(meter.Sample().status().code(), StatusCode::kPermissionDenied);
}

TEST(RaplTest, BrokenCounterFiles) {
  struct Case {
    std::string file, content;
    bool as_directory;
    StatusCode code;
  } cases[] = {
      {"/sys/class/powercap/intel-rapl:0/energy_uj", "12,5\n", false, StatusCode::kInvalidArgument},
      {"/sys/class/powercap/intel-rapl:0/energy_uj", "-1\n", false, StatusCode::kInvalidArgument},
      {"/sys/class/powercap/intel-rapl:0/energy_uj", "999999999999999\n", false,
       StatusCode::kInvalidArgument},  // > range
      {"/sys/class/powercap/intel-rapl:0/energy_uj", "", true, StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    TempTree t("host_rapl");
    if (c.as_directory) {
      t.Remove(c.file);
      t.MakeDir(c.file);
    } else {
      t.Write(c.file, c.content);
    }
    RootedSysfs fs(t.root());
    auto zones = DiscoverRaplZones(fs);
    ASSERT_TRUE(zones.ok());
    auto e = ReadRaplEnergyUj(fs, (*zones)[0]);
    ASSERT_FALSE(e.ok()) << c.content;
    EXPECT_EQ(e.status().code(), c.code) << e.status().message();
  }
  // Broken descriptions fail discovery, naming the file.
  TempTree t("host_rapl");
  t.Write("/sys/class/powercap/intel-rapl:1/max_energy_range_uj", "lots\n");
  RootedSysfs fs(t.root());
  auto zones = DiscoverRaplZones(fs);
  ASSERT_FALSE(zones.ok());
  EXPECT_NE(zones.status().message().find("intel-rapl:1/max_energy_range_uj"), std::string::npos);
  t.Write("/sys/class/powercap/intel-rapl:1/max_energy_range_uj", "0\n");
  EXPECT_EQ(DiscoverRaplZones(fs).status().code(), StatusCode::kInvalidArgument);
}

TEST(RaplTest, PowerLimitWrites) {
  TempTree t("host_rapl");
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  auto zones = DiscoverRaplZones(fs);
  ASSERT_TRUE(zones.ok());
  const RaplZone& pkg0 = (*zones)[0];
  ASSERT_TRUE(SetRaplPowerLimit(fs, pkg0, 0, Watts(65)).ok());
  EXPECT_EQ(t.ReadHost("/sys/class/powercap/intel-rapl:0/constraint_0_power_limit_uw"), "65000000\n");
  auto again = DiscoverRaplZones(fs);
  EXPECT_EQ((*again)[0].constraints[0].power_limit_uw, 65000000u);

  struct Case {
    int index;
    double watts;
    StatusCode code;
  } cases[] = {
      {0, 0, StatusCode::kInvalidArgument},
      {0, -5, StatusCode::kInvalidArgument},
      {0, 126, StatusCode::kInvalidArgument},  // above max_power_uw
      {7, 10, StatusCode::kInvalidArgument},   // no such constraint
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SetRaplPowerLimit(fs, pkg0, c.index, Watts(c.watts)).code(), c.code)
        << c.index << " " << c.watts;
  }
  fs.FailWrites("/sys/class/powercap/intel-rapl:0/constraint_1_power_limit_uw", PermissionDenied("EACCES"));
  Status s = SetRaplPowerLimit(fs, pkg0, 1, Watts(100));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("needs root"), std::string::npos);
}

}  // namespace
}  // namespace ecomap::platform
