#include "search/kmeans.h"

#include <algorithm>
#include <limits>

namespace ecomap::search {
namespace {

KMeansResult OneRun(const Eigen::MatrixXd& p, int k, Rng& rng, int max_iterations) {
  const Eigen::Index n = p.rows();
  KMeansResult r;
  r.centers.resize(k, p.cols());
  // k-means++ seeding.
  r.centers.row(0) = p.row(UniformIndex(static_cast<int>(n), rng));
  Eigen::VectorXd d2 = (p.rowwise() - r.centers.row(0)).rowwise().squaredNorm();
  for (int c = 1; c < k; ++c) {
    const double total = d2.sum();
    Eigen::Index pick = 0;
    if (total <= 0.0) {
      pick = UniformIndex(static_cast<int>(n), rng);
    } else {
      double u = Uniform01(rng) * total;
      for (pick = 0; pick < n - 1; ++pick) {
        u -= d2(pick);
        if (u < 0.0) break;
      }
    }
    r.centers.row(c) = p.row(pick);
    d2 = d2.cwiseMin((p.rowwise() - r.centers.row(c)).rowwise().squaredNorm());
  }
  r.labels.assign(static_cast<size_t>(n), -1);
  // Squared distances as |p|^2 - 2 p.c + |c|^2, with the cross term by one matrix product.
  const Eigen::VectorXd p_sq = p.rowwise().squaredNorm();
  Eigen::MatrixXd assign = Eigen::MatrixXd::Zero(n, k);
  for (int it = 0; it < max_iterations; ++it) {
    Eigen::MatrixXd dist = -2.0 * (p * r.centers.transpose());
    dist.colwise() += p_sq;
    dist.rowwise() += r.centers.rowwise().squaredNorm().transpose();
    bool changed = false;
    r.inertia = 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      Eigen::Index best;
      r.inertia += std::max(0.0, dist.row(i).minCoeff(&best));
      if (r.labels[static_cast<size_t>(i)] != static_cast<int>(best)) {
        r.labels[static_cast<size_t>(i)] = static_cast<int>(best);
        changed = true;
      }
    }
    if (!changed) break;
    assign.setZero();
    for (Eigen::Index i = 0; i < n; ++i) assign(i, r.labels[static_cast<size_t>(i)]) = 1.0;
    const Eigen::VectorXd counts = assign.colwise().sum().transpose();
    const Eigen::MatrixXd sums = assign.transpose() * p;  // k x m
    for (int c = 0; c < k; ++c) {
      if (counts(c) > 0) r.centers.row(c) = sums.row(c) / counts(c);
    }
  }
  return r;
}

}  // namespace

KMeansResult KMeans(const Eigen::MatrixXd& points, int k, Rng& rng, const KMeansOptions& options) {
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  const int restarts = options.restarts < 1 ? 1 : options.restarts;
  for (int r = 0; r < restarts; ++r) {
    KMeansResult run = OneRun(points, k, rng, options.max_iterations);
    if (run.inertia < best.inertia) best = std::move(run);
  }
  return best;
}

}  // namespace ecomap::search
