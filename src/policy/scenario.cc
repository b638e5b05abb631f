#include "policy/scenario.h"

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "estimator/simulator_predictor.h"
#include "zoo/model.h"

namespace ecomap::policy {
namespace {

std::string At(const std::string& origin, const toml::node& n) {
  return origin + ":" + std::to_string(n.source().begin.line);
}

std::string FamilyMembers(const std::string& family) {
  std::string s;
  for (const zoo::ModelInfo* m : zoo::Family(family)) s += (s.empty() ? "" : ", ") + m->name;
  return s;
}

const std::set<std::string>& TenantKeys() {
  static const std::set<std::string> keys = {
      "name",        "family",   "variants",    "slo_ms",      "min_throughput_rps",
      "arrival",     "rate_rps", "concurrency", "rate_by_hour"};
  return keys;
}

std::string KeyList(const std::set<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

// A number (integer or float) that must be finite.
Status GetNumber(const toml::table& t, const char* key, const std::string& where, double* out,
                 bool* present) {
  const toml::node* n = t.get(key);
  *present = n != nullptr;
  if (!n) return Status::Ok();
  std::optional<double> v = n->value<double>();
  if (!n->is_number() || !v || !std::isfinite(*v)) {
    return InvalidArgument(At(where, *n) + ": " + key + " must be a number");
  }
  *out = *v;
  return Status::Ok();
}

Status GetString(const toml::table& t, const char* key, const std::string& where,
                 std::string* out, bool* present) {
  const toml::node* n = t.get(key);
  *present = n != nullptr;
  if (!n) return Status::Ok();
  if (!n->is_string()) return InvalidArgument(At(where, *n) + ": " + key + " must be a string");
  *out = n->value<std::string>().value_or("");
  return Status::Ok();
}

StatusOr<ScenarioTenant> ParseTenant(const toml::table& t, const std::string& origin, size_t index) {
  const std::string here = origin + ":" + std::to_string(t.source().begin.line);
  for (const auto& [k, v] : t) {
    if (!TenantKeys().count(std::string(k.str()))) {
      return InvalidArgument(At(origin, v) + ": [[tenant]] unknown key '" + std::string(k.str()) +
                             "'; known keys: " + KeyList(TenantKeys()));
    }
  }
  ScenarioTenant st;
  TenantSpec& s = st.spec;
  bool present = false;
  ECOMAP_RETURN_IF_ERROR(GetString(t, "name", origin, &s.name, &present));
  if (!present || s.name.empty()) {
    return InvalidArgument(here + ": [[tenant]] #" + std::to_string(index + 1) +
                           " has no name; add name = \"...\" (unique)");
  }
  const std::string who = "tenant '" + s.name + "'";
  ECOMAP_RETURN_IF_ERROR(GetString(t, "family", origin, &s.family, &present));
  if (!present) {
    std::string fams;
    for (const auto& f : zoo::Families()) fams += (fams.empty() ? "" : ", ") + f;
    return InvalidArgument(here + ": " + who + ": family is missing; add family = \"...\", one of: " + fams);
  }
  if (zoo::Family(s.family).empty()) {
    std::string fams;
    for (const auto& f : zoo::Families()) fams += (fams.empty() ? "" : ", ") + f;
    return NotFound(At(origin, *t.get("family")) + ": " + who + ": family: unknown family '" +
                    s.family + "'; known families: " + fams);
  }
  if (const toml::node* n = t.get("variants")) {
    const toml::array* a = n->as_array();
    if (!a || a->empty()) {
      return InvalidArgument(At(origin, *n) + ": " + who +
                             ": variants must be a non-empty array of model names, e.g. [\"" +
                             zoo::Family(s.family).front()->name + "\"] (or leave it out for the whole family)");
    }
    std::set<std::string> listed;
    for (const toml::node& e : *a) {
      if (!e.is_string())
        return InvalidArgument(At(origin, e) + ": " + who + ": variants must hold model names (strings)");
      std::string v = e.value<std::string>().value_or("");
      const zoo::ModelInfo* m = zoo::FindModel(v);
      if (m == nullptr) {
        return NotFound(At(origin, e) + ": " + who + ": variants: unknown model '" + v +
                        "'; members of family '" + s.family + "': " + FamilyMembers(s.family));
      }
      if (m->family != s.family) {
        return InvalidArgument(At(origin, e) + ": " + who + ": variants: '" + v +
                               "' belongs to family '" + m->family + "', not '" + s.family +
                               "'; use members of '" + s.family + "': " + FamilyMembers(s.family));
      }
      if (!listed.insert(v).second)
        return InvalidArgument(At(origin, e) + ": " + who + ": variants: '" + v + "' is listed twice");
    }
    // Catalogue order: increasing accuracy, the ladder substitution climbs down.
    for (const zoo::ModelInfo* m : zoo::Family(s.family)) {
      if (listed.count(m->name)) s.variants.push_back(m->name);
    }
  } else {
    for (const zoo::ModelInfo* m : zoo::Family(s.family)) s.variants.push_back(m->name);
  }

  double slo = 0;
  ECOMAP_RETURN_IF_ERROR(GetNumber(t, "slo_ms", origin, &slo, &present));
  if (!present) {
    return InvalidArgument(here + ": " + who + ": slo_ms is missing; add the p95 latency bound in ms, e.g. slo_ms = 20");
  }
  if (!(slo > 0) || slo > kMaxSloMs) {
    return InvalidArgument(At(origin, *t.get("slo_ms")) + ": " + who + ": slo_ms = " + fmt::format("{:g}", slo) +
                           fmt::format(" must be > 0 and at most {:.0f} (the p95 latency bound in milliseconds)", kMaxSloMs));
  }
  s.slo_p95 = Milliseconds{slo};

  double min_tp = 0;
  ECOMAP_RETURN_IF_ERROR(GetNumber(t, "min_throughput_rps", origin, &min_tp, &present));
  if (present && !(min_tp >= 0)) {
    return InvalidArgument(At(origin, *t.get("min_throughput_rps")) + ": " + who +
                           ": min_throughput_rps = " + fmt::format("{:g}", min_tp) + " must be >= 0 (0: none)");
  }
  s.min_throughput_rps = min_tp;

  std::string arrival = "open";
  ECOMAP_RETURN_IF_ERROR(GetString(t, "arrival", origin, &arrival, &present));
  if (arrival == "open") {
    s.arrival = platform::ArrivalKind::kOpenLoop;
  } else if (arrival == "closed") {
    s.arrival = platform::ArrivalKind::kClosedLoop;
  } else {
    return InvalidArgument(At(origin, *t.get("arrival")) + ": " + who + ": arrival = \"" + arrival +
                           "\" is not known; use \"open\" (Poisson at rate_rps) or \"closed\" (concurrency)");
  }

  double rate = 0;
  ECOMAP_RETURN_IF_ERROR(GetNumber(t, "rate_rps", origin, &rate, &present));
  bool has_conc = t.get("concurrency") != nullptr;
  if (s.arrival == platform::ArrivalKind::kOpenLoop) {
    if (!present) {
      return InvalidArgument(here + ": " + who +
                             ": rate_rps is missing; an open-loop tenant needs its mean arrival rate, e.g. rate_rps = 30");
    }
    if (!(rate > 0) || rate > kMaxRateRps) {
      return InvalidArgument(At(origin, *t.get("rate_rps")) + ": " + who + ": rate_rps = " + fmt::format("{:g}", rate) +
                             fmt::format(" must be in (0, {:g}] requests per second", kMaxRateRps));
    }
    if (has_conc) {
      return InvalidArgument(At(origin, *t.get("concurrency")) + ": " + who +
                             ": concurrency applies to arrival = \"closed\" only; remove it or set arrival = \"closed\"");
    }
    s.rate_rps = rate;
  } else {
    if (present) {
      return InvalidArgument(At(origin, *t.get("rate_rps")) + ": " + who +
                             ": rate_rps applies to arrival = \"open\" only; use concurrency for a closed loop");
    }
    if (has_conc) {
      const toml::node* n = t.get("concurrency");
      std::optional<int64_t> c = n->value<int64_t>();
      if (!n->is_integer() || !c || *c < 1 || *c > kMaxConcurrency) {
        return InvalidArgument(At(origin, *n) + ": " + who + ": concurrency must be an integer in [1, " +
                               std::to_string(kMaxConcurrency) + "] (requests outstanding)");
      }
      s.concurrency = static_cast<int>(*c);
    }
  }

  if (const toml::node* n = t.get("rate_by_hour")) {
    if (s.arrival != platform::ArrivalKind::kOpenLoop) {
      return InvalidArgument(At(origin, *n) + ": " + who +
                             ": rate_by_hour applies to arrival = \"open\" only; remove it");
    }
    const toml::array* a = n->as_array();
    if (!a || (a->size() != 24 && !a->empty())) {
      return InvalidArgument(At(origin, *n) + ": " + who + ": rate_by_hour must be an array of 24 numbers (UTC hours 0..23), got " +
                             (a ? std::to_string(a->size()) + " values" : std::string("a non-array")));
    }
    for (size_t h = 0; h < a->size(); ++h) {
      const toml::node& e = *a->get(h);
      std::optional<double> v = e.value<double>();
      if (!e.is_number() || !v || !std::isfinite(*v) || !(*v > 0) || *v > 1e3) {
        return InvalidArgument(At(origin, e) + ": " + who + ": rate_by_hour[" + std::to_string(h) +
                               "] must be a multiplier in (0, 1000] of rate_rps");
      }
      st.rate_by_hour.push_back(*v);
    }
    if (st.PeakRate() > kMaxRateRps) {
      return InvalidArgument(At(origin, *n) + ": " + who +
                             fmt::format(": rate_rps x rate_by_hour exceeds {:g} requests per second", kMaxRateRps));
    }
  }
  return st;
}

Status CheckFeasible(const Scenario& s, const ScenarioCheck& check) {
  std::unique_ptr<estimator::SimulatorPredictor> own;
  const platform::PlatformInfo* info = check.platform;
  const estimator::Predictor* predictor = check.predictor;
  if ((info == nullptr) != (predictor == nullptr)) {
    return InvalidArgument("scenario check: give both a platform and a predictor, or neither (xavier-sim)");
  }
  if (info == nullptr) {
    own = std::make_unique<estimator::SimulatorPredictor>();
    info = &own->info();
    predictor = own.get();
  }
  for (const ScenarioTenant& t : s.tenants) {
    double rate = t.PeakRate();
    ECOMAP_ASSIGN_OR_RETURN(AloneBest best, BestAlone(t.spec, rate, *info, *predictor));
    std::string load = t.spec.arrival == platform::ArrivalKind::kOpenLoop
                           ? "at its peak rate " + fmt::format("{:g}", rate) + " req/s"
                           : "with concurrency " + std::to_string(t.spec.concurrency);
    if (best.saturated) {
      return InvalidArgument(s.origin + ": tenant '" + t.spec.name + "': impossible load: even " + best.model +
                             " alone on " + best.unit + " in mode " + HighestMode(*info).name + " of " +
                             info->name + " cannot keep up " + load +
                             "; lower rate_rps / rate_by_hour or allow lighter variants");
    }
    if (best.latency_p95.value() > t.spec.slo_p95.value()) {
      return InvalidArgument(s.origin + ": tenant '" + t.spec.name + "': impossible SLO: slo_ms = " +
                             fmt::format("{:g}", t.spec.slo_p95.value()) + " but even the lightest variant " + best.model +
                             " alone on the fastest unit (" + best.unit + ") in the highest mode (" +
                             HighestMode(*info).name + ") of " + info->name + " has a predicted p95 of " +
                             fmt::format("{:.3g}", best.latency_p95.value()) + " ms " + load + "; raise slo_ms above that");
    }
    if (t.spec.min_throughput_rps > 0) {
      // The throughput floor cannot exceed what the tenant offers (open loop).
      if (t.spec.arrival == platform::ArrivalKind::kOpenLoop &&
          t.spec.min_throughput_rps > t.spec.rate_rps * (t.rate_by_hour.empty()
                                                            ? 1.0
                                                            : *std::min_element(t.rate_by_hour.begin(),
                                                                                t.rate_by_hour.end())) +
                                          1e-9) {
        return InvalidArgument(s.origin + ": tenant '" + t.spec.name + "': min_throughput_rps = " +
                               fmt::format("{:g}", t.spec.min_throughput_rps) +
                               " exceeds the offered rate in some hour; an open-loop tenant cannot serve more than it is sent");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

double ScenarioTenant::RateAtHour(int hour) const {
  if (rate_by_hour.size() != 24) return spec.rate_rps;
  hour = ((hour % 24) + 24) % 24;
  return spec.rate_rps * rate_by_hour[hour];
}

double ScenarioTenant::PeakRate() const {
  if (rate_by_hour.size() != 24) return spec.rate_rps;
  return spec.rate_rps * *std::max_element(rate_by_hour.begin(), rate_by_hour.end());
}

std::vector<TenantSpec> Scenario::DemandAt(TimePoint t) const {
  auto day = std::chrono::floor<std::chrono::days>(t);
  int hour = static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(t - day).count());
  std::vector<TenantSpec> out;
  out.reserve(tenants.size());
  for (const ScenarioTenant& st : tenants) {
    TenantSpec s = st.spec;
    if (s.arrival == platform::ArrivalKind::kOpenLoop) s.rate_rps = st.RateAtHour(hour);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<TenantSpec> Scenario::PeakDemand() const {
  std::vector<TenantSpec> out;
  for (const ScenarioTenant& st : tenants) {
    TenantSpec s = st.spec;
    if (s.arrival == platform::ArrivalKind::kOpenLoop) s.rate_rps = st.PeakRate();
    out.push_back(std::move(s));
  }
  return out;
}

const platform::PowerMode& HighestMode(const platform::PlatformInfo& info) {
  const platform::PowerMode* best = &info.modes.front();
  for (const platform::PowerMode& m : info.modes) {
    if (!m.budget) {
      if (best->budget) best = &m;  // no budget beats any budget; first such mode wins
      continue;
    }
    if (best->budget && *m.budget > *best->budget) best = &m;
  }
  return *best;
}

const zoo::ModelInfo* LightestVariant(const std::vector<std::string>& variants) {
  const zoo::ModelInfo* best = nullptr;
  for (const std::string& v : variants) {
    const zoo::ModelInfo* m = zoo::FindModel(v);
    if (m && (!best || m->TotalFlops() < best->TotalFlops())) best = m;
  }
  return best;
}

StatusOr<AloneBest> BestAlone(const TenantSpec& spec, double rate_rps, const platform::PlatformInfo& info,
                              const estimator::Predictor& predictor) {
  std::vector<std::string> variants = spec.variants;
  if (variants.empty()) {
    for (const zoo::ModelInfo* m : zoo::Family(spec.family)) variants.push_back(m->name);
  }
  const zoo::ModelInfo* model = LightestVariant(variants);
  if (model == nullptr) return NotFound("tenant '" + spec.name + "': no known variant");
  const platform::PowerMode& mode = HighestMode(info);
  const int blocks = static_cast<int>(model->blocks.size());
  std::vector<platform::Configuration> configs;
  std::vector<std::string> units;
  for (const platform::ComputeUnit& u : info.units) {
    platform::Configuration c;
    c.power_mode = mode.id;
    platform::TenantConfig tc;
    tc.name = spec.name;
    tc.model = model->name;
    tc.stages = {{0, blocks, u.id}};
    tc.arrival = spec.arrival;
    tc.rate_rps = rate_rps;
    tc.concurrency = spec.concurrency;
    c.tenants.push_back(tc);
    if (!platform::ValidateConfiguration(info, c, platform::DefaultModelLookup()).ok()) continue;
    configs.push_back(std::move(c));
    units.push_back(u.id);
  }
  if (configs.empty()) {
    return InvalidArgument("tenant '" + spec.name + "': no unit of " + info.name + " runs " + model->name);
  }
  ECOMAP_ASSIGN_OR_RETURN(std::vector<platform::Performance> perf, predictor.PredictBatch(configs));
  AloneBest best;
  best.model = model->name;
  bool have = false;
  for (size_t i = 0; i < perf.size(); ++i) {
    const platform::TenantPerformance& tp = perf[i].tenants.at(0);
    // Prefer unsaturated, then lower p95.
    bool better = !have || (best.saturated && !tp.saturated) ||
                  (best.saturated == tp.saturated && tp.latency_p95 < best.latency_p95);
    if (better) {
      best.latency_p95 = tp.latency_p95;
      best.unit = units[i];
      best.saturated = tp.saturated;
      have = true;
    }
  }
  return best;
}

StatusOr<Scenario> ParseScenario(std::string_view text, const std::string& origin, const ScenarioCheck& check) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(origin + ":" + std::to_string(e.source().begin.line) + ": not valid TOML: " +
                           std::string(e.description()));
  }
  Scenario s;
  s.origin = origin;
  static const std::set<std::string> top = {"name", "description", "tenant"};
  for (const auto& [k, v] : root) {
    if (!top.count(std::string(k.str()))) {
      return InvalidArgument(At(origin, v) + ": unknown key '" + std::string(k.str()) +
                             "' at the top level; known: " + KeyList(top) + " (tenants go in [[tenant]] tables)");
    }
  }
  bool present = false;
  ECOMAP_RETURN_IF_ERROR(GetString(root, "name", origin, &s.name, &present));
  if (!present || s.name.empty()) {
    std::string base = origin;
    if (auto p = base.find_last_of('/'); p != std::string::npos) base = base.substr(p + 1);
    if (auto p = base.rfind('.'); p != std::string::npos && p > 0) base = base.substr(0, p);
    s.name = base;
  }
  ECOMAP_RETURN_IF_ERROR(GetString(root, "description", origin, &s.description, &present));
  const toml::node* tn = root.get("tenant");
  if (tn == nullptr) {
    return InvalidArgument(origin + ": no tenants; add at least one [[tenant]] table (see data/scenarios/default.toml)");
  }
  const toml::array* tenants = tn->as_array();
  if (tenants == nullptr || !tenants->is_array_of_tables() || tenants->empty()) {
    return InvalidArgument(At(origin, *tn) + ": 'tenant' must be written as [[tenant]] tables, at least one");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < tenants->size(); ++i) {
    const toml::table& t = *tenants->get(i)->as_table();
    ECOMAP_ASSIGN_OR_RETURN(ScenarioTenant st, ParseTenant(t, origin, i));
    if (!names.insert(st.spec.name).second) {
      return InvalidArgument(origin + ":" + std::to_string(t.source().begin.line) + ": tenant '" + st.spec.name +
                             "' is declared twice; tenant names must be unique");
    }
    s.tenants.push_back(std::move(st));
  }
  // The same checks the controllers run (defence in depth: both must agree).
  if (Status v = ValidateTenants(s.PeakDemand()); !v.ok()) return v.WithContext(origin);
  if (check.check_feasibility) ECOMAP_RETURN_IF_ERROR(CheckFeasible(s, check));
  return s;
}

StatusOr<Scenario> LoadScenario(const std::string& path, const ScenarioCheck& check) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("cannot read scenario file '" + path + "'; give an existing TOML file (e.g. " +
                    DefaultScenarioPath() + ")");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseScenario(ss.str(), path, check);
}

std::string DefaultScenarioPath() { return std::string(ECOMAP_DATA_DIR) + "/scenarios/default.toml"; }

}  // namespace ecomap::policy
