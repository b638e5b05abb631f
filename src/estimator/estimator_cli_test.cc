// `ecomap estimator eval|calibrate` end to end: runs the real program (ECOMAP_BINARY) on fresh
// xavier-sim profiles: eval --json has the documented keys (the analytic baseline's p95 MAPE and
// the p95 bound's coverage beside the MAPEs), calibrate writes a new model with the bound and
// leaves its input alone, bad input names the value and the fix.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "estimator/model_file.h"
#include "estimator/transformer.h"  // the format constants only (the header is torch-free)

namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout
  std::string all;  // stdout and stderr
};

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/estimator_cli_" + std::to_string(::getpid()) + "_" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CliRun Ecomap(const std::string& args) {
  const std::string err = TempPath("stderr");
  const std::string cmd = std::string(ECOMAP_BINARY) + " " + args + " 2>" + err;
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.all = r.out + ReadAll(err);
  std::remove(err.c_str());
  for (const char* bad : {"terminate called", "AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
    EXPECT_EQ(r.all.find(bad), std::string::npos) << args << "\n" << r.all;
  }
  return r;
}

class EstimatorCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cal_ = new std::string(TempPath("cal.jsonl"));
    test_ = new std::string(TempPath("test.jsonl"));
    for (const auto& [path, seed] : {std::pair{cal_, 5}, std::pair{test_, 6}}) {
      CliRun r = Ecomap("profile --platform xavier-sim --samples 150 --seed " + std::to_string(seed) +
                        " --out " + *path);
      ASSERT_EQ(r.code, 0) << r.all;
    }
  }
  static void TearDownTestSuite() {
    std::remove(cal_->c_str());
    std::remove(test_->c_str());
    delete cal_;
    delete test_;
  }
  static nlohmann::json Json(const CliRun& r) {
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << r.all;
    return j;
  }
  static std::string* cal_;
  static std::string* test_;
};
std::string* EstimatorCli::cal_ = nullptr;
std::string* EstimatorCli::test_ = nullptr;

TEST_F(EstimatorCli, EvalJsonHasTheBaselineBesideTheMapes) {
  CliRun r = Ecomap("estimator eval --data " + *test_ + " --json");
  ASSERT_EQ(r.code, 0) << r.all;
  nlohmann::json j = Json(r);
  for (const char* k : {"latency_p95_mape", "analytic_latency_p95_mape", "throughput_mape", "power_mape"}) {
    ASSERT_TRUE(j.contains(k) && j[k].is_number()) << k << "\n" << r.out;
    EXPECT_GT(j[k].get<double>(), 0.0) << k;
  }
  EXPECT_EQ(j.at("samples").get<int64_t>(), 150);
  EXPECT_DOUBLE_EQ(j.at("analytic_latency_p95_mape").get<double>(),
                   j.at("analytic").at("latency_p95_mape").get<double>());
  // Present either way: numbers for a calibrated model, null for one without a bound.
  for (const char* k : {"coverage_90", "coverage_95"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_TRUE(j[k].is_null() || j[k].is_number()) << k;
  }
}

TEST_F(EstimatorCli, CalibrateWritesANewModelWhoseBoundEvalScores) {
  const std::string model = ecomap::estimator::DefaultModelPath();
  const std::string before = ReadAll(model);
  const std::string out = TempPath("calibrated.ecomap");
  CliRun c = Ecomap("estimator calibrate --data " + *cal_ + " --out " + out);
  ASSERT_EQ(c.code, 0) << c.all;
  EXPECT_NE(c.out.find("p95 bound (split conformal on"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("wrote " + out), std::string::npos) << c.out;
  EXPECT_EQ(ReadAll(model), before) << "calibrate must not touch its input";
  // Only the meta's "conformal" key differs; the weights are the input's, byte for byte.
  using ecomap::estimator::kTransformerFormat, ecomap::estimator::kTransformerVersion;
  auto in = ecomap::estimator::ReadModelFile(model, kTransformerFormat, kTransformerVersion);
  auto written = ecomap::estimator::ReadModelFile(out, kTransformerFormat, kTransformerVersion);
  ASSERT_TRUE(in.ok() && written.ok()) << written.status().message();
  EXPECT_EQ(in->weights, written->weights);
  nlohmann::json meta = written->meta;
  ASSERT_TRUE(meta.contains("conformal"));
  EXPECT_GT(meta["conformal"].at("scores").get<int64_t>(), 100);
  EXPECT_NE(meta["conformal"].at("source").get<std::string>().find(*cal_), std::string::npos);
  meta.erase("conformal");
  nlohmann::json meta_in = in->meta;
  meta_in.erase("conformal");
  EXPECT_EQ(meta, meta_in);

  CliRun e = Ecomap("estimator eval --model " + out + " --data " + *test_ + " --json");
  ASSERT_EQ(e.code, 0) << e.all;
  nlohmann::json j = Json(e);
  for (const char* k : {"coverage_90", "coverage_95"}) {
    ASSERT_TRUE(j.at(k).is_number()) << k << "\n" << e.out;
    EXPECT_GE(j[k].get<double>(), 0.0);
    EXPECT_LE(j[k].get<double>(), 100.0);
  }
  EXPECT_LE(j.at("coverage_90").get<double>(), j.at("coverage_95").get<double>());
  EXPECT_LE(j.at("bound_factor_90").get<double>(), j.at("bound_factor_95").get<double>());
  EXPECT_EQ(j.at("conformal").at("scores"), written->meta.at("conformal").at("scores"));
  CliRun text = Ecomap("estimator eval --model " + out + " --data " + *test_);
  ASSERT_EQ(text.code, 0) << text.all;
  EXPECT_NE(text.out.find("p95 bound coverage on these samples"), std::string::npos) << text.out;

  // --out equal to --model replaces it (atomically); here on the copy.
  CliRun again =
      Ecomap("estimator calibrate --model " + out + " --data " + *test_ + " --out " + out + " --json");
  ASSERT_EQ(again.code, 0) << again.all;
  nlohmann::json cj = Json(again);
  EXPECT_NE(cj.at("source").get<std::string>().find(*test_), std::string::npos);
  auto replaced = ecomap::estimator::ReadModelFile(out, ecomap::estimator::kTransformerFormat,
                                                   ecomap::estimator::kTransformerVersion);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->meta.at("conformal").at("source"), cj.at("source"));
  std::remove(out.c_str());
}

TEST_F(EstimatorCli, CalibrateNamesBadInput) {
  struct Case {
    std::string args;
    std::string needle;
  };
  const std::string out = TempPath("never.ecomap");
  const Case cases[] = {
      {"--data " + *cal_, "--out is required"},
      {"--out " + out, "--data is required"},
      {"--data " + *cal_ + " --out " + *cal_, "--out " + *cal_ + " is the --data file"},
      {"--model /nonexistent/m.ecomap --data " + *cal_ + " --out " + out, "/nonexistent/m.ecomap"},
      {"--data /nonexistent/cal.jsonl --out " + out, "/nonexistent/cal.jsonl"},
  };
  for (const Case& c : cases) {
    CliRun r = Ecomap("estimator calibrate " + c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.all.find(c.needle), std::string::npos) << c.args << "\n" << r.all;
  }
  EXPECT_EQ(ReadAll(out), "") << "a failed calibration writes nothing";
  CliRun help = Ecomap("estimator calibrate --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--out"), std::string::npos) << help.out;
}

TEST_F(EstimatorCli, TrainNamesAnUnknownLoss) {
  const std::string out = TempPath("never_trained.ecomap");
  CliRun r = Ecomap("estimator train --data " + *cal_ + " --out " + out + " --epochs 1 --loss mape");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.all.find("mape"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find("--loss"), std::string::npos) << r.all;
  EXPECT_EQ(ReadAll(out), "") << "a refused run writes nothing";
  CliRun help = Ecomap("estimator train --help");
  EXPECT_NE(help.out.find("relative"), std::string::npos) << help.out;
}

}  // namespace
