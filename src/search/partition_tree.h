// search/partition_tree.h: the LA-MCTS search-space partition (Wang, Fonseca, Tian, NeurIPS 2020).
//
// Built from all samples at every iteration: the root holds every sample; a node holding more
// than `leaf_size` samples is clustered by 2-means on the rows [x, w * z(f)] (x in the unit cube,
// z(f) the node's standardised values); the cluster with the higher mean f is "good" (label 0).
// An SVM learned on x with those labels is the node's boundary. The node is split only when
// that SVM predicts both labels on the node's own samples; its kids then take the samples by
// cluster label (kid 0 good, kid 1 bad). A leaf's region is the intersection of the SVM
// decisions on its path from the root.
//
// Selection walks from the root to a leaf taking the kid with the highest
//   UCT = mean_f + 2 * Cp * sqrt(2 * sqrt(n_parent) / n),
// (n = samples in the node), breaking ties at random.
//
//   StatusOr<PartitionTree> t = PartitionTree::Build(xu, f, opts, rng);
//   std::vector<PathStep> path = t->SelectUct(/*cp=*/1.0, rng);
//   std::vector<char> inside = t->InRegion(path, candidates);   // 1 where every SVM agrees
//
// Thread-safety: const methods may be called concurrently; Build is a pure function.
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "core/status.h"
#include "search/sampling.h"
#include "search/svm_boundary.h"

namespace ecomap::search {

struct TreeOptions {
  int leaf_size = 10;          // a node with more samples than this is split (if the SVM separates)
  SvmOptions svm;              // the boundary classifier
  double kmeans_f_weight = 1.0;  // weight of the standardised f column in the 2-means features
  int max_depth = 24;          // safety cap on the tree height
};

struct TreeNode {
  std::vector<int> samples;    // indices into the sample arrays
  double mean_f = 0.0;
  int parent = -1;
  int kids[2] = {-1, -1};      // [good, bad]; both -1 for a leaf
  int depth = 0;
  std::unique_ptr<SvmBoundary> svm;  // set on split nodes
  bool is_leaf() const { return kids[0] < 0; }
};

struct PathStep {
  int node;       // an inner node on the path
  int direction;  // which kid was taken: 0 good, 1 bad (= the SVM label of the region)
};

class PartitionTree {
 public:
  // Builds the tree over the first f.size() rows of xu (unit-cube points). InvalidArgument when
  // there are no samples or sizes differ.
  static StatusOr<PartitionTree> Build(const Eigen::MatrixXd& xu, const Eigen::VectorXd& f,
                                       const TreeOptions& options, Rng& rng);

  // The path from the root to a leaf chosen by UCT. Empty when the root is a leaf.
  std::vector<PathStep> SelectUct(double cp, Rng& rng) const;
  // The leaf a path ends in.
  int LeafOf(const std::vector<PathStep>& path) const;
  // For every row of `points` (unit cube), 1 if every SVM on the path predicts the path's
  // direction, else 0. The deepest SVM is checked first and a candidate it rejects goes no
  // further.
  std::vector<char> InRegion(const std::vector<PathStep>& path, const Eigen::MatrixXd& points) const;

  const TreeNode& node(int i) const { return nodes_[static_cast<size_t>(i)]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  int leaves() const;
  int height() const;

 private:
  std::vector<TreeNode> nodes_;
};

}  // namespace ecomap::search
