#include "service/reporting.h"
#include "zoo/torchscript.h"

#include <cmath>

#include <fmt/format.h>

#include "service/config.h"

namespace ecomap::service {

using nlohmann::json;

DecisionRow ToDecisionRow(const loop::DecisionEvent& ev, int64_t id, int64_t interval,
                          const std::string& controller, const policy::Decision* in_force) {
  DecisionRow row;
  row.id = id;
  row.interval = interval;
  row.time_utc = FormatIso8601(ev.time);
  row.controller = controller;
  row.trigger = ev.trigger;
  row.reason = ev.reason;
  row.applied = ev.applied;
  row.apply_note = ev.apply_note;
  row.decision_ms = ev.decision_ms;
  if (ev.decision) {
    const policy::Decision& d = *ev.decision;
    row.mode = d.config.power_mode;
    row.threshold_w = d.threshold.value();
    row.replanned = d.replanned;
    row.variants_json = json(d.variants).dump();
    row.config_json = json(d.config).dump();
    row.predicted_json = json(d.predicted).dump();
  } else if (in_force != nullptr && !ev.status.ok()) {
    row.mode = in_force->config.power_mode;
    row.threshold_w = in_force->threshold.value();
  }
  return row;
}

IntervalRow ToIntervalRow(const loop::IntervalOutcome& o, int64_t id,
                          const std::vector<engine::TenantReport>& engine_tenants, const PowerFigure& power) {
  IntervalRow row;
  row.id = id;
  row.start_utc = FormatIso8601(o.start);
  row.end_utc = FormatIso8601(o.end);
  row.elapsed_s = o.measurement.window.value();
  if (o.carbon) {
    const carbon::CarbonReading& r = *o.carbon;
    row.intensity_g_per_kwh = r.intensity.value();
    row.carbon_source = r.source;
    row.carbon_stale = r.stale;
    row.carbon_time_utc = FormatIso8601(r.time);
    row.carbon = CarbonRow{FormatIso8601(r.time), r.intensity.value(), r.source, r.stale, r.forecast, r.note};
  }
  row.mode = o.record.power_mode;
  row.threshold_w = o.record.threshold_w;
  row.power_w = o.record.power_w;
  row.power_source = power.source();
  row.power_fallback = power.fallback;
  row.energy_j = o.record.energy_j;
  row.carbon_g = o.record.carbon_g;
  for (size_t i = 0; i < o.record.tenants.size() && i < engine_tenants.size(); ++i) {
    const loop::TenantInterval& a = o.record.tenants[i];
    const engine::TenantReport& t = engine_tenants[i];
    TenantIntervalRow tr;
    tr.tenant = a.name;
    tr.model = t.model;
    tr.pipeline = t.pipeline;
    tr.p50_ms = a.p50_ms;
    tr.p95_ms = a.p95_ms;
    tr.slo_ms = a.slo_ms;
    tr.throughput_rps = a.throughput_rps;
    tr.completed = static_cast<int64_t>(t.completed);
    tr.rejected = static_cast<int64_t>(t.rejected);
    tr.dropped = static_cast<int64_t>(t.dropped);
    tr.slo_met = !a.slo_violated;
    row.completed += tr.completed;
    row.rejected += tr.rejected;
    row.dropped += tr.dropped;
    row.tenants.push_back(std::move(tr));
  }
  row.slo_violations = o.record.slo_violations;
  return row;
}

std::string IntervalLine(const IntervalRow& row, const platform::PlatformInfo& platform, bool mode_applied,
                         const std::string& knob) {
  std::string o = fmt::format("#{} {}  CI {:.0f} g/kWh ({}{})  thr {:.1f} W  mode {}", row.id,
                              row.end_utc.substr(11, 8), row.intensity_g_per_kwh, row.carbon_source,
                              row.carbon_stale ? ", stale" : "", row.threshold_w, row.mode);
  if (const platform::PowerMode* pm = platform.FindMode(row.mode)) o += " " + pm->name;
  if (!mode_applied) o += " (not applied)";
  else if (!knob.empty()) o += " [" + knob + "]";
  o += fmt::format("  power {:.1f} W {}{}", row.power_w, row.power_source, row.power_fallback ? " [fallback]" : "");
  for (const auto& t : row.tenants) {
    o += fmt::format(" | {} {}{} p95 {:.0f}/{:.0f} ms {} {:.1f} rps", t.tenant, t.model,
                     t.pipeline.empty() ? "" : " [" + t.pipeline + "]", t.p95_ms, t.slo_ms, t.slo_met ? "ok" : "MISS",
                     t.throughput_rps);
  }
  return o;
}

json DecisionJson(const DecisionRow& d) {
  json j = {{"id", d.id},
            {"interval", d.interval},
            {"time", d.time_utc},
            {"controller", d.controller},
            {"trigger", d.trigger},
            {"mode", d.mode},
            {"threshold_w", d.threshold_w},
            {"replanned", d.replanned},
            {"reason", d.reason},
            {"decision_ms", d.decision_ms},
            {"applied", d.applied},
            {"apply_note", d.apply_note}};
  j["variants"] = json::parse(d.variants_json, nullptr, false);
  j["config"] = json::parse(d.config_json, nullptr, false);
  j["predicted"] = json::parse(d.predicted_json, nullptr, false);
  j["predicted_provenance"] = "modelled";
  return j;
}

json TenantJson(const policy::TenantSpec& t) {
  json j = {{"name", t.name}, {"family", t.family}, {"variants", TenantVariants(t)}, {"slo_ms", t.slo_p95.value()}};
  if (t.min_throughput_rps > 0) j["min_throughput_rps"] = t.min_throughput_rps;
  if (t.arrival == platform::ArrivalKind::kOpenLoop) j["rate_rps"] = t.rate_rps;
  else j["concurrency"] = t.concurrency;
  if (!t.models.empty()) {
    json models = json::array();
    for (const zoo::TorchScriptSpec& m : t.models) models.push_back(zoo::TorchScriptSpecToJson(m));
    j["models"] = std::move(models);
  }
  return j;
}

std::string PipelineText(const platform::TenantConfig& tenant) {
  std::string p;
  for (const auto& s : tenant.stages) {
    p += fmt::format("{}{}-{}:{}", p.empty() ? "" : "|", s.begin_block, s.end_block, s.unit);
  }
  return p;
}

void Correlation::Add(double x, double y) {
  ++n_;
  const double n = static_cast<double>(n_);
  const double dx = x - mx_;
  const double dy = y - my_;
  mx_ += dx / n;
  my_ += dy / n;
  sxx_ += dx * (x - mx_);
  syy_ += dy * (y - my_);
  sxy_ += dx * (y - my_);
}

std::optional<double> Correlation::r() const {
  if (n_ < 3) return std::nullopt;
  const double n = static_cast<double>(n_);
  // Constant within rounding: no correlation to speak of.
  if (sxx_ <= 1e-12 * n * (1 + mx_ * mx_) || syy_ <= 1e-12 * n * (1 + my_ * my_)) return std::nullopt;
  return sxy_ / std::sqrt(sxx_ * syy_);
}

}  // namespace ecomap::service
