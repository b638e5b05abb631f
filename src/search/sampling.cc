#include "search/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ecomap::search {

double Uniform01(Rng& rng) {
  // 53 random bits -> [0, 1).
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

double StandardNormal(Rng& rng) {
  double u1 = Uniform01(rng);
  while (u1 <= 0.0) u1 = Uniform01(rng);
  const double u2 = Uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

int UniformIndex(int n, Rng& rng) {
  int i = static_cast<int>(Uniform01(rng) * n);
  return i >= n ? n - 1 : i;
}

Eigen::MatrixXd LatinHypercube(int n, int d, Rng& rng) {
  Eigen::MatrixXd u(n, d);
  std::vector<int> perm(static_cast<size_t>(n));
  for (int j = 0; j < d; ++j) {
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = n - 1; i > 0; --i) std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(UniformIndex(i + 1, rng))]);
    for (int i = 0; i < n; ++i) u(i, j) = (perm[static_cast<size_t>(i)] + Uniform01(rng)) / n;
  }
  return u;
}

std::vector<double> FromUnit(const Box& box, const Eigen::Ref<const Eigen::RowVectorXd>& u) {
  std::vector<double> x(static_cast<size_t>(u.size()));
  for (Eigen::Index j = 0; j < u.size(); ++j) {
    const size_t k = static_cast<size_t>(j);
    x[k] = box.lb[k] + u(j) * (box.ub[k] - box.lb[k]);
  }
  return x;
}

Eigen::RowVectorXd ToUnit(const Box& box, const std::vector<double>& x) {
  Eigen::RowVectorXd u(static_cast<Eigen::Index>(x.size()));
  for (size_t k = 0; k < x.size(); ++k) u(static_cast<Eigen::Index>(k)) = (x[k] - box.lb[k]) / (box.ub[k] - box.lb[k]);
  return u;
}

int DimGrid::Nearest(double u) const {
  if (count <= 1 || step <= 0.0) return 0;
  return std::clamp(static_cast<int>(std::lround((u - first) / step)), 0, count - 1);
}

std::vector<DimGrid> UnitGrid(const Box& box) {
  std::vector<DimGrid> out(static_cast<size_t>(box.dims()));
  for (int j = 0; j < box.dims(); ++j) {
    const int n = box.levels(j);
    if (n <= 0) continue;
    const size_t i = static_cast<size_t>(j);
    const double width = box.ub[i] - box.lb[i];
    DimGrid& g = out[i];
    g.count = n;
    g.first = (std::ceil(box.lb[i]) - box.lb[i]) / width;
    g.step = 1.0 / width;
    g.categorical = box.is_categorical(j);
  }
  return out;
}

double OtherChoice(const DimGrid& g, double u, Rng& rng) {
  if (g.count <= 1) return u;
  const int cur = g.Nearest(u);
  int k = UniformIndex(g.count - 1, rng);
  if (k >= cur) ++k;
  return g.At(k);
}

}  // namespace ecomap::search
