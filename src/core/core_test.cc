#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/file.h"
#include "core/status.h"
#include "core/time.h"
#include "core/units.h"

namespace ecomap {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(File, WriteFileAtomicReplacesTheFileAndLeavesNoTemporary) {
  const std::string dir = ::testing::TempDir() + "/core_file_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/out.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "first\n").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second\n").ok());
  EXPECT_EQ(ReadAll(path), "second\n");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

TEST(File, WriteToAnUnwritablePlaceFails) {
  Status s = WriteFileAtomic("/nonexistent-dir/x/index.html", "x");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("/nonexistent-dir/x"), std::string::npos);
}

TEST(Units, EnergyAndCarbonConversions) {
  Joules e = Watts{10} * Seconds{360};  // 3600 J = 1 Wh
  EXPECT_DOUBLE_EQ(e.value(), 3600.0);
  EXPECT_DOUBLE_EQ(ToWattHours(e).value(), 1.0);
  EXPECT_DOUBLE_EQ(ToKilowattHours(e).value(), 0.001);
  // 1 Wh at 200 g/kWh = 0.2 g.
  EXPECT_DOUBLE_EQ(CarbonOf(e, GramsPerKwh{200}).value(), 0.2);
}

TEST(Units, PerInferenceCarbonAndCdp) {
  // 30 W, 360 g/kWh, 100 inferences/s: 0.3 J per inference = 0.3/3.6e6 kWh * 360 = 3e-5 g.
  GramsCO2 c = CarbonPerInference(Watts{30}, GramsPerKwh{360}, 100.0);
  EXPECT_NEAR(c.value(), 3e-5, 1e-15);
  // At 50 ms latency: CDP = 3e-5 * 0.05 = 1.5e-6 g*s.
  EXPECT_NEAR(CarbonDelay(c, Milliseconds{50}).value(), 1.5e-6, 1e-18);
}

TEST(Units, WattTimeConversion) {
  EXPECT_NEAR(FromLbsPerMwh(1000).value(), 453.59237, 1e-9);
}

TEST(Time, ParsesTheFormatsOfTheSources) {
  struct Case {
    const char* text;
    const char* iso;
  } cases[] = {
      {"2022-01-01 00:00:00", "2022-01-01T00:00:00Z"},
      {"2024-09-24T03:00:00.000Z", "2024-09-24T03:00:00Z"},
      {"2020-05-24T20:30Z", "2020-05-24T20:30:00Z"},
      {"2023-03-01T12:00:00+01:00", "2023-03-01T11:00:00Z"},
      {"2023-03-01T12:00:00.25-00:30", "2023-03-01T12:30:00.250Z"},
      {"2022-12-31", "2022-12-31T00:00:00Z"},
      {"2024-02-29 23:59:59", "2024-02-29T23:59:59Z"},
  };
  for (const auto& c : cases) {
    auto t = ParseTimestamp(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    EXPECT_EQ(FormatIso8601(*t), c.iso) << c.text;
  }
}

TEST(Time, RejectsBadTimestamps) {
  for (const char* bad : {"", "2022", "2022-13-01 00:00:00", "2023-02-29 00:00:00", "2022-01-01 25:00:00",
                          "2022-01-01 00:00:00 extra", "yesterday", "2022-01-01T00:00:00+99:00",
                          "2022-01-01T00:00:00."}) {
    auto t = ParseTimestamp(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(Time, ManualClockAdvances) {
  ManualClock clock(*ParseTimestamp("2022-01-01T00:00:00Z"));
  clock.Advance(std::chrono::hours(25));
  EXPECT_EQ(FormatIso8601(clock.Now()), "2022-01-02T01:00:00Z");
}

TEST(Status, ContextAndMacros) {
  auto fail = []() -> StatusOr<int> { return InvalidArgument("bad"); };
  auto use = [&]() -> Status {
    ECOMAP_ASSIGN_OR_RETURN(int v, fail());
    (void)v;
    return Status::Ok();
  };
  Status s = use();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.WithContext("file.csv:3").ToString(), "InvalidArgument: file.csv:3: bad");
  StatusOr<int> ok = 4;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
}

}  // namespace
}  // namespace ecomap
