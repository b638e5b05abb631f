#include "platform/host/cpu_share.h"

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace ecomap::platform {
namespace {

namespace fs = std::filesystem;

// A fixture root with /proc/self/{cgroup,mountinfo} and a cgroup2 tree holding cpu.max.
std::string MakeRoot(const std::string& name, const std::string& cgroup_line,
                     const std::string& mountinfo, const std::string& group, bool with_cpu_max) {
  std::string root = (fs::temp_directory_path() / ("ecomap_cpushare_" + name + "_" +
                                                   std::to_string(::getpid()))).string();
  fs::remove_all(root);
  fs::create_directories(root + "/proc/self");
  std::ofstream(root + "/proc/self/cgroup") << cgroup_line;
  std::ofstream(root + "/proc/self/mountinfo") << mountinfo;
  fs::create_directories(root + group);
  if (with_cpu_max) std::ofstream(root + group + "/cpu.max") << "max 100000\n";
  return root;
}

constexpr const char* kMountinfo =
    "22 28 0:20 / /proc rw,nosuid shared:12 - proc proc rw\n"
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

std::string ReadFile(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(OwnCgroupDirTest, FindsTheGroupOrSaysWhy) {
  std::string root = MakeRoot("find", "0::/system.slice/ecomap.service\n", kMountinfo,
                              "/sys/fs/cgroup/system.slice/ecomap.service", true);
  RootedSysfs sysfs(root);
  StatusOr<std::string> dir = OwnCgroupDir(sysfs);
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_EQ(*dir, "/sys/fs/cgroup/system.slice/ecomap.service");
  // cgroup v1 only (this is what a hybrid host without a v2 entry shows).
  std::ofstream(root + "/proc/self/cgroup") << "4:memory:/x\n1:cpu:/\n";
  StatusOr<std::string> v1 = OwnCgroupDir(sysfs);
  ASSERT_FALSE(v1.ok());
  EXPECT_NE(v1.status().message().find("cgroup v1"), std::string::npos);
  // A v2 entry but no cgroup2 mount.
  std::ofstream(root + "/proc/self/cgroup") << "0::/\n";
  std::ofstream(root + "/proc/self/mountinfo") << "22 28 0:20 / /proc rw - proc proc rw\n";
  EXPECT_EQ(OwnCgroupDir(sysfs).status().code(), StatusCode::kNotFound);
  fs::remove_all(root);
}

TEST(CpuShareTest, WritesCpuMaxOfItsOwnDelegatedCgroupAndRestores) {
  const std::string group = "/sys/fs/cgroup/ecomap";
  std::string root = MakeRoot("cg", "0::/ecomap\n", kMountinfo, group, true);
  {
    StatusOr<std::unique_ptr<CpuShare>> s = CpuShare::Create({.root = root, .allow_affinity = false});
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ((*s)->mechanism(), "cgroup cpu.max");
    const int n = (*s)->available_cores();
    ASSERT_TRUE((*s)->Apply(1, 0.6).ok());
    EXPECT_EQ(ReadFile(root + group + "/cpu.max"), "60000 100000\n");
    EXPECT_DOUBLE_EQ((*s)->limit_cpus(), 0.6);
    EXPECT_EQ((*s)->allowed_cpus().size(), static_cast<size_t>(n));  // the quota spreads
    Status bad = (*s)->Apply(n + 1, 1.0);
    EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.message().find(std::to_string(n + 1)), std::string::npos);
    EXPECT_EQ((*s)->Apply(1, 0).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*s)->Apply(1, 1.5).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(ReadFile(root + group + "/cpu.max"), "60000 100000\n");  // errors changed nothing
  }
  // The destructor put back the limit found at creation.
  EXPECT_EQ(ReadFile(root + group + "/cpu.max"), "max 100000\n");
  fs::remove_all(root);
}

TEST(CpuShareTest, WithoutACgroupAndWithoutAffinityItSaysWhy) {
  std::string root = MakeRoot("none", "1:cpu:/\n", kMountinfo, "/sys/fs/cgroup", false);
  StatusOr<std::unique_ptr<CpuShare>> s = CpuShare::Create({.root = root, .allow_affinity = false});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("cgroup v1"), std::string::npos);
  fs::remove_all(root);
}

std::vector<int> ThreadCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

// The real process: affinity narrows every thread to the first core and comes back.
TEST(CpuShareTest, AffinityFallbackNarrowsEveryThreadAndRestores) {
  const std::vector<int> before = ThreadCpus();
  if (before.size() < 2) GTEST_SKIP() << "needs a process allowed on at least 2 CPUs";
  StatusOr<std::unique_ptr<CpuShare>> s = CpuShare::Create({.root = "/", .allow_cgroup = false});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)->mechanism(), "affinity");
  EXPECT_NE((*s)->note().find("only the core count"), std::string::npos);
  std::vector<int> other_thread;
  std::mutex mu;
  std::condition_variable cv;
  bool applied = false, seen = false;
  std::thread t([&] {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return applied; });
    other_thread = ThreadCpus();
    seen = true;
    cv.notify_all();
  });
  ASSERT_TRUE((*s)->Apply(1, 0.5).ok());
  {
    std::unique_lock<std::mutex> l(mu);
    applied = true;
    cv.notify_all();
    cv.wait(l, [&] { return seen; });
  }
  t.join();
  EXPECT_EQ(ThreadCpus(), std::vector<int>{before.front()});
  EXPECT_EQ(other_thread, std::vector<int>{before.front()});  // a thread that already existed
  EXPECT_DOUBLE_EQ((*s)->limit_cpus(), 1.0);
  EXPECT_EQ((*s)->allowed_cpus(), std::vector<int>{before.front()});
  ASSERT_TRUE((*s)->Restore().ok());
  EXPECT_EQ(ThreadCpus(), before);
}

// A thread pinned to the second CPU (as an engine worker is to its unit's CPU) moves to the
// first under a 1-core limit and gets its own pin back under the 2-core one; a thread started
// under the 1-core limit is not kept there once the limit widens.
TEST(CpuShareTest, AffinityKeepsEachThreadsOwnPinWhereTheLimitAllowsIt) {
  const std::vector<int> before = ThreadCpus();
  if (before.size() < 2) GTEST_SKIP() << "needs a process allowed on at least 2 CPUs";
  StatusOr<std::unique_ptr<CpuShare>> s = CpuShare::Create({.root = "/", .allow_cgroup = false});
  ASSERT_TRUE(s.ok()) << s.status().message();
  std::mutex mu;
  std::condition_variable cv;
  int step = 0;  // 0 pin, 1 pinned, 2 read, 3 read done, 4 read again, 5 done, 6 quit
  std::vector<int> seen1, seen2;
  auto wait_for = [&](std::unique_lock<std::mutex>& l, int v) { cv.wait(l, [&] { return step >= v; }); };
  auto set = [&](int v) { step = v; cv.notify_all(); };
  std::thread pinned([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(before[1], &one);
    sched_setaffinity(0, sizeof(one), &one);
    std::unique_lock<std::mutex> l(mu);
    set(1);
    wait_for(l, 2);
    seen1 = ThreadCpus();
    set(3);
    wait_for(l, 4);
    seen2 = ThreadCpus();
    set(5);
  });
  {
    std::unique_lock<std::mutex> l(mu);
    wait_for(l, 1);
  }
  ASSERT_TRUE((*s)->Apply(1, 1.0).ok());
  std::vector<int> late_seen;
  std::thread late;  // started under the 1-core limit
  {
    std::unique_lock<std::mutex> l(mu);
    set(2);
    wait_for(l, 3);
  }
  std::mutex lm;
  std::condition_variable lcv;
  bool widened = false;
  late = std::thread([&] {
    std::unique_lock<std::mutex> l(lm);
    lcv.wait(l, [&] { return widened; });
    late_seen = ThreadCpus();
  });
  ASSERT_TRUE((*s)->Apply(2, 1.0).ok());
  {
    std::lock_guard<std::mutex> l(lm);
    widened = true;
    lcv.notify_all();
  }
  late.join();
  {
    std::unique_lock<std::mutex> l(mu);
    set(4);
    wait_for(l, 5);
  }
  pinned.join();
  EXPECT_EQ(seen1, std::vector<int>{before[0]});  // its CPU is outside the limit: the allowed one
  EXPECT_EQ(seen2, std::vector<int>{before[1]});  // its own pin back
  EXPECT_EQ(late_seen, (std::vector<int>{before[0], before[1]}));
  ASSERT_TRUE((*s)->Restore().ok());
  EXPECT_EQ(ThreadCpus(), before);
}

}  // namespace
}  // namespace ecomap::platform
