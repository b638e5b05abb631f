// MakeOptimizer (declared in optimizer.h): every optimizer by name, with default options.
#include <memory>

#include "search/exhaustive.h"
#include "search/lamcts.h"
#include "search/optimizer.h"
#include "search/random_search.h"
#include "search/simulated_annealing.h"

namespace ecomap::search {

StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const std::string& name) {
  if (name == "lamcts") return std::unique_ptr<Optimizer>(std::make_unique<LaMcts>());
  if (name == "random") return std::unique_ptr<Optimizer>(std::make_unique<RandomSearch>());
  if (name == "sa") return std::unique_ptr<Optimizer>(std::make_unique<SimulatedAnnealing>());
  if (name == "exhaustive") return std::unique_ptr<Optimizer>(std::make_unique<ExhaustiveSearch>());
  return NotFound("unknown algorithm '" + name + "'; use lamcts, random, sa or exhaustive");
}

}  // namespace ecomap::search
