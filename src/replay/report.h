// replay/report.h: what a replay prints and writes.
//
//   * FormatTextReport: one table row per controller (carbon g, energy Wh, mean CDP, SLO
//     violations %, accuracy loss pts, mode switches, replans, decision ms), a per-tenant p95
//     table, and `reference`'s savings (default "ecomap") against every other controller in %.
//     Every figure is labelled "simulated (<platform>)".
//   * ReplayToJson: the machine-readable result (format below).
//   * WriteHtmlReport: DIR/index.html, a self-contained page with inline SVG charts
//     (carbon/plot_svg.h) over time: carbon intensity, power threshold per controller, power per
//     controller, cumulative carbon per controller, the accuracy of the variant in service per
//     tenant (the reference controller), and the summary tables; after a sweep
//     (ReportOptions::sweep_points) also a Pareto chart, accuracy loss (x) against carbon (y):
//     a curve per swept controller, every controller's default run as a labelled square, the
//     bound's curve (dashed), and the equal-accuracy table; plus DIR/replay.json (ReplayToJson
//     with intervals). Files are written atomically (temporary + rename).
//
// JSON format ("format": "ecomap.replay", "version": 1):
//   { "format", "version", "provenance": "simulated (xavier-sim)",
//     "definitions": { "cdp": ..., "slo_violation_rate": ..., "accuracy_loss_pts": ..., ... },
//     "trace": {"name", "zone", "attribution"}, "scenario": {...caller's metadata...},
//     "window": {"start", "end" (ISO-8601 UTC, end exclusive), "days", "interval_min", "steps"},
//     "forecast": bool, "seed", "noise", "predictor": ...caller's,
//     "controllers": { NAME: { "carbon_g", "energy_wh", "mean_power_w", "cdp" (gCO2eq*s per
//         inference), "carbon_per_inference_g", "inferences", "slo_violation_rate" (0..1),
//         "slo_violations", "tenant_intervals", "accuracy_loss_pts", "mode_switches", "replans",
//         "threshold_raises", "decision_ms", "decision_ms_p95", "decision_ms_max", "good_requests",
//         "dropped_requests", "carbon_per_1k_good_g",
//         "p95_ms": {TENANT: ms}, "tenants": {TENANT: {"slo_ms", "p95_ms", "mean_p95_ms",
//         "max_p95_ms", "violations", "accuracy_loss_pts", "variants": {MODEL: intervals}}},
//         ["intervals": [{"time", "intensity", "threshold_w", "mode", "power_w", "energy_wh",
//           "carbon_g", "cdp", "accuracy_loss_pts", "decision_ms", "replanned",
//           "threshold_raised", "reason", "tenants": [{"name", "variant", "p95_ms",
//           "throughput_rps", "offered_rps", "saturated", "slo_violated"}]}] ] } },
//     "savings": { "reference": "ecomap", "vs": { NAME: {"carbon_pct", "energy_pct", "cdp_pct"} } },
//     "bound": {"definition", "at": { NAME: {"budget_pts", "feasible", "carbon_g", "lower_bound_g",
//         "accuracy_loss_pts", "infeasible_intervals", "controller_carbon_g",
//         "controller_above_bound_pct"} },
//               "searched": {"evals_per_search" (0: none searched), "prices", "per_demand",
//                 "max_stages", "demands", "searches", "evaluations", "measured", "seed"} },
//               (two or more controllers; replay/bound.h, replay/bound_search.h)
//     "pareto": {...}, "equal_accuracy": {...} }   (after a sweep; replay/sweep.h)
//
// Thread-safety: pure functions, except WriteHtmlReport which writes files.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/file.h"
#include "core/status.h"
#include "replay/replay.h"

namespace ecomap::replay {

// The one-line definitions printed beside the figures (text, JSON, HTML, docs).
inline constexpr const char* kCdpDefinition =
    "CDP = mean over intervals of the mean over tenants of c x p95_i, with c = P x CI / sum of "
    "throughputs (gCO2eq per inference); gCO2eq*s per inference";
inline constexpr const char* kSloDefinition =
    "SLO violation = a tenant-interval whose measured p95 exceeds its SLO, whose queue saturated or "
    "whose throughput fell under its minimum; rate = violations / tenant-intervals";
inline constexpr const char* kAccuracyDefinition =
    "accuracy loss = best allowed variant's published accuracy minus the served one's, in points, "
    "weighted by offered requests over tenants and intervals";

inline constexpr const char* kBoundDefinition =
    "bound = per interval, the lowest-carbon of its candidates that held every SLO, picked over the whole "
    "window within a request-weighted accuracy-loss budget (each controller's own loss); the candidates "
    "are the replayed controllers' measured choices and the configurations searched in hindsight per "
    "demand on the noise-free simulator, measured in the interval as a controller's choice is "
    "(\"searched\"; replay/bound_search.h); carbon_g is the best plan found, never above a controller "
    "that held every SLO, and lower_bound_g the Lagrangian dual, never above the optimum over the "
    "candidates; switching between candidates is free for it (replay/bound.h)";

struct ReportOptions {
  std::string reference = "ecomap";  // whose savings are shown against the others
  nlohmann::json scenario = nlohmann::json::object();  // metadata: name, file, tenants
  std::string predictor;             // the controllers' predictor name
  std::string trace_file;
  // `ecomap replay --sweep N`: N > 0 when the result holds swept runs ("NAME@KNOB",
  // replay/sweep.h). Then the JSON gets "pareto" and "equal_accuracy" and the HTML page a Pareto
  // chart (accuracy loss against carbon) and the equal-accuracy table.
  int sweep_points = 0;
};

std::string FormatTextReport(const ReplayResult& result, const ReportOptions& options);

nlohmann::json ReplayToJson(const ReplayResult& result, const ReportOptions& options, bool with_intervals);

// Creates DIR (and parents) when missing and writes DIR/index.html and DIR/replay.json.
Status WriteHtmlReport(const ReplayResult& result, const ReportOptions& options, const std::string& dir);

// The page alone (for tests).
StatusOr<std::string> RenderHtmlReport(const ReplayResult& result, const ReportOptions& options);

}  // namespace ecomap::replay
