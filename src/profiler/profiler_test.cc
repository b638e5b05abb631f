#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "platform/sim/xavier_sim.h"
#include "profiler/dataset.h"
#include "profiler/profiler.h"
#include "profiler/sampler.h"
#include "zoo/model.h"

namespace ecomap::profiler {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/ecomap_profiler_" + name;
}

// The simulator, as the registry builds "xavier-sim" with default options.
std::unique_ptr<platform::XavierSim> Sim() { return std::make_unique<platform::XavierSim>(); }

TEST(Sampler, EveryConfigurationIsValidAndCoverageIsEven) {
  auto sim = Sim();
  auto sampler = Sampler::Create(sim->info(), {}, zoo::Models());
  ASSERT_TRUE(sampler.ok()) << sampler.status().ToString();
  std::mt19937_64 rng(7);
  std::map<int, int> tenants, modes;
  std::map<std::string, int> families, units;
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    platform::Configuration c = sampler->Next(rng);
    ASSERT_TRUE(sim->Validate(c).ok()) << sim->Validate(c).ToString();
    ++tenants[static_cast<int>(c.tenants.size())];
    ++modes[c.power_mode];
    for (const auto& t : c.tenants) {
      ++families[zoo::FindModel(t.model)->family];
      for (const auto& s : t.stages) ++units[s.unit];
    }
  }
  // Uniform strata: each count within 25% of its expectation.
  for (int k = 1; k <= 6; ++k) EXPECT_NEAR(tenants[k], n / 6.0, n / 6.0 * 0.25) << k << " tenants";
  for (const auto& m : sim->info().modes) EXPECT_NEAR(modes[m.id], n / 7.0, n / 7.0 * 0.25) << "mode " << m.id;
  int total_fam = 0;
  for (auto& [f, c] : families) total_fam += c;
  for (auto& [f, c] : families) EXPECT_NEAR(c, total_fam / double(families.size()), total_fam / double(families.size()) * 0.25) << f;
  EXPECT_EQ(units.size(), sim->info().units.size());
}

TEST(Sampler, RejectsBadOptions) {
  auto sim = Sim();
  SamplerOptions o;
  o.max_tenants = 0;
  EXPECT_FALSE(Sampler::Create(sim->info(), o, zoo::Models()).ok());
  o = {};
  o.models = {"resnet9000"};
  auto s = Sampler::Create(sim->info(), o, zoo::Models());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("resnet9000"), std::string::npos);
  o = {};
  o.modes = {42};
  EXPECT_FALSE(Sampler::Create(sim->info(), o, zoo::Models()).ok());
}

TEST(Profile, WritesReadableReproducibleDatasets) {
  auto sim = Sim();
  auto sampler = Sampler::Create(sim->info(), {}, zoo::Models());
  ASSERT_TRUE(sampler.ok());
  ProfileOptions o;
  o.samples = 200;
  o.seed = 3;
  o.platform_name = "xavier-sim";
  std::string a = TempPath("a.jsonl"), b = TempPath("b.jsonl");
  for (const std::string& path : {a, b}) {
    // A fresh simulator with the same seed: every measurement simulates new requests, so the
    // same instance would give the second run other figures (a repeat, not a replay).
    auto fresh = Sim();
    auto evaluate = [&](const platform::Configuration& c) { return fresh->Evaluate(c); };
    auto w = DatasetWriter::Open(path, true);
    ASSERT_TRUE(w.ok());
    auto s = RunProfile(*sampler, evaluate, o, **w);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->written, 200);
  }
  auto da = ReadDataset(a);
  auto db = ReadDataset(b);
  ASSERT_TRUE(da.ok()) << da.status().ToString();
  ASSERT_TRUE(db.ok());
  ASSERT_EQ(da->samples.size(), 200u);
  for (size_t i = 0; i < da->samples.size(); ++i) {
    EXPECT_EQ(da->samples[i].config, db->samples[i].config);
    EXPECT_EQ(da->samples[i].result, db->samples[i].result);
    EXPECT_EQ(da->samples[i].result.provenance, platform::Provenance::kSimulated);
  }
}

TEST(Profile, MeasuresGivenConfigurationsRepeatedly) {
  auto sim = Sim();
  auto sampler = Sampler::Create(sim->info(), {}, zoo::Models());
  ASSERT_TRUE(sampler.ok());
  std::mt19937_64 rng(5);
  std::vector<platform::Configuration> configs;
  for (int i = 0; i < 3; ++i) configs.push_back(sampler->Next(rng));
  // The second configuration is refused by the evaluator: counted and skipped, not retried.
  int calls = 0;
  auto evaluate = [&](const platform::Configuration& c) -> StatusOr<platform::Performance> {
    ++calls;
    if (c == configs[1]) return Unavailable("refused");
    return sim->Evaluate(c);
  };
  ProfileOptions o;
  o.platform_name = "xavier-sim";
  std::string path = TempPath("repeat.jsonl");
  auto w = DatasetWriter::Open(path, true);
  ASSERT_TRUE(w.ok());
  auto s = RunProfileOn(configs, 2, evaluate, o, **w);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(s->written, 4);
  EXPECT_EQ(s->rejected, 2);
  auto d = ReadDataset(path);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->samples.size(), 4u);
  EXPECT_EQ(d->samples[0].config, configs[0]);
  EXPECT_EQ(d->samples[1].config, configs[0]);
  EXPECT_EQ(d->samples[2].config, configs[2]);
  EXPECT_EQ(d->samples[3].config, configs[2]);

  auto w2 = DatasetWriter::Open(TempPath("none.jsonl"), true);
  ASSERT_TRUE(w2.ok());
  EXPECT_FALSE(RunProfileOn(configs, 0, evaluate, o, **w2).ok());
  EXPECT_FALSE(RunProfileOn({}, 1, evaluate, o, **w2).ok());
}

TEST(Dataset, TruncatedLastLineIsSkippedAndCounted) {
  auto sim = Sim();
  auto sampler = Sampler::Create(sim->info(), {}, zoo::Models());
  std::mt19937_64 rng(1);
  Sample s;
  s.platform = "xavier-sim";
  s.config = sampler->Next(rng);
  s.result = *sim->Evaluate(s.config);
  std::string path = TempPath("trunc.jsonl");
  {
    std::ofstream f(path);
    std::string line = SampleToJsonLine(s);
    f << line << "\n" << line.substr(0, line.size() / 2);  // a crash mid-line
  }
  auto d = ReadDataset(path);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->samples.size(), 1u);
  EXPECT_EQ(d->truncated_lines, 1);
}

// `n` samples of sampled xavier-sim configurations, index 0..n-1, then a second measurement of
// sample `again` (index n).
std::vector<Sample> SamplesWithARepeat(int n, uint64_t seed, int again) {
  auto sim = Sim();
  auto sampler = Sampler::Create(sim->info(), {}, zoo::Models());
  std::mt19937_64 rng(seed);
  std::vector<Sample> samples;
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.index = i;
    s.config = sampler->Next(rng);
    samples.push_back(s);
  }
  samples.push_back(samples[static_cast<size_t>(again)]);
  samples.back().index = n;
  return samples;
}

TEST(Dataset, RemoveConfigurationsDropsEveryMeasurementOfATestConfiguration) {
  std::vector<Sample> samples = SamplesWithARepeat(6, 3, 2);  // configuration 2 measured twice
  std::vector<Sample> test = {samples[2], samples[4]};
  test[0].result.power = Watts{99};  // another measurement of the same configuration still matches
  EXPECT_EQ(RemoveConfigurations(&samples, test), 3);
  std::vector<int64_t> left;
  for (const Sample& s : samples) left.push_back(s.index);
  EXPECT_EQ(left, (std::vector<int64_t>{0, 1, 3, 5}));
  EXPECT_EQ(RemoveConfigurations(&samples, {}), 0);
}

TEST(Dataset, KeepConfigurationsKeepsEveryMeasurementOfTheGivenConfigurations) {
  std::vector<Sample> samples = SamplesWithARepeat(5, 5, 1);  // configuration 1 measured twice
  std::vector<Sample> wanted = {samples[1], samples[3]};
  wanted[1].result.power = Watts{42};  // another measurement of the same configuration still matches
  EXPECT_EQ(KeepConfigurations(&samples, wanted), 3);  // 0, 2 and 4
  std::vector<int64_t> left;
  for (const Sample& s : samples) left.push_back(s.index);
  EXPECT_EQ(left, (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(KeepConfigurations(&samples, {}), 3);
  EXPECT_TRUE(samples.empty());
}

TEST(Dataset, MalformedLinesNameFileLineAndProblem) {
  auto sim = Sim();
  auto sampler = Sampler::Create(sim->info(), {}, zoo::Models());
  std::mt19937_64 rng(1);
  Sample s;
  s.platform = "xavier-sim";
  s.config = sampler->Next(rng);
  s.result = *sim->Evaluate(s.config);
  nlohmann::json good = nlohmann::json::parse(SampleToJsonLine(s));
  struct Case {
    std::string name;
    std::string line;
    std::string expect;
  };
  nlohmann::json no_result = good;
  no_result.erase("result");
  nlohmann::json wrong_type = good;
  wrong_type["result"]["power_w"] = "lots";
  nlohmann::json old_schema = good;
  old_schema["schema"] = "ecomap.profile.v0";
  nlohmann::json no_power = good;
  no_power["result"].erase("power_w");
  std::vector<Case> cases = {
      {"json", "{not json", "not valid JSON"},
      {"missing", no_result.dump(), "missing field 'result'"},
      {"type", wrong_type.dump(), "result"},
      {"schema", old_schema.dump(), "another version"},
      {"field", no_power.dump(), "power_w"},
      {"array", "[1,2]", "JSON object"},
  };
  for (const auto& c : cases) {
    std::string path = TempPath("bad_" + c.name + ".jsonl");
    {
      std::ofstream f(path);
      f << good.dump() << "\n" << c.line << "\n";
    }
    auto d = ReadDataset(path);
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_NE(d.status().message().find(path + ":2"), std::string::npos) << d.status().message();
    EXPECT_NE(d.status().message().find(c.expect), std::string::npos) << c.name << ": " << d.status().message();
  }
  EXPECT_EQ(ReadDataset(TempPath("does_not_exist.jsonl")).status().code(), StatusCode::kNotFound);
  {
    std::ofstream f(TempPath("empty.jsonl"));
  }
  EXPECT_FALSE(ReadDataset(TempPath("empty.jsonl")).ok());
}

}  // namespace
}  // namespace ecomap::profiler
