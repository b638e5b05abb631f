#include "platform/types.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace ecomap::platform {
namespace {

const char* KindName(zoo::BlockKind k) { return zoo::BlockKindName(k); }
StatusOr<zoo::BlockKind> ParseKind(const std::string& name) { return zoo::ParseBlockKind(name); }

std::string TenantLabel(const TenantConfig& t, size_t index) {
  std::ostringstream os;
  os << "tenant " << index;
  if (!t.name.empty()) os << " ('" << t.name << "')";
  return os.str();
}

}  // namespace

const char* UnitKindName(UnitKind kind) {
  switch (kind) {
    case UnitKind::kCpu:
      return "cpu";
    case UnitKind::kGpu:
      return "gpu";
    case UnitKind::kDla:
      return "dla";
  }
  return "?";
}

StatusOr<UnitKind> ParseUnitKind(const std::string& name) {
  if (name == "cpu") return UnitKind::kCpu;
  if (name == "gpu") return UnitKind::kGpu;
  if (name == "dla") return UnitKind::kDla;
  return InvalidArgument("unknown unit kind '" + name + "': use cpu, gpu or dla");
}

const char* ProvenanceName(Provenance p) {
  switch (p) {
    case Provenance::kMeasured:
      return "measured";
    case Provenance::kModelled:
      return "modelled";
    case Provenance::kSimulated:
      return "simulated";
  }
  return "?";
}

StatusOr<Provenance> ParseProvenance(const std::string& name) {
  if (name == "measured") return Provenance::kMeasured;
  if (name == "modelled") return Provenance::kModelled;
  if (name == "simulated") return Provenance::kSimulated;
  return InvalidArgument("unknown provenance '" + name + "': use measured, modelled or simulated");
}

const char* ArrivalKindName(ArrivalKind k) { return k == ArrivalKind::kOpenLoop ? "open" : "closed"; }

StatusOr<ArrivalKind> ParseArrivalKind(const std::string& name) {
  if (name == "open") return ArrivalKind::kOpenLoop;
  if (name == "closed") return ArrivalKind::kClosedLoop;
  return InvalidArgument("unknown arrival kind '" + name +
                         "': use open (Poisson at rate_rps) or "
                         "closed (concurrency requests outstanding)");
}

bool ComputeUnit::RunsNatively(zoo::BlockKind kind) const {
  return native_kinds.empty() ||
         std::find(native_kinds.begin(), native_kinds.end(), kind) != native_kinds.end();
}

const ComputeUnit* PlatformInfo::FindUnit(const std::string& id) const {
  for (const ComputeUnit& u : units) {
    if (u.id == id) return &u;
  }
  return nullptr;
}

const PowerMode* PlatformInfo::FindMode(int id) const {
  for (const PowerMode& m : modes) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const PowerMode* PlatformInfo::FindModeByName(const std::string& mode_name) const {
  for (const PowerMode& m : modes) {
    if (m.name == mode_name) return &m;
  }
  return nullptr;
}

std::string PlatformInfo::UnitIdList() const {
  std::string s;
  for (const ComputeUnit& u : units) s += (s.empty() ? "" : ", ") + u.id;
  return s;
}

std::string PlatformInfo::ModeList() const {
  std::string s;
  for (const PowerMode& m : modes) {
    s += (s.empty() ? "" : ", ") + std::to_string(m.id) + " (" + m.name + ")";
  }
  return s;
}

StatusOr<std::vector<Stage>> StagesFromCuts(int num_blocks, const std::vector<int>& cut_points,
                                            const std::vector<std::string>& units) {
  if (num_blocks <= 0) return InvalidArgument("a model needs at least one block");
  if (units.size() != cut_points.size() + 1) {
    return InvalidArgument(std::to_string(cut_points.size()) + " cut points make " +
                           std::to_string(cut_points.size() + 1) + " stages but " +
                           std::to_string(units.size()) + " units were given: give one unit per stage");
  }
  std::vector<Stage> stages;
  int begin = 0;
  for (size_t i = 0; i <= cut_points.size(); ++i) {
    int end = i < cut_points.size() ? cut_points[i] : num_blocks;
    if (i < cut_points.size() && (end <= begin || end >= num_blocks)) {
      return InvalidArgument("cut point " + std::to_string(end) +
                             " is out of order or out of range: "
                             "cut points must be strictly increasing and in (0, " +
                             std::to_string(num_blocks) + ")");
    }
    stages.push_back(Stage{begin, end, units[i]});
    begin = end;
  }
  return stages;
}

std::vector<int> CutPoints(const std::vector<Stage>& stages) {
  std::vector<int> cuts;
  for (size_t i = 1; i < stages.size(); ++i) cuts.push_back(stages[i].begin_block);
  return cuts;
}

ModelLookup DefaultModelLookup() {
  return [](const std::string& name) { return zoo::FindModel(name); };
}

Status ValidateConfiguration(const PlatformInfo& info, const Configuration& config,
                             const ModelLookup& lookup) {
  const PowerMode* mode = info.FindMode(config.power_mode);
  if (mode == nullptr) {
    return NotFound("power mode " + std::to_string(config.power_mode) + " does not exist on " + info.name +
                    ": use one of " + info.ModeList());
  }
  for (const auto& [unit_id, mhz] : config.frequency_mhz) {
    const ComputeUnit* unit = info.FindUnit(unit_id);
    if (unit == nullptr) {
      return NotFound("frequency override for unknown unit '" + unit_id + "': units are " +
                      info.UnitIdList());
    }
    double cap = unit->max_frequency_mhz;
    if (auto it = mode->max_frequency_mhz.find(unit_id); it != mode->max_frequency_mhz.end()) {
      cap = it->second;
    }
    if (!(mhz > 0) || !std::isfinite(mhz) || (cap > 0 && mhz > cap + 1e-9)) {
      return InvalidArgument("frequency " + fmt::format("{:g}", mhz) + " MHz for " + unit_id + " is outside (0, " + fmt::format("{:g}", cap) +
                             "] MHz, the cap of mode " + mode->name);
    }
  }
  if (config.tenants.empty()) {
    return InvalidArgument("the configuration has no tenants: add at least one");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const TenantConfig& t = config.tenants[i];
    const std::string label = TenantLabel(t, i);
    std::string name = t.name.empty() ? "t" + std::to_string(i) : t.name;
    if (!names.insert(name).second) {
      return InvalidArgument(label + ": tenant name '" + name + "' is used twice: names must be unique");
    }
    const zoo::ModelInfo* model = lookup ? lookup(t.model) : nullptr;
    if (model == nullptr) {
      return NotFound(label + ": unknown model '" + t.model +
                      "' (see `ecomap zoo list` for the known models)");
    }
    const int n = static_cast<int>(model->blocks.size());
    if (t.stages.empty()) {
      return InvalidArgument(label + ": no stages: give at least one stage covering blocks [0, " +
                             std::to_string(n) + ") of " + t.model);
    }
    int expect = 0;
    for (size_t s = 0; s < t.stages.size(); ++s) {
      const Stage& st = t.stages[s];
      const std::string where = label + " stage " + std::to_string(s) + " [" +
                                std::to_string(st.begin_block) + ", " + std::to_string(st.end_block) + ")";
      if (st.begin_block != expect) {
        return InvalidArgument(where + ": begins at block " + std::to_string(st.begin_block) +
                               " but must begin at " + std::to_string(expect) +
                               ": stages must be contiguous and start at block 0");
      }
      if (st.end_block <= st.begin_block) {
        return InvalidArgument(where + " is empty: a stage needs end > begin");
      }
      if (st.end_block > n) {
        return InvalidArgument(where + ": ends past the last block: " + t.model + " has " +
                               std::to_string(n) + " blocks");
      }
      const ComputeUnit* unit = info.FindUnit(st.unit);
      if (unit == nullptr) {
        return NotFound(where + ": unknown unit '" + st.unit + "': units are " + info.UnitIdList());
      }
      const ComputeUnit* fallback =
          unit->fallback_unit.empty() ? nullptr : info.FindUnit(unit->fallback_unit);
      for (int b = st.begin_block; b < st.end_block; ++b) {
        const zoo::BlockDescriptor& block = model->blocks[static_cast<size_t>(b)];
        if (unit->RunsNatively(block.kind)) continue;
        if (fallback == nullptr || !fallback->RunsNatively(block.kind)) {
          return InvalidArgument(where + ": unit " + st.unit + " cannot run block " + std::to_string(b) +
                                 " ('" + block.name + "', kind " + KindName(block.kind) +
                                 ") and has no fallback unit that can");
        }
      }
      expect = st.end_block;
    }
    if (expect != n) {
      return InvalidArgument(label + ": stages end at block " + std::to_string(expect) + " but " + t.model +
                             " has " + std::to_string(n) + " blocks: the last stage must end at " +
                             std::to_string(n));
    }
    if (t.arrival == ArrivalKind::kOpenLoop) {
      if (!(t.rate_rps > 0) || !std::isfinite(t.rate_rps)) {
        return InvalidArgument(label + ": open-loop rate " + fmt::format("{:g}", t.rate_rps) +
                               " req/s must be a finite number > 0");
      }
    } else if (t.concurrency < 1) {
      return InvalidArgument(label + ": closed-loop concurrency " + std::to_string(t.concurrency) +
                             " must be >= 1");
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// JSON.

void to_json(nlohmann::json& j, const ComputeUnit& v) {
  nlohmann::json kinds = nlohmann::json::array();
  for (zoo::BlockKind k : v.native_kinds) kinds.push_back(KindName(k));
  j = nlohmann::json{{"id", v.id},
                     {"kind", UnitKindName(v.kind)},
                     {"description", v.description},
                     {"cores", v.cores},
                     {"max_frequency_mhz", v.max_frequency_mhz},
                     {"native_kinds", kinds},
                     {"fallback_unit", v.fallback_unit}};
}

void from_json(const nlohmann::json& j, ComputeUnit& v) {
  v.id = j.at("id").get<std::string>();
  auto kind = ParseUnitKind(j.at("kind").get<std::string>());
  if (!kind.ok()) throw nlohmann::json::other_error::create(501, kind.status().message(), &j);
  v.kind = *kind;
  v.description = j.value("description", std::string());
  v.cores = j.value("cores", 1);
  v.max_frequency_mhz = j.value("max_frequency_mhz", 0.0);
  v.native_kinds.clear();
  for (const auto& k : j.value("native_kinds", nlohmann::json::array())) {
    auto parsed = ParseKind(k.get<std::string>());
    if (!parsed.ok()) throw nlohmann::json::other_error::create(501, parsed.status().message(), &j);
    v.native_kinds.push_back(*parsed);
  }
  v.fallback_unit = j.value("fallback_unit", std::string());
}

void to_json(nlohmann::json& j, const PowerMode& v) {
  j = nlohmann::json{{"id", v.id},
                     {"name", v.name},
                     {"budget_w", v.budget ? nlohmann::json(v.budget->value()) : nlohmann::json()},
                     {"max_frequency_mhz", v.max_frequency_mhz},
                     {"online_cpu_cores", v.online_cpu_cores},
                     {"emc_max_mhz", v.emc_max_mhz ? nlohmann::json(*v.emc_max_mhz) : nlohmann::json()}};
}

void from_json(const nlohmann::json& j, PowerMode& v) {
  v.id = j.at("id").get<int>();
  v.name = j.at("name").get<std::string>();
  v.budget.reset();
  if (j.contains("budget_w") && !j.at("budget_w").is_null()) v.budget = Watts(j.at("budget_w").get<double>());
  v.max_frequency_mhz = j.value("max_frequency_mhz", std::map<std::string, double>());
  v.online_cpu_cores = j.value("online_cpu_cores", 0);
  v.emc_max_mhz.reset();
  if (j.contains("emc_max_mhz") && !j.at("emc_max_mhz").is_null())
    v.emc_max_mhz = j.at("emc_max_mhz").get<double>();
}

void to_json(nlohmann::json& j, const PlatformInfo& v) {
  j = nlohmann::json{{"name", v.name},
                     {"description", v.description},
                     {"provenance", ProvenanceName(v.provenance)},
                     {"units", v.units},
                     {"modes", v.modes},
                     {"default_mode", v.default_mode}};
}

void from_json(const nlohmann::json& j, PlatformInfo& v) {
  v.name = j.at("name").get<std::string>();
  v.description = j.value("description", std::string());
  auto p = ParseProvenance(j.at("provenance").get<std::string>());
  if (!p.ok()) throw nlohmann::json::other_error::create(501, p.status().message(), &j);
  v.provenance = *p;
  v.units = j.at("units").get<std::vector<ComputeUnit>>();
  v.modes = j.at("modes").get<std::vector<PowerMode>>();
  v.default_mode = j.value("default_mode", 0);
}

void to_json(nlohmann::json& j, const RailPower& v) {
  j = nlohmann::json{{"name", v.name}, {"power_w", v.power.value()}};
  if (v.voltage_v) j["voltage_v"] = *v.voltage_v;
  if (v.current_a) j["current_a"] = *v.current_a;
}

void from_json(const nlohmann::json& j, RailPower& v) {
  v.name = j.at("name").get<std::string>();
  v.power = Watts(j.at("power_w").get<double>());
  v.voltage_v.reset();
  v.current_a.reset();
  if (j.contains("voltage_v")) v.voltage_v = j.at("voltage_v").get<double>();
  if (j.contains("current_a")) v.current_a = j.at("current_a").get<double>();
}

void to_json(nlohmann::json& j, const PowerReading& v) {
  j = nlohmann::json{{"time", FormatIso8601(v.time)},
                     {"rails", v.rails},
                     {"total_w", v.total.value()},
                     {"provenance", ProvenanceName(v.provenance)}};
}

void from_json(const nlohmann::json& j, PowerReading& v) {
  auto t = ParseTimestamp(j.at("time").get<std::string>());
  if (!t.ok()) throw nlohmann::json::other_error::create(501, t.status().message(), &j);
  v.time = *t;
  v.rails = j.value("rails", std::vector<RailPower>());
  v.total = Watts(j.at("total_w").get<double>());
  auto p = ParseProvenance(j.at("provenance").get<std::string>());
  if (!p.ok()) throw nlohmann::json::other_error::create(501, p.status().message(), &j);
  v.provenance = *p;
}

void to_json(nlohmann::json& j, const Stage& v) {
  j = nlohmann::json{{"begin", v.begin_block}, {"end", v.end_block}, {"unit", v.unit}};
}

void from_json(const nlohmann::json& j, Stage& v) {
  v.begin_block = j.at("begin").get<int>();
  v.end_block = j.at("end").get<int>();
  v.unit = j.at("unit").get<std::string>();
}

void to_json(nlohmann::json& j, const TenantConfig& v) {
  j = nlohmann::json{
      {"name", v.name}, {"model", v.model}, {"stages", v.stages}, {"arrival", ArrivalKindName(v.arrival)}};
  if (v.arrival == ArrivalKind::kOpenLoop) {
    j["rate_rps"] = v.rate_rps;
  } else {
    j["concurrency"] = v.concurrency;
  }
}

void from_json(const nlohmann::json& j, TenantConfig& v) {
  v.name = j.value("name", std::string());
  v.model = j.at("model").get<std::string>();
  v.stages = j.at("stages").get<std::vector<Stage>>();
  auto a = ParseArrivalKind(j.value("arrival", std::string("closed")));
  if (!a.ok()) throw nlohmann::json::other_error::create(501, a.status().message(), &j);
  v.arrival = *a;
  v.rate_rps = j.value("rate_rps", 0.0);
  v.concurrency = j.value("concurrency", 1);
}

void to_json(nlohmann::json& j, const Configuration& v) {
  j = nlohmann::json{{"power_mode", v.power_mode}, {"tenants", v.tenants}};
  if (!v.frequency_mhz.empty()) j["frequency_mhz"] = v.frequency_mhz;
}

void from_json(const nlohmann::json& j, Configuration& v) {
  v.power_mode = j.at("power_mode").get<int>();
  v.frequency_mhz = j.value("frequency_mhz", std::map<std::string, double>());
  v.tenants = j.at("tenants").get<std::vector<TenantConfig>>();
}

void to_json(nlohmann::json& j, const TenantPerformance& v) {
  j = nlohmann::json{{"name", v.name},
                     {"latency_p50_ms", v.latency_p50.value()},
                     {"latency_p95_ms", v.latency_p95.value()},
                     {"throughput_rps", v.throughput_rps},
                     {"saturated", v.saturated}};
}

void from_json(const nlohmann::json& j, TenantPerformance& v) {
  v.name = j.value("name", std::string());
  v.latency_p50 = Milliseconds(j.at("latency_p50_ms").get<double>());
  v.latency_p95 = Milliseconds(j.at("latency_p95_ms").get<double>());
  v.throughput_rps = j.at("throughput_rps").get<double>();
  v.saturated = j.value("saturated", false);
}

void to_json(nlohmann::json& j, const Performance& v) {
  j = nlohmann::json{{"tenants", v.tenants},
                     {"power_w", v.power.value()},
                     {"unit_utilisation", v.unit_utilisation},
                     {"emc_utilisation", v.emc_utilisation},
                     {"provenance", ProvenanceName(v.provenance)},
                     {"window_s", v.window.value()}};
}

void from_json(const nlohmann::json& j, Performance& v) {
  v.tenants = j.at("tenants").get<std::vector<TenantPerformance>>();
  v.power = Watts(j.at("power_w").get<double>());
  v.unit_utilisation = j.value("unit_utilisation", std::map<std::string, double>());
  v.emc_utilisation = j.value("emc_utilisation", 0.0);
  auto p = ParseProvenance(j.at("provenance").get<std::string>());
  if (!p.ok()) throw nlohmann::json::other_error::create(501, p.status().message(), &j);
  v.provenance = *p;
  v.window = Seconds(j.value("window_s", 0.0));
}

namespace {
template <typename T>
StatusOr<T> FromJsonChecked(const nlohmann::json& j, const char* what) {
  try {
    return j.get<T>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("bad ") + what + " JSON: " + e.what());
  }
}
}  // namespace

StatusOr<Configuration> ConfigurationFromJson(const nlohmann::json& j) {
  return FromJsonChecked<Configuration>(j, "configuration");
}
StatusOr<Performance> PerformanceFromJson(const nlohmann::json& j) {
  return FromJsonChecked<Performance>(j, "performance");
}
StatusOr<PlatformInfo> PlatformInfoFromJson(const nlohmann::json& j) {
  return FromJsonChecked<PlatformInfo>(j, "platform info");
}

}  // namespace ecomap::platform
