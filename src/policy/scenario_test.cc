#include "policy/scenario.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "estimator/simulator_predictor.h"

namespace ecomap::policy {
namespace {

const char* kGood = R"(
name = "two"
description = "a test"
[[tenant]]
name = "cam"
family = "resnet"
variants = ["resnet50", "resnet18"]
slo_ms = 30
rate_rps = 10
rate_by_hour = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5]

[[tenant]]
name = "txt"
family = "bert"
slo_ms = 40
arrival = "closed"
concurrency = 2
min_throughput_rps = 5
)";

TEST(Scenario, ParsesAGoodFile) {
  StatusOr<Scenario> s = ParseScenario(kGood, "good.toml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "two");
  EXPECT_EQ(s->description, "a test");
  ASSERT_EQ(s->tenants.size(), 2u);
  const TenantSpec& cam = s->tenants[0].spec;
  EXPECT_EQ(cam.name, "cam");
  EXPECT_EQ(cam.family, "resnet");
  // Sorted into catalogue order (increasing accuracy).
  EXPECT_EQ(cam.variants, (std::vector<std::string>{"resnet18", "resnet50"}));
  EXPECT_DOUBLE_EQ(cam.slo_p95.value(), 30);
  EXPECT_EQ(cam.arrival, platform::ArrivalKind::kOpenLoop);
  EXPECT_DOUBLE_EQ(cam.rate_rps, 10);
  EXPECT_EQ(s->tenants[0].rate_by_hour.size(), 24u);
  EXPECT_DOUBLE_EQ(s->tenants[0].PeakRate(), 20);
  const TenantSpec& txt = s->tenants[1].spec;
  EXPECT_EQ(txt.arrival, platform::ArrivalKind::kClosedLoop);
  EXPECT_EQ(txt.concurrency, 2);
  EXPECT_DOUBLE_EQ(txt.min_throughput_rps, 5);
  // Whole family by default.
  EXPECT_EQ(txt.variants.size(), zoo::Family("bert").size());
  EXPECT_TRUE(ValidateTenants(s->DemandAt(TimePoint{})).ok());
}

TEST(Scenario, DemandFollowsTheUtcHour) {
  StatusOr<Scenario> s = ParseScenario(kGood, "good.toml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  StatusOr<TimePoint> t10 = ParseTimestamp("2023-03-05T10:30:00Z");
  StatusOr<TimePoint> t23 = ParseTimestamp("2023-03-05T23:59:00Z");
  StatusOr<TimePoint> t0 = ParseTimestamp("2023-03-06T00:00:00Z");
  ASSERT_TRUE(t10.ok() && t23.ok() && t0.ok());
  struct Case {
    TimePoint t;
    double cam_rate;
  } cases[] = {{*t10, 20}, {*t23, 5}, {*t0, 10}};
  for (const Case& c : cases) {
    std::vector<TenantSpec> d = s->DemandAt(c.t);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_DOUBLE_EQ(d[0].rate_rps, c.cam_rate) << FormatIso8601(c.t);
    EXPECT_EQ(d[1].concurrency, 2);  // closed loop untouched
  }
}

TEST(Scenario, NameDefaultsToTheFileName) {
  std::string text = kGood;
  text.replace(text.find("name = \"two\""), 12, "");
  StatusOr<Scenario> s = ParseScenario(text, "some/dir/busy-day.toml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "busy-day");
}

// Replaces the first occurrence of `from` in kGood by `to`.
std::string Edit(const std::string& from, const std::string& to) {
  std::string t = kGood;
  size_t p = t.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) t.replace(p, from.size(), to);
  return t;
}

TEST(Scenario, RejectsMalformedFilesWithFileLineKeyAndFix) {
  struct Case {
    const char* what;
    std::string text;
    std::vector<std::string> expect;  // substrings of the message
  };
  std::vector<Case> cases = {
      {"not toml", "name = \n[[tenant", {"bad.toml:", "not valid TOML"}},
      {"no tenants", "name = \"x\"\n", {"no tenants", "[[tenant]]"}},
      {"tenant not a table array", "tenant = 3\n", {"bad.toml:1", "[[tenant]]"}},
      {"unknown top key", Edit("description", "descripton"), {"bad.toml:3", "descripton", "known"}},
      {"unknown tenant key", Edit("slo_ms = 30", "slo = 30"), {"bad.toml:8", "unknown key 'slo'", "slo_ms"}},
      {"missing name", Edit("name = \"cam\"", ""), {"has no name"}},
      {"unknown family", Edit("family = \"resnet\"", "family = \"resnext\""),
       {"bad.toml:6", "unknown family 'resnext'", "known families", "efficientnet"}},
      {"unknown model", Edit("\"resnet50\", ", "\"resnet51\", "), {"bad.toml:7", "unknown model 'resnet51'", "resnet152"}},
      {"variant outside family", Edit("\"resnet50\", ", "\"vgg16\", "),
       {"bad.toml:7", "'vgg16' belongs to family 'vgg'", "resnet18"}},
      {"empty variants", Edit("[\"resnet50\", \"resnet18\"]", "[]"), {"variants must be a non-empty array"}},
      {"duplicate variant", Edit("\"resnet50\", \"resnet18\"", "\"resnet50\", \"resnet50\""), {"listed twice"}},
      {"slo zero", Edit("slo_ms = 30", "slo_ms = 0"), {"bad.toml:8", "slo_ms = 0", "> 0"}},
      {"slo negative", Edit("slo_ms = 30", "slo_ms = -4"), {"slo_ms = -4"}},
      {"slo string", Edit("slo_ms = 30", "slo_ms = \"30\""), {"slo_ms must be a number"}},
      {"slo missing", Edit("slo_ms = 30", ""), {"slo_ms is missing"}},
      {"rate negative", Edit("rate_rps = 10", "rate_rps = -1"), {"bad.toml:9", "rate_rps = -1"}},
      {"rate missing", Edit("rate_rps = 10", ""), {"rate_rps is missing"}},
      {"rate nan", Edit("rate_rps = 10", "rate_rps = nan"), {"rate_rps must be a number"}},
      {"rate_by_hour short", Edit("1, 1, 0.5]", "0.5]"), {"bad.toml:10", "24 numbers", "got 22"}},
      {"rate_by_hour zero", Edit("2, 1,", "0, 1,"), {"rate_by_hour[10]"}},
      {"bad arrival", Edit("arrival = \"closed\"", "arrival = \"poisson\""), {"arrival = \"poisson\"", "\"open\""}},
      {"closed with rate", Edit("concurrency = 2", "rate_rps = 3"), {"rate_rps applies to arrival = \"open\" only"}},
      {"open with concurrency", Edit("rate_rps = 10", "rate_rps = 10\nconcurrency = 3"),
       {"concurrency applies to arrival = \"closed\" only"}},
      {"bad concurrency", Edit("concurrency = 2", "concurrency = 0"), {"concurrency must be an integer"}},
      {"negative min throughput", Edit("min_throughput_rps = 5", "min_throughput_rps = -5"), {"min_throughput_rps = -5"}},
      {"duplicate tenant", Edit("name = \"txt\"", "name = \"cam\""), {"'cam' is declared twice"}},
      {"impossible SLO", Edit("slo_ms = 30", "slo_ms = 0.2"),
       {"tenant 'cam'", "impossible SLO", "resnet18", "MAXN", "raise slo_ms"}},
      {"impossible load", Edit("rate_rps = 10", "rate_rps = 5000"), {"tenant 'cam'", "impossible load", "cannot keep up"}},
  };
  for (const Case& c : cases) {
    StatusOr<Scenario> s = ParseScenario(c.text, "bad.toml");
    ASSERT_FALSE(s.ok()) << c.what;
    for (const std::string& e : c.expect) {
      EXPECT_NE(s.status().message().find(e), std::string::npos)
          << c.what << ": expected '" << e << "' in: " << s.status().message();
    }
  }
}

TEST(Scenario, FeasibilityCheckCanBeTurnedOff) {
  std::string text = Edit("slo_ms = 30", "slo_ms = 0.2");
  EXPECT_FALSE(ParseScenario(text, "x.toml").ok());
  ScenarioCheck off;
  off.check_feasibility = false;
  EXPECT_TRUE(ParseScenario(text, "x.toml", off).ok());
}

TEST(Scenario, BestAloneUsesTheLightestVariantOnTheFastestUnitAtTheHighestMode) {
  estimator::SimulatorPredictor sim;
  EXPECT_EQ(HighestMode(sim.info()).name, "MAXN");
  TenantSpec t;
  t.name = "cam";
  t.family = "resnet";
  t.variants = {"resnet50", "resnet152"};
  t.slo_p95 = Milliseconds{50};
  t.rate_rps = 1;
  StatusOr<AloneBest> b = BestAlone(t, 1, sim.info(), sim);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->model, "resnet50");
  EXPECT_EQ(b->unit, "GPU");
  EXPECT_FALSE(b->saturated);
  EXPECT_GT(b->latency_p95.value(), 0.5);
  EXPECT_LT(b->latency_p95.value(), 5);  // xavier-sim: ResNet-50 INT8 ~2 ms on the GPU
  // mobilenet: v3_large has fewer MACs than v2 (see zoo/model.h).
  EXPECT_EQ(LightestVariant({"mobilenet_v2", "mobilenet_v3_large"})->name, "mobilenet_v3_large");
}

TEST(Scenario, LoadsTheShippedDefault) {
  StatusOr<Scenario> s = LoadScenario(std::string(ECOMAP_SOURCE_DIR) + "/data/scenarios/default.toml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "default");
  ASSERT_EQ(s->tenants.size(), 4u);
  bool text = false, vision = false;
  for (const ScenarioTenant& t : s->tenants) {
    if (t.spec.family == "bert") text = true;
    if (t.spec.family == "resnet" || t.spec.family == "efficientnet") vision = true;
  }
  EXPECT_TRUE(text && vision);
  EXPECT_EQ(DefaultScenarioPath(), std::string(ECOMAP_DATA_DIR) + "/scenarios/default.toml");
}

TEST(Scenario, LoadNamesAMissingFile) {
  StatusOr<Scenario> s = LoadScenario("/nonexistent/dir/scn.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("/nonexistent/dir/scn.toml"), std::string::npos);
}

TEST(ValidateTenants, RejectsBadSpecs) {
  TenantSpec good;
  good.name = "a";
  good.family = "resnet";
  good.slo_p95 = Milliseconds{10};
  good.rate_rps = 5;
  struct Case {
    const char* what;
    std::vector<TenantSpec> tenants;
    const char* expect;
  };
  auto with = [&](auto f) {
    TenantSpec t = good;
    f(t);
    return t;
  };
  std::vector<Case> cases = {
      {"empty", {}, "no tenants"},
      {"dup", {good, good}, "duplicate"},
      {"family", {with([](TenantSpec& t) { t.family = "nope"; })}, "unknown model family 'nope'"},
      {"variant", {with([](TenantSpec& t) { t.variants = {"bert_tiny"}; })}, "belongs to family 'bert'"},
      {"model", {with([](TenantSpec& t) { t.variants = {"resnet9"}; })}, "unknown model 'resnet9'"},
      {"slo", {with([](TenantSpec& t) { t.slo_p95 = Milliseconds{0}; })}, "slo_ms = 0"},
      {"rate", {with([](TenantSpec& t) { t.rate_rps = 0; })}, "rate_rps = 0"},
      {"closed", {with([](TenantSpec& t) {
         t.arrival = platform::ArrivalKind::kClosedLoop;
         t.concurrency = 0;
       })},
       "concurrency = 0"},
  };
  for (const Case& c : cases) {
    Status s = ValidateTenants(c.tenants);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << c.what << ": " << s.message();
  }
  EXPECT_TRUE(ValidateTenants({good}).ok());
}

}  // namespace
}  // namespace ecomap::policy
