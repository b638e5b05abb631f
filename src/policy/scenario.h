// policy/scenario.h: a workload scenario: the tenants sharing the device, their SLOs, their
// variant families and their arrival rates hour by hour, read from a TOML file.
//
// Replay (trace-driven evaluation) and the serve daemon take their tenants from a scenario; the
// controllers (policy/controller.h) see, at every control interval, DemandAt(t): every tenant's
// TenantSpec with the rate of t's UTC hour.
//
// File format (TOML; data/scenarios/default.toml is the shipped example and documents it too):
//
//   name = "default"                      # optional; default: the file name without extension
//   description = "one line"              # optional
//
//   [[tenant]]                            # one table per tenant, at least one
//   name = "camera"                       # required, unique
//   family = "resnet"                     # required, a zoo family (ecomap zoo list)
//   variants = ["resnet18", "resnet50"]   # optional, members of the family; default: the whole
//                                         # family. Sorted into catalogue order (increasing
//                                         # accuracy) whatever order the file lists them in.
//   slo_ms = 25                           # required, p95 latency bound (ms), > 0
//   min_throughput_rps = 0                # optional, >= 0 (0: none)
//   arrival = "open"                      # optional, "open" (Poisson, default) | "closed"
//   rate_rps = 60                         # open loop: required, mean arrival rate (req/s), > 0
//   concurrency = 2                       # closed loop: optional (default 1), integer >= 1
//   rate_by_hour = [0.5, 0.5, ..., 1.0]   # optional, open loop only: exactly 24 multipliers of
//                                         # rate_rps by UTC hour 0..23, each > 0 (empty or
//                                         # absent: constant rate)
//
// Unknown keys are errors (a misspelt key must not silently fall back to a default). Every error
// names FILE:LINE, the key and the fix.
//
// Feasibility check: unless disabled, every tenant must be able to meet its SLO at its peak rate
// with its lightest variant (fewest FLOPs) alone on the device, in one stage on the fastest unit,
// in the platform's highest mode (the mode without a budget, else the largest budget), as the
// check's predictor says (default: the noise-free xavier-sim). Otherwise: "impossible SLO", with
// the best latency that was possible, so the user can fix the number.
//
//   ECOMAP_ASSIGN_OR_RETURN(Scenario s, LoadScenario("data/scenarios/default.toml"));
//   std::vector<TenantSpec> demand = s.DemandAt(t);   // rates of t's UTC hour
//
// Thread-safety: plain values; the functions are pure apart from LoadScenario reading the file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "estimator/predictor.h"
#include "platform/types.h"
#include "policy/controller.h"

namespace ecomap::policy {

struct ScenarioTenant {
  TenantSpec spec;                   // rate_rps: the base rate (multiplied by rate_by_hour)
  std::vector<double> rate_by_hour;  // 24 multipliers by UTC hour, or empty (constant)

  // The open-loop rate in UTC hour `hour` (0..23): rate_rps x rate_by_hour[hour].
  double RateAtHour(int hour) const;
  // The highest rate over the day.
  double PeakRate() const;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string origin;  // the file (or the name given to ParseScenario)
  std::vector<ScenarioTenant> tenants;

  // Every tenant's spec with the rate of t's UTC hour (closed-loop tenants unchanged).
  std::vector<TenantSpec> DemandAt(TimePoint t) const;
  // Every tenant's spec at its peak rate.
  std::vector<TenantSpec> PeakDemand() const;
};

// How ParseScenario checks that the SLOs are possible at all (see the top comment).
struct ScenarioCheck {
  bool check_feasibility = true;
  // Both null: the noise-free xavier-sim (estimator::SimulatorPredictor). Otherwise both set and
  // must outlive the call.
  const platform::PlatformInfo* platform = nullptr;
  const estimator::Predictor* predictor = nullptr;
};

// Parses a scenario from TOML text; `origin` names the source in error messages.
StatusOr<Scenario> ParseScenario(std::string_view text, const std::string& origin,
                                 const ScenarioCheck& check = {});
// Reads and parses a file. NotFound when it cannot be read.
StatusOr<Scenario> LoadScenario(const std::string& path, const ScenarioCheck& check = {});

// The path of the shipped default scenario (data/scenarios/default.toml in the source tree).
std::string DefaultScenarioPath();

// The highest power mode of a platform: the one without a budget, else the largest budget
// (ties: the lowest id). REQUIRES: info.modes non-empty.
const platform::PowerMode& HighestMode(const platform::PlatformInfo& info);

// The lightest model (fewest total FLOPs) among `variants`; nullptr when none is known.
const zoo::ModelInfo* LightestVariant(const std::vector<std::string>& variants);

// The best p95 latency `spec` can have at `rate_rps` with its lightest variant alone, one stage
// on any unit that runs every block, in the highest mode; `saturated` tells whether even that
// configuration cannot keep up. Errors: the predictor's.
struct AloneBest {
  Milliseconds latency_p95{0};
  std::string unit;
  std::string model;
  bool saturated = false;
};
StatusOr<AloneBest> BestAlone(const TenantSpec& spec, double rate_rps,
                              const platform::PlatformInfo& info,
                              const estimator::Predictor& predictor);

}  // namespace ecomap::policy
