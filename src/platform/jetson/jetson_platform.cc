#include "platform/jetson/jetson_platform.h"

#include <algorithm>
#include <regex>

#include "platform/jetson/jetson_rails.h"
#include "platform/host/process.h"

namespace ecomap::platform {
namespace {

// The highest clock (Hz) in a CLOCK param's FREQ_TABLE file, or 0.
double TopOfFreqTable(const NvpParam& p, const Sysfs& fs, bool cpu) {
  const std::string* table = p.PathOf("FREQ_TABLE");
  if (table == nullptr) return 0;
  auto text = fs.Read(*table);
  if (!text.ok()) return 0;
  double top = 0;
  for (std::string_view t : SplitWhitespace(*text)) {
    auto v = ParseInt64(t, *table);
    if (v.ok()) top = std::max(top, static_cast<double>(*v) * (cpu ? 1000.0 : 1.0));
  }
  return top;
}

// Which unit a CLOCK param caps: "CPU", "GPU", "DLA0"/"DLA1" (both for DLA_CORE), or none.
std::vector<std::string> UnitsOfParam(const std::string& param) {
  static const std::regex kDlaN(R"(^DLA([0-9]+)_CORE$)");
  std::smatch m;
  if (IsCpuClockParam(param)) return {"CPU"};
  if (param == "GPU") return {"GPU"};
  if (param == "DLA_CORE") return {"DLA0", "DLA1"};
  if (std::regex_match(param, m, kDlaN)) return {"DLA" + m[1].str()};
  return {};
}

const std::vector<zoo::BlockKind> kDlaKinds = {zoo::BlockKind::kConv, zoo::BlockKind::kDepthwise,
                                               zoo::BlockKind::kLinear, zoo::BlockKind::kPool};

}  // namespace

PlatformInfo JetsonPlatform::MakeInfo(const NvpmodelConf& conf, const Sysfs& fs) {
  PlatformInfo info;
  info.name = "jetson";
  info.provenance = Provenance::kMeasured;
  info.default_mode = conf.default_mode;

  // Top clock (MHz) per unit: the frequency table when readable, else the highest cap of any mode
  // (an underestimate when the uncapped mode runs higher; 0 when nothing is known).
  std::map<std::string, double> table_mhz, cap_mhz;
  std::vector<std::string> cpu_params;
  for (const NvpParam& p : conf.params) {
    if (p.type != NvpParamType::kClock) continue;
    const bool cpu = IsCpuClockParam(p.name);
    if (cpu) cpu_params.push_back(p.name);
    for (const std::string& u : UnitsOfParam(p.name)) {
      table_mhz[u] = std::max(table_mhz[u], TopOfFreqTable(p, fs, cpu) / 1e6);
    }
  }
  for (const NvpmodelMode& m : conf.modes) {
    for (const auto& [param, caps] : m.clocks) {
      if (!caps.max_hz) continue;
      for (const std::string& u : UnitsOfParam(param)) cap_mhz[u] = std::max(cap_mhz[u], *caps.max_hz / 1e6);
    }
  }
  auto top = [&](const std::string& u) { return table_mhz[u] > 0 ? table_mhz[u] : cap_mhz[u]; };

  const int n_cpus = static_cast<int>(conf.all_cpus.size());
  if (n_cpus > 0 || !cpu_params.empty()) {
    ComputeUnit cpu;
    cpu.id = "CPU";
    cpu.kind = UnitKind::kCpu;
    cpu.cores = std::max(n_cpus, 1);
    cpu.description =
        std::to_string(cpu.cores) + "-core CPU" +
        (cpu_params.empty() ? ""
                            : " (" + std::to_string(cpu_params.size()) + " clusters: " + cpu_params.front() +
                                  ".." + cpu_params.back() + ")");
    cpu.max_frequency_mhz = top("CPU");
    info.units.push_back(cpu);
  }
  if (conf.FindParam("GPU") != nullptr) {
    ComputeUnit gpu;
    gpu.id = "GPU";
    gpu.kind = UnitKind::kGpu;
    gpu.description = "integrated GPU (nvpmodel param GPU)";
    gpu.max_frequency_mhz = top("GPU");
    info.units.push_back(gpu);
  }
  std::vector<std::string> dlas;
  for (const NvpParam& p : conf.params) {
    for (const std::string& u : UnitsOfParam(p.name)) {
      if (u.rfind("DLA", 0) == 0 && std::find(dlas.begin(), dlas.end(), u) == dlas.end()) dlas.push_back(u);
    }
  }
  std::sort(dlas.begin(), dlas.end());
  for (const std::string& d : dlas) {
    ComputeUnit dla;
    dla.id = d;
    dla.kind = UnitKind::kDla;
    dla.description = "NVDLA engine (conv/depthwise/linear/pool; other blocks fall back to the GPU)";
    dla.native_kinds = kDlaKinds;
    dla.fallback_unit = info.FindUnit("GPU") != nullptr ? "GPU" : "";
    dla.max_frequency_mhz = top(d);
    info.units.push_back(dla);
  }

  for (const NvpmodelMode& m : conf.modes) {
    PowerMode pm;
    pm.id = m.id;
    pm.name = m.name;
    pm.budget = m.budget;
    pm.online_cpu_cores = static_cast<int>(m.online_cpus.size());
    // A unit is capped by a mode when every param of the unit that the mode sets has a cap; the
    // unit's cap is the highest of them (clusters of one CPU share a cap in every shipped conf).
    std::map<std::string, std::pair<bool, double>> cap;  // unit -> (uncapped seen, max cap MHz)
    for (const auto& [param, caps] : m.clocks) {
      if (param == "EMC") {
        if (caps.max_hz) pm.emc_max_mhz = *caps.max_hz / 1e6;
        continue;
      }
      for (const std::string& u : UnitsOfParam(param)) {
        auto& c = cap[u];
        if (!caps.max_hz) {
          c.first = true;
        } else {
          c.second = std::max(c.second, *caps.max_hz / 1e6);
        }
      }
    }
    for (const auto& [u, c] : cap) {
      if (!c.first && c.second > 0 && info.FindUnit(u) != nullptr) pm.max_frequency_mhz[u] = c.second;
    }
    info.modes.push_back(pm);
  }
  std::sort(info.modes.begin(), info.modes.end(),
            [](const PowerMode& a, const PowerMode& b) { return a.id < b.id; });
  info.description = "real Jetson: " + std::to_string(info.modes.size()) + " nvpmodel modes from " +
                     conf.source + ", power measured by the INA3221 rails";
  return info;
}

JetsonPlatform::JetsonPlatform(JetsonOptions options, NvpmodelConf conf, PlatformInfo info)
    : options_(std::move(options)),
      fs_(options_.root),
      conf_(std::move(conf)),
      info_(std::move(info)),
      clock_(options_.clock != nullptr ? options_.clock : &SystemClock::Instance()) {}

StatusOr<std::unique_ptr<JetsonPlatform>> JetsonPlatform::Create(const JetsonOptions& options) {
  RootedSysfs fs(options.root);
  constexpr const char* kConf = "/etc/nvpmodel.conf";
  auto text = fs.Read(kConf);
  if (!text.ok()) {
    const std::string root = options.root.empty() ? "/" : options.root;
    if (text.status().code() == StatusCode::kNotFound) {
      return Unavailable("jetson: " + std::string(kConf) + " not found under root '" + root +
                         "': this is not a Jetson (use --platform xavier-sim or host)");
    }
    return Unavailable("jetson: cannot read " + std::string(kConf) + " under root '" + root +
                       "': " + text.status().message());
  }
  ECOMAP_ASSIGN_OR_RETURN(NvpmodelConf conf, ParseNvpmodelConf(*text, kConf));
  PlatformInfo info = MakeInfo(conf, fs);
  return std::unique_ptr<JetsonPlatform>(new JetsonPlatform(options, std::move(conf), std::move(info)));
}

StatusOr<NvpmodelClient> JetsonPlatform::Client() const {
  auto path = FindProgram(options_.nvpmodel_path, options_.root);
  if (!path.ok()) return Unavailable("jetson: cannot run nvpmodel: " + path.status().message());
  NvpmodelOptions o;
  o.binary = *path;
  o.timeout = options_.nvpmodel_timeout;
  o.extra_env = options_.nvpmodel_env;
  return NvpmodelClient(conf_, o);
}

StatusOr<int> JetsonPlatform::CurrentMode() {
  Status query_error;
  auto client = Client();
  if (client.ok()) {
    auto cur = client->Query();
    if (cur.ok()) return cur->id;
    query_error = cur.status();
  } else {
    query_error = client.status();
  }
  // nvpmodel keeps the mode in a status file; reading it needs no privileges.
  auto status_text = fs_.Read("/var/lib/nvpmodel/status");
  if (status_text.ok()) {
    auto id = ParseNvpmodelStatusFile(*status_text);
    if (id.ok()) return *id;
  }
  return Unavailable("jetson: cannot tell the current power mode: " + query_error.message());
}

Status JetsonPlatform::ApplyMode(int mode_id) {
  if (info_.FindMode(mode_id) == nullptr) {
    return NotFound("jetson: power mode " + std::to_string(mode_id) + " is not in " + conf_.source +
                    "; known modes: " + info_.ModeList());
  }
  ECOMAP_ASSIGN_OR_RETURN(NvpmodelClient client, Client());
  return client.SetMode(mode_id);
}

StatusOr<PowerReading> JetsonPlatform::ReadPower() {
  auto snap = ReadIna3221(fs_);
  if (!snap.ok()) return Status(snap.status().code(), "jetson: " + snap.status().message());
  PowerReading r;
  r.time = clock_->Now();
  r.provenance = Provenance::kMeasured;
  r.total = snap->total;
  for (const RailReading& rail : snap->rails) {
    RailPower p;
    p.name = rail.name;
    p.power = rail.power;
    if (rail.voltage_mv) p.voltage_v = *rail.voltage_mv / 1000.0;
    if (rail.current_ma) p.current_a = *rail.current_ma / 1000.0;
    r.rails.push_back(p);
  }
  return r;
}

Status JetsonPlatform::Validate(const Configuration& config) const {
  return ValidateConfiguration(info_, config,
                               options_.model_lookup ? options_.model_lookup : DefaultModelLookup());
}

StatusOr<std::unique_ptr<Platform>> MakeJetsonPlatform(const PlatformOptions& options) {
  JetsonOptions o;
  o.root = options.root;
  o.nvpmodel_path = options.nvpmodel_path.empty() ? "nvpmodel" : options.nvpmodel_path;
  o.clock = options.clock;
  o.model_lookup = options.model_lookup;
  ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<JetsonPlatform> p, JetsonPlatform::Create(o));
  return std::unique_ptr<Platform>(std::move(p));
}

}  // namespace ecomap::platform
