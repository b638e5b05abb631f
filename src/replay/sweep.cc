#include "replay/sweep.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "replay/bound.h"

namespace ecomap::replay {
namespace {

using json = nlohmann::json;

void SetKnob(const std::string& name, double v, policy::ControllerOptions* o) {
  if (name == "ecomap") o->threshold.depth = v;
  if (name == "energy") o->energy_position = v;
  if (name == "clover") o->clover_lambda = v;
}

std::vector<double> Settings(int points) {
  std::vector<double> v;
  for (int i = 0; i < points; ++i) v.push_back(static_cast<double>(i) / (points - 1));
  return v;
}

json Point(double knob, const ControllerSummary& c) {
  return {{"knob", knob}, {"carbon_g", c.carbon_g}, {"accuracy_loss_pts", c.accuracy_loss_pts},
          {"cdp", c.cdp_g_s}, {"slo_violation_rate", c.slo_violation_rate}, {"good_requests", c.good_requests}};
}

}  // namespace

const std::vector<std::string>& SweptControllers() {
  static const std::vector<std::string> names = {"ecomap", "energy", "clover"};
  return names;
}

StatusOr<std::vector<ControllerRun>> SweepRuns(const std::vector<std::string>& names, int points,
                                               const policy::ControllerContext& context) {
  if (points < 2) return InvalidArgument(fmt::format("--sweep {}: use at least 2 settings per knob", points));
  std::vector<ControllerRun> runs;
  for (const std::string& n : names) {
    if (std::find(SweptControllers().begin(), SweptControllers().end(), n) == SweptControllers().end()) continue;
    for (double v : Settings(points)) {
      policy::ControllerContext ctx = context;
      SetKnob(n, v, &ctx.options);
      runs.push_back({fmt::format("{}@{:.2f}", n, v), [n, ctx]() { return policy::MakeController(n, ctx); }});
    }
  }
  return runs;
}

std::optional<double> CarbonAtLoss(std::vector<std::pair<double, double>> curve, double loss) {
  if (curve.empty()) return std::nullopt;
  std::sort(curve.begin(), curve.end());
  if (loss < curve.front().first - 1e-9 || loss > curve.back().first + 1e-9) return std::nullopt;
  // The least carbon of a time-shared mix of the settings whose mean loss is at most `loss`: a
  // linear program over the mixing weights with two constraints (they sum to one; the loss) has
  // an optimal vertex with at most two settings, so it is the least of every single setting with
  // loss <= `loss` and every line between two settings on either side of it.
  std::optional<double> best;
  auto take = [&](double c) { best = best ? std::min(*best, c) : c; };
  for (const auto& [x0, y0] : curve) {
    if (x0 > loss + 1e-9) continue;
    take(y0);
    for (const auto& [x1, y1] : curve) {
      if (x1 < loss - 1e-9 || x1 - x0 < 1e-12) continue;
      take(y0 + (y1 - y0) * (std::clamp(loss, x0, x1) - x0) / (x1 - x0));
    }
  }
  return best;
}

json SweepJson(const ReplayResult& r, int points, const std::string& reference) {
  json pareto = json::object();
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  for (const ControllerSummary& c : r.controllers) {
    const size_t at = c.name.find('@');
    if (at == std::string::npos) continue;
    const std::string base = c.name.substr(0, at);
    const double knob = std::atof(c.name.c_str() + at + 1);
    pareto[base].push_back(Point(knob, c));
    curves[base].push_back({c.accuracy_loss_pts, c.carbon_g});
  }
  // The bound's curve: re-solved at N budgets over the losses seen.
  double max_loss = 0;
  for (const ControllerSummary& c : r.controllers) max_loss = std::max(max_loss, c.accuracy_loss_pts);
  const std::vector<std::vector<BoundCandidate>> candidates = BoundCandidates(r);
  if (r.controllers.size() > 1 && points >= 2) {
    for (int i = 0; i < points; ++i) {
      const double budget = max_loss * i / (points - 1);
      StatusOr<BoundResult> b = SolveBound(candidates, budget + 1e-9);
      if (!b.ok()) continue;
      pareto["bound"].push_back({{"knob", budget}, {"carbon_g", b->carbon_g}, {"lower_bound_g", b->lower_bound_g},
                                 {"accuracy_loss_pts", b->accuracy_loss_pts},
                                 {"infeasible_intervals", b->infeasible_intervals}});
      curves["bound"].push_back({b->accuracy_loss_pts, b->carbon_g});
    }
  }
  for (auto& [name, list] : pareto.items()) {
    std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
      return a["accuracy_loss_pts"].get<double>() < b["accuracy_loss_pts"].get<double>();
    });
  }
  json out = {{"pareto", pareto}};
  if (const ControllerSummary* ref = r.Find(reference)) {
    json vs = json::object();
    for (const auto& [name, curve] : curves) {
      if (name == reference) continue;
      // The bound is not read off its curve: between two budgets the optimum need not lie on a
      // line (a line can sit above it), and the replay solved it at exactly the reference's loss.
      std::optional<double> c;
      if (name == "bound") {
        for (const auto& [who, b] : r.bounds) {
          if (who == reference && b.feasible) c = b.carbon_g;
        }
      } else {
        c = CarbonAtLoss(curve, ref->accuracy_loss_pts);
      }
      if (!c) {
        vs[name] = {{"covered", false}};
        continue;
      }
      vs[name] = {{"covered", true}, {"carbon_g", *c}, {"saving_pct", *c > 0 ? 100.0 * (1.0 - ref->carbon_g / *c) : 0.0}};
    }
    // The carbon-blind bound at the reference's loss (bound.h): how much of the bound's saving a
    // hindsight mix of the same candidates gets without the carbon signal.
    if (r.controllers.size() > 1) {
      StatusOr<CarbonBlindBound> blind = SolveCarbonBlindBound(candidates, ref->accuracy_loss_pts + 1e-9);
      if (!blind.ok()) {
        vs[kCarbonBlindBound] = {{"covered", false}, {"error", blind.status().message()}};
      } else if (!blind->feasible) {
        vs[kCarbonBlindBound] = {{"covered", false}};
      } else {
        vs[kCarbonBlindBound] = {
            {"covered", true},
            {"carbon_g", blind->carbon_g},
            {"energy_wh", blind->energy_wh},
            {"accuracy_loss_pts", blind->accuracy_loss_pts},
            {"saving_pct", blind->carbon_g > 0 ? 100.0 * (1.0 - ref->carbon_g / blind->carbon_g) : 0.0}};
      }
    }
    out["equal_accuracy"] = {{"reference", reference},
                             {"accuracy_loss_pts", ref->accuracy_loss_pts},
                             {"carbon_g", ref->carbon_g},
                             {"vs", vs}};
  }
  return out;
}

}  // namespace ecomap::replay
