#include "search/svm_boundary.h"

#include <libsvm/svm.h>

#include <cmath>
#include <mutex>
#include <vector>

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
  // The screen works relative to the support vectors' mean: the squared distances come from
  // small norms, so single precision loses little to cancellation.
  b->sv_mean_ = b->sv_.colwise().mean();
  b->sv_f_ = (b->sv_.rowwise() - b->sv_mean_).cast<float>();
  b->sv_sq_norm_f_ = b->sv_f_.rowwise().squaredNorm();
  b->coef_f_ = b->coef_.cast<float>();
  b->coef_abs_sum_ = b->coef_.cwiseAbs().sum();
  b->rho_ = model->rho[0];
  b->positive_label_ = model->label[0];
  b->negative_label_ = model->nr_class > 1 ? model->label[1] : 1 - model->label[0];
  return b;
}

SvmBoundary::~SvmBoundary() {
  if (model_ != nullptr) svm_free_and_destroy_model(&model_);
}

Eigen::VectorXd SvmBoundary::Decision(const Eigen::MatrixXd& x_in) const {
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
  return ((k * coef_).array() - rho_).matrix();
}

Eigen::VectorXi SvmBoundary::Predict(const Eigen::MatrixXd& x_in) const {
  const Eigen::Index m = x_in.rows();
  Eigen::VectorXi out(m);
  if (options_.kernel != SvmKernel::kRbf) {
    const Eigen::VectorXd dec = Decision(x_in);
    for (Eigen::Index i = 0; i < m; ++i) out(i) = dec(i) > 0.0 ? positive_label_ : negative_label_;
    return out;
  }
  // rbf in single precision. Its error: the squared distance |x|^2 + |sv|^2 - 2 x.sv is off by
  // at most about d * 2^-24 * (|x|^2 + |sv|^2) (rounding of the inputs, the products and sums),
  // which moves exp(-gamma D) <= 1 by at most gamma times that; exp and the sum over the
  // support vectors add a few times (nsv + 1) * 2^-24 relative. The margin below is that bound
  // with the factors rounded up and a further factor of 4, times sum |coef|. Rows within
  // it (typically a few percent) are computed again in double.
  const Eigen::MatrixXf x = ((x_in.array() - options_.shift).matrix().rowwise() - sv_mean_).cast<float>();
  const Eigen::VectorXf xsq = x.rowwise().squaredNorm();
  Eigen::MatrixXf k = x * sv_f_.transpose();
  k = (-2.0f * k).colwise() + xsq;
  k.rowwise() += sv_sq_norm_f_.transpose();
  k = (-static_cast<float>(gamma_) * k.array().max(0.0f)).exp().matrix();
  const Eigen::VectorXf dec = k * coef_f_;
  const double eps = std::ldexp(1.0, -24);
  const double d = static_cast<double>(x.cols());
  const double norms = static_cast<double>(xsq.size() > 0 ? xsq.maxCoeff() : 0.0f) +
                       static_cast<double>(sv_sq_norm_f_.size() > 0 ? sv_sq_norm_f_.maxCoeff() : 0.0f);
  const double margin =
      4.0 * coef_abs_sum_ * eps * (4.0 * (d + 2.0) * gamma_ * norms + 4.0 * (sv_f_.rows() + 2.0)) +
      4.0 * eps * std::fabs(rho_);
  std::vector<Eigen::Index> redo;
  for (Eigen::Index i = 0; i < m; ++i) {
    const double v = static_cast<double>(dec(i)) - rho_;
    if (std::fabs(v) <= margin || !std::isfinite(v)) redo.push_back(i);
    out(i) = v > 0.0 ? positive_label_ : negative_label_;
  }
  if (!redo.empty()) {
    Eigen::MatrixXd sub(static_cast<Eigen::Index>(redo.size()), x_in.cols());
    for (size_t r = 0; r < redo.size(); ++r) sub.row(static_cast<Eigen::Index>(r)) = x_in.row(redo[r]);
    const Eigen::VectorXd exact = Decision(sub);
    for (size_t r = 0; r < redo.size(); ++r) {
      out(redo[r]) = exact(static_cast<Eigen::Index>(r)) > 0.0 ? positive_label_ : negative_label_;
    }
  }
  return out;
}

int SvmBoundary::PredictWithLibsvm(const Eigen::RowVectorXd& x) const {
  std::vector<svm_node> row(static_cast<size_t>(x.size() + 1));
  for (Eigen::Index j = 0; j < x.size(); ++j) row[static_cast<size_t>(j)] = svm_node{static_cast<int>(j + 1), x(j) - options_.shift};
  row.back() = svm_node{-1, 0.0};
  return static_cast<int>(svm_predict(model_, row.data()));
}

double SvmBoundary::DecisionWithLibsvm(const Eigen::RowVectorXd& x) const {
  std::vector<svm_node> row(static_cast<size_t>(x.size() + 1));
  for (Eigen::Index j = 0; j < x.size(); ++j) row[static_cast<size_t>(j)] = svm_node{static_cast<int>(j + 1), x(j) - options_.shift};
  row.back() = svm_node{-1, 0.0};
  double value = 0.0;
  svm_predict_values(model_, row.data(), &value);
  return value;
}

}  // namespace ecomap::search
