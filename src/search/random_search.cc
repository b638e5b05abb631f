#include "search/random_search.h"

#include <algorithm>

#include "search/eval_recorder.h"
#include "search/sampling.h"

namespace ecomap::search {

StatusOr<SearchResult> RandomSearch::Maximize(const Problem& problem, const Budget& budget, uint64_t seed) {
  ECOMAP_RETURN_IF_ERROR(problem.box.Validate());
  ECOMAP_RETURN_IF_ERROR(budget.Validate());
  if (!problem.objective) return InvalidArgument("the problem has no objective");
  if (options_.batch_size < 1) {
    return InvalidArgument("random search batch size " + std::to_string(options_.batch_size) + " must be >= 1");
  }
  Rng rng(seed);
  EvalRecorder rec(problem, budget);
  const int d = problem.box.dims();
  while (!rec.done()) {
    const int count = std::min(options_.batch_size, rec.remaining());
    std::vector<std::vector<double>> xs(static_cast<size_t>(count), std::vector<double>(static_cast<size_t>(d)));
    for (auto& x : xs) {
      for (int j = 0; j < d; ++j) {
        const size_t k = static_cast<size_t>(j);
        x[k] = problem.box.lb[k] + Uniform01(rng) * (problem.box.ub[k] - problem.box.lb[k]);
      }
    }
    std::vector<double> fx;
    ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&xs, &fx));
  }
  return rec.Finish();
}

}  // namespace ecomap::search
