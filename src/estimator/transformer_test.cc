// Tests of the transformer estimator (libtorch): training runs and beats its analytic baseline,
// save/load round trips exactly (the p95 calibration included), damaged model files give clear
// errors, batched prediction names bad inputs; the shipped model beats its baseline on a fresh
// xavier-sim profile and a calibration on half of it covers the other half.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "estimator/analytic.h"
#include "estimator/conformal.h"
#include "estimator/metrics.h"
#include "estimator/model_file.h"
#include "estimator/testing.h"
#include "estimator/transformer.h"
#include "platform/registry.h"
#include "profiler/profiler.h"
#include "profiler/sampler.h"
#include "zoo/model.h"

namespace ecomap::estimator {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/estimator_" + name + "_" + std::to_string(::getpid());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class TransformerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    at::set_num_threads(1);
    train_ = new std::vector<profiler::Sample>(testing::SimulatedSamples(2000, 31));
    test_ = new std::vector<profiler::Sample>(testing::SimulatedSamples(300, 32));
    TrainOptions o;
    o.epochs = 40;
    o.threads = 1;
    o.seed = 5;
    o.progress = [](const EpochReport& r) { reports_.push_back(r); };
    auto m = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(*train_),
                                         testing::Pointers(*test_), {.d_model = 32, .heads = 2, .layers = 2, .ff_dim = 64}, o);
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = m->release();
    path_ = TempPath("model");
    ASSERT_TRUE(model_->Save(path_, {{"note", "test"}}).ok());
  }
  static void TearDownTestSuite() {
    std::remove(path_.c_str());
    delete model_;
    delete train_;
    delete test_;
  }
  static std::vector<platform::Configuration> TestConfigs() {
    std::vector<platform::Configuration> c;
    for (const auto& s : *test_) c.push_back(s.config);
    return c;
  }
  static std::vector<profiler::Sample>* train_;
  static std::vector<profiler::Sample>* test_;
  static TransformerPredictor* model_;
  static std::string path_;
  static std::vector<EpochReport> reports_;
};
std::vector<profiler::Sample>* TransformerTest::train_ = nullptr;
std::vector<profiler::Sample>* TransformerTest::test_ = nullptr;
TransformerPredictor* TransformerTest::model_ = nullptr;
std::string TransformerTest::path_;
std::vector<EpochReport> TransformerTest::reports_;

// How much better than its own analytic baseline a network trained in these tests must be on
// data it never trained on (its MAPE at most this share of the baseline's). The targets are
// residuals over that baseline, so "close to the truth" alone is passed by a network that learned
// nothing (outputs 0); this ratio is not. Measured on the first xavier-sim of December 2026 (the
// analytic, queueing-network simulator; the request-level one replaced it) with the default
// network sizes: the fixture (2,000
// samples, 40 epochs) p95 0.76, power 0.52, throughput 0.75; TransformerUnseen (5,000 samples of
// 1-3 tenants, 30 epochs, scored on 5-6) p95 0.70, power 0.46. (16-wide one-layer networks, or
// fewer epochs, reached only 0.88-0.97: too close to 1 to tell learning from noise.)
constexpr double kTestModelVsAnalytic = 0.85;

TEST_F(TransformerTest, TrainsReportsEveryEpochAndBeatsItsBaseline) {
  ASSERT_EQ(reports_.size(), 40u);
  EXPECT_LT(reports_.back().train_loss, 0.5 * reports_.front().train_loss);
  auto r = model_->PredictBatch(TestConfigs());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), test_->size());
  for (size_t i = 0; i < r->size(); ++i) {
    ASSERT_EQ((*r)[i].tenants.size(), (*test_)[i].config.tenants.size());
    EXPECT_EQ((*r)[i].provenance, platform::Provenance::kModelled);
  }
  EvalReport e = Score(*r, testing::Pointers(*test_));
  // The per-epoch report is the real held-out figure (test_ was the hold-out).
  EXPECT_NEAR(reports_.back().holdout_p95_mape, e.latency_p95.mape, 0.005 * e.latency_p95.mape);
  EXPECT_NEAR(reports_.back().holdout_power_mape, e.power.mape, 0.005 * e.power.mape);
  AnalyticPredictor baseline(model_->analytic());
  auto b = baseline.PredictBatch(TestConfigs());
  ASSERT_TRUE(b.ok());
  EvalReport a = Score(*b, testing::Pointers(*test_));
  std::printf("fixture model on its hold-out: MAPE p95 %.3f%% / analytic %.3f%%, power %.3f%% / %.3f%%, throughput "
              "%.3f%% / %.3f%%; train loss %.4f -> %.4f\n",
              e.latency_p95.mape, a.latency_p95.mape, e.power.mape, a.power.mape, e.throughput.mape, a.throughput.mape,
              reports_.front().train_loss, reports_.back().train_loss);
  // On the request-level xavier-sim the fixture (2,000 samples, the small default network) is too
  // small to beat the baseline on latency (measured: p95 33-36% vs 33-36%); the shipped model,
  // trained on 30,000 samples, does (ShippedModel below). Power and throughput it does beat here
  // (2.3-2.5% vs 3.4%, 31% vs 132-191%).
  EXPECT_LT(e.power.mape, kTestModelVsAnalytic * a.power.mape) << "analytic " << a.power.mape;
  EXPECT_LT(e.throughput.mape, kTestModelVsAnalytic * a.throughput.mape) << "analytic " << a.throughput.mape;
}

TEST_F(TransformerTest, SaveLoadRoundTripPredictsIdentically) {
  auto loaded = TransformerPredictor::Load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ((*loaded)->training_record().value("note", ""), "test");
  EXPECT_EQ((*loaded)->num_parameters(), model_->num_parameters());
  auto a = model_->PredictBatch(TestConfigs());
  auto b = (*loaded)->PredictBatch(TestConfigs());
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_FLOAT_EQ((*a)[i].power.value(), (*b)[i].power.value());
    EXPECT_FLOAT_EQ((*a)[i].tenants[0].latency_p95.value(), (*b)[i].tenants[0].latency_p95.value());
  }
  // Batched and one-by-one agree.
  auto one = model_->Predict((*test_)[7].config);
  ASSERT_TRUE(one.ok());
  EXPECT_NEAR(one->power.value(), (*a)[7].power.value(), 1e-3 * (*a)[7].power.value());
}

TEST_F(TransformerTest, ConformalBoundRoundTripsAndOldFilesHaveNone) {
  ConformalCalibration c;
  c.scores = 321;
  c.log_quantiles = {{0.8, 0.01}, {0.9, 0.02}, {0.95, 0.035}};
  c.source = "test";
  auto loaded = TransformerPredictor::Load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  // The fixture's file was saved without a calibration, like every file from before the bound.
  EXPECT_FALSE((*loaded)->conformal().has_value());
  EXPECT_FALSE((*loaded)->P95BoundFactor(0.95).has_value());
  (*loaded)->set_conformal(c);
  EXPECT_DOUBLE_EQ(*(*loaded)->P95BoundFactor(0.95), std::exp(0.035));
  const std::string p = TempPath("conformal");
  ASSERT_TRUE((*loaded)->Save(p, (*loaded)->training_record()).ok());
  auto file = ReadModelFile(p, kTransformerFormat, kTransformerVersion);
  ASSERT_TRUE(file.ok());
  EXPECT_DOUBLE_EQ(file->meta.at("conformal").at("log_quantiles").at("0.9").get<double>(), 0.02);
  auto back = TransformerPredictor::Load(p);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE((*back)->conformal().has_value());
  EXPECT_EQ((*back)->conformal()->scores, 321);
  EXPECT_EQ((*back)->conformal()->log_quantiles, c.log_quantiles);
  EXPECT_DOUBLE_EQ(*(*back)->P95BoundFactor(0.9), std::exp(0.02));
  EXPECT_FALSE((*back)->P95BoundFactor(0.99).has_value());
  EXPECT_EQ((*back)->training_record().value("note", ""), "test");
  // An old file: the same model without the key reads and has no bound.
  file->meta.erase("conformal");
  WriteAll(p, SerializeModelFile(*file));
  auto old = TransformerPredictor::Load(p);
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_FALSE((*old)->P95BoundFactor(0.9).has_value());
  // A damaged key is refused, naming the file and the value.
  file->meta["conformal"] = c.ToJson();
  file->meta["conformal"]["log_quantiles"]["0.9"] = "high";
  WriteAll(p, SerializeModelFile(*file));
  auto bad = TransformerPredictor::Load(p);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find(p + ": meta.conformal.log_quantiles.0.9 is \"high\""), std::string::npos)
      << bad.status().message();
  std::remove(p.c_str());
}

TEST_F(TransformerTest, DamagedModelFilesGiveClearErrors) {
  const std::string bytes = ReadAll(path_);
  const std::string p = TempPath("damaged");
  struct Case {
    const char* name;
    std::string content;
    StatusCode code;
    const char* expect;
  };
  std::string other_version = bytes;
  const std::string version_line = "version " + std::to_string(kTransformerVersion) + "\n";
  other_version.replace(other_version.find(version_line), version_line.size(), "version 7\n");
  std::string other_features;
  {
    // A model from a build with another feature layout (same container version).
    auto f = ParseModelFile(bytes, "x", kTransformerFormat, kTransformerVersion);
    ASSERT_TRUE(f.ok());
    f->meta["features"] = f->meta["features"].get<int>() + 8;
    other_features = SerializeModelFile(*f);
  }
  std::string bad_meta;
  {
    auto f = ParseModelFile(bytes, "x", kTransformerFormat, kTransformerVersion);
    ASSERT_TRUE(f.ok());
    f->meta["config"]["d_model"] = "wide";
    bad_meta = SerializeModelFile(*f);
  }
  std::string bad_weights = bytes;
  {
    // Replace the weights by junk of the same length with a valid checksum: libtorch must reject it.
    auto f = ParseModelFile(bytes, "x", kTransformerFormat, kTransformerVersion);
    ASSERT_TRUE(f.ok());
    f->weights = std::string(f->weights.size(), 'x');
    bad_weights = SerializeModelFile(*f);
  }
  const std::vector<Case> cases = {
      {"truncated", bytes.substr(0, bytes.size() / 2), StatusCode::kDataLoss, "truncated"},
      {"truncated-header", bytes.substr(0, 30), StatusCode::kDataLoss, "truncated"},
      {"other version", other_version, StatusCode::kFailedPrecondition, "version 7"},
      {"not a model", "{\"hello\": 1}\n", StatusCode::kInvalidArgument, "not an ecomap model"},
      {"bad weights", bad_weights, StatusCode::kDataLoss, "weights"},
      {"other features", other_features, StatusCode::kFailedPrecondition, "retrain"},
      {"meta wrong type", bad_meta, StatusCode::kDataLoss, "meta"},
      {"empty", "", StatusCode::kDataLoss, "empty"},
  };
  for (const Case& c : cases) {
    WriteAll(p, c.content);
    auto r = TransformerPredictor::Load(p);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << c.name << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(p), std::string::npos) << c.name << ": names the file";
  }
  std::remove(p.c_str());
  EXPECT_EQ(TransformerPredictor::Load(p).status().code(), StatusCode::kNotFound);
}

TEST_F(TransformerTest, BadConfigurationInABatchIsNamed) {
  std::vector<platform::Configuration> c = TestConfigs();
  c.resize(5);
  c[3].tenants[0].model = "no_such_model";
  auto r = model_->PredictBatch(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("configuration 3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("no_such_model"), std::string::npos);
  auto empty = model_->PredictBatch({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(TransformerTest, TenantsAreASetNotSlots) {
  // No feature says which slot a tenant occupies: reversing the tenants of a configuration
  // reverses the predictions and leaves the power unchanged.
  for (size_t k = 0; k < 40; ++k) {
    platform::Configuration c = (*test_)[k].config;
    if (c.tenants.size() < 2) continue;
    platform::Configuration r = c;
    std::reverse(r.tenants.begin(), r.tenants.end());
    auto a = model_->Predict(c), b = model_->Predict(r);
    ASSERT_TRUE(a.ok() && b.ok());
    // Within 1%: the analytic baseline's fixed point (the prior and some features) stops at a
    // tolerance reached from a start that follows the tenant order (measured: up to 0.5%).
    EXPECT_NEAR(a->power.value(), b->power.value(), 1e-2 * a->power.value());
    const size_t n = c.tenants.size();
    for (size_t i = 0; i < n; ++i) {
      const double x = a->tenants[i].latency_p95.value(), y = b->tenants[n - 1 - i].latency_p95.value();
      EXPECT_NEAR(x, y, 1e-2 * x) << k << " tenant " << i;
    }
  }
}

TEST(TransformerUnseen, MoreTenantsThanEverSeenInTraining) {
  // Trained on 1-3 tenants, asked about 5-6: the tokens are a set and contention reaches them
  // through the analytic hints, so nothing is out of its training range.
  at::set_num_threads(1);
  profiler::SamplerOptions few, many;
  few.max_tenants = 3;
  many.min_tenants = 5;
  many.max_tenants = 6;
  auto train = testing::SimulatedSamples(5000, 41, few);
  auto test = testing::SimulatedSamples(200, 42, many);
  TrainOptions o;
  o.epochs = 30;
  o.seed = 3;
  auto m = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(train), {},
                                       {.d_model = 32, .heads = 2, .layers = 2, .ff_dim = 64}, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<platform::Configuration> configs;
  for (const auto& s : test) configs.push_back(s.config);
  auto r = (*m)->PredictBatch(configs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EvalReport e = Score(*r, testing::Pointers(test));
  // The tenant-slot features of version 1 gave 360%. On the request-level xavier-sim this small
  // network trained on 1-3 tenants does not generalise to 5-6: 47% and 121% on two versions of
  // the simulator's short prediction window (issue 18's target, 12%, is not met: the GPU's time
  // slicing between many contexts is outside what 1-3 tenants show it). This bound only catches
  // the slot-feature failure. With the contention hints of version 3 the shipped sizes trained
  // on 150,000 samples reach 21% (docs/estimator.md); this 5,000-sample network 96%.
  EXPECT_LT(e.latency_p95.mape, 200.0);
  // Better than its own analytic baseline on mixes it never saw (a network that learned nothing
  // would equal it; one that learned tenant-count artefacts would be worse).
  AnalyticPredictor baseline((*m)->analytic());
  auto b = baseline.PredictBatch(configs);
  ASSERT_TRUE(b.ok());
  EvalReport a = Score(*b, testing::Pointers(test));
  std::printf("trained on 1-3 tenants, scored on 5-6: MAPE p95 %.3f%% / analytic %.3f%%, power %.3f%% / %.3f%%\n",
              e.latency_p95.mape, a.latency_p95.mape, e.power.mape, a.power.mape);
  // Not better than its analytic baseline on latency here (measured 47% vs 39%, 121% vs 48%); on
  // power it is.
  EXPECT_LT(e.power.mape, kTestModelVsAnalytic * a.power.mape) << "analytic " << a.power.mape;
}

TEST(TransformerLoss, TheRelativeLossTrainsAndPredictsLowerThanHuberWhereLabelsScatter) {
  // --loss relative minimises |predicted / measured - 1|. On the same data and seed its
  // predictions of a configuration measured with a wide spread sit lower than the Huber fit's
  // (MAPE rewards predicting low), and training still converges.
  at::set_num_threads(1);
  auto train = testing::SimulatedSamples(600, 61);
  // Every p95 label scattered by a factor from {0.5, 1, 2} (by index, so no feature predicts
  // it): the median is the unscattered label, the MAPE-optimal constant half of it (the
  // 1/label-weighted median), ln 2 = 0.69 lower in log. Measured: 0.63 lower.
  for (size_t i = 0; i < train.size(); ++i) {
    const double f = i % 3 == 0 ? 0.5 : (i % 3 == 1 ? 1.0 : 2.0);
    for (auto& t : train[i].result.tenants) t.latency_p95 = Milliseconds(t.latency_p95.value() * f);
  }
  auto test = testing::SimulatedSamples(60, 62);
  std::vector<platform::Configuration> configs;
  for (const auto& s : test) configs.push_back(s.config);
  const TransformerConfig small{.d_model = 16, .heads = 2, .layers = 1, .ff_dim = 32};
  double mean_log_p95[2] = {0, 0};
  for (int which = 0; which < 2; ++which) {
    TrainOptions o;
    o.epochs = 15;
    o.seed = 5;
    o.loss = which == 0 ? TrainLoss::kHuber : TrainLoss::kRelative;
    std::vector<EpochReport> reports;
    o.progress = [&](const EpochReport& r) { reports.push_back(r); };
    auto m = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(train), {}, small, o);
    ASSERT_TRUE(m.ok()) << m.status().message();
    ASSERT_EQ(reports.size(), 15u);
    EXPECT_TRUE(std::isfinite(reports.back().train_loss));
    EXPECT_LT(reports.back().train_loss, reports.front().train_loss) << which;
    auto r = (*m)->PredictBatch(configs);
    ASSERT_TRUE(r.ok());
    int n = 0;
    for (const auto& p : *r) {
      for (const auto& t : p.tenants) {
        ASSERT_TRUE(std::isfinite(t.latency_p95.value()) && t.latency_p95.value() > 0);
        mean_log_p95[which] += std::log(t.latency_p95.value());
        ++n;
      }
    }
    mean_log_p95[which] /= n;
  }
  std::printf("labels scattered x0.5/x1/x2: mean log p95 huber %.3f, relative %.3f\n", mean_log_p95[0],
              mean_log_p95[1]);
  EXPECT_LT(mean_log_p95[1], mean_log_p95[0] - 0.3)
      << "huber " << mean_log_p95[0] << ", relative " << mean_log_p95[1];
}

TEST(TransformerEnsemble, AveragesItsMembersAndRoundTrips) {
  // Member k of an ensemble trained with seed s is the single network trained with seed s + k
  // on the same data, so the ensemble's log predictions are the mean of those networks'.
  at::set_num_threads(1);
  auto train = testing::SimulatedSamples(600, 51);
  auto test = testing::SimulatedSamples(40, 52);
  std::vector<platform::Configuration> configs;
  for (const auto& s : test) configs.push_back(s.config);
  const TransformerConfig single{.d_model = 16, .heads = 2, .layers = 1, .ff_dim = 32};
  TransformerConfig three = single;
  three.members = 3;
  std::vector<EpochReport> reports;
  TrainOptions o;
  o.epochs = 3;
  o.seed = 5;
  o.progress = [&](const EpochReport& r) { reports.push_back(r); };
  auto ensemble = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(train), {}, three, o);
  ASSERT_TRUE(ensemble.ok()) << ensemble.status().message();
  ASSERT_EQ(reports.size(), 9u);  // 3 epochs of each member, in order
  EXPECT_EQ(reports.front().member, 1);
  EXPECT_EQ(reports.back().member, 3);
  EXPECT_EQ(reports.back().members, 3);
  o.progress = nullptr;
  std::vector<std::vector<platform::Performance>> singles;
  for (uint64_t k = 0; k < 3; ++k) {
    o.seed = 5 + k;
    auto m = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(train), {}, single, o);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(3 * (*m)->num_parameters(), (*ensemble)->num_parameters());
    auto r = (*m)->PredictBatch(configs);
    ASSERT_TRUE(r.ok());
    singles.push_back(std::move(*r));
  }
  auto e = (*ensemble)->PredictBatch(configs);
  ASSERT_TRUE(e.ok()) << e.status().message();
  bool members_differ = false;
  for (size_t c = 0; c < configs.size(); ++c) {
    double log_power = 0;
    for (const auto& s : singles) log_power += std::log(s[c].power.value()) / 3.0;
    EXPECT_NEAR(std::log((*e)[c].power.value()), log_power, 1e-4) << c;
    for (size_t i = 0; i < configs[c].tenants.size(); ++i) {
      double log_p50 = 0;
      for (const auto& s : singles) log_p50 += std::log(s[c].tenants[i].latency_p50.value()) / 3.0;
      EXPECT_NEAR(std::log((*e)[c].tenants[i].latency_p50.value()), log_p50, 1e-4) << c << " tenant " << i;
      members_differ |= std::abs(singles[0][c].tenants[i].latency_p50.value() /
                                     singles[1][c].tenants[i].latency_p50.value() - 1.0) > 1e-3;
    }
  }
  EXPECT_TRUE(members_differ) << "the members should start from different seeds";

  // Save and load: every member comes back.
  const std::string path = TempPath("ensemble");
  ASSERT_TRUE((*ensemble)->Save(path, {}).ok());
  auto loaded = TransformerPredictor::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ((*loaded)->config().members, 3);
  auto l = (*loaded)->PredictBatch(configs);
  ASSERT_TRUE(l.ok());
  for (size_t c = 0; c < configs.size(); ++c) EXPECT_FLOAT_EQ((*l)[c].power.value(), (*e)[c].power.value());

  // A file whose meta names more members than its weights hold is refused, naming the member.
  auto file = ReadModelFile(path, kTransformerFormat, kTransformerVersion);
  ASSERT_TRUE(file.ok());
  file->meta["config"]["members"] = 4;
  WriteAll(path, SerializeModelFile(*file));
  auto bad = TransformerPredictor::Load(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("no member3"), std::string::npos) << bad.status().message();
  file->meta["config"]["members"] = 0;
  WriteAll(path, SerializeModelFile(*file));
  auto zero = TransformerPredictor::Load(path);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("impossible sizes"), std::string::npos) << zero.status().message();
  std::remove(path.c_str());
}

TEST(TransformerTrain, RejectsTooFewSamplesAndBadSizes) {
  auto few = testing::SimulatedSamples(5, 1);
  auto r = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(few), {}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at least 16"), std::string::npos);
  auto some = testing::SimulatedSamples(40, 1);
  auto s = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(some), {},
                                       {.d_model = 30, .heads = 4}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("multiple of heads"), std::string::npos);
  for (int members : {0, kMaxMembers + 1}) {
    auto t = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(some), {},
                                         {.members = members}, {});
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.status().message().find("ensemble of " + std::to_string(members)), std::string::npos)
        << t.status().message();
  }
}

// The shipped model (data/estimator/xavier-sim.ecomap) on a fresh profile of xavier-sim: the
// profiler's own loop on the registry's simulator, fixed seeds, a few hundred samples, so that the
// check follows whatever xavier-sim is (and fails when the shipped model no longer fits it:
// retrain and ship it with `ecomap estimator train`, docs/estimator.md).
// The transformer's latency p95 MAPE must be at most this share of its analytic baseline's.
// Measured with the model shipped when this test was written (trained on the analytic
// xavier-sim of December 2026, scored on that simulator): 0.36 (p95 MAPE 0.61% vs 1.68%); with
// the model retrained on the request-level xavier-sim: 0.41 (14.9% vs 36.1%); with the version 3
// model (contention hints, 150,000 samples): 0.29 (10.4% vs 36.1%).
constexpr double kShippedModelVsAnalytic = 0.75;
constexpr int64_t kShippedProfileSamples = 400;

const std::vector<profiler::Sample>& ShippedProfile() {
  static const std::vector<profiler::Sample>* samples = [] {
    auto out = new std::vector<profiler::Sample>();
    platform::PlatformOptions po;
    po.seed = 20260;
    auto sim = platform::MakeEvaluator("xavier-sim", po);
    EXPECT_TRUE(sim.ok()) << sim.status().message();
    if (!sim.ok()) return out;
    auto sampler = profiler::Sampler::Create((*sim)->info(), {}, zoo::Models());
    EXPECT_TRUE(sampler.ok());
    if (!sampler.ok()) return out;
    const std::string path = TempPath("shipped_profile.jsonl");
    {
      auto writer = profiler::DatasetWriter::Open(path, /*truncate=*/true);
      EXPECT_TRUE(writer.ok());
      if (!writer.ok()) return out;
      profiler::ProfileOptions o;
      o.samples = kShippedProfileSamples;
      o.seed = 20260;
      o.platform_name = "xavier-sim";
      platform::Evaluator* ev = sim->get();
      auto s = profiler::RunProfile(
          *sampler, [ev](const platform::Configuration& c) { return ev->Evaluate(c); }, o, **writer);
      EXPECT_TRUE(s.ok()) << s.status().message();
    }
    auto d = profiler::ReadDataset(path);
    EXPECT_TRUE(d.ok()) << d.status().message();
    std::remove(path.c_str());
    if (d.ok()) *out = std::move(d->samples);
    return out;
  }();
  return *samples;
}

TEST(ShippedModel, BeatsItsAnalyticBaselineOnAFreshProfile) {
  at::set_num_threads(1);
  const auto& samples = ShippedProfile();
  ASSERT_GE(samples.size(), static_cast<size_t>(kShippedProfileSamples * 9 / 10));
  auto model = TransformerPredictor::Load(DefaultModelPath());
  ASSERT_TRUE(model.ok()) << model.status().message();
  std::vector<platform::Configuration> configs;
  for (const auto& s : samples) configs.push_back(s.config);
  auto t = (*model)->PredictBatch(configs);
  auto b = AnalyticPredictor((*model)->analytic()).PredictBatch(configs);
  ASSERT_TRUE(t.ok() && b.ok());
  EvalReport et = Score(*t, testing::Pointers(samples));
  EvalReport eb = Score(*b, testing::Pointers(samples));
  ASSERT_GT(et.latency_p95.count, 100);
  EXPECT_LE(et.latency_p95.mape, kShippedModelVsAnalytic * eb.latency_p95.mape)
      << "transformer " << et.latency_p95.mape << "%, analytic " << eb.latency_p95.mape << "%";
  std::printf("shipped model on %zu fresh samples: p95 MAPE transformer %.3f%%, analytic %.3f%% (ratio %.3f); "
              "power %.3f%% / %.3f%%\n",
              samples.size(), et.latency_p95.mape, eb.latency_p95.mape, et.latency_p95.mape / eb.latency_p95.mape,
              et.power.mape, eb.power.mape);
}

TEST(ShippedModel, ACalibrationOnHalfAProfileCoversTheOtherHalf) {
  // Calibrated on the even samples of the fresh profile, scored on the odd ones. With ~300 tenants
  // a side the coverage itself scatters by about 1.5 points (binomial, both halves), so this
  // checks the pipeline (predictions -> scores -> quantile -> bound) within 5 points; the tight
  // check of the method is Conformal.CoverageOnFreshDataIsNominalForAnyNoise.
  at::set_num_threads(1);
  const auto& samples = ShippedProfile();
  auto model = TransformerPredictor::Load(DefaultModelPath());
  ASSERT_TRUE(model.ok()) << model.status().message();
  std::vector<const profiler::Sample*> cal, test;
  for (size_t i = 0; i < samples.size(); ++i) (i % 2 ? test : cal).push_back(&samples[i]);
  auto predict = [&](const std::vector<const profiler::Sample*>& set) {
    std::vector<platform::Configuration> configs;
    for (const auto* s : set) configs.push_back(s->config);
    auto r = (*model)->PredictBatch(configs);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<platform::Performance>{};
  };
  const auto pc = predict(cal), pt = predict(test);
  ConformalCalibration c = ConformalCalibration::Compute(P95ConformityScores(pc, cal), "even samples");
  ASSERT_GT(c.scores, 100);
  (*model)->set_conformal(c);
  for (double level : {0.90, 0.95}) {
    std::optional<double> f = (*model)->P95BoundFactor(level);
    ASSERT_TRUE(f.has_value()) << level;
    CoverageResult r = P95Coverage(pt, test, *f);
    EXPECT_NEAR(r.percent, 100 * level, 5.0) << "factor " << *f << " on " << r.tenants << " tenants";
    std::printf("shipped model, %g%% bound x%.4f (from %lld tenants): covers %.1f%% of %lld fresh tenants\n",
                100 * level, *f, static_cast<long long>(c.scores), r.percent, static_cast<long long>(r.tenants));
  }
}

}  // namespace
}  // namespace ecomap::estimator
