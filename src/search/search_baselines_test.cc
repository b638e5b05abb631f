// Tests for the baselines (random, simulated annealing, exhaustive), the Box/Budget contracts
// and the test functions.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "search/exhaustive.h"
#include "search/optimizer.h"
#include "search/random_search.h"
#include "search/simulated_annealing.h"
#include "search/test_functions.h"

namespace ecomap::search {
namespace {

TEST(TestFunctions, OptimaAndKnownValues) {
  struct Case {
    const char* name;
    std::vector<double> x;
    double want;
  };
  const std::vector<Case> cases = {
      {"ackley", {0, 0, 0}, 0.0},
      {"ackley", {1, 1}, 3.6253849384403627},
      {"levy", {1, 1, 1, 1}, 0.0},
      // w = 0.75: sin^2(0.75 pi) + 0.0625 (1 + 10 sin^2(0.75 pi + 1)) + 0.0625 (1 + sin^2(1.5 pi))
      {"levy", {0, 0}, 0.5 + 0.0625 * (1 + 10 * std::pow(std::sin(0.75 * M_PI + 1), 2)) + 0.125},
      {"rosenbrock", {1, 1, 1}, 0.0},
      {"rosenbrock", {0, 0}, 1.0},
      {"rastrigin", {0, 0, 0, 0}, 0.0},
      {"rastrigin", {1, 1}, 2.0},
  };
  for (const auto& c : cases) {
    auto fn = FindTestFunction(c.name);
    ASSERT_TRUE(fn.ok());
    EXPECT_NEAR(fn->eval(c.x), c.want, 1e-9) << c.name;
  }
  EXPECT_FALSE(FindTestFunction("sphere").ok());
  EXPECT_EQ(FindTestFunction("sphere").status().code(), StatusCode::kNotFound);
}

TEST(Box, ValidateAndSnap) {
  Box b;
  b.lb = {0, -1};
  b.ub = {3, 1};
  b.integer = {true, false};
  EXPECT_TRUE(b.Validate().ok());
  std::vector<double> x = {2.6, 5.0};
  b.Snap(&x);
  EXPECT_EQ(x, (std::vector<double>{3.0, 1.0}));
  x = {-7.0, -0.5};
  b.Snap(&x);
  EXPECT_EQ(x, (std::vector<double>{0.0, -0.5}));

  Box bad = b;
  bad.ub[1] = -1;
  EXPECT_NE(bad.Validate().message().find("dimension 1"), std::string::npos);
  Box no_int;
  no_int.lb = {0.2};
  no_int.ub = {0.8};
  no_int.integer = {true};
  EXPECT_FALSE(no_int.Validate().ok());
  EXPECT_FALSE(Box{}.Validate().ok());
  Box cat = b;
  cat.categorical = {false, true};  // dimension 1 is continuous
  EXPECT_NE(cat.Validate().message().find("dimension 1 is categorical but not integer"), std::string::npos);
  cat.categorical = {true};
  EXPECT_NE(cat.Validate().message().find("1 categorical flags for 2 dimensions"), std::string::npos);
  cat.categorical = {true, false};
  EXPECT_TRUE(cat.Validate().ok());
  EXPECT_TRUE(cat.is_categorical(0));
  EXPECT_EQ(cat.levels(0), 4);
  EXPECT_EQ(cat.levels(1), 0);
  Box inf;
  inf.lb = {0};
  inf.ub = {INFINITY};
  EXPECT_FALSE(inf.Validate().ok());
}

TEST(Budget, NeedsALimit) {
  EXPECT_FALSE(Budget{}.Validate().ok());
  Budget b;
  b.max_evals = -1;
  EXPECT_FALSE(b.Validate().ok());
  b.max_evals = 1;
  EXPECT_TRUE(b.Validate().ok());
}

TEST(ThreadCpuClock, MovesForwardWithWork) {
  ThreadCpuClock clock;
  const auto t0 = clock.Now();
  volatile double sink = 0;
  for (int i = 0; i < 2000000; ++i) sink = sink + std::sqrt(static_cast<double>(i));
  const auto t1 = clock.Now();
  EXPECT_GT(t1, t0);
}

TEST(MakeOptimizer, ByName) {
  for (const char* n : {"lamcts", "random", "sa", "exhaustive"}) {
    auto o = MakeOptimizer(n);
    ASSERT_TRUE(o.ok()) << n;
    EXPECT_EQ((*o)->name(), n);
  }
  auto bad = MakeOptimizer("cmaes");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cmaes"), std::string::npos);
}

class BaselineTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BaselineTest, DeterministicWithinBudgetAndInsideTheBox) {
  auto fn = FindTestFunction("rastrigin");
  Problem p = MakeMinimizationProblem(*fn, 5);
  Budget b;
  b.max_evals = 157;
  auto a = MakeOptimizer(GetParam());
  auto c = MakeOptimizer(GetParam());
  auto ra = (*a)->Maximize(p, b, 9);
  auto rc = (*c)->Maximize(p, b, 9);
  ASSERT_TRUE(ra.ok() && rc.ok());
  EXPECT_EQ(ra->evaluations, 157);
  EXPECT_EQ(ra->history.size(), 157u);
  EXPECT_EQ(ra->best_f, rc->best_f);
  double best = -INFINITY;
  for (size_t i = 0; i < ra->history.size(); ++i) {
    EXPECT_EQ(ra->history[i].x, rc->history[i].x);
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_GE(ra->history[i].x[j], fn->lb);
      EXPECT_LE(ra->history[i].x[j], fn->ub);
    }
    EXPECT_DOUBLE_EQ(ra->history[i].f, -fn->eval(ra->history[i].x));
    best = std::max(best, ra->history[i].f);
    EXPECT_EQ(ra->best_trace[i], best);
  }
  EXPECT_EQ(ra->best_f, best);
  auto rd = (*a)->Maximize(p, b, 10);
  ASSERT_TRUE(rd.ok());
  EXPECT_NE(rd->history.back().x, ra->history.back().x);
}

INSTANTIATE_TEST_SUITE_P(Baselines, BaselineTest, ::testing::Values("random", "sa"));

TEST(SimulatedAnnealing, BeatsRandomSearchOnASmoothBowl) {
  // A unimodal function: annealing's local moves must pay off against uniform sampling.
  Problem p;
  p.box = Box::Uniform(10, -10, 10);
  p.objective = [](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
    for (const auto& x : xs) {
      double s = 0;
      for (double t : x) s += (t - 3) * (t - 3);
      v->push_back(-s);
    }
    return Status::Ok();
  };
  Budget b;
  b.max_evals = 400;
  SimulatedAnnealing sa;
  RandomSearch rs;
  int sa_wins = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    auto a = sa.Maximize(p, b, seed);
    auto r = rs.Maximize(p, b, seed);
    ASSERT_TRUE(a.ok() && r.ok());
    sa_wins += a->best_f > r->best_f;
  }
  EXPECT_EQ(sa_wins, 5);
}

TEST(SimulatedAnnealing, RejectsBadOptions) {
  AnnealingOptions o;
  o.step_fraction = 0;
  SimulatedAnnealing sa(o);
  Budget b;
  b.max_evals = 10;
  auto r = sa.Maximize(MakeMinimizationProblem(*FindTestFunction("levy"), 2), b, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("step fraction"), std::string::npos);
}

TEST(Exhaustive, EnumeratesASmallIntegerGridAndFindsTheOptimum) {
  Problem p;
  p.box.lb = {0, 0, 0};
  p.box.ub = {3, 4, 2};
  p.box.integer = {true, true, true};
  std::set<std::vector<double>> seen;
  p.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
    for (const auto& x : xs) {
      seen.insert(x);
      v->push_back(-std::pow(x[0] - 2, 2) - std::pow(x[1] - 1, 2) - std::pow(x[2] - 2, 2));
    }
    return Status::Ok();
  };
  ExhaustiveSearch ex(ExhaustiveOptions{.grid_points = 0, .max_points = 1000, .batch_size = 7});
  auto n = ex.CountPoints(p.box);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4 * 5 * 3);
  Budget b;
  b.max_evals = 60;
  auto r = ex.Maximize(p, b, 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->evaluations, 60);
  EXPECT_EQ(seen.size(), 60u);  // every point exactly once
  EXPECT_EQ(r->best_x, (std::vector<double>{2, 1, 2}));
  EXPECT_EQ(r->best_f, 0.0);
  EXPECT_EQ(r->objective_calls, 9);  // ceil(60 / 7)

  b.max_evals = 59;
  auto short_budget = ex.Maximize(p, b, 0);
  ASSERT_FALSE(short_budget.ok());
  EXPECT_NE(short_budget.status().message().find("60 points"), std::string::npos);
}

// Problem::canonical: x[1] only matters when x[0] is 1, like a unit index that a "no cut" value
// leaves out. Repeats are answered from the first evaluation, free, and never reach the objective.
TEST(Canonical, RepeatsAreAnsweredFreeAndNeverReachTheObjective) {
  Problem p;
  p.box.lb = {0, 0};
  p.box.ub = {1, 9};
  p.box.integer = {true, true};
  std::set<std::vector<double>> seen;
  int calls_seen = 0;
  p.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
    for (const auto& x : xs) {
      const std::vector<double> c = x[0] == 1 ? x : std::vector<double>{0, 0};
      EXPECT_TRUE(seen.insert(c).second) << "configuration (" << c[0] << ", " << c[1] << ") evaluated twice";
      ++calls_seen;
      v->push_back(x[0] == 1 ? -std::fabs(x[1] - 7) : -3.0);
    }
    return Status::Ok();
  };
  p.canonical = [](const std::vector<double>& x) { return x[0] == 1 ? x : std::vector<double>{0, 0}; };
  ExhaustiveSearch ex(ExhaustiveOptions{.grid_points = 0, .max_points = 1000, .batch_size = 4});
  auto r = ex.Maximize(p, Budget{.max_evals = 20}, 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->evaluations, 11);  // (0, *) once, (1, 0..9)
  EXPECT_EQ(calls_seen, 11);
  EXPECT_EQ(r->repeats, 9);       // (0, 1..9)
  EXPECT_EQ(r->history.size(), 11u);
  EXPECT_EQ(r->best_x, (std::vector<double>{1, 7}));

  // Random search on the same problem: the budget counts distinct configurations only, and
  // once the free answers (an adaptive search gets max_evals / 4) are spent, repeats are
  // evaluated and counted again.
  seen.clear();
  calls_seen = 0;
  p.box.ub = {1, 1};  // 3 distinct configurations: (0, *), (1, 0), (1, 1)
  p.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
    calls_seen += static_cast<int>(xs.size());
    for (const auto& x : xs) v->push_back(x[0] + x[1]);
    return Status::Ok();
  };
  RandomSearch rs;
  auto small = rs.Maximize(p, Budget{.max_evals = 8}, 3);
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_EQ(small->evaluations, 8);
  EXPECT_EQ(calls_seen, 8);
  EXPECT_EQ(small->repeats, 2) << "8 / 4 free answers, then repeats count";
  EXPECT_FALSE(small->exhausted);
  EXPECT_EQ(small->best_f, 2.0);
}

TEST(Exhaustive, GridOverContinuousDimensionsAndLimits) {
  Problem p = MakeMinimizationProblem(*FindTestFunction("rastrigin"), 2);
  p.box = Box::Uniform(2, -2, 2);
  ExhaustiveSearch no_grid;
  Budget b;
  b.max_evals = 1000;
  auto r = no_grid.Maximize(p, b, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("continuous"), std::string::npos);

  ExhaustiveSearch grid(ExhaustiveOptions{.grid_points = 9, .max_points = 1000, .batch_size = 256});
  r = grid.Maximize(p, b, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->evaluations, 81);
  EXPECT_EQ(r->best_f, 0.0);  // (0, 0) is on the grid -2, -1.5, ..., 2

  ExhaustiveSearch tiny(ExhaustiveOptions{.grid_points = 100, .max_points = 1000, .batch_size = 256});
  r = tiny.Maximize(p, b, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 1000 points"), std::string::npos);
}

}  // namespace
}  // namespace ecomap::search
