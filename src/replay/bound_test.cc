#include "replay/bound.h"
#include "replay/sweep.h"

#include <random>

#include <gtest/gtest.h>

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

TEST(SweepTest, InterpolatesACurveOnlyInsideItsRange) {
  const std::vector<std::pair<double, double>> curve = {{2.0, 50.0}, {0.0, 100.0}, {1.0, 80.0}};
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 0.5), 90.0);
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 1.5), 65.0);
  EXPECT_DOUBLE_EQ(*CarbonAtLoss(curve, 2.0), 50.0);
  EXPECT_FALSE(CarbonAtLoss(curve, 2.5).has_value());
  EXPECT_FALSE(CarbonAtLoss({}, 1).has_value());
  policy::ControllerContext ctx;
  EXPECT_FALSE(SweepRuns({"ecomap"}, 1, ctx).ok());
  StatusOr<std::vector<ControllerRun>> runs = SweepRuns({"ecomap", "maxn", "clover"}, 3, ctx);
  ASSERT_TRUE(runs.ok());
  std::vector<std::string> names;
  for (const ControllerRun& r : *runs) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"ecomap@0.00", "ecomap@0.50", "ecomap@1.00", "clover@0.00",
                                             "clover@0.50", "clover@1.00"}));
}

}  // namespace
}  // namespace ecomap::replay
