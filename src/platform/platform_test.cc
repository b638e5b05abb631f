// Tests of the torch-free platform value types: names, stages, validation, JSON round-trip.
#include "platform/platform.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "platform/registry.h"
#include "platform/sim/xavier_sim.h"

namespace ecomap::platform {
namespace {

using zoo::BlockDescriptor;
using zoo::BlockKind;

// A small catalogue built here: a 4-block CNN and a 4-block model with a DLA-unsupported block.
const std::vector<zoo::ModelInfo>& TestModels() {
  static const std::vector<zoo::ModelInfo> models = [] {
    zoo::ModelInfo cnn;
    cnn.name = "cnn4";
    cnn.family = "test";
    cnn.blocks = {
        BlockDescriptor{"stem", BlockKind::kConv, 2.4e8, 9536, 602112, 802816, true},
        BlockDescriptor{"body", BlockKind::kConv, 1.2e9, 500000, 802816, 401408, true},
        BlockDescriptor{"pool", BlockKind::kPool, 1e5, 0, 401408, 2048, true},
        BlockDescriptor{"fc", BlockKind::kLinear, 1.0e6, 513000, 2048, 4000, true},
    };
    zoo::ModelInfo mixed = cnn;
    mixed.name = "mixed4";
    mixed.blocks[1].kind = BlockKind::kAttention;
    mixed.blocks[1].dla_supported = false;
    return std::vector<zoo::ModelInfo>{cnn, mixed};
  }();
  return models;
}

const zoo::ModelInfo* FindTestModel(const std::string& name) {
  for (const auto& m : TestModels()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Configuration OneTenant(std::vector<Stage> stages, int mode = 2) {
  Configuration c;
  c.power_mode = mode;
  TenantConfig t;
  t.name = "a";
  t.model = "cnn4";
  t.stages = std::move(stages);
  c.tenants.push_back(t);
  return c;
}

TEST(PlatformNames, RoundTrip) {
  for (UnitKind k : {UnitKind::kCpu, UnitKind::kGpu, UnitKind::kDla}) {
    EXPECT_EQ(*ParseUnitKind(UnitKindName(k)), k);
  }
  for (Provenance p : {Provenance::kMeasured, Provenance::kModelled, Provenance::kSimulated}) {
    EXPECT_EQ(*ParseProvenance(ProvenanceName(p)), p);
  }
  for (ArrivalKind a : {ArrivalKind::kOpenLoop, ArrivalKind::kClosedLoop}) {
    EXPECT_EQ(*ParseArrivalKind(ArrivalKindName(a)), a);
  }
  EXPECT_FALSE(ParseUnitKind("tpu").ok());
  EXPECT_FALSE(ParseProvenance("guessed").ok());
  EXPECT_FALSE(ParseArrivalKind("burst").ok());
}

TEST(StagesFromCuts, Table) {
  struct Case {
    int blocks;
    std::vector<int> cuts;
    std::vector<std::string> units;
    bool ok;
    std::string error_part;
  };
  const Case cases[] = {
      {4, {}, {"GPU"}, true, ""},
      {4, {2}, {"DLA0", "GPU"}, true, ""},
      {4, {1, 2, 3}, {"CPU", "GPU", "DLA0", "DLA1"}, true, ""},
      {4, {2}, {"GPU"}, false, "one unit per stage"},
      {4, {0}, {"GPU", "CPU"}, false, "cut point 0"},
      {4, {4}, {"GPU", "CPU"}, false, "cut point 4"},
      {4, {3, 2}, {"GPU", "CPU", "GPU"}, false, "strictly increasing"},
      {0, {}, {"GPU"}, false, "at least one block"},
  };
  for (const Case& c : cases) {
    auto stages = StagesFromCuts(c.blocks, c.cuts, c.units);
    ASSERT_EQ(stages.ok(), c.ok) << c.error_part;
    if (!c.ok) {
      EXPECT_NE(stages.status().message().find(c.error_part), std::string::npos) << stages.status().message();
      continue;
    }
    ASSERT_EQ(stages->size(), c.units.size());
    EXPECT_EQ(stages->front().begin_block, 0);
    EXPECT_EQ(stages->back().end_block, c.blocks);
    EXPECT_EQ(CutPoints(*stages), c.cuts);
  }
}

TEST(Validate, Table) {
  const PlatformInfo info = XavierSim::MakeInfo();
  ModelLookup lookup = FindTestModel;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    std::string what;
    std::function<void(Configuration&)> mutate;
    StatusCode code;
    std::string message_part;
  };
  const Case cases[] = {
      {"valid", [](Configuration&) {}, StatusCode::kOk, ""},
      {"unknown mode", [](Configuration& c) { c.power_mode = 9; }, StatusCode::kNotFound, "power mode 9"},
      {"no tenants", [](Configuration& c) { c.tenants.clear(); }, StatusCode::kInvalidArgument, "no tenants"},
      {"unknown model", [](Configuration& c) { c.tenants[0].model = "resnet9000"; }, StatusCode::kNotFound,
       "unknown model 'resnet9000'"},
      {"unknown unit", [](Configuration& c) { c.tenants[0].stages[1].unit = "TPU"; }, StatusCode::kNotFound,
       "unknown unit 'TPU'"},
      {"no stages", [](Configuration& c) { c.tenants[0].stages.clear(); }, StatusCode::kInvalidArgument,
       "no stages"},
      {"gap", [](Configuration& c) { c.tenants[0].stages[1].begin_block = 3; }, StatusCode::kInvalidArgument,
       "must begin at 2"},
      {"overlap", [](Configuration& c) { c.tenants[0].stages[1].begin_block = 1; },
       StatusCode::kInvalidArgument, "must begin at 2"},
      {"not covering", [](Configuration& c) { c.tenants[0].stages[1].end_block = 3; },
       StatusCode::kInvalidArgument, "must end at 4"},
      {"past the end", [](Configuration& c) { c.tenants[0].stages[1].end_block = 7; },
       StatusCode::kInvalidArgument, "ends past the last block"},
      {"empty stage", [](Configuration& c) { c.tenants[0].stages[0].end_block = 0; },
       StatusCode::kInvalidArgument, "is empty"},
      {"open rate zero",
       [](Configuration& c) {
         c.tenants[0].arrival = ArrivalKind::kOpenLoop;
         c.tenants[0].rate_rps = 0;
       },
       StatusCode::kInvalidArgument, "rate 0"},
      {"open rate NaN",
       [nan](Configuration& c) {
         c.tenants[0].arrival = ArrivalKind::kOpenLoop;
         c.tenants[0].rate_rps = nan;
       },
       StatusCode::kInvalidArgument, "finite number > 0"},
      {"closed concurrency zero", [](Configuration& c) { c.tenants[0].concurrency = 0; },
       StatusCode::kInvalidArgument, "concurrency 0"},
      {"duplicate names", [](Configuration& c) { c.tenants.push_back(c.tenants[0]); },
       StatusCode::kInvalidArgument, "used twice"},
      {"frequency of unknown unit", [](Configuration& c) { c.frequency_mhz["NPU"] = 100; },
       StatusCode::kNotFound, "unknown unit 'NPU'"},
      {"frequency above cap", [](Configuration& c) { c.frequency_mhz["GPU"] = 1377; },
       StatusCode::kInvalidArgument, "cap of mode MODE_15W"},
      {"frequency at cap", [](Configuration& c) { c.frequency_mhz["GPU"] = 670; }, StatusCode::kOk, ""},
  };
  for (const Case& c : cases) {
    Configuration config = OneTenant({{0, 2, "DLA0"}, {2, 4, "GPU"}});
    c.mutate(config);
    Status s = ValidateConfiguration(info, config, lookup);
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s.message();
    EXPECT_NE(s.message().find(c.message_part), std::string::npos) << c.what << ": " << s.message();
  }
}

TEST(Validate, UnitWithoutFallbackCannotRunKind) {
  PlatformInfo info = XavierSim::MakeInfo();
  info.units[2].fallback_unit.clear();  // a DLA without GPU fallback
  Configuration config = OneTenant({{0, 4, "DLA0"}});
  config.tenants[0].model = "mixed4";
  Status s = ValidateConfiguration(info, config, FindTestModel);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cannot run block 1"), std::string::npos) << s.message();
}

TEST(Json, ConfigurationRoundTrip) {
  Configuration c = OneTenant({{0, 2, "DLA0"}, {2, 4, "GPU"}}, 3);
  c.frequency_mhz["GPU"] = 600;
  TenantConfig open;
  open.name = "b";
  open.model = "mixed4";
  open.stages = {{0, 4, "CPU"}};
  open.arrival = ArrivalKind::kOpenLoop;
  open.rate_rps = 12.5;
  c.tenants.push_back(open);
  nlohmann::json j = c;
  EXPECT_EQ(j["tenants"][1]["arrival"], "open");
  EXPECT_EQ(j["tenants"][0]["stages"][1]["unit"], "GPU");
  auto back = ConfigurationFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, c);
}

TEST(Json, PerformanceRoundTrip) {
  Performance p;
  p.tenants = {TenantPerformance{"a", Milliseconds(2.5), Milliseconds(4.25), 120.0, false},
               TenantPerformance{"b", Milliseconds(900), Milliseconds(1900), 3.0, true}};
  p.power = Watts(14.75);
  p.unit_utilisation = {{"GPU", 0.5}, {"DLA0", 0.25}};
  p.emc_utilisation = 0.3;
  p.provenance = Provenance::kSimulated;
  p.window = Seconds(10);
  nlohmann::json j = p;
  EXPECT_EQ(j["power_w"], 14.75);
  EXPECT_EQ(j["tenants"][0]["latency_p95_ms"], 4.25);
  EXPECT_EQ(j["provenance"], "simulated");
  auto back = PerformanceFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, p);
}

TEST(Json, PlatformInfoAndPowerReadingRoundTrip) {
  PlatformInfo info = XavierSim::MakeInfo();
  auto back = PlatformInfoFromJson(nlohmann::json::parse(nlohmann::json(info).dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, info);

  PowerReading r;
  r.time = *ParseTimestamp("2026-01-02T03:04:05Z");
  r.rails = {RailPower{"GPU", Watts(1.5), 5.0, 0.3},
             RailPower{"CPU", Watts(0.4), std::nullopt, std::nullopt}};
  r.total = Watts(1.9);
  r.provenance = Provenance::kMeasured;
  PowerReading r2 = nlohmann::json::parse(nlohmann::json(r).dump()).get<PowerReading>();
  EXPECT_EQ(r2, r);
}

TEST(Json, BadInputIsAnErrorNotAThrow) {
  const char* bad[] = {
      R"({"tenants": []})",                       // no power_mode
      R"({"power_mode": "two", "tenants": []})",  // wrong type
      R"({"power_mode": 1, "tenants": [{"model": "x", "stages": [], "arrival": "burst"}]})",
      R"({"power_mode": 1, "tenants": [{"model": "x", "stages": [{"begin": 0}]}]})",
  };
  for (const char* text : bad) {
    auto c = ConfigurationFromJson(nlohmann::json::parse(text));
    EXPECT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(
      PerformanceFromJson(nlohmann::json::parse(R"({"tenants": [], "power_w": 1, "provenance": "maybe"})"))
          .ok());
}

TEST(Registry, MakesXavierSimAndRejectsUnknownNames) {
  auto p = MakePlatform("xavier-sim");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ((*p)->info().name, "xavier-sim");
  EXPECT_EQ((*p)->info().provenance, Provenance::kSimulated);
  auto bad = MakePlatform("pdp-11");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_NE(bad.status().message().find("xavier-sim"), std::string::npos);
  bool listed = false;
  for (const PlatformEntry& e : PlatformNames()) listed |= e.name == "xavier-sim";
  EXPECT_TRUE(listed);
}

}  // namespace
}  // namespace ecomap::platform
