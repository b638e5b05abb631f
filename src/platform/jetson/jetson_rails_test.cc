#include "platform/jetson/jetson_rails.h"

#include <gtest/gtest.h>

#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::FixtureDir;
using testing::TempTree;

constexpr const char* kXavier0040 = "/sys/bus/i2c/drivers/ina3221x/1-0040/iio:device0";
constexpr const char* kOrin0040 = "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3";

TEST(Ina3221Test, ReadsTheXavierIioLayout) {
  RootedSysfs fs(FixtureDir("xavier"));
  auto s = ReadIna3221(fs);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->layout, Ina3221Layout::kIio);
  // The REFERENCE tegrastats line: GPU 1155, CPU 385, SOC 2504, CV 0, VDDRQ 192, SYS5V 2692 mW.
  struct Want {
    const char* name;
    double mw;
  } want[] = {{"GPU", 1155}, {"CPU", 385}, {"SOC", 2504}, {"CV", 0}, {"VDDRQ", 192}, {"SYS5V", 2692}};
  ASSERT_EQ(s->rails.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(s->rails[i].name, want[i].name);
    EXPECT_NEAR(s->rails[i].power.value(), want[i].mw / 1000.0, 1e-9) << want[i].name;
  }
  EXPECT_NEAR(*s->rails[0].voltage_mv, 19072, 1e-9);
  EXPECT_NEAR(*s->rails[0].current_ma, 61, 1e-9);
  EXPECT_EQ(s->rails[0].channel, 0);
  EXPECT_NEAR(s->total.value(), 6.928, 1e-9);
  EXPECT_EQ(s->total_rule, "sum of 6 rails");
}

TEST(Ina3221Test, ReadsTheOrinHwmonLayout) {
  RootedSysfs fs(FixtureDir("orin"));
  auto s = ReadIna3221(fs);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->layout, Ina3221Layout::kHwmon);
  // NC channels and the unlabelled/label-only sum channel (in7, no curr7) are skipped.
  ASSERT_EQ(s->rails.size(), 4u);
  EXPECT_EQ(s->rails[0].name, "VDD_GPU_SOC");
  EXPECT_EQ(s->rails[0].channel, 1);
  EXPECT_NEAR(s->rails[0].power.value(), 5.072 * 1.012, 1e-9);  // V * I
  EXPECT_EQ(s->rails[1].name, "VDD_CPU_CV");
  EXPECT_EQ(s->rails[2].name, "VIN_SYS_5V0");
  EXPECT_EQ(s->rails[3].name, "VDDQ_VDD2_1V8AO");
  double sum = 5.072 * 1.012 + 5.064 * 0.645 + 5.048 * 1.089 + 5.056 * 0.060;
  EXPECT_NEAR(s->total.value(), sum, 1e-9);
}

TEST(Ina3221Test, VddInIsTheTotalWhenPresent) {
  TempTree t;
  const std::string d = "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon1";
  t.Write(d + "/in1_label", "VDD_IN\n");
  t.Write(d + "/in1_input", "5000\n");
  t.Write(d + "/curr1_input", "1600\n");
  t.Write(d + "/in2_label", "VDD_CPU_GPU_CV\n");
  t.Write(d + "/in2_input", "5000\n");
  t.Write(d + "/curr2_input", "600\n");
  t.Write(d + "/in3_label", "VDD_SOC\n");
  t.Write(d + "/in3_input", "5000\n");
  t.Write(d + "/curr3_input", "-2\n");  // shunt offset near zero load: clamped to 0 W
  RootedSysfs fs(t.root());
  auto s = ReadIna3221(fs);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_NEAR(s->total.value(), 8.0, 1e-9);
  EXPECT_EQ(s->total_rule, "VDD_IN (module input rail)");
  EXPECT_EQ(s->rails[2].power.value(), 0.0);
}

TEST(Ina3221Test, MissingMonitorsSayWhereTheyWereLookedFor) {
  RootedSysfs fs(FixtureDir("host_vm"));
  auto s = ReadIna3221(fs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("ina3221x/*/iio:device*"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("ina3221/*/hwmon/hwmon*"), std::string::npos);

  TempTree empty;  // the driver directory exists but no channel is labelled
  empty.MakeDir("/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon0");
  empty.Write("/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon0/in1_input", "5000\n");
  RootedSysfs efs(empty.root());
  EXPECT_EQ(ReadIna3221(efs).status().code(), StatusCode::kNotFound);
}

// Broken files of a present channel, in both layouts: the error is typed and names the file.
TEST(Ina3221Test, BrokenChannelFilesAreErrors) {
  struct Case {
    std::string fixture, file;
    enum { kGarbage, kDirectory, kDangling, kMissing, kDenied, kNegative } what;
    StatusCode code;
  } cases[] = {
      {"xavier", std::string(kXavier0040) + "/in_power1_input", Case::kGarbage, StatusCode::kInvalidArgument},
      {"xavier", std::string(kXavier0040) + "/in_power1_input", Case::kDirectory,
       StatusCode::kFailedPrecondition},
      {"xavier", std::string(kXavier0040) + "/in_power1_input", Case::kDangling, StatusCode::kNotFound},
      {"xavier", std::string(kXavier0040) + "/in_power1_input", Case::kMissing, StatusCode::kNotFound},
      {"xavier", std::string(kXavier0040) + "/in_power1_input", Case::kDenied, StatusCode::kPermissionDenied},
      {"xavier", std::string(kXavier0040) + "/in_power1_input", Case::kNegative,
       StatusCode::kInvalidArgument},
      {"orin", std::string(kOrin0040) + "/curr2_input", Case::kGarbage, StatusCode::kInvalidArgument},
      {"orin", std::string(kOrin0040) + "/in2_input", Case::kDirectory, StatusCode::kFailedPrecondition},
      {"orin", std::string(kOrin0040) + "/in2_input", Case::kDangling, StatusCode::kNotFound},
      {"orin", std::string(kOrin0040) + "/in2_label", Case::kDenied, StatusCode::kPermissionDenied},
      {"orin", std::string(kOrin0040) + "/in2_input", Case::kNegative, StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    TempTree t(c.fixture);
    RootedSysfs base(t.root());
    FaultySysfs fs(&base);
    switch (c.what) {
      case Case::kGarbage:
        t.Write(c.file, "12 mW\n");
        break;
      case Case::kDirectory:
        t.Remove(c.file);
        t.MakeDir(c.file);
        break;
      case Case::kDangling:
        t.Remove(c.file);
        t.Symlink("/does/not/exist", c.file);
        break;
      case Case::kMissing:
        t.Remove(c.file);
        break;
      case Case::kDenied:
        fs.FailReads(c.file, PermissionDenied(c.file + ": Permission denied"));
        break;
      case Case::kNegative:
        t.Write(c.file, "-5\n");
        break;
    }
    auto s = ReadIna3221(fs);
    ASSERT_FALSE(s.ok()) << c.fixture << " " << c.file << " case " << c.what;
    EXPECT_EQ(s.status().code(), c.code) << s.status().message();
    EXPECT_NE(s.status().message().find(c.file), std::string::npos) << s.status().message();
  }
}

}  // namespace
}  // namespace ecomap::platform
