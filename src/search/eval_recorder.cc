#include "search/eval_recorder.h"

#include <climits>
#include <cmath>
#include <string>

namespace ecomap::search {

EvalRecorder::EvalRecorder(const Problem& problem, const Budget& budget)
    : problem_(problem), budget_(budget), clock_(budget.clock ? budget.clock : &steady_) {
  start_ = Now();
}

std::chrono::nanoseconds EvalRecorder::Now() const { return clock_->Now(); }

int EvalRecorder::remaining() const {
  if (budget_.max_evals <= 0) return INT_MAX;
  return budget_.max_evals - result_.evaluations;
}

bool EvalRecorder::done() {
  if (remaining() <= 0) return true;
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
  if (static_cast<long long>(xs->size()) > left) xs->resize(static_cast<size_t>(left));
  if (xs->empty()) return Status::Ok();
  for (auto& x : *xs) problem_.box.Snap(&x);

  const auto t0 = Now();
  Status s = problem_.objective(*xs, values);
  function_ns_ += Now() - t0;
  if (!s.ok()) {
    return s.WithContext("objective failed at evaluation " + std::to_string(result_.evaluations + 1));
  }
  if (values->size() != xs->size()) {
    return InvalidArgument("objective returned " + std::to_string(values->size()) + " values for " +
                           std::to_string(xs->size()) + " points; it must return one per point");
  }
  for (size_t i = 0; i < xs->size(); ++i) {
    const double f = (*values)[i];
    if (!std::isfinite(f)) {
      return InvalidArgument("objective returned a non-finite value (" + std::to_string(f) +
                             ") at evaluation " + std::to_string(result_.evaluations + 1) +
                             "; return a finite penalty for infeasible points instead");
    }
    if (result_.evaluations == 0 || f > result_.best_f) {
      result_.best_f = f;
      result_.best_x = (*xs)[i];
    }
    result_.history.push_back({(*xs)[i], f, result_.objective_calls});
    result_.best_trace.push_back(result_.best_f);
    ++result_.evaluations;
  }
  ++result_.objective_calls;
  return Status::Ok();
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
