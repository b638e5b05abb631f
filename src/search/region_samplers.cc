#include "search/region_samplers.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ecomap::search {
namespace {

// The leaf's samples, best first; those inside the region come first.
std::vector<int> RankedCentres(const SamplerInput& in, int want) {
  const TreeNode& leaf = in.tree.node(in.tree.LeafOf(in.path));
  std::vector<int> idx = leaf.samples;
  std::sort(idx.begin(), idx.end(), [&](int a, int b) { return in.f(a) > in.f(b) || (in.f(a) == in.f(b) && a < b); });
  const int probe = std::min<int>(static_cast<int>(idx.size()), std::max(want * 4, want));
  Eigen::MatrixXd pts(probe, in.xu.cols());
  for (int i = 0; i < probe; ++i) pts.row(i) = in.xu.row(idx[static_cast<size_t>(i)]);
  const std::vector<char> inside = in.tree.InRegion(in.path, pts);
  std::vector<int> out;
  for (int i = 0; i < probe && static_cast<int>(out.size()) < want; ++i) {
    if (inside[static_cast<size_t>(i)]) out.push_back(idx[static_cast<size_t>(i)]);
  }
  for (int i = 0; i < probe && static_cast<int>(out.size()) < want; ++i) {
    if (!inside[static_cast<size_t>(i)]) out.push_back(idx[static_cast<size_t>(i)]);
  }
  return out;
}

struct Candidates {
  Eigen::MatrixXd inside;          // in-region candidates
  std::vector<double> inside_step;
  Eigen::MatrixXd outside;         // rejected ones, for the fallback
  std::vector<double> outside_step;
  int generated = 0;
};

// Generates rounds of perturbations until `want` in-region candidates exist or max_rounds pass.
Candidates Generate(const SamplerInput& in, const std::vector<int>& centres, int want, int per_round,
                    const SamplerOptions& o, Rng& rng) {
  const int d = static_cast<int>(in.xu.cols());
  const double p = std::min(1.0, o.perturb_dims / d);
  const double lo = std::log(std::max(o.min_step, 1e-9));
  const double hi = std::log(std::max(o.trust_length, o.min_step));
  Candidates c;
  c.inside.resize(0, d);
  c.outside.resize(0, d);
  std::vector<Eigen::RowVectorXd> in_rows, out_rows;
  for (int round = 0; round < o.max_rounds && static_cast<int>(in_rows.size()) < want; ++round) {
    Eigen::MatrixXd cand(per_round, d);
    std::vector<double> step(static_cast<size_t>(per_round));
    for (int i = 0; i < per_round; ++i) {
      // Half the candidates perturb the best centre, the rest one centre at random.
      const int k = Uniform01(rng) < 0.5 ? 0 : UniformIndex(static_cast<int>(centres.size()), rng);
      // Later rounds shrink the steps, to find the region near thin or small leaves.
      const double s = std::exp(lo + Uniform01(rng) * (hi - lo)) / std::pow(2.0, round);
      step[static_cast<size_t>(i)] = s;
      cand.row(i) = in.xu.row(centres[static_cast<size_t>(k)]);
      auto move = [&](int j) {
        double delta = s * StandardNormal(rng);
        if (in.min_move.size() == d && std::fabs(delta) < in.min_move(j)) {
          delta = delta < 0.0 ? -in.min_move(j) : in.min_move(j);
        }
        cand(i, j) = std::clamp(cand(i, j) + delta, 0.0, 1.0);
      };
      bool moved = false;
      for (int j = 0; j < d; ++j) {
        if (Uniform01(rng) < p) {
          move(j);
          moved = true;
        }
      }
      if (!moved) move(UniformIndex(d, rng));
    }
    c.generated += per_round;
    const std::vector<char> inside = in.tree.InRegion(in.path, cand);
    for (int i = 0; i < per_round; ++i) {
      if (inside[static_cast<size_t>(i)]) {
        if (static_cast<int>(in_rows.size()) >= want) continue;
        in_rows.push_back(cand.row(i));
        c.inside_step.push_back(step[static_cast<size_t>(i)]);
      } else if (static_cast<int>(out_rows.size()) < want * 4) {
        out_rows.push_back(cand.row(i));
        c.outside_step.push_back(step[static_cast<size_t>(i)]);
      }
    }
  }
  c.inside.resize(static_cast<Eigen::Index>(in_rows.size()), d);
  for (size_t i = 0; i < in_rows.size(); ++i) c.inside.row(static_cast<Eigen::Index>(i)) = in_rows[i];
  c.outside.resize(static_cast<Eigen::Index>(out_rows.size()), d);
  for (size_t i = 0; i < out_rows.size(); ++i) c.outside.row(static_cast<Eigen::Index>(i)) = out_rows[i];
  return c;
}

// Appends the smallest-step rejected candidates until `count` rows are proposed.
void FillFromOutside(const Candidates& c, int count, Proposal* p, std::vector<Eigen::RowVectorXd>* rows) {
  std::vector<int> order(c.outside_step.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return c.outside_step[static_cast<size_t>(a)] < c.outside_step[static_cast<size_t>(b)]; });
  for (int i : order) {
    if (static_cast<int>(rows->size()) >= count) break;
    rows->push_back(c.outside.row(i));
    ++p->outside_region;
  }
}

void ToMatrix(const std::vector<Eigen::RowVectorXd>& rows, Eigen::Index d, Eigen::MatrixXd* m) {
  m->resize(static_cast<Eigen::Index>(rows.size()), d);
  for (size_t i = 0; i < rows.size(); ++i) m->row(static_cast<Eigen::Index>(i)) = rows[i];
}

}  // namespace

Proposal ProposePerturb(const SamplerInput& in, int count, const SamplerOptions& options, Rng& rng) {
  Proposal p;
  const std::vector<int> centres = RankedCentres(in, std::max(1, options.centres));
  // Small rounds: the cheap sampler only needs `count` in-region candidates.
  const int per_round = std::min(std::max(options.candidates, count), std::max(32, 4 * count));
  const Candidates c = Generate(in, centres, count, per_round, options, rng);
  p.generated = c.generated;
  std::vector<Eigen::RowVectorXd> rows;
  for (Eigen::Index i = 0; i < c.inside.rows() && static_cast<int>(rows.size()) < count; ++i) rows.push_back(c.inside.row(i));
  FillFromOutside(c, count, &p, &rows);
  ToMatrix(rows, in.xu.cols(), &p.points);
  return p;
}

StatusOr<Proposal> ProposeBo(const SamplerInput& in, int count, const SamplerOptions& options, Rng& rng) {
  Proposal p;
  const std::vector<int> centres = RankedCentres(in, std::max(1, options.centres));
  // Generate a full candidate pool (not just `count`), then rank by EI.
  const int pool = std::max(count, options.candidates);
  const Candidates c = Generate(in, centres, pool, pool, options, rng);
  p.generated = c.generated;
  std::vector<Eigen::RowVectorXd> rows;
  if (c.inside.rows() > 0) {
    // Local GP: the samples nearest the best centre.
    const Eigen::Index n = in.f.size();
    const Eigen::RowVectorXd centre = in.xu.row(centres[0]);
    const Eigen::VectorXd dist = (in.xu.topRows(n).rowwise() - centre).rowwise().squaredNorm();
    std::vector<int> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    const int m = std::min<int>(static_cast<int>(n), std::max(2, options.gp_max_points));
    std::partial_sort(order.begin(), order.begin() + m, order.end(),
                      [&](int a, int b) { return dist(a) < dist(b) || (dist(a) == dist(b) && a < b); });
    Eigen::MatrixXd gx(m, in.xu.cols());
    Eigen::VectorXd gy(m);
    for (int i = 0; i < m; ++i) {
      gx.row(i) = in.xu.row(order[static_cast<size_t>(i)]);
      gy(i) = in.f(order[static_cast<size_t>(i)]);
    }
    GaussianProcess gp(options.gp);
    ECOMAP_RETURN_IF_ERROR(gp.Fit(gx, gy));
    const Eigen::VectorXd ei = gp.ExpectedImprovement(c.inside, gy.maxCoeff());
    std::vector<int> rank(static_cast<size_t>(c.inside.rows()));
    std::iota(rank.begin(), rank.end(), 0);
    std::stable_sort(rank.begin(), rank.end(), [&](int a, int b) { return ei(a) > ei(b); });
    for (int i : rank) {
      if (static_cast<int>(rows.size()) >= count) break;
      bool dup = false;
      for (const auto& r : rows) dup = dup || (r - c.inside.row(i)).squaredNorm() < 1e-18;
      if (!dup) rows.push_back(c.inside.row(i));
    }
  }
  FillFromOutside(c, count, &p, &rows);
  ToMatrix(rows, in.xu.cols(), &p.points);
  return p;
}

}  // namespace ecomap::search
