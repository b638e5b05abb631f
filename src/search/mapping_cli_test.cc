// `ecomap search map` end to end: runs the real program (ECOMAP_BINARY) on the shipped default
// scenario; bad input fails with a message naming the value and the fix; a good run prints the
// configuration with labelled figures and --json has the documented keys.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr together
};

CliRun Ecomap(const std::string& args) {
  const std::string cmd = std::string(ECOMAP_BINARY) + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // Never a crash, an uncaught exception or (sanitizer build) a memory or UB report.
  for (const char* bad : {"terminate called", "AddressSanitizer", "LeakSanitizer", "runtime error:"}) {
    EXPECT_EQ(r.out.find(bad), std::string::npos) << args << "\n" << r.out;
  }
  return r;
}

TEST(SearchMapCli, BadInputNamesTheValueAndTheFix) {
  struct Case {
    const char* args;
    const char* needle;
  };
  const Case cases[] = {
      {"", "--threshold is required"},
      {"--threshold abc", "--threshold 'abc' is not a number: give the power threshold in W"},
      {"--threshold 0", "--threshold 0 must be > 0"},
      {"--threshold=-3", "--threshold -3 must be > 0"},
      {"--threshold 15 --intensity lots", "--intensity 'lots' is not a number"},
      {"--threshold 15 --algo cmaes", "unknown --algo 'cmaes': use lamcts, random, sa or exhaustive"},
      {"--threshold 15 --predictor magic", "unknown --predictor 'magic': use transformer"},
      {"--threshold 15 --platform nowhere", "--platform: "},
      {"--threshold 15 --predictor sim --model x.ecomap", "--model applies to --predictor transformer or analytic"},
      {"--threshold 15 --predictor sim --scenario /nonexistent/s.toml", "/nonexistent/s.toml"},
      {"--threshold 15 --predictor sim --budget 5", "--budget 5 is too small for lamcts: it needs at least 16"},
      {"--threshold 15 --predictor sim --budget 0", "--budget 0 must be between 1 and"},
      {"--threshold 15 --predictor sim --algo exhaustive --budget 1000", "exhaustive needs --budget >="},
      {"--threshold 15 --predictor analytic --model /nonexistent/m.ecomap", "/nonexistent/m.ecomap"},
      {"--threshold 15 --predictor sim --hour 24", "--hour 24 must be a UTC hour 0..23"},
  };
  for (const Case& c : cases) {
    const CliRun r = Ecomap(std::string("search map ") + c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
}

TEST(SearchMapCli, PrintsTheChosenConfigurationWithLabelledFigures) {
  const CliRun r = Ecomap("search map --platform xavier-sim --threshold 15 --predictor sim --budget 120 --seed 3");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* needle : {"chosen configuration: power mode", "p95 (simulated)", "power (simulated)",
                             "feasible: ", "time: ", "search ", "prediction ", "xavier-sim oracle"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
  }
}

TEST(SearchMapCli, JsonHasTheDocumentedKeysAndIsDeterministic) {
  const std::string args = "search map --threshold 12 --intensity 300 --predictor analytic --algo sa --budget 80 --json";
  const CliRun r = Ecomap(args);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"config", "predicted", "feasible", "cost", "power_w", "cdp_g_s", "accuracy_loss_pts",
                          "slo_met", "evaluations", "total_ms", "search_ms", "predict_ms", "predictor", "figures"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["predictor"], "analytic");
  EXPECT_EQ(j["figures"], "predicted");
  EXPECT_EQ(j["evaluations"], 80);
  EXPECT_EQ(j["config"]["tenants"].size(), j["slo_met"].size());
  const auto again = nlohmann::json::parse(Ecomap(args).out);
  EXPECT_EQ(again["config"], j["config"]);
  EXPECT_EQ(again["cost"], j["cost"]);
}

}  // namespace
