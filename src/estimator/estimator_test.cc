// Tests of the torch-free half of the estimator: decomposition, the analytic baseline, the
// simulator oracle, metrics, splits, online correction, the model-file container, features,
// the conformal p95 bound.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "estimator/analytic.h"
#include "estimator/conformal.h"
#include "estimator/correction.h"
#include "estimator/features.h"
#include "estimator/metrics.h"
#include "estimator/model_file.h"
#include "estimator/pipeline.h"
#include "estimator/simulator_predictor.h"
#include "estimator/testing.h"
#include "profiler/dataset.h"

namespace ecomap::estimator {
namespace {

using platform::ArrivalKind;
using platform::Configuration;
using platform::Stage;
using platform::TenantConfig;

Configuration TwoTenants() {
  Configuration c;
  c.power_mode = 2;
  c.tenants.push_back(TenantConfig{.name = "cam", .model = "resnet50", .stages = {{0, 3, "DLA0"}, {3, 7, "GPU"}},
                                   .arrival = ArrivalKind::kOpenLoop, .rate_rps = 20});
  c.tenants.push_back(TenantConfig{.name = "nlp", .model = "bert_tiny", .stages = {{0, 4, "CPU"}}});
  return c;
}

TEST(Decomposer, StagesFallbackAndClocks) {
  platform::PlatformInfo info = platform::XavierSim::MakeInfo();
  Decomposer d(info, {});
  ConfigView v;
  ASSERT_TRUE(d.Decompose(TwoTenants(), &v).ok());
  ASSERT_EQ(v.tenants.size(), 2u);
  ASSERT_EQ(v.stages.size(), 3u);
  EXPECT_EQ(v.stages[0].unit, d.UnitIndex("DLA0"));
  EXPECT_EQ(v.stages[2].unit, d.UnitIndex("CPU"));
  EXPECT_EQ(v.tenants[1].first_stage, 2);
  // Every FLOP of the model is accounted for exactly once.
  const zoo::ModelInfo* m = zoo::FindModel("resnet50");
  double total = 0;
  for (int s = 0; s < 2; ++s) {
    for (double f : v.stages[static_cast<size_t>(s)].native.flops) total += f;
    for (double f : v.stages[static_cast<size_t>(s)].fallback.flops) total += f;
  }
  EXPECT_NEAR(total, m->TotalFlops(), 1e-6 * m->TotalFlops());
  // Clocks are the mode's caps.
  const platform::PowerMode* mode = info.FindMode(2);
  EXPECT_DOUBLE_EQ(v.mhz[static_cast<size_t>(d.UnitIndex("GPU"))], mode->max_frequency_mhz.at("GPU"));
  // A transfer at the DLA -> GPU cut at least.
  EXPECT_GE(v.tenants[0].transfers, 1);
}

TEST(Decomposer, BadConfigurationsNameTheProblem) {
  struct Case {
    const char* name;
    std::function<void(Configuration&)> mutate;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"mode", [](Configuration& c) { c.power_mode = 42; }, "power mode 42"},
      {"model", [](Configuration& c) { c.tenants[0].model = "resnet9000"; }, "resnet9000"},
      {"unit", [](Configuration& c) { c.tenants[1].stages[0].unit = "TPU"; }, "TPU"},
      {"gap", [](Configuration& c) { c.tenants[0].stages[1].begin_block = 4; }, "contiguous"},
      {"short", [](Configuration& c) { c.tenants[0].stages[1].end_block = 6; }, "last stage must end"},
      {"rate", [](Configuration& c) { c.tenants[0].rate_rps = -1; }, "rate_rps"},
      {"none", [](Configuration& c) { c.tenants.clear(); }, "no tenants"},
  };
  Decomposer d(platform::XavierSim::MakeInfo(), {});
  for (const Case& k : cases) {
    Configuration c = TwoTenants();
    k.mutate(c);
    ConfigView v;
    Status s = d.Decompose(c, &v);
    EXPECT_FALSE(s.ok()) << k.name;
    EXPECT_NE(s.message().find(k.expect), std::string::npos) << k.name << ": " << s.message();
  }
}

class AnalyticTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    train_ = new std::vector<profiler::Sample>(testing::SimulatedSamples(1500, 11));
    test_ = new std::vector<profiler::Sample>(testing::SimulatedSamples(300, 12));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete test_;
  }
  static std::vector<profiler::Sample>* train_;
  static std::vector<profiler::Sample>* test_;
};
std::vector<profiler::Sample>* AnalyticTest::train_ = nullptr;
std::vector<profiler::Sample>* AnalyticTest::test_ = nullptr;

TEST_F(AnalyticTest, FitsTheSimulatorReasonably) {
  ASSERT_GT(train_->size(), 1400u);
  auto m = AnalyticModel::Fit(platform::XavierSim::MakeInfo(), testing::Pointers(*train_));
  ASSERT_TRUE(m.ok()) << m.status().message();
  AnalyticPredictor p(*m);
  std::vector<Configuration> configs;
  for (const auto& s : *test_) configs.push_back(s.config);
  auto r = p.PredictBatch(configs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EvalReport e = Score(*r, testing::Pointers(*test_));
  // xavier-sim is a request-level simulation that shares no queueing formula with this baseline
  // (time-sliced GPU contexts, EMC contention at job start, processor-shared CPU): the baseline's
  // contention terms are only an approximation of it. Measured on this fixture: p50 28.6%, p95
  // 33.6%, throughput 172% (saturated pipelines), power 3.6%; the bounds below catch a broken fit
  // (a fit that learned nothing is several hundred percent off), not a close one.
  EXPECT_LT(e.latency_p50.mape, 45.0);
  EXPECT_LT(e.latency_p95.mape, 50.0);
  EXPECT_LT(e.power.mape, 5.0);
  EXPECT_GT(e.power.r2, 0.9);
  // Lone closed-loop tenants have no queueing: the service table alone should be close.
  std::vector<const profiler::Sample*> lone;
  std::vector<platform::Performance> lone_pred;
  for (size_t i = 0; i < test_->size(); ++i) {
    const auto& s = (*test_)[i];
    if (s.config.tenants.size() == 1 && s.config.tenants[0].arrival == ArrivalKind::kClosedLoop) {
      lone.push_back(&s);
      lone_pred.push_back((*r)[i]);
    }
  }
  ASSERT_GT(lone.size(), 10u);
  EXPECT_LT(Score(lone_pred, lone).latency_p50.mape, 25.0);
}

TEST_F(AnalyticTest, ClosedTenantsOnOneUnitTakeTurns) {
  auto m = AnalyticModel::Fit(platform::XavierSim::MakeInfo(), testing::Pointers(*train_));
  ASSERT_TRUE(m.ok());
  AnalyticPredictor p(*m);
  // k identical closed tenants with one request each share one unit. With D the fitted service
  // on the unit and Z the fitted delay outside it (request overhead, kernel launches the fit
  // put outside), any work-conserving sharing keeps each tenant's throughput between the
  // asymptotic bounds 1 / (kD + Z) and min(1 / (D + Z), 1 / (kD)), and latency grows with k.
  Configuration alone;
  alone.power_mode = 0;
  alone.tenants.push_back(TenantConfig{.name = "a", .model = "resnet50", .stages = {{0, 7, "GPU"}}});
  auto one = p.Predict(alone);
  ASSERT_TRUE(one.ok()) << one.status().message();
  ConfigView view;
  AnalyticEstimate est;
  ASSERT_TRUE(m->Estimate(alone, &view, &est).ok());
  ASSERT_EQ(est.stage_service_s.size(), 1u);
  const double d = est.stage_service_s[0], z = est.tenants[0].fixed_s - d;
  ASSERT_GT(d, 0);
  ASSERT_GE(z, 0);
  EXPECT_NEAR(one->tenants[0].throughput_rps, 1.0 / (d + z), 0.02 / (d + z));
  double previous_p50 = one->tenants[0].latency_p50.value();
  for (int k : {2, 3, 4}) {
    Configuration c = alone;
    for (int i = 1; i < k; ++i) c.tenants.push_back(alone.tenants[0]);
    auto r = p.Predict(c);
    ASSERT_TRUE(r.ok());
    for (const auto& t : r->tenants) {
      EXPECT_GE(t.throughput_rps, 0.98 / (k * d + z)) << k;
      EXPECT_LE(t.throughput_rps, 1.02 * std::min(1.0 / (d + z), 1.0 / (k * d))) << k;
      EXPECT_GT(t.latency_p50.value(), 1.05 * previous_p50) << k;
    }
    previous_p50 = r->tenants[0].latency_p50.value();
  }
  Configuration open = alone;
  open.tenants[0].arrival = ArrivalKind::kOpenLoop;
  open.tenants[0].rate_rps = 5;
  auto o1 = p.Predict(open);
  open.tenants.push_back(alone.tenants[0]);
  auto o2 = p.Predict(open);
  ASSERT_TRUE(o1.ok() && o2.ok());
  // An open tenant is not faster beside a closed load (1.3x slower when the fit picked queueing
  // stations on the analytic simulator; on the request-level one the fit picks the threads
  // discipline with no stretch term left for this light open load: measured 1.00x).
  EXPECT_GE(o2->tenants[0].latency_p95.value(), 0.999 * o1->tenants[0].latency_p95.value());
}

TEST_F(AnalyticTest, JsonRoundTripPredictsTheSame) {
  platform::PlatformInfo info = platform::XavierSim::MakeInfo();
  auto m = AnalyticModel::Fit(info, testing::Pointers(*train_));
  ASSERT_TRUE(m.ok());
  auto back = AnalyticModel::FromJson(nlohmann::json::parse(m->ToJson().dump()), info);
  ASSERT_TRUE(back.ok()) << back.status().message();
  AnalyticPredictor a(*m), b(*back);
  auto ra = a.Predict((*test_)[0].config), rb = b.Predict((*test_)[0].config);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_DOUBLE_EQ(ra->power.value(), rb->power.value());
  EXPECT_DOUBLE_EQ(ra->tenants[0].latency_p95.value(), rb->tenants[0].latency_p95.value());
  EXPECT_EQ(back->sharing(), m->sharing());
  nlohmann::json bad = m->ToJson();
  bad["service"] = std::vector<double>{1, 2};
  auto r = AnalyticModel::FromJson(bad, info);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("service"), std::string::npos);
  bad = m->ToJson();
  bad["sharing"] = "fifo";
  r = AnalyticModel::FromJson(bad, info);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("analytic.sharing is 'fifo'"), std::string::npos) << r.status().message();
  // A model file from before the sharing discipline was fitted reads as queueing stations.
  nlohmann::json old = m->ToJson();
  old.erase("sharing");
  old.erase("h50");
  old.erase("h95");
  old.erase("open");
  auto o = AnalyticModel::FromJson(old, info);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->sharing(), Sharing::kQueue);
}

TEST_F(AnalyticTest, NamesTheWorkItsTrainingDataNeverTimed) {
  platform::PlatformInfo info = platform::XavierSim::MakeInfo();
  profiler::SamplerOptions vision;
  vision.models = {"resnet18", "mobilenet_v2"};
  std::vector<profiler::Sample> samples = testing::SimulatedSamples(400, 5, vision);
  auto m = AnalyticModel::Fit(info, testing::Pointers(samples));
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<std::string> missing = m->UncoveredModels({"resnet18", "bert_mini", "no_such_model"});
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].rfind("bert_mini (", 0), 0u) << missing[0];
  EXPECT_NE(missing[0].find("attention blocks on GPU"), std::string::npos) << missing[0];
  EXPECT_EQ(missing[1], "no_such_model (not a known model)");
  // The record survives the model file; files from before it cover everything.
  auto back = AnalyticModel::FromJson(nlohmann::json::parse(m->ToJson().dump()), info);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->UncoveredModels({"bert_mini"}).size(), 1u);
  nlohmann::json old = m->ToJson();
  old.erase("observed");
  auto o = AnalyticModel::FromJson(old, info);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->UncoveredModels({"bert_mini"}).empty());
  old["observed"] = std::vector<int>{1, 0};
  o = AnalyticModel::FromJson(old, info);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("analytic.observed has 2 entries"), std::string::npos) << o.status().message();
  // Trained on every model, nothing is missing.
  auto all = AnalyticModel::Fit(info, testing::Pointers(*train_));
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->UncoveredModels({"resnet18", "bert_mini"}).empty());
}

TEST_F(AnalyticTest, FitRejectsUnusableData) {
  EXPECT_FALSE(AnalyticModel::Fit(platform::XavierSim::MakeInfo(), {}).ok());
}

TEST_F(AnalyticTest, FeaturesArePaddedAndPooled) {
  auto m = AnalyticModel::Fit(platform::XavierSim::MakeInfo(), testing::Pointers(*train_));
  ASSERT_TRUE(m.ok());
  Featurizer f(*m);
  std::vector<Configuration> configs = {TwoTenants(), (*test_)[0].config, (*test_)[1].config};
  TokenBatch b;
  ASSERT_TRUE(f.Build(configs, &b).ok());
  EXPECT_EQ(b.features, f.num_features());
  EXPECT_EQ(b.batch, 3);
  EXPECT_EQ(b.x.size(), static_cast<size_t>(b.batch * b.max_tokens * b.features));
  for (int c = 0; c < b.batch; ++c) {
    int real = 0;
    for (int s = 0; s < b.max_tokens; ++s) real += b.padding[static_cast<size_t>(c * b.max_tokens + s)] == 0;
    int stages = 0;
    for (const auto& t : configs[static_cast<size_t>(c)].tenants) stages += static_cast<int>(t.stages.size());
    EXPECT_EQ(real, stages);
    for (int t = 0; t < b.max_tenants; ++t) {
      float sum = 0;
      for (int s = 0; s < b.max_tokens; ++s) sum += b.pool[static_cast<size_t>((c * b.max_tenants + t) * b.max_tokens + s)];
      const bool valid = t < static_cast<int>(configs[static_cast<size_t>(c)].tenants.size());
      EXPECT_NEAR(sum, valid ? 1.0f : 0.0f, 1e-5);
    }
  }
  for (float v : b.x) EXPECT_TRUE(std::isfinite(v));
  configs[1].tenants[0].model = "nope";
  Status s = f.Build(configs, &b);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("configuration 1"), std::string::npos) << s.message();
}

TEST_F(AnalyticTest, HintsCarryBothSharingDisciplines) {
  auto m = AnalyticModel::Fit(platform::XavierSim::MakeInfo(), testing::Pointers(*train_));
  ASSERT_TRUE(m.ok());
  // One closed-loop tenant alone: nothing to share, no wait under either discipline.
  Configuration alone;
  alone.power_mode = 2;
  alone.tenants.push_back(TenantConfig{.name = "a", .model = "resnet50", .stages = {{0, 7, "GPU"}}});
  ConfigView v;
  ASSERT_TRUE(m->decomposer().Decompose(alone, &v).ok());
  AnalyticEstimate e;
  m->EstimateWithHints(v, &e);
  EXPECT_NEAR(e.tenants[0].alt_stretch_s + e.tenants[0].alt_queue_s, 0.0, 1e-3 * e.tenants[0].fixed_s);
  EXPECT_NEAR(e.tenants[0].alt_throughput_rps, e.tenants[0].throughput_rps, 1e-6 * e.tenants[0].throughput_rps);
  // A busy open loop beside it on the same unit: the other discipline sees contention too, and
  // Estimate alone leaves the hints at zero.
  Configuration shared = alone;
  shared.tenants.push_back(TenantConfig{.name = "b", .model = "resnet50", .stages = {{0, 7, "GPU"}},
                                        .arrival = ArrivalKind::kOpenLoop,
                                        .rate_rps = 0.5 * e.tenants[0].throughput_rps});
  ASSERT_TRUE(m->decomposer().Decompose(shared, &v).ok());
  m->EstimateWithHints(v, &e);
  const auto& a = e.tenants[0];
  EXPECT_GT(a.alt_stretch_s + a.alt_queue_s, 0.05 * a.fixed_s);
  EXPECT_GT(a.stretch_s + a.queue_s, 0.05 * a.fixed_s);
  // The hints are the OTHER discipline's: one queue and one time-slicing solve, and only the
  // time-slicing one (threads) has a stretch.
  EXPECT_NE(a.stretch_s == 0.0, a.alt_stretch_s == 0.0) << a.stretch_s << " / " << a.alt_stretch_s;
  EXPECT_GT(m->sharing() == Sharing::kThreads ? a.stretch_s : a.alt_stretch_s, 0.0);
  AnalyticEstimate plain;
  m->Estimate(v, &plain);
  EXPECT_EQ(plain.tenants[0].alt_stretch_s + plain.tenants[0].alt_queue_s, 0.0);
  EXPECT_DOUBLE_EQ(plain.tenants[0].latency_p95_s, a.latency_p95_s);
}

TEST(SimulatorPredictor, MatchesTheSimulatorAndNamesBadConfigurations) {
  SimulatorPredictor oracle;
  platform::XavierSim sim;
  std::vector<Configuration> configs = {TwoTenants(), TwoTenants()};
  configs[1].power_mode = 0;
  auto r = oracle.PredictBatch(configs);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1], *sim.Predict(configs[1]));
  configs[1].power_mode = 99;
  auto bad = oracle.PredictBatch(configs);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("configuration 1"), std::string::npos);
}

platform::Performance Perf(std::vector<double> p95, double power, bool saturated_first = false) {
  platform::Performance p;
  p.power = Watts(power);
  for (size_t i = 0; i < p95.size(); ++i) {
    platform::TenantPerformance t;
    t.latency_p50 = Milliseconds(p95[i] / 2);
    t.latency_p95 = Milliseconds(p95[i]);
    t.throughput_rps = 10;
    t.saturated = saturated_first && i == 0;
    p.tenants.push_back(t);
  }
  return p;
}

TEST(Metrics, MapeR2AndSaturationExclusion) {
  std::vector<profiler::Sample> truth(3);
  truth[0].result = Perf({10, 20}, 10);
  truth[1].result = Perf({40}, 20);
  truth[2].result = Perf({1000, 30}, 30, /*saturated_first=*/true);
  std::vector<platform::Performance> pred = {Perf({11, 20}, 11), Perf({40}, 20), Perf({1, 33}, 30)};
  truth[0].config.tenants.resize(2);
  truth[0].config.tenants[0].arrival = platform::ArrivalKind::kOpenLoop;  // the others: closed loop
  EvalReport r = Score(pred, testing::Pointers(truth));
  EXPECT_EQ(r.samples, 3);
  EXPECT_EQ(r.saturated, 1);
  EXPECT_EQ(r.latency_p95.count, 4);  // the saturated tenant's 1 vs 1000 is left out
  EXPECT_NEAR(r.latency_p95.mape, 100.0 * (0.1 + 0 + 0 + 0.1) / 4, 1e-9);
  EXPECT_NEAR(r.power.mape, 100.0 * (0.1 / 3), 1e-9);
  EXPECT_NEAR(r.saturation_accuracy, 4.0 / 5.0, 1e-9);  // predicted flags are all false
  ASSERT_EQ(r.by_tenants.size(), 2u);
  EXPECT_EQ(r.by_tenants.at(1).samples, 1);
  EXPECT_DOUBLE_EQ(r.by_tenants.at(1).power.mape, 0.0);
  // By arrival: the one open-loop tenant (11 vs 10) and the four closed-loop ones.
  ASSERT_EQ(r.by_arrival.size(), 2u);
  EXPECT_EQ(r.by_arrival.at("open").latency_p95.count, 1);
  EXPECT_NEAR(r.by_arrival.at("open").latency_p95.mape, 10.0, 1e-9);
  EXPECT_EQ(r.by_arrival.at("open").samples, 1);
  EXPECT_EQ(r.by_arrival.at("closed").tenants, 4);
  EXPECT_EQ(r.by_arrival.at("closed").saturated, 1);
  EXPECT_EQ(r.by_arrival.at("closed").latency_p95.count, 3);
  EXPECT_NEAR(r.by_arrival.at("closed").latency_p95.mape, 10.0 / 3, 1e-9);
  EXPECT_EQ(r.by_arrival.at("closed").power.count, 0);
  EvalReport perfect = Score({truth[0].result, truth[1].result}, {&truth[0], &truth[1]});
  EXPECT_DOUBLE_EQ(perfect.latency_p95.r2, 1.0);
  nlohmann::json j = ReportToJson(r);
  for (const char* k : {"latency_p95_mape", "throughput_mape", "power_mape", "samples", "by_tenants", "by_arrival"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
}

TEST(Metrics, RepeatFloorScoresEachMeasurementByTheMedianOfTheOthers) {
  auto sim = testing::SimulatedSamples(3, 9);
  ASSERT_EQ(sim.size(), 3u);
  // Configuration A measured three times (p95 90, 100, 130 ms), B twice, C once (no group).
  std::vector<profiler::Sample> v;
  auto add = [&](size_t which, double p95, double power) {
    profiler::Sample s = sim[which];
    s.result = Perf(std::vector<double>(s.config.tenants.size(), p95), power);
    v.push_back(s);
  };
  add(0, 90, 10);
  add(0, 100, 10);
  add(0, 130, 10);
  add(1, 50, 20);
  add(1, 50, 20);
  add(2, 77, 7);
  RepeatFloor f = MeasurementRepeatFloor(testing::Pointers(v));
  EXPECT_EQ(f.groups, 2);
  EXPECT_EQ(f.report.samples, 5);
  // Leave one out: 90 is predicted by median(100, 130) = 115, 100 by median(90, 130) = 110,
  // 130 by median(90, 100) = 95 (errors 25/90, 10/100, 35/130 on every tenant; B's are 0). The
  // in-sample median (100) would have scored 10/90, 0, 30/130: optimistic.
  const double a = (25.0 / 90 + 10.0 / 100 + 35.0 / 130) / 3;
  const double tenants_a = static_cast<double>(sim[0].config.tenants.size());
  const double tenants_b = static_cast<double>(sim[1].config.tenants.size());
  EXPECT_NEAR(f.report.latency_p95.mape, 100.0 * a * 3 * tenants_a / (3 * tenants_a + 2 * tenants_b), 1e-6);
  EXPECT_DOUBLE_EQ(f.report.power.mape, 0.0);
  // Noise-free simulated data has no spread at all; no repeats: no groups.
  std::vector<profiler::Sample> twice = {sim[2], sim[2]};
  EXPECT_DOUBLE_EQ(MeasurementRepeatFloor(testing::Pointers(twice)).report.latency_p95.mape, 0.0);
  EXPECT_EQ(MeasurementRepeatFloor(testing::Pointers(sim)).groups, 0);
}

TEST(Metrics, PredictionsFileHasOneLinePerSampleAndNamesItsErrors) {
  std::vector<profiler::Sample> samples = testing::SimulatedSamples(5, 4);
  ASSERT_EQ(samples.size(), 5u);
  std::vector<platform::Performance> truth, off;
  for (const auto& s : samples) {
    truth.push_back(s.result);
    off.push_back(s.result);
    off.back().power = Watts(s.result.power.value() * 2);
  }
  const std::string path = ::testing::TempDir() + "/predictions_" + std::to_string(::getpid()) + ".jsonl";
  ASSERT_TRUE(WritePredictions(path, testing::Pointers(samples), {{"oracle", &truth}, {"double", &off}}).ok());
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("schema"), "ecomap.predictions.v1");
    EXPECT_EQ(j.at("index").get<int64_t>(), samples[static_cast<size_t>(n)].index);
    EXPECT_EQ(j.at("seed").get<uint64_t>(), samples[static_cast<size_t>(n)].seed);
    EXPECT_EQ(j.at("config").at("tenants").size(), samples[static_cast<size_t>(n)].config.tenants.size());
    const double p = j.at("truth").at("power_w").get<double>();
    EXPECT_DOUBLE_EQ(j.at("oracle").at("power_w").get<double>(), p);
    EXPECT_DOUBLE_EQ(j.at("double").at("power_w").get<double>(), 2 * p);
    ++n;
  }
  EXPECT_EQ(n, 5);
  std::remove(path.c_str());
  std::vector<platform::Performance> short_one(truth.begin(), truth.begin() + 3);
  Status s = WritePredictions(path, testing::Pointers(samples), {{"oracle", &short_one}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'oracle': 3 for 5 samples"), std::string::npos) << s.message();
  s = WritePredictions(path, testing::Pointers(samples), {{"truth", &truth}});
  EXPECT_NE(s.message().find("clashes"), std::string::npos) << s.message();
  s = WritePredictions("/nonexistent-dir/p.jsonl", testing::Pointers(samples), {{"oracle", &truth}});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/p.jsonl.tmp"), std::string::npos) << s.message();
}

TEST(Dataset, MissingFieldsAndWrongTypesAreNamed) {
  // The estimator reads training data through profiler::ReadDataset; its errors must name the
  // line and the field so that `ecomap estimator train` can say what is wrong.
  auto sim = testing::SimulatedSamples(1, 3);
  ASSERT_EQ(sim.size(), 1u);
  nlohmann::json good = nlohmann::json::parse(profiler::SampleToJsonLine(sim[0]));
  struct Case {
    const char* name;
    std::function<void(nlohmann::json&)> damage;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"no result", [](nlohmann::json& j) { j.erase("result"); }, "result"},
      {"no config", [](nlohmann::json& j) { j.erase("config"); }, "config"},
      // Wrong types inside a section: the profiler names the section and the type problem.
      {"power as text", [](nlohmann::json& j) { j["result"]["power_w"] = "ten"; }, "result: bad performance JSON"},
      {"platform as number", [](nlohmann::json& j) { j["platform"] = 3; }, "platform"},
      {"tenants not a list", [](nlohmann::json& j) { j["config"]["tenants"] = 1; }, "must be array"},
      {"no latency", [](nlohmann::json& j) { j["result"]["tenants"][0].erase("latency_p95_ms"); }, "latency_p95_ms"},
  };
  const std::string path = ::testing::TempDir() + "/estimator_dataset_" + std::to_string(::getpid()) + ".jsonl";
  for (const Case& c : cases) {
    nlohmann::json bad = good;
    c.damage(bad);
    {
      std::ofstream out(path, std::ios::trunc);
      out << good.dump() << "\n" << bad.dump() << "\n";
    }
    auto r = profiler::ReadDataset(path);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(":2"), std::string::npos) << c.name << ": names the line: " << r.status().message();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << c.name << ": " << r.status().message();
  }
  std::remove(path.c_str());
}

TEST(Metrics, SplitIsDeterministicAndKeepsUnseenMixesOut) {
  auto samples = testing::SimulatedSamples(400, 5);
  Split a = SplitSamples(samples, 0.2, 7, 4), b = SplitSamples(samples, 0.2, 7, 4);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.train.size() + a.holdout.size() + a.unseen.size(), samples.size());
  for (const auto* s : a.train) EXPECT_LE(s->config.tenants.size(), 4u);
  for (const auto* s : a.unseen) EXPECT_GT(s->config.tenants.size(), 4u);
  EXPECT_GT(a.unseen.size(), 50u);
  EXPECT_NEAR(static_cast<double>(a.holdout.size()) / (a.holdout.size() + a.train.size()), 0.2, 0.07);
}

TEST(Correction, ConvergesToTheMeasuredRatio) {
  Configuration c = TwoTenants();
  platform::Performance pred = Perf({10, 20}, 10), meas = Perf({20, 20}, 15);
  OnlineCorrection k({.alpha = 0.5, .max_ratio = 4});
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(k.Observe(c, pred, meas).ok());
  EXPECT_NEAR(k.Factor("cam", "resnet50", "p95"), 2.0, 1e-6);
  EXPECT_NEAR(k.Factor("nlp", "bert_tiny", "p95"), 1.0, 1e-6);
  EXPECT_NEAR(k.Factor("x", "", "power"), 1.5, 1e-6);
  platform::Performance q = pred;
  k.Apply(c, &q);
  EXPECT_NEAR(q.tenants[0].latency_p95.value(), 20.0, 1e-6);
  EXPECT_NEAR(q.power.value(), 15.0, 1e-6);
  // The ratio belongs to the variant measured: the tenant's other variant is predicted as is.
  Configuration lighter = c;
  lighter.tenants[0].model = "resnet18";
  EXPECT_DOUBLE_EQ(k.Factor("cam", "resnet18", "p95"), 1.0);
  platform::Performance r = pred;
  k.Apply(lighter, &r);
  EXPECT_NEAR(r.tenants[0].latency_p95.value(), 10.0, 1e-9);
  EXPECT_NEAR(r.power.value(), 15.0, 1e-6);  // the device's power factor is not per variant
  // Clamped.
  OnlineCorrection clamp({.alpha = 1.0, .max_ratio = 4});
  ASSERT_TRUE(clamp.Observe(c, pred, Perf({10000, 20}, 10)).ok());
  EXPECT_NEAR(clamp.Factor("cam", "resnet50", "p95"), 4.0, 1e-9);
  // Saturated: the latency factors step up (x1.25 from at least 1) instead of taking the ratio.
  OnlineCorrection sat({.alpha = 1.0});
  ASSERT_TRUE(sat.Observe(c, pred, Perf({10000, 20}, 10, true)).ok());
  EXPECT_NEAR(sat.Factor("cam", "resnet50", "p95"), 1.25, 1e-9);
  ASSERT_TRUE(sat.Observe(c, pred, Perf({10000, 20}, 10, true)).ok());
  EXPECT_NEAR(sat.Factor("cam", "resnet50", "p95"), 1.5625, 1e-9);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(sat.Observe(c, pred, Perf({10000, 20}, 10, true)).ok());
  EXPECT_NEAR(sat.Factor("cam", "resnet50", "p95"), 4.0, 1e-9);  // clamped at max_ratio
  ASSERT_TRUE(sat.Observe(c, pred, meas).ok());       // unsaturated again: the measured ratio
  EXPECT_NEAR(sat.Factor("cam", "resnet50", "p95"), 2.0, 1e-6);
  EXPECT_FALSE(k.Observe(c, Perf({1}, 1), meas).ok());
  k.Reset();
  EXPECT_DOUBLE_EQ(k.Factor("cam", "resnet50", "p95"), 1.0);
}

TEST(Correction, FoldsASystematicBiasOutOfTheBaseline) {
  // The "running system" is the simulator with a 30% higher idle floor (a board the model was
  // not fitted to):
  // the corrected baseline must track it better than the plain one.
  auto train = testing::SimulatedSamples(800, 21);
  auto m = AnalyticModel::Fit(platform::XavierSim::MakeInfo(), testing::Pointers(train));
  ASSERT_TRUE(m.ok());
  auto base = std::make_shared<AnalyticPredictor>(*m);
  CorrectedPredictor corrected(base, {.alpha = 0.3});
  platform::XavierSimParams slow = platform::XavierSimParams::Calibrated();
  for (int k = 0; k < 7; ++k) slow.idle_w[static_cast<size_t>(k)] *= 1.3;
  SimulatorPredictor system({}, slow);
  Configuration c = TwoTenants();
  c.tenants[0].arrival = ArrivalKind::kClosedLoop;
  auto truth = system.Predict(c);
  ASSERT_TRUE(truth.ok());
  auto before = corrected.Predict(c);
  ASSERT_TRUE(before.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(corrected.Observe(c, *truth).ok());
  auto after = corrected.Predict(c);
  ASSERT_TRUE(after.ok());
  auto err = [](double p, double t) { return std::abs(p - t) / t; };
  EXPECT_LT(err(after->power.value(), truth->power.value()), 0.01);
  EXPECT_LT(err(after->tenants[1].latency_p95.value(), truth->tenants[1].latency_p95.value()), 0.01);
  EXPECT_GT(err(before->power.value(), truth->power.value()), 0.05);
  EXPECT_EQ(corrected.name(), "analytic+corrected");
}

TEST(ModelFile, RoundTripAndEveryDamageIsNamed) {
  ModelFile f{.format = "ecomap.test", .version = 3, .meta = {{"a", 1}}, .weights = std::string("\0\1\2weights\n", 11)};
  const std::string bytes = SerializeModelFile(f);
  auto back = ParseModelFile(bytes, "m", "ecomap.test", 3);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->weights, f.weights);
  EXPECT_EQ(back->meta, f.meta);

  auto other_version = ParseModelFile(bytes, "m", "ecomap.test", 4);
  ASSERT_FALSE(other_version.ok());
  EXPECT_EQ(other_version.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other_version.status().message().find("version 3"), std::string::npos);
  EXPECT_NE(other_version.status().message().find("retrain"), std::string::npos);

  auto other_format = ParseModelFile(bytes, "m", "ecomap.other", 3);
  ASSERT_FALSE(other_format.ok());
  EXPECT_NE(other_format.status().message().find("ecomap.test"), std::string::npos);

  auto not_model = ParseModelFile("hello\n", "m", "ecomap.test", 3);
  ASSERT_FALSE(not_model.ok());
  EXPECT_NE(not_model.status().message().find("not an ecomap model"), std::string::npos);

  for (size_t cut : {size_t{0}, size_t{5}, size_t{20}, size_t{40}, bytes.size() / 2, bytes.size() - 30, bytes.size() - 1}) {
    auto t = ParseModelFile(bytes.substr(0, cut), "m", "ecomap.test", 3);
    ASSERT_FALSE(t.ok()) << cut;
    EXPECT_EQ(t.status().code(), cut < 13 && cut > 0 ? StatusCode::kInvalidArgument : StatusCode::kDataLoss) << cut;
  }
  std::string corrupt = bytes;
  corrupt[corrupt.find("weights\n") - 2] ^= 1;  // a byte of the weights block
  auto c = ParseModelFile(corrupt, "m", "ecomap.test", 3);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("corrupt"), std::string::npos) << c.status().message();

  EXPECT_EQ(ReadModelFile("/nonexistent/model", "ecomap.test", 3).status().code(), StatusCode::kNotFound);
}

// Synthetic predictions and measurements: `n` samples of `tenants` tenants; predicted p95s
// drawn log-uniformly over 1-100 ms, measured = predicted x exp(noise()).
struct Synthetic {
  std::vector<platform::Sample> samples;
  std::vector<platform::Performance> predicted;
  std::vector<const platform::Sample*> Truth() const {
    std::vector<const platform::Sample*> out;
    for (const platform::Sample& s : samples) out.push_back(&s);
    return out;
  }
};
Synthetic MakeSynthetic(int n, int tenants, std::mt19937_64& rng, const std::function<double()>& noise) {
  std::uniform_real_distribution<double> log_p95(0.0, std::log(100.0));
  Synthetic out;
  for (int s = 0; s < n; ++s) {
    std::vector<double> pred, meas;
    for (int t = 0; t < tenants; ++t) {
      pred.push_back(std::exp(log_p95(rng)));
      meas.push_back(pred.back() * std::exp(noise()));
    }
    platform::Sample sample;
    sample.config.tenants.resize(static_cast<size_t>(tenants));
    sample.result = Perf(meas, 10);
    out.samples.push_back(std::move(sample));
    out.predicted.push_back(Perf(pred, 10));
  }
  return out;
}

TEST(Conformal, QuantileIsTheFiniteSampleOrderStatistic) {
  // 19 scores 1..19 in a scrambled order: k = ceil(20 q).
  std::vector<double> s;
  for (int i = 0; i < 19; ++i) s.push_back(static_cast<double>((i * 7) % 19 + 1));
  EXPECT_EQ(ConformalQuantile(s, 0.90), 18.0);  // 20 x 0.9 = 18
  EXPECT_EQ(ConformalQuantile(s, 0.95), 19.0);  // 20 x 0.95 = 19
  EXPECT_EQ(ConformalQuantile(s, 0.50), 10.0);
  EXPECT_EQ(ConformalQuantile(s, 0.80), 16.0);
  EXPECT_FALSE(ConformalQuantile(s, 0.99).has_value());  // 20 x 0.99 = 19.8 -> 20 > 19: no finite bound
  // 100 scores 0.00 .. 0.99: k = ceil(101 q), i.e. 91 (0.90) and 96 (0.95), the 91st/96th smallest.
  std::vector<double> h;
  for (int i = 99; i >= 0; --i) h.push_back(i / 100.0);
  EXPECT_DOUBLE_EQ(*ConformalQuantile(h, 0.90), 0.90);
  EXPECT_DOUBLE_EQ(*ConformalQuantile(h, 0.95), 0.95);
  EXPECT_DOUBLE_EQ(*ConformalQuantile(h, 0.99), 0.99);  // ceil(99.99) = 100
  // The index is the finite-sample one, not the naive ceil(n q) (which gives the 90th, 95th, 99th).
  // A level computed as 0.1 x 3 is 0.30000000000000004: 10 x it = 3.0000000000000004 must still
  // give k = 3 (the tolerance), not 4.
  std::vector<double> nine = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_EQ(ConformalQuantile(nine, 0.1 * 3), 3.0);
  for (double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")}) EXPECT_FALSE(ConformalQuantile(s, bad).has_value()) << bad;
  EXPECT_FALSE(ConformalQuantile({}, 0.9).has_value());

  ConformalCalibration c = ConformalCalibration::Compute(s, "test");
  EXPECT_EQ(c.scores, 19);
  ASSERT_EQ(c.log_quantiles.size(), 3u);  // 0.8, 0.9, 0.95; 0.99 needs more scores
  EXPECT_DOUBLE_EQ(*c.BoundFactor(0.9), std::exp(18.0));
  EXPECT_DOUBLE_EQ(*c.BoundFactor(0.92), std::exp(19.0));  // the next stricter stored level
  EXPECT_DOUBLE_EQ(*c.BoundFactor(0.5), std::exp(16.0));
  EXPECT_FALSE(c.BoundFactor(0.97).has_value());
  EXPECT_FALSE(c.BoundFactor(1.0).has_value());
}

TEST(Conformal, ScoresSkipSaturatedTenantsAndCoverageCountsTheBound) {
  platform::Sample a, b;
  a.result = Perf({20, 11}, 10, /*saturated_first=*/true);  // the saturated 20 ms is no score
  b.result = Perf({5, 8}, 10);
  const std::vector<platform::Performance> pred = {Perf({10, 10}, 10), Perf({5, 4}, 10)};
  const std::vector<const platform::Sample*> truth = {&a, &b};
  const std::vector<double> s = P95ConformityScores(pred, truth);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], std::log(1.1), 1e-12);
  EXPECT_NEAR(s[1], 0.0, 1e-12);
  EXPECT_NEAR(s[2], std::log(2.0), 1e-12);
  EXPECT_EQ(P95Coverage(pred, truth, 1.0).tenants, 3);
  EXPECT_NEAR(P95Coverage(pred, truth, 1.0).percent, 100.0 / 3, 1e-9);
  EXPECT_NEAR(P95Coverage(pred, truth, 1.1).percent, 200.0 / 3, 1e-9);  // 11 ms <= 10 x 1.1, at the edge
  EXPECT_NEAR(P95Coverage(pred, truth, 2.0).percent, 100.0, 1e-9);
  EXPECT_EQ(P95Coverage({}, {}, 2.0).tenants, 0);
}

TEST(Conformal, CoverageOnFreshDataIsNominalForAnyNoise) {
  // Calibrated on 2,000 tenants, scored on 40,000 fresh ones, for three residual laws (biased
  // Gaussian, heavy-tailed Student t, skewed exponential): split conformal makes no assumption
  // on the law, so every one must land within 2 points of the level (about 3 standard deviations
  // of a calibration set of this size). Uncorrected (factor 1) the
  // predictor covers far less: the check is not one that any bound passes.
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> gauss(0.05, 0.1);
  std::student_t_distribution<double> t3(3.0);
  std::exponential_distribution<double> expo(8.0);
  const std::vector<std::pair<std::string, std::function<double()>>> laws = {
      {"gaussian", [&] { return gauss(rng); }},
      {"student-t", [&] { return 0.05 * t3(rng); }},
      {"exponential", [&] { return expo(rng) - 0.05; }},
  };
  for (const auto& [name, noise] : laws) {
    Synthetic cal = MakeSynthetic(1000, 2, rng, noise);
    Synthetic test = MakeSynthetic(10000, 4, rng, noise);
    ConformalCalibration c =
        ConformalCalibration::Compute(P95ConformityScores(cal.predicted, cal.Truth()), "synthetic " + name);
    ASSERT_EQ(c.scores, 2000) << name;
    for (double level : {0.90, 0.95}) {
      std::optional<double> f = c.BoundFactor(level);
      ASSERT_TRUE(f.has_value()) << name;
      CoverageResult r = P95Coverage(test.predicted, test.Truth(), *f);
      EXPECT_EQ(r.tenants, 40000) << name;
      EXPECT_NEAR(r.percent, 100 * level, 2.0) << name << " at " << level << ": factor " << *f;
      // In sample, the bound covers at least ceil(2001 q) of the 2,000 calibration tenants.
      EXPECT_GE(P95Coverage(cal.predicted, cal.Truth(), *f).percent, 100 * std::ceil(2001 * level - 1e-9) / 2000)
          << name;
    }
    EXPECT_LT(P95Coverage(test.predicted, test.Truth(), 1.0).percent, 80.0) << name;
  }
}

TEST(Conformal, JsonRoundTripAndBadValuesAreNamed) {
  ConformalCalibration c;
  c.scores = 1234;
  c.log_quantiles = {{0.8, 0.01}, {0.9, 0.025}, {0.95, 0.04}};
  c.source = "held-out split";
  const nlohmann::json j = c.ToJson();
  EXPECT_DOUBLE_EQ(j.at("log_quantiles").at("0.95").get<double>(), 0.04);
  EXPECT_DOUBLE_EQ(j.at("factors").at("0.9").get<double>(), std::exp(0.025));
  auto back = ConformalCalibration::FromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->scores, 1234);
  EXPECT_EQ(back->log_quantiles, c.log_quantiles);
  EXPECT_EQ(back->source, "held-out split");
  EXPECT_DOUBLE_EQ(*back->BoundFactor(0.95), std::exp(0.04));
  EXPECT_FALSE(back->BoundFactor(0.99).has_value());

  struct Case {
    const char* name;
    nlohmann::json j;
    const char* expect;
  };
  nlohmann::json level = j, value = j, count = j, missing = j, method = j;
  method["method"] = "normalised conformal";
  level["log_quantiles"]["1.5"] = 0.1;
  value["log_quantiles"]["0.9"] = "wide";
  count["scores"] = -3;
  missing.erase("log_quantiles");
  const std::vector<Case> cases = {
      {"level", level, "the level '1.5' is not a number in (0, 1)"},
      {"value", value, "conformal.log_quantiles.0.9 is \"wide\""},
      {"count", count, "conformal.scores: expected a count >= 0, found -3"},
      {"missing", missing, "conformal.log_quantiles: expected an object"},
      {"type", nlohmann::json::array(), "expected a JSON object"},
      {"method", method, "conformal.method is \"normalised conformal\": this build reads only"},
  };
  for (const Case& k : cases) {
    auto r = ConformalCalibration::FromJson(k.j);
    ASSERT_FALSE(r.ok()) << k.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << k.name;
    EXPECT_NE(r.status().message().find(k.expect), std::string::npos) << k.name << ": " << r.status().message();
  }
}

TEST(Conformal, OnlyCalibratedPredictorsOfferABound) {
  // The analytic baseline and the simulator have no bound; a correction passes its inner one on.
  auto sim = std::make_shared<SimulatorPredictor>();
  EXPECT_FALSE(sim->P95BoundFactor(0.95).has_value());
  EXPECT_FALSE(CorrectedPredictor(sim).P95BoundFactor(0.95).has_value());
  auto train = testing::SimulatedSamples(300, 21);
  auto m = AnalyticModel::Fit(platform::XavierSim::MakeInfo(), testing::Pointers(train));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(AnalyticPredictor(*m).P95BoundFactor(0.9).has_value());
}

}  // namespace
}  // namespace ecomap::estimator
