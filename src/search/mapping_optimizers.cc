// MakeMappingOptimizer (search/mapping.h): the optimizers with settings for mapping spaces.
//
// Mapping spaces are integer boxes (10-40 dims, each 2-22 values) searched with a few hundred
// evaluations, and the objective (-cost) is flat over feasible mappings (about -1..-4) with
// cliffs of -10 and more where an SLO or the power threshold breaks. LA-MCTS settings, chosen on
// the must-show problems (mapping_must_show_test):
//   * ninits: budget / 6, clamped to [16, 40] (the generic 40 leave too little for 150-300 evals);
//   * sampler "perturb": GP expected improvement over rounded integer coordinates mostly ranks
//     duplicates of evaluated points; perturbations of the best leaf samples move 1-2 coordinates
//     by at least one integer step, which is the natural neighbourhood of a mapping;
//     "turbo" (TuRBO-1 in the leaf, the generic default) does worse here: on the 2-tenant
//     must-show it reached 98% of the optimum in 0/10 seeds (perturb: 10/10) and on the
//     4-tenant one its median cost was 1.11 (perturb: 0.933); the unit coordinates are
//     categorical (a perturbed unit is resampled among the other units);
//   * Cp 1 (about 0.1-0.3 of |f| over feasible mappings), leaf size 10, rbf kernel, batch 5.
#include <algorithm>
#include <memory>

#include "search/exhaustive.h"
#include "search/lamcts.h"
#include "search/mapping.h"
#include "search/random_search.h"
#include "search/simulated_annealing.h"

namespace ecomap::search {
namespace {
constexpr int kMinLaMctsInits = 16;
}  // namespace

StatusOr<std::unique_ptr<Optimizer>> MakeMappingOptimizer(const std::string& name, const MappingSpace& space,
                                                          int budget_evals) {
  if (name == "lamcts") {
    LaMctsOptions o;
    o.ninits = budget_evals > 0 ? std::clamp(budget_evals / 6, kMinLaMctsInits, 40) : 40;
    o.sampler = RegionSampler::kPerturb;
    o.cp = 1.0;
    o.leaf_size = 10;
    o.kernel = SvmKernel::kRbf;
    o.batch_size = 5;
    o.batch_growth_samples = 0;  // mapping budgets are a few hundred evaluations: a fixed batch
    (void)space;
    return std::unique_ptr<Optimizer>(std::make_unique<LaMcts>(o));
  }
  if (name == "random") return std::unique_ptr<Optimizer>(std::make_unique<RandomSearch>());
  if (name == "sa") return std::unique_ptr<Optimizer>(std::make_unique<SimulatedAnnealing>());
  if (name == "exhaustive") {
    ExhaustiveOptions o;
    o.max_points = 5000000;
    return std::unique_ptr<Optimizer>(std::make_unique<ExhaustiveSearch>(o));
  }
  return NotFound("unknown algorithm '" + name + "'; use lamcts, random, sa or exhaustive");
}

long long MinimumMappingBudget(const std::string& name, const MappingSpace& space) {
  if (name == "lamcts") return kMinLaMctsInits;
  if (name == "exhaustive") return space.Size();
  return 1;
}

}  // namespace ecomap::search
