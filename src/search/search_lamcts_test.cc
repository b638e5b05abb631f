// Tests for LA-MCTS's pieces (KMeans, SVM boundary, GP, partition tree, region samplers) and
// the optimizer itself: determinism, budgets, bad input.
#include "search/lamcts.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

#include "search/bench.h"
#include "search/gaussian_process.h"
#include "search/kmeans.h"
#include "search/partition_tree.h"
#include "search/random_search.h"
#include "search/region_samplers.h"
#include "search/sampling.h"
#include "search/svm_boundary.h"
#include "search/test_functions.h"

namespace ecomap::search {
namespace {

TEST(LatinHypercube, EveryStratumHoldsOnePoint) {
  Rng rng(3);
  const int n = 17, d = 5;
  const Eigen::MatrixXd u = LatinHypercube(n, d, rng);
  for (int j = 0; j < d; ++j) {
    std::vector<int> hits(n, 0);
    for (int i = 0; i < n; ++i) {
      ASSERT_GE(u(i, j), 0.0);
      ASSERT_LT(u(i, j), 1.0);
      ++hits[static_cast<size_t>(u(i, j) * n)];
    }
    for (int h : hits) EXPECT_EQ(h, 1);
  }
}

TEST(KMeans, FindsTwoSeparatedBlobs) {
  Rng rng(1);
  Eigen::MatrixXd p(40, 2);
  for (int i = 0; i < 40; ++i) {
    const double cx = i < 20 ? 0.0 : 10.0;
    p(i, 0) = cx + 0.1 * StandardNormal(rng);
    p(i, 1) = cx + 0.1 * StandardNormal(rng);
  }
  const KMeansResult r = KMeans(p, 2, rng);
  for (int i = 1; i < 20; ++i) EXPECT_EQ(r.labels[static_cast<size_t>(i)], r.labels[0]);
  for (int i = 21; i < 40; ++i) EXPECT_EQ(r.labels[static_cast<size_t>(i)], r.labels[20]);
  EXPECT_NE(r.labels[0], r.labels[20]);
}

struct KernelCase {
  SvmKernel kernel;
  double gamma;
  double shift = 0.0;
};

class SvmBoundaryTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(SvmBoundaryTest, EigenDecisionMatchesLibsvmAndSeparates) {
  Rng rng(11);
  const int n = 80, d = 4;
  Eigen::MatrixXd x(n, d);
  std::vector<int> labels(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) x(i, j) = Uniform01(rng);
    labels[static_cast<size_t>(i)] = x(i, 0) + x(i, 1) < 1.0 ? 0 : 1;
  }
  SvmOptions o;
  o.kernel = GetParam().kernel;
  o.gamma = GetParam().gamma;
  o.shift = GetParam().shift;
  o.c = 10.0;
  auto svm = SvmBoundary::Train(x, labels, o);
  ASSERT_TRUE(svm.ok()) << svm.status().message();
  const Eigen::VectorXi train_pred = (*svm)->Predict(x);
  int correct = 0;
  for (int i = 0; i < n; ++i) correct += train_pred(i) == labels[static_cast<size_t>(i)];
  EXPECT_GE(correct, n * 8 / 10);
  Eigen::MatrixXd probe(200, d);
  for (int i = 0; i < 200; ++i)
    for (int j = 0; j < d; ++j) probe(i, j) = Uniform01(rng);
  const Eigen::VectorXi pred = (*svm)->Predict(probe);
  const Eigen::VectorXd dec = (*svm)->Decision(probe);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(pred(i), (*svm)->PredictWithLibsvm(probe.row(i))) << "row " << i;
    EXPECT_NEAR(dec(i), (*svm)->DecisionWithLibsvm(probe.row(i)), 1e-9) << "row " << i;
  }

  // Points close to the boundary, where rbf's single-precision screen must hand over to double:
  // bisect between a point of each label down to decision values of about 1e-7 and less.
  int near = 0;
  Eigen::MatrixXd edge(0, d);
  for (int i = 0; i + 1 < 200 && near < 60; ++i) {
    if (pred(i) == pred(i + 1)) continue;
    Eigen::RowVectorXd a = probe.row(i), b = probe.row(i + 1);
    for (int it = 0; it < 60; ++it) {
      const Eigen::RowVectorXd mid = 0.5 * (a + b);
      const bool same_as_a = ((*svm)->Decision(mid)(0) > 0.0) == (dec(i) > 0.0);
      (same_as_a ? a : b) = mid;
      if (it >= 20 && it % 8 == 0) {
        edge.conservativeResize(edge.rows() + 2, d);
        edge.row(edge.rows() - 2) = a;
        edge.row(edge.rows() - 1) = b;
      }
    }
    ++near;
  }
  ASSERT_GT(edge.rows(), 20);
  const Eigen::VectorXi edge_pred = (*svm)->Predict(edge);
  const Eigen::VectorXd edge_dec = (*svm)->Decision(edge);
  for (Eigen::Index i = 0; i < edge.rows(); ++i) {
    const int libsvm = (*svm)->PredictWithLibsvm(edge.row(i));
    // Where the two double computations disagree on the sign (|value| ~ 1e-16) either is right.
    if (std::fabs(edge_dec(i)) > 1e-12) {
      EXPECT_EQ(edge_pred(i), libsvm) << "edge row " << i << " decision " << edge_dec(i);
    }
    EXPECT_NEAR(edge_dec(i), (*svm)->DecisionWithLibsvm(edge.row(i)), 1e-9) << "edge row " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, SvmBoundaryTest,
                         ::testing::Values(KernelCase{SvmKernel::kRbf, 0.0}, KernelCase{SvmKernel::kRbf, 2.0},
                                           KernelCase{SvmKernel::kPoly, 0.0}, KernelCase{SvmKernel::kPoly, 0.0, 0.5},
                                           KernelCase{SvmKernel::kRbf, 0.0, 0.5}, KernelCase{SvmKernel::kLinear, 0.0}));

TEST(SvmBoundary, RejectsOneClass) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Random(5, 2);
  EXPECT_FALSE(SvmBoundary::Train(x, {0, 0, 0, 0, 0}, {}).ok());
  EXPECT_FALSE(SvmBoundary::Train(x, {0, 1}, {}).ok());
}

TEST(ParseNames, KernelsAndSamplers) {
  EXPECT_TRUE(ParseSvmKernel("poly").ok());
  EXPECT_FALSE(ParseSvmKernel("sigmoid").ok());
  EXPECT_NE(ParseSvmKernel("sigmoid").status().message().find("rbf, poly or linear"), std::string::npos);
  EXPECT_TRUE(ParseRegionSampler("bo").ok());
  EXPECT_EQ(*ParseRegionSampler("turbo"), RegionSampler::kTurbo);
  EXPECT_EQ(RegionSamplerName(RegionSampler::kTurbo), "turbo");
  EXPECT_FALSE(ParseRegionSampler("cma").ok());
  EXPECT_NE(ParseRegionSampler("cma").status().message().find("perturb, bo or turbo"), std::string::npos);
}

TEST(GaussianProcess, InterpolatesASmoothFunction) {
  Rng rng(5);
  const int n = 40;
  Eigen::MatrixXd x(n, 2);
  Eigen::VectorXd y(n);
  auto g = [](double a, double b) { return std::sin(3 * a) + b * b; };
  for (int i = 0; i < n; ++i) {
    x(i, 0) = Uniform01(rng);
    x(i, 1) = Uniform01(rng);
    y(i) = g(x(i, 0), x(i, 1));
  }
  GaussianProcess gp;
  ASSERT_TRUE(gp.Fit(x, y).ok());
  Eigen::MatrixXd q(20, 2);
  for (int i = 0; i < 20; ++i) {
    q(i, 0) = 0.1 + 0.8 * Uniform01(rng);
    q(i, 1) = 0.1 + 0.8 * Uniform01(rng);
  }
  Eigen::VectorXd mu, sd;
  gp.Predict(q, &mu, &sd);
  for (int i = 0; i < 20; ++i) EXPECT_NEAR(mu(i), g(q(i, 0), q(i, 1)), 0.1) << i;
  // At a training point the posterior is nearly certain and EI of "beat the max" is tiny there.
  Eigen::VectorXd mu0, sd0;
  gp.Predict(x.topRows(1), &mu0, &sd0);
  EXPECT_LT(sd0(0), 0.05);
  EXPECT_FALSE(gp.Fit(x, y.head(3)).ok());
}

TEST(GaussianProcess, JointSamplesFollowThePosterior) {
  Rng rng(8);
  const int n = 30;
  Eigen::MatrixXd x = LatinHypercube(n, 2, rng);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) y(i) = std::sin(3.0 * x(i, 0)) + x(i, 1);
  GaussianProcess gp;
  ASSERT_TRUE(gp.Fit(x, y).ok());
  // Zero normals give the posterior mean; Mean() agrees with Predict().
  Eigen::MatrixXd pts(3, 2);
  pts << 0.2, 0.3, 0.7, 0.9, x(0, 0), x(0, 1);
  Eigen::VectorXd mu, sd;
  gp.Predict(pts, &mu, &sd);
  EXPECT_LT((gp.Mean(pts) - mu).cwiseAbs().maxCoeff(), 1e-9);
  Eigen::MatrixXd draws;
  ASSERT_TRUE(gp.SampleJoint(pts, Eigen::MatrixXd::Zero(3, 2), &draws).ok());
  ASSERT_EQ(draws.rows(), 3);
  ASSERT_EQ(draws.cols(), 2);
  EXPECT_LT((draws.col(0) - mu).cwiseAbs().maxCoeff(), 1e-9);
  // Many draws: their spread matches the posterior standard deviation; at a training point
  // (row 2) it is about 0.
  const int k = 4000;
  Eigen::MatrixXd z(3, k);
  for (int j = 0; j < k; ++j) {
    for (int i = 0; i < 3; ++i) z(i, j) = StandardNormal(rng);
  }
  ASSERT_TRUE(gp.SampleJoint(pts, z, &draws).ok());
  for (int i = 0; i < 3; ++i) {
    const double m = draws.row(i).mean();
    const double s = std::sqrt((draws.row(i).array() - m).square().mean());
    EXPECT_NEAR(m, mu(i), 0.1 * sd(i) + 1e-3) << "point " << i;
    EXPECT_NEAR(s, sd(i), 0.1 * sd(i) + 1e-3) << "point " << i;
  }
  EXPECT_LT(sd(2), 0.05);
  EXPECT_FALSE(gp.SampleJoint(pts, Eigen::MatrixXd::Zero(2, 1), &draws).ok());
}

// TuRBO's schedule, step by step: (improved?, side length after the batch, restarts).
TEST(TrustRegion, ExpandsAfterSuccessesShrinksAfterFailuresAndRestarts) {
  TrustRegionOptions o;
  o.initial_length = 0.8;
  o.min_length = 0.15;
  o.max_length = 1.6;
  o.success_tolerance = 2;
  o.failure_tolerance = 3;
  ASSERT_TRUE(o.Validate().ok());
  TrustRegion tr(o);
  struct Step {
    bool improved;
    double length;
    int restarts;
  };
  const std::vector<Step> steps = {
      {true, 0.8, 0},   {true, 1.6, 0},                    // 2 successes: doubled
      {true, 1.6, 0},   {true, 1.6, 0},                    // capped at max_length
      {false, 1.6, 0},  {false, 1.6, 0}, {false, 0.8, 0},  // 3 failures: halved
      {true, 0.8, 0},   {false, 0.8, 0}, {false, 0.8, 0},  // a success resets the failure count
      {false, 0.4, 0},  {false, 0.4, 0}, {false, 0.4, 0}, {false, 0.2, 0},
      {false, 0.2, 0},  {false, 0.2, 0}, {false, 0.8, 1},  // 0.1 < min_length: restart at 0.8
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    tr.Update(steps[i].improved);
    EXPECT_DOUBLE_EQ(tr.length(), steps[i].length) << "step " << i;
    EXPECT_EQ(tr.restarts(), steps[i].restarts) << "step " << i;
  }
  // TuRBO-1's settings: failure tolerance ceil(max(4, d) / batch).
  EXPECT_EQ(TrustRegionOptions::Turbo(20, 5).failure_tolerance, 4);
  EXPECT_EQ(TrustRegionOptions::Turbo(20, 10).failure_tolerance, 2);
  EXPECT_EQ(TrustRegionOptions::Turbo(2, 1).failure_tolerance, 4);
  EXPECT_DOUBLE_EQ(TrustRegionOptions::Turbo(20, 5).initial_length, 0.8);
  TrustRegionOptions bad = o;
  bad.min_length = 1.0;
  EXPECT_NE(bad.Validate().message().find("min <= initial <= max"), std::string::npos);
  bad = o;
  bad.failure_tolerance = 0;
  EXPECT_NE(bad.Validate().message().find("failures 0"), std::string::npos);
}

// A tree over Ackley samples in 6 dims: used by the tree and sampler tests.
struct TreeFixture {
  Eigen::MatrixXd xu;
  Eigen::VectorXd f;
  TreeFixture(int n, int d, uint64_t seed) : xu(n, d), f(n) {
    Rng rng(seed);
    xu = LatinHypercube(n, d, rng);
    const Box box = Box::Uniform(d, -5, 10);
    for (int i = 0; i < n; ++i) f(i) = -Ackley(FromUnit(box, xu.row(i)));
  }
};

TEST(PartitionTree, SplitsIntoGoodAndBadKidsWithSvmSeparation) {
  TreeFixture fx(120, 6, 2);
  Rng rng(9);
  TreeOptions o;
  o.leaf_size = 10;
  auto t = PartitionTree::Build(fx.xu, fx.f, o, rng);
  ASSERT_TRUE(t.ok());
  ASSERT_GT(t->size(), 1);
  int samples_in_leaves = 0;
  for (int i = 0; i < t->size(); ++i) {
    const TreeNode& n = t->node(i);
    if (n.is_leaf()) {
      samples_in_leaves += static_cast<int>(n.samples.size());
      continue;
    }
    ASSERT_NE(n.svm, nullptr);
    EXPECT_GT(static_cast<int>(n.samples.size()), o.leaf_size);
    const TreeNode& good = t->node(n.kids[0]);
    const TreeNode& bad = t->node(n.kids[1]);
    EXPECT_GE(good.mean_f, bad.mean_f);
    EXPECT_EQ(good.samples.size() + bad.samples.size(), n.samples.size());
  }
  EXPECT_EQ(samples_in_leaves, 120);
  // UCT with Cp = 0 follows the higher mean at each level.
  const std::vector<PathStep> path = t->SelectUct(0.0, rng);
  ASSERT_FALSE(path.empty());
  for (const PathStep& s : path) {
    const TreeNode& n = t->node(s.node);
    const int other = n.kids[1 - s.direction];
    EXPECT_GE(t->node(n.kids[s.direction]).mean_f, t->node(other).mean_f);
  }
}

TEST(PartitionTree, LargeCpExploresTheSmallerKid) {
  TreeFixture fx(120, 6, 4);
  Rng rng(1);
  auto t = PartitionTree::Build(fx.xu, fx.f, TreeOptions{}, rng);
  ASSERT_TRUE(t.ok());
  ASSERT_FALSE(t->node(0).is_leaf());
  const std::vector<PathStep> path = t->SelectUct(1e6, rng);
  const TreeNode& root = t->node(0);
  const size_t n0 = t->node(root.kids[0]).samples.size();
  const size_t n1 = t->node(root.kids[1]).samples.size();
  if (n0 != n1) {
    EXPECT_EQ(path[0].direction, n0 < n1 ? 0 : 1);
  }
}

class SamplerTest : public ::testing::TestWithParam<RegionSampler> {};

TEST_P(SamplerTest, ProposalsStayInsideTheSelectedRegion) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    TreeFixture fx(150, 8, seed);
    Rng rng(seed);
    TreeOptions o;
    o.leaf_size = 10;
    auto t = PartitionTree::Build(fx.xu, fx.f, o, rng);
    ASSERT_TRUE(t.ok());
    // Up to 8 leaves, not only the UCT choice: walk each root-to-leaf path.
    int tried = 0;
    for (int leaf = 0; leaf < t->size() && tried < 8; ++leaf) {
      if (!t->node(leaf).is_leaf()) continue;
      ++tried;
      std::vector<PathStep> path;
      for (int cur = leaf; t->node(cur).parent >= 0; cur = t->node(cur).parent) {
        const TreeNode& p = t->node(t->node(cur).parent);
        path.insert(path.begin(), PathStep{t->node(cur).parent, p.kids[0] == cur ? 0 : 1});
      }
      ASSERT_EQ(t->LeafOf(path), leaf);
      SamplerInput in{*t, path, fx.xu, fx.f};
      SamplerOptions so;
      so.candidates = 64;
      so.turbo.candidates = 64;
      so.turbo.thompson_candidates = 16;
      so.trust_length = 0.8;
      StatusOr<Proposal> p = GetParam() == RegionSampler::kBo      ? ProposeBo(in, 4, so, rng)
                             : GetParam() == RegionSampler::kTurbo ? ProposeTurbo(in, 4, so, rng)
                                                                   : StatusOr<Proposal>(ProposePerturb(in, 4, so, rng));
      ASSERT_TRUE(p.ok()) << p.status().message();
      ASSERT_EQ(p->points.rows(), 4);
      const std::vector<char> inside = t->InRegion(path, p->points);
      int in_count = 0;
      for (char c : inside) in_count += c;
      EXPECT_EQ(in_count, 4 - p->outside_region) << "leaf " << leaf;
      EXPECT_GE(p->points.minCoeff(), 0.0);
      EXPECT_LE(p->points.maxCoeff(), 1.0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Samplers, SamplerTest,
                         ::testing::Values(RegionSampler::kPerturb, RegionSampler::kBo, RegionSampler::kTurbo));

// A categorical coordinate jumps to any of its values in one proposal (not only to a neighbour),
// and stays on its grid; the continuous one moves as before.
TEST_P(SamplerTest, CategoricalCoordinatesReachEveryValueInOneStep) {
  Box box;
  box.lb = {0, -1};
  box.ub = {5, 1};
  box.integer = {true, false};
  box.categorical = {true, false};
  ASSERT_TRUE(box.Validate().ok());
  const std::vector<DimGrid> grid = UnitGrid(box);
  ASSERT_EQ(grid[0].count, 6);
  ASSERT_TRUE(grid[0].categorical);
  ASSERT_EQ(grid[1].count, 0);
  // Samples; the best one has category 0, so proposals centre on it; the other categories are
  // equally good (so the model-based samplers have no reason to prefer one of them).
  Rng rng(4);
  const int n = 24;
  Eigen::MatrixXd xu(n, 2);
  Eigen::VectorXd f(n);
  for (int i = 0; i < n; ++i) {
    xu(i, 0) = grid[0].At(i % 6);
    xu(i, 1) = Uniform01(rng);
    f(i) = (i % 6 == 0 ? 0.0 : -1.0) - 0.1 * xu(i, 1);
  }
  TreeOptions topt;
  topt.leaf_size = 1000;  // one leaf: every candidate is in the region
  auto t = PartitionTree::Build(xu, f, topt, rng);
  ASSERT_TRUE(t.ok());
  const std::vector<PathStep> path;
  Eigen::VectorXd min_move = Eigen::VectorXd::Zero(2);
  min_move(0) = 0.51 / 5.0;
  SamplerInput in{*t, path, xu, f, min_move, grid};
  SamplerOptions so;
  so.candidates = 64;
  so.centres = 1;
  so.perturb_dims = 2.0;  // move both coordinates
  // turbo: as many candidates as proposals, so every candidate is proposed (this tests the move,
  // not the model's choice among the categories).
  so.turbo.candidates = 8;
  so.trust_length = 0.2;  // ordinal steps: Gaussian with sd <= 0.2 (perturb, bo), or a cube of side 0.2 (turbo)
  std::vector<int> reached(6, 0);
  for (int round = 0; round < 30; ++round) {
    StatusOr<Proposal> p = GetParam() == RegionSampler::kBo      ? ProposeBo(in, 8, so, rng)
                           : GetParam() == RegionSampler::kTurbo ? ProposeTurbo(in, 8, so, rng)
                                                                 : StatusOr<Proposal>(ProposePerturb(in, 8, so, rng));
    ASSERT_TRUE(p.ok()) << p.status().message();
    for (Eigen::Index i = 0; i < p->points.rows(); ++i) {
      const double u = p->points(i, 0);
      const int k = grid[0].Nearest(u);
      EXPECT_NEAR(u, grid[0].At(k), 1e-12) << "off the grid";
      ++reached[static_cast<size_t>(k)];
    }
  }
  // From category 0, one step reaches every other category, the farthest (5, 1.0 away in the unit
  // cube) included: an ordinal step could not (turbo), or with a chance of about 1e-5 (4.5 sd).
  for (int k = 1; k < 6; ++k) EXPECT_GT(reached[static_cast<size_t>(k)], 0) << "category " << k;
}

TEST(SamplerFallback, ReportsProposalsOutsideARegionItCannotReach) {
  // Leaves in a 8-dim tree usually admit perturbations; the fallback count must then be small.
  TreeFixture fx(150, 8, 7);
  Rng rng(7);
  auto t = PartitionTree::Build(fx.xu, fx.f, TreeOptions{}, rng);
  ASSERT_TRUE(t.ok());
  const std::vector<PathStep> path = t->SelectUct(1.0, rng);
  SamplerInput in{*t, path, fx.xu, fx.f};
  const Proposal p = ProposePerturb(in, 8, SamplerOptions{}, rng);
  EXPECT_LE(p.outside_region, 8);
  EXPECT_GT(p.generated, 0);
}

Problem Ackley(int d) { return MakeMinimizationProblem(*FindTestFunction("ackley"), d); }

TEST(LaMcts, DeterministicForASeed) {
  for (RegionSampler s : {RegionSampler::kPerturb, RegionSampler::kBo, RegionSampler::kTurbo}) {
    LaMctsOptions o;
    o.sampler = s;
    o.ninits = 20;
    o.batch_size = 2;
    o.sampling.candidates = 64;
    o.sampling.turbo.candidates = 64;
    LaMcts a(o), b(o), c(o);
    Budget budget;
    budget.max_evals = 60;
    auto ra = a.Maximize(Ackley(4), budget, 42);
    auto rb = b.Maximize(Ackley(4), budget, 42);
    auto rc = c.Maximize(Ackley(4), budget, 43);
    ASSERT_TRUE(ra.ok() && rb.ok() && rc.ok());
    ASSERT_EQ(ra->evaluations, 60);
    EXPECT_EQ(ra->best_f, rb->best_f);
    for (size_t i = 0; i < ra->history.size(); ++i) EXPECT_EQ(ra->history[i].x, rb->history[i].x);
    EXPECT_NE(ra->history.back().x, rc->history.back().x);
    EXPECT_GT(a.stats().max_leaves, 1);
  }
}

TEST(LaMcts, ImprovesOnItsInitialDesign) {
  LaMctsOptions o;
  o.ninits = 20;
  o.sampling.candidates = 128;
  LaMcts opt(o);
  Budget budget;
  budget.max_evals = 120;
  auto r = opt.Maximize(Ackley(6), budget, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->best_f, r->best_trace[19] + 2.0);  // at least 2 better than the 20 inits
  EXPECT_GT(r->best_f, -5.0);
  std::printf("  Ackley-6, 120 evals: initial best %.3f, final best %.3f\n", -r->best_trace[19], -r->best_f);
}

// The turbo sampler (the default) against random search on a small budget: Ackley-10 and
// Levy-10, 100 evaluations (20 initial), seeds 0-4. Measured medians: Ackley 2.2 against 10.3,
// Levy 10.0 against 36.2; the test asks for at most half of random search's median.
TEST(LaMcts, TurboBeatsRandomSearchOnASmallBudget) {
  for (const char* name : {"ackley", "levy"}) {
    const Problem p = MakeMinimizationProblem(*FindTestFunction(name), 10);
    std::vector<double> turbo, random;
    for (uint64_t seed = 0; seed < 5; ++seed) {
      LaMctsOptions o;
      ASSERT_EQ(o.sampler, RegionSampler::kTurbo);
      o.ninits = 20;
      LaMcts opt(o);
      RandomSearch rs;
      Budget b;
      b.max_evals = 100;
      auto a = opt.Maximize(p, b, seed);
      auto r = rs.Maximize(p, b, seed);
      ASSERT_TRUE(a.ok() && r.ok());
      EXPECT_EQ(a->evaluations, 100);
      turbo.push_back(-a->best_f);
      random.push_back(-r->best_f);
    }
    const double mt = Median(turbo), mr = Median(random);
    std::printf("  %s-10, 100 evals, median of 5 seeds: turbo %.3f, random %.3f\n", name, mt, mr);
    EXPECT_LT(mt, 0.5 * mr) << name;
  }
}

// The trust region follows its schedule inside LA-MCTS: every recorded length is the initial
// one times a power of 2, within [min, max].
TEST(LaMcts, TurboTrustRegionStaysOnItsSchedule) {
  LaMctsOptions o;
  o.ninits = 20;
  LaMcts opt(o);
  Budget b;
  b.max_evals = 200;
  ASSERT_TRUE(opt.Maximize(Ackley(6), b, 2).ok());
  const TrustRegionOptions t = TrustRegionOptions::Turbo(6, o.batch_size);
  ASSERT_FALSE(opt.stats().trust_lengths.empty());
  bool changed = false;
  for (double len : opt.stats().trust_lengths) {
    EXPECT_GE(len, t.min_length);
    EXPECT_LE(len, t.max_length);
    const double k = std::log2(len / t.initial_length);
    EXPECT_NEAR(k, std::round(k), 1e-9) << len;
    changed = changed || len != t.initial_length;
  }
  EXPECT_TRUE(changed);
}

TEST(LaMcts, RoundsIntegerDimensions) {
  Problem p;
  p.box.lb = {0, 0, -3};
  p.box.ub = {7, 7, 3};
  p.box.integer = {true, true, false};
  p.objective = [](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
    for (const auto& x : xs) v->push_back(-std::pow(x[0] - 3, 2) - std::pow(x[1] - 5, 2) - x[2] * x[2]);
    return Status::Ok();
  };
  LaMctsOptions o;
  o.ninits = 10;
  LaMcts opt(o);
  Budget b;
  b.max_evals = 60;
  auto r = opt.Maximize(p, b, 3);
  ASSERT_TRUE(r.ok());
  for (const auto& e : r->history) {
    EXPECT_EQ(e.x[0], std::round(e.x[0]));
    EXPECT_EQ(e.x[1], std::round(e.x[1]));
  }
  EXPECT_EQ(r->best_x[0], 3.0);
  EXPECT_EQ(r->best_x[1], 5.0);
}

class FakeClock final : public MonotonicClock {
 public:
  std::chrono::nanoseconds Now() const override { return now; }
  mutable std::chrono::nanoseconds now{0};
};

TEST(LaMcts, TimeBudgetStopsTheSearch) {
  FakeClock clock;
  Problem p = Ackley(4);
  auto inner = p.objective;
  p.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
    clock.now += std::chrono::milliseconds(10) * static_cast<long>(xs.size());  // 10 ms per point
    return inner(xs, v);
  };
  LaMcts opt;
  Budget b;
  b.max_time = Milliseconds(1000);
  b.clock = &clock;
  auto r = opt.Maximize(p, b, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stopped_by_time);
  EXPECT_EQ(r->evaluations, 100);
  EXPECT_NEAR(r->function_time.value(), 1000.0, 1e-6);
  EXPECT_NEAR(r->overhead_ms_per_eval(), 0.0, 1e-9);  // the fake clock only moves inside f
}

// The batch grows with the samples held (batch_growth_samples): batch_size up to 2x the growth
// step, then batch_size x floor(samples / step); 0 keeps it fixed.
TEST(LaMcts, BatchGrowsWithTheSamplesHeld) {
  for (int growth : {0, 50}) {
    LaMctsOptions o;
    o.sampler = RegionSampler::kPerturb;
    o.ninits = 20;
    o.batch_size = 3;
    o.batch_growth_samples = growth;
    o.sampling.candidates = 64;
    LaMcts opt(o);
    auto r = opt.Maximize(Ackley(4), Budget{.max_evals = 200}, 7);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->evaluations, 200);
    // Evaluations per objective call, and the samples held before it.
    std::vector<int> size(static_cast<size_t>(r->objective_calls), 0);
    for (const auto& e : r->history) ++size[static_cast<size_t>(e.batch)];
    int held = size[0];
    EXPECT_EQ(held, 20);
    for (size_t b = 1; b + 1 < size.size(); ++b) {  // the last batch may be cut by the budget
      const int want = growth == 0 ? 3 : 3 * std::max(1, held / growth);
      EXPECT_EQ(size[b], want) << "growth " << growth << ", batch " << b << " after " << held << " samples";
      held += size[b];
    }
  }
  LaMctsOptions bad;
  bad.batch_growth_samples = -1;
  EXPECT_NE(bad.Validate().message().find("batch growth samples -1"), std::string::npos);
}

// With Problem::canonical, a space whose every solution is known ends the search early
// (SearchResult::exhausted) instead of spending the budget's free answers on repeats.
TEST(LaMcts, ATinySpaceEndsOnceEverySolutionIsKnown) {
  for (RegionSampler sampler : {RegionSampler::kPerturb, RegionSampler::kBo}) {
    Problem p;
    p.box.lb = {0, 0};
    p.box.ub = {2, 2};
    p.box.integer = {true, true};
    std::set<std::vector<double>> seen;
    p.objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
      for (const auto& x : xs) {
        EXPECT_TRUE(seen.insert(x).second) << "a solution evaluated twice";
        v->push_back(-std::fabs(x[0] - 1) - std::fabs(x[1] - 2));
      }
      return Status::Ok();
    };
    p.canonical = [](const std::vector<double>& x) { return x; };
    LaMctsOptions o;
    o.sampler = sampler;
    o.ninits = 16;
    LaMcts opt(o);
    auto r = opt.Maximize(p, Budget{.max_evals = 400}, 3);  // 100 free answers
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->evaluations, 9);
    EXPECT_EQ(seen.size(), 9u);
    EXPECT_TRUE(r->exhausted);
    EXPECT_EQ(r->best_x, (std::vector<double>{1, 2}));
    EXPECT_LT(r->repeats, 100) << "ended soon after the space ran out";
  }
}

TEST(LaMcts, BadInputIsAClearError) {
  struct Case {
    const char* name;
    Problem problem;
    int evals;
    LaMctsOptions options;
    const char* needle;
  };
  LaMctsOptions bad_leaf;
  bad_leaf.leaf_size = 1;
  Problem no_dims = Ackley(1);
  no_dims.box = Box{};
  Problem inverted = Ackley(2);
  inverted.box.lb[1] = 5;
  inverted.box.ub[1] = 5;
  std::vector<Case> cases = {
      {"budget below inits", Ackley(3), 39, {}, "below LA-MCTS's 40 initial samples"},
      {"no dims", no_dims, 100, {}, "dims must be >= 1"},
      {"lb >= ub", inverted, 100, {}, "dimension 1: lower bound"},
      {"leaf size", Ackley(3), 100, bad_leaf, "leaf size 1"},
  };
  for (auto& c : cases) {
    LaMcts opt(c.options);
    Budget b;
    b.max_evals = c.evals;
    auto r = opt.Maximize(c.problem, b, 0);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << c.name << ": " << r.status().message();
  }
  LaMcts opt;
  EXPECT_FALSE(opt.Maximize(Ackley(3), Budget{}, 0).ok());  // no budget at all
}

TEST(LaMcts, ObjectiveErrorsAndNonFiniteValuesAbort) {
  Problem p = Ackley(3);
  p.objective = [](const std::vector<std::vector<double>>&, std::vector<double>*) {
    return Unavailable("predictor down");
  };
  LaMcts opt;
  Budget b;
  b.max_evals = 100;
  auto r = opt.Maximize(p, b, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("predictor down"), std::string::npos);
  p.objective = [](const std::vector<std::vector<double>>& xs, std::vector<double>* v) {
    for (size_t i = 0; i < xs.size(); ++i) v->push_back(std::nan(""));
    return Status::Ok();
  };
  r = opt.Maximize(p, b, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("non-finite"), std::string::npos);
}

}  // namespace
}  // namespace ecomap::search
