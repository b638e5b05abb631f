#include "search/svm_boundary.h"

#include <libsvm/svm.h>

#include <cmath>
#include <mutex>

namespace ecomap::search {
namespace {

void SilentPrint(const char*) {}

void SilenceLibsvm() {
  static std::once_flag once;
  std::call_once(once, [] { svm_set_print_string_function(&SilentPrint); });
}

}  // namespace

StatusOr<SvmKernel> ParseSvmKernel(const std::string& name) {
  if (name == "rbf") return SvmKernel::kRbf;
  if (name == "poly") return SvmKernel::kPoly;
  if (name == "linear") return SvmKernel::kLinear;
  return InvalidArgument("unknown SVM kernel '" + name + "'; use rbf, poly or linear");
}

std::string SvmKernelName(SvmKernel k) {
  switch (k) {
    case SvmKernel::kRbf: return "rbf";
    case SvmKernel::kPoly: return "poly";
    case SvmKernel::kLinear: return "linear";
  }
  return "?";
}

StatusOr<std::unique_ptr<SvmBoundary>> SvmBoundary::Train(const Eigen::MatrixXd& x,
                                                           const std::vector<int>& labels,
                                                           const SvmOptions& options) {
  SilenceLibsvm();
  const Eigen::Index n = x.rows();
  const Eigen::Index d = x.cols();
  if (static_cast<size_t>(n) != labels.size()) {
    return InvalidArgument("SVM training: " + std::to_string(n) + " points but " +
                           std::to_string(labels.size()) + " labels");
  }
  if (n < 2 || d < 1) return InvalidArgument("SVM training needs at least 2 points and 1 dimension");
  bool has0 = false, has1 = false;
  for (int l : labels) {
    if (l == 0) has0 = true;
    else if (l == 1) has1 = true;
    else return InvalidArgument("SVM training: label " + std::to_string(l) + " is not 0 or 1");
  }
  if (!has0 || !has1) return InvalidArgument("SVM training needs both labels 0 and 1");

  std::unique_ptr<SvmBoundary> b(new SvmBoundary());
  b->options_ = options;
  const Eigen::MatrixXd xs = (x.array() - options.shift).matrix();
  double gamma = options.gamma;
  if (gamma <= 0.0) {
    const double mean = xs.mean();
    const double var = (xs.array() - mean).square().mean();
    gamma = var > 0.0 ? 1.0 / (static_cast<double>(d) * var) : 1.0;
  }
  b->gamma_ = gamma;

  // Dense rows in libsvm's sparse format: d entries and a terminator each.
  b->nodes_.resize(static_cast<size_t>(n * (d + 1)));
  std::vector<svm_node*> rows(static_cast<size_t>(n));
  std::vector<double> y(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    svm_node* row = &b->nodes_[static_cast<size_t>(i * (d + 1))];
    for (Eigen::Index j = 0; j < d; ++j) row[j] = svm_node{static_cast<int>(j + 1), xs(i, j)};
    row[d] = svm_node{-1, 0.0};
    rows[static_cast<size_t>(i)] = row;
    y[static_cast<size_t>(i)] = labels[static_cast<size_t>(i)];
  }
  svm_problem prob{};
  prob.l = static_cast<int>(n);
  prob.y = y.data();
  prob.x = rows.data();

  svm_parameter param{};
  param.svm_type = C_SVC;
  switch (options.kernel) {
    case SvmKernel::kRbf: param.kernel_type = RBF; break;
    case SvmKernel::kPoly: param.kernel_type = POLY; break;
    case SvmKernel::kLinear: param.kernel_type = LINEAR; break;
  }
  param.degree = options.degree;
  param.gamma = gamma;
  param.coef0 = options.coef0;
  param.cache_size = 16;  // MB
  param.eps = 1e-3;
  param.C = options.c;
  param.shrinking = 1;
  param.probability = 0;
  if (const char* err = svm_check_parameter(&prob, &param)) {
    return Internal(std::string("libsvm rejected the SVM parameters: ") + err);
  }
  svm_model* model = svm_train(&prob, &param);
  if (model == nullptr) return Internal("libsvm failed to train the SVM");
  b->model_ = model;  // model->SV points into b->nodes_, which b owns.

  const int nsv = model->l;
  b->sv_.setZero(nsv, d);
  b->coef_.resize(nsv);
  for (int i = 0; i < nsv; ++i) {
    for (const svm_node* p = model->SV[i]; p->index != -1; ++p) {
      if (p->index >= 1 && p->index <= d) b->sv_(i, p->index - 1) = p->value;
    }
    b->coef_(i) = model->sv_coef[0][i];
  }
  b->sv_sq_norm_ = b->sv_.rowwise().squaredNorm();
  b->rho_ = model->rho[0];
  b->positive_label_ = model->label[0];
  b->negative_label_ = model->nr_class > 1 ? model->label[1] : 1 - model->label[0];
  return b;
}

SvmBoundary::~SvmBoundary() {
  if (model_ != nullptr) svm_free_and_destroy_model(&model_);
}

Eigen::VectorXi SvmBoundary::Predict(const Eigen::MatrixXd& x_in) const {
  const Eigen::MatrixXd x = (x_in.array() - options_.shift).matrix();
  Eigen::MatrixXd k = x * sv_.transpose();  // m x nsv dot products
  switch (options_.kernel) {
    case SvmKernel::kRbf: {
      const Eigen::VectorXd xsq = x.rowwise().squaredNorm();
      k = (-2.0 * k).colwise() + xsq;
      k.rowwise() += sv_sq_norm_.transpose();
      k = (-gamma_ * k.array().max(0.0)).exp().matrix();
      break;
    }
    case SvmKernel::kPoly: {
      // Integer power by repeated products (std::pow is ~10x slower here).
      const Eigen::ArrayXXd base = gamma_ * k.array() + options_.coef0;
      Eigen::ArrayXXd acc = Eigen::ArrayXXd::Ones(base.rows(), base.cols());
      for (int i = 0; i < options_.degree; ++i) acc *= base;
      k = acc.matrix();
      break;
    }
    case SvmKernel::kLinear:
      break;
  }
  const Eigen::VectorXd dec = k * coef_;
  Eigen::VectorXi out(x.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) out(i) = dec(i) - rho_ > 0.0 ? positive_label_ : negative_label_;
  return out;
}

int SvmBoundary::PredictWithLibsvm(const Eigen::RowVectorXd& x) const {
  std::vector<svm_node> row(static_cast<size_t>(x.size() + 1));
  for (Eigen::Index j = 0; j < x.size(); ++j) row[static_cast<size_t>(j)] = svm_node{static_cast<int>(j + 1), x(j) - options_.shift};
  row.back() = svm_node{-1, 0.0};
  return static_cast<int>(svm_predict(model_, row.data()));
}

}  // namespace ecomap::search
