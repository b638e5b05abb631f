#include "search/partition_tree.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "search/kmeans.h"

namespace ecomap::search {
namespace {

double MeanOf(const Eigen::VectorXd& f, const std::vector<int>& idx) {
  double s = 0.0;
  for (int i : idx) s += f(i);
  return idx.empty() ? 0.0 : s / static_cast<double>(idx.size());
}

// True when the SVM predicts label 0 for some row and label 1 for some row of x. Predicts in
// small chunks, good-cluster rows first when looking for a 0 and bad-cluster rows first when
// looking for a 1, so it usually stops after a chunk or two instead of predicting every row.
bool PredictsBothLabels(const SvmBoundary& svm, const Eigen::MatrixXd& x, const std::vector<int>& labels) {
  constexpr int kChunk = 16;
  for (int want = 0; want < 2; ++want) {
    std::vector<int> order;
    for (size_t r = 0; r < labels.size(); ++r) if (labels[r] == want) order.push_back(static_cast<int>(r));
    for (size_t r = 0; r < labels.size(); ++r) if (labels[r] != want) order.push_back(static_cast<int>(r));
    bool found = false;
    for (size_t start = 0; start < order.size() && !found; start += kChunk) {
      const size_t end = std::min(order.size(), start + kChunk);
      Eigen::MatrixXd chunk(static_cast<Eigen::Index>(end - start), x.cols());
      for (size_t r = start; r < end; ++r) chunk.row(static_cast<Eigen::Index>(r - start)) = x.row(order[r]);
      const Eigen::VectorXi pred = svm.Predict(chunk);
      for (Eigen::Index r = 0; r < pred.size(); ++r) found = found || pred(r) == want;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

StatusOr<PartitionTree> PartitionTree::Build(const Eigen::MatrixXd& xu, const Eigen::VectorXd& f,
                                             const TreeOptions& options, Rng& rng) {
  const Eigen::Index n = f.size();
  if (n < 1 || xu.rows() < n) {
    return InvalidArgument("partition tree: " + std::to_string(n) + " values for " +
                           std::to_string(xu.rows()) + " points");
  }
  const Eigen::Index d = xu.cols();
  PartitionTree t;
  TreeNode root;
  root.samples.resize(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) root.samples[static_cast<size_t>(i)] = static_cast<int>(i);
  root.mean_f = MeanOf(f, root.samples);
  t.nodes_.push_back(std::move(root));

  // Breadth-first: nodes_ grows while we walk it.
  for (size_t cur = 0; cur < t.nodes_.size(); ++cur) {
    const std::vector<int>& idx = t.nodes_[cur].samples;
    const int m = static_cast<int>(idx.size());
    if (m <= options.leaf_size || m < 3 || t.nodes_[cur].depth >= options.max_depth) continue;

    // 2-means on [x, w * z(f)].
    Eigen::MatrixXd x(m, d);
    Eigen::VectorXd fv(m);
    for (int r = 0; r < m; ++r) {
      x.row(r) = xu.row(idx[static_cast<size_t>(r)]);
      fv(r) = f(idx[static_cast<size_t>(r)]);
    }
    const double mu = fv.mean();
    const double sd = std::sqrt((fv.array() - mu).square().mean());
    Eigen::MatrixXd feat(m, d + 1);
    feat.leftCols(d) = x;
    if (sd > 0.0) {
      feat.col(d) = ((fv.array() - mu) / sd * options.kmeans_f_weight).matrix();
    } else {
      feat.col(d).setZero();
    }
    KMeansResult km = KMeans(feat, 2, rng);
    double sum[2] = {0.0, 0.0};
    int cnt[2] = {0, 0};
    for (int r = 0; r < m; ++r) {
      sum[km.labels[static_cast<size_t>(r)]] += fv(r);
      ++cnt[km.labels[static_cast<size_t>(r)]];
    }
    if (cnt[0] == 0 || cnt[1] == 0) continue;
    const bool flip = sum[1] / cnt[1] > sum[0] / cnt[0];  // label 0 must be the good cluster
    std::vector<int> labels(static_cast<size_t>(m));
    for (int r = 0; r < m; ++r) labels[static_cast<size_t>(r)] = flip ? 1 - km.labels[static_cast<size_t>(r)] : km.labels[static_cast<size_t>(r)];

    StatusOr<std::unique_ptr<SvmBoundary>> svm = SvmBoundary::Train(x, labels, options.svm);
    if (!svm.ok()) continue;  // cannot separate: stays a leaf
    if (!PredictsBothLabels(**svm, x, labels)) continue;  // the SVM does not separate the samples

    TreeNode kid[2];
    for (int r = 0; r < m; ++r) kid[labels[static_cast<size_t>(r)]].samples.push_back(idx[static_cast<size_t>(r)]);
    const int depth = t.nodes_[cur].depth + 1;
    t.nodes_[cur].svm = std::move(*svm);
    for (int k = 0; k < 2; ++k) {
      kid[k].mean_f = MeanOf(f, kid[k].samples);
      kid[k].parent = static_cast<int>(cur);
      kid[k].depth = depth;
      t.nodes_[cur].kids[k] = static_cast<int>(t.nodes_.size());
      t.nodes_.push_back(std::move(kid[k]));
    }
  }
  return t;
}

std::vector<PathStep> PartitionTree::SelectUct(double cp, Rng& rng) const {
  std::vector<PathStep> path;
  int cur = 0;
  while (!nodes_[static_cast<size_t>(cur)].is_leaf()) {
    const TreeNode& p = nodes_[static_cast<size_t>(cur)];
    const double np = static_cast<double>(p.samples.size());
    double uct[2];
    for (int k = 0; k < 2; ++k) {
      const TreeNode& c = nodes_[static_cast<size_t>(p.kids[k])];
      const double n = static_cast<double>(c.samples.size());
      uct[k] = c.mean_f + 2.0 * cp * std::sqrt(2.0 * std::sqrt(np) / n);
    }
    int choice = uct[0] > uct[1] ? 0 : (uct[1] > uct[0] ? 1 : UniformIndex(2, rng));
    path.push_back({cur, choice});
    cur = p.kids[choice];
  }
  return path;
}

int PartitionTree::LeafOf(const std::vector<PathStep>& path) const {
  if (path.empty()) return 0;
  return nodes_[static_cast<size_t>(path.back().node)].kids[path.back().direction];
}

std::vector<char> PartitionTree::InRegion(const std::vector<PathStep>& path,
                                          const Eigen::MatrixXd& points) const {
  std::vector<char> inside(static_cast<size_t>(points.rows()), 1);
  std::vector<Eigen::Index> alive(static_cast<size_t>(points.rows()));
  for (Eigen::Index i = 0; i < points.rows(); ++i) alive[static_cast<size_t>(i)] = i;
  // The region is an intersection, so the order of the checks does not change the answer; the
  // deepest SVM goes first because it rejects the most candidates near the leaf (measured on
  // Ackley-20: a third of them, against a few percent for the root's), which spares the other
  // SVMs' kernel rows for the rejected candidates.
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    const PathStep& step = *it;
    if (alive.empty()) break;
    Eigen::MatrixXd sub(static_cast<Eigen::Index>(alive.size()), points.cols());
    for (size_t r = 0; r < alive.size(); ++r) sub.row(static_cast<Eigen::Index>(r)) = points.row(alive[r]);
    const Eigen::VectorXi pred = nodes_[static_cast<size_t>(step.node)].svm->Predict(sub);
    std::vector<Eigen::Index> next;
    for (size_t r = 0; r < alive.size(); ++r) {
      if (pred(static_cast<Eigen::Index>(r)) == step.direction) next.push_back(alive[r]);
      else inside[static_cast<size_t>(alive[r])] = 0;
    }
    alive.swap(next);
  }
  return inside;
}

int PartitionTree::leaves() const {
  int c = 0;
  for (const auto& n : nodes_) c += n.is_leaf() ? 1 : 0;
  return c;
}

int PartitionTree::height() const {
  int h = 0;
  for (const auto& n : nodes_) h = std::max(h, n.depth);
  return h;
}

}  // namespace ecomap::search
