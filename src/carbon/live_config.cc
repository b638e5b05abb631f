#include "carbon/live_config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace ecomap::carbon {
namespace {

std::string Where(const std::string& name, const toml::node& n) {
  const auto& src = n.source();
  return name + ":" + std::to_string(src.begin.line);
}

Status CheckKeys(const toml::table& t, const std::string& section, const std::set<std::string>& allowed,
                 const std::string& name) {
  for (const auto& [k, v] : t) {
    if (!allowed.count(std::string(k.str()))) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgument(Where(name, v) + ": unknown key '" + std::string(k.str()) + "' in [" + section +
                             "]; known keys: " + list);
    }
  }
  return Status::Ok();
}

Status GetString(const toml::table& t, const char* key, const std::string& section, const std::string& name,
                 std::string* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  if (!n->is_string())
    return InvalidArgument(Where(name, *n) + ": [" + section + "] " + key + " must be a string");
  *out = n->value<std::string>().value_or("");
  return Status::Ok();
}

// A positive number (integer or float) scaled to a Duration by `unit_ms`.
Status GetDuration(const toml::table& t, const char* key, const std::string& section, const std::string& name,
                   double unit_ms, Duration* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  std::optional<double> v = n->value<double>();
  if (!n->is_number() || !v || !(*v > 0) || *v > 1e9) {
    return InvalidArgument(Where(name, *n) + ": [" + section + "] " + key + " must be a positive number");
  }
  *out = Duration(static_cast<long long>(*v * unit_ms));
  return Status::Ok();
}

Status GetDouble(const toml::table& t, const char* key, const std::string& section, const std::string& name,
                 std::optional<double>* out) {
  const toml::node* n = t.get(key);
  if (!n) return Status::Ok();
  if (!n->is_number())
    return InvalidArgument(Where(name, *n) + ": [" + section + "] " + key + " must be a number");
  *out = n->value<double>();
  return Status::Ok();
}

const toml::table* Section(const toml::table& root, const char* sub) {
  const toml::table* carbon = root["carbon"].as_table();
  return carbon ? (*carbon)[sub].as_table() : nullptr;
}

void ApplyEnvironment(LiveConfig& c, const EnvLookup& env) {
  if (!env) return;
  if (auto v = env("ECOMAP_ELECTRICITYMAPS_TOKEN"); v && !v->empty()) c.electricitymaps.token = *v;
  if (auto v = env("ECOMAP_WATTTIME_USERNAME"); v && !v->empty()) c.watttime.username = *v;
  if (auto v = env("ECOMAP_WATTTIME_PASSWORD"); v && !v->empty()) c.watttime.password = *v;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

StatusOr<LiveConfig> ParseLiveConfig(std::string_view text, const std::string& name, const EnvLookup& env) {
  LiveConfig c;
  c.path = name;
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(name + ":" + std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
  // Only this part's sections are checked: the same file may hold other parts' settings.
  if (const toml::table* t = Section(root, "live")) {
    const std::string s = "carbon.live";
    ECOMAP_RETURN_IF_ERROR(
        CheckKeys(*t, s,
                  {"timeout_ms", "connect_timeout_ms", "max_attempts", "cache_latest_ttl_s",
                   "cache_forecast_ttl_s", "last_known_max_age_min", "live_cooldown_s"},
                  name));
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "timeout_ms", s, name, 1, &c.http.total_timeout));
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "connect_timeout_ms", s, name, 1, &c.http.connect_timeout));
    if (const toml::node* n = t->get("max_attempts")) {
      std::optional<int64_t> v = n->value<int64_t>();
      if (!n->is_integer() || !v || *v < 1 || *v > 10) {
        return InvalidArgument(Where(name, *n) +
                               ": [carbon.live] max_attempts must be an integer in [1, 10]");
      }
      c.http.retry.max_attempts = static_cast<int>(*v);
    }
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "cache_latest_ttl_s", s, name, 1000, &c.cache.latest_ttl));
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "cache_forecast_ttl_s", s, name, 1000, &c.cache.forecast_ttl));
    ECOMAP_RETURN_IF_ERROR(
        GetDuration(*t, "last_known_max_age_min", s, name, 60000, &c.fallback.last_known_max_age));
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "live_cooldown_s", s, name, 1000, &c.fallback.live_cooldown));
  }
  if (const toml::table* t = Section(root, "electricitymaps")) {
    const std::string s = "carbon.electricitymaps";
    auto& o = c.electricitymaps;
    ECOMAP_RETURN_IF_ERROR(CheckKeys(
        *t, s, {"token", "zone", "lat", "lon", "emission_factor_type", "base_url", "max_age_min"}, name));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "token", s, name, &o.token));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "zone", s, name, &o.zone));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "emission_factor_type", s, name, &o.emission_factor_type));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "base_url", s, name, &o.base_url));
    ECOMAP_RETURN_IF_ERROR(GetDouble(*t, "lat", s, name, &o.lat));
    ECOMAP_RETURN_IF_ERROR(GetDouble(*t, "lon", s, name, &o.lon));
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "max_age_min", s, name, 60000, &o.max_age));
  }
  if (const toml::table* t = Section(root, "watttime")) {
    const std::string s = "carbon.watttime";
    auto& o = c.watttime;
    ECOMAP_RETURN_IF_ERROR(
        CheckKeys(*t, s, {"username", "password", "region", "base_url", "max_age_min"}, name));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "username", s, name, &o.username));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "password", s, name, &o.password));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "region", s, name, &o.region));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "base_url", s, name, &o.base_url));
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "max_age_min", s, name, 60000, &o.max_age));
  }
  if (const toml::table* t = Section(root, "ukgrid")) {
    const std::string s = "carbon.ukgrid";
    ECOMAP_RETURN_IF_ERROR(CheckKeys(*t, s, {"base_url", "max_age_min"}, name));
    ECOMAP_RETURN_IF_ERROR(GetString(*t, "base_url", s, name, &c.ukgrid.base_url));
    ECOMAP_RETURN_IF_ERROR(GetDuration(*t, "max_age_min", s, name, 60000, &c.ukgrid.max_age));
  }
  ApplyEnvironment(c, env);
  return c;
}

StatusOr<LiveConfig> LoadLiveConfig(const std::string& path, const EnvLookup& env) {
  if (path.empty()) {
    LiveConfig c;
    ApplyEnvironment(c, env);
    return c;
  }
  std::ifstream in(path);
  if (!in) return NotFound("config file '" + path + "' does not exist or cannot be read; check --config");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseLiveConfig(ss.str(), path, env);
}

}  // namespace ecomap::carbon
