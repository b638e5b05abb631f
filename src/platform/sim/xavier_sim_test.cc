// Tests of the simulated Xavier: modes, DLA fallback, transfers, monotonicity, contention
// (units and memory bandwidth), open/closed loops, power, determinism, and the zoo's models.
#include "platform/sim/xavier_sim.h"

#include <gtest/gtest.h>

#include <cmath>

#include "platform/sim/calibration.h"

namespace ecomap::platform {
namespace {

using zoo::BlockDescriptor;
using zoo::BlockKind;

// ResNet-50 and MobileNet-v1 from the calibration set, plus "resnet50-attn": ResNet-50 whose
// layer3 is marked as an attention block the DLA cannot run.
const zoo::ModelInfo* Lookup(const std::string& name) {
  static const zoo::ModelInfo attn = [] {
    zoo::ModelInfo m = CalibrationModels()[0];
    m.name = "resnet50-attn";
    m.blocks[3].kind = BlockKind::kAttention;
    m.blocks[3].dla_supported = false;
    return m;
  }();
  if (name == attn.name) return &attn;
  return CalibrationLookup()(name);
}

constexpr char kResnet[] = "mlperf-resnet50-v1.5";
constexpr char kMobilenet[] = "mlperf-mobilenet-v1";

// Predict() with a 10 s window: for the tests that compare small effects.
XavierSimParams LongPredict() {
  XavierSimParams p = XavierSimParams::Calibrated();
  p.predict_window_s = 10;
  p.predict_max_completions = 100000;
  p.predict_max_events = 10000000;
  return p;
}

PlatformOptions Options(uint64_t seed = 0, double noise = 0) {
  PlatformOptions o;
  o.model_lookup = Lookup;
  o.seed = seed;
  o.noise = noise;
  return o;
}

TenantConfig Tenant(std::string name, std::string model, std::vector<Stage> stages, int concurrency = 1) {
  TenantConfig t;
  t.name = std::move(name);
  t.model = std::move(model);
  t.stages = std::move(stages);
  t.concurrency = concurrency;
  return t;
}

TenantConfig Whole(std::string name, const std::string& model, const std::string& unit, int concurrency = 1) {
  int n = static_cast<int>(Lookup(model)->blocks.size());
  return Tenant(std::move(name), model, {{0, n, unit}}, concurrency);
}

Configuration Config(int mode, std::vector<TenantConfig> tenants) {
  Configuration c;
  c.power_mode = mode;
  c.tenants = std::move(tenants);
  return c;
}

Performance MustPredict(const XavierSim& sim, const Configuration& c) {
  auto p = sim.Predict(c);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : Performance{};
}

TEST(XavierSim, ModesTable) {
  const PlatformInfo info = XavierSim::MakeInfo();
  struct Row {
    int id;
    const char* name;
    double budget;
    int cpus;
    double cpu, gpu, dla, emc;
  };
  const Row expected[] = {
      {0, "MAXN", 0, 8, 2265.6, 1377, 1395.2, 2133},
      {1, "MODE_10W", 10, 2, 1200, 520, 550, 1065.6},
      {2, "MODE_15W", 15, 4, 1200, 670, 750, 1331.2},
      {3, "MODE_30W_ALL", 30, 8, 1200, 900, 1050, 1600},
      {4, "MODE_30W_6CORE", 30, 6, 1450, 900, 1050, 1600},
      {5, "MODE_30W_4CORE", 30, 4, 1780, 900, 1050, 1600},
      {6, "MODE_30W_2CORE", 30, 2, 2100, 900, 1050, 1600},
  };
  ASSERT_EQ(info.modes.size(), 7u);
  for (const Row& r : expected) {
    const PowerMode* m = info.FindMode(r.id);
    ASSERT_NE(m, nullptr) << r.id;
    EXPECT_EQ(m->name, r.name);
    EXPECT_EQ(m->budget.has_value(), r.budget > 0) << r.name;
    if (m->budget) {
      EXPECT_DOUBLE_EQ(m->budget->value(), r.budget);
    }
    EXPECT_EQ(m->online_cpu_cores, r.cpus) << r.name;
    EXPECT_DOUBLE_EQ(m->max_frequency_mhz.at("CPU"), r.cpu) << r.name;
    EXPECT_DOUBLE_EQ(m->max_frequency_mhz.at("GPU"), r.gpu) << r.name;
    EXPECT_DOUBLE_EQ(m->max_frequency_mhz.at("DLA0"), r.dla) << r.name;
    EXPECT_DOUBLE_EQ(m->max_frequency_mhz.at("DLA1"), r.dla) << r.name;
    EXPECT_DOUBLE_EQ(*m->emc_max_mhz, r.emc) << r.name;
    EXPECT_EQ(info.FindModeByName(r.name), m);
  }
  ASSERT_EQ(info.units.size(), 4u);
  EXPECT_EQ(info.UnitIdList(), "CPU, GPU, DLA0, DLA1");
  EXPECT_FALSE(info.FindUnit("DLA0")->RunsNatively(BlockKind::kAttention));
  EXPECT_TRUE(info.FindUnit("DLA0")->RunsNatively(BlockKind::kConv));
  EXPECT_TRUE(info.FindUnit("GPU")->RunsNatively(BlockKind::kAttention));
}

TEST(XavierSim, DlaFallsBackToGpuWithTransfers) {
  XavierSim sim(Options());
  Performance native = MustPredict(sim, Config(0, {Whole("a", kResnet, "DLA0")}));
  Performance fallback = MustPredict(sim, Config(0, {Whole("a", "resnet50-attn", "DLA0")}));
  EXPECT_DOUBLE_EQ(native.unit_utilisation.at("GPU"), 0.0);
  EXPECT_GT(fallback.unit_utilisation.at("GPU"), 0.0);  // layer3 ran on the GPU
  EXPECT_GT(fallback.unit_utilisation.at("DLA0"), 0.0);
  // The same model on the GPU alone runs the attention block natively, with no transfer.
  Performance gpu = MustPredict(sim, Config(0, {Whole("a", "resnet50-attn", "GPU")}));
  EXPECT_DOUBLE_EQ(gpu.unit_utilisation.at("DLA0"), 0.0);
  EXPECT_LT(gpu.tenants[0].latency_p50, fallback.tenants[0].latency_p50);
}

TEST(XavierSim, TransferAtEveryChangeOfUnit) {
  XavierSim sim(Options());
  auto latency = [&](std::vector<Stage> stages) {
    return MustPredict(sim, Config(0, {Tenant("a", kResnet, std::move(stages))}))
        .tenants[0]
        .latency_p50.value();
  };
  double whole = latency({{0, 7, "GPU"}});
  double split_same_unit = latency({{0, 3, "GPU"}, {3, 7, "GPU"}});
  double gpu_dla_gpu = latency({{0, 2, "GPU"}, {2, 4, "DLA0"}, {4, 7, "GPU"}});
  EXPECT_GT(split_same_unit, whole);         // a stage hand-off
  EXPECT_LT(split_same_unit - whole, 0.02);  // but no DRAM transfer
  // GPU -> DLA -> GPU pays two transfers on top of the slower DLA part.
  double dla_part = latency({{0, 7, "DLA0"}});
  EXPECT_GT(gpu_dla_gpu, whole);
  EXPECT_LT(gpu_dla_gpu, dla_part);
}

TEST(XavierSim, MoreFrequencyLessLatencyMorePower) {
  XavierSim sim(Options());
  struct Case {
    std::string unit;
    std::vector<double> mhz;  // increasing, within MAXN caps
  };
  const Case cases[] = {
      {"GPU", {318.75, 520, 900, 1377}},
      {"DLA0", {300, 550, 1050, 1395.2}},
      {"CPU", {500, 1200, 2265.6}},
  };
  for (const Case& c : cases) {
    double prev_latency = 1e30, prev_power = 0;
    for (double f : c.mhz) {
      Configuration config = Config(0, {Whole("a", kResnet, c.unit, 2)});
      config.frequency_mhz[c.unit] = f;
      Performance p = MustPredict(sim, config);
      double latency = p.tenants[0].latency_p50.value();
      EXPECT_LT(latency, prev_latency) << c.unit << " at " << f << " MHz";
      EXPECT_GT(p.power.value(), prev_power) << c.unit << " at " << f << " MHz";
      prev_latency = latency;
      prev_power = p.power.value();
    }
  }
}

TEST(XavierSim, FasterModesAreFasterAndHungrier) {
  XavierSim sim(Options());
  // 10 W -> 15 W -> 30 W -> MAXN raise every clock cap.
  double prev_latency = 1e30, prev_power = 0;
  for (int mode : {1, 2, 3, 0}) {
    Performance p = MustPredict(sim, TypicalLoad(mode));
    double latency = p.tenants[0].latency_p50.value();
    EXPECT_LT(latency, prev_latency) << "mode " << mode;
    EXPECT_GT(p.power.value(), prev_power) << "mode " << mode;
    prev_latency = latency;
    prev_power = p.power.value();
  }
}

TEST(XavierSim, TwoTenantsOnOneUnitAreSlowerThanAlone) {
  XavierSim sim(Options(), LongPredict());
  for (const char* unit : {"GPU", "DLA0", "CPU"}) {
    Performance alone = MustPredict(sim, Config(2, {Whole("a", kResnet, unit)}));
    Performance shared =
        MustPredict(sim, Config(2, {Whole("a", kResnet, unit), Whole("b", kMobilenet, unit)}));
    EXPECT_GT(shared.tenants[0].latency_p50, alone.tenants[0].latency_p50) << unit;
    EXPECT_GT(shared.tenants[0].latency_p95, alone.tenants[0].latency_p95) << unit;
    EXPECT_LT(shared.tenants[0].throughput_rps, alone.tenants[0].throughput_rps) << unit;
    EXPECT_LE(shared.unit_utilisation.at(unit), 1.0);
    EXPECT_GT(shared.unit_utilisation.at(unit), alone.unit_utilisation.at(unit)) << unit;
  }
  // Two identical closed-loop tenants sharing a unit split it about evenly.
  Performance pair = MustPredict(sim, Config(2, {Whole("a", kResnet, "GPU"), Whole("b", kResnet, "GPU")}));
  EXPECT_NEAR(pair.tenants[0].throughput_rps, pair.tenants[1].throughput_rps, 0.02 * pair.tenants[0].throughput_rps);
  // On different units they do not share a unit, only the memory.
  Performance apart = MustPredict(sim, Config(2, {Whole("a", kResnet, "GPU"), Whole("b", kResnet, "DLA0")}));
  EXPECT_GT(apart.tenants[0].throughput_rps, pair.tenants[0].throughput_rps);
}

TEST(XavierSim, MemoryBandwidthIsShared) {
  XavierSim sim(Options(), LongPredict());
  // A tenant on DLA0 slows down when busy tenants on other units draw EMC bandwidth (at
  // MAXN, where the other units are fast enough to draw much of it).
  for (int mode : {0}) {
    Performance alone = MustPredict(sim, Config(mode, {Whole("a", kMobilenet, "DLA0")}));
    Performance crowded =
        MustPredict(sim, Config(mode, {Whole("a", kMobilenet, "DLA0"), Whole("b", kResnet, "GPU", 4),
                                       Whole("c", kResnet, "DLA1", 4), Whole("d", kResnet, "CPU", 2)}));
    EXPECT_GT(crowded.emc_utilisation, alone.emc_utilisation) << mode;
    EXPECT_GT(crowded.tenants[0].latency_p50, alone.tenants[0].latency_p50) << mode;
  }
}

TEST(XavierSim, PipelineOverlapsWithMoreRequestsInFlight) {
  XavierSim sim(Options());
  std::vector<Stage> stages = {{0, 3, "DLA0"}, {3, 7, "GPU"}};
  Performance one = MustPredict(sim, Config(0, {Tenant("a", kResnet, stages, 1)}));
  Performance two = MustPredict(sim, Config(0, {Tenant("a", kResnet, stages, 2)}));
  Performance many = MustPredict(sim, Config(0, {Tenant("a", kResnet, stages, 16)}));
  EXPECT_GT(two.tenants[0].throughput_rps, one.tenants[0].throughput_rps * 1.2);
  // The slowest stage bounds throughput: never more than 1 / its service time.
  double busiest = std::max(many.unit_utilisation.at("DLA0"), many.unit_utilisation.at("GPU"));
  EXPECT_GT(busiest, 0.95);
  EXPECT_LE(busiest, 1.0);
  EXPECT_GT(many.tenants[0].latency_p50, one.tenants[0].latency_p50 * 4);  // queueing
}

TEST(XavierSim, OpenLoopQueueingAndSaturation) {
  XavierSim sim(Options(), LongPredict());
  Performance closed = MustPredict(sim, Config(0, {Whole("a", kResnet, "GPU")}));
  const double capacity = closed.tenants[0].throughput_rps;
  double prev_p95 = 0;
  for (double load : {0.1, 0.5, 0.8, 0.95}) {
    Configuration c = Config(0, {Whole("a", kResnet, "GPU")});
    c.tenants[0].arrival = ArrivalKind::kOpenLoop;
    c.tenants[0].rate_rps = load * capacity;
    Performance p = MustPredict(sim, c);
    EXPECT_FALSE(p.tenants[0].saturated) << load;
    // Poisson arrivals over the 10 s window: within 3 standard deviations of the count.
    const double rate = load * capacity;
    EXPECT_NEAR(p.tenants[0].throughput_rps, rate, 3 * std::sqrt(rate * 10) / 10 + 0.02 * rate) << load;
    EXPECT_GT(p.tenants[0].latency_p95.value(), prev_p95) << load;
    EXPECT_GE(p.tenants[0].latency_p95, p.tenants[0].latency_p50);
    prev_p95 = p.tenants[0].latency_p95.value();
  }
  Configuration over = Config(0, {Whole("a", kResnet, "GPU")});
  over.tenants[0].arrival = ArrivalKind::kOpenLoop;
  over.tenants[0].rate_rps = 2 * capacity;
  Performance p = MustPredict(sim, over);
  EXPECT_TRUE(p.tenants[0].saturated);
  EXPECT_LT(p.tenants[0].throughput_rps, capacity * 1.03);
  EXPECT_GT(p.tenants[0].latency_p95.value(), 500.0);  // a full input queue (2 s of arrivals)
  // The simulated requests show the drops of the full queue.
  sim::RunOptions run;
  run.window_s = 4;
  auto r = sim.Simulate(over, run);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->tenants[0].dropped, 0);
  EXPECT_GT(r->tenants[0].arrived, r->tenants[0].completed);
}

TEST(XavierSim, PowerRisesWithUtilisationAndStaysAboveIdle) {
  XavierSim sim(Options());
  for (const PowerMode& m : sim.info().modes) {
    Watts idle = *sim.IdlePower(m.id);
    Configuration light = Config(m.id, {Whole("a", kResnet, "GPU")});
    light.tenants[0].arrival = ArrivalKind::kOpenLoop;
    light.tenants[0].rate_rps = 5;
    Performance p_light = MustPredict(sim, light);
    Performance p_full = MustPredict(sim, FullLoad(m.id));
    EXPECT_GT(p_light.power, idle) << m.name;
    EXPECT_GT(p_full.power, p_light.power) << m.name;
  }
}

TEST(XavierSim, ReadPowerFollowsModeAndLoad) {
  ManualClock clock(*ParseTimestamp("2026-03-01T12:00:00Z"));
  PlatformOptions o = Options();
  o.clock = &clock;
  XavierSim sim(o);
  EXPECT_EQ(*sim.CurrentMode(), 2);
  ASSERT_TRUE(sim.ApplyMode(0).ok());
  EXPECT_EQ(*sim.CurrentMode(), 0);
  auto idle = sim.ReadPower();
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->provenance, Provenance::kSimulated);
  EXPECT_EQ(idle->time, clock.Now());
  EXPECT_EQ(idle->rails.size(), 6u);
  EXPECT_NEAR(idle->total.value(), sim.IdlePower(0)->value(), 1e-9);
  double sum = 0;
  for (const RailPower& r : idle->rails) sum += r.power.value();
  EXPECT_NEAR(sum, idle->total.value(), 1e-9);

  auto perf = sim.Evaluate(FullLoad(3));
  ASSERT_TRUE(perf.ok());
  EXPECT_EQ(*sim.CurrentMode(), 3);
  auto loaded = sim.ReadPower();
  ASSERT_TRUE(loaded.ok());
  EXPECT_NEAR(loaded->total.value(), perf->power.value(), 1e-9);
  ASSERT_TRUE(sim.ApplyMode(3).ok());  // a mode switch drops the load
  EXPECT_NEAR(sim.ReadPower()->total.value(), sim.IdlePower(3)->value(), 1e-9);

  Status bad = sim.ApplyMode(7);
  EXPECT_EQ(bad.code(), StatusCode::kNotFound);
  EXPECT_NE(bad.message().find("MODE_30W_2CORE"), std::string::npos);
  EXPECT_EQ(*sim.CurrentMode(), 3);
}

TEST(XavierSim, DeterministicForASeedAndRepeatsDiffer) {
  XavierSim a(Options(42, 0.05)), b(Options(42, 0.05)), c(Options(43, 0.05)), quiet(Options());
  Configuration config = TypicalLoad(2);
  bool differs_from_other_seed = false;
  Performance first = *a.Evaluate(config);
  Performance again = *b.Evaluate(config);
  EXPECT_EQ(first, again);
  for (int i = 0; i < 3; ++i) {
    Performance pa = *a.Evaluate(config);
    Performance pb = *b.Evaluate(config);
    Performance pc = *c.Evaluate(config);
    EXPECT_EQ(pa, pb);
    differs_from_other_seed |= !(pa == pc);
    // Every measurement simulates new requests: a repeat differs, but not by much.
    EXPECT_NE(pa.tenants[0].latency_p95, first.tenants[0].latency_p95);
    EXPECT_NEAR(pa.tenants[0].latency_p95.value(), first.tenants[0].latency_p95.value(),
                0.2 * first.tenants[0].latency_p95.value());
  }
  EXPECT_TRUE(differs_from_other_seed);
  // Predict is the same short simulation every time.
  EXPECT_EQ(*quiet.Predict(config), *quiet.Predict(config));
}

TEST(XavierSim, GpuContextSwitchesCostThroughput) {
  XavierSimParams free_switch = XavierSimParams::Calibrated();
  free_switch.gpu_switch_ms = 0;
  XavierSimParams costly = XavierSimParams::Calibrated();
  costly.gpu_switch_ms = 0.5;
  XavierSim a(Options(), free_switch), b(Options(), costly);
  // Two tenants time-sharing the GPU: every slice change is a context switch.
  Configuration c = Config(0, {Whole("a", kResnet, "GPU"), Whole("b", kResnet, "GPU")});
  c.tenants[0].concurrency = c.tenants[1].concurrency = 2;
  Performance pa = MustPredict(a, c), pb = MustPredict(b, c);
  EXPECT_LT(pb.tenants[0].throughput_rps + pb.tenants[1].throughput_rps,
            0.9 * (pa.tenants[0].throughput_rps + pa.tenants[1].throughput_rps));
  // Alone on the GPU there is no switch: the same figures.
  Configuration alone = Config(0, {Whole("a", kResnet, "GPU")});
  EXPECT_NEAR(MustPredict(a, alone).tenants[0].throughput_rps, MustPredict(b, alone).tenants[0].throughput_rps,
              0.02 * MustPredict(a, alone).tenants[0].throughput_rps);
}

TEST(XavierSim, ModeSwitchesPauseAndTheRebootModeIsAnOutage) {
  Configuration c = Config(2, {Whole("a", kResnet, "GPU")});
  c.tenants[0].arrival = ArrivalKind::kOpenLoop;
  c.tenants[0].rate_rps = 100;
  XavierSim steady(Options(5)), switched(Options(5));
  ASSERT_TRUE(steady.ApplyMode(2).ok());
  ASSERT_TRUE(switched.ApplyMode(3).ok());
  Performance p0 = *steady.Evaluate(c);
  Performance p1 = *switched.Evaluate(c);  // 3 -> 2: a 0.3 s pause while requests arrive
  EXPECT_GT(p1.tenants[0].latency_p95.value(), p0.tenants[0].latency_p95.value());
  // Into MODE_10W (id 1) the reference board reboots: served work drops by the outage's share.
  Configuration ten = Config(1, {Whole("a", kResnet, "GPU")});
  XavierSim a(Options(5)), b(Options(5));
  ASSERT_TRUE(a.ApplyMode(1).ok());
  ASSERT_TRUE(a.Evaluate(ten).ok());  // pays the reboot
  Performance stay = *a.Evaluate(ten);
  Performance reboot = *b.Evaluate(ten);  // from the default mode 2
  const XavierSimParams p = XavierSimParams::Calibrated();
  EXPECT_NEAR(reboot.tenants[0].throughput_rps / stay.tenants[0].throughput_rps,
              1.0 - p.reboot_pause_s / p.represented_s, 0.01);
}

TEST(XavierSim, RejectsInvalidConfigurations) {
  XavierSim sim(Options());
  Configuration c = Config(2, {Whole("a", kResnet, "GPU")});
  c.tenants[0].stages[0].unit = "DLA2";
  auto p = sim.Evaluate(c);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("unknown unit 'DLA2'"), std::string::npos);
  c.tenants[0].stages[0].unit = "GPU";
  c.power_mode = 12;
  EXPECT_EQ(sim.Predict(c).status().code(), StatusCode::kNotFound);
}

// Every zoo model (when the catalogue is built) on every unit, and split across units.
TEST(XavierSim, ZooModelsGiveFiniteFigures) {
  if (zoo::Models().empty()) GTEST_SKIP() << "zoo catalogue is empty in this build";
  XavierSim sim(PlatformOptions{});
  for (const zoo::ModelInfo& m : zoo::Models()) {
    const int n = static_cast<int>(m.blocks.size());
    std::vector<std::vector<Stage>> mappings = {{{0, n, "GPU"}}, {{0, n, "DLA0"}}, {{0, n, "CPU"}}};
    if (n >= 2) mappings.push_back({{0, n / 2, "DLA1"}, {n / 2, n, "GPU"}});
    for (const auto& stages : mappings) {
      Configuration c = Config(2, {Tenant("a", m.name, stages)});
      auto p = sim.Predict(c);
      ASSERT_TRUE(p.ok()) << m.name << ": " << p.status().message();
      EXPECT_TRUE(std::isfinite(p->tenants[0].latency_p95.value())) << m.name;
      EXPECT_GT(p->tenants[0].latency_p50.value(), 0) << m.name;
      EXPECT_GT(p->tenants[0].throughput_rps, 0) << m.name;
      EXPECT_LE(p->power.value(), 60) << m.name;
    }
  }
}

}  // namespace
}  // namespace ecomap::platform
