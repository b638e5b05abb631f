#include "platform/host/sysfs.h"

#include <gtest/gtest.h>

#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::TempTree;

TEST(RootedSysfsTest, ReadsWritesAndListsUnderItsRoot) {
  TempTree t;
  t.Write("/sys/a/value", "42\n");
  t.Write("/sys/a/name", "  package-0 \n");
  RootedSysfs fs(t.root() + "/");  // a trailing slash is ignored
  EXPECT_EQ(*fs.Read("/sys/a/value"), "42\n");
  EXPECT_EQ(*ReadTrimmed(fs, "/sys/a/name"), "package-0");
  EXPECT_EQ(*ReadInt64(fs, "/sys/a/value"), 42);
  ASSERT_TRUE(fs.Write("/sys/a/value", "7\n").ok());
  EXPECT_EQ(*ReadInt64(fs, "/sys/a/value"), 7);
  EXPECT_EQ(*fs.List("/sys/a"), (std::vector<std::string>{"name", "value"}));
  EXPECT_TRUE(fs.Exists("/sys/a/value"));
  EXPECT_TRUE(fs.IsDirectory("/sys/a"));
  EXPECT_FALSE(fs.IsDirectory("/sys/a/value"));
  EXPECT_EQ(fs.HostPath("/sys/a"), t.root() + "/sys/a");
}

TEST(RootedSysfsTest, ErrorsAreTypedAndNameThePath) {
  TempTree t;
  t.MakeDir("/sys/dir_instead_of_file");
  t.Symlink("/nonexistent/target", "/sys/dangling");
  t.Write("/sys/garbage", "12abc\n");
  t.Write("/sys/negative", "-5\n");
  RootedSysfs fs(t.root());

  struct Case {
    std::string path;
    StatusCode code;
  } cases[] = {
      {"/sys/missing", StatusCode::kNotFound},
      {"/sys/dangling", StatusCode::kNotFound},
      {"/sys/dir_instead_of_file", StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    auto r = fs.Read(c.path);
    ASSERT_FALSE(r.ok()) << c.path;
    EXPECT_EQ(r.status().code(), c.code) << c.path << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(c.path), std::string::npos) << r.status().message();
  }
  auto g = ReadInt64(fs, "/sys/garbage");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(g.status().message().find("/sys/garbage"), std::string::npos);
  EXPECT_NE(g.status().message().find("12abc"), std::string::npos);
  EXPECT_EQ(ReadUint64(fs, "/sys/negative").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.Write("/sys/missing", "1").code(), StatusCode::kNotFound);
  EXPECT_EQ(fs.Write("/sys/dir_instead_of_file", "1").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs.List("/sys/garbage").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs.List("/sys/nothing").status().code(), StatusCode::kNotFound);
}

TEST(FaultySysfsTest, InjectsReadAndWriteFaultsAndRecordsWrites) {
  TempTree t;
  t.Write("/sys/energy_uj", "100\n");
  RootedSysfs base(t.root());
  FaultySysfs fs(&base);
  fs.FailReads("/sys/energy_uj", PermissionDenied("root only"));
  EXPECT_EQ(fs.Read("/sys/energy_uj").status().code(), StatusCode::kPermissionDenied);
  fs.FailWrites("/sys/energy_uj", PermissionDenied("read-only"));
  EXPECT_EQ(fs.Write("/sys/energy_uj", "1").code(), StatusCode::kPermissionDenied);
  fs.Clear();
  EXPECT_EQ(*fs.Read("/sys/energy_uj"), "100\n");
  ASSERT_TRUE(fs.Write("/sys/energy_uj", "5\n").ok());
  ASSERT_EQ(fs.writes().size(), 1u);
  EXPECT_EQ(fs.writes()[0].first, "/sys/energy_uj");
  EXPECT_EQ(fs.Describe(), base.Describe());
}

TEST(CpuListTest, ParsesKernelLists) {
  struct Case {
    std::string text;
    std::vector<int> want;
  } cases[] = {
      {"0-3", {0, 1, 2, 3}}, {"0", {0}}, {"0-1,4,6-7\n", {0, 1, 4, 6, 7}}, {"", {}}, {"\n", {}},
      {"3,1,1", {1, 3}},
  };
  for (const Case& c : cases) {
    auto r = ParseCpuList(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(*r, c.want) << c.text;
  }
  for (std::string bad : {"a", "0-", "3-1", "1,,2", "-1", "0-3,x", "1 2"}) {
    auto r = ParseCpuList(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(FormatCpuList({0, 1, 2, 3, 5, 7, 8}), "0-3,5,7-8");
  EXPECT_EQ(FormatCpuList({}), "");
  EXPECT_EQ(*ParseCpuList(FormatCpuList({2, 4, 5, 6})), (std::vector<int>{2, 4, 5, 6}));
}

TEST(ParseNumberTest, StrictWholeTokens) {
  EXPECT_EQ(*ParseInt64(" -12\n", "x"), -12);
  EXPECT_EQ(*ParseUint64("18446744073709551615", "x"), 18446744073709551615ull);
  EXPECT_DOUBLE_EQ(*ParseDouble("2.5", "x"), 2.5);
  for (std::string bad : {"", "1.5", "1e3", "0x10", "12 13", "abc"}) {
    EXPECT_FALSE(ParseInt64(bad, "x").ok()) << bad;
  }
  EXPECT_FALSE(ParseUint64("-1", "x").ok());
  EXPECT_FALSE(ParseUint64("18446744073709551616", "x").ok());  // overflow
  EXPECT_FALSE(ParseDouble("nan?", "x").ok());
}

TEST(PathTest, JoinAndSplit) {
  EXPECT_EQ(JoinPath("/sys/", "/a"), "/sys/a");
  EXPECT_EQ(JoinPath("/sys", "a"), "/sys/a");
  auto parts = SplitWhitespace("  a b\t c\n");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2], "c");
}

}  // namespace
}  // namespace ecomap::platform
