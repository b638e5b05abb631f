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
  std::vector<Eigen::RowVectorXd> known;  // in-region ones already evaluated (SamplerInput::known)
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
        if (!in.grid.empty() && in.grid[static_cast<size_t>(j)].categorical &&
            (o.categorical_resample >= 1.0 || Uniform01(rng) < o.categorical_resample)) {
          cand(i, j) = OtherChoice(in.grid[static_cast<size_t>(j)], cand(i, j), rng);
          return;
        }
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
        if (in.known && in.known(cand.row(i))) {
          if (static_cast<int>(c.known.size()) < want) c.known.push_back(cand.row(i));
          continue;
        }
        in_rows.push_back(cand.row(i));
        c.inside_step.push_back(step[static_cast<size_t>(i)]);
      } else if (static_cast<int>(out_rows.size()) < want * 4) {
        if (in.known && in.known(cand.row(i))) {
          // Kept for the last resort: a proposal is never empty.
          if (static_cast<int>(c.known.size()) < want) c.known.push_back(cand.row(i));
          continue;
        }
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

// Appends the smallest-step rejected candidates until `count` rows are proposed, then (a
// neighbourhood evaluated through) candidates already evaluated.
void FillFromOutside(const Candidates& c, int count, Proposal* p, std::vector<Eigen::RowVectorXd>* rows) {
  std::vector<int> order(c.outside_step.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return c.outside_step[static_cast<size_t>(a)] < c.outside_step[static_cast<size_t>(b)]; });
  for (int i : order) {
    if (static_cast<int>(rows->size()) >= count) break;
    rows->push_back(c.outside.row(i));
    ++p->outside_region;
  }
  for (const auto& r : c.known) {
    if (static_cast<int>(rows->size()) >= count) break;
    rows->push_back(r);
  }
}

void ToMatrix(const std::vector<Eigen::RowVectorXd>& rows, Eigen::Index d, Eigen::MatrixXd* m) {
  m->resize(static_cast<Eigen::Index>(rows.size()), d);
  for (size_t i = 0; i < rows.size(); ++i) m->row(static_cast<Eigen::Index>(i)) = rows[i];
}

// Fits `gp` to the samples nearest `centre` (at most max_points); *best gets their best value.
Status FitLocalGp(const SamplerInput& in, const Eigen::RowVectorXd& centre, int max_points, GaussianProcess* gp,
                  Eigen::MatrixXd* gx, double* best) {
  const Eigen::Index n = in.f.size();
  const Eigen::VectorXd dist = (in.xu.topRows(n).rowwise() - centre).rowwise().squaredNorm();
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const int m = std::min<int>(static_cast<int>(n), std::max(2, max_points));
  std::partial_sort(order.begin(), order.begin() + m, order.end(),
                    [&](int a, int b) { return dist(a) < dist(b) || (dist(a) == dist(b) && a < b); });
  gx->resize(m, in.xu.cols());
  Eigen::VectorXd gy(m);
  for (int i = 0; i < m; ++i) {
    gx->row(i) = in.xu.row(order[static_cast<size_t>(i)]);
    gy(i) = in.f(order[static_cast<size_t>(i)]);
  }
  *best = gy.maxCoeff();
  return gp->Fit(*gx, gy);
}

bool SameRow(const Eigen::RowVectorXd& a, const Eigen::RowVectorXd& b) { return (a - b).squaredNorm() < 1e-18; }

}  // namespace

TrustRegionOptions TrustRegionOptions::Turbo(int dims, int batch) {
  TrustRegionOptions o;
  o.initial_length = 0.8;
  o.min_length = std::pow(0.5, 7);
  o.max_length = 1.6;
  o.success_tolerance = 3;
  const int b = std::max(1, batch);
  o.failure_tolerance = std::max(1, (std::max(4, dims) + b - 1) / b);
  return o;
}

Status TrustRegionOptions::Validate() const {
  if (!(min_length > 0.0 && min_length <= initial_length && initial_length <= max_length &&
        std::isfinite(max_length))) {
    return InvalidArgument("trust lengths min " + std::to_string(min_length) + ", initial " +
                           std::to_string(initial_length) + ", max " + std::to_string(max_length) +
                           " must satisfy 0 < min <= initial <= max");
  }
  if (success_tolerance < 1 || failure_tolerance < 1) {
    return InvalidArgument("trust tolerances (successes " + std::to_string(success_tolerance) + ", failures " +
                           std::to_string(failure_tolerance) + ") must be >= 1");
  }
  return Status::Ok();
}

void TrustRegion::Update(bool improved) {
  if (improved) {
    ++successes_;
    failures_ = 0;
  } else {
    ++failures_;
    successes_ = 0;
  }
  if (successes_ >= o_.success_tolerance) {
    length_ = std::min(o_.max_length, length_ * 2.0);
    successes_ = 0;
  } else if (failures_ >= o_.failure_tolerance) {
    length_ /= 2.0;
    failures_ = 0;
    if (length_ < o_.min_length) {
      length_ = o_.initial_length;
      ++restarts_;
    }
  }
}

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
    GaussianProcess gp(options.gp);
    Eigen::MatrixXd gx;
    double best = 0.0;
    ECOMAP_RETURN_IF_ERROR(FitLocalGp(in, in.xu.row(centres[0]), options.gp_max_points, &gp, &gx, &best));
    const Eigen::VectorXd ei = gp.ExpectedImprovement(c.inside, best);
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

StatusOr<Proposal> ProposeTurbo(const SamplerInput& in, int count, const SamplerOptions& options, Rng& rng) {
  Proposal p;
  const TurboOptions& o = options.turbo;
  const Eigen::Index d = in.xu.cols();
  const bool has_grid = static_cast<Eigen::Index>(in.grid.size()) == d &&
                        std::any_of(in.grid.begin(), in.grid.end(), [](const DimGrid& g) { return g.count > 0; });
  int centre = RankedCentres(in, 1)[0];
  if (in.added_from >= 0) {
    // The best sample drawn in this leaf since the tree was built, if it beats the leaf's and
    // lies in the region.
    int best_new = -1;
    for (Eigen::Index i = in.added_from; i < in.f.size(); ++i) {
      if (in.f(i) > in.f(centre) && (best_new < 0 || in.f(i) > in.f(best_new))) best_new = static_cast<int>(i);
    }
    if (best_new >= 0 && in.tree.InRegion(in.path, in.xu.row(best_new))[0]) centre = best_new;
  }
  const Eigen::RowVectorXd c = in.xu.row(centre);
  const double prob = std::min(1.0, o.perturb_dims / static_cast<double>(d));
  const int pool = std::max(count, o.candidates);

  // The GP first: on integer grids, candidates equal to its samples are dropped.
  GaussianProcess gp(o.gp);
  Eigen::MatrixXd gx;
  double best = 0.0;
  ECOMAP_RETURN_IF_ERROR(FitLocalGp(in, c, o.gp_max_points, &gp, &gx, &best));
  auto seen = [&](const Eigen::RowVectorXd& r, const std::vector<Eigen::RowVectorXd>& rows) {
    if (!has_grid) return false;
    for (Eigen::Index i = 0; i < gx.rows(); ++i) {
      if (SameRow(gx.row(i), r)) return true;
    }
    return std::any_of(rows.begin(), rows.end(), [&](const Eigen::RowVectorXd& q) { return SameRow(q, r); });
  };

  // Candidates: the centre with coordinates replaced inside the trust region; a round whose
  // candidates mostly fall outside the leaf is followed by one in a cube half as wide.
  std::vector<Eigen::RowVectorXd> in_rows, out_rows;
  for (int round = 0; round < options.max_rounds && static_cast<int>(in_rows.size()) < pool; ++round) {
    const double half = 0.5 * options.trust_length / std::pow(2.0, round);
    const Eigen::RowVectorXd lo = (c.array() - half).max(0.0).matrix();
    const Eigen::RowVectorXd hi = (c.array() + half).min(1.0).matrix();
    const Eigen::MatrixXd u = LatinHypercube(pool, static_cast<int>(d), rng);
    Eigen::MatrixXd cand(pool, d);
    for (int i = 0; i < pool; ++i) {
      cand.row(i) = c;
      auto replace = [&](Eigen::Index j) {
        double v = lo(j) + u(i, j) * (hi(j) - lo(j));
        if (has_grid && in.grid[static_cast<size_t>(j)].count > 0) {
          const DimGrid& g = in.grid[static_cast<size_t>(j)];
          if (g.categorical) {
            v = OtherChoice(g, c(j), rng);
          } else {
            // An integer coordinate that is replaced moves by at least one value.
            int k = g.Nearest(v);
            const int k0 = g.Nearest(c(j));
            if (k == k0 && g.count > 1) {
              k = k0 == 0 ? 1 : k0 == g.count - 1 ? k0 - 1 : k0 + (Uniform01(rng) < 0.5 ? -1 : 1);
            }
            v = g.At(k);
          }
        }
        cand(i, j) = v;
      };
      bool moved = false;
      for (Eigen::Index j = 0; j < d; ++j) {
        if (prob >= 1.0 || Uniform01(rng) < prob) {
          replace(j);
          moved = true;
        }
      }
      if (!moved) replace(UniformIndex(static_cast<int>(d), rng));
    }
    p.generated += pool;
    // The region checks go by chunks and stop once the pool is full: the candidates after that
    // would be dropped anyway (and the rejected ones are only a fallback for a pool smaller than
    // `count`), so the proposals are the same as checking the whole round.
    constexpr int kChunk = 128;
    for (int start = 0; start < pool && static_cast<int>(in_rows.size()) < pool; start += kChunk) {
      const int len = std::min(kChunk, pool - start);
      const std::vector<char> inside = in.tree.InRegion(in.path, cand.middleRows(start, len));
      for (int i = start; i < start + len; ++i) {
        const Eigen::RowVectorXd r = cand.row(i);
        if (inside[static_cast<size_t>(i - start)]) {
          if (static_cast<int>(in_rows.size()) < pool && !seen(r, in_rows)) in_rows.push_back(r);
        } else if (static_cast<int>(out_rows.size()) < count && !seen(r, out_rows)) {
          out_rows.push_back(r);  // the earliest rounds first: the widest cube
        }
      }
    }
  }

  // Screening: the `thompson_candidates` with the highest posterior mean. Their kernel rows
  // against the GP's points are kept for the joint draws.
  Eigen::MatrixXd kept_cross;
  if (static_cast<int>(in_rows.size()) > std::max(count, o.thompson_candidates)) {
    Eigen::MatrixXd x;
    ToMatrix(in_rows, d, &x);
    Eigen::MatrixXd cross;
    const Eigen::VectorXd mu = gp.Mean(x, &cross);
    std::vector<int> rank(in_rows.size());
    std::iota(rank.begin(), rank.end(), 0);
    const int keep = std::max(count, o.thompson_candidates);
    std::partial_sort(rank.begin(), rank.begin() + keep, rank.end(),
                      [&](int a, int b) { return mu(a) > mu(b) || (mu(a) == mu(b) && a < b); });
    std::vector<Eigen::RowVectorXd> kept;
    kept_cross.resize(keep, cross.cols());
    for (int i = 0; i < keep; ++i) {
      kept.push_back(in_rows[static_cast<size_t>(rank[static_cast<size_t>(i)])]);
      kept_cross.row(i) = cross.row(rank[static_cast<size_t>(i)]);
    }
    in_rows = std::move(kept);
  }

  std::vector<Eigen::RowVectorXd> rows;
  const int m = static_cast<int>(in_rows.size());
  if (m <= count) {
    rows = in_rows;
  } else {
    // Thompson sampling: one joint posterior draw per proposal, each taking its best candidate
    // not taken yet.
    Eigen::MatrixXd x;
    ToMatrix(in_rows, d, &x);
    Eigen::MatrixXd z(m, count);
    for (Eigen::Index k = 0; k < z.cols(); ++k) {
      for (Eigen::Index i = 0; i < z.rows(); ++i) z(i, k) = StandardNormal(rng);
    }
    Eigen::MatrixXd draws;
    ECOMAP_RETURN_IF_ERROR(gp.SampleJoint(x, z, &draws, kept_cross.rows() == m ? &kept_cross : nullptr));
    std::vector<char> taken(static_cast<size_t>(m), 0);
    for (int k = 0; k < count; ++k) {
      int arg = -1;
      for (int i = 0; i < m; ++i) {
        if (!taken[static_cast<size_t>(i)] && (arg < 0 || draws(i, k) > draws(arg, k))) arg = i;
      }
      taken[static_cast<size_t>(arg)] = 1;
      rows.push_back(in_rows[static_cast<size_t>(arg)]);
    }
  }
  for (const auto& r : out_rows) {
    if (static_cast<int>(rows.size()) >= count) break;
    rows.push_back(r);
    ++p.outside_region;
  }
  // A tiny integer space may run out of new points: repeat proposals rather than stall.
  if (rows.empty()) rows.push_back(c);
  while (static_cast<int>(rows.size()) < count) {
    rows.push_back(rows[static_cast<size_t>(UniformIndex(static_cast<int>(rows.size()), rng))]);
  }
  ToMatrix(rows, d, &p.points);
  return p;
}

}  // namespace ecomap::search
