// search/optimizer.h: the black-box maximiser interface shared by LA-MCTS and the baselines.
//
// An Optimizer maximises f over a box [lb, ub]^d within an evaluation budget and/or a time
// budget, deterministically for a seed (with an evaluation budget only). The objective is a
// batch callback, so a predictor (the estimator, an analytic model, the simulator) can score
// many candidates per call. Integer or categorical dimensions are handled by the encoding:
// a dimension marked `integer` is rounded to the nearest integer before f sees it, and the
// history records the rounded point. A dimension also marked `categorical` holds unordered
// choices (e.g. which compute unit runs a stage): the optimizers' local moves resample it
// uniformly among its other values instead of stepping to a neighbouring integer.
//
//   Problem p;
//   p.box = Box::Uniform(20, -5.0, 10.0);
//   p.objective = [](const std::vector<std::vector<double>>& xs, std::vector<double>* fx) {
//     for (const auto& x : xs) fx->push_back(-Ackley(x));   // maximise -f to minimise f
//     return Status::Ok();
//   };
//   LaMcts opt(LaMctsOptions{});
//   StatusOr<SearchResult> r = opt.Maximize(p, Budget{.max_evals = 500}, /*seed=*/1);
//   if (r.ok()) use(r->best_x, r->best_f, r->overhead_ms_per_eval());
//
// The optimizers are pure: no threads, no devices, no files. Time is read only through the
// MonotonicClock passed in the Budget (steady_clock by default), to enforce a time budget and to
// split the run time into search overhead and function time.
//
// Thread-safety: an Optimizer object may be used by one thread at a time; distinct objects are
// independent (no shared state).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"

namespace ecomap::search {

// The search space: a box with optional integer dimensions.
struct Box {
  std::vector<double> lb;       // lower bounds, one per dimension
  std::vector<double> ub;       // upper bounds, one per dimension (ub[i] > lb[i])
  std::vector<bool> integer;    // empty (all continuous) or one flag per dimension
  std::vector<bool> categorical;  // empty (none) or one flag per dimension; only on integer ones

  static Box Uniform(int dims, double lb, double ub);

  int dims() const { return static_cast<int>(lb.size()); }
  bool is_integer(int i) const { return !integer.empty() && integer[static_cast<size_t>(i)]; }
  bool is_categorical(int i) const { return !categorical.empty() && categorical[static_cast<size_t>(i)]; }
  // The integers of an integer dimension, floor(ub) - ceil(lb) + 1; 0 for a continuous one.
  int levels(int i) const;
  // InvalidArgument naming the dimension when dims <= 0, sizes differ, a bound is not finite,
  // lb >= ub, an integer dimension holds no integer, or a categorical one is not integer.
  Status Validate() const;
  // Clamps x into the box and rounds integer dimensions (to the nearest integer inside it).
  void Snap(std::vector<double>* x) const;
};

// Batch objective (maximised): fills (*values)[i] = f(xs[i]) for every i; `values` arrives
// empty and must hold xs.size() finite numbers on success. A non-ok Status aborts the search
// and is returned by Maximize with context. Points arrive snapped (see Box::Snap).
using BatchObjective =
    std::function<Status(const std::vector<std::vector<double>>& xs, std::vector<double>* values)>;

// Optional, for deterministic objectives only: the canonical form of a snapped point. Points with
// the same canonical form are one solution (say, two encodings of one mapping); the optimizers
// answer a repeat from its first evaluation without calling the objective and without spending
// the evaluation budget (SearchResult::repeats). An adaptive search gets at most max_evals / 4
// free answers (each costs it an iteration of its own work; later repeats are evaluated and
// counted again) and ends once its last 64 proposals were all known (SearchResult::exhausted:
// a small space has nothing new left); exhaustive enumeration answers every repeat free.
using CanonicalForm = std::function<std::vector<double>(const std::vector<double>& x)>;

struct Problem {
  Box box;
  BatchObjective objective;
  CanonicalForm canonical;  // empty: every proposed point is evaluated
};

// A monotonic time source; injected so that tests can run a time budget on simulated time.
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  // Any fixed origin; must never go backwards.
  virtual std::chrono::nanoseconds Now() const = 0;
};

// std::chrono::steady_clock.
class SteadyMonotonicClock final : public MonotonicClock {
 public:
  std::chrono::nanoseconds Now() const override;
};

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): overhead figures that do not grow
// when other processes load the machine. Only meaningful when the search and the objective run
// on the calling thread.
class ThreadCpuClock final : public MonotonicClock {
 public:
  std::chrono::nanoseconds Now() const override;
};

struct Budget {
  int max_evals = 0;                         // evaluations of f; 0 = no limit
  Milliseconds max_time{0};                  // wall time of the whole search; 0 = no limit
  const MonotonicClock* clock = nullptr;     // nullptr = steady_clock
  // At least one limit must be set; InvalidArgument otherwise or when one is negative.
  Status Validate() const;
};

struct Evaluation {
  std::vector<double> x;  // the (snapped) point
  double f = 0.0;         // its value (maximised)
  int batch = 0;          // index of the objective call that evaluated it
};

struct SearchResult {
  std::vector<double> best_x;
  double best_f = 0.0;
  std::vector<Evaluation> history;      // every evaluation, in order
  std::vector<double> best_trace;       // best f after each evaluation
  int evaluations = 0;
  int objective_calls = 0;              // batches
  int repeats = 0;                      // points answered from an earlier evaluation of the same
                                        // canonical form (Problem::canonical), not counted above
  bool exhausted = false;               // ended before the budget: only known solutions came up
  Milliseconds total_time{0};           // whole Maximize call
  Milliseconds function_time{0};        // time spent inside the objective
  bool stopped_by_time = false;         // the time budget ended the search

  // Search overhead (total minus function time), per evaluation, in ms.
  double overhead_ms_per_eval() const {
    return evaluations > 0 ? (total_time - function_time).value() / evaluations : 0.0;
  }
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Short name: "lamcts", "random", "sa", "exhaustive".
  virtual std::string name() const = 0;

  // Maximises problem.objective over problem.box. Deterministic for `seed` when the budget has
  // no time limit. Returns InvalidArgument for a bad box, budget or option (the message names
  // the value and the fix), or the objective's error with context. On success the result holds
  // at least one evaluation and never more than budget.max_evals.
  virtual StatusOr<SearchResult> Maximize(const Problem& problem, const Budget& budget,
                                          uint64_t seed) = 0;
};

// Builds a baseline or LA-MCTS with default options by name ("lamcts", "random", "sa",
// "exhaustive"); NotFound naming the valid names otherwise.
StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(const std::string& name);

}  // namespace ecomap::search
