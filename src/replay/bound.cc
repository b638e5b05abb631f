#include "replay/bound.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

namespace ecomap::replay {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Plan {
  double carbon = 0, a = 0, weight = 0, requests = 0;
  std::vector<int> choice;
};

}  // namespace

StatusOr<BoundResult> SolveBound(const std::vector<std::vector<BoundCandidate>>& intervals, double budget_pts) {
  if (!(budget_pts >= 0) || !std::isfinite(budget_pts)) {
    return InvalidArgument(fmt::format("bound: accuracy-loss budget {} must be >= 0 points", budget_pts));
  }
  const size_t n = intervals.size();
  // Eligible candidates per interval: those holding every SLO, else the fewest violations.
  std::vector<std::vector<int>> eligible(n);
  BoundResult out;
  out.budget_pts = budget_pts;
  for (size_t k = 0; k < n; ++k) {
    if (intervals[k].empty()) return InvalidArgument(fmt::format("bound: interval {} has no candidate", k));
    int fewest = std::numeric_limits<int>::max();
    for (const BoundCandidate& c : intervals[k]) {
      if (!std::isfinite(c.carbon_g) || !std::isfinite(c.loss_weight) || !std::isfinite(c.requests)) {
        return InvalidArgument(fmt::format("bound: interval {} candidate from '{}' has non-finite figures", k, c.source));
      }
      fewest = std::min(fewest, c.slo_violations);
    }
    if (fewest > 0) ++out.infeasible_intervals;
    for (size_t i = 0; i < intervals[k].size(); ++i) {
      if (intervals[k][i].slo_violations == fewest) eligible[k].push_back(static_cast<int>(i));
    }
  }
  auto a_of = [&](const BoundCandidate& c) { return c.loss_weight - budget_pts * c.requests; };
  // For a multiplier: the dual value and the per-interval argmin plan.
  auto relax = [&](double lambda, Plan* plan) {
    double dual = 0;
    plan->carbon = plan->a = plan->weight = plan->requests = 0;
    plan->choice.assign(n, 0);
    for (size_t k = 0; k < n; ++k) {
      double best = kInf, best_a = kInf;
      int arg = eligible[k].front();
      for (int i : eligible[k]) {
        const BoundCandidate& c = intervals[k][static_cast<size_t>(i)];
        const double v = c.carbon_g + lambda * a_of(c);
        // Ties: the smaller a (more budget left), then the lower carbon.
        if (v < best - 1e-12 || (std::abs(v - best) <= 1e-12 && a_of(c) < best_a)) {
          best = v, best_a = a_of(c), arg = i;
        }
      }
      const BoundCandidate& c = intervals[k][static_cast<size_t>(arg)];
      dual += best;
      plan->choice[k] = arg;
      plan->carbon += c.carbon_g;
      plan->a += a_of(c);
      plan->weight += c.loss_weight;
      plan->requests += c.requests;
    }
    return dual;
  };
  Plan best_plan;
  best_plan.carbon = kInf;
  double best_dual = -kInf, best_lambda = 0;
  auto consider = [&](double lambda) {
    Plan p;
    const double dual = relax(lambda, &p);
    if (dual > best_dual) best_dual = dual, best_lambda = lambda;
    if (p.a <= 1e-9 && p.carbon < best_plan.carbon) best_plan = p;
    return p.a;
  };
  // lambda = 0: the unconstrained minimum; if it fits the budget it is the optimum.
  if (consider(0.0) > 1e-9) {
    // The dual is concave in lambda; find where the relaxed plan's budget use crosses 0 by
    // bisection on a log scale, then refine the dual around it.
    double lo = 0, hi = 1e-9;
    while (consider(hi) > 1e-9 && hi < 1e12) {
      lo = hi;
      hi *= 4;
    }
    for (int it = 0; it < 100; ++it) {
      const double mid = lo == 0 ? hi / 2 : std::sqrt(lo * hi);
      if (consider(mid) > 1e-9) lo = mid; else hi = mid;
      if (hi - lo <= 1e-12 * hi) break;
    }
    for (int i = -20; i <= 20; ++i) consider(std::max(0.0, hi * (1 + 0.01 * i)));
  }
  // Every controller's own sequence is a feasible plan when it fits the budget.
  std::map<std::string, Plan> own;
  for (size_t k = 0; k < n; ++k) {
    for (int i : eligible[k]) {
      const BoundCandidate& c = intervals[k][static_cast<size_t>(i)];
      Plan& p = own[c.source];
      if (p.choice.empty()) p.choice.assign(n, -1);
      p.choice[k] = i;
      p.carbon += c.carbon_g;
      p.a += a_of(c);
      p.weight += c.loss_weight;
      p.requests += c.requests;
    }
  }
  for (auto& [source, p] : own) {
    const bool complete = std::find(p.choice.begin(), p.choice.end(), -1) == p.choice.end();
    if (complete && p.a <= 1e-9 && p.carbon < best_plan.carbon) best_plan = p;
  }
  if (!std::isfinite(best_plan.carbon)) {
    return FailedPrecondition(fmt::format(
        "bound: no plan of the candidates keeps the accuracy loss within {} points; raise the budget", budget_pts));
  }
  out.carbon_g = best_plan.carbon;
  out.lower_bound_g = std::min(best_dual, best_plan.carbon);
  out.lambda = best_lambda;
  out.accuracy_loss_pts = best_plan.requests > 0 ? best_plan.weight / best_plan.requests : 0;
  out.choice = best_plan.choice;
  return out;
}

StatusOr<CarbonBlindBound> SolveCarbonBlindBound(const std::vector<std::vector<BoundCandidate>>& intervals,
                                                 double budget_pts) {
  std::vector<std::vector<BoundCandidate>> by_energy = intervals;
  for (auto& iv : by_energy) {
    for (BoundCandidate& c : iv) c.carbon_g = c.energy_wh;
  }
  CarbonBlindBound out;
  StatusOr<BoundResult> b = SolveBound(by_energy, budget_pts);
  if (b.status().code() == StatusCode::kFailedPrecondition) return out;
  if (!b.ok()) return b.status();
  if (b->choice.size() != intervals.size())
    return Internal("the carbon-blind bound left an interval unchosen");
  for (size_t k = 0; k < intervals.size(); ++k) {
    const int i = b->choice[k];
    if (i < 0 || static_cast<size_t>(i) >= intervals[k].size()) {
      return Internal("the carbon-blind bound's choice is out of range");
    }
    out.carbon_g += intervals[k][static_cast<size_t>(i)].carbon_g;
  }
  out.feasible = true;
  out.energy_wh = b->carbon_g;
  out.accuracy_loss_pts = b->accuracy_loss_pts;
  return out;
}

}  // namespace ecomap::replay
