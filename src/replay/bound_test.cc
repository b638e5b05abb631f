#include "replay/bound.h"

#include <gtest/gtest.h>

#include <random>

#include "replay/replay.h"
#include "replay/sweep.h"

namespace ecomap::replay {
namespace {

// The optimum by enumeration (every SLO held; budget as in bound.h).
double BruteForce(const std::vector<std::vector<BoundCandidate>>& iv, double budget) {
  double best = 1e300;
  std::vector<size_t> pick(iv.size(), 0);
  for (;;) {
    double carbon = 0, w = 0, r = 0;
    bool ok = true;
    for (size_t k = 0; k < iv.size(); ++k) {
      const BoundCandidate& c = iv[k][pick[k]];
      ok = ok && c.slo_violations == 0;
      carbon += c.carbon_g, w += c.loss_weight, r += c.requests;
    }
    if (ok && w <= budget * r + 1e-9) best = std::min(best, carbon);
    size_t k = 0;
    while (k < iv.size() && ++pick[k] == iv[k].size()) pick[k++] = 0;
    if (k == iv.size()) break;
  }
  return best;
}

TEST(BoundTest, BracketsTheOptimumAndNeverExceedsAFeasibleController) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 2 + trial % 6, m = 2 + trial % 3;
    std::vector<std::vector<BoundCandidate>> iv(n);
    for (int k = 0; k < n; ++k) {
      for (int i = 0; i < m; ++i) {
        BoundCandidate c;
        c.source = "c" + std::to_string(i);
        c.requests = 100;
        const double loss = i == 0 ? 0.0 : 3 * u(rng);  // controller c0 never loses accuracy
        c.loss_weight = loss * c.requests;
        c.carbon_g = 10 + 10 * u(rng) - 2 * loss;        // accuracy buys carbon
        c.slo_violations = (i > 0 && u(rng) < 0.1) ? 1 : 0;
        iv[k].push_back(c);
      }
    }
    for (double budget : {0.0, 0.5, 1.5}) {
      StatusOr<BoundResult> b = SolveBound(iv, budget);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      const double opt = BruteForce(iv, budget);
      EXPECT_LE(b->lower_bound_g, opt + 1e-6) << "trial " << trial;
      EXPECT_GE(b->carbon_g, opt - 1e-6) << "trial " << trial;
      EXPECT_LE(b->accuracy_loss_pts, budget + 1e-9);
      // c0 held every SLO at 0 loss: the bound is never above it.
      double c0 = 0;
      for (const auto& k : iv) c0 += k[0].carbon_g;
      EXPECT_LE(b->carbon_g, c0 + 1e-9);
      EXPECT_EQ(b->infeasible_intervals, 0);
    }
  }
}

TEST(BoundTest, CountsIntervalsNobodyServedAndRejectsBadInput) {
  std::vector<std::vector<BoundCandidate>> iv = {
      {{"a", 5, 0, 10, 0}, {"b", 3, 0, 10, 0}},
      {{"a", 5, 0, 10, 2}, {"b", 4, 0, 10, 1}},  // nobody held every SLO: fewest violations
  };
  StatusOr<BoundResult> b = SolveBound(iv, 0);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->infeasible_intervals, 1);
  EXPECT_DOUBLE_EQ(b->carbon_g, 7);
  EXPECT_EQ(b->choice, (std::vector<int>{1, 1}));
  EXPECT_FALSE(SolveBound(iv, -1).ok());
  EXPECT_FALSE(SolveBound({{}}, 0).ok());
  // Every candidate spends more accuracy than the budget allows.
  std::vector<std::vector<BoundCandidate>> lossy = {{{"a", 1, 50, 10, 0}}};
  Status s = SolveBound(lossy, 1).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("budget"), std::string::npos);
}

TEST(SweepTest, ReadsACurveAsItsLowerEnvelopeOnlyInsideItsRange) {
  const std::vector<std::pair<double, double>> curve = {{2.0, 50.0}, {0.0, 100.0}, {1.0, 80.0}};
  // (1, 80) lies above the line from (0, 100) to (2, 50): mixing the ends is cheaper.
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 0.5), 87.5);
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 1.0), 75.0);
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 1.5), 62.5);
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 2.0), 50.0);
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 0.0), 100.0);
  EXPECT_FALSE(CarbonAtLoss(curve, 2.5).has_value());
  EXPECT_FALSE(CarbonAtLoss(curve, -0.1).has_value());
  EXPECT_FALSE(CarbonAtLoss({}, 1).has_value());
  // A setting that loses more accuracy and emits more than another never lifts the figure: at
  // 2 points the cheaper setting at 1 point is taken (a neighbour line would give 120).
  const std::vector<std::pair<double, double>> dominated = {{1.0, 50.0}, {2.0, 120.0}, {3.0, 100.0}};
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(dominated, 2.0), 50.0);
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(dominated, 3.0), 50.0);
  policy::ControllerContext ctx;
  EXPECT_FALSE(SweepRuns({"ecomap"}, 1, ctx).ok());
  StatusOr<std::vector<ControllerRun>> runs = SweepRuns({"ecomap", "maxn", "clover"}, 3, ctx);
  ASSERT_TRUE(runs.ok());
  std::vector<std::string> names;
  for (const ControllerRun& r : *runs) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"ecomap@0.00", "ecomap@0.50", "ecomap@1.00", "clover@0.00",
                                             "clover@0.50", "clover@1.00"}));
}

// Two intervals, a clean one (100 g/kWh) and a dirty one (500); "a" loses nothing, "b" loses
// 2 points for less energy, more so in the clean interval. A budget of 1 point lets one interval
// take "b": the bound takes it where it saves carbon (the dirty one), the carbon-blind bound
// where it saves energy (the clean one).
TEST(BoundTest, CarbonBlindBoundSpendsTheBudgetWhereEnergyNotCarbonFalls) {
  auto interval = [](double ci, double wh, double loss) {
    IntervalRecord r;
    r.intensity_g_per_kwh = ci;
    r.energy_wh = wh;
    r.carbon_g = wh / 1000.0 * ci;
    r.accuracy_loss_pts = loss;
    r.requests = 100;
    return r;
  };
  ControllerSummary a, b;
  a.name = "a";
  a.intervals = {interval(100, 1.0, 0), interval(500, 1.0, 0)};
  b.name = "b";
  b.intervals = {interval(100, 0.5, 2), interval(500, 0.6, 2)};
  const std::vector<ControllerSummary> cs = {a, b};
  StatusOr<BoundResult> bound = SolveBound(BoundCandidates(cs, 2), 1.0 + 1e-9);
  ASSERT_TRUE(bound.ok()) << bound.status().message();
  EXPECT_NEAR(bound->carbon_g, 0.1 + 0.3, 1e-9);
  StatusOr<CarbonBlindBound> blind = SolveCarbonBlindBound(BoundCandidates(cs, 2), 1.0 + 1e-9);
  ASSERT_TRUE(blind.ok()) << blind.status().message();
  ASSERT_TRUE(blind->feasible);
  EXPECT_NEAR(blind->energy_wh, 1.5, 1e-9);
  EXPECT_NEAR(blind->carbon_g, 0.05 + 0.5, 1e-9);
  EXPECT_NEAR(blind->accuracy_loss_pts, 1.0, 1e-9);
  EXPECT_GE(blind->carbon_g, bound->carbon_g);
  // No budget: only "a" fits; a negative one is refused like the bound's.
  StatusOr<CarbonBlindBound> none = SolveCarbonBlindBound(BoundCandidates(cs, 2), 0);
  ASSERT_TRUE(none.ok());
  EXPECT_NEAR(none->carbon_g, 0.6, 1e-9);
  EXPECT_FALSE(SolveCarbonBlindBound(BoundCandidates(cs, 2), -1).ok());
}

}  // namespace
}  // namespace ecomap::replay
