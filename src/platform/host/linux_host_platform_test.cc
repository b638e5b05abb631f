#include "platform/host/linux_host_platform.h"

#include <gtest/gtest.h>

#include <cmath>

#include "platform/registry.h"
#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::FixtureDir;
using testing::TempTree;

const TimePoint kStart{std::chrono::seconds(1764201600)};

std::unique_ptr<LinuxHostPlatform> MakeHost(const std::string& root, const Clock* clock,
                                            Sysfs* fs = nullptr) {
  HostOptions o;
  o.root = root;
  o.clock = clock;
  o.sysfs = fs;
  auto h = LinuxHostPlatform::Create(o);
  EXPECT_TRUE(h.ok()) << h.status().message();
  return h.ok() ? std::move(h).value() : nullptr;
}

TEST(LinuxHostPlatformTest, LevelsFromCpufreqAndHotPlug) {
  ManualClock clock(kStart);
  auto h = MakeHost(FixtureDir("host_rapl"), &clock);
  ASSERT_NE(h, nullptr);
  const PlatformInfo& info = h->info();
  EXPECT_EQ(info.name, "host");
  EXPECT_EQ(info.UnitIdList(), "cpu0, cpu1, cpu2, cpu3");
  EXPECT_NEAR(info.FindUnit("cpu2")->max_frequency_mhz, 3500, 1e-9);
  EXPECT_TRUE(h->measures_power());
  EXPECT_EQ(info.provenance, Provenance::kMeasured);
  // 2 core sets x 4 clock ratios of 3.5 GHz (no frequency table: exact ratios).
  struct Row {
    const char* name;
    int cores;
    double cap_mhz;  // 0: none
  } rows[] = {{"4CORE_100PCT", 4, 0},   {"4CORE_80PCT", 4, 2800}, {"4CORE_60PCT", 4, 2100},
              {"4CORE_40PCT", 4, 1400}, {"2CORE_100PCT", 2, 0},   {"2CORE_80PCT", 2, 2800},
              {"2CORE_60PCT", 2, 2100}, {"2CORE_40PCT", 2, 1400}};
  ASSERT_EQ(info.modes.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    const PowerMode& m = info.modes[i];
    EXPECT_EQ(m.id, static_cast<int>(i));
    EXPECT_EQ(m.name, rows[i].name);
    EXPECT_EQ(m.online_cpu_cores, rows[i].cores);
    if (rows[i].cap_mhz == 0) {
      EXPECT_TRUE(m.max_frequency_mhz.empty()) << m.name;
    } else {
      ASSERT_EQ(m.max_frequency_mhz.size(), static_cast<size_t>(rows[i].cores)) << m.name;
      EXPECT_NEAR(m.max_frequency_mhz.at("cpu0"), rows[i].cap_mhz, 1e-9);
    }
    ASSERT_TRUE(m.budget.has_value());
    EXPECT_NEAR(
        m.budget->value(),
        h->power_model().FullLoad(rows[i].cores, rows[i].cap_mhz == 0 ? 1 : rows[i].cap_mhz / 3500).value(),
        1e-9);
    if (i % 4 != 0) {
      EXPECT_LT(m.budget->value(), info.modes[i - 1].budget->value());  // lower clock, lower budget
    }
  }
  EXPECT_EQ(*h->CurrentMode(), 0);
}

TEST(LinuxHostPlatformTest, LevelsSnapToTheFrequencyTable) {
  TempTree t("host_rapl");
  for (int c = 0; c < 4; ++c) {
    t.Write("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cpufreq/scaling_available_frequencies",
            "800000 1200000 1600000 2000000 2400000 3000000 3500000\n");
  }
  ManualClock clock(kStart);
  auto h = MakeHost(t.root(), &clock);
  ASSERT_NE(h, nullptr);
  EXPECT_NEAR(h->info().FindModeByName("4CORE_69PCT")->max_frequency_mhz.at("cpu3"), 2400,
              1e-9);                                            // 2800 -> 2400
  EXPECT_NE(h->info().FindModeByName("4CORE_57PCT"), nullptr);  // 2100 -> 2000
  EXPECT_NE(h->info().FindModeByName("4CORE_34PCT"), nullptr);  // 1400 -> 1200
}

TEST(LinuxHostPlatformTest, ApplyModeWritesCapsAndHotPlug) {
  TempTree t("host_rapl");
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  ManualClock clock(kStart);
  auto h = MakeHost(t.root(), &clock, &fs);
  ASSERT_NE(h, nullptr);
  ASSERT_TRUE(h->ApplyMode(2).ok());  // 4CORE_60PCT
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(t.ReadHost("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cpufreq/scaling_max_freq"),
              "2100000\n");
  }
  EXPECT_EQ(*h->CurrentMode(), 2);
  fs.Clear();
  ASSERT_TRUE(h->ApplyMode(4).ok());  // 2CORE_100PCT: caps lifted on cpu0-1, cpu2-3 taken offline
  std::vector<std::pair<std::string, std::string>> want = {
      {"/sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq", "3500000\n"},
      {"/sys/devices/system/cpu/cpu1/cpufreq/scaling_max_freq", "3500000\n"},
      {"/sys/devices/system/cpu/cpu2/online", "0\n"},
      {"/sys/devices/system/cpu/cpu3/online", "0\n"},
  };
  EXPECT_EQ(fs.writes(), want);
  // The kernel would now list 0-1 as online; the fixture is told so by hand.
  t.Write("/sys/devices/system/cpu/online", "0-1\n");
  EXPECT_EQ(*h->CurrentMode(), 4);
  fs.Clear();
  ASSERT_TRUE(h->ApplyMode(0).ok());  // back online first, then caps
  EXPECT_EQ(fs.writes().front().first, "/sys/devices/system/cpu/cpu2/online");
  EXPECT_EQ(fs.writes().front().second, "1\n");
  EXPECT_EQ(h->ApplyMode(8).code(), StatusCode::kNotFound);
  EXPECT_EQ(h->ApplyMode(-1).code(), StatusCode::kNotFound);
}

TEST(LinuxHostPlatformTest, PowerCapSetsRaplsLongTermLimitPerPackage) {
  TempTree t("host_rapl");
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  ManualClock clock(kStart);
  auto h = MakeHost(t.root(), &clock, &fs);
  ASSERT_NE(h, nullptr);
  // Two packages: 60 W is 30 W each, on their long-term constraint (0).
  ASSERT_TRUE(h->SetPowerCap(Watts(60)).ok());
  EXPECT_EQ(t.ReadHost("/sys/class/powercap/intel-rapl:0/constraint_0_power_limit_uw"), "30000000\n");
  EXPECT_EQ(t.ReadHost("/sys/class/powercap/intel-rapl:1/constraint_0_power_limit_uw"), "30000000\n");
  EXPECT_EQ(h->SetPowerCap(Watts(0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h->SetPowerCap(Watts(std::nan(""))).code(), StatusCode::kInvalidArgument);
  Status above = h->SetPowerCap(Watts(400));  // 200 W a package, over its 125 W maximum
  EXPECT_EQ(above.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(above.message().find("maximum"), std::string::npos) << above.message();
  fs.FailWrites("/sys/class/powercap/intel-rapl:0/constraint_0_power_limit_uw", PermissionDenied("Permission denied"));
  Status denied = h->SetPowerCap(Watts(60));
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("needs root"), std::string::npos) << denied.message();
}

TEST(LinuxHostPlatformTest, NoPowercapZonesMeansNoContinuousCap) {
  ManualClock clock(kStart);
  auto h = MakeHost(FixtureDir("host_vm"), &clock);
  ASSERT_NE(h, nullptr);
  Status s = h->SetPowerCap(Watts(10));
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("use the modes"), std::string::npos) << s.message();
}

TEST(LinuxHostPlatformTest, FailedApplyRestoresWhatItChanged) {
  TempTree t("host_rapl");
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  ManualClock clock(kStart);
  auto h = MakeHost(t.root(), &clock, &fs);
  ASSERT_NE(h, nullptr);
  fs.FailWrites("/sys/devices/system/cpu/cpu2/cpufreq/scaling_max_freq",
                PermissionDenied(
                    "cannot open /sys/devices/system/cpu/cpu2/cpufreq/scaling_max_freq: Permission denied"));
  Status s = h->ApplyMode(1);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("applying mode 1 (4CORE_80PCT)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("needs root"), std::string::npos) << s.message();
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(t.ReadHost("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cpufreq/scaling_max_freq"),
              "3500000\n")
        << c;
  }
  EXPECT_EQ(*h->CurrentMode(), 0);
}

TEST(LinuxHostPlatformTest, RaplPowerIsMeasured) {
  TempTree t("host_rapl");
  ManualClock clock(kStart);
  auto h = MakeHost(t.root(), &clock);
  ASSERT_NE(h, nullptr);
  t.Write("/sys/class/powercap/intel-rapl:0/energy_uj", std::to_string(81234567890ull + 20000000) + "\n");
  // package-1 wraps: 328850 µJ to the top of its range, then 9671150 µJ more = 10 J.
  t.Write("/sys/class/powercap/intel-rapl:1/energy_uj",
          std::to_string(10000000ull - (262143328850ull - 262143000000ull)) + "\n");
  clock.Advance(std::chrono::seconds(1));
  auto p = h->ReadPower();
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->provenance, Provenance::kMeasured);
  EXPECT_NEAR(p->total.value(), 30.0, 1e-9);
  EXPECT_EQ(p->rails.size(), 4u);
  EXPECT_EQ(p->time, clock.Now());
  // Again with no time passed: the last reading, not a division by zero.
  auto again = h->ReadPower();
  ASSERT_TRUE(again.ok());
  EXPECT_NEAR(again->total.value(), 30.0, 1e-9);
}

TEST(LinuxHostPlatformTest, RootOnlyCountersFallBackToTheModelAndSaySo) {
  TempTree t("host_rapl");
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  fs.FailReads("/sys/class/powercap/intel-rapl:0/energy_uj", PermissionDenied("Permission denied"));
  ManualClock clock(kStart);
  auto h = MakeHost(t.root(), &clock, &fs);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->measures_power());
  EXPECT_NE(h->power_source_note().find("root only"), std::string::npos) << h->power_source_note();
  EXPECT_EQ(h->info().provenance, Provenance::kModelled);
  EXPECT_NE(h->info().description.find("modelled"), std::string::npos);
  auto p = h->ReadPower();
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->provenance, Provenance::kModelled);
}

TEST(LinuxHostPlatformTest, VmWithoutSensorsModelsPowerFromProcStat) {
  TempTree t("host_vm");
  ManualClock clock(kStart);
  auto h = MakeHost(t.root(), &clock);
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->measures_power());
  EXPECT_NE(h->power_source_note().find("no RAPL"), std::string::npos) << h->power_source_note();
  EXPECT_EQ(h->info().UnitIdList(), "cpu0, cpu1");
  ASSERT_EQ(h->info().modes.size(), 2u);
  EXPECT_EQ(h->info().modes[0].name, "2CORE");
  EXPECT_EQ(h->info().modes[1].name, "1CORE");
  EXPECT_EQ(h->info().FindUnit("cpu0")->max_frequency_mhz, 0);
  EXPECT_EQ(*h->CurrentMode(), 0);
  // cpu0 75% busy, cpu1 10% busy since creation.
  t.Write("/proc/stat",
          "cpu  0 0 0 0\ncpu0 3438 0 1047 36996 29 0 3 4 0 0\ncpu1 3056 0 1623 36421 376 0 52 8 0 0\n");
  clock.Advance(std::chrono::seconds(1));
  auto p = h->ReadPower();
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->provenance, Provenance::kModelled);
  // 2 + 2 x 1 idle, + 5 x 0.75 + 5 x 0.10 (clock unknown: f/fmax = 1).
  EXPECT_NEAR(p->total.value(), 4.0 + 3.75 + 0.5, 1e-9);
  ASSERT_EQ(p->rails.size(), 3u);
  EXPECT_EQ(p->rails[0].name, "idle");
  EXPECT_EQ(p->rails[1].name, "cpu0");
  // Apply: mode 0 needs no write; mode 1 takes cpu1 offline.
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  auto h2 = MakeHost(t.root(), &clock, &fs);
  ASSERT_TRUE(h2->ApplyMode(0).ok());
  EXPECT_TRUE(fs.writes().empty());
  fs.FailWrites("/sys/devices/system/cpu/cpu1/online", PermissionDenied("EACCES"));
  EXPECT_EQ(h2->ApplyMode(1).code(), StatusCode::kPermissionDenied);
  t.Remove("/proc/stat");
  auto gone = h->ReadPower();
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find("/proc/stat"), std::string::npos);
}

TEST(LinuxHostPlatformTest, ModelPowerFromBusyTime) {
  ManualClock clock(kStart);
  auto h = MakeHost(FixtureDir("host_rapl"), &clock);
  ASSERT_NE(h, nullptr);
  std::map<std::string, Milliseconds> busy = {
      {"cpu0", Milliseconds(500)}, {"cpu1", Milliseconds(1000)}, {"cpu3", Milliseconds(1000)}};
  auto full = h->ModelPowerFromBusy(0, busy, Milliseconds(1000));
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_EQ(full->provenance, Provenance::kModelled);
  EXPECT_NEAR(full->total.value(), 2 + 4 + 5 * 0.5 + 5 + 5, 1e-9);
  auto slow = h->ModelPowerFromBusy(2, busy, Milliseconds(1000));  // 60% clock
  EXPECT_NEAR(slow->total.value(), 2 + 4 + 5 * 2.5 * std::pow(0.6, 2.5), 1e-9);
  auto two = h->ModelPowerFromBusy(4, busy, Milliseconds(1000));  // cpu3 offline in the mode
  EXPECT_NEAR(two->total.value(), 2 + 2 + 5 * 1.5, 1e-9);
  EXPECT_EQ(h->ModelPowerFromBusy(9, busy, Milliseconds(1000)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(h->ModelPowerFromBusy(0, {{"gpu", Milliseconds(1)}}, Milliseconds(1000)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(h->ModelPowerFromBusy(0, busy, Milliseconds(0)).status().code(), StatusCode::kInvalidArgument);
}

TEST(LinuxHostPlatformTest, NotALinuxTreeAndEvaluate) {
  TempTree empty;
  HostOptions o;
  o.root = empty.root();
  auto h = LinuxHostPlatform::Create(o);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(h.status().message().find('\n'), std::string::npos);

  ManualClock clock(kStart);
  auto host = MakeHost(FixtureDir("host_vm"), &clock);
  Configuration c;  // no tenants: invalid
  Status e = host->Validate(c);
  EXPECT_FALSE(e.ok());
  EXPECT_NE(e.code(), StatusCode::kUnimplemented);
  // Its tenants run in the engine: the driver is no Evaluator, and the registry says why.
  EXPECT_EQ(AsEvaluator(host.get()), nullptr);
  auto ev = MakeEvaluator("host");
  EXPECT_EQ(ev.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(ev.status().message().find("engine"), std::string::npos);
}

TEST(LinuxHostPlatformTest, RegistryAndThisMachine) {
  PlatformOptions o;
  o.root = FixtureDir("host_rapl");
  auto p = MakePlatform("host", o);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ((*p)->info().modes.size(), 8u);
  // The real machine, read-only: whatever it has, the driver comes up and reads power.
  HostOptions real;
  real.min_interval = std::chrono::milliseconds(50);
  auto here = LinuxHostPlatform::Create(real);
  ASSERT_TRUE(here.ok()) << here.status().message();
  auto reading = (*here)->ReadPower();
  ASSERT_TRUE(reading.ok()) << reading.status().message();
  EXPECT_GT(reading->total.value(), 0);
  EXPECT_EQ(reading->provenance, (*here)->measures_power() ? Provenance::kMeasured : Provenance::kModelled);
}

}  // namespace
}  // namespace ecomap::platform
