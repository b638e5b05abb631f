// loop/accounting.h: the one interval accounting of Ecomap. The control loop (loop/control_loop.h)
// accounts every interval with it, and so replay's totals, serve's history and (through
// policy::JudgeSlo) the controllers' breach counting all follow the same rules:
//
//   energy            E = P x window                       (J; Wh for reports)
//   carbon            C = E[kWh] x CI                      (gCO2eq)
//   per inference     c = P x CI / sum of the tenants' throughputs   (DESIGN.md; 0 when nothing
//                                                          was served, and `served` is false)
//   CDP               CDP_i = c x p95_i per tenant; the interval's CDP is their plain mean
//   SLO verdict       policy::JudgeSlo: saturated, p95 above the SLO, or throughput under the
//                     minimum; slo_violations counts the tenant-intervals that broke it
//   accuracy loss     the best allowed variant's published accuracy minus the served one's
//                     (points), weighted over tenants by their offered requests
//   requests          offered requests in the window (open loop: the demand's rate; closed
//                     loop: the measured throughput)
//   work served       completed = throughput x window; good = completed when the tenant's
//                     interval met its SLO, else 0 (an interval is judged whole: its p95 is
//                     what the SLO promises); dropped (open loop) = offered - completed, >= 0
//                     (requests the configuration could not serve: queued beyond the window or
//                     refused)
//
//   StatusOr<IntervalRecord> r = AccountInterval(demand, config, measured, GramsPerKwh(200),
//                                                std::chrono::minutes(60));
//   r->carbon_g;  r->tenants[0].slo_violated;
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "platform/types.h"
#include "policy/tenant.h"

namespace ecomap::loop {

struct TenantInterval {
  std::string name;
  std::string variant;          // model in service
  double offered_rps = 0;       // demand (open loop); closed loop: measured throughput
  double throughput_rps = 0;    // measured
  double p50_ms = 0;            // measured
  double p95_ms = 0;            // measured
  double slo_ms = 0;
  bool saturated = false;
  bool slo_violated = false;
  std::string slo_why;          // policy::SloVerdict::why; empty when met
  double accuracy_loss_pts = 0; // best allowed variant minus served, points
  double cdp_g_s = 0;           // c x p95 of this tenant
  double completed_requests = 0;  // throughput x window
  double good_requests = 0;       // completed when the SLO was met, else 0
  double dropped_requests = 0;    // open loop: offered - completed (>= 0); closed loop: 0
};

struct IntervalRecord {
  TimePoint time{};             // start of the interval
  double window_s = 0;          // the accounted window
  double intensity_g_per_kwh = 0;
  double threshold_w = 0;       // Decision::threshold in force (0: none)
  int power_mode = 0;
  double power_w = 0;           // mean over the window
  double energy_j = 0;
  double energy_wh = 0;
  double carbon_g = 0;
  bool served = false;          // some tenant had throughput > 0
  double per_inference_g = 0;   // c = P x CI / sum of throughputs (0 when !served)
  double cdp_g_s = 0;           // plain mean over tenants of c x p95_i (0 when !served)
  double accuracy_loss_pts = 0; // request-weighted over tenants
  double requests = 0;          // offered requests in the window (all tenants)
  double completed_requests = 0, good_requests = 0, dropped_requests = 0;  // all tenants
  int slo_violations = 0;       // tenants whose SLO verdict is "violated"
  double decision_ms = 0;       // wall time of the interval's boundary Controller::Step
  bool replanned = false;       // of the boundary decision
  bool threshold_raised = false;
  std::string reason;
  std::vector<TenantInterval> tenants;  // in the configuration's order
};

// Energy, carbon, CDP, SLO and accuracy of one window. `demand` and `config` name the same
// tenants (matched by name); `measured` follows config's tenant order. InvalidArgument when they
// do not match or the power is unusable (negative or not finite); NotFound for an unknown model.
StatusOr<IntervalRecord> AccountInterval(const std::vector<policy::TenantSpec>& demand,
                                         const platform::Configuration& config,
                                         const platform::Performance& measured, GramsPerKwh intensity,
                                         Seconds window);
StatusOr<IntervalRecord> AccountInterval(const std::vector<policy::TenantSpec>& demand,
                                         const platform::Configuration& config,
                                         const platform::Performance& measured, GramsPerKwh intensity,
                                         Duration window);

// The best published accuracy among a tenant's allowed variants (its family when none listed).
StatusOr<double> BestAccuracy(const policy::TenantSpec& tenant);

}  // namespace ecomap::loop
