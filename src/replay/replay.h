// replay/replay.h: trace-driven evaluation of controllers over hours or days of carbon signal.
//
// A replay walks a window of a carbon-intensity trace in fixed control intervals (default 60
// min; a sub-hour interval holds the intensity of the trace period in force) and runs every
// controller over the very same intervals, one after another, each on its own fresh platform
// (xavier-sim, seeded measurement noise, so every controller sees the same noise stream). Per
// interval and controller, the control loop (loop/control_loop.h) that `ecomap serve` runs too,
// with replay's plugs: a simulated clock; a carbon source that serves the interval's intensity
// and a 24 h forecast (carbon::SeasonalForecaster over the trace up to the interval, when
// `use_forecast`); the scenario's demand of that hour; an actuator that imposes the demand's
// arrival figures on the decision (the world sets the load, not the controller); and a meter
// that asks the simulator (platform::MakeEvaluator) what the configuration costs. Each interval
// is accounted by loop::AccountInterval (loop/accounting.h: energy, carbon, per-inference carbon,
// CDP, the one SLO verdict policy::JudgeSlo, accuracy loss) and fed back to the next Step. The decision
// time is the wall time of Controller::Step.
//
// Summaries per controller (ControllerSummary): totals of energy and carbon; CDP = mean over
// intervals of the interval CDP; SLO-violation rate = violating tenant-intervals / all
// tenant-intervals; accuracy loss = request-weighted over tenants and intervals; per-tenant p95 =
// the 95th percentile over intervals of the measured interval p95; mode switches = intervals whose
// power mode differs from the previous interval's; decision time = mean wall time of Step.
//
//   ECOMAP_ASSIGN_OR_RETURN(carbon::Trace trace, carbon::LoadTrace(path));
//   ReplayOptions o;  o.start = *ParseTimestamp("2023-06-01");  o.days = 7;
//   std::vector<ControllerRun> runs = ControllerRuns({"ecomap", "maxn"}, context);
//   ECOMAP_ASSIGN_OR_RETURN(ReplayResult r,
//       RunReplay(trace, [&](TimePoint t) { return scenario.DemandAt(t); }, runs, o));
//   r.controllers[0].carbon_g;  SavingPct(r.controllers[0].carbon_g, r.controllers[1].carbon_g);
//
// Every figure is simulated (the platform is xavier-sim) and labelled so where printed.
//
// Thread-safety: RunReplay is a pure function of its inputs (it builds its own platforms and
// controllers). Controllers are replayed on `threads` worker threads (each controller has its
// own simulated platform and seed, so the figures do not depend on the thread count); the
// shared predictors must be thread-safe (every Predictor is). `progress` is called under a
// mutex, from the worker threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "carbon/trace.h"
#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "loop/accounting.h"
#include "platform/registry.h"
#include "platform/types.h"
#include "policy/controller.h"
#include "replay/bound.h"
#include "replay/bound_search.h"

namespace ecomap::replay {

// The demand at a time: every tenant with the rates of that hour (e.g. Scenario::DemandAt).
using DemandFn = std::function<std::vector<policy::TenantSpec>(TimePoint)>;

// How to build one controller for a replay (a fresh object per replay).
struct ControllerRun {
  std::string name;
  std::function<StatusOr<std::unique_ptr<policy::Controller>>()> make;
};

// One ControllerRun per name, each calling policy::MakeController(name, context). The context's
// pointers must outlive the replay.
std::vector<ControllerRun> ControllerRuns(const std::vector<std::string>& names,
                                          const policy::ControllerContext& context);

// Checks a comma-separated list of controller names against policy::ControllerNames();
// InvalidArgument naming the unknown one and listing the known names, or an empty/duplicate
// entry.
StatusOr<std::vector<std::string>> ParseControllerList(const std::string& list);

struct ProgressEvent {
  std::string controller;
  int controller_index = 0;  // 0-based
  int controllers = 0;
  int step = 0;              // intervals done for this controller (1..steps)
  int steps = 0;
  TimePoint time{};          // start of the interval just done
};

// seed 1, noise 0.03.
platform::PlatformOptions DefaultPlatformOptions();

struct ReplayOptions {
  TimePoint start{};                          // first interval (inclusive), UTC
  int days = 7;                               // > 0
  Duration interval = std::chrono::minutes(60);  // > 0 and divides 60 min
  bool use_forecast = true;                   // give controllers a 24 h seasonal forecast
  Duration forecast_horizon = std::chrono::hours(24);
  std::string platform = "xavier-sim";        // platform::MakeEvaluator name (one that predicts)
  // Measurement noise of the platform (seed 1, 3% relative standard deviation by default).
  platform::PlatformOptions platform_options = DefaultPlatformOptions();
  std::function<void(const ProgressEvent&)> progress;  // after every interval; may be empty
  // Controllers replayed at once (0: one per hardware thread, at most the controller count).
  int threads = 0;
  // With two or more controllers: the hindsight bound over their choices (replay/bound.h) at
  // every controller's accuracy loss.
  bool bound = true;
  // With the bound: its own candidates, searched in hindsight (replay/bound_search.h); evals 0
  // turns them off (the bound is then over the controllers' choices only).
  BoundSearchOptions bound_search;

  // InvalidArgument naming the bad field and the fix.
  Status Validate() const;
};

// The default replay start for a trace: 7 days after its first point when the trace holds
// those 7 days plus `days` more (the forecaster then has a week of history), else its start.
TimePoint DefaultStart(const carbon::Trace& trace, int days);

// One interval's accounting: the control loop's (loop/accounting.h), the same rules as serve's.
using loop::AccountInterval;
using loop::BestAccuracy;
using loop::IntervalRecord;
using loop::TenantInterval;

struct TenantSummary {
  std::string name;
  double slo_ms = 0;
  double p95_ms = 0;        // 95th percentile over intervals of the interval p95
  double mean_p95_ms = 0;
  double max_p95_ms = 0;
  int violations = 0;       // tenant-intervals
  double accuracy_loss_pts = 0;  // request-weighted over intervals
  std::map<std::string, int> variant_intervals;  // model -> intervals in service
};

struct ControllerSummary {
  std::string name;
  double carbon_g = 0;
  double energy_wh = 0;
  double mean_power_w = 0;
  double cdp_g_s = 0;              // mean over intervals of the interval CDP
  double carbon_per_inference_g = 0;  // total carbon / total served inferences
  double inferences = 0;           // served (simulated)
  double good_requests = 0;        // served in tenant-intervals that met their SLO
  double dropped_requests = 0;     // open-loop requests offered but not served
  double carbon_per_1k_good_g = 0; // carbon per 1000 good requests (0 when none)
  int slo_violations = 0;          // tenant-intervals
  int tenant_intervals = 0;
  double slo_violation_rate = 0;   // 0..1
  double accuracy_loss_pts = 0;
  int mode_switches = 0;
  int replans = 0;
  int threshold_raises = 0;
  double decision_ms = 0;          // mean wall time of Step
  double decision_ms_p95 = 0;      // 95th percentile over the intervals
  double decision_ms_max = 0;
  std::vector<TenantSummary> tenants;
  std::vector<IntervalRecord> intervals;
};

struct ReplayResult {
  std::string trace_name;
  std::string zone;
  std::string attribution;
  TimePoint start{};
  TimePoint end{};               // exclusive
  Duration interval{};
  int steps = 0;
  int days = 0;
  bool forecast = false;
  std::string platform;          // "xavier-sim"
  std::string provenance;        // "simulated"
  uint64_t seed = 0;
  double noise = 0;
  std::vector<ControllerSummary> controllers;  // in the order given
  // The bound at each controller's accuracy loss (controller name, result); empty without it.
  std::vector<std::pair<std::string, BoundResult>> bounds;
  // The bound's searched candidates (empty intervals when none were searched).
  SearchedCandidates searched;

  // nullptr when absent.
  const ControllerSummary* Find(const std::string& name) const;
};

// The bound's candidates (replay/bound.h): per interval, every controller's measured choice.
std::vector<std::vector<BoundCandidate>> BoundCandidates(const std::vector<ControllerSummary>& controllers, int steps);
// Every candidate of a replay's bound: the controllers' choices, then the searched ones.
std::vector<std::vector<BoundCandidate>> BoundCandidates(const ReplayResult& result);

// Runs every controller over the window [options.start, options.start + days). Errors: invalid
// options; an empty trace window (InvalidArgument naming the trace's range); the platform's,
// the demand's or a controller's error with the controller and the interval as context.
StatusOr<ReplayResult> RunReplay(const carbon::Trace& trace, const DemandFn& demand,
                                 const std::vector<ControllerRun>& controllers, const ReplayOptions& options);

// 100 x (1 - ours / theirs): how much less `ours` is than `theirs`, in percent (0 when theirs
// is 0).
double SavingPct(double ours, double theirs);

}  // namespace ecomap::replay
