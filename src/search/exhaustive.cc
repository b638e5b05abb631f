#include "search/exhaustive.h"

#include <cmath>

#include "search/eval_recorder.h"

namespace ecomap::search {
namespace {

// The values one dimension takes.
std::vector<double> Levels(const Box& box, int j, int grid_points) {
  const size_t k = static_cast<size_t>(j);
  std::vector<double> v;
  if (box.is_integer(j)) {
    for (double x = std::ceil(box.lb[k]); x <= std::floor(box.ub[k]); x += 1.0) v.push_back(x);
  } else {
    for (int i = 0; i < grid_points; ++i) v.push_back(box.lb[k] + (box.ub[k] - box.lb[k]) * i / (grid_points - 1));
  }
  return v;
}

}  // namespace

StatusOr<long long> ExhaustiveSearch::CountPoints(const Box& box) const {
  ECOMAP_RETURN_IF_ERROR(box.Validate());
  long long total = 1;
  for (int j = 0; j < box.dims(); ++j) {
    if (!box.is_integer(j) && options_.grid_points < 2) {
      return InvalidArgument("dimension " + std::to_string(j) +
                             " is continuous; exhaustive search needs integer dimensions or grid_points >= 2");
    }
    const long long n = static_cast<long long>(Levels(box, j, options_.grid_points).size());
    if (total > options_.max_points / n) {
      return InvalidArgument("the space has more than " + std::to_string(options_.max_points) +
                             " points; exhaustive search is for small spaces (use lamcts, random or sa)");
    }
    total *= n;
  }
  return total;
}

StatusOr<SearchResult> ExhaustiveSearch::Maximize(const Problem& problem, const Budget& budget, uint64_t) {
  ECOMAP_RETURN_IF_ERROR(budget.Validate());
  if (!problem.objective) return InvalidArgument("the problem has no objective");
  if (options_.batch_size < 1) return InvalidArgument("exhaustive batch size must be >= 1");
  ECOMAP_ASSIGN_OR_RETURN(const long long total, CountPoints(problem.box));
  if (budget.max_evals > 0 && budget.max_evals < total) {
    return InvalidArgument("the grid has " + std::to_string(total) + " points but the evaluation budget is " +
                           std::to_string(budget.max_evals) + "; raise the budget to " +
                           std::to_string(total) + " or use another algorithm");
  }
  const int d = problem.box.dims();
  std::vector<std::vector<double>> levels;
  for (int j = 0; j < d; ++j) levels.push_back(Levels(problem.box, j, options_.grid_points));
  std::vector<size_t> digit(static_cast<size_t>(d), 0);
  EvalRecorder rec(problem, budget, /*enumeration=*/true);
  long long done = 0;
  while (done < total && !rec.done()) {
    std::vector<std::vector<double>> xs;
    while (done < total && static_cast<int>(xs.size()) < options_.batch_size) {
      std::vector<double> x(static_cast<size_t>(d));
      for (size_t j = 0; j < x.size(); ++j) x[j] = levels[j][digit[j]];
      xs.push_back(std::move(x));
      ++done;
      for (int j = d - 1; j >= 0; --j) {  // increment the mixed-radix counter
        const size_t k = static_cast<size_t>(j);
        if (++digit[k] < levels[k].size()) break;
        digit[k] = 0;
      }
    }
    std::vector<double> fx;
    ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&xs, &fx));
  }
  return rec.Finish();
}

}  // namespace ecomap::search
