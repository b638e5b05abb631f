// search/region_samplers.h: how LA-MCTS draws new samples inside the selected leaf's region.
//
// Two samplers, both working in the unit cube and keeping only candidates that every SVM on the
// leaf's path agrees with:
//   * "perturb" (cheap, the default): candidates are perturbations of the best samples of the
//     leaf (a random subset of coordinates moved by Gaussian steps whose size is drawn
//     log-uniformly up to the current trust length), kept if inside the region; the first
//     `count` kept ones are proposed.
//   * "bo" (model-based): the same in-region candidates are scored by the expected improvement
//     of a Gaussian process (Matern 5/2) fitted to the samples nearest the leaf's best sample; the
//     `count` best distinct ones are proposed.
// When not enough candidates fall inside the region after `max_rounds` rounds, the remainder is
// filled with the smallest-step candidates and counted in Proposal::outside_region.
//
//   SamplerInput in{tree, path, xu, f};
//   Proposal p = ProposePerturb(in, /*count=*/4, options, rng);
//
// Thread-safety: pure functions; the caller owns the generator.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "core/status.h"
#include "search/gaussian_process.h"
#include "search/partition_tree.h"
#include "search/sampling.h"

namespace ecomap::search {

struct SamplerOptions {
  int candidates = 256;        // "bo": candidates scored per proposal; "perturb": at most this
                               // many per round (rounds of max(32, 4 * count) until enough)
  int max_rounds = 8;          // rounds of generation before falling back
  int centres = 3;             // best samples of the leaf that candidates perturb
  double perturb_dims = 2.0;   // expected number of coordinates moved (probability min(1, this/d))
  double min_step = 0.05;      // smallest Gaussian step, unit-cube units (smaller steps get
                               // stuck in the ripples of multimodal functions)
  double trust_length = 0.2;   // largest Gaussian step, unit-cube units (LA-MCTS adapts it)
  int gp_max_points = 100;     // "bo": the GP is fitted to at most this many nearest samples
  GpOptions gp;
};

struct SamplerInput {
  const PartitionTree& tree;
  const std::vector<PathStep>& path;
  const Eigen::MatrixXd& xu;   // all samples in the unit cube (first f.size() rows valid)
  const Eigen::VectorXd& f;    // their values
  // Optional, one per dimension (unit-cube units): the smallest move of a perturbed coordinate,
  // so that integer dimensions (0.5 / width + a margin) change after rounding. Empty: none.
  Eigen::VectorXd min_move = Eigen::VectorXd();
};

struct Proposal {
  Eigen::MatrixXd points;      // count x d, unit cube
  int outside_region = 0;      // proposals that are not inside the region (fallback)
  int generated = 0;           // candidates generated
};

Proposal ProposePerturb(const SamplerInput& in, int count, const SamplerOptions& options, Rng& rng);
StatusOr<Proposal> ProposeBo(const SamplerInput& in, int count, const SamplerOptions& options, Rng& rng);

}  // namespace ecomap::search
