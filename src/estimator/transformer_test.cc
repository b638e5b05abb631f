// Tests of the transformer estimator (libtorch): training runs and learns, save/load round
// trips exactly, damaged model files give clear errors, batched prediction names bad inputs.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "estimator/metrics.h"
#include "estimator/model_file.h"
#include "estimator/testing.h"
#include "estimator/transformer.h"

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
    o.epochs = 20;
    o.threads = 1;
    o.seed = 5;
    o.progress = [](const EpochReport& r) { reports_.push_back(r); };
    auto m = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(*train_),
                                         testing::Pointers(*test_), {.d_model = 16, .heads = 2, .layers = 1, .ff_dim = 32}, o);
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

TEST_F(TransformerTest, TrainsAndReportsEveryEpoch) {
  ASSERT_EQ(reports_.size(), 20u);
  EXPECT_LT(reports_.back().train_loss, reports_.front().train_loss);
  EXPECT_GT(reports_.back().holdout_p95_mape, 0.0);
  auto r = model_->PredictBatch(TestConfigs());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), test_->size());
  for (size_t i = 0; i < r->size(); ++i) {
    ASSERT_EQ((*r)[i].tenants.size(), (*test_)[i].config.tenants.size());
    EXPECT_GT((*r)[i].power.value(), 0);
    EXPECT_EQ((*r)[i].provenance, platform::Provenance::kModelled);
  }
  // Twenty short epochs on 2,000 samples: far better than guessing (a loose bound that a
  // broken pipeline, e.g. mismatched targets, fails by a wide margin).
  EvalReport e = Score(*r, testing::Pointers(*test_));
  // The targets are residuals over the analytic baseline, so even a tiny model trained for a
  // few seconds is close; a broken pipeline (mismatched targets, features or pooling) is not.
  EXPECT_LT(e.power.mape, 3.0);
  EXPECT_LT(e.latency_p95.mape, 8.0);
  EXPECT_LT(e.throughput.mape, 8.0);
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
    EXPECT_NEAR(a->power.value(), b->power.value(), 1e-4 * a->power.value());
    const size_t n = c.tenants.size();
    for (size_t i = 0; i < n; ++i) {
      const double x = a->tenants[i].latency_p95.value(), y = b->tenants[n - 1 - i].latency_p95.value();
      EXPECT_NEAR(x, y, 1e-4 * x) << k << " tenant " << i;
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
  auto train = testing::SimulatedSamples(1500, 41, few);
  auto test = testing::SimulatedSamples(200, 42, many);
  TrainOptions o;
  o.epochs = 8;
  o.seed = 3;
  auto m = TransformerPredictor::Train(platform::XavierSim::MakeInfo(), testing::Pointers(train), {},
                                       {.d_model = 16, .heads = 2, .layers = 1, .ff_dim = 32}, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<platform::Configuration> configs;
  for (const auto& s : test) configs.push_back(s.config);
  auto r = (*m)->PredictBatch(configs);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EvalReport e = Score(*r, testing::Pointers(test));
  EXPECT_LT(e.latency_p95.mape, 10.0);  // the tenant-slot features of version 1 gave 360%
  EXPECT_LT(e.power.mape, 3.0);
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

}  // namespace
}  // namespace ecomap::estimator
