// search/eval_recorder.h: the bookkeeping every optimizer shares (internal to search/).
//
// Wraps a Problem and a Budget: snaps points, enforces the evaluation and time budgets, calls the
// batch objective, checks its answers, records the history and best-so-far, and splits the run
// time into search overhead and function time.
//
//   EvalRecorder rec(problem, budget);
//   while (!rec.done()) {
//     std::vector<std::vector<double>> xs = Propose(rec.remaining());
//     std::vector<double> fx;
//     ECOMAP_RETURN_IF_ERROR(rec.Evaluate(&xs, &fx));
//   }
//   return rec.Finish();
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <map>
#include <vector>

#include "core/status.h"
#include "search/optimizer.h"

namespace ecomap::search {

class EvalRecorder {
 public:
  // REQUIRES: problem.box and budget validated; both outlive the recorder. `enumeration`: the
  // optimizer visits every point once whatever it met before (exhaustive search): repeats are
  // answered free without limit and done() never ends it early. Otherwise (an adaptive search)
  // at most max_evals / 4 repeats are answered free (later ones are evaluated and counted, as
  // without Problem::canonical), and done() ends the search once 64 proposals in a row were
  // known (SearchResult::exhausted).
  EvalRecorder(const Problem& problem, const Budget& budget, bool enumeration = false);

  // Evaluations left under the evaluation budget (a large number when unlimited).
  int remaining() const;
  // True when the evaluation budget is spent, the time budget has run out, or (with
  // Problem::canonical, an adaptive search) the last 64 points were all answered from earlier
  // evaluations.
  bool done();
  // Snaps every point of *xs in place, drops the points beyond the evaluation budget, evaluates
  // the rest in one objective call and sets *values to their values (same order). With
  // Problem::canonical, a point whose canonical form was evaluated before (or earlier in the same
  // batch) is answered from that evaluation: it is kept in *xs, costs no budget and is not added
  // to the history (result().repeats counts it). Fails with the objective's error (with context)
  // or InvalidArgument when it returns the wrong number of values or a non-finite one.
  Status Evaluate(std::vector<std::vector<double>>* xs, std::vector<double>* values);

  // With Problem::canonical: whether x (snapped here) is a solution evaluated before. Without
  // it: false.
  bool Known(std::vector<double> x) const;

  const SearchResult& result() const { return result_; }
  // Stamps the total time and moves the result out. Fails when nothing was evaluated.
  StatusOr<SearchResult> Finish();

 private:
  std::chrono::nanoseconds Now() const;

  const Problem& problem_;
  const Budget& budget_;
  SteadyMonotonicClock steady_;
  const MonotonicClock* clock_;
  std::chrono::nanoseconds start_;
  std::chrono::nanoseconds function_ns_{0};
  SearchResult result_;
  std::map<std::vector<double>, double> known_;  // canonical form -> value (Problem::canonical)
  long long free_answers_left_;
  int known_in_a_row_ = 0;  // consecutive points answered free
  bool enumeration_;
};

}  // namespace ecomap::search
