#include "platform/jetson/jetson_nvpmodel.h"

#include <gtest/gtest.h>

#include <chrono>

#include "platform/host/sysfs.h"
#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::FixtureDir;
using testing::TempTree;

NvpmodelConf LoadXavier() {
  RootedSysfs fs(FixtureDir("xavier"));
  auto text = fs.Read("/etc/nvpmodel.conf");
  EXPECT_TRUE(text.ok());
  auto conf = ParseNvpmodelConf(*text, "/etc/nvpmodel.conf");
  EXPECT_TRUE(conf.ok()) << conf.status().message();
  return *conf;
}

// The seven modes of REFERENCE.md: id, name, budget (0: none), CPUs, CPU/GPU/DLA/EMC caps in MHz (0: none).
struct ModeRow {
  int id;
  const char* name;
  double budget_w;
  int cpus;
  double cpu_mhz, gpu_mhz, dla_mhz, emc_mhz;
};
const ModeRow kXavierModes[] = {
    {0, "MAXN", 0, 8, 0, 0, 0, 0},
    {1, "MODE_10W", 10, 2, 1200, 520, 550, 1065.6},
    {2, "MODE_15W", 15, 4, 1200, 670, 750, 1331.2},
    {3, "MODE_30W_ALL", 30, 8, 1200, 900, 1050, 1600},
    {4, "MODE_30W_6CORE", 30, 6, 1450, 900, 1050, 1600},
    {5, "MODE_30W_4CORE", 30, 4, 1780, 900, 1050, 1600},
    {6, "MODE_30W_2CORE", 30, 2, 2100, 900, 1050, 1600},
};

double CapMhz(const NvpmodelMode& m, const std::string& param) {
  auto it = m.clocks.find(param);
  if (it == m.clocks.end() || !it->second.max_hz) return 0;
  return *it->second.max_hz / 1e6;
}

TEST(NvpmodelConfTest, ParsesTheXavierTable) {
  NvpmodelConf conf = LoadXavier();
  EXPECT_EQ(conf.default_mode, 2);
  EXPECT_EQ(conf.all_cpus, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(conf.other_sections.at("FAN_CONFIG.DEFAULT"), "quiet");
  ASSERT_EQ(conf.modes.size(), 7u);
  const NvpParam* gpu = conf.FindParam("GPU");
  ASSERT_NE(gpu, nullptr);
  EXPECT_EQ(gpu->type, NvpParamType::kClock);
  EXPECT_EQ(*gpu->PathOf("MAX_FREQ"), "/sys/devices/17000000.gv11b/devfreq/17000000.gv11b/max_freq");
  EXPECT_EQ(conf.FindParam("CPU_ONLINE")->type, NvpParamType::kFile);
  for (const ModeRow& row : kXavierModes) {
    const NvpmodelMode* m = conf.FindMode(row.id);
    ASSERT_NE(m, nullptr) << row.id;
    EXPECT_EQ(m->name, row.name);
    EXPECT_EQ(conf.FindModeByName(row.name), m);
    if (row.budget_w == 0) {
      EXPECT_FALSE(m->budget.has_value()) << row.name;
    } else {
      ASSERT_TRUE(m->budget.has_value()) << row.name;
      EXPECT_DOUBLE_EQ(m->budget->value(), row.budget_w);
    }
    EXPECT_EQ(static_cast<int>(m->online_cpus.size()), row.cpus) << row.name;
    EXPECT_NEAR(CapMhz(*m, "CPU_DENVER_0"), row.cpu_mhz, 1e-6) << row.name;  // kHz in the file
    EXPECT_NEAR(CapMhz(*m, "GPU"), row.gpu_mhz, 1e-6) << row.name;           // Hz in the file
    EXPECT_NEAR(CapMhz(*m, "DLA_CORE"), row.dla_mhz, 1e-6) << row.name;
    EXPECT_NEAR(CapMhz(*m, "EMC"), row.emc_mhz, 1e-6) << row.name;  // 0 in MAXN = no cap
    ASSERT_TRUE(m->clocks.count("GPU"));
    EXPECT_NEAR(*m->clocks.at("GPU").min_hz, 318.75e6, 1);
  }
  EXPECT_EQ(conf.FindMode(1)->online_cpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(conf.FindMode(99), nullptr);
}

TEST(NvpmodelConfTest, MalformedFilesAreRejectedWithTheLine) {
  const std::string params =
      "< PARAM TYPE=FILE NAME=CPU_ONLINE >\nCORE_0 /sys/devices/system/cpu/cpu0/online\n"
      "< PARAM TYPE=CLOCK NAME=GPU >\nMAX_FREQ /sys/gpu/max_freq\n";
  struct Case {
    std::string name, text, needle;
  } cases[] = {
      {"empty", "", "no < POWER_MODEL"},
      {"no default", params + "< POWER_MODEL ID=0 NAME=MAXN >\nGPU MAX_FREQ -1\n", "PM_CONFIG"},
      {"dangling default", params + "< POWER_MODEL ID=0 NAME=MAXN >\n< PM_CONFIG DEFAULT=3 >\n",
       "test.conf:6: PM_CONFIG DEFAULT=3"},
      {"line before section", "CORE_0 /sys/x\n", "test.conf:1"},
      {"unclosed header", "< PARAM TYPE=FILE NAME=X\n", "no closing"},
      {"bad type", "< PARAM TYPE=WIRE NAME=X >\n", "TYPE=WIRE"},
      {"undeclared param", params + "< POWER_MODEL ID=0 NAME=MAXN >\nEMC MAX_FREQ 0\n",
       "test.conf:6: POWER_MODEL MAXN sets undeclared PARAM EMC"},
      {"undeclared arg", params + "< POWER_MODEL ID=0 NAME=MAXN >\nGPU MIN_FREQ 0\n", "no argument MIN_FREQ"},
      {"clock not integer", params + "< POWER_MODEL ID=0 NAME=MAXN >\nGPU MAX_FREQ fast\n",
       "'fast' is not an integer"},
      {"clock below -1", params + "< POWER_MODEL ID=0 NAME=MAXN >\nGPU MAX_FREQ -5\n", "negative"},
      {"two tokens", params + "< POWER_MODEL ID=0 NAME=MAXN >\nGPU MAX_FREQ\n", "PARAM ARG VALUE"},
      {"duplicate id", params + "< POWER_MODEL ID=0 NAME=A >\n< POWER_MODEL ID=0 NAME=B >\n",
       "defined twice"},
      {"bad id", params + "< POWER_MODEL ID=x NAME=A >\n", "not a mode number"},
      {"online not 0/1",
       params + "< POWER_MODEL ID=0 NAME=A >\nCPU_ONLINE CORE_0 2\n< PM_CONFIG DEFAULT=0 >\n",
       "must be 0 or 1"},
      {"param line shape", "< PARAM TYPE=FILE NAME=X >\nONLY_ONE_TOKEN\n", "ARG_NAME /sys/path"},
      {"attr without =", "< PARAM TYPE=FILE NAME >\n", "not KEY=VALUE"},
  };
  for (const Case& c : cases) {
    auto r = ParseNvpmodelConf(c.text, "test.conf");
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << c.name << ": " << r.status().message();
  }
}

TEST(NvpmodelQueryTest, ParsesQueryOutputAndStatusFile) {
  auto q = ParseNvpmodelQuery("NV Fan Mode:quiet\nNV Power Mode: MODE_15W\n2\n");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->id, 2);
  EXPECT_EQ(q->name, "MODE_15W");
  auto q2 = ParseNvpmodelQuery("NVPM VERB: Config file: /etc/nvpmodel.conf\nNV Power Mode: MAXN\n0");
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(q2->id, 0);
  for (std::string bad :
       {"", "NV Power Mode: MAXN\n", "NV Power Mode: \n0\n", "NV Power Mode: MAXN\nzero\n", "garbage"}) {
    EXPECT_EQ(ParseNvpmodelQuery(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(*ParseNvpmodelStatusFile("pmode:0002 fmode:quiet\n"), 2);
  EXPECT_EQ(*ParseNvpmodelStatusFile("pmode:0000"), 0);
  EXPECT_FALSE(ParseNvpmodelStatusFile("fmode:quiet").ok());
  EXPECT_FALSE(ParseNvpmodelStatusFile("pmode:xx").ok());
}

class NvpmodelClientTest : public ::testing::Test {
 protected:
  NvpmodelClient Client(std::vector<std::string> env = {}, int timeout_ms = 10000) {
    NvpmodelOptions o;
    o.binary = tree_.root() + "/usr/sbin/nvpmodel";
    o.timeout = std::chrono::milliseconds(timeout_ms);
    o.extra_env = std::move(env);
    return NvpmodelClient(LoadXavier(), o);
  }
  TempTree tree_{"xavier"};
};

TEST_F(NvpmodelClientTest, QueriesAndSetsTheMode) {
  NvpmodelClient c = Client();
  auto q = c.Query();
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->id, 2);
  EXPECT_EQ(q->name, "MODE_15W");
  ASSERT_TRUE(c.SetMode(0).ok());
  EXPECT_EQ(c.Query()->name, "MAXN");
  EXPECT_EQ(tree_.ReadHost("/var/lib/nvpmodel/status"), "pmode:0000 fmode:quiet\n");
  ASSERT_TRUE(c.SetMode(6).ok());
  EXPECT_EQ(c.Query()->id, 6);
}

TEST_F(NvpmodelClientTest, UnknownModeIsRejectedBeforeRunning) {
  Status s = Client().SetMode(9);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("0 (MAXN)"), std::string::npos) << s.message();
  EXPECT_EQ(tree_.ReadHost("/var/lib/nvpmodel/status"), "pmode:0002 fmode:quiet\n");
}

TEST_F(NvpmodelClientTest, FailuresAreReportedDistinctly) {
  struct Case {
    std::string env;
    StatusCode code;
    std::string needle;
  } cases[] = {
      {"FAKE_NVPMODEL_FAIL=1", StatusCode::kUnavailable, "exited with status 1"},
      {"FAKE_NVPMODEL_NOT_ROOT=1", StatusCode::kPermissionDenied, "needs root"},
  };
  for (const Case& c : cases) {
    NvpmodelClient client = Client({c.env});
    auto q = client.Query();
    ASSERT_FALSE(q.ok()) << c.env;
    EXPECT_EQ(q.status().code(), c.code) << q.status().message();
    EXPECT_NE(q.status().message().find(c.needle), std::string::npos) << q.status().message();
    EXPECT_EQ(client.SetMode(0).code(), c.code);
  }
}

TEST_F(NvpmodelClientTest, RebootPromptIsAFailedPreconditionAndChangesNothing) {
  NvpmodelClient c = Client({"FAKE_NVPMODEL_REBOOT_IDS=1"});
  Status s = c.SetMode(1);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.message();
  EXPECT_NE(s.message().find("reboot"), std::string::npos);
  EXPECT_EQ(c.Query()->id, 2);
  EXPECT_TRUE(c.SetMode(3).ok());
}

TEST_F(NvpmodelClientTest, HangingNvpmodelTimesOut) {
  NvpmodelClient c = Client({"FAKE_NVPMODEL_HANG=1"}, 300);
  auto start = std::chrono::steady_clock::now();
  auto q = c.Query();
  EXPECT_EQ(q.status().code(), StatusCode::kDeadlineExceeded) << q.status().message();
  EXPECT_EQ(c.SetMode(0).code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(NvpmodelClientTest, MissingBinaryIsNotFound) {
  NvpmodelOptions o;
  o.binary = tree_.root() + "/usr/sbin/absent";
  NvpmodelClient c(LoadXavier(), o);
  EXPECT_EQ(c.Query().status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ecomap::platform
