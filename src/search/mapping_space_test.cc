// The mapping space (encoding both ways), the objective and SearchMapping's bookkeeping
// (warm starts, best of everything, errors).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "estimator/simulator_predictor.h"
#include "platform/sim/xavier_sim.h"
#include "search/exhaustive.h"
#include "search/mapping.h"
#include "search/random_search.h"
#include "search/sampling.h"

namespace ecomap::search {
namespace {

using platform::ArrivalKind;
using platform::Configuration;
using platform::Performance;
using platform::PlatformInfo;

MappingTenant Open(std::string name, std::vector<std::string> variants, double rate, double slo_ms) {
  MappingTenant t;
  t.name = std::move(name);
  t.variants = std::move(variants);
  t.arrival = ArrivalKind::kOpenLoop;
  t.rate_rps = rate;
  t.slo_p95 = Milliseconds(slo_ms);
  return t;
}

MappingSpaceOptions Opts(int max_stages, std::vector<int> modes = {}) {
  MappingSpaceOptions o;
  o.max_stages = max_stages;
  o.modes = std::move(modes);
  return o;
}

MappingGoal Goal(double threshold_w, double intensity) {
  MappingGoal g;
  g.threshold = Watts(threshold_w);
  g.intensity = GramsPerKwh(intensity);
  return g;
}

std::vector<MappingTenant> ThreeTenants() {
  MappingTenant closed;
  closed.name = "batch";
  closed.variants = {"efficientnet_b0", "efficientnet_b2"};
  closed.arrival = ArrivalKind::kClosedLoop;
  closed.concurrency = 2;
  return {Open("cam", {"resnet18", "resnet50", "resnet152"}, 20, 80),
          Open("nlp", {"bert_tiny", "bert_mini", "bert_medium"}, 10, 50),
          // mobilenet_v3_*: blocks the DLA cannot run (GPU fallback); v2 has 21 blocks, v3 15/19.
          Open("mob", {"mobilenet_v3_small", "mobilenet_v2", "mobilenet_v3_large"}, 30, 40), closed};
}

// A host-like platform: 4 single-core CPU units; modes 0-1 have 4 cores online, 2-3 only cpu0-1.
PlatformInfo HostLike() {
  PlatformInfo info;
  info.name = "host-like";
  for (int i = 0; i < 4; ++i) {
    platform::ComputeUnit u;
    u.id = "cpu" + std::to_string(i);
    u.kind = platform::UnitKind::kCpu;
    u.cores = 1;
    u.max_frequency_mhz = 3000;
    info.units.push_back(u);
  }
  const std::pair<int, double> modes[] = {{4, 3000}, {4, 1800}, {2, 3000}, {2, 1800}};
  for (int i = 0; i < 4; ++i) {
    platform::PowerMode m;
    m.id = i;
    m.name = std::to_string(modes[i].first) + "CORE";
    m.online_cpu_cores = modes[i].first;
    for (int c = 0; c < modes[i].first; ++c) m.max_frequency_mhz["cpu" + std::to_string(c)] = modes[i].second;
    info.modes.push_back(m);
  }
  return info;
}

std::vector<double> RandomPoint(const Box& box, std::mt19937_64& rng) {
  std::vector<double> x;
  for (int i = 0; i < box.dims(); ++i) {
    // Also values outside the box: Decode snaps them.
    std::uniform_real_distribution<double> u(box.lb[static_cast<size_t>(i)] - 2, box.ub[static_cast<size_t>(i)] + 2);
    x.push_back(u(rng));
  }
  return x;
}

TEST(MappingSpace, EveryRandomPointDecodesValidAndRoundTripsOnXavierSim) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  for (int stages : {1, 2, 3}) {
    auto space = MappingSpace::Create(info, ThreeTenants(), Opts(stages));
    ASSERT_TRUE(space.ok()) << space.status().message();
    // mode + 4 tenants x (variant + cuts + units); batch's 2 variants, the units 4 each.
    EXPECT_EQ(space->box().dims(), 1 + 4 * 2 * stages) << space->Describe();
    std::mt19937_64 rng(7 + static_cast<uint64_t>(stages));
    std::set<int> modes_seen;
    std::set<size_t> stage_counts;
    std::set<std::string> units_seen;
    for (int i = 0; i < 3000; ++i) {
      const std::vector<double> x = RandomPoint(space->box(), rng);
      const Configuration c = space->Decode(x);
      const Status valid = platform::ValidateConfiguration(info, c, platform::DefaultModelLookup());
      ASSERT_TRUE(valid.ok()) << valid.message();
      ASSERT_EQ(c.tenants.size(), 4u);
      EXPECT_EQ(c.tenants[3].arrival, ArrivalKind::kClosedLoop);
      EXPECT_EQ(c.tenants[3].concurrency, 2);
      modes_seen.insert(c.power_mode);
      for (const auto& t : c.tenants) {
        stage_counts.insert(t.stages.size());
        EXPECT_LE(static_cast<int>(t.stages.size()), stages);
        for (const auto& s : t.stages) units_seen.insert(s.unit);
      }
      auto enc = space->Encode(c);
      ASSERT_TRUE(enc.ok()) << enc.status().message();
      EXPECT_EQ(space->Decode(*enc), c);
      // The canonical point is the encoding of the decoded configuration: a fixed point.
      const std::vector<double> canon = space->Canonical(x);
      EXPECT_EQ(canon, *enc);
      EXPECT_EQ(space->Canonical(canon), canon);
    }
    EXPECT_EQ(modes_seen.size(), 7u) << "every mode of xavier-sim";
    EXPECT_EQ(units_seen.size(), 4u) << "CPU, GPU, DLA0, DLA1 are online in every mode";
    EXPECT_EQ(static_cast<int>(stage_counts.size()), stages);
  }
}

TEST(MappingSpace, AUnitFilterKeepsEveryStageOnTheAllowedUnits) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  MappingSpaceOptions o = Opts(2);
  o.units = {"GPU", "DLA1"};
  auto space = MappingSpace::Create(info, ThreeTenants(), o);
  ASSERT_TRUE(space.ok()) << space.status().message();
  std::mt19937_64 rng(3);
  std::set<std::string> units_seen;
  for (int i = 0; i < 2000; ++i) {
    const Configuration c = space->Decode(RandomPoint(space->box(), rng));
    ASSERT_TRUE(platform::ValidateConfiguration(info, c, platform::DefaultModelLookup()).ok());
    for (const auto& t : c.tenants) {
      for (const auto& s : t.stages) units_seen.insert(s.unit);
    }
  }
  // DLA fallback puts unsupported work on the GPU, but never a stage on the CPU or DLA0.
  EXPECT_EQ(units_seen, (std::set<std::string>{"DLA1", "GPU"}));
  o.units = {"TPU"};
  auto bad = MappingSpace::Create(info, ThreeTenants(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'TPU'"), std::string::npos);
}

TEST(MappingSpace, HostDecodeUsesOnlyTheUnitsOnlineInTheMode) {
  const PlatformInfo info = HostLike();
  std::vector<MappingTenant> tenants = {Open("a", {"resnet18", "resnet50"}, 5, 500),
                                        Open("b", {"mobilenet_v2"}, 5, 500)};
  auto space = MappingSpace::Create(info, tenants, Opts(3));
  ASSERT_TRUE(space.ok()) << space.status().message();
  EXPECT_EQ(space->OnlineUnits(0), (std::vector<std::string>{"cpu0", "cpu1", "cpu2", "cpu3"}));
  EXPECT_EQ(space->OnlineUnits(2), (std::vector<std::string>{"cpu0", "cpu1"}));
  std::mt19937_64 rng(3);
  std::map<int, std::set<std::string>> units_by_mode;
  for (int i = 0; i < 3000; ++i) {
    const Configuration c = space->Decode(RandomPoint(space->box(), rng));
    ASSERT_TRUE(platform::ValidateConfiguration(info, c, platform::DefaultModelLookup()).ok());
    for (const auto& t : c.tenants) {
      for (const auto& s : t.stages) units_by_mode[c.power_mode].insert(s.unit);
    }
    auto enc = space->Encode(c);
    ASSERT_TRUE(enc.ok()) << enc.status().message();
    EXPECT_EQ(space->Decode(*enc), c);
  }
  ASSERT_EQ(units_by_mode.size(), 4u);
  EXPECT_EQ(units_by_mode[0].size(), 4u);
  EXPECT_EQ(units_by_mode[1].size(), 4u);
  EXPECT_EQ(units_by_mode[2], (std::set<std::string>{"cpu0", "cpu1"}));
  EXPECT_EQ(units_by_mode[3], (std::set<std::string>{"cpu0", "cpu1"}));

  // A configuration using cpu3 in a 2-core mode is outside the space.
  Configuration c = space->Decode(std::vector<double>(static_cast<size_t>(space->box().dims()), 0.0));
  c.power_mode = 2;
  c.tenants[0].stages = {{0, 7, "cpu3"}};
  auto enc = space->Encode(c);
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find("unit cpu3 is offline in power mode 2: online units are cpu0, cpu1"),
            std::string::npos)
      << enc.status().message();
}

TEST(MappingSpace, SizeMatchesExhaustiveCountAndEveryStructureIsReachable) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  auto space = MappingSpace::Create(info, {Open("cam", {"resnet18", "resnet50"}, 20, 80)},
                                    Opts(2, {1, 2}));
  ASSERT_TRUE(space.ok()) << space.status().message();
  // mode(2) x variant(2) x cut(8: 0..7) x unit0(4) x unit1(4).
  EXPECT_EQ(space->Size(), 2 * 2 * 8 * 4 * 4);
  EXPECT_EQ(*ExhaustiveSearch().CountPoints(space->box()), space->Size());
  // Every (mode, variant, cut, units) is the decode of some point: 2 x 2 x (4 single-stage units +
  // 6 cuts x 16 unit pairs).
  std::set<std::string> distinct;
  std::vector<double> x(static_cast<size_t>(space->box().dims()));
  for (int m = 0; m < 2; ++m)
    for (int v = 0; v < 2; ++v)
      for (int cut = 0; cut < 8; ++cut)
        for (int u0 = 0; u0 < 4; ++u0)
          for (int u1 = 0; u1 < 4; ++u1) {
            x = {double(m), double(v), double(cut), double(u0), double(u1)};
            const Configuration c = space->Decode(x);
            std::string key = std::to_string(c.power_mode) + c.tenants[0].model;
            for (const auto& s : c.tenants[0].stages) key += "|" + std::to_string(s.begin_block) + s.unit;
            distinct.insert(key);
          }
  EXPECT_EQ(distinct.size(), 2u * 2u * (4u + 6u * 16u));
}

TEST(MappingSpace, CutsScaleToTheDecodedVariantsBlocks) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  // mobilenet_v2 has 21 blocks, mobilenet_v3_small 15: cut values 0..21.
  auto space = MappingSpace::Create(info, {Open("mob", {"mobilenet_v3_small", "mobilenet_v2"}, 20, 80)},
                                    Opts(2, {0}));
  ASSERT_TRUE(space.ok());
  std::set<int> cuts_small;
  for (int cut = 0; cut <= 21; ++cut) {
    const Configuration c = space->Decode({0.0, double(cut), 1.0, 1.0});  // variant 0: v3_small
    if (c.tenants[0].stages.size() == 2) cuts_small.insert(c.tenants[0].stages[1].begin_block);
  }
  EXPECT_EQ(cuts_small.size(), 14u) << "every cut 1..14 of a 15-block model is reachable";
}

TEST(MappingSpace, EncodeRefusesConfigurationsOutsideTheSpace) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  auto space = MappingSpace::Create(info, {Open("cam", {"resnet18", "resnet50"}, 20, 80), Open("nlp", {"bert_mini"}, 5, 50)},
                                    Opts(2, {1, 2}));
  ASSERT_TRUE(space.ok());
  const Configuration base = space->Decode(std::vector<double>(static_cast<size_t>(space->box().dims()), 0.0));
  ASSERT_TRUE(space->Encode(base).ok());
  struct Case {
    const char* what;
    std::function<void(Configuration&)> edit;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"mode", [](Configuration& c) { c.power_mode = 0; }, "power mode 0 is not in the mapping space: allowed modes are 1, 2"},
      {"variant", [](Configuration& c) { c.tenants[0].model = "resnet152"; c.tenants[0].stages = {{0, 7, "GPU"}}; },
       "tenant 0 'cam': model 'resnet152' is not an allowed variant (resnet18, resnet50)"},
      {"stages", [](Configuration& c) { c.tenants[0].stages = {{0, 2, "GPU"}, {2, 4, "DLA0"}, {4, 7, "GPU"}}; },
       "3 stages, the space allows at most 2"},
      {"tenant count", [](Configuration& c) { c.tenants.pop_back(); }, "has 1 tenants but the mapping space has 2"},
      {"tenant order", [](Configuration& c) { std::swap(c.tenants[0], c.tenants[1]); }, "tenants must come in the space's order"},
      {"frequency", [](Configuration& c) { c.frequency_mhz["GPU"] = 300; }, "frequency overrides (GPU ...) are not part"},
      {"unknown unit", [](Configuration& c) { c.tenants[0].stages = {{0, 7, "NPU"}}; }, "unknown unit 'NPU'"},
      {"gap", [](Configuration& c) { c.tenants[0].stages = {{0, 3, "GPU"}, {4, 7, "GPU"}}; }, "must begin at 3"},
  };
  for (const auto& k : cases) {
    Configuration c = base;
    k.edit(c);
    auto r = space->Encode(c);
    ASSERT_FALSE(r.ok()) << k.what;
    EXPECT_NE(r.status().message().find(k.needle), std::string::npos) << k.what << ": " << r.status().message();
  }
  // Other arrival figures are not an error: the space's tenants define them (warm starts from an
  // earlier interval).
  Configuration c = base;
  c.tenants[0].rate_rps = 99;
  auto r = space->Encode(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(space->Decode(*r), base);
}

TEST(MappingSpace, CreateNamesTheBadValue) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  struct Case {
    const char* what;
    std::vector<MappingTenant> tenants;
    MappingSpaceOptions options;
    const char* needle;
  };
  auto with = [](std::function<void(MappingTenant&)> edit) {
    MappingTenant t = Open("cam", {"resnet18"}, 20, 80);
    edit(t);
    return std::vector<MappingTenant>{t};
  };
  const std::vector<Case> cases = {
      {"no tenants", {}, {}, "no tenants"},
      {"no name", with([](MappingTenant& t) { t.name = ""; }), {}, "has no name"},
      {"duplicate", {Open("a", {"resnet18"}, 1, 10), Open("a", {"resnet50"}, 1, 10)}, {}, "tenant name 'a' is used twice"},
      {"no variants", with([](MappingTenant& t) { t.variants.clear(); }), {}, "tenant 0 'cam' has no variants"},
      {"unknown model", with([](MappingTenant& t) { t.variants = {"resnet9000"}; }), {}, "unknown model 'resnet9000'"},
      {"rate", with([](MappingTenant& t) { t.rate_rps = 0; }), {}, "open-loop rate 0 req/s must be a finite number > 0"},
      {"concurrency", with([](MappingTenant& t) { t.arrival = ArrivalKind::kClosedLoop; t.concurrency = 0; }), {},
       "closed-loop concurrency 0 must be >= 1"},
      {"slo", with([](MappingTenant& t) { t.slo_p95 = Milliseconds(-1); }), {}, "p95 SLO -1 ms must be >= 0"},
      {"stages", with([](MappingTenant&) {}), Opts(0), "max_stages 0 must be >= 1"},
      {"mode", with([](MappingTenant&) {}), Opts(2, {9}), "power mode 9 does not exist"},
  };
  for (const auto& k : cases) {
    auto r = MappingSpace::Create(info, k.tenants, k.options);
    ASSERT_FALSE(r.ok()) << k.what;
    EXPECT_NE(r.status().message().find(k.needle), std::string::npos) << k.what << ": " << r.status().message();
  }
}

// ---------------------------------------------------------------------------------------------
// The objective.

class ScoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = MappingSpace::Create(platform::XavierSim::MakeInfo(),
                                  {Open("cam", {"resnet18", "resnet50"}, 20, 50), Open("nlp", {"bert_mini"}, 10, 40)},
                                  Opts(2));
    ASSERT_TRUE(s.ok());
    space_ = std::make_unique<MappingSpace>(*s);
    config_ = ReferenceConfiguration(*space_);
    perf_.power = Watts(20);
    perf_.tenants = {{"cam", Milliseconds(10), Milliseconds(30), 20, false},
                     {"nlp", Milliseconds(5), Milliseconds(20), 10, false}};
    goal_.threshold = Watts(25);
    goal_.intensity = GramsPerKwh(300);
    goal_.reference = {Watts(20), 0};
  }
  std::unique_ptr<MappingSpace> space_;
  Configuration config_;
  Performance perf_;
  MappingGoal goal_;
};

TEST_F(ScoreTest, ReferenceConfigurationIsMaxnOnTheGpuWithTheBestVariants) {
  EXPECT_EQ(config_.power_mode, 0);
  ASSERT_EQ(config_.tenants.size(), 2u);
  EXPECT_EQ(config_.tenants[0].model, "resnet50");
  EXPECT_EQ(config_.tenants[0].stages, (std::vector<platform::Stage>{{0, 7, "GPU"}}));
}

TEST_F(ScoreTest, TermsPenaltiesAndWeights) {
  // CDP: 20 W x 300 g/kWh / 30 req/s = 5.556e-5 g per inference; x p95 (0.03 s, 0.02 s) -> mean.
  const double per_inf = 20.0 * 300.0 / 3.6e6 / 30.0;
  const double cdp = (per_inf * 0.030 + per_inf * 0.020) / 2;
  goal_.reference.cdp_g_s = cdp * 2;
  MappingScore s = ScoreConfiguration(*space_, goal_, config_, perf_);
  EXPECT_TRUE(s.feasible);
  EXPECT_NEAR(s.cdp_g_s, cdp, 1e-15);
  EXPECT_EQ(s.accuracy_loss_pts, 0.0);
  EXPECT_NEAR(s.cost, 1.0 + 0.5, 1e-12);

  // resnet18 for cam: 6.372 points lost on 20 of 30 req/s.
  Configuration c = config_;
  c.tenants[0].model = "resnet18";
  s = ScoreConfiguration(*space_, goal_, c, perf_);
  EXPECT_NEAR(s.accuracy_loss_pts, (76.13 - 69.758) * 20 / 30, 1e-9);
  EXPECT_NEAR(s.cost, 1.5 + 0.05 * s.accuracy_loss_pts, 1e-9);

  // Power above the threshold (checked exactly in PowerTermFixed).
  Performance p = perf_;
  p.power = Watts(30);
  s = ScoreConfiguration(*space_, goal_, config_, p);
  EXPECT_FALSE(s.feasible);
  EXPECT_EQ(s.slo_met, (std::vector<bool>{true, true}));
  EXPECT_GT(s.cost, 10.0);

  // A broken SLO (nlp p95 60 ms > 40 ms) and a saturated tenant.
  p = perf_;
  p.tenants[1].latency_p95 = Milliseconds(60);
  s = ScoreConfiguration(*space_, goal_, config_, p);
  EXPECT_FALSE(s.feasible);
  EXPECT_EQ(s.slo_met, (std::vector<bool>{true, false}));
  const double base_cost = 1.0 + (per_inf * 0.030 + per_inf * 0.060) / 2 / (cdp * 2);
  EXPECT_NEAR(s.cost, base_cost + 10 + 10 * 0.5, 1e-9);
  p = perf_;
  p.tenants[0].saturated = true;
  s = ScoreConfiguration(*space_, goal_, config_, p);
  EXPECT_EQ(s.slo_met, (std::vector<bool>{false, true}));
  EXPECT_NEAR(s.cost, 1.5 + 10 + 10 * 1.0, 1e-9);

  // Weights: only energy.
  goal_.weights.energy = 2;
  goal_.weights.cdp = 0;
  goal_.weights.accuracy = 0;
  s = ScoreConfiguration(*space_, goal_, config_, perf_);
  EXPECT_NEAR(s.cost, 2.0, 1e-12);
  goal_.weights.cdp = -1;
  EXPECT_NE(goal_.Validate().message().find("objective weight cdp = -1"), std::string::npos);
}

TEST_F(ScoreTest, PowerTermFixed) {
  // The power case above, spelled out: energy 30/20 = 1.5, CDP 1.5 x cdp / (2 cdp) = 0.75.
  const double per_inf = 20.0 * 300.0 / 3.6e6 / 30.0;
  const double cdp = (per_inf * 0.030 + per_inf * 0.020) / 2;
  goal_.reference.cdp_g_s = cdp * 2;
  Performance p = perf_;
  p.power = Watts(30);
  const MappingScore s = ScoreConfiguration(*space_, goal_, config_, p);
  EXPECT_NEAR(s.cost, 1.5 + 0.75 + 10 + 10 * 0.2, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// SearchMapping.

// A predictor that fails, to check the error path (the real predictors do not fail on valid
// configurations).
class FailingPredictor final : public estimator::Predictor {
 public:
  std::string name() const override { return "failing"; }
  StatusOr<std::vector<Performance>> PredictBatch(const std::vector<Configuration>&) const override {
    return Unavailable("model file gone");
  }
};

TEST(SearchMapping, WarmStartsCountAndTheBestOfEverythingWins) {
  const estimator::SimulatorPredictor sim;
  auto space = MappingSpace::Create(sim.info(),
                                    {Open("cam", {"resnet18", "resnet50"}, 20, 60), Open("nlp", {"bert_mini", "bert_small"}, 10, 40)},
                                    Opts(2, {1, 2}));
  ASSERT_TRUE(space.ok());
  const MappingGoal goal = Goal(12, 300);
  // The exhaustive optimum, then a 12-evaluation random search warm-started from it.
  ExhaustiveSearch ex;
  auto best = SearchMapping(*space, sim, goal, ex, Budget{.max_evals = static_cast<int>(space->Size())}, 0);
  ASSERT_TRUE(best.ok()) << best.status().message();
  // Every point of the box is proposed; points that decode to a configuration already evaluated
  // (Canonical) are answered from that evaluation.
  EXPECT_EQ(best->search.evaluations + best->search.repeats, space->Size());
  EXPECT_LT(best->search.evaluations, space->Size());
  EXPECT_GT(best->predict_ms, 0.0);
  EXPECT_NEAR(best->total_ms, best->search_ms + best->predict_ms, 1e-6);
  RandomSearch rs(RandomSearchOptions{.batch_size = 4});
  auto r = SearchMapping(*space, sim, goal, rs, Budget{.max_evals = 12}, 5, {best->config, best->config});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->warm_start_evals, 2);
  EXPECT_EQ(r->search.evaluations, 12);
  ASSERT_EQ(r->search.history.size(), 12u);
  EXPECT_EQ(r->search.history[0].batch, 0);
  EXPECT_EQ(r->search.history[2].batch, 1);
  EXPECT_EQ(r->config, best->config);
  EXPECT_DOUBLE_EQ(r->score.cost, best->score.cost);
  EXPECT_DOUBLE_EQ(-r->search.best_f, best->score.cost);
  // More warm starts than the budget: only the first max_evals are evaluated, no optimizer run.
  auto w = SearchMapping(*space, sim, goal, rs, Budget{.max_evals = 1}, 5, {best->config, best->config});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->search.evaluations, 1);
  // Deterministic for a seed.
  auto again = SearchMapping(*space, sim, goal, rs, Budget{.max_evals = 12}, 5, {best->config, best->config});
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(again->search.history[i].x, r->search.history[i].x);
}

TEST(SearchMapping, ErrorsNameTheProblem) {
  const estimator::SimulatorPredictor sim;
  auto space = MappingSpace::Create(sim.info(), {Open("cam", {"resnet18", "resnet50"}, 20, 60)});
  ASSERT_TRUE(space.ok());
  const MappingGoal good = Goal(12, 300);
  auto lamcts = MakeMappingOptimizer("lamcts", *space, 100);
  ASSERT_TRUE(lamcts.ok());
  struct Case {
    const char* what;
    MappingGoal goal;
    Budget budget;
    std::vector<Configuration> warm;
    const char* needle;
  };
  Configuration outside = ReferenceConfiguration(*space);
  outside.power_mode = 42;
  const Configuration ref = ReferenceConfiguration(*space);
  const std::vector<Case> cases = {
      {"threshold", Goal(-1, 0), Budget{.max_evals = 100}, {}, "power threshold -1 W must be"},
      {"intensity", Goal(10, std::nan("")), Budget{.max_evals = 100}, {},
       "carbon intensity nan"},
      {"no budget", good, Budget{}, {}, "budget"},
      {"warm start", good, Budget{.max_evals = 100}, {ref, outside}, "warm start 1: power mode 42 is not in the mapping space"},
      {"budget after warm starts", good, Budget{.max_evals = 20}, {ref, ref, ref, ref, ref},
       "(15 evaluations left after 5 warm starts)"},
  };
  for (const auto& k : cases) {
    auto r = SearchMapping(*space, sim, k.goal, **lamcts, k.budget, 1, k.warm);
    ASSERT_FALSE(r.ok()) << k.what;
    EXPECT_NE(r.status().message().find(k.needle), std::string::npos) << k.what << ": " << r.status().message();
  }
  FailingPredictor failing;
  auto r = SearchMapping(*space, failing, good, **lamcts, Budget{.max_evals = 100}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("predicting the reference configuration with failing: model file gone"),
            std::string::npos)
      << r.status().message();
  MappingGoal with_ref = good;
  with_ref.reference = {Watts(20), 1e-6};
  r = SearchMapping(*space, failing, with_ref, **lamcts, Budget{.max_evals = 100}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("predictor failing: model file gone"), std::string::npos) << r.status().message();
  EXPECT_FALSE(MakeMappingOptimizer("cmaes", *space).ok());
  EXPECT_NE(MakeMappingOptimizer("cmaes", *space).status().message().find("use lamcts, random, sa or exhaustive"),
            std::string::npos);
}

// The units of the stages are categorical coordinates: one move takes a stage from the CPU to
// any other unit (DLA1 included), not only to the neighbouring index.
TEST(MappingSpace, UnitCoordinatesAreCategoricalAndReachAnyUnitInOneStep) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  auto space = MappingSpace::Create(info, {Open("cam", {"resnet18", "resnet50"}, 20, 80)}, Opts(1, {0}));
  ASSERT_TRUE(space.ok()) << space.status().message();
  const Box& box = space->box();
  ASSERT_TRUE(box.Validate().ok());
  // One mode: the dimensions are cam.variant and cam.unit0.
  ASSERT_EQ(box.dims(), 2) << space->Describe();
  EXPECT_FALSE(box.is_categorical(0));
  EXPECT_TRUE(box.is_categorical(1));
  EXPECT_NE(space->Describe().find("cam.unit0(4, categorical)"), std::string::npos) << space->Describe();
  const std::vector<std::string> units = space->OnlineUnits(0);
  ASSERT_EQ(units.size(), 4u);
  ASSERT_EQ(units.front(), "CPU");

  Configuration on_cpu = space->Decode({0, 0});
  ASSERT_EQ(on_cpu.tenants[0].stages[0].unit, "CPU");
  auto x = space->Encode(on_cpu);
  ASSERT_TRUE(x.ok()) << x.status().message();
  const std::vector<DimGrid> grid = UnitGrid(box);
  Rng rng(5);
  std::set<std::string> reached;
  for (int i = 0; i < 200; ++i) {
    std::vector<double> y = *x;
    const double u = OtherChoice(grid[1], (y[1] - box.lb[1]) / (box.ub[1] - box.lb[1]), rng);
    y[1] = box.lb[1] + u * (box.ub[1] - box.lb[1]);
    const Configuration c = space->Decode(y);
    ASSERT_TRUE(platform::ValidateConfiguration(info, c, platform::DefaultModelLookup()).ok());
    reached.insert(c.tenants[0].stages[0].unit);
  }
  EXPECT_EQ(reached, (std::set<std::string>{"GPU", "DLA0", "DLA1"})) << "every other unit, never the CPU again";
}

// Canonical(y) == Canonical(x) exactly when y and x decode to the same configuration; several
// points do (a one-stage tenant's second unit coordinate is unused), so the mapping searches
// answer them from one evaluation.
TEST(MappingSpace, PointsShareTheirCanonicalPointExactlyWhenTheyDecodeAlike) {
  const PlatformInfo info = platform::XavierSim::MakeInfo();
  auto space = MappingSpace::Create(info, {Open("cam", {"resnet18", "resnet50"}, 20, 80)}, Opts(2, {0, 2}));
  ASSERT_TRUE(space.ok()) << space.status().message();
  const Box& box = space->box();
  std::mt19937_64 rng(11);
  int alike = 0, different = 0;
  for (int i = 0; i < 400; ++i) {
    std::vector<double> x = RandomPoint(box, rng);
    box.Snap(&x);
    // Neighbours of x: one coordinate set to each of its values.
    for (int j = 0; j < box.dims(); ++j) {
      for (double v = box.lb[static_cast<size_t>(j)]; v <= box.ub[static_cast<size_t>(j)]; v += 1.0) {
        std::vector<double> y = x;
        y[static_cast<size_t>(j)] = v;
        const bool same = space->Decode(y) == space->Decode(x);
        EXPECT_EQ(space->Canonical(y) == space->Canonical(x), same) << "dimension " << j << " = " << v;
        (same ? alike : different) += y != x ? 1 : 0;
      }
    }
  }
  EXPECT_GT(alike, 100) << "distinct points that decode alike exist (unused unit and cut values)";
  EXPECT_GT(different, 1000);
}

}  // namespace
}  // namespace ecomap::search
