// Tests of the transformer estimator (libtorch): training runs and learns, save/load round
// trips exactly, damaged model files give clear errors, batched prediction names bad inputs.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <unistd.h>

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
  EXPECT_LT(e.power.mape, 5.0);
  EXPECT_LT(e.latency_p95.mape, 70.0);  // about 56% measured: a tiny model, 20 s of training
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
  other_version.replace(other_version.find("version 1\n"), 10, "version 7\n");
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
}

}  // namespace
}  // namespace ecomap::estimator
