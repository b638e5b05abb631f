#include "engine/spec.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace ecomap::engine {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

template <typename T>
bool ParseNumber(const std::string& text, T* out) {
  std::string t = Trim(text);
  if (t.empty()) return false;
  const char* end = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(t.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string UnitList(const std::vector<UnitInfo>& units) {
  std::vector<std::string> names;
  for (const auto& u : units) names.push_back(u.name);
  return names.empty() ? "(none)" : Join(names);
}

std::string Who(const PipelineSpec& t) {
  return "tenant '" + t.name + "' (" + t.model + ")";
}

StatusOr<StageSpec> ParseStage(const std::string& raw, const std::string& ctx, bool single) {
  std::string s = Trim(raw);
  size_t colon = s.find(':');
  if (colon == std::string::npos) {
    if (!single) {
      return InvalidArgument(ctx + ": stage '" + s +
                             "' has no block range; a pipeline of several stages writes each as "
                             "BEGIN-END:UNIT, e.g. 0-5:cpu0|5-:cpu1");
    }
    if (s.empty()) return InvalidArgument(ctx + ": no unit after '@'; write MODEL@cpu0");
    return StageSpec{0, StageSpec::kToEnd, s};
  }
  std::string range = Trim(s.substr(0, colon));
  std::string unit = Trim(s.substr(colon + 1));
  if (unit.empty()) return InvalidArgument(ctx + ": stage '" + s + "' has no unit after ':'");
  size_t dash = range.find('-');
  if (dash == std::string::npos) {
    return InvalidArgument(ctx + ": stage range '" + range +
                           "' is not BEGIN-END (half-open block range, e.g. 0-5 or 5-)");
  }
  StageSpec st;
  st.unit = unit;
  std::string b = Trim(range.substr(0, dash)), e = Trim(range.substr(dash + 1));
  if (!b.empty() && !ParseNumber(b, &st.begin)) {
    return InvalidArgument(ctx + ": stage range '" + range + "': begin '" + b +
                           "' is not a block index");
  }
  if (!e.empty() && !ParseNumber(e, &st.end)) {
    return InvalidArgument(ctx + ": stage range '" + range + "': end '" + e +
                           "' is not a block index");
  }
  if (e.empty()) st.end = StageSpec::kToEnd;
  return st;
}

StatusOr<PipelineSpec> ParseTenant(const std::string& raw, int index, uint64_t base_seed,
                                 bool* named) {
  std::string text = Trim(raw);
  std::string ctx = "tenant " + std::to_string(index + 1) + " '" + text + "'";
  size_t at = text.find('@');
  if (at == std::string::npos) {
    return InvalidArgument(ctx + ": missing '@'; write MODEL@UNIT or MODEL@BEGIN-END:UNIT|...");
  }
  PipelineSpec t;
  t.model = Trim(text.substr(0, at));
  if (t.model.empty()) return InvalidArgument(ctx + ": no model name before '@'");
  t.seed = base_seed + static_cast<uint64_t>(index);
  std::vector<std::string> parts = Split(text.substr(at + 1), ',');
  std::vector<std::string> stage_texts = Split(parts[0], '|');
  for (const std::string& st : stage_texts) {
    ECOMAP_ASSIGN_OR_RETURN(StageSpec s, ParseStage(st, ctx, stage_texts.size() == 1));
    t.stages.push_back(std::move(s));
  }
  std::set<std::string> seen;
  bool has_rate = false, has_closed = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string opt = Trim(parts[i]);
    size_t eq = opt.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument(ctx + ": option '" + opt +
                             "' is not KEY=VALUE (keys: name, rate, closed, slo, pct, min_rps, "
                             "queue, seed, external)");
    }
    std::string key = Trim(opt.substr(0, eq)), val = Trim(opt.substr(eq + 1));
    if (!seen.insert(key).second) return InvalidArgument(ctx + ": option '" + key + "' given twice");
    auto bad = [&](const char* want) {
      return InvalidArgument(ctx + ": " + key + "='" + val + "' is not " + want);
    };
    if (key == "name") {
      if (val.empty()) return bad("a name");
      t.name = val;
      *named = true;
    } else if (key == "rate") {
      if (!ParseNumber(val, &t.source.rate_rps)) return bad("a number of requests per second");
      t.source.kind = SourceSpec::Kind::kPoisson;
      has_rate = true;
    } else if (key == "closed") {
      if (!ParseNumber(val, &t.source.outstanding)) return bad("a whole number of requests");
      t.source.kind = SourceSpec::Kind::kClosed;
      has_closed = true;
    } else if (key == "external") {
      if (val != "0" && val != "1") return bad("0 or 1");
      t.source.external = val == "1";
    } else if (key == "slo") {
      double ms = 0;
      if (!ParseNumber(val, &ms)) return bad("a latency in milliseconds");
      t.slo.latency_bound = Milliseconds(ms);
    } else if (key == "pct") {
      if (!ParseNumber(val, &t.slo.percentile)) return bad("a percentile such as 95");
    } else if (key == "min_rps") {
      if (!ParseNumber(val, &t.slo.min_throughput_rps)) return bad("a number of requests per second");
    } else if (key == "queue") {
      if (!ParseNumber(val, &t.queue_capacity)) return bad("a whole number of requests");
    } else if (key == "seed") {
      if (!ParseNumber(val, &t.seed)) return bad("a non-negative integer");
    } else {
      return InvalidArgument(ctx + ": unknown option '" + key +
                             "'; known: name, rate, closed, slo, pct, min_rps, queue, seed, external");
    }
  }
  if (has_rate && has_closed) {
    return InvalidArgument(ctx + ": give either rate= (open loop) or closed= (closed loop), not both");
  }
  return t;
}

void FillDefaultNames(std::vector<PipelineSpec>& tenants, const std::vector<bool>& named) {
  std::map<std::string, int> count;
  std::set<std::string> taken;
  for (size_t i = 0; i < tenants.size(); ++i) {
    if (named[i]) taken.insert(tenants[i].name);
  }
  for (size_t i = 0; i < tenants.size(); ++i) {
    if (named[i]) continue;
    std::string base = tenants[i].model, name = base;
    int& n = count[base];
    while (taken.count(name)) {
      ++n;
      name = base + "-" + std::to_string(n + 1);
    }
    taken.insert(name);
    tenants[i].name = name;
  }
}

// JSON helpers: explicit type checks, so a bad file gives a message that names the key.
Status CheckKeys(const nlohmann::json& o, const std::string& ctx,
                 std::initializer_list<const char*> allowed) {
  if (!o.is_object()) return InvalidArgument(ctx + ": expected a JSON object");
  for (auto it = o.begin(); it != o.end(); ++it) {
    bool ok = false;
    for (const char* k : allowed) ok = ok || it.key() == k;
    if (!ok) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return InvalidArgument(ctx + ": unknown key '" + it.key() + "'; known: " + Join(names));
    }
  }
  return Status::Ok();
}

template <typename T>
Status GetNumber(const nlohmann::json& o, const char* key, const std::string& ctx, T* out) {
  if (!o.contains(key)) return Status::Ok();
  const auto& v = o.at(key);
  if (!v.is_number()) return InvalidArgument(ctx + ": '" + key + "' must be a number, got " + v.dump());
  if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) {
      return InvalidArgument(ctx + ": '" + key + "' must be a whole number, got " + v.dump());
    }
    if constexpr (std::is_unsigned_v<T>) {
      if (v.is_number_unsigned()) {
        *out = v.get<T>();
      } else if (v.get<int64_t>() < 0) {
        return InvalidArgument(ctx + ": '" + key + "' must be >= 0, got " + v.dump());
      } else {
        *out = static_cast<T>(v.get<int64_t>());
      }
      return Status::Ok();
    }
  }
  *out = v.get<T>();
  return Status::Ok();
}

Status GetString(const nlohmann::json& o, const char* key, const std::string& ctx,
                 std::string* out, bool required) {
  if (!o.contains(key)) {
    return required ? InvalidArgument(ctx + ": missing '" + key + "'") : Status::Ok();
  }
  const auto& v = o.at(key);
  if (!v.is_string()) return InvalidArgument(ctx + ": '" + key + "' must be a string, got " + v.dump());
  *out = v.get<std::string>();
  return Status::Ok();
}

StatusOr<PipelineSpec> TenantFromJson(const nlohmann::json& o, const std::string& ctx, uint64_t seed,
                                    bool* named) {
  ECOMAP_RETURN_IF_ERROR(CheckKeys(
      o, ctx, {"name", "model", "stages", "source", "slo", "queue_capacity", "seed"}));
  PipelineSpec t;
  t.seed = seed;
  ECOMAP_RETURN_IF_ERROR(GetString(o, "model", ctx, &t.model, true));
  *named = o.contains("name");
  ECOMAP_RETURN_IF_ERROR(GetString(o, "name", ctx, &t.name, false));
  if (!o.contains("stages") || !o.at("stages").is_array()) {
    return InvalidArgument(ctx + ": 'stages' must be an array of {\"begin\",\"end\",\"unit\"}");
  }
  int i = 0;
  for (const auto& s : o.at("stages")) {
    std::string sctx = ctx + " stage " + std::to_string(i++);
    ECOMAP_RETURN_IF_ERROR(CheckKeys(s, sctx, {"begin", "end", "unit"}));
    StageSpec st;
    ECOMAP_RETURN_IF_ERROR(GetNumber(s, "begin", sctx, &st.begin));
    ECOMAP_RETURN_IF_ERROR(GetNumber(s, "end", sctx, &st.end));
    ECOMAP_RETURN_IF_ERROR(GetString(s, "unit", sctx, &st.unit, true));
    t.stages.push_back(st);
  }
  if (o.contains("source")) {
    const auto& s = o.at("source");
    std::string sctx = ctx + " source";
    ECOMAP_RETURN_IF_ERROR(CheckKeys(s, sctx, {"kind", "rate_rps", "outstanding", "external"}));
    std::string kind = "closed";
    ECOMAP_RETURN_IF_ERROR(GetString(s, "kind", sctx, &kind, true));
    if (kind == "poisson") {
      t.source.kind = SourceSpec::Kind::kPoisson;
      if (!s.contains("rate_rps")) return InvalidArgument(sctx + ": poisson needs 'rate_rps'");
      ECOMAP_RETURN_IF_ERROR(GetNumber(s, "rate_rps", sctx, &t.source.rate_rps));
    } else if (kind == "closed") {
      t.source.kind = SourceSpec::Kind::kClosed;
      ECOMAP_RETURN_IF_ERROR(GetNumber(s, "outstanding", sctx, &t.source.outstanding));
    } else {
      return InvalidArgument(sctx + ": kind '" + kind + "' is neither \"poisson\" nor \"closed\"");
    }
    if (s.contains("external")) {
      if (!s.at("external").is_boolean()) return InvalidArgument(sctx + ": 'external' must be true or false");
      t.source.external = s.at("external").get<bool>();
    }
  }
  if (o.contains("slo")) {
    const auto& s = o.at("slo");
    std::string sctx = ctx + " slo";
    ECOMAP_RETURN_IF_ERROR(CheckKeys(s, sctx, {"latency_ms", "percentile", "min_throughput_rps"}));
    double ms = t.slo.latency_bound.value();
    ECOMAP_RETURN_IF_ERROR(GetNumber(s, "latency_ms", sctx, &ms));
    t.slo.latency_bound = Milliseconds(ms);
    ECOMAP_RETURN_IF_ERROR(GetNumber(s, "percentile", sctx, &t.slo.percentile));
    ECOMAP_RETURN_IF_ERROR(GetNumber(s, "min_throughput_rps", sctx, &t.slo.min_throughput_rps));
  }
  ECOMAP_RETURN_IF_ERROR(GetNumber(o, "queue_capacity", ctx, &t.queue_capacity));
  ECOMAP_RETURN_IF_ERROR(GetNumber(o, "seed", ctx, &t.seed));
  return t;
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

std::vector<UnitInfo> HostUnits() {
  std::vector<UnitInfo> units;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) units.push_back({"cpu" + std::to_string(c), c});
    }
  }
  return units;
}

StatusOr<std::vector<PipelineSpec>> ParseTenantsSpec(const std::string& text, uint64_t base_seed) {
  std::vector<PipelineSpec> out;
  std::vector<bool> named;
  std::vector<std::string> items = Split(text, ';');
  if (!items.empty() && Trim(items.back()).empty() && items.size() > 1) items.pop_back();
  for (size_t i = 0; i < items.size(); ++i) {
    if (Trim(items[i]).empty()) {
      return InvalidArgument("tenant " + std::to_string(i + 1) +
                             " is empty; tenants are separated by ';', e.g. "
                             "\"resnet18@cpu0,rate=20;mobilenet_v2@cpu1,closed=2\"");
    }
    bool was_named = false;
    ECOMAP_ASSIGN_OR_RETURN(PipelineSpec t,
                            ParseTenant(items[i], static_cast<int>(i), base_seed, &was_named));
    out.push_back(std::move(t));
    named.push_back(was_named);
  }
  FillDefaultNames(out, named);
  return out;
}

StatusOr<EngineSpec> EngineSpecFromJson(const nlohmann::json& j, const std::string& what,
                                        uint64_t base_seed) {
  EngineSpec spec;
  const nlohmann::json* tenants = &j;
  if (j.is_object()) {
    ECOMAP_RETURN_IF_ERROR(CheckKeys(j, what, {"online_units", "tenants"}));
    if (!j.contains("tenants") || !j.at("tenants").is_array()) {
      return InvalidArgument(what + ": 'tenants' must be an array of tenant objects");
    }
    tenants = &j.at("tenants");
    if (j.contains("online_units")) {
      const auto& u = j.at("online_units");
      if (!u.is_array()) return InvalidArgument(what + ": 'online_units' must be an array of unit names");
      for (const auto& n : u) {
        if (!n.is_string()) return InvalidArgument(what + ": 'online_units' entry " + n.dump() + " is not a string");
        spec.online_units.push_back(n.get<std::string>());
      }
    }
  } else if (!j.is_array()) {
    return InvalidArgument(what + ": expected {\"tenants\": [...]} or an array of tenants");
  }
  std::vector<bool> named;
  int i = 0;
  for (const auto& o : *tenants) {
    bool was_named = false;
    ECOMAP_ASSIGN_OR_RETURN(PipelineSpec t,
                            TenantFromJson(o, what + ": tenant " + std::to_string(i), base_seed + i,
                                           &was_named));
    spec.tenants.push_back(std::move(t));
    named.push_back(was_named);
    ++i;
  }
  FillDefaultNames(spec.tenants, named);
  return spec;
}

StatusOr<EngineSpec> LoadEngineSpecFile(const std::string& path, uint64_t base_seed) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open tenants file '" + path + "'");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(path + ": not valid JSON");
  return EngineSpecFromJson(j, path, base_seed);
}

nlohmann::json ToJson(const PipelineSpec& t) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : t.stages) stages.push_back({{"begin", s.begin}, {"end", s.end}, {"unit", s.unit}});
  nlohmann::json source;
  if (t.source.kind == SourceSpec::Kind::kPoisson) {
    source = {{"kind", "poisson"}, {"rate_rps", t.source.rate_rps}};
  } else {
    source = {{"kind", "closed"}, {"outstanding", t.source.outstanding}};
  }
  if (t.source.external) source["external"] = true;
  return {{"name", t.name},
          {"model", t.model},
          {"stages", stages},
          {"source", source},
          {"slo",
           {{"latency_ms", t.slo.latency_bound.value()},
            {"percentile", t.slo.percentile},
            {"min_throughput_rps", t.slo.min_throughput_rps}}},
          {"queue_capacity", t.queue_capacity},
          {"seed", t.seed}};
}

nlohmann::json ToJson(const EngineSpec& s) {
  nlohmann::json tenants = nlohmann::json::array();
  for (const auto& t : s.tenants) tenants.push_back(ToJson(t));
  nlohmann::json j = {{"tenants", tenants}};
  if (!s.online_units.empty()) j["online_units"] = s.online_units;
  return j;
}

std::string FormatStages(const std::vector<StageSpec>& stages) {
  std::string out;
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto& s = stages[i];
    out += i ? "|" : "";
    out += std::to_string(s.begin) + "-" + (s.end == StageSpec::kToEnd ? "" : std::to_string(s.end)) +
           ":" + s.unit;
  }
  return out;
}

std::string FormatTenant(const PipelineSpec& t) {
  std::string out = t.model + "@" + FormatStages(t.stages) + ",name=" + t.name;
  if (t.source.kind == SourceSpec::Kind::kPoisson) {
    out += ",rate=" + fmt::format("{:g}", t.source.rate_rps);
  } else {
    out += ",closed=" + std::to_string(t.source.outstanding);
  }
  if (t.source.external) out += ",external=1";
  out += ",slo=" + fmt::format("{:g}", t.slo.latency_bound.value()) + ",pct=" + fmt::format("{:g}", t.slo.percentile);
  if (t.slo.min_throughput_rps > 0) out += ",min_rps=" + fmt::format("{:g}", t.slo.min_throughput_rps);
  out += ",queue=" + std::to_string(t.queue_capacity) + ",seed=" + std::to_string(t.seed);
  return out;
}

Status ValidateTenant(PipelineSpec& t, const ModelLookup& find_model,
                      const std::vector<UnitInfo>& units,
                      const std::vector<std::string>& online_units) {
  if (t.name.empty()) return InvalidArgument("tenant of model '" + t.model + "' has no name");
  const zoo::ModelInfo* m = find_model ? find_model(t.model) : nullptr;
  if (m == nullptr) {
    return NotFound(Who(t) + ": unknown model '" + t.model +
                    "'; run `ecomap zoo list` for the known models");
  }
  const int n = static_cast<int>(m->blocks.size());
  if (t.stages.empty()) {
    return InvalidArgument(Who(t) + ": no stages; give at least one, e.g. " + t.model + "@cpu0");
  }
  int expect = 0;
  for (size_t i = 0; i < t.stages.size(); ++i) {
    StageSpec& s = t.stages[i];
    std::string sw = Who(t) + ": stage " + std::to_string(i) + " (" +
                     FormatStages({s}) + ")";
    if (s.end == StageSpec::kToEnd) s.end = n;
    if (s.begin < 0 || s.end < 0 || s.begin > n || s.end > n) {
      return InvalidArgument(sw + ": range outside the model's blocks 0-" + std::to_string(n) +
                             " (" + t.model + " has " + std::to_string(n) + " blocks)");
    }
    if (s.begin >= s.end) {
      return InvalidArgument(sw + ": empty block range; BEGIN must be < END (half-open [BEGIN, END))");
    }
    if (s.begin < expect) {
      return InvalidArgument(sw + ": overlaps the previous stage, which ends at block " +
                             std::to_string(expect) + "; stages must be contiguous and in block order");
    }
    if (s.begin > expect) {
      return InvalidArgument(sw + ": blocks " + std::to_string(expect) + "-" + std::to_string(s.begin) +
                             " are not covered by any stage; stages must be contiguous");
    }
    expect = s.end;
    auto u = std::find_if(units.begin(), units.end(), [&](const UnitInfo& x) { return x.name == s.unit; });
    if (u == units.end()) {
      return NotFound(sw + ": unit '" + s.unit + "' does not exist; units: " + UnitList(units));
    }
    if (!online_units.empty() &&
        std::find(online_units.begin(), online_units.end(), s.unit) == online_units.end()) {
      return FailedPrecondition(sw + ": unit '" + s.unit + "' is offline; online units: " +
                                Join(online_units));
    }
  }
  if (expect != n) {
    return InvalidArgument(Who(t) + ": stages end at block " + std::to_string(expect) + " but " +
                           t.model + " has " + std::to_string(n) +
                           " blocks; the last stage must end at " + std::to_string(n) +
                           " (or leave END empty)");
  }
  if (t.source.kind == SourceSpec::Kind::kPoisson) {
    if (!Finite(t.source.rate_rps) || t.source.rate_rps <= 0) {
      return InvalidArgument(Who(t) + ": rate " + fmt::format("{:g}", t.source.rate_rps) +
                             " requests/s must be > 0 (e.g. rate=20)");
    }
  } else if (t.source.outstanding < 1) {
    return InvalidArgument(Who(t) + ": closed=" + std::to_string(t.source.outstanding) +
                           " must be >= 1 request outstanding");
  }
  if (!Finite(t.slo.latency_bound.value()) || t.slo.latency_bound.value() <= 0) {
    return InvalidArgument(Who(t) + ": SLO latency " + fmt::format("{:g}", t.slo.latency_bound.value()) +
                           " ms must be > 0 (e.g. slo=100)");
  }
  if (!Finite(t.slo.percentile) || t.slo.percentile <= 0 || t.slo.percentile >= 100) {
    return InvalidArgument(Who(t) + ": SLO percentile " + fmt::format("{:g}", t.slo.percentile) +
                           " must be in (0, 100), e.g. pct=95");
  }
  if (!Finite(t.slo.min_throughput_rps) || t.slo.min_throughput_rps < 0) {
    return InvalidArgument(Who(t) + ": min_rps " + fmt::format("{:g}", t.slo.min_throughput_rps) + " must be >= 0");
  }
  if (t.queue_capacity < 1) {
    return InvalidArgument(Who(t) + ": queue=" + std::to_string(t.queue_capacity) + " must be >= 1");
  }
  if (t.source.kind == SourceSpec::Kind::kClosed && t.source.outstanding > t.queue_capacity) {
    return InvalidArgument(Who(t) + ": closed=" + std::to_string(t.source.outstanding) +
                           " exceeds queue=" + std::to_string(t.queue_capacity) +
                           "; raise queue= or lower closed=");
  }
  return Status::Ok();
}

Status ValidateEngineSpec(EngineSpec& spec, const ModelLookup& find_model,
                          const std::vector<UnitInfo>& units) {
  std::set<std::string> online;
  for (const std::string& u : spec.online_units) {
    if (std::none_of(units.begin(), units.end(), [&](const UnitInfo& x) { return x.name == u; })) {
      return NotFound("online unit '" + u + "' does not exist; units: " + UnitList(units));
    }
    if (!online.insert(u).second) return InvalidArgument("online unit '" + u + "' is listed twice");
  }
  std::set<std::string> names;
  for (PipelineSpec& t : spec.tenants) {
    if (!names.insert(t.name).second) {
      return InvalidArgument("two tenants are named '" + t.name + "'; give each a distinct name=");
    }
    ECOMAP_RETURN_IF_ERROR(ValidateTenant(t, find_model, units, spec.online_units));
  }
  return Status::Ok();
}

}  // namespace ecomap::engine
