// replay/replay.h: trace-driven evaluation of controllers over hours or days of carbon signal.
//
// A replay walks a window of a carbon-intensity trace in fixed control intervals (default 60
// min; a sub-hour interval holds the intensity of the trace period in force) and runs every
// controller over the very same intervals, one after another, each on its own fresh platform
// (xavier-sim, seeded measurement noise, so every controller sees the same noise stream). Per
// interval and controller:
//
//   1. ControlInput: the interval's intensity, a 24 h forecast (carbon::SeasonalForecaster over
//      the trace up to the interval, when `use_forecast`), the scenario's demand of that hour and
//      the performance measured over the previous interval;
//   2. Controller::Step -> Decision (its wall time, measured here, is the decision time);
//   3. "measure": Platform::Evaluate of the decision's configuration, with the tenants' arrival
//      figures set from the demand (the world sets the load, not the controller): simulated;
//   4. account (AccountInterval): energy E = P x interval (Wh); carbon C = E[kWh] x CI (g);
//      per-inference carbon c = P x CI / sum of throughputs (DESIGN.md) and per tenant
//      CDP_i = c x p95_i (gCO2eq*s per inference), the interval's CDP being the plain mean over
//      tenants; an SLO violation is a tenant-interval whose measured p95 exceeds its SLO, whose
//      queue saturated, or whose throughput fell under its minimum; the accuracy loss of a
//      tenant is the best allowed variant's published accuracy minus the served one's (points),
//      weighted over tenants by their offered requests.
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
// controllers); it calls `progress` on the calling thread.
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
#include "platform/platform.h"
#include "platform/registry.h"
#include "policy/controller.h"

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
  std::string platform = "xavier-sim";        // platform::MakePlatform name (Evaluate must work)
  // Measurement noise of the platform (seed 1, 3% relative standard deviation by default).
  platform::PlatformOptions platform_options = DefaultPlatformOptions();
  std::function<void(const ProgressEvent&)> progress;  // after every interval; may be empty

  // InvalidArgument naming the bad field and the fix.
  Status Validate() const;
};

// The default replay start for a trace: 7 days after its first point when the trace holds
// those 7 days plus `days` more (the forecaster then has a week of history), else its start.
TimePoint DefaultStart(const carbon::Trace& trace, int days);

struct TenantInterval {
  std::string name;
  std::string variant;          // model in service
  double offered_rps = 0;       // demand (open loop); closed loop: measured throughput
  double throughput_rps = 0;    // measured (simulated)
  double p95_ms = 0;            // measured (simulated)
  double slo_ms = 0;
  bool saturated = false;
  bool slo_violated = false;
  double accuracy_loss_pts = 0; // best allowed variant minus served, points
  double cdp_g_s = 0;           // c x p95 of this tenant
};

struct IntervalRecord {
  TimePoint time{};
  double intensity_g_per_kwh = 0;
  double threshold_w = 0;       // Decision::threshold (0: none)
  int power_mode = 0;
  double power_w = 0;           // measured (simulated), mean over the interval
  double energy_wh = 0;
  double carbon_g = 0;
  double per_inference_g = 0;   // c = P x CI / sum of throughputs
  double cdp_g_s = 0;           // plain mean over tenants of c x p95_i
  double accuracy_loss_pts = 0; // request-weighted over tenants
  double requests = 0;          // offered requests in the interval (all tenants)
  double decision_ms = 0;       // wall time of Controller::Step
  bool replanned = false;
  bool threshold_raised = false;
  std::string reason;
  std::vector<TenantInterval> tenants;
};

// Energy, carbon, CDP, SLO and accuracy of one interval. `demand` and `config` name the same
// tenants (matched by name); `measured` follows config's tenant order. InvalidArgument when they
// do not match or the figures are unusable (negative power, zero total throughput).
StatusOr<IntervalRecord> AccountInterval(const std::vector<policy::TenantSpec>& demand,
                                         const platform::Configuration& config,
                                         const platform::Performance& measured, GramsPerKwh intensity,
                                         Duration interval);

// The best published accuracy among a tenant's allowed variants (its family when none listed).
StatusOr<double> BestAccuracy(const policy::TenantSpec& tenant);

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
  int slo_violations = 0;          // tenant-intervals
  int tenant_intervals = 0;
  double slo_violation_rate = 0;   // 0..1
  double accuracy_loss_pts = 0;
  int mode_switches = 0;
  int replans = 0;
  int threshold_raises = 0;
  double decision_ms = 0;          // mean wall time of Step
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

  // nullptr when absent.
  const ControllerSummary* Find(const std::string& name) const;
};

// Runs every controller over the window [options.start, options.start + days). Errors: invalid
// options; an empty trace window (InvalidArgument naming the trace's range); the platform's,
// the demand's or a controller's error with the controller and the interval as context.
StatusOr<ReplayResult> RunReplay(const carbon::Trace& trace, const DemandFn& demand,
                                 const std::vector<ControllerRun>& controllers, const ReplayOptions& options);

// 100 x (1 - ours / theirs): how much less `ours` is than `theirs`, in percent (0 when theirs
// is 0).
double SavingPct(double ours, double theirs);

}  // namespace ecomap::replay
