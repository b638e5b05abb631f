// search/exhaustive.h: exhaustive enumeration of a small discrete space (a grid / integer box).
//
// Integer dimensions take every integer in [lb, ub]; continuous dimensions take `grid_points`
// evenly spaced values from lb to ub (both included). Points are enumerated in mixed-radix
// order (the last dimension fastest) and evaluated in batches. Used as the ground truth for
// small mapping problems.
//
//   ExhaustiveSearch ex(ExhaustiveOptions{.grid_points = 5});
//   StatusOr<SearchResult> r = ex.Maximize(problem, Budget{.max_evals = 10000}, 0);
//
// Fails with InvalidArgument when a continuous dimension exists and grid_points < 2, when the
// space holds more than `max_points` points, or when an evaluation budget is set below the
// number of points (the message gives the count). A time budget may end it early
// (SearchResult::stopped_by_time).
// Thread-safety: one Maximize at a time per object.
#pragma once

#include "search/optimizer.h"

namespace ecomap::search {

struct ExhaustiveOptions {
  int grid_points = 0;            // values per continuous dimension; 0 = continuous not allowed
  long long max_points = 1000000; // refuse larger spaces
  int batch_size = 256;           // points per objective call
};

class ExhaustiveSearch final : public Optimizer {
 public:
  explicit ExhaustiveSearch(ExhaustiveOptions options = {}) : options_(options) {}
  std::string name() const override { return "exhaustive"; }
  StatusOr<SearchResult> Maximize(const Problem& problem, const Budget& budget, uint64_t seed) override;

  // The number of points of the grid over `box`, or InvalidArgument as Maximize.
  StatusOr<long long> CountPoints(const Box& box) const;

 private:
  ExhaustiveOptions options_;
};

}  // namespace ecomap::search
