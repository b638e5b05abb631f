// service/daemon.h: the live carbon-aware loop behind `ecomap serve`.
//
// Every control interval:
//   carbon reading (configured source, fallback chain)  ->  controller Step (policy/controller.h)
//   -> platform mode (ApplyMode where the platform can) + engine Apply (tenants added, removed,
//      reconfigured live; engine/engine.h)  ->  wait the interval  ->  measurements: the engine's
//   window (p50/p95 per tenant, throughput, completed/rejected, per-unit busy time) and the
//   platform's ReadPower (on failure: the host power model from the engine's busy time, or the
//   controller's predicted power elsewhere, labelled "modelled" with power_fallback=true)
//   -> the interval, its decision(s) and carbon reading committed to the history in one
//   transaction (service/history.h)  ->  the next Step gets the measurements.
// API calls that change tenants (and SIGHUP reloads, and /replan) decide and apply at once,
// between interval boundaries; their decisions are committed with the interval they fall in.
//
// Units: the controller decides for the configured platform. On "host" the platform's units are
// the engine's units ("cpu0", ...). On other platforms (xavier-sim, jetson) the tenants still run
// on this machine's engine: a stage on the platform's unit #i runs on engine unit #(i mod n), and
// power comes from the platform (simulated on xavier-sim).
//
//   DaemonDeps deps;  deps.executors = engine::MakeTorchExecutorFactory();
//   deps.make_controller = policy::MakeController;
//   ECOMAP_ASSIGN_OR_RETURN(auto d, Daemon::Create(config, std::move(deps)));
//   ECOMAP_RETURN_IF_ERROR(d->Start());      // history, API server, loop thread
//   ...  d->Reload(new_config);  ...  d->Stop();
//
// Thread-safety: all public methods are thread-safe (the API server calls them concurrently).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <iosfwd>
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
#include "estimator/predictor.h"
#include "platform/platform.h"
#include "policy/controller.h"
#include "service/api.h"
#include "service/config.h"
#include "service/history.h"

namespace ecomap::service {

class HttpServer;

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
struct RunSummary {
  int64_t intervals = 0;           // this run
  int64_t decisions = 0, replans = 0;
  double energy_j = 0, carbon_g = 0;     // this run
  double mean_intensity = 0;             // over this run's intervals
  double mean_threshold_w = 0;
  int64_t completed = 0, rejected = 0, slo_violations = 0;  // this run
  std::string power_source;              // of the last interval
  int64_t power_fallback_intervals = 0, carbon_fallback_intervals = 0;
};

class Daemon {
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
  nlohmann::json Tenants() const;
  StatusOr<nlohmann::json> Decisions(int64_t since, int limit) const;
  StatusSnapshot Snapshot() const;
  std::string StatusBody() const;   // /status, cached after each change
  std::string MetricsBody() const;  // /metrics

  int port() const;                 // the API's bound port (0 before Start / without API)
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
  Status DecideAndApplyLocked(const std::string& trigger);
  void MeasureAndCommitLocked(TimePoint start, double elapsed_s);
  Status ReadCarbonLocked();
  engine::EngineSpec ToEngineSpec(const platform::Configuration& c) const;
  std::string MapUnit(const std::string& platform_unit) const;
  void RefreshSnapshotLocked();
  void PrintLine(const IntervalRow& row);

  ServeConfig config_;
  DaemonDeps deps_;
  const Clock* clock_;
  const platform::PlatformInfo& ControllerPlatform();
  std::unique_ptr<platform::Platform> platform_;
  std::unique_ptr<carbon::CarbonSource> carbon_;
  std::function<TimePoint(TimePoint)> signal_time_;  // wall -> the carbon signal's time
  std::string primary_source_;                        // the configured provider's name
  std::shared_ptr<const estimator::Predictor> predictor_, oracle_;
  std::unique_ptr<policy::Controller> controller_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<History> history_;
  std::unique_ptr<HttpServer> server_;

  // Control state, guarded by control_mu_.
  mutable std::mutex control_mu_;
  std::vector<policy::TenantSpec> tenants_;
  std::optional<carbon::CarbonReading> reading_;
  std::vector<GramsPerKwh> forecast_;
  std::optional<platform::Performance> last_measured_;
  std::optional<policy::Decision> decision_;        // in force
  std::vector<DecisionRow> pending_decisions_;      // of the interval in progress
  bool engine_started_ = false;
  bool config_changed_mid_interval_ = false;
  int applied_mode_ = -1;
  // What the controller decides over: the platform, restricted to the mode in force when modes
  // are not applied ([serve] apply_mode = false), so its plans match what really runs.
  platform::PlatformInfo controller_info_;
  bool mode_applied_ = true;
  std::string mode_note_;
  int64_t next_interval_ = 0;
  std::map<std::string, TenantState> tenant_state_;  // per tenant, this run
  RunSummary summary_;
  double intensity_sum_ = 0, threshold_sum_ = 0;

  // Published state.
  mutable std::mutex snap_mu_;
  StatusSnapshot snap_;
  std::string status_body_;
  std::string token_;

  std::thread loop_;
  mutable std::mutex loop_mu_;
  mutable std::condition_variable loop_cv_;
  bool stop_ = false;
  bool started_ = false, stopped_ = false;
  double interval_s_ = 60;
  int64_t intervals_run_ = 0;
  std::string started_utc_;
};

}  // namespace ecomap::service
