#include "search/simulated_annealing.h"

#include <algorithm>
#include <cmath>

#include "search/eval_recorder.h"
#include "search/sampling.h"

namespace ecomap::search {

Status AnnealingOptions::Validate() const {
  if (!(step_fraction > 0.0 && step_fraction <= 1.0)) return InvalidArgument("SA step fraction must be in (0, 1]");
  if (!(move_fraction > 0.0 && move_fraction <= 1.0)) return InvalidArgument("SA move fraction must be in (0, 1]");
  if (warmup_moves < 1 && !(initial_temperature > 0.0)) {
    return InvalidArgument("SA needs warmup moves >= 1 or an initial temperature > 0");
  }
  if (!(final_temperature_ratio > 0.0 && final_temperature_ratio <= 1.0)) {
    return InvalidArgument("SA final temperature ratio must be in (0, 1]");
  }
  return Status::Ok();
}

namespace {

std::vector<double> Neighbour(const Box& box, const std::vector<double>& x, const AnnealingOptions& o, Rng& rng) {
  const int d = box.dims();
  const int moves = std::max(1, static_cast<int>(std::lround(o.move_fraction * d)));
  std::vector<double> y = x;
  for (int m = 0; m < moves; ++m) {
    const size_t j = static_cast<size_t>(UniformIndex(d, rng));
    const double width = box.ub[j] - box.lb[j];
    if (box.is_categorical(static_cast<int>(j))) {
      // Unordered choices: any other value, uniformly.
      const int n = box.levels(static_cast<int>(j));
      if (n > 1) {
        const double first = std::ceil(box.lb[j]);
        const int cur = static_cast<int>(std::lround(std::clamp(y[j], box.lb[j], box.ub[j]) - first));
        int k = UniformIndex(n - 1, rng);
        if (k >= cur) ++k;
        y[j] = first + k;
      }
    } else if (box.is_integer(static_cast<int>(j))) {
      const int span = std::max(1, static_cast<int>(std::lround(o.step_fraction * width)));
      const int step = 1 + UniformIndex(span, rng);
      y[j] += Uniform01(rng) < 0.5 ? -step : step;
    } else {
      y[j] += o.step_fraction * width * StandardNormal(rng);
    }
  }
  box.Snap(&y);
  return y;
}

}  // namespace

StatusOr<SearchResult> SimulatedAnnealing::Maximize(const Problem& problem, const Budget& budget, uint64_t seed) {
  ECOMAP_RETURN_IF_ERROR(problem.box.Validate());
  ECOMAP_RETURN_IF_ERROR(budget.Validate());
  ECOMAP_RETURN_IF_ERROR(options_.Validate());
  if (!problem.objective) return InvalidArgument("the problem has no objective");
  const Box& box = problem.box;
  Rng rng(seed);
  EvalRecorder rec(problem, budget);

  std::vector<std::vector<double>> xs(1, std::vector<double>(static_cast<size_t>(box.dims())));
  for (size_t j = 0; j < xs[0].size(); ++j) xs[0][j] = box.lb[j] + Uniform01(rng) * (box.ub[j] - box.lb[j]);
  std::vector<double> fx;
  ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&xs, &fx));
  std::vector<double> cur = xs[0];
  double fcur = fx[0];

  double t0 = options_.initial_temperature;
  if (!(t0 > 0.0)) {
    std::vector<std::vector<double>> warm;
    for (int i = 0; i < options_.warmup_moves; ++i) warm.push_back(Neighbour(box, cur, options_, rng));
    std::vector<double> fw;
    ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&warm, &fw));
    double sum = 0.0;
    for (double v : fw) sum += std::fabs(v - fcur);
    t0 = fw.empty() ? 1.0 : sum / static_cast<double>(fw.size());
    if (!(t0 > 0.0)) t0 = 1.0;
    // Continue from the best warmup point if it beats the start.
    for (size_t i = 0; i < fw.size(); ++i) {
      if (fw[i] > fcur) {
        fcur = fw[i];
        cur = warm[i];
      }
    }
  }
  const int left = budget.max_evals > 0 ? std::max(1, rec.remaining()) : 0;
  const double alpha = left > 0 ? std::pow(options_.final_temperature_ratio, 1.0 / left) : 0.995;
  double t = t0;
  while (!rec.done()) {
    std::vector<std::vector<double>> one{Neighbour(box, cur, options_, rng)};
    std::vector<double> f1;
    ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&one, &f1));
    const double delta = f1[0] - fcur;
    if (delta >= 0.0 || Uniform01(rng) < std::exp(delta / t)) {
      cur = one[0];
      fcur = f1[0];
    }
    t *= alpha;
  }
  return rec.Finish();
}

}  // namespace ecomap::search
