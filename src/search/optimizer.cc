#include "search/optimizer.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>

namespace ecomap::search {

Box Box::Uniform(int dims, double lb, double ub) {
  Box b;
  if (dims > 0) {
    b.lb.assign(static_cast<size_t>(dims), lb);
    b.ub.assign(static_cast<size_t>(dims), ub);
  }
  return b;
}

Status Box::Validate() const {
  if (lb.empty()) {
    return InvalidArgument("the box has no dimensions (dims must be >= 1)");
  }
  if (ub.size() != lb.size()) {
    return InvalidArgument("the box has " + std::to_string(lb.size()) + " lower bounds but " +
                           std::to_string(ub.size()) + " upper bounds; give one of each per dimension");
  }
  if (!integer.empty() && integer.size() != lb.size()) {
    return InvalidArgument("the box has " + std::to_string(integer.size()) +
                           " integer flags for " + std::to_string(lb.size()) +
                           " dimensions; give none or one per dimension");
  }
  if (!categorical.empty() && categorical.size() != lb.size()) {
    return InvalidArgument("the box has " + std::to_string(categorical.size()) +
                           " categorical flags for " + std::to_string(lb.size()) +
                           " dimensions; give none or one per dimension");
  }
  for (size_t i = 0; i < lb.size(); ++i) {
    if (is_categorical(static_cast<int>(i)) && !is_integer(static_cast<int>(i))) {
      return InvalidArgument("dimension " + std::to_string(i) +
                             " is categorical but not integer; mark it integer too");
    }
    if (!std::isfinite(lb[i]) || !std::isfinite(ub[i])) {
      return InvalidArgument("dimension " + std::to_string(i) + " has a non-finite bound; bounds must be finite");
    }
    if (lb[i] >= ub[i]) {
      return InvalidArgument("dimension " + std::to_string(i) + ": lower bound " + std::to_string(lb[i]) +
                             " is not below upper bound " + std::to_string(ub[i]) +
                             "; every dimension needs lb < ub");
    }
    if (is_integer(static_cast<int>(i)) && std::ceil(lb[i]) > std::floor(ub[i])) {
      return InvalidArgument("integer dimension " + std::to_string(i) + " [" + std::to_string(lb[i]) +
                             ", " + std::to_string(ub[i]) + "] holds no integer; widen its bounds");
    }
  }
  return Status::Ok();
}

int Box::levels(int i) const {
  if (!is_integer(i)) return 0;
  const size_t j = static_cast<size_t>(i);
  return std::max(0, static_cast<int>(std::floor(ub[j]) - std::ceil(lb[j])) + 1);
}

void Box::Snap(std::vector<double>* x) const {
  for (size_t i = 0; i < x->size() && i < lb.size(); ++i) {
    double v = std::clamp((*x)[i], lb[i], ub[i]);
    if (is_integer(static_cast<int>(i))) {
      v = std::round(v);
      if (v < lb[i]) v = std::ceil(lb[i]);
      if (v > ub[i]) v = std::floor(ub[i]);
    }
    (*x)[i] = v;
  }
}

Status Budget::Validate() const {
  if (max_evals < 0) {
    return InvalidArgument("evaluation budget " + std::to_string(max_evals) + " is negative; use >= 1 (or 0 with a time budget)");
  }
  if (max_time.value() < 0 || !std::isfinite(max_time.value())) {
    return InvalidArgument("time budget " + std::to_string(max_time.value()) + " ms is invalid; use >= 0");
  }
  if (max_evals == 0 && max_time.value() == 0) {
    return InvalidArgument("no budget given; set an evaluation budget (max_evals >= 1) and/or a time budget (ms > 0)");
  }
  return Status::Ok();
}

std::chrono::nanoseconds SteadyMonotonicClock::Now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

std::chrono::nanoseconds ThreadCpuClock::Now() const {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace ecomap::search
