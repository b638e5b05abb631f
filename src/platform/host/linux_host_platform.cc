#include "platform/host/linux_host_platform.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

namespace ecomap::platform {
namespace {

std::string UnitOf(int cpu) { return "cpu" + std::to_string(cpu); }

std::string Mhz(double khz) { return fmt::format("{:.0f} MHz", khz / 1000.0); }

}  // namespace

LinuxHostPlatform::LinuxHostPlatform(const HostOptions& options, std::unique_ptr<Sysfs> owned, Sysfs* fs)
    : options_(options),
      owned_fs_(std::move(owned)),
      fs_(fs),
      clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()),
      model_(options.model) {}

StatusOr<std::unique_ptr<LinuxHostPlatform>> LinuxHostPlatform::Create(const HostOptions& options) {
  std::unique_ptr<Sysfs> owned;
  Sysfs* fs = options.sysfs;
  if (fs == nullptr) {
    owned = std::make_unique<RootedSysfs>(options.root);
    fs = owned.get();
  }
  std::unique_ptr<LinuxHostPlatform> p(new LinuxHostPlatform(options, std::move(owned), fs));
  ECOMAP_RETURN_IF_ERROR(p->Init());
  return p;
}

Status LinuxHostPlatform::Init() {
  auto cpus = ReadOnlineCpus(*fs_);
  if (!cpus.ok() || cpus->empty()) {
    return Unavailable("host: cannot read the online CPU list under root '" + fs_->Describe() +
                       "': " + (cpus.ok() ? std::string("it is empty") : cpus.status().message()) +
                       " (is this a Linux sysfs tree?)");
  }
  cpus_ = *cpus;
  for (int c : cpus_) {
    auto f = ReadCpuFreq(*fs_, c);
    if (f.ok()) {
      freq_[c] = *f;
    } else if (f.status().code() != StatusCode::kNotFound) {
      return f.status();
    }
  }
  const bool has_cpufreq = freq_.size() == cpus_.size();
  if (!has_cpufreq) freq_.clear();  // caps only when every core has them

  // Units.
  info_.name = "host";
  for (int c : cpus_) {
    ComputeUnit u;
    u.id = UnitOf(c);
    u.kind = UnitKind::kCpu;
    u.cores = 1;
    if (has_cpufreq) u.max_frequency_mhz = static_cast<double>(freq_[c].cpuinfo_max_khz) / 1000.0;
    u.description = "Linux CPU " + std::to_string(c) +
                    (has_cpufreq ? " (cpufreq " + Mhz(static_cast<double>(freq_[c].cpuinfo_min_khz)) + ".." +
                                       Mhz(static_cast<double>(freq_[c].cpuinfo_max_khz)) + ")"
                                 : " (no cpufreq: clock unknown)");
    info_.units.push_back(u);
  }

  // Levels: core sets x clock ratios.
  std::vector<std::vector<int>> core_sets = {cpus_};
  if (cpus_.size() >= 2) {
    size_t keep = (cpus_.size() + 1) / 2;
    bool pluggable = true;
    for (size_t i = keep; i < cpus_.size(); ++i) {
      pluggable =
          pluggable && fs_->Exists(std::string(kCpuDir) + "/cpu" + std::to_string(cpus_[i]) + "/online");
    }
    if (pluggable) core_sets.emplace_back(cpus_.begin(), cpus_.begin() + static_cast<long>(keep));
  }
  std::vector<double> ratios =
      has_cpufreq ? std::vector<double>{1.0, 0.8, 0.6, 0.4} : std::vector<double>{1.0};
  for (const auto& set : core_sets) {
    std::set<int64_t> seen_caps;
    for (double r : ratios) {
      Level l;
      l.online = set;
      if (has_cpufreq && r < 1.0) {
        const CpuFreqInfo& f = freq_[set.front()];
        int64_t target = static_cast<int64_t>(std::floor(static_cast<double>(f.cpuinfo_max_khz) * r));
        int64_t cap = target;
        if (!f.available_khz.empty()) {
          cap = f.available_khz.front();
          for (int64_t a : f.available_khz) {
            if (a <= target) cap = a;
          }
        }
        cap = std::max(cap, f.cpuinfo_min_khz);
        if (cap >= f.cpuinfo_max_khz || seen_caps.count(cap)) continue;
        seen_caps.insert(cap);
        l.cap_khz = cap;
        l.freq_ratio = static_cast<double>(cap) / static_cast<double>(f.cpuinfo_max_khz);
      }
      PowerMode m;
      m.id = static_cast<int>(levels_.size());
      m.name = std::to_string(set.size()) + "CORE";
      if (has_cpufreq)
        m.name += "_" + std::to_string(static_cast<int>(std::lround(l.freq_ratio * 100))) + "PCT";
      m.budget = model_.FullLoad(static_cast<int>(set.size()), l.freq_ratio);
      m.online_cpu_cores = static_cast<int>(set.size());
      if (l.cap_khz) {
        for (int c : set) m.max_frequency_mhz[UnitOf(c)] = static_cast<double>(*l.cap_khz) / 1000.0;
      }
      info_.modes.push_back(m);
      levels_.push_back(l);
    }
  }
  info_.default_mode = 0;

  // Power source: RAPL when readable, else the model.
  auto zones = DiscoverRaplZones(*fs_);
  if (zones.ok()) {
    RaplPowerMeter meter(fs_, *zones, clock_);
    auto first = meter.Sample();
    if (first.ok() || first.status().code() == StatusCode::kFailedPrecondition) {
      rapl_.emplace(std::move(meter));
      power_note_ = "RAPL powercap (" + std::to_string(zones->size()) + " zones), measured";
    } else {
      power_note_ = "modelled from /proc/stat (RAPL present but unusable: " + first.status().message() + ")";
    }
  } else {
    power_note_ = "modelled from /proc/stat (" + zones.status().message() + ")";
  }
  if (!rapl_) {
    procstat_.emplace(fs_);
    (void)procstat_->Sample();  // primes; an unreadable /proc/stat is reported by ReadPower
  }
  last_read_ = clock_->Now();

  info_.provenance = rapl_ ? Provenance::kMeasured : Provenance::kModelled;
  info_.description =
      "Linux host: " + std::to_string(cpus_.size()) + " online CPUs, " +
      (has_cpufreq ? std::string("cpufreq caps") : std::string("no cpufreq (core-count levels only)")) +
      "; power: " + power_note_ + "; mode budgets are the modelled full-load power";
  return Status::Ok();
}

void LinuxHostPlatform::WaitForInterval() {
  if (options_.clock != nullptr || !last_read_) return;
  auto elapsed = clock_->Now() - *last_read_;
  if (elapsed < options_.min_interval) std::this_thread::sleep_for(options_.min_interval - elapsed);
}

StatusOr<PowerReading> LinuxHostPlatform::ReadPower() {
  WaitForInterval();
  PowerReading r;
  if (rapl_) {
    auto p = rapl_->Sample();
    if (!p.ok()) {
      if (p.status().code() == StatusCode::kFailedPrecondition && last_reading_) return *last_reading_;
      return Status(p.status().code(), "host: " + p.status().message());
    }
    r.provenance = Provenance::kMeasured;
    for (const auto& [name, w] : p->zones) r.rails.push_back(RailPower{name, w, std::nullopt, std::nullopt});
    r.total = p->total;
  } else {
    auto util = procstat_->Sample();
    if (!util.ok())
      return Status(util.status().code(),
                    "host: modelled power needs /proc/stat: " + util.status().message());
    std::vector<CoreActivity> act;
    std::vector<int> ids;
    for (const CoreUtilisation& u : *util) {
      if (std::find(cpus_.begin(), cpus_.end(), u.cpu) == cpus_.end()) continue;
      CoreActivity a{u.utilisation, 1.0};
      auto it = freq_.find(u.cpu);
      if (it != freq_.end()) {
        auto cur = ReadInt64(
            *fs_, std::string(kCpuDir) + "/cpu" + std::to_string(u.cpu) + "/cpufreq/scaling_cur_freq");
        if (cur.ok() && it->second.cpuinfo_max_khz > 0) {
          a.freq_ratio = static_cast<double>(*cur) / static_cast<double>(it->second.cpuinfo_max_khz);
        }
      }
      act.push_back(a);
      ids.push_back(u.cpu);
    }
    ModelledPower m = model_.Estimate(act);
    r.provenance = Provenance::kModelled;
    r.rails.push_back(RailPower{"idle", m.idle, std::nullopt, std::nullopt});
    for (size_t i = 0; i < ids.size(); ++i) {
      r.rails.push_back(RailPower{UnitOf(ids[i]), m.per_core[i], std::nullopt, std::nullopt});
    }
    r.total = m.total;
  }
  r.time = clock_->Now();
  last_read_ = r.time;
  last_reading_ = r;
  return r;
}

Status LinuxHostPlatform::SetPowerCap(Watts cap) {
  if (!(cap.value() > 0) || !std::isfinite(cap.value())) {
    return InvalidArgument("host: power cap " + fmt::format("{:g}", cap.value()) +
                           " W must be a positive number of watts");
  }
  StatusOr<std::vector<RaplZone>> zones = DiscoverRaplZones(*fs_);
  if (!zones.ok() || zones->empty()) {
    return Unimplemented("host: no RAPL powercap zones under " + fs_->Describe() +
                         " (" + (zones.ok() ? "none listed" : zones.status().message()) +
                         "); this machine has no continuous power cap, use the modes");
  }
  const std::vector<size_t> packages = RaplTotalZones(*zones);
  if (packages.empty()) return Unimplemented("host: no RAPL package zone to cap");
  const Watts per = cap / static_cast<double>(packages.size());
  for (size_t i : packages) {
    const RaplZone& z = (*zones)[i];
    int index = z.constraints.empty() ? 0 : z.constraints.front().index;
    for (const RaplConstraint& c : z.constraints) {
      if (c.name == "long_term") index = c.index;
    }
    Status s = SetRaplPowerLimit(*fs_, z, index, per);
    if (!s.ok()) return s.WithContext("host: capping " + z.id + " (" + z.name + ") at " + fmt::format("{:g}", per.value()) + " W");
  }
  return Status::Ok();
}

StatusOr<PowerReading> LinuxHostPlatform::ModelPowerFromBusy(int mode_id,
                                                             const std::map<std::string, Milliseconds>& busy,
                                                             Milliseconds window) const {
  if (mode_id < 0 || mode_id >= static_cast<int>(levels_.size())) {
    return NotFound("host: power mode " + std::to_string(mode_id) +
                    " does not exist; modes: " + info_.ModeList());
  }
  if (!(window.value() > 0)) return InvalidArgument("host: busy-time window must be positive");
  for (const auto& [unit, ms] : busy) {
    if (info_.FindUnit(unit) == nullptr) {
      return NotFound("host: unit '" + unit + "' does not exist; units: " + info_.UnitIdList());
    }
  }
  const Level& l = levels_[static_cast<size_t>(mode_id)];
  std::vector<CoreActivity> act;
  for (int c : l.online) {
    auto it = busy.find(UnitOf(c));
    double u = it == busy.end() ? 0.0 : it->second.value() / window.value();
    act.push_back(CoreActivity{u, l.freq_ratio});
  }
  ModelledPower m = model_.Estimate(act);
  PowerReading r;
  r.time = clock_->Now();
  r.provenance = Provenance::kModelled;
  r.rails.push_back(RailPower{"idle", m.idle, std::nullopt, std::nullopt});
  for (size_t i = 0; i < l.online.size(); ++i) {
    r.rails.push_back(RailPower{UnitOf(l.online[i]), m.per_core[i], std::nullopt, std::nullopt});
  }
  r.total = m.total;
  return r;
}

StatusOr<int> LinuxHostPlatform::CurrentMode() {
  auto online = ReadOnlineCpus(*fs_);
  if (!online.ok()) return Unavailable("host: " + online.status().message());
  std::vector<int> now;
  for (int c : *online) {
    if (std::find(cpus_.begin(), cpus_.end(), c) != cpus_.end()) now.push_back(c);
  }
  std::optional<int64_t> scaling_max, cpuinfo_max;
  if (!freq_.empty() && !now.empty()) {
    auto f = ReadCpuFreq(*fs_, now.front());
    if (!f.ok()) return Unavailable("host: " + f.status().message());
    scaling_max = f->scaling_max_khz;
    cpuinfo_max = f->cpuinfo_max_khz;
  }
  for (size_t i = 0; i < levels_.size(); ++i) {
    const Level& l = levels_[i];
    if (l.online != now) continue;
    if (!scaling_max) return static_cast<int>(i);
    const double tol = 0.01 * static_cast<double>(*cpuinfo_max);
    const double want = static_cast<double>(l.cap_khz ? *l.cap_khz : *cpuinfo_max);
    if (std::abs(static_cast<double>(*scaling_max) - want) <= tol) return static_cast<int>(i);
  }
  return Unavailable("host: the current state (CPUs " + FormatCpuList(now) + " online" +
                     (scaling_max ? ", max clock " + Mhz(static_cast<double>(*scaling_max)) : std::string()) +
                     ") matches none of the modes " + info_.ModeList());
}

Status LinuxHostPlatform::ApplyMode(int mode_id) {
  if (mode_id < 0 || mode_id >= static_cast<int>(levels_.size())) {
    return NotFound("host: power mode " + std::to_string(mode_id) +
                    " does not exist; modes: " + info_.ModeList());
  }
  const Level& l = levels_[static_cast<size_t>(mode_id)];
  const std::string what = "host: applying mode " + std::to_string(mode_id) + " (" +
                           info_.modes[static_cast<size_t>(mode_id)].name + "): ";
  ECOMAP_ASSIGN_OR_RETURN(std::vector<int> before_online, ReadOnlineCpus(*fs_));
  std::map<int, int64_t> before_max;
  for (const auto& [c, f] : freq_) {
    if (std::find(before_online.begin(), before_online.end(), c) == before_online.end()) continue;
    auto now = ReadCpuFreq(*fs_, c);
    if (now.ok()) before_max[c] = now->scaling_max_khz;
  }
  std::vector<int> onlined, offlined;
  std::vector<int> capped;
  auto rollback = [&]() {
    for (int c : offlined) (void)SetCpuOnline(*fs_, c, true);
    for (int c : capped) {
      if (before_max.count(c)) (void)SetCpuMaxFreq(*fs_, c, before_max[c]);
    }
    for (int c : onlined) (void)SetCpuOnline(*fs_, c, false);
  };
  auto is_online = [&](int c) {
    return std::find(before_online.begin(), before_online.end(), c) != before_online.end();
  };
  for (int c : l.online) {
    if (is_online(c)) continue;
    Status s = SetCpuOnline(*fs_, c, true);
    if (!s.ok()) {
      rollback();
      return Status(s.code(), what + s.message());
    }
    onlined.push_back(c);
  }
  for (int c : l.online) {
    auto it = freq_.find(c);
    if (it == freq_.end()) continue;
    const int64_t want =
        l.cap_khz ? std::min(*l.cap_khz, it->second.cpuinfo_max_khz) : it->second.cpuinfo_max_khz;
    if (before_max.count(c) && before_max[c] == want) continue;
    Status s = SetCpuMaxFreq(*fs_, c, want);
    if (!s.ok()) {
      rollback();
      return Status(s.code(), what + s.message());
    }
    capped.push_back(c);
  }
  for (int c : cpus_) {
    if (std::find(l.online.begin(), l.online.end(), c) != l.online.end() || !is_online(c)) continue;
    Status s = SetCpuOnline(*fs_, c, false);
    if (!s.ok()) {
      rollback();
      return Status(s.code(), what + s.message());
    }
    offlined.push_back(c);
  }
  return Status::Ok();
}

Status LinuxHostPlatform::Validate(const Configuration& config) const {
  return ValidateConfiguration(info_, config,
                               options_.model_lookup ? options_.model_lookup : DefaultModelLookup());
}

StatusOr<std::unique_ptr<Platform>> MakeHostPlatform(const PlatformOptions& options) {
  HostOptions o;
  o.root = options.root;
  o.clock = options.clock;
  o.model_lookup = options.model_lookup;
  ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<LinuxHostPlatform> p, LinuxHostPlatform::Create(o));
  return std::unique_ptr<Platform>(std::move(p));
}

}  // namespace ecomap::platform
