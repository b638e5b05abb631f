// replay/bound.h: `bound`, the hindsight optimum over what the replayed controllers did and what
// its own searches found.
//
// Knowing the whole window, which configuration would have served each interval best? For each
// interval the bound holds a candidate set: the configuration every replayed controller chose
// for it, with that controller's measured figures for the interval (the same simulator, the same
// interval seed: each controller's simulated device draws the same seed stream), and the
// configurations its own hindsight searches found, measured the same way (replay/bound_search.h:
// the candidates are data here, whoever found them). It picks one
// candidate per interval to minimise the total carbon subject to
//   every SLO held in every interval (candidates that broke one are not eligible; an interval
//     where none held any takes its lowest-carbon candidate among those with the fewest
//     violations and is counted in `infeasible_intervals`), and
//   a request-weighted accuracy-loss budget B (points): sum_k W_k <= B x sum_k R_k, where W_k is
//     the interval's sum over tenants of loss x requests and R_k its requests (the replay's own
//     accuracy accounting, loop/accounting.h). Linear per interval: a_k = W_k - B R_k, sum a_k <= 0.
// Solved by Lagrangian relaxation: for lambda >= 0 every interval independently takes the
// candidate minimising carbon + lambda x a; the dual value sum_k min(...) is a LOWER bound on the
// optimum for every lambda (weak duality), maximised over a lambda search (`lower_bound_g`); the
// selections that meet the budget are feasible plans, and so is every eligible controller's own
// sequence of choices: `carbon_g` is the best feasible plan among all of them. Hence, for any
// controller that held every SLO in every interval, at a budget >= its own accuracy loss:
//   lower_bound_g <= optimum <= carbon_g <= that controller's carbon.
// Carry-over: a candidate keeps the figures measured where it ran, including the mode-switch cost
// its controller paid coming from its own previous interval; switching between candidates of
// different controllers is free for the bound (optimistic, so it stays a bound on what the
// candidates could achieve; queues do not carry over between the simulator's intervals).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace ecomap::replay {

struct BoundCandidate {
  std::string source;          // the controller that chose it
  double carbon_g = 0;
  double loss_weight = 0;      // sum over tenants of accuracy loss (pts) x requests
  double requests = 0;         // the interval's requests
  int slo_violations = 0;      // tenants over their SLO
  double energy_wh = 0;        // the interval's energy (the carbon-blind bound's price)
};

struct BoundResult {
  double budget_pts = 0;
  bool feasible = true;         // false: no plan of the candidates fits the budget (nothing else set)
  double carbon_g = 0;          // best feasible plan found (<= every eligible controller)
  double lower_bound_g = 0;     // Lagrangian dual: <= the optimum over the candidates
  double accuracy_loss_pts = 0; // of the plan
  int infeasible_intervals = 0; // no candidate held every SLO
  double lambda = 0;            // the multiplier of the best dual
  std::vector<int> choice;      // per interval, the candidate index
};

// `intervals[k]` are interval k's candidates (at least one each). `budget_pts` >= 0.
// InvalidArgument for an empty interval, a negative budget or non-finite figures.
StatusOr<BoundResult> SolveBound(const std::vector<std::vector<BoundCandidate>>& intervals, double budget_pts);

// The carbon-blind bound: SolveBound with each candidate's energy in place of its carbon, i.e. the
// mix of the candidates with the least energy at `budget_pts`, chosen knowing the window's demand
// and every candidate's outcome but not the carbon signal. `carbon_g` is that mix's carbon.
// Between it and the bound at the same budget lies what knowing the carbon signal was worth over
// these candidates; between it and a carbon-blind controller, what hindsight and mixing the
// candidates were worth without it. SolveBound's errors, except that a budget no mix fits gives
// feasible = false.
struct CarbonBlindBound {
  bool feasible = false;  // false: no mix of the candidates fits the budget (nothing else set)
  double carbon_g = 0, energy_wh = 0, accuracy_loss_pts = 0;
};
StatusOr<CarbonBlindBound> SolveCarbonBlindBound(const std::vector<std::vector<BoundCandidate>>& intervals,
                                                 double budget_pts);

}  // namespace ecomap::replay
