// search/gaussian_process.h: a small exact Gaussian process (Matern 5/2) with expected improvement
// and joint posterior samples (Thompson sampling), the model behind LA-MCTS's "bo" and "turbo"
// samplers.
//
// Inputs are expected in the unit cube; outputs are standardised internally. The (isotropic)
// length scale is chosen from a fixed grid by the log marginal likelihood, so fitting is
// deterministic and costs a handful of Cholesky factorisations.
//
//   GaussianProcess gp;
//   Status s = gp.Fit(x_unit, fx);                   // n x d, n values
//   Eigen::VectorXd ei = gp.ExpectedImprovement(candidates, fx.maxCoeff());
//   Eigen::MatrixXd f;                               // m x k joint samples at m candidates
//   Status t = gp.SampleJoint(candidates, z, &f);    // z: m x k standard normals
//
// Thread-safety: Fit mutates; the const methods may be called concurrently after Fit.
#pragma once

#include <Eigen/Dense>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace ecomap::search {

struct GpOptions {
  double noise_variance = 1e-4;  // on the standardised outputs (a nugget)
  // Candidate length scales, in unit-cube distance, scaled by sqrt(d).
  std::vector<double> length_scale_grid = {0.05, 0.1, 0.2, 0.4, 0.8};
  double xi = 1e-3;              // EI exploration margin (standardised units)
};

class GaussianProcess {
 public:
  explicit GaussianProcess(GpOptions options = {}) : options_(std::move(options)) {}

  // Fits to n >= 1 rows of x with values y (maximisation convention). InvalidArgument on size
  // mismatch or non-finite data; Internal if no length scale gives a positive-definite kernel.
  Status Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& y);

  // Posterior mean and standard deviation at the rows of x (in the units of y). REQUIRES Fit.
  void Predict(const Eigen::MatrixXd& x, Eigen::VectorXd* mean, Eigen::VectorXd* stddev) const;
  // Expected improvement over `best` (in the units of y) at the rows of x. REQUIRES Fit.
  Eigen::VectorXd ExpectedImprovement(const Eigen::MatrixXd& x, double best) const;
  // The posterior mean alone (no triangular solve: cheaper than Predict). With `cross`, also the
  // m x n kernel between the rows of x and the training points, for SampleJoint. REQUIRES Fit.
  Eigen::VectorXd Mean(const Eigen::MatrixXd& x, Eigen::MatrixXd* cross = nullptr) const;
  // Joint posterior samples of f at the m rows of x (in the units of y): column k of *samples is
  // mean + C * z.col(k), C the Cholesky factor of the posterior covariance (plus a jitter of up
  // to 1e-4 of the output variance when it is not positive definite). z is m x k standard
  // normals, drawn by the caller. `cross`, if given, is x's kernel against the training points
  // (rows of Mean's), so it is not computed again. InvalidArgument when z has not m rows or
  // cross is not m x n; Internal when the covariance cannot be factored. REQUIRES Fit.
  Status SampleJoint(const Eigen::MatrixXd& x, const Eigen::MatrixXd& z, Eigen::MatrixXd* samples,
                     const Eigen::MatrixXd* cross = nullptr) const;

  double length_scale() const { return length_scale_; }

 private:
  Eigen::MatrixXd Kernel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double ls) const;

  GpOptions options_;
  Eigen::MatrixXd x_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;
  double y_mean_ = 0.0;
  double y_std_ = 1.0;
  double length_scale_ = 0.0;
};

}  // namespace ecomap::search
