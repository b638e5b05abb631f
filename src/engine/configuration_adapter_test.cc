// The one Configuration -> EngineSpec adapter: names, stages (mapped, merged), sources, queues,
// seeds and SLOs as the serve daemon and the host evaluator ask for them.
#include "engine/configuration_adapter.h"

#include <gtest/gtest.h>

namespace ecomap::engine {
namespace {

platform::Configuration TwoTenants() {
  platform::Configuration c;
  c.power_mode = 1;
  platform::TenantConfig a;
  a.name = "cam";
  a.model = "resnet18";
  a.stages = {{0, 3, "DLA0"}, {3, 5, "DLA1"}, {5, 7, "GPU"}};
  a.arrival = platform::ArrivalKind::kOpenLoop;
  a.rate_rps = 12.5;
  platform::TenantConfig b;  // unnamed, closed loop
  b.model = "bert_tiny";
  b.stages = {{0, 4, "cpu0"}};
  b.arrival = platform::ArrivalKind::kClosedLoop;
  b.concurrency = 80;
  c.tenants = {a, b};
  return c;
}

TEST(ConfigurationAdapterTest, DefaultsKeepStagesAndUnitsAsConfigured) {
  EngineSpec s = ToEngineSpec(TwoTenants(), ConfigurationAdapterOptions{});
  ASSERT_EQ(s.tenants.size(), 2u);
  EXPECT_EQ(s.tenants[0].name, "cam");
  EXPECT_EQ(s.tenants[1].name, "t1");
  ASSERT_EQ(s.tenants[0].stages.size(), 3u);
  EXPECT_EQ(s.tenants[0].stages[1], (StageSpec{3, 5, "DLA1"}));
  EXPECT_EQ(s.tenants[0].source.kind, SourceSpec::Kind::kPoisson);
  EXPECT_DOUBLE_EQ(s.tenants[0].source.rate_rps, 12.5);
  EXPECT_EQ(s.tenants[1].source.kind, SourceSpec::Kind::kClosed);
  EXPECT_EQ(s.tenants[1].source.outstanding, 80);
  EXPECT_EQ(s.tenants[0].queue_capacity, 16);
  EXPECT_EQ(s.tenants[1].queue_capacity, 80);  // never fewer slots than outstanding requests
  EXPECT_EQ(s.tenants[0].seed, 1u);
  EXPECT_EQ(s.tenants[1].seed, 2u);
  EXPECT_EQ(s.tenants[0].slo, SloSpec{});
}

TEST(ConfigurationAdapterTest, MapsUnitsMergesNeighboursAndTakesSeedsAndSlos) {
  ConfigurationAdapterOptions o;
  o.map_unit = [](const std::string& u) { return u == "GPU" ? std::string("cpu1") : std::string("cpu0"); };
  o.merge_stages_on_one_unit = true;
  o.queue_capacity = 64;
  o.seed = [](size_t i, const std::string& name) { return 100 + i * 10 + name.size(); };
  o.slo = [](const std::string& name) -> std::optional<SloSpec> {
    if (name != "cam") return std::nullopt;
    return SloSpec{Milliseconds(40), 95, 2};
  };
  EngineSpec s = ToEngineSpec(TwoTenants(), o);
  // DLA0 and DLA1 both land on cpu0: one stage 0-5, then 5-7 on cpu1.
  ASSERT_EQ(s.tenants[0].stages.size(), 2u);
  EXPECT_EQ(s.tenants[0].stages[0], (StageSpec{0, 5, "cpu0"}));
  EXPECT_EQ(s.tenants[0].stages[1], (StageSpec{5, 7, "cpu1"}));
  EXPECT_EQ(s.tenants[0].queue_capacity, 64);
  EXPECT_EQ(s.tenants[1].queue_capacity, 80);
  EXPECT_EQ(s.tenants[0].seed, 103u);
  EXPECT_EQ(s.tenants[1].seed, 112u);
  EXPECT_EQ(s.tenants[0].slo.latency_bound, Milliseconds(40));
  EXPECT_EQ(s.tenants[1].slo, SloSpec{});  // nullopt: the engine's default
}

}  // namespace
}  // namespace ecomap::engine
