#include "engine/spec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "engine/stats.h"

namespace ecomap::engine {
namespace {

// Two small catalogue entries standing in for the zoo (validation only needs block counts).
zoo::ModelInfo MakeModel(const std::string& name, int blocks) {
  zoo::ModelInfo m;
  m.name = name;
  m.family = "test";
  for (int i = 0; i < blocks; ++i) m.blocks.push_back({"b" + std::to_string(i)});
  return m;
}
const zoo::ModelInfo kTen = MakeModel("ten", 10);
const zoo::ModelInfo kFour = MakeModel("four", 4);
const zoo::ModelInfo* Find(const std::string& n) {
  if (n == "ten") return &kTen;
  if (n == "four") return &kFour;
  return nullptr;
}
const std::vector<UnitInfo> kUnits = {{"cpu0", 0}, {"cpu1", 1}};

TEST(ParseTenantsSpec, AcceptsDocumentedForms) {
  auto t = ParseTenantsSpec("ten@cpu0,rate=20,slo=100;four@0-2:cpu0|2-:cpu1,closed=2;ten@cpu1", 7);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 3u);
  const PipelineSpec& a = (*t)[0];
  EXPECT_EQ(a.name, "ten");
  EXPECT_EQ(a.model, "ten");
  EXPECT_EQ(a.source.kind, SourceSpec::Kind::kPoisson);
  EXPECT_DOUBLE_EQ(a.source.rate_rps, 20);
  EXPECT_DOUBLE_EQ(a.slo.latency_bound.value(), 100);
  EXPECT_EQ(a.seed, 7u);
  ASSERT_EQ(a.stages.size(), 1u);
  EXPECT_EQ(a.stages[0], (StageSpec{0, StageSpec::kToEnd, "cpu0"}));
  const PipelineSpec& b = (*t)[1];
  EXPECT_EQ(b.source.kind, SourceSpec::Kind::kClosed);
  EXPECT_EQ(b.source.outstanding, 2);
  ASSERT_EQ(b.stages.size(), 2u);
  EXPECT_EQ(b.stages[0], (StageSpec{0, 2, "cpu0"}));
  EXPECT_EQ(b.stages[1], (StageSpec{2, StageSpec::kToEnd, "cpu1"}));
  EXPECT_EQ(b.seed, 8u);
  EXPECT_EQ((*t)[2].name, "ten-2");  // repeated model: suffixed name
  EXPECT_EQ((*t)[2].source.kind, SourceSpec::Kind::kClosed);  // default closed=1
  EXPECT_EQ((*t)[2].source.outstanding, 1);
}

TEST(ParseTenantsSpec, OptionsAndRoundTrip) {
  auto t = ParseTenantsSpec(" four @ 1-:cpu1 | -1:cpu0 , name=cam, pct=99, min_rps=3.5, queue=8, seed=42 ;");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 1u);
  const PipelineSpec& a = (*t)[0];
  EXPECT_EQ(a.name, "cam");
  EXPECT_EQ(a.model, "four");
  EXPECT_DOUBLE_EQ(a.slo.percentile, 99);
  EXPECT_DOUBLE_EQ(a.slo.min_throughput_rps, 3.5);
  EXPECT_EQ(a.queue_capacity, 8);
  EXPECT_EQ(a.seed, 42u);
  EXPECT_EQ(a.stages[1], (StageSpec{0, 1, "cpu0"}));
  auto again = ParseTenantsSpec(FormatTenant(a));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ((*again)[0], a);
}

TEST(ParseTenantsSpec, SyntaxErrorsNameTheToken) {
  struct Case { const char* spec; const char* fragment; };
  const Case cases[] = {
      {"ten", "missing '@'"},
      {"@cpu0", "no model name"},
      {"ten@", "no unit"},
      {"ten@cpu0;;four@cpu0", "tenant 2 is empty"},
      {"ten@0-5:cpu0|cpu1", "stage 'cpu1' has no block range"},
      {"ten@05:cpu0|5-:cpu1", "'05' is not BEGIN-END"},
      {"ten@a-5:cpu0|5-:cpu1", "begin 'a'"},
      {"ten@0-x:cpu0|5-:cpu1", "end 'x'"},
      {"ten@0-5:|5-:cpu1", "no unit after ':'"},
      {"ten@cpu0,rate", "'rate' is not KEY=VALUE"},
      {"ten@cpu0,rate=fast", "rate='fast'"},
      {"ten@cpu0,closed=1.5", "closed='1.5'"},
      {"ten@cpu0,slo=", "slo=''"},
      {"ten@cpu0,color=red", "unknown option 'color'"},
      {"ten@cpu0,rate=1,rate=2", "'rate' given twice"},
      {"ten@cpu0,rate=1,closed=2", "not both"},
      {"ten@cpu0,seed=-1", "seed='-1'"},
  };
  for (const Case& c : cases) {
    auto t = ParseTenantsSpec(c.spec);
    ASSERT_FALSE(t.ok()) << c.spec;
    EXPECT_NE(t.status().message().find(c.fragment), std::string::npos)
        << c.spec << " -> " << t.status().message();
  }
}

TEST(ValidateEngineSpec, AcceptsAndResolvesEnds) {
  auto t = ParseTenantsSpec("ten@0-4:cpu0|4-:cpu1,rate=5;four@cpu1");
  ASSERT_TRUE(t.ok());
  EngineSpec spec{{}, *t};
  ASSERT_TRUE(ValidateEngineSpec(spec, Find, kUnits).ok());
  EXPECT_EQ(spec.tenants[0].stages[1].end, 10);
  EXPECT_EQ(spec.tenants[1].stages[0].end, 4);
}

TEST(ValidateEngineSpec, RejectsEachBadValueByName) {
  struct Case { const char* spec; const char* fragment; StatusCode code; };
  const Case cases[] = {
      {"resnet19@cpu0", "unknown model 'resnet19'", StatusCode::kNotFound},
      {"ten@0-0:cpu0|0-:cpu1", "empty block range", StatusCode::kInvalidArgument},
      {"ten@0-5:cpu0|4-:cpu1", "overlaps the previous stage", StatusCode::kInvalidArgument},
      {"ten@0-4:cpu0|5-:cpu1", "blocks 4-5 are not covered", StatusCode::kInvalidArgument},
      {"ten@1-:cpu0", "blocks 0-1 are not covered", StatusCode::kInvalidArgument},
      {"ten@0-8:cpu0", "stages end at block 8 but ten has 10 blocks", StatusCode::kInvalidArgument},
      {"ten@0-11:cpu0", "range outside the model's blocks 0-10", StatusCode::kInvalidArgument},
      {"ten@5-:cpu0|0-5:cpu1", "blocks 0-5 are not covered", StatusCode::kInvalidArgument},
      {"ten@cpu7", "unit 'cpu7' does not exist; units: cpu0, cpu1", StatusCode::kNotFound},
      {"ten@cpu0,rate=0", "rate 0 requests/s must be > 0", StatusCode::kInvalidArgument},
      {"ten@cpu0,rate=-3", "rate -3 requests/s must be > 0", StatusCode::kInvalidArgument},
      {"ten@cpu0,closed=0", "closed=0 must be >= 1", StatusCode::kInvalidArgument},
      {"ten@cpu0,slo=0", "SLO latency 0 ms must be > 0", StatusCode::kInvalidArgument},
      {"ten@cpu0,pct=100", "percentile 100 must be in (0, 100)", StatusCode::kInvalidArgument},
      {"ten@cpu0,min_rps=-1", "min_rps -1 must be >= 0", StatusCode::kInvalidArgument},
      {"ten@cpu0,queue=0", "queue=0 must be >= 1", StatusCode::kInvalidArgument},
      {"ten@cpu0,closed=9,queue=4", "closed=9 exceeds queue=4", StatusCode::kInvalidArgument},
      {"ten@cpu0,name=a;four@cpu1,name=a", "two tenants are named 'a'", StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto t = ParseTenantsSpec(c.spec);
    ASSERT_TRUE(t.ok()) << c.spec << ": " << t.status().message();
    EngineSpec spec{{}, *t};
    Status s = ValidateEngineSpec(spec, Find, kUnits);
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(s.code(), c.code) << c.spec << " -> " << s.ToString();
    EXPECT_NE(s.message().find(c.fragment), std::string::npos) << c.spec << " -> " << s.message();
  }
}

TEST(ValidateEngineSpec, OnlineUnits) {
  auto t = ParseTenantsSpec("ten@cpu1");
  ASSERT_TRUE(t.ok());
  EngineSpec offline{{"cpu0"}, *t};
  Status s = ValidateEngineSpec(offline, Find, kUnits);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("unit 'cpu1' is offline"), std::string::npos) << s.message();
  EngineSpec unknown{{"cpu0", "gpu"}, *t};
  EXPECT_NE(ValidateEngineSpec(unknown, Find, kUnits).message().find("online unit 'gpu' does not exist"),
            std::string::npos);
  EngineSpec dup{{"cpu1", "cpu1"}, *t};
  EXPECT_FALSE(ValidateEngineSpec(dup, Find, kUnits).ok());
  EngineSpec ok{{"cpu1"}, *t};
  EXPECT_TRUE(ValidateEngineSpec(ok, Find, kUnits).ok());
}

TEST(EngineSpecJson, RoundTripAndErrors) {
  auto t = ParseTenantsSpec("ten@0-4:cpu0|4-10:cpu1,rate=5,name=cam;four@cpu1,closed=3,slo=50");
  ASSERT_TRUE(t.ok());
  EngineSpec spec{{"cpu0", "cpu1"}, *t};
  auto back = EngineSpecFromJson(ToJson(spec), "test");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->online_units, spec.online_units);
  ASSERT_EQ(back->tenants.size(), 2u);
  EXPECT_EQ(back->tenants[0], spec.tenants[0]);
  EXPECT_EQ(back->tenants[1], spec.tenants[1]);

  // A bare array, defaults filled in.
  auto arr = EngineSpecFromJson(nlohmann::json::parse(
      R"([{"model":"four","stages":[{"begin":0,"unit":"cpu0"}]}])"), "arr.json", 3);
  ASSERT_TRUE(arr.ok()) << arr.status().message();
  EXPECT_EQ(arr->tenants[0].name, "four");
  EXPECT_EQ(arr->tenants[0].seed, 3u);
  EXPECT_EQ(arr->tenants[0].stages[0].end, StageSpec::kToEnd);

  struct Case { const char* json; const char* fragment; };
  const Case cases[] = {
      {R"(42)", "expected {\"tenants\""},
      {R"({"tenants":[],"extra":1})", "unknown key 'extra'"},
      {R"([{"stages":[]}])", "missing 'model'"},
      {R"([{"model":"ten"}])", "'stages' must be an array"},
      {R"([{"model":"ten","stages":[{"begin":"0","unit":"cpu0"}]}])", "'begin' must be a number"},
      {R"([{"model":"ten","stages":[{"begin":0.5,"unit":"cpu0"}]}])", "'begin' must be a whole number"},
      {R"([{"model":"ten","stages":[{"unit":"cpu0"}],"source":{"kind":"burst"}}])", "neither"},
      {R"([{"model":"ten","stages":[{"unit":"cpu0"}],"source":{"kind":"poisson"}}])", "needs 'rate_rps'"},
      {R"([{"model":"ten","stages":[{"unit":"cpu0"}],"seed":-2}])", "'seed' must be >= 0"},
      {R"([{"model":"ten","stages":[{"unit":"cpu0"}],"slo":{"p95":3}}])", "unknown key 'p95'"},
  };
  for (const Case& c : cases) {
    auto s = EngineSpecFromJson(nlohmann::json::parse(c.json), "f.json");
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_NE(s.status().message().find(c.fragment), std::string::npos) << c.json << " -> " << s.status().message();
  }
}

TEST(EngineSpecJson, LoadsFile) {
  std::string path = ::testing::TempDir() + "/engine_spec_test.json";
  {
    std::ofstream out(path);
    out << R"({"tenants":[{"model":"ten","stages":[{"begin":0,"end":3,"unit":"cpu0"},{"begin":3,"end":-1,"unit":"cpu1"}],"source":{"kind":"poisson","rate_rps":12.5}}]})";
  }
  auto s = LoadEngineSpecFile(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_DOUBLE_EQ(s->tenants[0].source.rate_rps, 12.5);
  ASSERT_TRUE(ValidateEngineSpec(*s, Find, kUnits).ok());
  EXPECT_EQ(s->tenants[0].stages[1].end, 10);
  std::remove(path.c_str());
  EXPECT_EQ(LoadEngineSpecFile(path).status().code(), StatusCode::kNotFound);
  {
    std::ofstream out(path);
    out << "{not json";
  }
  EXPECT_NE(LoadEngineSpecFile(path).status().message().find("not valid JSON"), std::string::npos);
  std::remove(path.c_str());
}

TEST(HostUnits, ListsTheCoresOfThisProcess) {
  std::vector<UnitInfo> u = HostUnits();
  ASSERT_FALSE(u.empty());
  for (const UnitInfo& x : u) EXPECT_EQ(x.name, "cpu" + std::to_string(x.cpu_id));
}

// ---- statistics ----

TEST(Percentiles, NearestRankOnKnownSamples) {
  struct Case { std::vector<double> v; double p; double want; };
  const Case cases[] = {
      {{5}, 50, 5}, {{1, 2, 3, 4}, 50, 2}, {{1, 2, 3, 4}, 75, 3}, {{1, 2, 3, 4}, 76, 4},
      {{4, 3, 2, 1}, 100, 4}, {{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 95, 100},
      {{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 90, 90}, {{}, 50, 0},
  };
  for (Case c : cases) EXPECT_DOUBLE_EQ(ExactPercentile(c.v, c.p), c.want);
}

TEST(LatencyHistogram, WithinHalfAPercentOfExact) {
  LatencyHistogram h;
  std::vector<double> exact;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    double ms = 0.05 + static_cast<double>(x % 1000000) / 1000.0 * (i % 3 == 0 ? 10 : 1);
    h.Add(Milliseconds(ms));
    exact.push_back(ms);
  }
  LatencySummary s = h.Summary();
  LatencySummary e = SummarizeExact(exact);
  EXPECT_EQ(s.count, e.count);
  EXPECT_DOUBLE_EQ(s.min_ms, e.min_ms);
  EXPECT_DOUBLE_EQ(s.max_ms, e.max_ms);
  EXPECT_NEAR(s.mean_ms, e.mean_ms, 1e-9 * e.mean_ms);
  EXPECT_NEAR(s.p50_ms, e.p50_ms, 0.005 * e.p50_ms);
  EXPECT_NEAR(s.p95_ms, e.p95_ms, 0.005 * e.p95_ms);
  EXPECT_NEAR(s.p99_ms, e.p99_ms, 0.005 * e.p99_ms);
  h.Clear();
  EXPECT_EQ(h.Summary().count, 0u);
  EXPECT_EQ(h.Percentile(95), 0);
}

}  // namespace
}  // namespace ecomap::engine
