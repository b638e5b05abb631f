// Tests for LA-MCTS's pieces (KMeans, SVM boundary, GP, partition tree, region samplers) and
// the optimizer itself: determinism, budgets, bad input.
#include "search/lamcts.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "search/gaussian_process.h"
#include "search/kmeans.h"
#include "search/partition_tree.h"
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
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(pred(i), (*svm)->PredictWithLibsvm(probe.row(i))) << "row " << i;
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
  EXPECT_FALSE(ParseRegionSampler("turbo").ok());
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
      StatusOr<Proposal> p = GetParam() == RegionSampler::kBo ? ProposeBo(in, 4, so, rng)
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

INSTANTIATE_TEST_SUITE_P(Samplers, SamplerTest, ::testing::Values(RegionSampler::kPerturb, RegionSampler::kBo));

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
  for (RegionSampler s : {RegionSampler::kPerturb, RegionSampler::kBo}) {
    LaMctsOptions o;
    o.sampler = s;
    o.ninits = 20;
    o.batch_size = 2;
    o.sampling.candidates = 64;
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
