// engine/engine.h: the real multi-tenant execution engine.
//
// Runs every tenant of an EngineSpec (engine/spec.h) as a pipeline: one worker thread per
// stage, pinned to the stage's unit (a CPU core here), fed by a bounded queue. Requests come
// from each tenant's source (open-loop Poisson or closed loop) and flow through the stages; the
// engine measures per-request latency from arrival to completion (queueing included), per-tenant
// counts and percentiles, and per-unit busy time (the input of a power model).
//
//   auto engine = std::make_unique<Engine>(MakeTorchExecutorFactory());
//   ECOMAP_RETURN_IF_ERROR(engine->Start(spec));          // validates first; on error nothing runs
//   ...
//   engine->Reconfigure(new_tenant_spec);                 // live: variant, cut points, units
//   EngineReport window = engine->TakeWindow();           // one control interval's figures
//   EngineReport final = engine->Shutdown(Milliseconds(2000));
//
// Accounting. Every request a source creates gets a per-tenant id (0, 1, 2, ...) and ends in
// exactly one outcome:
//   completed - it ran through every stage;
//   rejected  - refused at admission: the first stage's queue was full ("queue_full");
//   dropped   - admitted but abandoned: a drain deadline passed at shutdown or tenant removal
//               ("shutdown", "removed") or a stage failed ("error: ...").
// So submitted == completed + rejected + dropped + in_flight at any time, and in_flight is 0
// after Shutdown. Queues between stages apply back-pressure (a full queue blocks the upstream
// worker); only admission rejects.
//
// Client requests (Submit): a client's tensor is converted by the factory (FromTensor), admitted
// (or refused at once, see SubmitOptions), runs through the tenant's pipeline in force like a
// generated request (same queues, same accounting, migrated by a live Reconfigure with its own
// input kept), and its output activation comes back converted by ToTensor through a callback.
// Tenants whose source is `external` (engine/spec.h) run no generator: clients are their only
// load.
//
// Live reconfiguration (Reconfigure, Apply): the new pipeline is built and started while the
// old one keeps serving; then, atomically for the tenant's source, new arrivals go to the new
// pipeline and the requests still waiting in the old first queue (not started) move to the new
// one's first queue with their arrival time kept; requests already inside the old pipeline
// finish there (it is drained and joined before Reconfigure returns). Nothing is lost or run
// twice.
//
// Units: HostUnits() by default ("cpu0".."cpuN-1", the cores this process may use). A stage's
// worker is pinned to its unit with pthread_setaffinity_np. Several stages on one unit share it
// (the OS time-slices their workers). A unit's busy time is the wall time during which at least
// one stage on it was executing; its cpu time is the CPU time of those executions.
//
// Latencies are measured on std::chrono::steady_clock (real execution, not simulated); report
// start times come from the injected Clock.
//
// Thread-safety: all public methods are thread-safe. Control calls (Start, AddTenant,
// RemoveTenant, Reconfigure, SetOnlineUnits, Apply, Shutdown) are serialised with each other;
// Report and TakeWindow may run concurrently with them and with the workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "engine/executor.h"
#include "engine/spec.h"
#include "engine/stats.h"

namespace ecomap::engine {

struct EngineOptions {
  std::vector<UnitInfo> units;          // empty: HostUnits()
  bool pin_threads = true;              // pin stage workers to their unit's CPU
  bool record_requests = false;         // keep a RequestRecord per request (TakeRequestLog)
  const Clock* clock = nullptr;         // for report timestamps; nullptr: SystemClock
};

enum class Outcome { kCompleted, kRejected, kDropped };
const char* OutcomeName(Outcome o);

struct RequestRecord {
  std::string tenant;
  uint64_t id = 0;            // per tenant, from 0
  Outcome outcome = Outcome::kCompleted;
  std::string reason;         // empty for completed; "queue_full", "shutdown", "removed", "error: ..."
  double latency_ms = 0;      // arrival to completion (completed only)
  std::string model;          // the variant that served (or last held) it
  int generation = 0;         // the pipeline that served it (see ReconfigureReport)
};

struct TenantReport {
  std::string name;
  std::string model;          // current variant
  std::string pipeline;       // "0-5:cpu0|5-10:cpu1"
  SourceSpec source;
  SloSpec slo;
  bool active = true;         // false once removed or shut down
  uint64_t submitted = 0;
  uint64_t completed = 0;
  uint64_t rejected = 0;
  uint64_t dropped = 0;
  uint64_t in_flight = 0;     // admitted, not finished (cumulative reports only)
  std::map<std::string, uint64_t> rejected_by_reason;
  std::map<std::string, uint64_t> dropped_by_reason;
  LatencySummary latency;     // completed requests
  double slo_percentile_ms = 0;  // latency at slo.percentile
  double throughput_rps = 0;  // completed / active seconds in the period
  double active_s = 0;        // seconds the tenant was active in the period
  bool slo_met = true;        // slo_percentile_ms <= bound and throughput >= min (if completed > 0)
  int reconfigurations = 0;   // in the period
  int generation = 0;         // current pipeline
};

struct UnitReport {
  std::string name;
  int cpu_id = -1;
  bool online = true;
  int stages = 0;             // stages placed on it now (after Shutdown: when it stopped)
  double busy_ms = 0;         // wall time with >= 1 stage executing on it, in the period
  double cpu_ms = 0;          // CPU time of the stage executions on it, in the period
  double utilization = 0;     // busy_ms / period
};

struct EngineReport {
  TimePoint period_start;     // UTC
  double elapsed_s = 0;       // length of the period
  bool window = false;        // true: since the previous TakeWindow; false: since Start
  std::vector<TenantReport> tenants;
  std::vector<UnitReport> units;
};

// JSON of a report: {"measured": true, "window": bool, "period_start": ISO-8601, "elapsed_s",
// "tenants": [{"name", "model", "pipeline", "source", "active", "submitted", "completed",
// "rejected", "dropped", "in_flight", "rejected_reasons", "dropped_reasons", "p50_ms", "p95_ms",
// "p99_ms", "mean_ms", "max_ms", "slo_latency_ms", "slo_percentile", "slo_percentile_ms",
// "min_throughput_rps", "slo_met", "throughput_rps", "active_s", "reconfigurations",
// "generation"}], "units": [{"name", "cpu", "online", "stages", "busy_ms", "cpu_ms",
// "utilization"}]}.
nlohmann::json ToJson(const EngineReport& r);

// What a client's request (Engine::Submit) ends with; given to its callback exactly once.
struct SubmitResult {
  StatusOr<HostTensor> output = Status(StatusCode::kInternal, "not run");  // ToTensor's tensor,
                              // or: Unavailable (dropped at shutdown/removal), Internal (a stage
                              // failed or the conversion did)
  std::string model;          // the variant that served it
  int generation = 0;         // the pipeline that served it
  double latency_ms = 0;      // arrival (Submit) to completion, queueing included
};
using SubmitCallback = std::function<void(SubmitResult)>;

struct SubmitOptions {
  std::string output_name = "output";  // the name ToTensor gives the output
  // Admission: refuse at once (Unavailable, reason "slo_admission") when the estimated latency
  // of this request exceeds `slo_fraction` x the tenant's SLO bound. The estimate is
  //   (in_flight - 1/2) x (the bottleneck stage's service time + twice its deviation)
  //                                        (the requests ahead; the oldest is half served)
  //   + every stage's service time + twice the sum of their deviations   (its own, with noise),
  // a stage's time being the moving average of its measured service times and its deviation the
  // moving mean absolute deviation, on the pipeline in force (no estimate, hence no refusal,
  // until its first request finished). A tenant with nothing in flight always admits (its answer
  // refreshes the estimate). false: only a full queue refuses.
  bool check_slo = true;
  double slo_fraction = 0.7;   // margin for what the estimate misses: HTTP, the client, noise
};

struct ReconfigureReport {
  int old_generation = 0;
  int new_generation = 0;     // == old_generation when the pipeline was kept
  bool rebuilt = false;       // a new pipeline was built (variant, stages, seed or queue changed)
  uint64_t migrated = 0;      // not-started requests moved to the new pipeline
  uint64_t drained = 0;       // requests that finished in the old pipeline after the switch
  uint64_t dropped = 0;       // should be 0: requests abandoned in the old pipeline
  double build_ms = 0;        // building and starting the new pipeline (old one serving)
  double drain_ms = 0;        // draining the old pipeline after the switch
};

class Engine {
 public:
  explicit Engine(std::shared_ptr<ExecutorFactory> factory, EngineOptions options = {});
  // Shuts down with a 5 s drain deadline if still running.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const std::vector<UnitInfo>& units() const { return units_; }
  ExecutorFactory& factory() { return *factory_; }

  // Validates `spec` (engine/spec.h), builds every pipeline, then starts every source. On any
  // error nothing is running and the engine can be started again. FailedPrecondition if started.
  Status Start(EngineSpec spec);

  // Adds a tenant to a running engine. InvalidArgument on a duplicate name; validation errors
  // as in Start; nothing changes on error.
  Status AddTenant(PipelineSpec t);

  // Stops the tenant's source, drains its pipeline until `drain_deadline`, then drops what is
  // left (reason "removed"). Returns its final cumulative report; it stays in later reports as
  // inactive. NotFound for an unknown or already removed tenant.
  StatusOr<TenantReport> RemoveTenant(const std::string& name, Milliseconds drain_deadline);

  // Submits a client request to tenant `tenant`: converts `input` (ExecutorFactory::FromTensor
  // against the variant in force), admits it and returns. On Ok, `done` is called exactly once,
  // from an engine thread (a stage worker, or the thread removing the tenant / shutting down),
  // without engine locks held; it must be quick and must not call back into the engine's
  // control methods. On error `done` is never called:
  //   NotFound          no running tenant of that name
  //   InvalidArgument   the tensor does not fit the model (FromTensor's message)
  //   Unimplemented     the factory does not take client inputs
  //   Unavailable       refused at admission: the first queue is full ("queue_full") or the
  //                     estimate exceeds the SLO ("slo_admission"); `*retry_after_s` (when
  //                     non-null) receives the estimated seconds until it would be admitted
  //   FailedPrecondition the engine is not running
  // Refused requests count as submitted and rejected; conversion errors are not counted.
  Status Submit(const std::string& tenant, const HostTensor& input, SubmitCallback done,
                const SubmitOptions& options = {}, double* retry_after_s = nullptr);

  // Whether `tenant` is running with a pipeline (ready to take Submit).
  bool Serving(const std::string& tenant) const;

  // Changes a running tenant (matched by t.name) to `t`: variant, stages/units, seed or queue
  // capacity rebuild the pipeline (see the header comment); a changed source restarts the
  // source; a changed SLO only updates the figures. Validation errors leave it unchanged.
  StatusOr<ReconfigureReport> Reconfigure(PipelineSpec t);

  // Sets which units may host stages. FailedPrecondition, naming the tenant, if a running stage
  // sits on a unit that would go offline; NotFound for an unknown unit. Empty: every unit.
  Status SetOnlineUnits(std::vector<std::string> online);

  // Moves the engine to `desired`: validates it completely first (nothing changes on a
  // validation error), then brings new units online, reconfigures changed tenants, adds new
  // ones, removes missing ones (drain deadline 5 s) and takes units offline. Not atomic if a
  // pipeline fails to build midway: tenants changed before the failure stay changed.
  Status Apply(EngineSpec desired);

  // The current spec (resolved stage ends).
  EngineSpec spec() const;

  // Cumulative figures since Start.
  EngineReport Report() const;
  // Figures since the previous TakeWindow (or Start), with exact percentiles; starts a window.
  // There is one window per engine: let one consumer (the control loop) own it; others read
  // Report().
  EngineReport TakeWindow();

  // Stops every source, drains every pipeline until `drain_deadline`, drops what is left
  // (reason "shutdown"), joins every thread and returns the final cumulative report. Further
  // control calls fail with FailedPrecondition; calling Shutdown again returns the same report.
  EngineReport Shutdown(Milliseconds drain_deadline);

  // The records of finished requests since the previous call (options.record_requests).
  std::vector<RequestRecord> TakeRequestLog();

  struct Tenant;    // internal
  struct Pipeline;  // internal
  struct Unit;      // internal
  struct Request;   // internal

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  Status CheckRunning() const;
  StatusOr<std::shared_ptr<Pipeline>> BuildPipeline(const PipelineSpec& t, Tenant* tenant);
  void StartSource(Tenant* t);
  void StopSource(Tenant* t);
  // Closes `p`, waits until it is empty or `deadline`, drops the rest with `reason`, joins.
  uint64_t DrainAndJoin(Pipeline* p, SteadyTime deadline, const std::string& reason);
  Status AddTenantLocked(PipelineSpec t);
  StatusOr<TenantReport> RemoveTenantLocked(const std::string& name, Milliseconds drain_deadline);
  StatusOr<ReconfigureReport> ReconfigureLocked(PipelineSpec t);
  std::shared_ptr<Tenant> FindActive(const std::string& name) const;
  EngineReport MakeReport(bool window, bool reset_window) const;

  std::shared_ptr<ExecutorFactory> factory_;
  EngineOptions options_;
  std::vector<UnitInfo> units_;
  std::vector<std::unique_ptr<Unit>> unit_state_;
  const Clock* clock_;

  std::mutex control_mu_;            // serialises control calls
  mutable std::mutex tenants_mu_;    // guards tenants_, online_, state fields below
  std::vector<std::shared_ptr<Tenant>> tenants_;   // active and removed, in insertion order
  std::vector<std::string> online_;  // empty: all
  bool started_ = false;
  bool stopped_ = false;
  int next_generation_ = 1;
  SteadyTime start_time_{};
  mutable SteadyTime window_start_{};
  SteadyTime stop_time_{};
  TimePoint start_utc_{};
  mutable TimePoint window_start_utc_{};
  std::unique_ptr<EngineReport> final_report_;

  std::mutex log_mu_;
  std::vector<RequestRecord> log_;

  // Internal hooks used by the workers and sources (nested types reach them).
  void Finish(Pipeline& p, Request& r, Outcome outcome, const std::string& reason,
              Status error = Status::Ok());
  void SubmitLocked(Tenant* t, SteadyTime arrival);  // REQUIRES: t->mu held
  void SourceLoop(Tenant* t, uint64_t seed);
  void WorkerLoop(Pipeline* p, size_t stage);
};

}  // namespace ecomap::engine
