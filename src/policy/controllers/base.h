// policy/controllers/base.h: what every controller of policy/controller.h shares: the Step
// skeleton (validation, re-plan triggers, SLO breach counting, timing), Keep, and the helpers
// the controllers build decisions with (variant pinning, all-on-GPU configurations).
//
// Carbon input: ControlInput::intensity is used as given, stale or not (the carbon part's
// fallback chain decides what to serve); the forecast joins the threshold map's window.
//
// Common re-plan triggers (every controller), computed by ControllerBase::Step and handed to the
// controller's DoStep as Triggers:
//   * the first step;
//   * a tenant change (set, family, variants, SLO, arrival kind, concurrency, minimum
//     throughput);
//   * a rate change of an open-loop tenant since the last plan by more than +1% or -10% (a rise
//     may break an SLO at once; a small fall only wastes a little);
//   * measured SLO breaches (JudgeSlo: p95 above the SLO, saturation, or throughput under the
//     minimum) in slo_breach_intervals consecutive intervals; the count restarts at every
//     re-plan and at every interval without a breach.
// Each controller decides which triggers it heeds and adds its own (its header says which).
// Otherwise it keeps the decision in force (Keep: replanned = false, no predictor call).
//
// Thread-safety: as Controller: one thread at a time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/types.h"
#include "policy/controller.h"
#include "policy/tenant.h"
#include "search/mapping.h"

namespace ecomap::policy::controllers {

using Clock = std::chrono::steady_clock;

// Milliseconds since `t0`.
double MsSince(Clock::time_point t0);

// Every tenant's model in `c`, in order.
std::vector<std::string> ModelsOf(const platform::Configuration& c);

// Fills what a search-based re-plan records in its decision: the search's evaluations (plus
// the reference configuration), prediction and search time since `t0`, and the chosen variants.
void RecordSearch(const search::SearchResult& r, double predict_ms, Clock::time_point t0, Decision* d);

// Tenants with only the variants at `idx` (indices into their ladders) on their ladders.
std::vector<search::MappingTenant> PinVariants(const std::vector<TenantSpec>& tenants, const std::vector<int>& idx);

// Every tenant's index of its best (most accurate) variant.
std::vector<int> BestIndices(const std::vector<TenantSpec>& tenants);

// Every tenant's model in one stage on the GPU (or the first unit that runs it), in `mode`.
platform::Configuration AllOnGpu(const platform::PlatformInfo& info, const std::vector<TenantSpec>& tenants,
                                 const std::vector<std::string>& models, int mode);

// Per tenant of `config` whose measurement broke its SLO (JudgeSlo): "NAME WHY".
std::vector<std::string> Breaches(const std::vector<TenantSpec>& specs, const platform::Configuration& config,
                                  const platform::Performance& measured);

// Why the demand differs from the one the last plan was made for; empty when it does not
// (the tenant-change and rate-change triggers above).
std::string DemandChange(const std::vector<TenantSpec>& before, const std::vector<TenantSpec>& now);

// The shared skeleton of every controller: Step validates the input, computes the common
// triggers, calls DoStep, and records the plan's demand and timing.
class ControllerBase : public Controller {
 public:
  ControllerBase(std::string name, const ControllerContext& ctx);
  std::string name() const override { return name_; }
  StatusOr<Decision> Step(const ControlInput& in) final;

 protected:
  struct Triggers {
    bool first = false;
    std::string demand;       // non-empty: the demand changed (why)
    bool breach = false;      // N consecutive breaching intervals
    std::string breach_what;  // the latest breach
  };
  virtual StatusOr<Decision> DoStep(const ControlInput& in, const Triggers& trig) = 0;

  // The decision in force, unchanged, with a reason ("kept: " + why).
  Decision Keep(const std::string& why) const;

  const platform::PlatformInfo& info() const { return *ctx_.platform; }
  const ControllerOptions& opt() const { return ctx_.options; }

  std::string name_;
  ControllerContext ctx_;
  std::optional<Decision> last_;
  std::vector<TenantSpec> planned_tenants_;
  int breach_count_ = 0;
};

}  // namespace ecomap::policy::controllers
