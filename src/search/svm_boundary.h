// search/svm_boundary.h: a two-class SVM (libsvm C-SVC) that draws a node's boundary in LA-MCTS.
//
// Trained once with libsvm; its decision function is then evaluated for many candidates at once
// with Eigen (kernel rows against the support vectors), which is what keeps in-region sampling
// cheap. The libsvm model is kept so that tests can check both agree.
//
//   SvmOptions o; o.kernel = SvmKernel::kRbf;
//   StatusOr<std::unique_ptr<SvmBoundary>> svm = SvmBoundary::Train(x_unit, labels, o);
//   Eigen::VectorXi side = (*svm)->Predict(candidates);   // labels, one per row
//
// libsvm's printing is silenced once, process-wide (svm_set_print_string_function).
// Thread-safety: Predict is const and may be called from several threads; Train may run
// concurrently with other Train calls (libsvm keeps no global state besides the print hook).
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

struct svm_model;
struct svm_node;

namespace ecomap::search {

enum class SvmKernel { kRbf, kPoly, kLinear };

// "rbf", "poly", "linear"; InvalidArgument naming the choices otherwise.
StatusOr<SvmKernel> ParseSvmKernel(const std::string& name);
std::string SvmKernelName(SvmKernel k);

struct SvmOptions {
  SvmKernel kernel = SvmKernel::kRbf;
  double c = 1.0;        // C of C-SVC (sklearn's default, as in the reference)
  double gamma = 0.0;    // kernel gamma; <= 0 means "scale": 1 / (d * Var(X)) as sklearn
  int degree = 3;        // poly degree
  double coef0 = 1.0;    // poly offset (sklearn's default is 0; 1 keeps the cubic well conditioned)
  double shift = 0.0;    // subtracted from every coordinate before the kernel (LA-MCTS: 0.5,
                         // centring the unit cube so poly/linear kernels are well conditioned)
};

class SvmBoundary {
 public:
  // Trains on the rows of x (n x d) with labels in {0, 1}. InvalidArgument when sizes differ,
  // n < 2 or only one label occurs; Internal if libsvm rejects the problem.
  static StatusOr<std::unique_ptr<SvmBoundary>> Train(const Eigen::MatrixXd& x,
                                                       const std::vector<int>& labels,
                                                       const SvmOptions& options);
  ~SvmBoundary();
  SvmBoundary(const SvmBoundary&) = delete;
  SvmBoundary& operator=(const SvmBoundary&) = delete;

  // The predicted label (0 or 1) of every row of x (m x d), via the Eigen decision function.
  // rbf: the decision is first computed in single precision (twice the SIMD width); a row whose
  // value lies within a bound on that computation's error of 0 (ScreenMargin) is computed again
  // in double, so every label equals Decision's sign.
  Eigen::VectorXi Predict(const Eigen::MatrixXd& x) const;
  // The decision values sum_i coef_i K(sv_i, x) - rho of every row of x, in double precision
  // (positive: the label libsvm lists first).
  Eigen::VectorXd Decision(const Eigen::MatrixXd& x) const;
  // The same two through libsvm's own svm_predict / svm_predict_values, one point (for tests
  // and cross-checks).
  int PredictWithLibsvm(const Eigen::RowVectorXd& x) const;
  double DecisionWithLibsvm(const Eigen::RowVectorXd& x) const;
  int support_vectors() const { return static_cast<int>(sv_.rows()); }

 private:
  SvmBoundary() = default;

  SvmOptions options_;
  double gamma_ = 0.0;
  Eigen::MatrixXd sv_;           // support vectors, one per row
  Eigen::VectorXd sv_sq_norm_;   // |sv|^2, for the rbf kernel
  Eigen::VectorXd coef_;         // dual coefficients y_i * alpha_i
  double rho_ = 0.0;
  // rbf's single-precision screen: the support vectors, their norms and the coefficients as
  // floats, and sum |coef_i| (the scale of the screen's error bound).
  Eigen::RowVectorXd sv_mean_;   // the screen's origin
  Eigen::MatrixXf sv_f_;         // sv - sv_mean
  Eigen::VectorXf sv_sq_norm_f_;
  Eigen::VectorXf coef_f_;
  double coef_abs_sum_ = 0.0;
  int positive_label_ = 0;       // the label a positive decision value means
  int negative_label_ = 1;
  svm_model* model_ = nullptr;
  std::vector<svm_node> nodes_;  // the training vectors the model points into
};

}  // namespace ecomap::search
