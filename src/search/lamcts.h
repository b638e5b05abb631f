// search/lamcts.h: LA-MCTS, Latent Action Monte Carlo Tree Search (Wang, Fonseca, Tian,
// NeurIPS 2020), a black-box maximiser over a box.
//
// Algorithm (as the reference implementation facebookresearch/LaMCTS):
//   1. `ninits` Latin-hypercube samples.
//   2. Every iteration: rebuild the partition tree from all samples (partition_tree.h: 2-means
//      on [x, f(x)], SVM boundary, split only when the SVM separates the node's samples);
//      select a leaf by UCT with exploration constant Cp; draw batches of `batch_size` new
//      samples inside the leaf's region (region_samplers.h: "turbo", "bo" or "perturb") and
//      evaluate them: one batch, or for "turbo" up to sampling.turbo.batches_per_leaf (a short
//      TuRBO trajectory in the leaf, as the reference runs TuRBO in the selected leaf).
//   3. Stop when the evaluation or time budget is spent.
// Differences from the reference, all documented here: x is scaled to the unit cube before the
// 2-means and the SVM (so one setting fits boxes of any shape) and centred for the SVM kernels
// (poly coef0 = 1); f enters the 2-means standardised (weight `kmeans_f_weight`); the SVM gamma
// defaults to sklearn's "scale"; `batch_size` samples per batch (default 5, the reference draws
// 1: the tree rebuild and the GP fit cost per batch; with "turbo" the tree is rebuilt every 2
// batches, which keeps the search overhead under 1 ms per evaluation at 500 samples in 20
// dims); "turbo"'s GP has a fixed grid of isotropic length scales (the reference learns ARD
// length scales with Adam) and its TuRBO trajectory is two batches long (the reference's runs
// until the trust region collapses, one sample per batch). The trust region
// (region_samplers.h, TrustRegion) is "turbo"'s cube side (TuRBO-1's schedule,
// `turbo_trust`) or the other samplers' largest perturbation step (doubled after
// `success_tolerance` improving batches in a row, halved after `failure_tolerance`
// non-improving ones, reset to `initial_trust_length` once it falls below `min_trust_length`).
//
//   LaMctsOptions o;            // defaults: Cp 1, leaf 10, rbf, 40 inits, sampler turbo, batch 5
//   o.cp = 10; o.leaf_size = 8; o.kernel = SvmKernel::kPoly;   // the reference's Levy settings
//   LaMcts opt(o);
//   StatusOr<SearchResult> r = opt.Maximize(problem, Budget{.max_evals = 500}, /*seed=*/3);
//
// Thread-safety: one Maximize at a time per object; objects are independent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "search/optimizer.h"
#include "search/partition_tree.h"
#include "search/region_samplers.h"

namespace ecomap::search {

enum class RegionSampler { kPerturb, kBo, kTurbo };
// "perturb", "bo" or "turbo"; InvalidArgument naming the choices otherwise.
StatusOr<RegionSampler> ParseRegionSampler(const std::string& name);
std::string RegionSamplerName(RegionSampler s);

struct LaMctsOptions {
  double cp = 1.0;               // exploration constant; guidance: about 0.1 * max |f|
  int leaf_size = 10;            // split leaves holding more samples than this (10-100)
  SvmKernel kernel = SvmKernel::kRbf;
  double svm_gamma = 0.0;        // <= 0: "scale" = 1 / (d * Var(x)); x in the unit cube
  double svm_c = 1.0;
  int ninits = 40;               // Latin-hypercube initial samples (the budget must cover them)
  RegionSampler sampler = RegionSampler::kTurbo;
  int batch_size = 5;            // samples per batch drawn in the selected leaf (the reference
                                 // draws 1); "turbo" draws sampling.turbo.batches_per_leaf (2)
                                 // batches per tree, the others one
  // The batch grows in proportion to the samples held: batch_size * max(1, floor(samples /
  // batch_growth_samples)), so that the optimiser's work per evaluation (a tree trained on every
  // sample, a GP per batch) stays about constant as the history grows. With the default 150, runs
  // of up to 300 evaluations draw batch_size throughout (sample efficiency matters most there);
  // past 300 samples the batch is 10, past 450 it is 15. 0: a fixed batch.
  int batch_growth_samples = 150;
  double kmeans_f_weight = 1.0;  // weight of standardised f against unit-cube x in the 2-means
  SamplerOptions sampling;       // candidates per round (256), centres (3), GP size (100),
                                 // sampling.turbo: "turbo"'s candidates, GP, batches per leaf
  double initial_trust_length = 0.2;  // largest perturbation step, unit-cube units
  double min_trust_length = 0.01;     // below this the trust length is reset
  double max_trust_length = 0.8;
  int success_tolerance = 3;
  int failure_tolerance = 0;     // 0: max(4, ceil(d / batch_size)) as TuRBO
  // The "turbo" sampler's trust region (its own schedule, replacing the five fields above);
  // unset: TrustRegionOptions::Turbo(d, batch_size).
  std::optional<TrustRegionOptions> turbo_trust;

  // InvalidArgument naming the field and its valid range.
  Status Validate() const;
};

// What the last Maximize call did (for tests, logs and the bench command).
struct LaMctsStats {
  int iterations = 0;            // trees built (each followed by one batch, "turbo": up to 2)
  int max_leaves = 0;            // most leaves a tree had
  int max_height = 0;            // tallest tree
  int proposals_outside_region = 0;  // fallback proposals (see region_samplers.h)
  int trust_resets = 0;
  std::vector<double> trust_lengths;  // the trust length after each iteration
};

class LaMcts final : public Optimizer {
 public:
  explicit LaMcts(LaMctsOptions options = {}) : options_(options) {}
  std::string name() const override { return "lamcts"; }
  // Also InvalidArgument when budget.max_evals is set below options.ninits.
  StatusOr<SearchResult> Maximize(const Problem& problem, const Budget& budget, uint64_t seed) override;
  const LaMctsStats& stats() const { return stats_; }
  const LaMctsOptions& options() const { return options_; }

 private:
  LaMctsOptions options_;
  LaMctsStats stats_;
};

}  // namespace ecomap::search
