#include "replay/report.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "carbon/plot_svg.h"
#include "replay/sweep.h"
#include "zoo/model.h"

namespace ecomap::replay {
namespace {

// The bound's searched candidates (replay/bound_search.h): how they were searched.
nlohmann::json SearchedJson(const SearchedCandidates& s) {
  if (s.options.evals == 0 || s.demands == 0) return {{"evals_per_search", 0}};
  return {{"evals_per_search", s.options.evals},
          {"prices", s.options.prices},
          {"per_demand", s.options.per_demand},
          {"max_stages", s.options.max_stages},
          {"demands", s.demands},
          {"searches", s.searches},
          {"evaluations", s.evaluations},
          {"measured", s.measured},
          {"seed", s.options.seed}};
}

std::string Label(const ReplayResult& r) {
  return (r.provenance.empty() ? std::string("simulated") : r.provenance) + " (" + r.platform + ")";
}

double Minutes(Duration d) { return std::chrono::duration<double, std::ratio<60>>(d).count(); }

const char* kPalette[] = {"#0f766e", "#dc2626", "#2563eb", "#d97706", "#7c3aed", "#4b5563", "#db2777", "#65a30d"};
std::string ColorOf(size_t i) { return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))]; }

nlohmann::json ControllerJson(const ControllerSummary& c, bool with_intervals) {
  nlohmann::json j;
  j["carbon_g"] = c.carbon_g;
  j["energy_wh"] = c.energy_wh;
  j["mean_power_w"] = c.mean_power_w;
  j["cdp"] = c.cdp_g_s;
  j["carbon_per_inference_g"] = c.carbon_per_inference_g;
  j["inferences"] = c.inferences;
  j["slo_violation_rate"] = c.slo_violation_rate;
  j["slo_violations"] = c.slo_violations;
  j["tenant_intervals"] = c.tenant_intervals;
  j["accuracy_loss_pts"] = c.accuracy_loss_pts;
  j["mode_switches"] = c.mode_switches;
  j["replans"] = c.replans;
  j["threshold_raises"] = c.threshold_raises;
  j["decision_ms"] = c.decision_ms;
  j["decision_ms_p95"] = c.decision_ms_p95;
  j["good_requests"] = c.good_requests;
  j["dropped_requests"] = c.dropped_requests;
  j["carbon_per_1k_good_g"] = c.carbon_per_1k_good_g;
  j["decision_ms_max"] = c.decision_ms_max;
  nlohmann::json p95 = nlohmann::json::object(), tenants = nlohmann::json::object();
  for (const TenantSummary& t : c.tenants) {
    p95[t.name] = t.p95_ms;
    tenants[t.name] = {{"slo_ms", t.slo_ms},
                       {"p95_ms", t.p95_ms},
                       {"mean_p95_ms", t.mean_p95_ms},
                       {"max_p95_ms", t.max_p95_ms},
                       {"violations", t.violations},
                       {"accuracy_loss_pts", t.accuracy_loss_pts},
                       {"variants", t.variant_intervals}};
  }
  j["p95_ms"] = p95;
  j["tenants"] = tenants;
  if (with_intervals) {
    nlohmann::json arr = nlohmann::json::array();
    for (const IntervalRecord& r : c.intervals) {
      nlohmann::json ts = nlohmann::json::array();
      for (const TenantInterval& t : r.tenants) {
        ts.push_back({{"name", t.name},
                      {"variant", t.variant},
                      {"p95_ms", t.p95_ms},
                      {"throughput_rps", t.throughput_rps},
                      {"offered_rps", t.offered_rps},
                      {"saturated", t.saturated},
                      {"slo_violated", t.slo_violated}});
      }
      arr.push_back({{"time", FormatIso8601(r.time)},
                     {"intensity", r.intensity_g_per_kwh},
                     {"threshold_w", r.threshold_w},
                     {"mode", r.power_mode},
                     {"power_w", r.power_w},
                     {"energy_wh", r.energy_wh},
                     {"carbon_g", r.carbon_g},
                     {"cdp", r.cdp_g_s},
                     {"accuracy_loss_pts", r.accuracy_loss_pts},
                     {"decision_ms", r.decision_ms},
                     {"replanned", r.replanned},
                     {"threshold_raised", r.threshold_raised},
                     {"reason", r.reason},
                     {"tenants", ts}});
    }
    j["intervals"] = arr;
  }
  return j;
}

std::string HtmlEscape(const std::string& s) { return carbon::XmlEscape(s); }

// A step series holds its last value to the end of the window.
void CloseStep(carbon::LineSeries* l, TimePoint end) {
  if (!l->points.empty() && l->points.back().time < end) l->points.push_back({end, l->points.back().value});
}

// What each swept controller's knob is (the legend says which knob drew the curve).
std::string KnobName(const std::string& controller) {
  if (controller == "ecomap") return "threshold depth";
  if (controller == "energy") return "threshold position";
  if (controller == "clover") return "lambda";
  return "knob";
}

// After a sweep: the Pareto chart (accuracy loss on x, carbon on y) and the equal-accuracy
// table, from the same "pareto" / "equal_accuracy" objects as the JSON, so the page and the
// JSON cannot disagree. Empty when the result holds no swept run.
StatusOr<std::string> ParetoSection(const ReplayResult& r, const ReportOptions& o, const std::string& label) {
  if (o.sweep_points <= 0) return std::string();
  const nlohmann::json sweep = SweepJson(r, o.sweep_points, o.reference);
  const nlohmann::json& pareto = sweep["pareto"];
  carbon::XYChart c;
  c.title = "Carbon against accuracy loss, " + label;
  c.subtitle = fmt::format("lines: each swept controller at {} settings of its accuracy knob; squares: every "
                           "controller at its default setting; dashed: the hindsight bound",
                           o.sweep_points);
  c.x_label = "accuracy loss (points, request-weighted), " + label;
  c.y_label = "carbon (gCO2eq), " + label;
  c.footnote = "All device figures " + label + ". " + r.attribution;
  c.height_px = 520;
  std::map<std::string, std::string> colors;
  for (const auto& [name, points] : pareto.items()) {
    if (name == "bound") continue;
    // The controller's colour in the charts over time (its place among the runs).
    size_t index = colors.size();
    for (size_t i = 0; i < r.controllers.size(); ++i) {
      if (r.controllers[i].name == name) index = i;
    }
    colors[name] = ColorOf(index);
    carbon::XYSeries s{.label = name + " (" + KnobName(name) + ")", .color = colors[name]};
    for (const nlohmann::json& p : points) {
      s.points.push_back({p["accuracy_loss_pts"].get<double>(), p["carbon_g"].get<double>()});
    }
    c.series.push_back(std::move(s));
  }
  if (c.series.empty()) return std::string();
  if (pareto.contains("bound")) {
    carbon::XYSeries s{.label = "bound (loss budget)", .color = "#111827", .width_px = 1.4, .dashed = true};
    for (const nlohmann::json& p : pareto["bound"]) {
      s.points.push_back({p["accuracy_loss_pts"].get<double>(), p["carbon_g"].get<double>()});
    }
    c.series.push_back(std::move(s));
  }
  for (const ControllerSummary& k : r.controllers) {
    if (k.name.find('@') != std::string::npos) continue;
    c.series.push_back({.points = {{k.accuracy_loss_pts, k.carbon_g, k.name}},
                        .color = colors.count(k.name) ? colors[k.name] : "#4b5563",
                        .line = false,
                        .square_markers = true});
  }
  ECOMAP_ASSIGN_OR_RETURN(std::string svg, carbon::RenderXYSvg(c));
  std::string h = "<h2>Carbon against accuracy loss (" + HtmlEscape(label) + ")</h2>\n<figure>" + svg + "</figure>\n";
  if (sweep.contains("equal_accuracy")) {
    const nlohmann::json& ea = sweep["equal_accuracy"];
    const std::string ref = ea["reference"].get<std::string>();
    h += fmt::format(
        "<h3>At equal accuracy: {}'s loss ({:.2f} pts), each curve's lower envelope, the bounds solved "
        "there</h3>\n<table><tr>"
        "<th>curve</th><th>its carbon g at that loss</th><th>{} g</th><th>{} saves</th></tr>\n",
        HtmlEscape(ref), ea["accuracy_loss_pts"].get<double>(), HtmlEscape(ref), HtmlEscape(ref));
    for (const auto& [name, v] : ea["vs"].items()) {
      // The bound needs no interpolation: it was solved at exactly the reference's loss (the
      // line between two of its budgets lies above it where its curve bends).
      const auto b = std::find_if(r.bounds.begin(), r.bounds.end(), [&](const auto& e) { return e.first == ref; });
      if (name == "bound" && b != r.bounds.end()) {
        h += b->second.feasible
                 ? fmt::format("<tr><td>bound (solved at that loss)</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.1f}%</td>"
                               "</tr>\n",
                               b->second.carbon_g, ea["carbon_g"].get<double>(),
                               SavingPct(ea["carbon_g"].get<double>(), b->second.carbon_g))
                 : std::string("<tr><td>bound</td><td colspan=\"3\">no plan holds every SLO within that loss</td></tr>\n");
        continue;
      }
      if (!v["covered"].get<bool>()) {
        h += "<tr><td>" + HtmlEscape(name) + "</td><td colspan=\"3\">not covered (the curve does not reach that "
             "accuracy loss)</td></tr>\n";
        continue;
      }
      h += fmt::format("<tr><td>{}</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.1f}%</td></tr>\n", HtmlEscape(name),
                       v["carbon_g"].get<double>(), ea["carbon_g"].get<double>(), v["saving_pct"].get<double>());
    }
    h += "</table>\n";
  }
  return h;
}

}  // namespace

nlohmann::json ReplayToJson(const ReplayResult& r, const ReportOptions& o, bool with_intervals) {
  nlohmann::json j;
  j["format"] = "ecomap.replay";
  j["version"] = 1;
  j["provenance"] = Label(r);
  j["definitions"] = {{"cdp", kCdpDefinition},
                      {"slo_violation_rate", kSloDefinition},
                      {"accuracy_loss_pts", kAccuracyDefinition},
                      {"carbon_g", "sum over intervals of E[kWh] x CI, E = measured power x interval"},
                      {"p95_ms", "95th percentile over intervals of the tenant's measured interval p95"},
                      {"decision_ms", "mean wall time of one controller step on this machine"},
                      {"good_requests", "requests served in tenant-intervals that met their SLO (an interval "
                                        "that broke it counts none)"},
                      {"dropped_requests", "open-loop requests offered but not served in their interval"},
                      {"carbon_per_1k_good_g", "carbon_g per 1000 good_requests"}};
  j["trace"] = {{"name", r.trace_name}, {"zone", r.zone}, {"attribution", r.attribution}, {"file", o.trace_file}};
  j["scenario"] = o.scenario;
  j["window"] = {{"start", FormatIso8601(r.start)},
                 {"end", FormatIso8601(r.end)},
                 {"days", r.days},
                 {"interval_min", Minutes(r.interval)},
                 {"steps", r.steps}};
  j["forecast"] = r.forecast;
  j["seed"] = r.seed;
  j["noise"] = r.noise;
  j["platform"] = r.platform;
  j["predictor"] = o.predictor;
  nlohmann::json cs = nlohmann::json::object();
  for (const ControllerSummary& c : r.controllers) cs[c.name] = ControllerJson(c, with_intervals);
  j["controllers"] = cs;
  if (const ControllerSummary* ref = r.Find(o.reference)) {
    nlohmann::json vs = nlohmann::json::object();
    for (const ControllerSummary& c : r.controllers) {
      if (c.name == ref->name) continue;
      vs[c.name] = {{"carbon_pct", SavingPct(ref->carbon_g, c.carbon_g)},
                    {"energy_pct", SavingPct(ref->energy_wh, c.energy_wh)},
                    {"cdp_pct", SavingPct(ref->cdp_g_s, c.cdp_g_s)}};
    }
    j["savings"] = {{"reference", ref->name}, {"vs", vs}};
  }
  if (!r.bounds.empty()) {
    nlohmann::json at = nlohmann::json::object();
    for (const auto& [name, b] : r.bounds) {
      const ControllerSummary* c = r.Find(name);
      if (!b.feasible) {
        at[name] = {{"budget_pts", b.budget_pts}, {"feasible", false}};
        continue;
      }
      at[name] = {{"budget_pts", b.budget_pts},
                  {"feasible", true},
                  {"carbon_g", b.carbon_g},
                  {"lower_bound_g", b.lower_bound_g},
                  {"accuracy_loss_pts", b.accuracy_loss_pts},
                  {"infeasible_intervals", b.infeasible_intervals},
                  {"controller_carbon_g", c ? c->carbon_g : 0},
                  {"controller_above_bound_pct", c && b.carbon_g > 0 ? 100.0 * (c->carbon_g / b.carbon_g - 1) : 0}};
    }
    j["bound"] = {{"definition", kBoundDefinition}, {"at", at}, {"searched", SearchedJson(r.searched)}};
  }
  if (o.sweep_points > 0) j.update(SweepJson(r, o.sweep_points, o.reference));
  return j;
}

std::string FormatTextReport(const ReplayResult& r, const ReportOptions& o) {
  std::string out;
  const std::string label = Label(r);
  out += fmt::format("Replay, {}: trace {}{}, {} to {} ({} day{}, {} intervals of {:g} min), forecast {}, seed {}, "
                     "measurement noise {:g}%\n",
                     label, r.trace_name, r.zone.empty() ? "" : " (" + r.zone + ")", FormatShort(r.start),
                     FormatShort(r.end), r.days, r.days == 1 ? "" : "s", r.steps, Minutes(r.interval), r.forecast ? "on" : "off", r.seed,
                     100 * r.noise);
  if (!o.predictor.empty()) out += "Controllers' predictor: " + o.predictor + "\n";
  out += "\n";
  out += fmt::format("{:<17} {:>11} {:>11} {:>8} {:>12} {:>8} {:>8} {:>10} {:>7} {:>7} {:>9}\n", "controller",
                     "carbon g", "energy Wh", "power W", "CDP g*s", "SLO viol", "acc loss", "g/1k good", "mode sw",
                     "replans", "decide ms");
  for (const ControllerSummary& c : r.controllers) {
    out += fmt::format("{:<17} {:>11.2f} {:>11.1f} {:>8.2f} {:>12.4e} {:>7.2f}% {:>8.2f} {:>10.4f} {:>7} {:>7} {:>9.2f}\n",
                       c.name, c.carbon_g, c.energy_wh, c.mean_power_w, c.cdp_g_s, 100 * c.slo_violation_rate,
                       c.accuracy_loss_pts, c.carbon_per_1k_good_g, c.mode_switches, c.replans, c.decision_ms);
  }
  if (!r.bounds.empty()) {
    out += r.searched.searches > 0
               ? "\nHindsight bound (the best per-interval pick among the replayed controllers' measured "
                 "choices and "
                 "its own\nsearched configurations, every SLO held, at each controller's accuracy loss; "
                 "lower bound "
                 "from the\nLagrangian dual):\n"
               : "\nHindsight bound (the best per-interval pick among the replayed controllers' measured "
                 "choices, every "
                 "SLO held,\nat each controller's accuracy loss; lower bound from the Lagrangian dual):\n";
    out += fmt::format("{:<22} {:>10} {:>10} {:>10} {:>12} {:>11}\n", "at accuracy loss of", "its g", "bound g",
                       "lower g", "above bound", "infeasible");
    for (const auto& [name, b] : r.bounds) {
      const ControllerSummary* c = r.Find(name);
      if (c == nullptr) continue;
      if (!b.feasible) {
        out += fmt::format("{:<22} {:>10.1f} {:>10}   (no plan holds every SLO within this accuracy loss)\n",
                           fmt::format("{} ({:.2f} pts)", name, b.budget_pts), c->carbon_g, "-");
        continue;
      }
      out += fmt::format("{:<22} {:>10.1f} {:>10.1f} {:>10.1f} {:>11.1f}% {:>11}\n",
                         fmt::format("{} ({:.2f} pts)", name, b.budget_pts), c->carbon_g, b.carbon_g, b.lower_bound_g,
                         b.carbon_g > 0 ? 100.0 * (c->carbon_g / b.carbon_g - 1) : 0.0, b.infeasible_intervals);
    }
  }
  out += "\nPer-tenant p95 latency, ms (95th percentile over intervals; SLO in brackets):\n";
  if (!r.controllers.empty()) {
    out += fmt::format("{:<17}", "controller");
    for (const TenantSummary& t : r.controllers.front().tenants) {
      out += fmt::format(" {:>18}", t.name + " [" + fmt::format("{:g}", t.slo_ms) + "]");
    }
    out += "\n";
    for (const ControllerSummary& c : r.controllers) {
      out += fmt::format("{:<17}", c.name);
      for (const TenantSummary& t : c.tenants) out += fmt::format(" {:>18.2f}", t.p95_ms);
      out += "\n";
    }
  }
  if (const ControllerSummary* ref = r.Find(o.reference); ref != nullptr && r.controllers.size() > 1) {
    out += fmt::format("\n{} vs the others ({}; positive = {} emits/uses less):\n", ref->name, label, ref->name);
    out += fmt::format("{:<17} {:>10} {:>10} {:>10}\n", "vs", "carbon", "energy", "CDP");
    for (const ControllerSummary& c : r.controllers) {
      if (c.name == ref->name) continue;
      out += fmt::format("{:<17} {:>9.1f}% {:>9.1f}% {:>9.1f}%\n", c.name, SavingPct(ref->carbon_g, c.carbon_g),
                         SavingPct(ref->energy_wh, c.energy_wh), SavingPct(ref->cdp_g_s, c.cdp_g_s));
    }
  }
  out += std::string("\nDefinitions: ") + kCdpDefinition + ".\n  " + kSloDefinition + ".\n  " + kAccuracyDefinition +
         ".\n  Carbon = sum of measured power x interval x CI; every figure is " + label + ".\n";
  if (!r.attribution.empty()) out += "Carbon data: " + r.attribution + "\n";
  return out;
}

StatusOr<std::string> RenderHtmlReport(const ReplayResult& r, const ReportOptions& o) {
  if (r.controllers.empty() || r.controllers.front().intervals.empty()) {
    return InvalidArgument("nothing to report: the replay has no controllers or no intervals");
  }
  const std::string label = Label(r);
  const std::string foot = "All device figures " + label + ". " + r.attribution;
  std::vector<std::string> svgs;
  auto add = [&](const carbon::TimeSeriesChart& c) -> Status {
    ECOMAP_ASSIGN_OR_RETURN(std::string svg, carbon::RenderTimeSeriesSvg(c));
    svgs.push_back(std::move(svg));
    return Status::Ok();
  };
  const auto x_max = r.end;

  {  // Carbon intensity.
    carbon::TimeSeriesChart c;
    c.title = "Carbon intensity";
    c.subtitle = r.trace_name + (r.zone.empty() ? "" : " (" + r.zone + ")");
    c.y_label = "gCO2eq/kWh";
    c.footnote = r.attribution;
    carbon::LineSeries l{.label = "carbon intensity", .color = "#374151", .step = true};
    for (const IntervalRecord& k : r.controllers.front().intervals) l.points.push_back({k.time, k.intensity_g_per_kwh});
    CloseStep(&l, r.end);
    c.lines.push_back(l);
    c.x_max = x_max;
    ECOMAP_RETURN_IF_ERROR(add(c));
  }
  {  // Thresholds.
    carbon::TimeSeriesChart c;
    c.title = "Power threshold in force";
    c.subtitle = "per controller (controllers without a threshold are left out; equal thresholds overlap: the "
                 "first is drawn wide, the others dashed)";
    c.y_label = "W";
    c.footnote = "simulated (" + r.platform + ")";
    for (size_t i = 0; i < r.controllers.size(); ++i) {
      const ControllerSummary& s = r.controllers[i];
      bool any = false;
      carbon::LineSeries l{.label = s.name, .color = ColorOf(i), .step = true};
      for (const IntervalRecord& k : s.intervals) {
        l.points.push_back({k.time, k.threshold_w});
        any = any || k.threshold_w > 0;
      }
      CloseStep(&l, r.end);
      if (c.lines.empty()) {
        l.width_px = 4;
      } else {
        l.dashed = true;
      }
      if (any) c.lines.push_back(l);
    }
    c.x_max = x_max;
    if (!c.lines.empty()) ECOMAP_RETURN_IF_ERROR(add(c));
  }
  {  // Power.
    carbon::TimeSeriesChart c;
    c.title = "Device power";
    c.subtitle = "mean over each interval, per controller";
    c.y_label = "W";
    c.footnote = foot;
    for (size_t i = 0; i < r.controllers.size(); ++i) {
      carbon::LineSeries l{.label = r.controllers[i].name, .color = ColorOf(i), .step = true};
      for (const IntervalRecord& k : r.controllers[i].intervals) l.points.push_back({k.time, k.power_w});
      CloseStep(&l, r.end);
      c.lines.push_back(l);
    }
    c.x_max = x_max;
    ECOMAP_RETURN_IF_ERROR(add(c));
  }
  {  // Cumulative carbon.
    carbon::TimeSeriesChart c;
    c.title = "Cumulative carbon";
    c.subtitle = "per controller, at the end of each interval";
    c.y_label = "gCO2eq";
    c.footnote = foot;
    for (size_t i = 0; i < r.controllers.size(); ++i) {
      carbon::LineSeries l{.label = r.controllers[i].name, .color = ColorOf(i)};
      double sum = 0;
      l.points.push_back({r.start, 0});
      for (const IntervalRecord& k : r.controllers[i].intervals) {
        sum += k.carbon_g;
        l.points.push_back({k.time + r.interval, sum});
      }
      c.lines.push_back(l);
    }
    c.x_max = x_max;
    ECOMAP_RETURN_IF_ERROR(add(c));
  }
  const ControllerSummary* ref = r.Find(o.reference);
  if (ref == nullptr) ref = &r.controllers.front();
  {  // Variants in service: the accuracy of the served variant per tenant.
    carbon::TimeSeriesChart c;
    c.title = "Variants in service (" + ref->name + ")";
    c.subtitle = "published accuracy of the model each tenant is served with";
    c.y_label = "accuracy (%)";
    c.footnote = "Model names per interval are in replay.json; " + label;
    std::map<std::string, carbon::LineSeries> lines;
    std::vector<std::string> order;
    for (const IntervalRecord& k : ref->intervals) {
      for (const TenantInterval& t : k.tenants) {
        if (!lines.count(t.name)) {
          order.push_back(t.name);
          lines[t.name] = carbon::LineSeries{.label = t.name, .color = ColorOf(order.size() - 1), .step = true};
        }
        const zoo::ModelInfo* m = zoo::FindModel(t.variant);
        lines[t.name].points.push_back({k.time, m ? m->accuracy : 0.0});
      }
    }
    double lo = 100;
    for (const auto& n : order) {
      for (const auto& p : lines[n].points) lo = std::min(lo, p.value);
      CloseStep(&lines[n], r.end);
      c.lines.push_back(lines[n]);
    }
    c.y_min = std::max(0.0, std::floor(lo / 5) * 5 - 5);
    c.x_max = x_max;
    ECOMAP_RETURN_IF_ERROR(add(c));
  }

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ecomap replay: " +
       HtmlEscape(r.trace_name) + "</title>\n";
  h += "<style>body{font-family:system-ui,sans-serif;margin:24px;color:#111827;max-width:1000px}"
       "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #d1d5db;padding:4px 8px;"
       "text-align:right}th{background:#f3f4f6}td:first-child,th:first-child{text-align:left}"
       ".note{color:#4b5563;font-size:0.9em}figure{margin:16px 0}</style></head><body>\n";
  h += "<h1>Ecomap replay &mdash; " + HtmlEscape(label) + "</h1>\n";
  h += "<p>Trace <b>" + HtmlEscape(r.trace_name) + "</b>" + (r.zone.empty() ? "" : " (" + HtmlEscape(r.zone) + ")") +
       ", " + HtmlEscape(FormatIso8601(r.start)) + " to " + HtmlEscape(FormatIso8601(r.end)) + ", " +
       std::to_string(r.days) + " days, " + std::to_string(r.steps) + " intervals of " +
       fmt::format("{:g}", Minutes(r.interval)) + " min; forecast " + (r.forecast ? "on" : "off") + "; seed " +
       std::to_string(r.seed) + ", measurement noise " + fmt::format("{:g}", 100 * r.noise) + "%.";
  if (o.scenario.contains("name")) h += " Scenario <b>" + HtmlEscape(o.scenario["name"].get<std::string>()) + "</b>.";
  if (!o.predictor.empty()) h += " Predictor: " + HtmlEscape(o.predictor) + ".";
  h += "</p>\n<h2>Summary (" + HtmlEscape(label) + ")</h2>\n<table><tr><th>controller</th><th>carbon g</th>"
       "<th>energy Wh</th><th>mean power W</th><th>CDP g&middot;s</th><th>SLO violations</th><th>accuracy loss pts</th>"
       "<th>mode switches</th><th>replans</th><th>decision ms</th>";
  if (ref) h += "<th>" + HtmlEscape(ref->name) + " saves (carbon / CDP)</th>";
  h += "</tr>\n";
  for (const ControllerSummary& c : r.controllers) {
    h += fmt::format(
        "<tr><td>{}</td><td>{:.2f}</td><td>{:.1f}</td><td>{:.2f}</td><td>{:.4e}</td><td>{:.2f}%</td><td>{:.2f}</td>"
        "<td>{}</td><td>{}</td><td>{:.2f}</td>",
        HtmlEscape(c.name), c.carbon_g, c.energy_wh, c.mean_power_w, c.cdp_g_s, 100 * c.slo_violation_rate,
        c.accuracy_loss_pts, c.mode_switches, c.replans, c.decision_ms);
    if (ref) {
      h += c.name == ref->name ? std::string("<td>&mdash;</td>")
                               : fmt::format("<td>{:.1f}% / {:.1f}%</td>", SavingPct(ref->carbon_g, c.carbon_g),
                                             SavingPct(ref->cdp_g_s, c.cdp_g_s));
    }
    h += "</tr>\n";
  }
  h += "</table>\n<h3>Per-tenant p95 latency, ms (95th percentile over intervals)</h3>\n<table><tr><th>controller</th>";
  for (const TenantSummary& t : r.controllers.front().tenants) {
    h += "<th>" + HtmlEscape(t.name) + fmt::format(" (SLO {:g})", t.slo_ms) + "</th>";
  }
  h += "</tr>\n";
  for (const ControllerSummary& c : r.controllers) {
    h += "<tr><td>" + HtmlEscape(c.name) + "</td>";
    for (const TenantSummary& t : c.tenants) h += fmt::format("<td>{:.2f}</td>", t.p95_ms);
    h += "</tr>\n";
  }
  h += "</table>\n<h3>Variants in service (" + HtmlEscape(ref->name) + "), intervals per model</h3>\n<table>"
       "<tr><th>tenant</th><th>models (intervals)</th></tr>\n";
  for (const TenantSummary& t : ref->tenants) {
    std::string v;
    for (const auto& [m, n] : t.variant_intervals) v += (v.empty() ? "" : ", ") + m + " (" + std::to_string(n) + ")";
    h += "<tr><td>" + HtmlEscape(t.name) + "</td><td style=\"text-align:left\">" + HtmlEscape(v) + "</td></tr>\n";
  }
  h += "</table>\n";
  ECOMAP_ASSIGN_OR_RETURN(std::string pareto, ParetoSection(r, o, label));
  h += pareto;
  h += "<h2>Over time</h2>\n";
  for (const std::string& s : svgs) h += "<figure>" + s + "</figure>\n";
  h += "<h2>Definitions</h2><ul class=\"note\"><li>" + HtmlEscape(kCdpDefinition) + "</li><li>" +
       HtmlEscape(kSloDefinition) + "</li><li>" + HtmlEscape(kAccuracyDefinition) +
       "</li><li>Energy = measured power x interval; carbon = energy[kWh] x CI of the interval.</li>"
       "<li>Decision time = wall time of one controller step on the machine that ran the replay.</li></ul>\n";
  h += "<p class=\"note\">Every device figure on this page is " + HtmlEscape(label) +
       ": nothing ran on a real Jetson. " + HtmlEscape(r.attribution) + "</p>\n</body></html>\n";
  return h;
}

Status WriteHtmlReport(const ReplayResult& r, const ReportOptions& o, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create report folder '" + dir + "': " + ec.message());
  ECOMAP_ASSIGN_OR_RETURN(std::string html, RenderHtmlReport(r, o));
  ECOMAP_RETURN_IF_ERROR(WriteFileAtomic(dir + "/index.html", html));
  return WriteFileAtomic(dir + "/replay.json", ReplayToJson(r, o, true).dump(1) + "\n");
}

}  // namespace ecomap::replay
