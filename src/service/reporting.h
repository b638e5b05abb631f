// service/reporting.h: how `ecomap serve` turns what the control loop did into its records: the
// history's rows (service/history.h), the API's JSON of decisions and tenants, and the terminal's
// one line per interval. Pure conversions; the daemon decides when to call them.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "loop/control_loop.h"
#include "platform/types.h"
#include "policy/tenant.h"
#include "service/history.h"
#include "service/power_meter.h"

namespace ecomap::service {

// The history row of a decision. `in_force` is the decision in force after it (its mode and
// threshold are recorded when the controller failed).
DecisionRow ToDecisionRow(const loop::DecisionEvent& event, int64_t id, int64_t interval,
                          const std::string& controller, const policy::Decision* in_force);

// The history row of an interval: the loop's accounting, the engine's counts of the tenants it
// ran (in the measurement's order) and the power figure. Running totals are filled on commit.
IntervalRow ToIntervalRow(const loop::IntervalOutcome& outcome, int64_t id,
                          const std::vector<engine::TenantReport>& engine_tenants, const PowerFigure& power);

// "#12 10:00:05  CI 180 g/kWh (trace:...)  thr 21.0 W  mode 2 MODE_15W  power 9.8 W simulated |
//  cam resnet18 [0-4:cpu0|4-:cpu1] p95 31/50 ms ok 20.0 rps | ..." (the knob in force, e.g.
//  "[cpu share (affinity): CPU 0]", follows the mode when given)
std::string IntervalLine(const IntervalRow& row, const platform::PlatformInfo& platform, bool mode_applied,
                         const std::string& knob = "");

// Pearson's correlation coefficient of paired samples, accumulated one pair at a time (Welford's
// co-moments: constant memory for a daemon that runs for weeks): how closely the power followed
// the threshold over a run. r() is nullopt with fewer than 3 pairs or when either series is
// constant (a threshold that never moved says nothing about following it).
class Correlation {
 public:
  void Add(double x, double y);
  int64_t count() const { return n_; }
  std::optional<double> r() const;

 private:
  int64_t n_ = 0;
  double mx_ = 0, my_ = 0, sxx_ = 0, syy_ = 0, sxy_ = 0;
};

// The API's JSON of a decision row and of a declared tenant.
nlohmann::json DecisionJson(const DecisionRow& d);
nlohmann::json TenantJson(const policy::TenantSpec& t);

// "0-3:GPU|3-7:DLA0"
std::string PipelineText(const platform::TenantConfig& tenant);

}  // namespace ecomap::service
