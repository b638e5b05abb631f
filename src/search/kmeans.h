// search/kmeans.h: Lloyd's k-means with k-means++ seeding, deterministic for a generator.
//
// LA-MCTS splits a node by 2-means on the rows [x, f(x)] of its samples.
//
//   Rng rng(7);
//   KMeansResult r = KMeans(points, /*k=*/2, rng);   // r.labels[i] in {0, 1}
//
// Thread-safety: a pure function; the caller owns the generator.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "search/sampling.h"

namespace ecomap::search {

struct KMeansOptions {
  int restarts = 3;         // independent k-means++ seedings; the lowest inertia wins
  int max_iterations = 100; // Lloyd iterations per restart
};

struct KMeansResult {
  std::vector<int> labels;  // one per row, in [0, k)
  Eigen::MatrixXd centers;  // k x columns
  double inertia = 0.0;     // sum of squared distances to the assigned centre
};

// Clusters the rows of `points` (n x m). REQUIRES n >= 1, k >= 1. With fewer distinct rows than
// k some clusters are empty (no label refers to them).
KMeansResult KMeans(const Eigen::MatrixXd& points, int k, Rng& rng, const KMeansOptions& options = {});

}  // namespace ecomap::search
