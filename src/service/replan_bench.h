// service/replan_bench.h: what a re-plan costs the tenants being served beside it
// (`ecomap serve --bench-replan`).
//
// A re-plan is a search (policy/controllers/ecomap.h) on the daemon's own cores, while the
// engine serves the tenants. The bench takes a started daemon with its API listener and, for
// `pairs` pairs, runs two phases of `seconds` each on the same configuration in force:
//   quiet       the tenants' load only;
//   replanning  the same load while one thread re-plans back to back for the whole phase
//               (Daemon::ShadowPlan: a fresh controller's full plan, the heaviest kind, at the
//               planners' priority, kPlannerNice; nothing applied, so the configuration in
//               force stays the same and only the search's interference is measured).
// Quiet first in even pairs, replanning first in odd ones, so a drift of the machine's load
// favours neither. The load: each tenant at its declared rate (open-loop Poisson) or
// concurrency (closed loop) through the REST listener with loadgen's client (binary tensors),
// a fresh load run per phase after `warmup_s` of load in each phase. Per tenant and pair the
// figure is p95 replanning / p95 quiet (the client's latency of the successes); the verdict
// takes the median over the pairs against `goal_ratio` (1.10: within 10%). Continuous
// re-planning is far more than the daemon does (one search per interval at most, a few tens
// of ms), so the bench bounds the interference from above.
//
// Thread-safety: runs its own threads; call from one thread at a time.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/loadgen.h"

namespace ecomap::service {

class Daemon;

struct ReplanBenchOptions {
  double seconds = 8;        // measured seconds per phase
  double warmup_s = 1;       // load before each phase's measurement
  int pairs = 5;             // (quiet, replanning) pairs
  double goal_ratio = 1.10;  // median p95 replanning / quiet per tenant
  std::function<void(const std::string&)> progress;  // a line per phase; may be empty
};

struct ReplanPhase {
  bool replanning = false;
  double seconds = 0;
  int plans = 0;              // full plans completed in the phase (replanning only)
  double plan_ms_mean = 0;    // their mean wall time
  std::string plan_error;     // the first failed plan's message, if any
  std::vector<ModelStats> tenants;  // loadgen's figures per tenant
};

struct ReplanTenant {
  std::string name;
  std::vector<double> quiet_p95_ms, replanning_p95_ms, ratios;  // per pair
  double quiet_p95_ms_median = 0, replanning_p95_ms_median = 0, ratio_median = 0;
  uint64_t quiet_refused = 0, replanning_refused = 0;  // refusals (503) over all phases
  bool pass = false;
};

struct ReplanBenchResult {
  ReplanBenchOptions options;
  std::string configuration;  // the mode and every tenant's variant and pipeline in force
  std::vector<ReplanPhase> quiet, replanning;  // one per pair
  std::vector<ReplanTenant> tenants;
  int plans = 0;
  double plan_ms_mean = 0;
  bool pass = false;
};

// Runs the bench on `daemon` (started, with its API listener on 127.0.0.1). Errors: no tenants,
// no listener, a plan that fails in every phase, the load failing to start.
StatusOr<ReplanBenchResult> RunReplanBench(Daemon& daemon, const ReplanBenchOptions& options);

// {"configuration", "options", "plans", "plan_ms_mean", "tenants": [{"name", "quiet_p95_ms",
//  "replanning_p95_ms", "ratio", "pairs": [{"quiet_p95_ms", "replanning_p95_ms", "ratio"}],
//  "quiet_refused", "replanning_refused", "pass"}], "goal_ratio", "pass"}
nlohmann::json ToJson(const ReplanBenchResult& r);
std::string FormatReplanBench(const ReplanBenchResult& r);  // the table and the verdict

}  // namespace ecomap::service
