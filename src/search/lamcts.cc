#include "search/lamcts.h"

#include <algorithm>
#include <cmath>

#include "search/eval_recorder.h"
#include "search/sampling.h"

namespace ecomap::search {

StatusOr<RegionSampler> ParseRegionSampler(const std::string& name) {
  if (name == "perturb") return RegionSampler::kPerturb;
  if (name == "bo") return RegionSampler::kBo;
  if (name == "turbo") return RegionSampler::kTurbo;
  return InvalidArgument("unknown LA-MCTS sampler '" + name + "'; use perturb, bo or turbo");
}

std::string RegionSamplerName(RegionSampler s) {
  switch (s) {
    case RegionSampler::kBo: return "bo";
    case RegionSampler::kTurbo: return "turbo";
    case RegionSampler::kPerturb: break;
  }
  return "perturb";
}

Status LaMctsOptions::Validate() const {
  if (!(cp >= 0.0) || !std::isfinite(cp)) return InvalidArgument("Cp " + std::to_string(cp) + " must be >= 0");
  if (leaf_size < 2) return InvalidArgument("leaf size " + std::to_string(leaf_size) + " must be >= 2");
  if (ninits < 2) return InvalidArgument("initial samples " + std::to_string(ninits) + " must be >= 2");
  if (batch_size < 1) return InvalidArgument("batch size " + std::to_string(batch_size) + " must be >= 1");
  if (batch_growth_samples < 0) {
    return InvalidArgument("batch growth samples " + std::to_string(batch_growth_samples) + " must be >= 0 (0: fixed)");
  }
  if (!(svm_c > 0.0)) return InvalidArgument("SVM C " + std::to_string(svm_c) + " must be > 0");
  if (sampling.candidates < 1) return InvalidArgument("candidates " + std::to_string(sampling.candidates) + " must be >= 1");
  if (sampling.max_rounds < 1) return InvalidArgument("sampler rounds must be >= 1");
  if (!(sampling.categorical_resample >= 0.0 && sampling.categorical_resample <= 1.0)) {
    return InvalidArgument("categorical resample probability " + std::to_string(sampling.categorical_resample) +
                           " must be in [0, 1]");
  }
  if (sampling.centres < 1) return InvalidArgument("sampler centres must be >= 1");
  if (sampling.gp_max_points < 2) return InvalidArgument("GP points must be >= 2");
  if (!(kmeans_f_weight >= 0.0)) return InvalidArgument("kmeans f weight must be >= 0");
  if (!(min_trust_length > 0.0 && min_trust_length <= initial_trust_length &&
        initial_trust_length <= max_trust_length)) {
    return InvalidArgument("trust lengths must satisfy 0 < min <= initial <= max");
  }
  if (success_tolerance < 1 || failure_tolerance < 0) return InvalidArgument("trust tolerances must be >= 1 (failure: 0 = auto)");
  if (turbo_trust) {
    Status s = turbo_trust->Validate();
    if (!s.ok()) return s.WithContext("turbo trust region");
  }
  const TurboOptions& t = sampling.turbo;
  if (t.candidates < 1) return InvalidArgument("turbo candidates " + std::to_string(t.candidates) + " must be >= 1");
  if (t.thompson_candidates < 1) {
    return InvalidArgument("turbo Thompson candidates " + std::to_string(t.thompson_candidates) + " must be >= 1");
  }
  if (t.gp_max_points < 2) {
    return InvalidArgument("turbo GP points " + std::to_string(t.gp_max_points) + " must be >= 2");
  }
  if (!(t.perturb_dims > 0.0)) {
    return InvalidArgument("turbo perturbed dims " + std::to_string(t.perturb_dims) + " must be > 0");
  }
  if (t.batches_per_leaf < 1) {
    return InvalidArgument("turbo batches per leaf " + std::to_string(t.batches_per_leaf) + " must be >= 1");
  }
  return Status::Ok();
}

StatusOr<SearchResult> LaMcts::Maximize(const Problem& problem, const Budget& budget, uint64_t seed) {
  stats_ = LaMctsStats{};
  ECOMAP_RETURN_IF_ERROR(problem.box.Validate());
  ECOMAP_RETURN_IF_ERROR(budget.Validate());
  ECOMAP_RETURN_IF_ERROR(options_.Validate());
  if (!problem.objective) return InvalidArgument("the problem has no objective");
  if (budget.max_evals > 0 && budget.max_evals < options_.ninits) {
    return InvalidArgument("evaluation budget " + std::to_string(budget.max_evals) +
                           " is below LA-MCTS's " + std::to_string(options_.ninits) +
                           " initial samples; raise the budget to at least " +
                           std::to_string(options_.ninits) + " or lower the initial samples");
  }
  const Box& box = problem.box;
  const int d = box.dims();
  Rng rng(seed);
  EvalRecorder rec(problem, budget);

  Eigen::MatrixXd xu(std::max(options_.ninits * 2, 64), d);
  Eigen::VectorXd f(0);
  auto append = [&](const std::vector<std::vector<double>>& xs, const std::vector<double>& fx) {
    const Eigen::Index n0 = f.size();
    const Eigen::Index n1 = n0 + static_cast<Eigen::Index>(xs.size());
    if (n1 > xu.rows()) xu.conservativeResize(std::max(n1, xu.rows() * 2), d);
    f.conservativeResize(n1);
    for (size_t i = 0; i < xs.size(); ++i) {
      xu.row(n0 + static_cast<Eigen::Index>(i)) = ToUnit(box, xs[i]);
      f(n0 + static_cast<Eigen::Index>(i)) = fx[i];
    }
  };

  // 1. Latin-hypercube initial design.
  {
    const Eigen::MatrixXd u = LatinHypercube(options_.ninits, d, rng);
    std::vector<std::vector<double>> xs;
    for (Eigen::Index i = 0; i < u.rows(); ++i) xs.push_back(FromUnit(box, u.row(i)));
    std::vector<double> fx;
    ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&xs, &fx));
    append(xs, fx);
  }

  TreeOptions topt;
  topt.leaf_size = options_.leaf_size;
  topt.svm.kernel = options_.kernel;
  topt.svm.gamma = options_.svm_gamma;
  topt.svm.c = options_.svm_c;
  topt.svm.shift = 0.5;  // centre the unit cube for the kernels
  topt.kmeans_f_weight = options_.kmeans_f_weight;
  SamplerOptions sopt = options_.sampling;
  TrustRegionOptions tro;
  if (options_.sampler == RegionSampler::kTurbo) {
    tro = options_.turbo_trust.value_or(TrustRegionOptions::Turbo(d, options_.batch_size));
  } else {
    tro.initial_length = options_.initial_trust_length;
    tro.min_length = options_.min_trust_length;
    tro.max_length = options_.max_trust_length;
    tro.success_tolerance = options_.success_tolerance;
    tro.failure_tolerance = options_.failure_tolerance > 0
                                ? options_.failure_tolerance
                                : std::max(4, (d + options_.batch_size - 1) / options_.batch_size);
  }
  TrustRegion trust(tro);
  // Integer dimensions: a perturbed coordinate moves by more than half a step, so it changes
  // after rounding; categorical ones are resampled among their other values.
  Eigen::VectorXd min_move = Eigen::VectorXd::Zero(d);
  for (int j = 0; j < d; ++j) {
    if (box.is_integer(j)) min_move(j) = 0.51 / (box.ub[static_cast<size_t>(j)] - box.lb[static_cast<size_t>(j)]);
  }
  const std::vector<DimGrid> grid = UnitGrid(box);

  // 2. Iterate: rebuild, select, sample in region, evaluate.
  while (!rec.done()) {
    ECOMAP_ASSIGN_OR_RETURN(PartitionTree tree, PartitionTree::Build(xu, f, topt, rng));
    stats_.max_leaves = std::max(stats_.max_leaves, tree.leaves());
    stats_.max_height = std::max(stats_.max_height, tree.height());
    const std::vector<PathStep> path = tree.SelectUct(options_.cp, rng);
    SamplerInput in{tree, path, xu, f, min_move, grid, static_cast<int>(f.size())};
    if (problem.canonical) {
      // Perturbations often land on solutions already evaluated: propose others first.
      in.known = [&](const Eigen::RowVectorXd& u) { return rec.Known(FromUnit(box, u)); };
    }
    // "turbo" draws a few batches in the leaf (a short TuRBO trajectory) per tree.
    const int batches = options_.sampler == RegionSampler::kTurbo ? options_.sampling.turbo.batches_per_leaf : 1;
    const int restarts_before = trust.restarts();
    for (int b = 0; b < batches && !rec.done() && trust.restarts() == restarts_before; ++b) {
      const int grown = options_.batch_growth_samples > 0
                            ? options_.batch_size * std::max(1, static_cast<int>(f.size()) / options_.batch_growth_samples)
                            : options_.batch_size;
      const int count = std::min(grown, rec.remaining());
      sopt.trust_length = trust.length();
      Proposal prop;
      if (options_.sampler == RegionSampler::kBo) {
        ECOMAP_ASSIGN_OR_RETURN(prop, ProposeBo(in, count, sopt, rng));
      } else if (options_.sampler == RegionSampler::kTurbo) {
        ECOMAP_ASSIGN_OR_RETURN(prop, ProposeTurbo(in, count, sopt, rng));
      } else {
        prop = ProposePerturb(in, count, sopt, rng);
      }
      stats_.proposals_outside_region += prop.outside_region;
      std::vector<std::vector<double>> xs;
      for (Eigen::Index i = 0; i < prop.points.rows(); ++i) xs.push_back(FromUnit(box, prop.points.row(i)));
      const double best_before = rec.result().best_f;
      std::vector<double> fx;
      ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&xs, &fx));
      append(xs, fx);

      // TuRBO-style trust region: the samplers' step sizes, or "turbo"'s cube.
      const double span = std::max(1e-12, std::fabs(best_before));
      trust.Update(rec.result().best_f > best_before + 1e-3 * span);
      stats_.trust_resets = trust.restarts();
      stats_.trust_lengths.push_back(trust.length());
    }
    ++stats_.iterations;
  }
  return rec.Finish();
}

}  // namespace ecomap::search
