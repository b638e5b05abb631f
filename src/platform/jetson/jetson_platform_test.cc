#include "platform/jetson/jetson_platform.h"

#include <gtest/gtest.h>

#include "platform/registry.h"
#include "platform/host/sysfs_testing.h"

namespace ecomap::platform {
namespace {

using testing::FixtureDir;
using testing::TempTree;

// A two-block model for configurations: a conv block (DLA-capable) and a softmax-like block.
const zoo::ModelInfo& TinyModel() {
  static const zoo::ModelInfo m = [] {
    zoo::ModelInfo x;
    x.name = "tiny";
    x.family = "tiny";
    zoo::BlockDescriptor conv;
    conv.name = "conv";
    conv.kind = zoo::BlockKind::kConv;
    conv.flops = 1e9;
    zoo::BlockDescriptor other;
    other.name = "head";
    other.kind = zoo::BlockKind::kOther;
    other.dla_supported = false;
    x.blocks = {conv, other};
    return x;
  }();
  return m;
}
ModelLookup TinyLookup() {
  return [](const std::string& n) -> const zoo::ModelInfo* { return n == "tiny" ? &TinyModel() : nullptr; };
}

std::unique_ptr<JetsonPlatform> MakeJetson(const std::string& root, std::vector<std::string> env = {}) {
  JetsonOptions o;
  o.root = root;
  o.nvpmodel_env = std::move(env);
  o.model_lookup = TinyLookup();
  auto p = JetsonPlatform::Create(o);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? std::move(p).value() : nullptr;
}

TEST(JetsonPlatformTest, DescribesTheXavierFromItsFiles) {
  auto j = MakeJetson(FixtureDir("xavier"));
  ASSERT_NE(j, nullptr);
  const PlatformInfo& info = j->info();
  EXPECT_EQ(info.name, "jetson");
  EXPECT_EQ(info.provenance, Provenance::kMeasured);
  EXPECT_EQ(info.default_mode, 2);
  EXPECT_EQ(info.UnitIdList(), "CPU, GPU, DLA0, DLA1");
  const ComputeUnit* cpu = info.FindUnit("CPU");
  EXPECT_EQ(cpu->cores, 8);
  EXPECT_NEAR(cpu->max_frequency_mhz, 2265.6, 1e-9);                 // from the CPU frequency table
  EXPECT_NEAR(info.FindUnit("GPU")->max_frequency_mhz, 1377, 1e-9);  // from the GPU frequency table
  const ComputeUnit* dla = info.FindUnit("DLA1");
  EXPECT_EQ(dla->kind, UnitKind::kDla);
  EXPECT_EQ(dla->fallback_unit, "GPU");
  EXPECT_TRUE(dla->RunsNatively(zoo::BlockKind::kConv));
  EXPECT_FALSE(dla->RunsNatively(zoo::BlockKind::kAttention));
  EXPECT_NEAR(dla->max_frequency_mhz, 1050, 1e-9);  // no table: the highest cap of any mode

  // The modes of REFERENCE.md.
  struct Row {
    int id;
    const char* name;
    double budget;
    int cpus;
    double cpu, gpu, dla, emc;  // MHz, 0 = no cap
  } rows[] = {
      {0, "MAXN", 0, 8, 0, 0, 0, 0},
      {1, "MODE_10W", 10, 2, 1200, 520, 550, 1065.6},
      {2, "MODE_15W", 15, 4, 1200, 670, 750, 1331.2},
      {3, "MODE_30W_ALL", 30, 8, 1200, 900, 1050, 1600},
      {4, "MODE_30W_6CORE", 30, 6, 1450, 900, 1050, 1600},
      {5, "MODE_30W_4CORE", 30, 4, 1780, 900, 1050, 1600},
      {6, "MODE_30W_2CORE", 30, 2, 2100, 900, 1050, 1600},
  };
  ASSERT_EQ(info.modes.size(), 7u);
  auto cap = [](const PowerMode& m, const std::string& u) {
    auto it = m.max_frequency_mhz.find(u);
    return it == m.max_frequency_mhz.end() ? 0.0 : it->second;
  };
  for (const Row& r : rows) {
    const PowerMode* m = info.FindMode(r.id);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->name, r.name);
    EXPECT_EQ(m->budget.has_value(), r.budget > 0) << r.name;
    if (m->budget) {
      EXPECT_DOUBLE_EQ(m->budget->value(), r.budget);
    }
    EXPECT_EQ(m->online_cpu_cores, r.cpus) << r.name;
    EXPECT_NEAR(cap(*m, "CPU"), r.cpu, 1e-9) << r.name;
    EXPECT_NEAR(cap(*m, "GPU"), r.gpu, 1e-9) << r.name;
    EXPECT_NEAR(cap(*m, "DLA0"), r.dla, 1e-9) << r.name;
    EXPECT_NEAR(cap(*m, "DLA1"), r.dla, 1e-9) << r.name;
    EXPECT_NEAR(m->emc_max_mhz.value_or(0), r.emc, 1e-9) << r.name;
  }
}

TEST(JetsonPlatformTest, SwitchesModesThroughNvpmodel) {
  TempTree t("xavier");
  auto j = MakeJetson(t.root());
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(*j->CurrentMode(), 2);
  ASSERT_TRUE(j->ApplyMode(0).ok());
  EXPECT_EQ(*j->CurrentMode(), 0);
  Status unknown = j->ApplyMode(7);
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.message().find("6 (MODE_30W_2CORE)"), std::string::npos) << unknown.message();
  EXPECT_EQ(*j->CurrentMode(), 0);
}

TEST(JetsonPlatformTest, NvpmodelFailuresKeepTheModeAndSayWhy) {
  TempTree t("xavier");
  auto denied = MakeJetson(t.root(), {"FAKE_NVPMODEL_NOT_ROOT=1"});
  EXPECT_EQ(denied->ApplyMode(0).code(), StatusCode::kPermissionDenied);
  // The query fails too, but the status file still tells the mode.
  EXPECT_EQ(*denied->CurrentMode(), 2);
  auto reboot = MakeJetson(t.root(), {"FAKE_NVPMODEL_REBOOT_IDS=1"});
  EXPECT_EQ(reboot->ApplyMode(1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*reboot->CurrentMode(), 2);

  JetsonOptions o;
  o.root = t.root();
  o.nvpmodel_path = t.root() + "/usr/sbin/missing";
  auto no_binary = JetsonPlatform::Create(o);
  ASSERT_TRUE(no_binary.ok());  // the program is only needed to switch
  EXPECT_EQ((*no_binary)->ApplyMode(0).code(), StatusCode::kNotFound);
  EXPECT_EQ(*(*no_binary)->CurrentMode(), 2);
  t.Remove("/var/lib/nvpmodel/status");
  auto mode = (*no_binary)->CurrentMode();
  EXPECT_EQ(mode.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(mode.status().message().find("missing"), std::string::npos) << mode.status().message();
}

TEST(JetsonPlatformTest, ReadsPowerFromTheRailsInBothLayouts) {
  ManualClock clock(TimePoint(std::chrono::seconds(1764201600)));
  for (std::string board : {"xavier", "orin"}) {
    JetsonOptions o;
    o.root = FixtureDir(board);
    o.clock = &clock;
    auto j = JetsonPlatform::Create(o);
    ASSERT_TRUE(j.ok()) << board << ": " << j.status().message();
    auto p = (*j)->ReadPower();
    ASSERT_TRUE(p.ok()) << board << ": " << p.status().message();
    EXPECT_EQ(p->provenance, Provenance::kMeasured);
    EXPECT_EQ(p->time, clock.Now());
    double sum = 0;
    for (const RailPower& r : p->rails) sum += r.power.value();
    EXPECT_NEAR(p->total.value(), sum, 1e-9) << board;
    if (board == "xavier") {
      EXPECT_NEAR(p->total.value(), 6.928, 1e-9);
      EXPECT_NEAR(*p->rails[0].voltage_v, 19.072, 1e-9);
    } else {
      EXPECT_EQ(p->rails.size(), 4u);
      EXPECT_EQ(p->rails[0].name, "VDD_GPU_SOC");
    }
  }
  TempTree broken("xavier");
  broken.Write("/sys/bus/i2c/drivers/ina3221x/1-0041/iio:device1/in_power2_input", "n/a\n");
  auto j = MakeJetson(broken.root());
  auto p = j->ReadPower();
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message().rfind("jetson: ", 0), 0u) << p.status().message();
}

TEST(JetsonPlatformTest, OrinConfHasPerDlaClocksAndTwelveCores) {
  auto j = MakeJetson(FixtureDir("orin"));
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->info().UnitIdList(), "CPU, GPU, DLA0, DLA1");
  EXPECT_EQ(j->info().FindUnit("CPU")->cores, 12);
  EXPECT_NEAR(j->info().FindUnit("GPU")->max_frequency_mhz, 1300.5, 1e-9);
  const PowerMode* m = j->info().FindModeByName("MODE_15W");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->online_cpu_cores, 4);
  EXPECT_NEAR(m->max_frequency_mhz.at("DLA1"), 614.4, 1e-9);
  EXPECT_NEAR(m->max_frequency_mhz.at("CPU"), 1113.6, 1e-9);
}

TEST(JetsonPlatformTest, NotAJetsonSaysSoInOneLine) {
  JetsonOptions o;
  o.root = FixtureDir("host_vm");
  auto j = JetsonPlatform::Create(o);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(j.status().message(), "jetson: /etc/nvpmodel.conf not found under root '" +
                                      FixtureDir("host_vm") +
                                      "': this is not a Jetson (use --platform xavier-sim or host)");
  TempTree t;
  t.Write("/etc/nvpmodel.conf", "< POWER_MODEL ID=0 NAME=MAXN >\nGPU MAX_FREQ -1\n");
  o.root = t.root();
  auto bad = JetsonPlatform::Create(o);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("/etc/nvpmodel.conf:2"), std::string::npos) << bad.status().message();
}

TEST(JetsonPlatformTest, ValidatesButIsNoEvaluatorBecauseItNeedsTensorRt) {
  auto j = MakeJetson(FixtureDir("xavier"));
  Configuration c;
  c.power_mode = 2;
  TenantConfig t;
  t.name = "cam";
  t.model = "tiny";
  t.stages = {{0, 1, "DLA0"}, {1, 2, "GPU"}};
  c.tenants.push_back(t);
  EXPECT_TRUE(j->Validate(c).ok()) << j->Validate(c).message();
  EXPECT_EQ(AsEvaluator(j.get()), nullptr);
  auto e = MakeEvaluator("jetson");
  EXPECT_EQ(e.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(e.status().message().find("xavier-sim"), std::string::npos);
  EXPECT_NE(e.status().message().find("TensorRT"), std::string::npos);
  c.tenants[0].stages[1].unit = "TPU";
  EXPECT_FALSE(j->Validate(c).ok());
  EXPECT_NE(j->Validate(c).code(), StatusCode::kUnimplemented);
}

TEST(JetsonPlatformTest, RegistryBuildsItWithTheRoot) {
  TempTree t("xavier");
  PlatformOptions o;
  o.root = t.root();
  auto p = MakePlatform("jetson", o);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ((*p)->info().modes.size(), 7u);
  EXPECT_EQ(*(*p)->CurrentMode(), 2);  // "nvpmodel" found in <root>/usr/sbin
  ASSERT_TRUE((*p)->ApplyMode(5).ok());
  EXPECT_EQ(*(*p)->CurrentMode(), 5);
  o.root = FixtureDir("host_vm");
  EXPECT_EQ(MakePlatform("jetson", o).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ecomap::platform
