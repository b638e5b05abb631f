// search/simulated_annealing.h: simulated annealing, the Clover-style (SC'23) baseline.
//
// Schedule (documented, deterministic for a seed):
//   * start at a uniform random point x0;
//   * a neighbour changes `move_dims` = max(1, round(move_fraction * d)) random coordinates:
//     continuous ones by a Gaussian step of `step_fraction` * (ub - lb), integer ones by a
//     random +-1..max(1, round(step_fraction * (ub - lb))), categorical ones to another of their
//     values uniformly (Box::categorical); results are clamped into the box;
//   * the initial temperature T0 is `initial_temperature` when > 0, else the mean |f(x') - f(x0)|
//     over `warmup_moves` neighbours of x0 (those evaluations count against the budget);
//   * geometric cooling after every move: T <- alpha * T, with alpha chosen so that T reaches
//     `final_temperature_ratio` * T0 at the end of the evaluation budget (alpha = 0.995 with a
//     time budget only);
//   * Metropolis acceptance: a better neighbour always, a worse one with probability
//     exp((f' - f) / T). The best point ever seen is returned.
//
//   SimulatedAnnealing sa;
//   StatusOr<SearchResult> r = sa.Maximize(problem, Budget{.max_evals = 500}, /*seed=*/1);
//
// Thread-safety: one Maximize at a time per object.
#pragma once

#include "search/optimizer.h"

namespace ecomap::search {

struct AnnealingOptions {
  double step_fraction = 0.1;            // neighbour step, fraction of each dimension's width
  double move_fraction = 0.1;            // fraction of coordinates changed per move
  double initial_temperature = 0.0;      // <= 0: estimated from warmup moves
  int warmup_moves = 10;
  double final_temperature_ratio = 1e-3; // T_end / T0
  Status Validate() const;
};

class SimulatedAnnealing final : public Optimizer {
 public:
  explicit SimulatedAnnealing(AnnealingOptions options = {}) : options_(options) {}
  std::string name() const override { return "sa"; }
  StatusOr<SearchResult> Maximize(const Problem& problem, const Budget& budget, uint64_t seed) override;

 private:
  AnnealingOptions options_;
};

}  // namespace ecomap::search
