#include "platform/host/process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::TempTree;

TEST(RunProcessTest, CapturesOutputAndExitStatus) {
  auto r = RunProcess({"/bin/echo", "hello", "world"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_text, "hello world\n");
  EXPECT_TRUE(r->stderr_text.empty());

  auto f = RunProcess({"/bin/false"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->exit_code, 1);

  auto e = RunProcess({"/bin/ls", "/definitely/not/here"});
  ASSERT_TRUE(e.ok());
  EXPECT_NE(e->exit_code, 0);
  EXPECT_FALSE(e->stderr_text.empty());
}

TEST(RunProcessTest, ArgumentsAreNeverInterpretedByAShell) {
  TempTree t;
  const std::string marker = t.root() + "/pwned";
  const std::string evil = "$(touch " + marker + "); `touch " + marker + "` ; touch " + marker;
  auto r = RunProcess({"/bin/echo", evil});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_text, evil + "\n");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(RunProcessTest, StdinIsEmptySoPromptsDoNotHang) {
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(5000);
  auto r = RunProcess({"/bin/cat"}, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_text, "");
  EXPECT_LT(r->elapsed.count(), 4000);
}

TEST(RunProcessTest, TimeoutKillsTheProcessGroup) {
  TempTree t;
  const std::string script = t.root() + "/slow.sh";
  std::ofstream(script) << "#!/bin/sh\necho started\nsleep 30\necho never\n";
  ::chmod(script.c_str(), 0755);
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = RunProcess({script}, o);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("300 ms"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("started"), std::string::npos) << r.status().message();
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(RunProcessTest, ExtraEnvironmentReachesTheChild) {
  ProcessOptions o;
  o.extra_env = {"ECOMAP_TEST_VALUE=abc def"};
  auto r = RunProcess({"/usr/bin/env"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->stdout_text.find("ECOMAP_TEST_VALUE=abc def"), std::string::npos);
  EXPECT_NE(r->stdout_text.find("LC_ALL=C"), std::string::npos);
  o.extra_env = {"NOEQUALS"};
  EXPECT_EQ(RunProcess({"/usr/bin/env"}, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(RunProcessTest, RejectsBadInvocations) {
  TempTree t;
  const std::string not_exec = t.root() + "/data.txt";
  std::ofstream(not_exec) << "x";
  ::chmod(not_exec.c_str(), 0644);
  struct Case {
    std::vector<std::string> argv;
    StatusCode code;
  } cases[] = {
      {{}, StatusCode::kInvalidArgument},
      {{"echo", "relative"}, StatusCode::kInvalidArgument},
      {{"/bin/echo", std::string("a\0b", 3)}, StatusCode::kInvalidArgument},
      {{"/no/such/program"}, StatusCode::kNotFound},
      {{not_exec}, StatusCode::kPermissionDenied},
      {{t.root()}, StatusCode::kFailedPrecondition},
  };
  for (const Case& c : cases) {
    auto r = RunProcess(c.argv);
    ASSERT_FALSE(r.ok()) << DescribeCommand(c.argv);
    EXPECT_EQ(r.status().code(), c.code) << r.status().message();
  }
  ProcessOptions zero;
  zero.timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(RunProcess({"/bin/true"}, zero).status().code(), StatusCode::kInvalidArgument);
}

TEST(RunProcessTest, OutputIsCappedAndMarkedTruncated) {
  ProcessOptions o;
  o.max_output_bytes = 10;
  auto r = RunProcess({"/bin/echo", "0123456789abcdef"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_text, "0123456789");
  EXPECT_TRUE(r->truncated);
}

TEST(FindProgramTest, LooksInTheRootThenPath) {
  TempTree t("xavier");
  auto in_root = FindProgram("nvpmodel", t.root());
  ASSERT_TRUE(in_root.ok()) << in_root.status().message();
  EXPECT_EQ(*in_root, t.root() + "/usr/sbin/nvpmodel");
  auto from_path = FindProgram("sh", t.root());
  ASSERT_TRUE(from_path.ok());
  EXPECT_EQ(from_path->front(), '/');
  EXPECT_EQ(*FindProgram("/opt/x/y"), "/opt/x/y");
  EXPECT_EQ(FindProgram("no-such-program-ecomap", t.root()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FindProgram("bin/sh").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FindProgram("").status().code(), StatusCode::kInvalidArgument);
}

TEST(DescribeCommandTest, QuotesForReading) {
  EXPECT_EQ(DescribeCommand({"/usr/sbin/nvpmodel", "-m", "2"}), "/usr/sbin/nvpmodel -m 2");
  EXPECT_EQ(DescribeCommand({"/bin/echo", "a b"}), "/bin/echo 'a b'");
}

}  // namespace
}  // namespace ecomap::platform
