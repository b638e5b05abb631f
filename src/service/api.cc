#include "service/api.h"

#include <fmt/format.h>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "service/config.h"
#include "zoo/torchscript.h"

namespace ecomap::service {
namespace {

using nlohmann::json;

std::string TypeName(const json& j) { return j.type_name(); }

Status NumberField(const json& o, const char* key, double lo, double hi, double* out) {
  auto it = o.find(key);
  if (it == o.end()) return Status::Ok();
  if (!it->is_number()) {
    return InvalidArgument(std::string("'") + key + "' must be a number, not " + TypeName(*it));
  }
  double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream m;
    m << "'" << key << "' = " << v << " is out of range [" << lo << ", " << hi << "]";
    return InvalidArgument(m.str());
  }
  *out = v;
  return Status::Ok();
}

}  // namespace

StatusOr<policy::TenantSpec> ParseTenantRequest(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument("the body is not valid JSON; send an object such as "
                           "{\"name\":\"cam\",\"family\":\"resnet\",\"slo_ms\":100,\"rate_rps\":10}");
  }
  if (!j.is_object()) return InvalidArgument("the body must be a JSON object, not " + TypeName(j));
  static const std::set<std::string> kKeys = {"name", "family", "variants", "slo_ms", "rate_rps",
                                              "concurrency", "min_throughput_rps", "models"};
  for (const auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) {
      return InvalidArgument("unknown key '" + k +
                             "'; known keys: name, family, variants, slo_ms, rate_rps, concurrency, min_throughput_rps, "
                             "models");
    }
  }
  policy::TenantSpec t;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return InvalidArgument("'name' (a string) is required");
  t.name = name->get<std::string>();
  if (auto v = j.find("variants"); v != j.end()) {
    if (!v->is_array()) return InvalidArgument("'variants' must be an array of model names");
    if (v->size() > 64) return InvalidArgument("'variants' lists more than 64 models");
    for (const json& e : *v) {
      if (!e.is_string()) return InvalidArgument("'variants' must be an array of model names (strings)");
      t.variants.push_back(e.get<std::string>());
    }
  }
  if (auto f = j.find("family"); f != j.end()) {
    if (!f->is_string()) return InvalidArgument("'family' must be a string, e.g. \"resnet\"");
    t.family = f->get<std::string>();
  } else if (j.contains("models")) {
    return InvalidArgument("'family' is required with 'models': name the family of your own models, e.g. \"doorbell\"");
  } else if (!t.variants.empty()) {
    const zoo::ModelInfo* m = zoo::FindModel(t.variants.front());
    if (!m) return NotFound("unknown model '" + t.variants.front() + "'; known models: " + zoo::KnownModelNames());
    t.family = m->family;
  } else {
    return InvalidArgument("'family' (a zoo family such as \"resnet\") or 'variants' is required");
  }
  if (auto ms = j.find("models"); ms != j.end()) {
    if (!ms->is_array() || ms->empty()) {
      return InvalidArgument("'models' must be a non-empty array of objects such as {\"name\": \"my_net\", "
                             "\"torchscript\": \"models/my_net.pt\", \"accuracy\": 80, \"input_shape\": [1, 3, 224, 224]}");
    }
    if (ms->size() > 16) return InvalidArgument("'models' lists more than 16 models");
    for (const json& e : *ms) {
      ECOMAP_ASSIGN_OR_RETURN(zoo::TorchScriptSpec spec, zoo::TorchScriptSpecFromJson(e, t.family));
      t.models.push_back(std::move(spec));
    }
    if (t.variants.empty()) t.variants = policy::DeclaredVariants(t.models);
  }
  if (j.find("slo_ms") == j.end()) return InvalidArgument("'slo_ms' (the p95 latency bound, > 0) is required");
  double slo = 0;
  ECOMAP_RETURN_IF_ERROR(NumberField(j, "slo_ms", -1e300, 1e300, &slo));
  if (!(slo > 0)) return InvalidArgument("'slo_ms' must be > 0 (got " + std::to_string(slo) + ")");
  t.slo_p95 = Milliseconds(slo);
  ECOMAP_RETURN_IF_ERROR(NumberField(j, "min_throughput_rps", 0, 1e6, &t.min_throughput_rps));
  bool has_rate = j.contains("rate_rps"), has_conc = j.contains("concurrency");
  if (has_rate == has_conc) {
    return InvalidArgument("give exactly one of 'rate_rps' (open loop) or 'concurrency' (closed loop)");
  }
  if (has_rate) {
    t.arrival = platform::ArrivalKind::kOpenLoop;
    ECOMAP_RETURN_IF_ERROR(NumberField(j, "rate_rps", -1e300, 1e300, &t.rate_rps));
  } else {
    t.arrival = platform::ArrivalKind::kClosedLoop;
    const json& c = j["concurrency"];
    if (!c.is_number_integer()) return InvalidArgument("'concurrency' must be an integer >= 1");
    int64_t n = c.get<int64_t>();
    if (n < 1 || n > 64) return InvalidArgument("'concurrency' must be in [1, 64] (got " + std::to_string(n) + ")");
    t.concurrency = static_cast<int>(n);
  }
  ECOMAP_RETURN_IF_ERROR(policy::ValidateTenant(t));
  return t;
}

StatusOr<int64_t> ParseSinceParam(std::string_view text) {
  if (text.empty()) return int64_t{0};
  if (text.size() > 18) return InvalidArgument("'since' must be a decision id (a non-negative integer)");
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return InvalidArgument("'since' must be a decision id (a non-negative integer), got '" +
                                                   std::string(text) + "'");
    v = v * 10 + (c - '0');
  }
  return v;
}

StatusOr<int> ParseLimitParam(std::string_view text) {
  if (text.empty()) return 100;
  StatusOr<int64_t> v = ParseSinceParam(text);
  if (!v.ok() || *v < 1 || *v > 1000) return InvalidArgument("'limit' must be an integer in [1, 1000]");
  return static_cast<int>(*v);
}

StatusOr<std::string> ParseTenantPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/tenants/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return NotFound("use DELETE /tenants/NAME");
  std::string_view raw = path.substr(kPrefix.size());
  std::string name;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      int hi = hex(raw[i + 1]), lo = hex(raw[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("bad percent-escape in the tenant name");
      name.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      name.push_back(raw[i]);
    }
  }
  if (name.empty() || name.size() > 64) return InvalidArgument("tenant name must be 1-64 characters");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return InvalidArgument("tenant name '" + name + "' is invalid: use letters, digits, '-', '_' or '.'");
    }
  }
  return name;
}

Status CheckBearer(std::string_view authorization, const std::string& token) {
  if (token.empty()) {
    return PermissionDenied("mutating calls are disabled: set [serve.api] token or ECOMAP_API_TOKEN");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.empty()) {
    return Unauthenticated("missing 'Authorization: Bearer <token>' header (the token is [serve.api] token or ECOMAP_API_TOKEN)");
  }
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    return Unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  std::string_view given = authorization.substr(kBearer.size());
  unsigned diff = given.size() == token.size() ? 0u : 1u;
  for (size_t i = 0; i < token.size(); ++i) {
    char g = i < given.size() ? given[i] : 0;
    diff |= static_cast<unsigned>(static_cast<unsigned char>(g) ^ static_cast<unsigned char>(token[i]));
  }
  if (diff != 0) return PermissionDenied("wrong bearer token");
  return Status::Ok();
}

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string ErrorJson(const Status& s) {
  return json{{"error", s.message()}, {"code", StatusCodeName(s.code())}}.dump();
}

std::string ErrorJson(int http_status, const std::string& message) {
  return json{{"error", message}, {"http_status", http_status}}.dump();
}

RateLimiter::RateLimiter(double rate_per_s, double burst)
    : rate_(rate_per_s), burst_(burst), tokens_(burst), last_(std::chrono::steady_clock::now()) {}

void RateLimiter::Reset(double rate_per_s, double burst) {
  std::lock_guard<std::mutex> l(mu_);
  rate_ = rate_per_s;
  burst_ = burst;
  tokens_ = std::min(tokens_, burst_);
}

bool RateLimiter::Allow() {
  std::lock_guard<std::mutex> l(mu_);
  auto now = std::chrono::steady_clock::now();
  double dt = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + dt * rate_);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

nlohmann::json ToJson(const StatusSnapshot& s) {
  json tenants = json::array();
  for (const TenantState& t : s.tenants) {
    json o = {{"name", t.name},         {"family", t.family},       {"model", t.model},
              {"pipeline", t.pipeline}, {"arrival", t.arrival},     {"slo_ms", t.slo_ms},
              {"measured", t.measured}, {"p50_ms", t.p50_ms},       {"p95_ms", t.p95_ms},
              {"throughput_rps", t.throughput_rps},                  {"slo_met", t.slo_met},
              {"completed_total", t.completed_total},                {"rejected_total", t.rejected_total},
              {"slo_violations_total", t.slo_violations_total}};
    if (t.arrival == "open") o["rate_rps"] = t.rate_rps; else o["concurrency"] = t.concurrency;
    if (!t.demand_source.empty()) {
      o["planned_rate_rps"] = t.planned_rate_rps;
      o["demand_source"] = t.demand_source;
    }
    tenants.push_back(std::move(o));
  }
  return json{
      {"time", s.time_utc},
      {"started", s.started_utc},
      {"version", s.version},
      {"platform", s.platform},
      {"controller", s.controller},
      {"interval", s.interval},
      {"intervals_this_run", s.intervals_this_run},
      {"interval_s", s.interval_s},
      {"carbon",
       {{"intensity_g_per_kwh", s.intensity_g_per_kwh},
        {"source", s.carbon_source},
        {"stale", s.carbon_stale},
        {"fallback", s.carbon_fallback},
        {"age_s", s.carbon_age_s},
        {"reading_time", s.carbon_reading_utc},
        {"note", s.carbon_note},
        {"ok", s.carbon_ok}}},
      {"power",
       {{"watts", s.power_w}, {"source", s.power_source}, {"fallback", s.power_fallback}, {"note", s.power_note}}},
      {"threshold_w", s.threshold_w},
      {"mode", {{"id", s.mode}, {"name", s.mode_name}, {"applied", s.mode_applied}, {"note", s.mode_note}, {"knob", s.mode_knob}}},
      {"last_decision", {{"reason", s.last_reason}, {"decisions_total", s.decisions_total},
                         {"replans_total", s.replans_total}}},
      {"totals",
       {{"energy_j", s.energy_j_total},
        {"carbon_g", s.carbon_g_total},
        {"completed", s.completed_total},
        {"rejected", s.rejected_total},
        {"slo_violations", s.slo_violations_total}}},
      {"tenants", std::move(tenants)}};
}

std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

namespace {

class MetricsWriter {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void Sample(const char* name, double v, const std::vector<std::pair<std::string, std::string>>& labels = {}) {
    out_ << name;
    if (!labels.empty()) {
      out_ << "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ << (i ? "," : "") << labels[i].first << "=\"" << EscapeLabel(labels[i].second) << "\"";
      }
      out_ << "}";
    }
    out_ << " " << (std::isnan(v) ? std::string("NaN") : fmt::format("{:.12g}", v)) << "\n";
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace

std::string RenderMetrics(const StatusSnapshot& s) {
  MetricsWriter w;
  w.Family("ecomap_carbon_intensity_grams_per_kwh", "gauge", "Grid carbon intensity in force (gCO2eq/kWh), by the source that served it.");
  if (s.carbon_ok) w.Sample("ecomap_carbon_intensity_grams_per_kwh", s.intensity_g_per_kwh, {{"source", s.carbon_source}});
  w.Family("ecomap_carbon_reading_stale", "gauge", "1 when the carbon reading is stale (old or a fallback).");
  w.Sample("ecomap_carbon_reading_stale", s.carbon_stale ? 1 : 0);
  w.Family("ecomap_carbon_fallback", "gauge", "1 when a fallback (forecast, last known, trace) served instead of the configured provider.");
  w.Sample("ecomap_carbon_fallback", s.carbon_fallback ? 1 : 0);
  w.Family("ecomap_carbon_reading_age_seconds", "gauge", "Signal time now minus the reading's time.");
  w.Sample("ecomap_carbon_reading_age_seconds", s.carbon_age_s);
  w.Family("ecomap_power_watts", "gauge", "Device power over the last interval, by provenance (measured, modelled, simulated).");
  if (!s.power_source.empty()) w.Sample("ecomap_power_watts", s.power_w, {{"source", s.power_source}});
  w.Family("ecomap_power_fallback", "gauge", "1 when the platform's power reading failed and the power model served.");
  w.Sample("ecomap_power_fallback", s.power_fallback ? 1 : 0);
  w.Family("ecomap_power_threshold_watts", "gauge", "Power threshold the controller set (0: none).");
  w.Sample("ecomap_power_threshold_watts", s.threshold_w);
  w.Family("ecomap_power_mode", "gauge", "Power mode id the controller chose.");
  w.Sample("ecomap_power_mode", s.mode);
  w.Family("ecomap_power_mode_info", "gauge", "The chosen power mode's name and whether the platform applied it.");
  w.Sample("ecomap_power_mode_info", 1, {{"name", s.mode_name}, {"applied", s.mode_applied ? "true" : "false"}});
  w.Family("ecomap_tenant_latency_seconds", "gauge", "Measured request latency quantiles of each tenant over the last interval.");
  for (const TenantState& t : s.tenants) {
    if (!t.measured) continue;
    w.Sample("ecomap_tenant_latency_seconds", t.p50_ms / 1000.0, {{"tenant", t.name}, {"quantile", "0.5"}});
    w.Sample("ecomap_tenant_latency_seconds", t.p95_ms / 1000.0, {{"tenant", t.name}, {"quantile", "0.95"}});
  }
  w.Family("ecomap_tenant_slo_seconds", "gauge", "Each tenant's p95 latency bound.");
  for (const TenantState& t : s.tenants) w.Sample("ecomap_tenant_slo_seconds", t.slo_ms / 1000.0, {{"tenant", t.name}});
  w.Family("ecomap_tenant_throughput_requests_per_second", "gauge", "Completed requests per second over the last interval.");
  for (const TenantState& t : s.tenants) {
    if (t.measured) w.Sample("ecomap_tenant_throughput_requests_per_second", t.throughput_rps, {{"tenant", t.name}});
  }
  w.Family("ecomap_tenant_slo_met", "gauge", "1 when the tenant met its SLO over the last interval.");
  for (const TenantState& t : s.tenants) {
    if (t.measured) w.Sample("ecomap_tenant_slo_met", t.slo_met ? 1 : 0, {{"tenant", t.name}});
  }
  w.Family("ecomap_slo_violations_total", "counter", "Intervals in which the tenant's p95 latency exceeded its SLO (this run).");
  for (const TenantState& t : s.tenants) w.Sample("ecomap_slo_violations_total", static_cast<double>(t.slo_violations_total), {{"tenant", t.name}});
  w.Family("ecomap_requests_completed_total", "counter", "Requests completed (this run).");
  for (const TenantState& t : s.tenants) w.Sample("ecomap_requests_completed_total", static_cast<double>(t.completed_total), {{"tenant", t.name}});
  w.Family("ecomap_requests_rejected_total", "counter", "Requests rejected at admission (this run).");
  for (const TenantState& t : s.tenants) w.Sample("ecomap_requests_rejected_total", static_cast<double>(t.rejected_total), {{"tenant", t.name}});
  w.Family("ecomap_energy_joules_total", "counter", "Energy accumulated since the history began (power source as ecomap_power_watts).");
  w.Sample("ecomap_energy_joules_total", s.energy_j_total);
  w.Family("ecomap_carbon_grams_total", "counter", "Operational carbon accumulated since the history began (gCO2eq).");
  w.Sample("ecomap_carbon_grams_total", s.carbon_g_total);
  w.Family("ecomap_intervals_total", "counter", "Control intervals committed to the history.");
  w.Sample("ecomap_intervals_total", static_cast<double>(s.interval));
  w.Family("ecomap_decisions_total", "counter", "Controller decisions (this run).");
  w.Sample("ecomap_decisions_total", static_cast<double>(s.decisions_total));
  w.Family("ecomap_replans_total", "counter", "Decisions that ran a new search (this run).");
  w.Sample("ecomap_replans_total", static_cast<double>(s.replans_total));
  return w.str();
}

}  // namespace ecomap::service
