#include "platform/jetson/jetson_tegrastats.h"

#include <gtest/gtest.h>

#include <fstream>

namespace ecomap::platform {
namespace {

TEST(TegrastatsTest, ParsesAXavierLine) {
  const std::string line =
      "RAM 407/15823MB (lfb 3702x4MB) SWAP 0/7911MB (cached 0MB) "
      "CPU [2%@2265,1%@2265,off,off,off,off,off,off] EMC_FREQ 0% GR3D_FREQ 0% "
      "AO@31.5C GPU@31C Tdiode@34.25C PMIC@100C AUX@30.5C CPU@32.5C thermal@31.2C Tboard@31C "
      "GPU 1155/1155 CPU 385/385 SOC 2504/2503 CV 0/0 VDDRQ 192/192 SYS5V 2692/2692";
  auto s = ParseTegrastatsLine(line);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_FALSE(s->timestamp.has_value());
  EXPECT_EQ(*s->ram_used_mb, 407);
  EXPECT_EQ(*s->ram_total_mb, 15823);
  ASSERT_EQ(s->cpus.size(), 8u);
  EXPECT_TRUE(s->cpus[0].online);
  EXPECT_EQ(s->cpus[0].load_pct, 2);
  EXPECT_EQ(*s->cpus[1].freq_mhz, 2265);
  EXPECT_FALSE(s->cpus[2].online);
  EXPECT_EQ(*s->emc_load_pct, 0);
  EXPECT_FALSE(s->emc_freq_mhz.has_value());
  EXPECT_EQ(*s->gr3d_load_pct, 0);
  EXPECT_TRUE(s->gr3d_freq_mhz.empty());
  EXPECT_DOUBLE_EQ(s->temperatures_c.at("Tdiode"), 34.25);
  EXPECT_DOUBLE_EQ(s->temperatures_c.at("CPU"), 32.5);
  ASSERT_EQ(s->rails.size(), 6u);
  EXPECT_FALSE(s->orin_style_rails);
  EXPECT_EQ(s->rails[1].name, "CPU");  // the rail, not the CPU list
  EXPECT_EQ(s->rails[1].current_mw, 385);
  EXPECT_EQ(s->FindRail("SOC")->average_mw, 2503);
  EXPECT_NEAR(s->TotalPower().value(), 6.928, 1e-9);
}

TEST(TegrastatsTest, ParsesOrinLinesWithTimestampsAndPerGpcClocks) {
  const std::string line =
      "11-27-2026 18:00:01 RAM 2448/30536MB (lfb 6862x4MB) SWAP 0/15268MB (cached 0MB) "
      "CPU [23%@2201,10%@2201,4%@2201,14%@2201,off,off,off,off,off,off,off,off] "
      "EMC_FREQ 3%@3199 GR3D_FREQ 12%@[1300,1300] VIC_FREQ 0%@115 APE 174 NVDLA0 off "
      "cpu@52.968C soc2@48.406C gpu@47.625C tj@53.5C "
      "VDD_GPU_SOC 5139mW/5139mW VDD_CPU_CV 3268mW/3200mW VIN_SYS_5V0 5500mW/5500mW "
      "NC 0mW/0mW VDDQ_VDD2_1V8AO 301mW/301mW NC 0mW/0mW";
  auto s = ParseTegrastatsLine(line);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(*s->timestamp, "11-27-2026 18:00:01");
  EXPECT_EQ(s->cpus.size(), 12u);
  EXPECT_EQ(*s->emc_freq_mhz, 3199);
  EXPECT_EQ(*s->gr3d_load_pct, 12);
  EXPECT_EQ(s->gr3d_freq_mhz, (std::vector<int>{1300, 1300}));
  EXPECT_TRUE(s->orin_style_rails);
  ASSERT_EQ(s->rails.size(), 6u);
  EXPECT_EQ(s->FindRail("VDD_CPU_CV")->average_mw, 3200);
  EXPECT_NEAR(s->TotalPower().value(), (5139 + 3268 + 5500 + 301) / 1000.0, 1e-9);
  EXPECT_DOUBLE_EQ(s->temperatures_c.at("cpu"), 52.968);
}

TEST(TegrastatsTest, JetPack6ThreeValueRailsAndVddIn) {
  auto s = ParseTegrastatsLine(
      "RAM 3000/7620MB (lfb 2x4MB) CPU [10%@1510,5%@1510,off,off,off,off] EMC_FREQ 2%@2133 GR3D_FREQ 0%@[0] "
      "cpu@50.1C/50.1C VDD_IN 5200mW/5100mW/5300mW VDD_CPU_GPU_CV 800mW/790mW/900mW VDD_SOC "
      "1400mW/1400mW/1400mW");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rails.size(), 3u);
  EXPECT_NEAR(s->TotalPower().value(), 5.2, 1e-9);  // VDD_IN is the module input
  EXPECT_DOUBLE_EQ(s->temperatures_c.at("cpu"), 50.1);
}

TEST(TegrastatsTest, OlderFormsParse) {
  // L4T 28/32 TX2-style: EMC/GR3D with clocks, VDD_IN-style rails without mW.
  auto s = ParseTegrastatsLine(
      "RAM 1500/7854MB (lfb 1x4MB) CPU [5%@345,off,off,0%@345,1%@345,2%@345] "
      "EMC_FREQ 0%@1600 GR3D_FREQ 0%@114 VDD_IN 1567/1567 VDD_CPU 152/152");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(*s->emc_freq_mhz, 1600);
  EXPECT_EQ(s->gr3d_freq_mhz, (std::vector<int>{114}));
  EXPECT_NEAR(s->TotalPower().value(), 1.567, 1e-9);
}

TEST(TegrastatsTest, MalformedLinesAreRejectedNamingTheToken) {
  struct Case {
    std::string line, needle;
  } cases[] = {
      {"", "empty line"},
      {"   ", "empty line"},
      {"hello world", "no known field"},
      {"RAM lots", "'lots'"},
      {"RAM 407/15823MB CPU [2%@x,off]", "'[2%@x,off]'"},
      {"CPU [2%@2265,1%]x", "CPU"},
      {"CPU [200%@2265]", "CPU"},
      {"GR3D_FREQ abc", "'abc'"},
      {"GR3D_FREQ 12%@[1300,", "GR3D_FREQ"},
      {"EMC_FREQ", "EMC_FREQ"},
      {"GPU 1155/11x55", "'1155/11x55'"},
      {"GPU 1155mW/1155 CPU 3/3", "'1155mW/1155'"},
      {"GPU 1155/1155 CPU 385mW/385mW", "mixes"},
  };
  for (const Case& c : cases) {
    auto s = ParseTegrastatsLine(c.line);
    ASSERT_FALSE(s.ok()) << "'" << c.line << "'";
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.needle), std::string::npos)
        << c.line << " -> " << s.status().message();
  }
}

}  // namespace
}  // namespace ecomap::platform

namespace ecomap::platform {
namespace {

// The fixture logs: every well-formed line parses, the malformed one does not.
TEST(TegrastatsTest, FixtureLogs) {
  struct Case {
    std::string file;
    int good, bad;
    double first_total_w;
  } cases[] = {
      {"xavier_l4t32.log", 4, 1, 6.928},
      {"orin_jp6.log", 2, 1, 14.208},
  };
  for (const Case& c : cases) {
    std::ifstream in(std::string(ECOMAP_SOURCE_DIR) + "/src/platform/testdata/tegrastats/" + c.file);
    ASSERT_TRUE(in) << c.file;
    std::string line;
    int good = 0, bad = 0;
    while (std::getline(in, line)) {
      auto s = ParseTegrastatsLine(line);
      if (!s.ok()) {
        ++bad;
        continue;
      }
      if (good++ == 0) {
        EXPECT_NEAR(s->TotalPower().value(), c.first_total_w, 1e-9) << c.file;
      }
    }
    EXPECT_EQ(good, c.good) << c.file;
    EXPECT_EQ(bad, c.bad) << c.file;
  }
}

}  // namespace
}  // namespace ecomap::platform
