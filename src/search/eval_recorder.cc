#include "search/eval_recorder.h"

#include <climits>
#include <cmath>
#include <string>

namespace ecomap::search {

namespace {
// See Problem::canonical. Free answers cost the optimizer's own work (a search that proposes
// known points iterates more per evaluation), hence a bound for adaptive searches.
constexpr int kFreeAnswersDivisor = 4;  // at most max_evals / 4 free answers
constexpr int kExhaustedAfter = 64;     // known points in a row that end an adaptive search
}  // namespace

EvalRecorder::EvalRecorder(const Problem& problem, const Budget& budget, bool enumeration)
    : problem_(problem),
      budget_(budget),
      clock_(budget.clock ? budget.clock : &steady_),
      free_answers_left_(enumeration || budget.max_evals <= 0 ? LLONG_MAX : budget.max_evals / kFreeAnswersDivisor),
      enumeration_(enumeration) {
  start_ = Now();
}

std::chrono::nanoseconds EvalRecorder::Now() const { return clock_->Now(); }

int EvalRecorder::remaining() const {
  if (budget_.max_evals <= 0) return INT_MAX;
  return budget_.max_evals - result_.evaluations;
}

bool EvalRecorder::done() {
  if (remaining() <= 0) return true;
  if (!enumeration_ && known_in_a_row_ >= kExhaustedAfter && result_.evaluations > 0) {
    result_.exhausted = true;
    return true;
  }
  if (budget_.max_time.value() > 0) {
    const double elapsed_ms = std::chrono::duration<double, std::milli>(Now() - start_).count();
    if (elapsed_ms >= budget_.max_time.value()) {
      result_.stopped_by_time = true;
      return true;
    }
  }
  return false;
}

Status EvalRecorder::Evaluate(std::vector<std::vector<double>>* xs, std::vector<double>* values) {
  values->clear();
  const int left = remaining();
  if (left <= 0) {
    xs->clear();
    return Status::Ok();
  }
  for (auto& x : *xs) problem_.box.Snap(&x);

  // Which points the objective must see: new canonical forms, within the budget. A repeat refers
  // to a known value (`known_`) or to the first point of the batch with its form (`same_as`).
  const bool dedupe = static_cast<bool>(problem_.canonical);
  std::vector<std::vector<double>> kept, fresh, keys;
  std::vector<int> same_as;       // per kept point: index into `fresh`, or -1 (known value)
  std::vector<double> known_f;    // per kept point: the known value when same_as is -1
  std::map<std::vector<double>, int> batch_keys;
  for (auto& x : *xs) {
    if (dedupe && free_answers_left_ > 0) {
      std::vector<double> key = problem_.canonical(x);
      if (auto it = known_.find(key); it != known_.end()) {
        kept.push_back(std::move(x));
        same_as.push_back(-1);
        known_f.push_back(it->second);
        --free_answers_left_;
        continue;
      }
      if (auto it = batch_keys.find(key); it != batch_keys.end()) {
        kept.push_back(std::move(x));
        same_as.push_back(it->second);
        known_f.push_back(0.0);
        --free_answers_left_;
        continue;
      }
      if (static_cast<int>(fresh.size()) >= left) continue;
      batch_keys.emplace(key, static_cast<int>(fresh.size()));
      keys.push_back(std::move(key));
    } else if (static_cast<int>(fresh.size()) >= left) {
      continue;
    } else {
      keys.emplace_back();  // not remembered: the free answers are spent (or no canonical form)
    }
    same_as.push_back(static_cast<int>(fresh.size()));
    known_f.push_back(0.0);
    fresh.push_back(x);
    kept.push_back(std::move(x));
  }
  *xs = std::move(kept);
  if (xs->empty()) return Status::Ok();

  std::vector<double> fresh_f;
  if (!fresh.empty()) {
    const auto t0 = Now();
    Status s = problem_.objective(fresh, &fresh_f);
    function_ns_ += Now() - t0;
    if (!s.ok()) {
      return s.WithContext("objective failed at evaluation " + std::to_string(result_.evaluations + 1));
    }
    if (fresh_f.size() != fresh.size()) {
      return InvalidArgument("objective returned " + std::to_string(fresh_f.size()) + " values for " +
                             std::to_string(fresh.size()) + " points; it must return one per point");
    }
    for (size_t i = 0; i < fresh.size(); ++i) {
      const double f = fresh_f[i];
      if (!std::isfinite(f)) {
        return InvalidArgument("objective returned a non-finite value (" + std::to_string(f) +
                               ") at evaluation " + std::to_string(result_.evaluations + 1) +
                               "; return a finite penalty for infeasible points instead");
      }
      if (result_.evaluations == 0 || f > result_.best_f) {
        result_.best_f = f;
        result_.best_x = fresh[i];
      }
      if (!keys[i].empty()) known_.emplace(std::move(keys[i]), f);
      result_.history.push_back({std::move(fresh[i]), f, result_.objective_calls});
      result_.best_trace.push_back(result_.best_f);
      ++result_.evaluations;
    }
    ++result_.objective_calls;
  }
  values->reserve(xs->size());
  for (size_t i = 0; i < xs->size(); ++i) {
    const int k = same_as[i];
    values->push_back(k >= 0 ? fresh_f[static_cast<size_t>(k)] : known_f[i]);
  }
  const int repeated = static_cast<int>(xs->size()) - static_cast<int>(fresh_f.size());
  result_.repeats += repeated;
  known_in_a_row_ = fresh_f.empty() ? known_in_a_row_ + repeated : 0;
  return Status::Ok();
}

bool EvalRecorder::Known(std::vector<double> x) const {
  if (!problem_.canonical) return false;
  problem_.box.Snap(&x);
  return known_.count(problem_.canonical(x)) > 0;
}

StatusOr<SearchResult> EvalRecorder::Finish() {
  if (result_.evaluations == 0) {
    return InvalidArgument("the search ended before any evaluation; raise the time budget");
  }
  result_.total_time =
      Milliseconds(std::chrono::duration<double, std::milli>(Now() - start_).count());
  result_.function_time = Milliseconds(std::chrono::duration<double, std::milli>(function_ns_).count());
  return std::move(result_);
}

}  // namespace ecomap::search
