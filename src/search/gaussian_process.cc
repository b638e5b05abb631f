#include "search/gaussian_process.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <limits>

namespace ecomap::search {

namespace {

// Pairwise Euclidean distances between the rows of a and b, via norms and one matrix product.
Eigen::MatrixXd Distances(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::MatrixXd d2 = (-2.0 * (a * b.transpose()));
  d2.colwise() += a.rowwise().squaredNorm();
  d2.rowwise() += b.rowwise().squaredNorm().transpose();
  return d2.array().max(0.0).sqrt().matrix();
}

// Matern 5/2 of the distances for length scale ls.
Eigen::MatrixXd Matern52(const Eigen::MatrixXd& dist, double ls) {
  const Eigen::ArrayXXd r = dist.array() * (std::sqrt(5.0) / ls);
  return ((1.0 + r + r.square() / 3.0) * (-r).exp()).matrix();
}

}  // namespace

Eigen::MatrixXd GaussianProcess::Kernel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
                                        double ls) const {
  return Matern52(Distances(a, b), ls);
}

Status GaussianProcess::Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  if (x.rows() != y.size() || x.rows() < 1) {
    return InvalidArgument("GP fit: " + std::to_string(x.rows()) + " points and " +
                           std::to_string(y.size()) + " values; need the same number, >= 1");
  }
  if (!x.allFinite() || !y.allFinite()) return InvalidArgument("GP fit: non-finite data");
  x_ = x;
  y_mean_ = y.mean();
  const double var = (y.array() - y_mean_).square().mean();
  y_std_ = var > 1e-300 ? std::sqrt(var) : 1.0;
  const Eigen::VectorXd ys = (y.array() - y_mean_) / y_std_;
  const double n = static_cast<double>(x.rows());
  const double scale = std::sqrt(static_cast<double>(x.cols()));

  // The distances do not depend on the length scale: computed once for the whole grid.
  const Eigen::MatrixXd dist = Distances(x, x);
  double best_lml = -std::numeric_limits<double>::infinity();
  for (double ls0 : options_.length_scale_grid) {
    const double ls = ls0 * scale;
    Eigen::MatrixXd k = Matern52(dist, ls);
    k.diagonal().array() += options_.noise_variance;
    Eigen::LLT<Eigen::MatrixXd> llt(k);
    if (llt.info() != Eigen::Success) continue;
    const Eigen::VectorXd alpha = llt.solve(ys);
    const double logdet = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    const double lml = -0.5 * ys.dot(alpha) - 0.5 * logdet - 0.5 * n * std::log(2.0 * M_PI);
    if (lml > best_lml) {
      best_lml = lml;
      length_scale_ = ls;
      llt_ = llt;
      alpha_ = alpha;
    }
  }
  if (!std::isfinite(best_lml)) return Internal("GP fit: the kernel matrix is not positive definite");
  return Status::Ok();
}

void GaussianProcess::Predict(const Eigen::MatrixXd& x, Eigen::VectorXd* mean,
                              Eigen::VectorXd* stddev) const {
  const Eigen::MatrixXd ks = Kernel(x, x_, length_scale_);  // m x n
  *mean = ((ks * alpha_).array() * y_std_ + y_mean_).matrix();
  const Eigen::MatrixXd v = llt_.matrixL().solve(ks.transpose());  // n x m
  const Eigen::ArrayXd var = (1.0 - v.colwise().squaredNorm().transpose().array()).max(1e-12);
  *stddev = (var.sqrt() * y_std_).matrix();
}

Eigen::VectorXd GaussianProcess::Mean(const Eigen::MatrixXd& x, Eigen::MatrixXd* cross) const {
  Eigen::MatrixXd ks = Kernel(x, x_, length_scale_);
  Eigen::VectorXd mean = ((ks * alpha_).array() * y_std_ + y_mean_).matrix();
  if (cross != nullptr) *cross = std::move(ks);
  return mean;
}

Status GaussianProcess::SampleJoint(const Eigen::MatrixXd& x, const Eigen::MatrixXd& z,
                                    Eigen::MatrixXd* samples, const Eigen::MatrixXd* cross) const {
  if (z.rows() != x.rows()) {
    return InvalidArgument("GP joint sample: " + std::to_string(z.rows()) + " rows of normals for " +
                           std::to_string(x.rows()) + " points; need one row per point");
  }
  if (cross != nullptr && (cross->rows() != x.rows() || cross->cols() != x_.rows())) {
    return InvalidArgument("GP joint sample: a cross kernel of " + std::to_string(cross->rows()) + " x " +
                           std::to_string(cross->cols()) + " for " + std::to_string(x.rows()) +
                           " points and " + std::to_string(x_.rows()) + " training points; need points x training");
  }
  const Eigen::MatrixXd ks = cross != nullptr ? *cross : Kernel(x, x_, length_scale_);  // m x n
  const Eigen::VectorXd mean = ks * alpha_;                          // standardised
  const Eigen::MatrixXd v = llt_.matrixL().solve(ks.transpose());    // n x m
  Eigen::MatrixXd cov = Kernel(x, x, length_scale_);
  cov.noalias() -= v.transpose() * v;
  for (double jitter : {1e-8, 1e-6, 1e-4}) {
    Eigen::MatrixXd c = cov;
    c.diagonal().array() += jitter;
    Eigen::LLT<Eigen::MatrixXd> llt(c);
    if (llt.info() != Eigen::Success) continue;
    *samples = ((llt.matrixL() * z).colwise() + mean) * y_std_;
    samples->array() += y_mean_;
    return Status::Ok();
  }
  return Internal("GP joint sample: the posterior covariance of " + std::to_string(x.rows()) +
                  " points is not positive definite even with a jitter of 1e-4");
}

Eigen::VectorXd GaussianProcess::ExpectedImprovement(const Eigen::MatrixXd& x, double best) const {
  Eigen::VectorXd mu, sd;
  Predict(x, &mu, &sd);
  Eigen::VectorXd ei(x.rows());
  const double xi = options_.xi * y_std_;
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const double imp = mu(i) - best - xi;
    const double z = imp / sd(i);
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
    ei(i) = std::max(0.0, imp * cdf + sd(i) * pdf);
  }
  return ei;
}

}  // namespace ecomap::search
