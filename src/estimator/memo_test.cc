// Tests of MemoPredictor (estimator/memo.h): identical answers, one inner prediction per
// distinct configuration, errors passed through.
#include <gtest/gtest.h>

#include <atomic>

#include "estimator/memo.h"
#include "estimator/simulator_predictor.h"

namespace ecomap::estimator {
namespace {

using platform::ArrivalKind;
using platform::Configuration;
using platform::Performance;
using platform::TenantConfig;

// Counts what reaches the inner predictor.
class Counting final : public Predictor {
 public:
  explicit Counting(const Predictor& inner) : inner_(inner) {}
  std::string name() const override { return "counting"; }
  StatusOr<std::vector<Performance>> PredictBatch(const std::vector<Configuration>& configs) const override {
    ++calls;
    configs_seen += static_cast<int>(configs.size());
    return inner_.PredictBatch(configs);
  }
  std::optional<double> P95BoundFactor(double c) const override { return c > 0.5 ? std::optional(1.25) : std::nullopt; }
  mutable std::atomic<int> calls{0}, configs_seen{0};

 private:
  const Predictor& inner_;
};

Configuration Config(int mode, const std::string& unit, double rate) {
  Configuration c;
  c.power_mode = mode;
  c.tenants.push_back(TenantConfig{.name = "cam", .model = "resnet50", .stages = {{0, 3, "DLA0"}, {3, 7, unit}},
                                   .arrival = ArrivalKind::kOpenLoop, .rate_rps = rate});
  c.tenants.push_back(TenantConfig{.name = "nlp", .model = "bert_tiny", .stages = {{0, 4, "CPU"}}});
  return c;
}

void ExpectSame(const Performance& a, const Performance& b) {
  EXPECT_EQ(a.power.value(), b.power.value());
  ASSERT_EQ(a.tenants.size(), b.tenants.size());
  for (size_t t = 0; t < a.tenants.size(); ++t) {
    EXPECT_EQ(a.tenants[t].name, b.tenants[t].name);
    EXPECT_EQ(a.tenants[t].latency_p95.value(), b.tenants[t].latency_p95.value());
    EXPECT_EQ(a.tenants[t].latency_p50.value(), b.tenants[t].latency_p50.value());
    EXPECT_EQ(a.tenants[t].throughput_rps, b.tenants[t].throughput_rps);
    EXPECT_EQ(a.tenants[t].saturated, b.tenants[t].saturated);
  }
}

TEST(ConfigurationKey, EqualExactlyForEqualConfigurations) {
  const Configuration a = Config(2, "GPU", 20);
  EXPECT_EQ(ConfigurationKey(a), ConfigurationKey(Config(2, "GPU", 20)));
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(Config(1, "GPU", 20)));
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(Config(2, "DLA0", 20)));
  // Rates that differ in the last bit are different demands.
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(Config(2, "GPU", std::nextafter(20.0, 21.0))));
  Configuration cut = a;
  cut.tenants[0].stages = {{0, 4, "DLA0"}, {4, 7, "GPU"}};
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(cut));
  Configuration model = a;
  model.tenants[0].model = "resnet34";
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(model));
  Configuration freq = a;
  freq.frequency_mhz["GPU"] = 600;
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(freq));
  Configuration conc = a;
  conc.tenants[1].concurrency = 2;
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(conc));
  Configuration order = a;
  std::swap(order.tenants[0], order.tenants[1]);
  EXPECT_NE(ConfigurationKey(a), ConfigurationKey(order));
}

TEST(MemoPredictor, IdenticalResultsOnePredictionPerDistinctConfiguration) {
  SimulatorPredictor sim;
  Counting inner(sim);
  MemoPredictor memo(inner);
  const std::vector<Configuration> batch1 = {Config(2, "GPU", 20), Config(1, "GPU", 20), Config(2, "GPU", 20)};
  auto direct1 = sim.PredictBatch(batch1);
  ASSERT_TRUE(direct1.ok()) << direct1.status().ToString();
  auto got1 = memo.PredictBatch(batch1);
  ASSERT_TRUE(got1.ok()) << got1.status().ToString();
  ASSERT_EQ(got1->size(), 3u);
  for (size_t i = 0; i < 3; ++i) ExpectSame((*got1)[i], (*direct1)[i]);
  // The duplicate inside the batch went to the inner predictor once.
  EXPECT_EQ(inner.calls.load(), 1);
  EXPECT_EQ(inner.configs_seen.load(), 2);
  EXPECT_EQ(memo.misses(), 2);
  EXPECT_EQ(memo.hits(), 1);

  // A second batch: two known configurations and one new one; only the new one is predicted.
  const std::vector<Configuration> batch2 = {Config(1, "GPU", 20), Config(2, "DLA0", 20), Config(2, "GPU", 20)};
  auto direct2 = sim.PredictBatch(batch2);
  ASSERT_TRUE(direct2.ok());
  auto got2 = memo.PredictBatch(batch2);
  ASSERT_TRUE(got2.ok());
  for (size_t i = 0; i < 3; ++i) ExpectSame((*got2)[i], (*direct2)[i]);
  EXPECT_EQ(inner.calls.load(), 2);
  EXPECT_EQ(inner.configs_seen.load(), 3);
  EXPECT_EQ(memo.size(), 3u);

  // Everything known: no inner call at all.
  auto got3 = memo.PredictBatch({Config(2, "DLA0", 20)});
  ASSERT_TRUE(got3.ok());
  ExpectSame((*got3)[0], (*direct2)[1]);
  EXPECT_EQ(inner.calls.load(), 2);

  // The bound and the name are the inner predictor's.
  EXPECT_EQ(memo.name(), "counting");
  EXPECT_EQ(memo.P95BoundFactor(0.95), std::optional(1.25));
  EXPECT_EQ(memo.P95BoundFactor(0.2), std::nullopt);

  memo.Clear();
  EXPECT_EQ(memo.size(), 0u);
  ASSERT_TRUE(memo.PredictBatch({Config(2, "DLA0", 20)}).ok());
  EXPECT_EQ(inner.calls.load(), 3);
}

TEST(MemoPredictor, ErrorsPassThroughAndAreNotRemembered) {
  SimulatorPredictor sim;
  Counting inner(sim);
  MemoPredictor memo(inner);
  Configuration bad = Config(2, "GPU", 20);
  bad.tenants[0].model = "no_such_model";
  auto r = memo.PredictBatch({Config(2, "GPU", 20), bad});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(memo.size(), 0u);
  auto empty = memo.PredictBatch({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace ecomap::estimator
