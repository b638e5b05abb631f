// service/daemon.h: `ecomap serve`, the live carbon-aware daemon: wiring only.
//
// The daemon runs the control loop of `ecomap replay` (loop/control_loop.h) on the system clock,
// with what serve plugs in (service/serve_plugs.h):
//   carbon (the configured source and its fallback chain, service/components.h)
//   -> controller Step (policy/controller.h) -> EngineActuator: the power mode (ApplyMode where
//      the platform can) and the engine (tenants added, removed, reconfigured live)
//   -> the interval passes -> EngineMeter: the engine's window (p50/p95 per tenant, throughput,
//      completed/rejected, per-unit busy time) and the PowerMeter (service/power_meter.h: the
//      platform's reading, else the host model of busy time, else the predicted power; labelled)
//   -> the loop's accounting (loop/accounting.h) -> the interval, its decisions and carbon
//      reading committed to the history in one transaction (service/history.h; rows from
//      service/reporting.h) -> the next Step gets the measurements.
// API calls that change tenants (and SIGHUP reloads, and /replan) decide and apply at once
// through the loop, between interval boundaries; their decisions are committed with the
// interval they fall in. The HTTP layer (service/http_server.h) calls the public methods below.
//
//   DaemonDeps deps;  deps.executors = engine::MakeTorchExecutorFactory();
//   deps.make_controller = policy::MakeController;
//   ECOMAP_ASSIGN_OR_RETURN(auto d, Daemon::Create(config, std::move(deps)));
//   ECOMAP_RETURN_IF_ERROR(d->Start());      // history, API server, loop thread
//   ...  d->Reload(new_config);  ...  d->Stop();
//
// Inference (service/inference.h): the daemon is the InferenceBackend of the REST (and gRPC)
// transports. A model is a declared tenant: its versions are the tenant's variants, the one the
// plan in force serves answers (engine::Engine::Submit). A request the engine estimates it
// cannot serve within the tenant's SLO is refused at once (Unavailable + retry_after); a tenant
// whose plan predicts an SLO miss (no feasible configuration) is refused with FailedPrecondition
// unless the request is best effort (which also skips the SLO admission check).
//
// Thread-safety: all public methods are thread-safe (the API server calls them concurrently).
// One mutex (control_mu_) guards the loop and the declared tenants; the loop thread releases it
// while an interval passes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "carbon/source.h"
#include "core/status.h"
#include "core/time.h"
#include "engine/engine.h"
#include "loop/control_loop.h"
#include "estimator/predictor.h"
#include "platform/platform.h"
#include "policy/controller.h"
#include "service/api.h"
#include "service/config.h"
#include "service/demand.h"
#include "service/history.h"
#include "service/inference.h"
#include "service/power_meter.h"
#include "service/reporting.h"
#include "service/serve_plugs.h"

namespace ecomap::service {

class HttpServer;
class GrpcServer;

using ControllerFactory = std::function<StatusOr<std::unique_ptr<policy::Controller>>(
    const std::string& name, const policy::ControllerContext& context)>;

struct DaemonDeps {
  std::shared_ptr<engine::ExecutorFactory> executors;  // required (the torch executors in the app)
  ControllerFactory make_controller;                    // required (policy::MakeController)
  // Optional overrides (tests); built from the config when null/empty.
  std::unique_ptr<platform::Platform> platform;
  std::unique_ptr<carbon::CarbonSource> carbon;
  std::shared_ptr<const estimator::Predictor> predictor;
  std::vector<engine::UnitInfo> units;                  // empty: engine::HostUnits()
  const Clock* clock = nullptr;                         // wall clock; nullptr: SystemClock
  std::ostream* terminal = nullptr;                     // one line per interval; nullptr: quiet
  bool serve_api = true;                                // false: no HTTP server (tests, load baseline)
  std::string version = "dev";
};

// The end-of-run figures (`ecomap serve --demo` prints them).
// The niceness of the control loop's thread, which makes every boundary decision (a search),
// and of `serve --bench-replan`'s planner: a search must not take the cores from the engine's
// stage workers (nice 0). At +19 a search competing with a busy worker gets about 1.5% of the
// core, so a plan takes longer under saturation and inference does not wait; on the demo's
// one-core share the tenants' p95 beside back-to-back re-plans was 0.95-1.00x the quiet p95 at
// +19 against 1.05-1.13x at +10 (docs/serve.md, "Re-plans beside inference"). The decisions
// between boundaries run where they are asked for: /replan and the API's tenant changes on the
// operator API's workers (nice +10, service/http_server.cc), a SIGHUP reload on the main thread.
inline constexpr int kPlannerNice = 19;
// Sets the calling thread's niceness to kPlannerNice (Linux: per thread). Best effort.
void LowerToPlannerPriority();

struct RunSummary {
  int64_t intervals = 0;           // this run
  int64_t decisions = 0, replans = 0;
  double energy_j = 0, carbon_g = 0;     // this run
  double mean_intensity = 0;             // over this run's intervals
  double mean_threshold_w = 0;
  int64_t completed = 0, rejected = 0, slo_violations = 0;  // this run
  std::string power_source;              // of the last interval
  int64_t power_fallback_intervals = 0, carbon_fallback_intervals = 0;
  // How the threshold and the power followed the carbon signal: intervals whose threshold
  // differs from the previous interval's (by more than 0.05 W), and per power mode in force
  // (its name; "(not applied)" appended when the knob could not apply it) the sums over the
  // intervals spent in it.
  int64_t threshold_changes = 0;
  struct InMode {
    int64_t intervals = 0;
    double intensity_sum = 0, threshold_w_sum = 0, power_w_sum = 0;
  };
  std::map<std::string, InMode> by_mode;
  // Whether the power followed the threshold: Pearson's r between the threshold in force and the
  // power figure over the intervals that completed requests (a drained or idle interval says
  // nothing about the plan); threshold_power.count() of them (service/reporting.h).
  Correlation threshold_power;
};

class Daemon final : public InferenceBackend {
 public:
  // Builds the platform, carbon source, predictor and controller (nothing runs yet).
  static StatusOr<std::unique_ptr<Daemon>> Create(ServeConfig config, DaemonDeps deps);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the history (resuming), makes the first decision and starts the engine, the API
  // server and the loop thread. Errors: history, the first decision, engine start, API bind.
  Status Start();
  // Ends the interval in progress (measured and committed), stops the API server, drains the
  // engine (drain_ms) and closes the history. Idempotent.
  void Stop();

  // SIGHUP: the file's tenant list becomes authoritative (added/removed/changed live, the engine
  // keeps running), and interval_s, token and rate limits are taken over. Returns the keys that
  // changed but need a restart (platform, carbon, controller, data_dir, listen), comma-separated.
  StatusOr<std::string> Reload(const ServeConfig& config);

  // API operations (HttpServer calls these; tests may too).
  StatusOr<nlohmann::json> AddTenant(const policy::TenantSpec& t);
  StatusOr<nlohmann::json> RemoveTenant(const std::string& name);
  StatusOr<nlohmann::json> Replan();
  // What a full re-plan would decide now: a fresh controller (as /replan makes) on the inputs a
  // decision now would get, on the calling thread; nothing is applied or recorded. For
  // measuring what re-plans cost the tenants (`ecomap serve --bench-replan`, service/replan_bench.h).
  StatusOr<policy::Decision> ShadowPlan();
  nlohmann::json Tenants() const;
  StatusOr<nlohmann::json> Decisions(int64_t since, int limit) const;
  StatusSnapshot Snapshot() const;
  std::string StatusBody() const;   // /status, cached after each change
  std::string MetricsBody() const;  // /metrics

  // InferenceBackend. Infer blocks until the engine answers (at most 30 s: DeadlineExceeded).
  bool Live() const override;
  bool Ready() const override;
  ServerMetadata Metadata() const override;
  std::vector<std::string> Models() const override;
  StatusOr<ModelMetadata> ModelMetadataOf(const std::string& model) const override;
  StatusOr<bool> ModelReady(const std::string& model) const override;
  StatusOr<InferResponse> Infer(InferRequest request, double* retry_after_s = nullptr) override;

  int port() const;                 // the API's bound port (0 before Start / without API)
  int grpc_port() const;            // the gRPC server's bound port (0 when none)
  const ServeConfig& config() const { return config_; }
  std::string token() const;
  const ApiConfig& api_config() const { return config_.api; }
  History* history() { return history_.get(); }

  // Intervals committed by this run; waits until at least `n` or `timeout`. True when reached.
  bool WaitForIntervals(int64_t n, Duration timeout) const;
  int64_t intervals_this_run() const;
  // Completed requests per tenant since the engine started (cumulative, engine Report).
  std::map<std::string, uint64_t> CompletedByTenant() const;
  RunSummary Summary() const;

 private:
  Daemon(ServeConfig config, DaemonDeps deps);
  Status Build();
  void Loop();
  // REQUIRES: control_mu_ held.
  void OnDecisionLocked(const loop::DecisionEvent& event);
  void CommitLocked(const loop::IntervalOutcome& outcome);
  StatusOr<std::unique_ptr<policy::Controller>> MakeController();
  void RefreshSnapshotLocked();
  // The tenants as the controller sees them: with client load, open-loop rates from the
  // observed demand (the declared rates are hints for the first intervals). REQUIRES: control_mu_.
  std::vector<policy::TenantSpec> PlannedDemandLocked(TimePoint at) const;
  // Start: tenants added through the API in earlier runs, the learned demand, per-tenant totals.
  void RestoreLocked();

  ServeConfig config_;
  DaemonDeps deps_;
  const Clock* clock_;
  std::unique_ptr<platform::Platform> platform_;
  // What the controller decides over: the platform, restricted to the mode in force when modes
  // are not applied ([serve] power_knob = "none"), so its plans match what really runs.
  platform::PlatformInfo controller_info_;
  std::string primary_source_;  // the configured carbon provider's name
  std::shared_ptr<const estimator::Predictor> predictor_, oracle_;
  std::unique_ptr<policy::Controller> controller_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<PowerMeter> power_;
  std::unique_ptr<PowerKnob> knob_;  // nullptr: power_knob = "none"
  std::unique_ptr<EngineActuator> actuator_;
  std::unique_ptr<EngineMeter> meter_;
  SystemIntervalClock* interval_clock_ = nullptr;  // owned by loop_
  std::unique_ptr<loop::ControlLoop> loop_;
  std::unique_ptr<History> history_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<GrpcServer> grpc_;

  // Guarded by control_mu_.
  mutable std::mutex control_mu_;
  std::condition_variable control_cv_;  // the loop thread's interval wait; stop_ ends it
  bool stop_ = false;
  std::vector<policy::TenantSpec> tenants_;
  std::vector<DecisionRow> pending_decisions_;      // of the interval in progress
  int64_t next_interval_ = 0;
  std::map<std::string, TenantState> tenant_state_;  // per tenant (totals since the history began)
  // Observed demand (load = "clients"): what the controller plans for (service/demand.h).
  DemandModel demand_;
  RunSummary summary_;
  double intensity_sum_ = 0, threshold_sum_ = 0, last_threshold_w_ = 0;

  // Published state.
  struct ModelState {
    policy::TenantSpec spec;
    std::vector<std::string> versions;  // the variants (the family's when none are declared)
    std::string variant;                // served by the plan in force
    std::string infeasible;             // why the plan cannot hold its SLO; empty when it can
  };
  mutable std::mutex snap_mu_;
  std::map<std::string, ModelState> models_;  // guarded by snap_mu_
  std::atomic<bool> live_{false};
  StatusSnapshot snap_;
  std::string status_body_;
  std::string token_;

  std::thread loop_thread_;
  mutable std::mutex loop_mu_;  // intervals_run_, for WaitForIntervals
  mutable std::condition_variable loop_cv_;
  bool started_ = false, stopped_ = false;
  int64_t intervals_run_ = 0;
  std::string started_utc_;
};

}  // namespace ecomap::service
