#include "service/config.h"

#include "service/power_knob.h"

#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "zoo/model.h"
#include "zoo/torchscript.h"

namespace ecomap::service {
namespace {

namespace fs = std::filesystem;

// Reads typed keys of one table, naming FILE:LINE and [section] key in errors.
class Reader {
 public:
  Reader(const toml::table* t, std::string section, std::string file, int line)
      : t_(t), section_(std::move(section)), file_(std::move(file)), line_(line) {}

  std::string Where(const char* key) const {
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    int line = n ? static_cast<int>(n->source().begin.line) : line_;
    return file_ + ":" + std::to_string(line) + ": [" + section_ + "] " + key;
  }

  Status CheckKeys(const std::set<std::string>& allowed) const {
    if (!t_) return Status::Ok();
    for (const auto& [k, v] : *t_) {
      std::string key(k.str());
      if (allowed.count(key)) continue;
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgument(file_ + ":" + std::to_string(v.source().begin.line) + ": unknown key '" + key +
                             "' in [" + section_ + "]; known keys: " + list);
    }
    return Status::Ok();
  }

  Status String(const char* key, std::string* out) const {
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    if (!n) return Status::Ok();
    if (!n->is_string()) return InvalidArgument(Where(key) + " must be a string (in double quotes)");
    *out = *n->value<std::string>();
    return Status::Ok();
  }

  // A number in [lo, hi].
  Status Number(const char* key, double lo, double hi, double* out) const {
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    if (!n) return Status::Ok();
    std::optional<double> v = n->value<double>();
    if (!n->is_number() || !v || !std::isfinite(*v) || *v < lo || *v > hi) {
      std::ostringstream m;
      m << Where(key) << " must be a number in [" << lo << ", " << hi << "]";
      return InvalidArgument(m.str());
    }
    *out = *v;
    return Status::Ok();
  }

  Status Integer(const char* key, int64_t lo, int64_t hi, int64_t* out) const {
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    if (!n) return Status::Ok();
    std::optional<int64_t> v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < lo || *v > hi) {
      return InvalidArgument(Where(key) + " must be an integer in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
    }
    *out = *v;
    return Status::Ok();
  }

  Status Bool(const char* key, bool* out) const {
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    if (!n) return Status::Ok();
    if (!n->is_boolean()) return InvalidArgument(Where(key) + " must be true or false");
    *out = *n->value<bool>();
    return Status::Ok();
  }

  Status StringList(const char* key, std::vector<std::string>* out) const {
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    if (!n) return Status::Ok();
    const toml::array* a = n->as_array();
    if (!a) return InvalidArgument(Where(key) + " must be an array of strings, e.g. [\"resnet18\"]");
    out->clear();
    for (const auto& e : *a) {
      if (!e.is_string()) return InvalidArgument(Where(key) + " must be an array of strings, e.g. [\"resnet18\"]");
      out->push_back(*e.value<std::string>());
    }
    return Status::Ok();
  }

  Status IntegerList(const char* key, std::vector<int64_t>* out) const {
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    if (!n) return Status::Ok();
    const toml::array* a = n->as_array();
    if (!a) return InvalidArgument(Where(key) + " must be an array of integers, e.g. [1, 3, 224, 224]");
    out->clear();
    for (const auto& e : *a) {
      if (!e.is_integer()) return InvalidArgument(Where(key) + " must be an array of integers, e.g. [1, 3, 224, 224]");
      out->push_back(*e.value<int64_t>());
    }
    return Status::Ok();
  }

  bool Has(const char* key) const { return t_ && t_->get(key); }

 private:
  const toml::table* t_;
  std::string section_, file_;
  int line_;
};

// Resolves a relative path: against base_dir when that file exists (or for outputs), else
// against the bundled data folder's parent (the repository) when the file exists there.
std::string Resolve(const std::string& p, const std::string& base_dir, bool must_exist) {
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_absolute()) return p;
  fs::path a = fs::path(base_dir.empty() ? "." : base_dir) / path;
  if (!must_exist || fs::exists(a)) return a.lexically_normal().string();
  fs::path repo = fs::path(ECOMAP_DATA_DIR).parent_path();
  fs::path b = repo / path;
  if (fs::exists(b)) return b.lexically_normal().string();
  return a.lexically_normal().string();
}

}  // namespace

std::vector<std::string> TenantVariants(const policy::TenantSpec& t) {
  if (!t.variants.empty()) return t.variants;
  std::vector<std::string> out;
  for (const zoo::ModelInfo* m : zoo::Family(t.family)) out.push_back(m->name);
  return out;
}

StatusOr<ServeConfig> ParseServeConfig(std::string_view text, const std::string& name,
                                       const std::string& base_dir, const carbon::EnvLookup& env) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(name + ":" + std::to_string(e.source().begin.line) + ": not valid TOML: " +
                           std::string(e.description()));
  }
  ServeConfig c;
  c.path = name;
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    if (key != "serve" && key != "carbon") {
      return InvalidArgument(name + ":" + std::to_string(v.source().begin.line) + ": unknown table '" + key +
                             "'; a serve config has [serve...] and optionally [carbon.*] tables");
    }
  }
  const toml::table* serve = root["serve"].as_table();
  if (!serve) return InvalidArgument(name + ": no [serve] table; see data/serve/ecomap.toml for an example");
  Reader r(serve, "serve", name, 1);
  ECOMAP_RETURN_IF_ERROR(r.CheckKeys(
      {"platform", "interval_s", "data_dir", "seed", "drain_ms", "apply_mode", "power_knob", "load", "api", "grpc", "carbon", "controller", "tenants"}));
  ECOMAP_RETURN_IF_ERROR(r.String("platform", &c.platform));
  if (c.platform != "host" && c.platform != "xavier-sim" && c.platform != "jetson") {
    return InvalidArgument(r.Where("platform") + " = '" + c.platform + "' is unknown; use host, xavier-sim or jetson");
  }
  ECOMAP_RETURN_IF_ERROR(r.Number("interval_s", 0.2, 86400, &c.interval_s));
  std::string data_dir = "ecomap-data";
  ECOMAP_RETURN_IF_ERROR(r.String("data_dir", &data_dir));
  if (data_dir.empty()) return InvalidArgument(r.Where("data_dir") + " must not be empty");
  c.data_dir = Resolve(data_dir, base_dir, false);
  int64_t seed = 1, drain = 2000;
  ECOMAP_RETURN_IF_ERROR(r.Integer("seed", 0, INT64_MAX, &seed));
  ECOMAP_RETURN_IF_ERROR(r.Integer("drain_ms", 0, 600000, &drain));
  c.seed = static_cast<uint64_t>(seed);
  c.drain_ms = static_cast<int>(drain);
  if ((*serve).contains("apply_mode")) {
    return InvalidArgument(r.Where("apply_mode") + " was replaced by power_knob: apply_mode = true is power_knob = \"mode\", "
                           "false is power_knob = \"none\"; on host the default is power_knob = \"cpu-share\" "
                           "(the daemon's own CPU share)");
  }
  c.power_knob = c.platform == "host" ? "cpu-share" : "mode";
  ECOMAP_RETURN_IF_ERROR(r.String("power_knob", &c.power_knob));
  if (c.power_knob != "mode" && c.power_knob != "cpu-share" && c.power_knob != "none") {
    return InvalidArgument(r.Where("power_knob") + " = '" + c.power_knob + "' is unknown; use " + kPowerKnobs);
  }
  if (c.power_knob == "cpu-share" && c.platform != "host") {
    return InvalidArgument(r.Where("power_knob") + " = \"cpu-share\" limits the daemon's own CPUs and needs platform = \"host\" (this is \"" +
                           c.platform + "\"); use \"mode\" or \"none\"");
  }
  std::string load = "generated";
  ECOMAP_RETURN_IF_ERROR(r.String("load", &load));
  if (load != "generated" && load != "clients") {
    return InvalidArgument(r.Where("load") + " = '" + load + "' is unknown; use \"generated\" or \"clients\"");
  }
  c.client_load = load == "clients";

  // [serve.api]
  {
    const toml::table* t = (*serve)["api"].as_table();
    Reader a(t, "serve.api", name, 1);
    ECOMAP_RETURN_IF_ERROR(a.CheckKeys({"listen", "token", "max_body_bytes", "max_infer_body_bytes",
                                        "rate_limit_rps", "mutating_rate_limit_rps"}));
    std::string listen = "127.0.0.1:8470";
    ECOMAP_RETURN_IF_ERROR(a.String("listen", &listen));
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return InvalidArgument(a.Where("listen") + " = '" + listen + "' must be HOST:PORT, e.g. 127.0.0.1:8470");
    }
    c.api.host = listen.substr(0, colon);
    std::string port = listen.substr(colon + 1);
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
      return InvalidArgument(a.Where("listen") + " = '" + listen + "': the port must be 0..65535");
    }
    c.api.port = static_cast<int>(p);
    ECOMAP_RETURN_IF_ERROR(a.String("token", &c.api.token));
    int64_t body = static_cast<int64_t>(c.api.max_body_bytes);
    ECOMAP_RETURN_IF_ERROR(a.Integer("max_body_bytes", 256, 16 << 20, &body));
    c.api.max_body_bytes = static_cast<size_t>(body);
    int64_t infer_body = static_cast<int64_t>(c.api.max_infer_body_bytes);
    ECOMAP_RETURN_IF_ERROR(a.Integer("max_infer_body_bytes", 1024, int64_t{1} << 30, &infer_body));
    c.api.max_infer_body_bytes = static_cast<size_t>(infer_body);
    ECOMAP_RETURN_IF_ERROR(a.Number("rate_limit_rps", 1, 1e7, &c.api.rate_limit_rps));
    ECOMAP_RETURN_IF_ERROR(a.Number("mutating_rate_limit_rps", 0.01, 1e6, &c.api.mutating_rate_limit_rps));
  }
  if (env) {
    if (auto v = env("ECOMAP_API_TOKEN"); v && !v->empty()) c.api.token = *v;
  }

  // [serve.grpc]
  {
    const toml::table* t = (*serve)["grpc"].as_table();
    Reader g(t, "serve.grpc", name, 1);
    ECOMAP_RETURN_IF_ERROR(g.CheckKeys({"listen", "max_message_bytes"}));
    std::string listen;
    ECOMAP_RETURN_IF_ERROR(g.String("listen", &listen));
    if (!listen.empty()) {
      size_t colon = listen.rfind(':');
      char* end = nullptr;
      long p = colon == std::string::npos ? -1 : std::strtol(listen.c_str() + colon + 1, &end, 10);
      if (colon == std::string::npos || colon == 0 || end == nullptr || *end != '\0' || p < 0 || p > 65535) {
        return InvalidArgument(g.Where("listen") + " = '" + listen +
                               "' must be HOST:PORT with a port in 0..65535, e.g. 127.0.0.1:8471 (empty: no gRPC)");
      }
      c.grpc.enabled = true;
      c.grpc.host = listen.substr(0, colon);
      c.grpc.port = static_cast<int>(p);
    }
    int64_t max_msg = static_cast<int64_t>(c.grpc.max_message_bytes);
    ECOMAP_RETURN_IF_ERROR(g.Integer("max_message_bytes", 1024, int64_t{1} << 30, &max_msg));
    c.grpc.max_message_bytes = static_cast<size_t>(max_msg);
  }

  // [serve.carbon]
  {
    const toml::table* t = (*serve)["carbon"].as_table();
    Reader a(t, "serve.carbon", name, 1);
    ECOMAP_RETURN_IF_ERROR(a.CheckKeys({"provider", "trace", "column", "speedup", "start", "loop"}));
    ECOMAP_RETURN_IF_ERROR(a.String("provider", &c.carbon.provider));
    if (c.carbon.provider != "trace" && c.carbon.provider != "electricitymaps" &&
        c.carbon.provider != "watttime" && c.carbon.provider != "ukgrid") {
      return InvalidArgument(a.Where("provider") + " = '" + c.carbon.provider +
                             "' is unknown; use trace, electricitymaps, watttime or ukgrid");
    }
    std::string trace = "data/carbon/ES_2023_hourly.csv";
    ECOMAP_RETURN_IF_ERROR(a.String("trace", &trace));
    c.carbon.trace_path = Resolve(trace, base_dir, true);
    if (!fs::exists(c.carbon.trace_path)) {
      return NotFound(a.Where("trace") + ": file '" + trace + "' not found (looked in " + base_dir +
                      " and the repository); give a trace CSV, e.g. data/carbon/ES_2023_hourly.csv");
    }
    ECOMAP_RETURN_IF_ERROR(a.String("column", &c.carbon.column));
    if (c.carbon.column != "direct" && c.carbon.column != "lca" && c.carbon.column != "lifecycle") {
      return InvalidArgument(a.Where("column") + " = '" + c.carbon.column + "'; use direct or lca");
    }
    ECOMAP_RETURN_IF_ERROR(a.Number("speedup", 1e-3, 1e7, &c.carbon.speedup));
    std::string start;
    ECOMAP_RETURN_IF_ERROR(a.String("start", &start));
    if (!start.empty()) {
      StatusOr<TimePoint> tp = ParseTimestamp(start);
      if (!tp.ok()) return InvalidArgument(a.Where("start") + ": " + tp.status().message() + " (e.g. 2023-06-01T00:00:00Z)");
      c.carbon.start = *tp;
    }
    ECOMAP_RETURN_IF_ERROR(a.Bool("loop", &c.carbon.loop));
  }

  // [serve.controller]
  {
    const toml::table* t = (*serve)["controller"].as_table();
    Reader a(t, "serve.controller", name, 1);
    ECOMAP_RETURN_IF_ERROR(a.CheckKeys({"name", "algorithm", "budget_evals", "max_stages", "slo_breach_intervals",
                                        "seed", "clover_lambda", "accuracy_price", "threshold_depth", "predictor",
                                        "profile"}));
    ECOMAP_RETURN_IF_ERROR(a.String("name", &c.controller.name));
    policy::ControllerOptions& o = c.controller.options;
    ECOMAP_RETURN_IF_ERROR(a.String("algorithm", &o.algorithm));
    int64_t v = o.budget_evals;
    ECOMAP_RETURN_IF_ERROR(a.Integer("budget_evals", 1, 1000000, &v));
    o.budget_evals = static_cast<int>(v);
    v = o.max_stages;
    ECOMAP_RETURN_IF_ERROR(a.Integer("max_stages", 1, 8, &v));
    o.max_stages = static_cast<int>(v);
    v = o.slo_breach_intervals;
    ECOMAP_RETURN_IF_ERROR(a.Integer("slo_breach_intervals", 1, 1000, &v));
    o.slo_breach_intervals = static_cast<int>(v);
    v = static_cast<int64_t>(c.seed);
    ECOMAP_RETURN_IF_ERROR(a.Integer("seed", 0, INT64_MAX, &v));
    o.seed = static_cast<uint64_t>(v);
    ECOMAP_RETURN_IF_ERROR(a.Number("clover_lambda", 0, 1, &o.clover_lambda));
    ECOMAP_RETURN_IF_ERROR(a.Number("accuracy_price", 0, 1e6, &o.accuracy_price));
    ECOMAP_RETURN_IF_ERROR(a.Number("threshold_depth", 0, 1, &o.threshold.depth));
    if (c.platform == "xavier-sim") c.controller.predictor = "simulator";  // no shipped xavier-sim profile
    ECOMAP_RETURN_IF_ERROR(a.String("predictor", &c.controller.predictor));
    if (c.controller.predictor != "analytic" && c.controller.predictor != "simulator") {
      return InvalidArgument(a.Where("predictor") + " = '" + c.controller.predictor +
                             "'; use analytic (fitted on a profile) or simulator (xavier-sim only)");
    }
    if (c.controller.predictor == "simulator" && c.platform != "xavier-sim") {
      return InvalidArgument(a.Where("predictor") + " = 'simulator' needs platform = \"xavier-sim\"; use analytic");
    }
    std::string profile = "data/profiles/" + std::string(c.platform == "host" ? "host" : c.platform) + ".jsonl";
    ECOMAP_RETURN_IF_ERROR(a.String("profile", &profile));
    c.controller.profile_path = Resolve(profile, base_dir, true);
  }

  // [[serve.tenants]]
  if (const toml::node* tn = serve->get("tenants")) {
    const toml::array* arr = tn->as_array();
    if (!arr) {
      return InvalidArgument(name + ":" + std::to_string(tn->source().begin.line) +
                             ": serve.tenants must be an array of tables: write [[serve.tenants]]");
    }
    int index = 0;
    for (const auto& e : *arr) {
      const toml::table* t = e.as_table();
      const std::string sec = "serve.tenants #" + std::to_string(++index);
      if (!t) return InvalidArgument(name + ": " + sec + " must be a table");
      Reader a(t, sec, name, static_cast<int>(e.source().begin.line));
      ECOMAP_RETURN_IF_ERROR(a.CheckKeys({"name", "family", "variants", "slo_ms", "rate_rps", "concurrency",
                                          "min_throughput_rps", "models"}));
      policy::TenantSpec s;
      ECOMAP_RETURN_IF_ERROR(a.String("name", &s.name));
      ECOMAP_RETURN_IF_ERROR(a.String("family", &s.family));
      ECOMAP_RETURN_IF_ERROR(a.StringList("variants", &s.variants));
      // [[serve.tenants.models]]: the tenant's own TorchScript models (zoo/torchscript.h).
      if (const toml::node* mn = t->get("models")) {
        const toml::array* models = mn->as_array();
        if (!models) {
          return InvalidArgument(name + ":" + std::to_string(mn->source().begin.line) + ": [" + sec +
                                 "] models must be an array of tables: write [[serve.tenants.models]]");
        }
        if (s.family.empty()) {
          return InvalidArgument(a.Where("family") + " is required with models: name the family of your own models, "
                                                     "e.g. family = \"doorbell\"");
        }
        int mi = 0;
        for (const auto& me : *models) {
          const toml::table* mt = me.as_table();
          const std::string msec = sec + " models #" + std::to_string(++mi);
          if (!mt) return InvalidArgument(name + ": [" + msec + "] must be a table");
          Reader m(mt, msec, name, static_cast<int>(me.source().begin.line));
          ECOMAP_RETURN_IF_ERROR(m.CheckKeys({"name", "torchscript", "accuracy", "accuracy_metric", "input_shape",
                                              "input_dtype", "split"}));
          zoo::TorchScriptSpec ts;
          ts.family = s.family;
          ECOMAP_RETURN_IF_ERROR(m.String("name", &ts.name));
          if (ts.name.empty()) return InvalidArgument(m.Where("name") + " is required, e.g. name = \"doorbell_small\"");
          std::string file;
          ECOMAP_RETURN_IF_ERROR(m.String("torchscript", &file));
          if (file.empty()) {
            return InvalidArgument(m.Where("torchscript") +
                                   " is required: the file saved by torch.jit.save, e.g. torchscript = \"models/net.pt\"");
          }
          ts.path = Resolve(file, base_dir, true);
          if (!m.Has("accuracy")) {
            return InvalidArgument(m.Where("accuracy") + " is required: your model's accuracy in [0, 100], e.g. 81.5");
          }
          ECOMAP_RETURN_IF_ERROR(m.Number("accuracy", 0, 100, &ts.accuracy));
          ECOMAP_RETURN_IF_ERROR(m.String("accuracy_metric", &ts.accuracy_metric));
          if (!m.Has("input_shape")) {
            return InvalidArgument(m.Where("input_shape") +
                                   " is required (a TorchScript file does not record it), batch 1 first, e.g. [1, 3, 224, 224]");
          }
          ECOMAP_RETURN_IF_ERROR(m.IntegerList("input_shape", &ts.input_shape));
          ECOMAP_RETURN_IF_ERROR(m.String("input_dtype", &ts.input_dtype));
          std::string split = "auto";
          ECOMAP_RETURN_IF_ERROR(m.String("split", &split));
          StatusOr<zoo::SplitMode> sm = zoo::ParseSplitMode(split);
          if (!sm.ok()) return InvalidArgument(m.Where("split") + ": " + sm.status().message());
          ts.split = *sm;
          Status v = zoo::ValidateTorchScriptSpec(ts);
          if (!v.ok()) return InvalidArgument(name + ":" + std::to_string(me.source().begin.line) + ": [" + msec + "] " + v.message());
          s.models.push_back(std::move(ts));
        }
        if (s.variants.empty()) s.variants = policy::DeclaredVariants(s.models);
      }
      if (s.family.empty() && !s.variants.empty()) {
        if (const zoo::ModelInfo* m = zoo::FindModel(s.variants.front())) s.family = m->family;
      }
      if (s.family.empty()) return InvalidArgument(a.Where("family") + " is required, e.g. family = \"resnet\"");
      if (s.name.empty()) s.name = s.family + (index > 1 ? "-" + std::to_string(index) : "");
      double slo = 0;
      if (!a.Has("slo_ms")) return InvalidArgument(a.Where("slo_ms") + " is required (p95 bound in ms, e.g. 200)");
      ECOMAP_RETURN_IF_ERROR(a.Number("slo_ms", -1e12, 1e12, &slo));
      s.slo_p95 = Milliseconds(slo);
      ECOMAP_RETURN_IF_ERROR(a.Number("min_throughput_rps", 0, 1e6, &s.min_throughput_rps));
      if (a.Has("rate_rps") == a.Has("concurrency")) {
        return InvalidArgument(name + ":" + std::to_string(e.source().begin.line) + ": [" + sec + "] give exactly one of " +
                               "rate_rps (open loop) or concurrency (closed loop)");
      }
      if (a.Has("rate_rps")) {
        s.arrival = platform::ArrivalKind::kOpenLoop;
        ECOMAP_RETURN_IF_ERROR(a.Number("rate_rps", -1e12, 1e12, &s.rate_rps));
      } else {
        s.arrival = platform::ArrivalKind::kClosedLoop;
        int64_t n = 1;
        ECOMAP_RETURN_IF_ERROR(a.Integer("concurrency", -1000000, 1000000, &n));
        s.concurrency = static_cast<int>(n);
      }
      Status st = policy::ValidateTenant(s);
      if (!st.ok()) return InvalidArgument(name + ":" + std::to_string(e.source().begin.line) + ": [" + sec + "] " + st.message());
      c.tenants.push_back(std::move(s));
    }
  }
  {
    Status st = c.tenants.empty() ? Status::Ok() : policy::ValidateTenants(c.tenants);
    if (!st.ok()) return InvalidArgument(name + ": " + st.message());
  }

  // The carbon part's [carbon.*] tables (live providers), parsed by its own loader.
  StatusOr<carbon::LiveConfig> live = carbon::ParseLiveConfig(text, name, env);
  if (!live.ok()) return live.status();
  c.live = std::move(live).value();
  return c;
}

StatusOr<ServeConfig> LoadServeConfig(const std::string& path, const carbon::EnvLookup& env) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read config file '" + path + "'; see data/serve/ecomap.toml for an example");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  ECOMAP_ASSIGN_OR_RETURN(ServeConfig c, ParseServeConfig(ss.str(), path, dir, env));
  c.live.path = path;
  return c;
}

}  // namespace ecomap::service
