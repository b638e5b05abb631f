// search/random_search.h: uniform random search, the simplest baseline.
//
//   RandomSearch rs(RandomSearchOptions{.batch_size = 100});
//   StatusOr<SearchResult> r = rs.Maximize(problem, Budget{.max_evals = 500}, /*seed=*/1);
//
// Points are uniform in the box (integer dimensions rounded by Box::Snap).
// Thread-safety: one Maximize at a time per object.
#pragma once

#include "search/optimizer.h"

namespace ecomap::search {

struct RandomSearchOptions {
  int batch_size = 100;  // points per objective call
};

class RandomSearch final : public Optimizer {
 public:
  explicit RandomSearch(RandomSearchOptions options = {}) : options_(options) {}
  std::string name() const override { return "random"; }
  StatusOr<SearchResult> Maximize(const Problem& problem, const Budget& budget, uint64_t seed) override;

 private:
  RandomSearchOptions options_;
};

}  // namespace ecomap::search
