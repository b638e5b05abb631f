// service/api.h: the pure parts of the daemon's HTTP API: request parsing, authorisation,
// error mapping, the /status JSON and the /metrics text (Prometheus exposition format 0.0.4).
// No sockets here (service/http_server.h serves them), so every function is unit- and
// fuzz-tested without a server.
//
// Endpoints (JSON in and out; errors are {"error": "<message>", "code": "<StatusCode name>"}):
//   GET    /status                 mode, threshold, carbon reading + source/staleness, power +
//                                  source, per-tenant SLO state, totals
//   GET    /metrics                Prometheus text (see RenderMetrics)
//   GET    /decisions?since=ID&limit=N   decisions with id > ID (default 0), oldest first, N <= 1000
//   GET    /tenants                the declared tenants and what serves them now
//   POST   /tenants                body: {"name", "family", "variants": [...], "slo_ms",
//                                  "rate_rps" | "concurrency", "min_throughput_rps",
//                                  "models": [{"name", "torchscript", "accuracy", "input_shape",
//                                  "input_dtype", "split", "accuracy_metric"}]} -> 201
//                                  (models: the tenant's own TorchScript files, zoo/torchscript.h;
//                                  relative paths against the config file's folder; loaded and
//                                  measured before the answer: a missing file 404, a malformed
//                                  one 400, a model name taken by another file 409)
//   DELETE /tenants/NAME           -> 200
//   POST   /replan                 discard the controller's state and plan again -> 200
// Mutating calls (POST, DELETE) need "Authorization: Bearer <token>" (401 when missing, 403 when
// wrong or when no token is configured). Bodies over the size limit get 413, over the rate
// limit 429; malformed JSON, wrong types, unknown keys, negative SLO: 400; unknown family or
// model: 404; an existing tenant name: 409.
//
// Thread-safety: pure functions; RateLimiter is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "policy/controller.h"

namespace ecomap::service {

// Parses and validates a POST /tenants body (see above; unknown keys are an error). Never
// throws; InvalidArgument / NotFound naming the key or value and the fix.
StatusOr<policy::TenantSpec> ParseTenantRequest(std::string_view body);
// The "since" / "limit" query values of /decisions ("" -> default). InvalidArgument otherwise.
StatusOr<int64_t> ParseSinceParam(std::string_view text);
StatusOr<int> ParseLimitParam(std::string_view text);
// The tenant name at the end of "/tenants/NAME" (percent-decoded, validated).
StatusOr<std::string> ParseTenantPath(std::string_view path);

// Ok when `authorization` is "Bearer <token>" with the configured token (constant-time compare).
// Unauthenticated when missing/malformed, PermissionDenied when wrong or no token is configured.
Status CheckBearer(std::string_view authorization, const std::string& token);

// HTTP status for an error Status: InvalidArgument 400, Unauthenticated 401, PermissionDenied 403,
// NotFound 404, FailedPrecondition 409, ResourceExhausted 429 (413 is set by the server for
// bodies), Unavailable 503, others 500.
int HttpStatusFor(const Status& s);
// {"error": message, "code": "InvalidArgument"}.
std::string ErrorJson(const Status& s);
std::string ErrorJson(int http_status, const std::string& message);

// Token bucket: `rate` tokens per second, `burst` at most. Allow() takes one token.
class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst);
  bool Allow();
  void Reset(double rate_per_s, double burst);

 private:
  std::mutex mu_;
  double rate_, burst_, tokens_;
  std::chrono::steady_clock::time_point last_;
};

// What /status and /metrics show; built by the daemon after each interval and decision.
struct TenantState {
  std::string name, family, model, pipeline, arrival;  // arrival: "open" | "closed"
  double rate_rps = 0;
  int concurrency = 0;
  double slo_ms = 0;
  double p50_ms = 0, p95_ms = 0, throughput_rps = 0;  // last interval (measured)
  bool slo_met = true;                                 // last interval
  bool measured = false;                               // false until it ran one interval
  int64_t completed_total = 0, rejected_total = 0, slo_violations_total = 0;  // since the history began
  // With client load: the rate the controller plans for and where it comes from ("declared",
  // "declared+observed", "observed", "observed+profile"; service/demand.h); rate_rps is declared.
  double planned_rate_rps = 0;
  std::string demand_source;
};

struct StatusSnapshot {
  std::string time_utc, started_utc, platform, controller, version;
  int64_t interval = 0;              // intervals committed in total (next interval's id)
  int64_t intervals_this_run = 0;
  double interval_s = 0;
  // Carbon.
  double intensity_g_per_kwh = 0;
  std::string carbon_source, carbon_note, carbon_reading_utc;
  bool carbon_stale = false;
  bool carbon_fallback = false;      // a fallback (forecast/last-known/trace) served, not the primary
  double carbon_age_s = 0;           // signal time now - the reading's time
  bool carbon_ok = false;            // a reading was obtained at least once
  // Power.
  double power_w = 0;
  std::string power_source;          // "measured" | "modelled" | "simulated"
  bool power_fallback = false;       // the platform's reading failed; the power model served
  std::string power_note;
  // Decision.
  double threshold_w = 0;
  int mode = 0;
  std::string mode_name;
  bool mode_applied = true;
  std::string mode_note;
  std::string mode_knob;             // what the power knob holds in force ([serve] power_knob)
  std::string last_reason;
  int64_t decisions_total = 0, replans_total = 0;
  // Totals (energy and carbon continue across restarts from the history).
  double energy_j_total = 0, carbon_g_total = 0;
  int64_t completed_total = 0, rejected_total = 0, slo_violations_total = 0;
  std::vector<TenantState> tenants;
};

nlohmann::json ToJson(const StatusSnapshot& s);
// Prometheus text exposition format (# HELP / # TYPE lines, labels escaped). Metrics:
//   ecomap_carbon_intensity_grams_per_kwh{source}   gauge
//   ecomap_carbon_reading_stale, ecomap_carbon_fallback            gauge 0/1
//   ecomap_carbon_reading_age_seconds                               gauge
//   ecomap_power_watts{source}                                      gauge ("measured"|"modelled"|"simulated")
//   ecomap_power_fallback                                           gauge 0/1
//   ecomap_power_threshold_watts, ecomap_power_mode                 gauge
//   ecomap_power_mode_info{name}                                    gauge 1
//   ecomap_tenant_latency_seconds{tenant,quantile="0.5"|"0.95"}     gauge (last interval)
//   ecomap_tenant_slo_seconds{tenant}, ecomap_tenant_throughput_requests_per_second{tenant}
//   ecomap_tenant_slo_met{tenant}                                   gauge 0/1
//   ecomap_slo_violations_total{tenant}                             counter (intervals over the SLO)
//   ecomap_requests_completed_total{tenant}, ecomap_requests_rejected_total{tenant}  counter
//   ecomap_energy_joules_total, ecomap_carbon_grams_total           counter (since the history began)
//   ecomap_intervals_total, ecomap_decisions_total, ecomap_replans_total   counter
std::string RenderMetrics(const StatusSnapshot& s);
// Escapes a Prometheus label value (\\, \", \n).
std::string EscapeLabel(std::string_view v);

}  // namespace ecomap::service
