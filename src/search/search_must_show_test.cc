// The must-show: on Ackley and Levy in 20 dimensions with 500 evaluations, LA-MCTS beats
// random search and simulated annealing on the median best value over 10 fixed seeds (0..9).
// This asserts the medians, so it fails if LA-MCTS regresses. Also covers the bench runner's
// bad-input errors and its JSON.
//
// Under the sanitizer build (Debug + ASan/UBSan, about 10x slower even with ecomap_search at -O1)
// the comparison is reduced to 2 seeds of 200 evaluations with no median assertion; the full
// comparison runs in the normal suite.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "search/bench.h"

namespace ecomap::search {
namespace {

#ifdef ECOMAP_SEARCH_REDUCED_WORK
constexpr bool kReduced = true;
#else
constexpr bool kReduced = false;
#endif

struct Case {
  const char* function;
};

class MustShowTest : public ::testing::TestWithParam<Case> {};

TEST_P(MustShowTest, LaMctsBeatsRandomAndAnnealingOnTheMedianOf10Seeds) {
  BenchConfig c;
  c.function = GetParam().function;
  c.dims = 20;
  c.budget = kReduced ? 200 : 500;
  c.seeds = kReduced ? 2 : 10;
  c.first_seed = 0;
  double median[3];
  const char* algos[3] = {"lamcts", "random", "sa"};
  for (int a = 0; a < 3; ++a) {
    c.algo = algos[a];
    auto r = RunBench(c, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(static_cast<int>(r->runs.size()), c.seeds);
    for (const auto& run : r->runs) EXPECT_EQ(run.evaluations, c.budget);
    median[a] = r->median_best;
    std::printf("  %s-20, %d evals, %d seeds: %-6s median best %.4f, overhead %.4f ms/eval\n", c.function.c_str(),
                c.budget, c.seeds, algos[a], r->median_best, r->ms_per_eval);
  }
  if (kReduced) GTEST_SKIP() << "sanitizer build: reduced work, medians not compared";
  EXPECT_LT(median[0], median[1]) << "LA-MCTS must beat random search";
  EXPECT_LT(median[0], median[2]) << "LA-MCTS must beat simulated annealing";
}

INSTANTIATE_TEST_SUITE_P(Functions, MustShowTest, ::testing::Values(Case{"ackley"}, Case{"levy"}),
                         [](const auto& info) { return std::string(info.param.function); });

// Issue 20's must-show: at small budgets LA-MCTS (turbo sampler, the bench defaults) matches the
// reference implementation's (Python LaMCTS with TuRBO) median best over seeds 0-4 in 20
// dimensions: Ackley at 150 evaluations <= 3.44, Levy at 300 <= 16.14. Measured on the
// development VM: 3.21 and 5.26.
TEST(MustShow, TurboMatchesTheReferenceAtSmallBudgets) {
  struct Target {
    const char* function;
    int budget;
    double reference_median;
  };
  for (const Target& t : {Target{"ackley", 150, 3.44}, Target{"levy", 300, 16.14}}) {
    BenchConfig c;
    c.function = t.function;
    c.dims = 20;
    c.budget = kReduced ? 60 : t.budget;
    c.seeds = kReduced ? 1 : 5;
    c.algo = "lamcts";
    auto r = RunBench(c, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().message();
    std::printf("  %s-20, %d evals, %d seeds: lamcts (%s) median best %.4f (reference %.2f), %.4f ms/eval CPU\n",
                t.function, c.budget, c.seeds, r->settings.c_str(), r->median_best, t.reference_median,
                r->ms_per_eval);
    if (!kReduced) {
      EXPECT_LE(r->median_best, t.reference_median) << t.function;
    }
  }
}

TEST(RunBench, BadInputNamesTheValueAndTheFix) {
  struct Bad {
    const char* what;
    BenchConfig config;
    const char* needle;
  };
  auto with = [](auto edit) {
    BenchConfig c;
    c.dims = 2;
    c.budget = 50;
    c.seeds = 1;
    edit(c);
    return c;
  };
  const std::vector<Bad> cases = {
      {"dims 0", with([](BenchConfig& c) { c.dims = 0; }), "dims 0 must be >= 1"},
      {"dims -3", with([](BenchConfig& c) { c.dims = -3; }), "dims -3 must be >= 1"},
      {"budget below inits", with([](BenchConfig& c) { c.budget = 39; }), "--budget >= 40"},
      {"lb >= ub", with([](BenchConfig& c) { c.lb = 3; c.ub = 3; }), "pass --lb < --ub"},
      {"unknown function", with([](BenchConfig& c) { c.function = "sphere"; }), "unknown function 'sphere'"},
      {"unknown algorithm", with([](BenchConfig& c) { c.algo = "cmaes"; }), "unknown algorithm 'cmaes'"},
      {"unknown kernel", with([](BenchConfig& c) { c.kernel = "sigmoid"; }), "unknown SVM kernel 'sigmoid'"},
      {"unknown sampler", with([](BenchConfig& c) { c.sampler = "cma"; }), "unknown LA-MCTS sampler 'cma'"},
      {"no seeds", with([](BenchConfig& c) { c.seeds = 0; }), "seeds 0 must be >= 1"},
  };
  for (const auto& b : cases) {
    auto r = RunBench(b.config, nullptr);
    ASSERT_FALSE(r.ok()) << b.what;
    EXPECT_NE(r.status().message().find(b.needle), std::string::npos) << b.what << ": " << r.status().message();
  }
}

TEST(RunBench, JsonHasTheDocumentedKeysAndIsDeterministic) {
  BenchConfig c;
  c.function = "rastrigin";
  c.dims = 3;
  c.budget = 40;
  c.seeds = 3;
  c.algo = "lamcts";
  c.ninits = 10;
  c.batch_size = 10;
  int progress_calls = 0;
  auto r = RunBench(c, [&](int, const BenchRun&) { ++progress_calls; });
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(progress_calls, 3);
  const auto j = nlohmann::json::parse(BenchReportJson(*r));
  for (const char* key : {"function", "dims", "budget", "algo", "best", "median_best", "ms_per_eval"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["function"], "rastrigin");
  EXPECT_EQ(j["best"].size(), 3u);
  std::vector<double> best = j["best"].get<std::vector<double>>();
  EXPECT_DOUBLE_EQ(j["median_best"].get<double>(), Median(best));
  EXPECT_GE(j["ms_per_eval"].get<double>(), 0.0);
  auto again = RunBench(c, nullptr);
  ASSERT_TRUE(again.ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(again->runs[i].best, r->runs[i].best);
  EXPECT_NE(BenchReportTable(*r).find("median best f"), std::string::npos);
}

}  // namespace
}  // namespace ecomap::search
