#include "platform/host/cpufreq.h"

#include <gtest/gtest.h>

#include "platform/host/cgroup.h"
#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::FixtureDir;
using testing::TempTree;

TEST(CpuFreqTest, ReadsOnlineCpusAndCaps) {
  RootedSysfs fs(FixtureDir("xavier"));
  EXPECT_EQ(*ReadOnlineCpus(fs), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(ReadPresentCpus(fs)->size(), 8u);
  auto f = ReadCpuFreq(fs, 0);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->cpuinfo_min_khz, 115200);
  EXPECT_EQ(f->cpuinfo_max_khz, 2265600);
  EXPECT_EQ(f->scaling_max_khz, 1190400);
  EXPECT_EQ(*f->scaling_cur_khz, 1190400);
  EXPECT_EQ(f->governor, "schedutil");
  ASSERT_EQ(f->available_khz.size(), 29u);
  EXPECT_EQ(f->available_khz.back(), 2265600);
  // An offline core of the Xavier fixture has no cpufreq directory.
  EXPECT_EQ(ReadCpuFreq(fs, 5).status().code(), StatusCode::kNotFound);
}

TEST(CpuFreqTest, NoCpufreqOnAVmIsNotFoundInOneLine) {
  RootedSysfs fs(FixtureDir("host_vm"));
  auto f = ReadCpuFreq(fs, 0);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.status().message().find('\n'), std::string::npos);
  EXPECT_NE(f.status().message().find("no CPU frequency scaling"), std::string::npos);
}

TEST(CpuFreqTest, MalformedFiles) {
  struct Case {
    std::string file, content;
  } cases[] = {
      {"/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "fast\n"},
      {"/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "100\n"},  // below cpuinfo_min
      {"/sys/devices/system/cpu/cpu0/cpufreq/scaling_available_frequencies", "800000 x\n"},
      {"/sys/devices/system/cpu/online", "0-a\n"},
  };
  for (const Case& c : cases) {
    TempTree t("host_rapl");
    t.Write(c.file, c.content);
    RootedSysfs fs(t.root());
    Status s = c.file.find("online") != std::string::npos ? ReadOnlineCpus(fs).status()
                                                          : ReadCpuFreq(fs, 0).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.file << " " << c.content;
    EXPECT_NE(s.message().find(c.file), std::string::npos) << s.message();
  }
}

TEST(CpuFreqTest, SetsCapsWithinTheHardwareRange) {
  TempTree t("host_rapl");
  RootedSysfs fs(t.root());
  ASSERT_TRUE(SetCpuMaxFreq(fs, 1, 2000000).ok());
  EXPECT_EQ(ReadCpuFreq(fs, 1)->scaling_max_khz, 2000000);
  Status s = SetCpuMaxFreq(fs, 1, 4000000);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("800000..3500000"), std::string::npos) << s.message();
  EXPECT_EQ(SetCpuMaxFreq(fs, 1, 100).code(), StatusCode::kInvalidArgument);
  // Below the current floor: the floor is lowered first (the kernel rejects max < min).
  t.Write("/sys/devices/system/cpu/cpu2/cpufreq/scaling_min_freq", "2000000\n");
  ASSERT_TRUE(SetCpuMaxFreq(fs, 2, 1000000).ok());
  EXPECT_EQ(ReadCpuFreq(fs, 2)->scaling_min_khz, 800000);
  EXPECT_EQ(ReadCpuFreq(fs, 2)->scaling_max_khz, 1000000);

  FaultySysfs faulty(&fs);
  faulty.FailWrites("/sys/devices/system/cpu/cpu3/cpufreq/scaling_max_freq", PermissionDenied("EACCES"));
  EXPECT_EQ(SetCpuMaxFreq(faulty, 3, 1000000).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(SetCpuMaxFreq(fs, 9, 1000000).code(), StatusCode::kNotFound);
}

TEST(CpuFreqTest, HotPlug) {
  TempTree t("host_rapl");
  RootedSysfs fs(t.root());
  ASSERT_TRUE(SetCpuOnline(fs, 3, false).ok());
  EXPECT_EQ(t.ReadHost("/sys/devices/system/cpu/cpu3/online"), "0\n");
  EXPECT_EQ(SetCpuOnline(fs, 0, false).code(), StatusCode::kUnimplemented);  // no cpu0/online
}

TEST(CgroupTest, ParsesAndFormatsCpuMax) {
  struct Case {
    std::string text;
    std::optional<int64_t> quota;
    int64_t period;
  } cases[] = {{"max 100000\n", std::nullopt, 100000},
               {"50000 100000", 50000, 100000},
               {" 150000  100000 ", 150000, 100000}};
  for (const Case& c : cases) {
    auto m = ParseCpuMax(c.text);
    ASSERT_TRUE(m.ok()) << c.text;
    EXPECT_EQ(m->quota_us, c.quota);
    EXPECT_EQ(m->period_us, c.period);
    EXPECT_EQ(*ParseCpuMax(m->ToString()), *m);
  }
  for (std::string bad : {"", "max", "50000", "x 100000", "50000 0", "-5 100000", "1 2 3", "max max"}) {
    auto m = ParseCpuMax(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_DOUBLE_EQ(*CpuMax::Cpus(1.5).cpus(), 1.5);
  EXPECT_EQ(CpuMax::Cpus(0.5).ToString(), "50000 100000");
  EXPECT_FALSE(CpuMax{}.cpus().has_value());
  EXPECT_FALSE(ValidateCpuMax(CpuMax{500, 100000}).ok());
  EXPECT_FALSE(ValidateCpuMax(CpuMax{std::nullopt, 999}).ok());
  EXPECT_FALSE(ValidateCpuMax(CpuMax{std::nullopt, 2000000}).ok());
  EXPECT_TRUE(ValidateCpuMax(CpuMax{1000, 1000}).ok());
}

TEST(CgroupTest, ReadsAndWritesAGroup) {
  TempTree t("host_rapl");
  RootedSysfs fs(t.root());
  auto m = ReadCpuMax(fs, "/sys/fs/cgroup/ecomap");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_FALSE(m->quota_us.has_value());
  ASSERT_TRUE(WriteCpuMax(fs, "/sys/fs/cgroup/ecomap", CpuMax::Cpus(2)).ok());
  EXPECT_EQ(t.ReadHost("/sys/fs/cgroup/ecomap/cpu.max"), "200000 100000\n");
  EXPECT_EQ(*ReadCpuMax(fs, "/sys/fs/cgroup/ecomap")->cpus(), 2.0);
  EXPECT_EQ(WriteCpuMax(fs, "/sys/fs/cgroup/ecomap", CpuMax{10, 100000}).code(),
            StatusCode::kInvalidArgument);
  Status missing = WriteCpuMax(fs, "/sys/fs/cgroup/absent", CpuMax::Cpus(1));
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("subtree_control"), std::string::npos);
  auto v1 = ReadCpuMax(fs, "/sys/fs/cgroup/absent");
  EXPECT_EQ(v1.status().code(), StatusCode::kNotFound);
  EXPECT_NE(v1.status().message().find("cgroup v2"), std::string::npos);
  t.Write("/sys/fs/cgroup/ecomap/cpu.max", "lots 100000\n");
  auto bad = ReadCpuMax(fs, "/sys/fs/cgroup/ecomap");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("/sys/fs/cgroup/ecomap/cpu.max"), std::string::npos);
}

}  // namespace
}  // namespace ecomap::platform
