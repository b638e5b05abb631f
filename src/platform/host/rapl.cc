#include "platform/host/rapl.h"

#include <algorithm>
#include <regex>

namespace ecomap::platform {
namespace {

Status EnergyPermission(const RaplZone& zone, const Status& s) {
  return PermissionDenied(zone.path +
                          "/energy_uj is readable by root only (Linux 5.10+, CVE-2020-8694): run as root, or "
                          "`sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj` (" +
                          s.message() + ")");
}

}  // namespace

StatusOr<std::vector<RaplZone>> DiscoverRaplZones(const Sysfs& fs) {
  static const std::regex kZone(R"(^intel-rapl(-mmio)?:([0-9]+)(:([0-9]+))?$)");
  static const std::regex kConstraint(R"(^constraint_([0-9]+)_power_limit_uw$)");
  auto names = fs.List(kPowercapDir);
  if (!names.ok()) {
    if (names.status().code() == StatusCode::kNotFound) {
      return Unimplemented(
          "rapl: " + std::string(kPowercapDir) + " not found under root '" + fs.Describe() +
          "': this machine exposes no RAPL energy counters (common in VMs); power will be modelled");
    }
    return names.status();
  }
  std::vector<RaplZone> zones;
  for (const std::string& n : *names) {
    std::smatch m;
    if (!std::regex_match(n, m, kZone)) continue;
    RaplZone z;
    z.id = n;
    z.path = JoinPath(kPowercapDir, n);
    z.depth = m[3].matched ? 1 : 0;
    ECOMAP_ASSIGN_OR_RETURN(z.name, ReadTrimmed(fs, JoinPath(z.path, "name")));
    ECOMAP_ASSIGN_OR_RETURN(z.max_energy_range_uj, ReadUint64(fs, JoinPath(z.path, "max_energy_range_uj")));
    if (z.max_energy_range_uj == 0) {
      return InvalidArgument(JoinPath(z.path, "max_energy_range_uj") +
                             " is 0; a counter range must be positive");
    }
    if (fs.Exists(JoinPath(z.path, "enabled"))) {
      ECOMAP_ASSIGN_OR_RETURN(int64_t en, ReadInt64(fs, JoinPath(z.path, "enabled")));
      z.enabled = en != 0;
    }
    auto files = fs.List(z.path);
    if (!files.ok()) return files.status();
    for (const std::string& f : *files) {
      std::smatch cm;
      if (!std::regex_match(f, cm, kConstraint)) continue;
      RaplConstraint c;
      c.index = std::stoi(cm[1].str());
      const std::string prefix = JoinPath(z.path, "constraint_" + cm[1].str() + "_");
      ECOMAP_ASSIGN_OR_RETURN(c.power_limit_uw, ReadUint64(fs, prefix + "power_limit_uw"));
      if (fs.Exists(prefix + "name")) {
        ECOMAP_ASSIGN_OR_RETURN(c.name, ReadTrimmed(fs, prefix + "name"));
      }
      if (fs.Exists(prefix + "time_window_us")) {
        ECOMAP_ASSIGN_OR_RETURN(uint64_t w, ReadUint64(fs, prefix + "time_window_us"));
        c.time_window_us = w;
      }
      if (fs.Exists(prefix + "max_power_uw")) {
        auto mp = ReadUint64(fs, prefix + "max_power_uw");
        if (mp.ok() && *mp > 0) c.max_power_uw = *mp;  // some firmware leaves it unreadable (ENODATA)
      }
      z.constraints.push_back(std::move(c));
    }
    std::sort(z.constraints.begin(), z.constraints.end(),
              [](const RaplConstraint& a, const RaplConstraint& b) { return a.index < b.index; });
    zones.push_back(std::move(z));
  }
  if (zones.empty()) {
    return Unimplemented("rapl: no intel-rapl:* zone in " + std::string(kPowercapDir) + " under root '" +
                         fs.Describe() +
                         "': this machine exposes no RAPL energy counters; power will be modelled");
  }
  return zones;
}

StatusOr<uint64_t> ReadRaplEnergyUj(const Sysfs& fs, const RaplZone& zone) {
  auto v = ReadUint64(fs, JoinPath(zone.path, "energy_uj"));
  if (!v.ok() && v.status().code() == StatusCode::kPermissionDenied)
    return EnergyPermission(zone, v.status());
  if (v.ok() && *v > zone.max_energy_range_uj) {
    return InvalidArgument(zone.path + "/energy_uj = " + std::to_string(*v) +
                           " exceeds max_energy_range_uj " + std::to_string(zone.max_energy_range_uj));
  }
  return v;
}

uint64_t RaplEnergyDeltaUj(uint64_t before_uj, uint64_t after_uj, uint64_t max_range_uj) {
  if (after_uj >= before_uj) return after_uj - before_uj;
  return (max_range_uj - before_uj) + after_uj;
}

std::vector<size_t> RaplTotalZones(const std::vector<RaplZone>& zones) {
  std::vector<size_t> out;
  for (size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].depth == 0 && zones[i].name == "psys") return {i};
  }
  for (size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].depth == 0 && zones[i].id.rfind("intel-rapl:", 0) == 0) out.push_back(i);
  }
  return out;
}

Status SetRaplPowerLimit(Sysfs& fs, const RaplZone& zone, int index, Watts limit) {
  const RaplConstraint* c = nullptr;
  for (const RaplConstraint& k : zone.constraints) {
    if (k.index == index) c = &k;
  }
  if (c == nullptr) {
    return InvalidArgument("rapl: zone " + zone.id + " (" + zone.name + ") has no constraint " +
                           std::to_string(index));
  }
  if (!(limit.value() > 0)) {
    return InvalidArgument("rapl: power limit " + std::to_string(limit.value()) + " W must be positive");
  }
  const double uw = limit.value() * 1e6;
  if (c->max_power_uw && uw > static_cast<double>(*c->max_power_uw)) {
    return InvalidArgument("rapl: power limit " + std::to_string(limit.value()) + " W exceeds " + zone.id +
                           " constraint " + std::to_string(index) + " (" + c->name + ") maximum of " +
                           std::to_string(static_cast<double>(*c->max_power_uw) / 1e6) + " W");
  }
  const std::string path = JoinPath(zone.path, "constraint_" + std::to_string(index) + "_power_limit_uw");
  Status s = fs.Write(path, std::to_string(static_cast<uint64_t>(uw)) + "\n");
  if (s.code() == StatusCode::kPermissionDenied) {
    return PermissionDenied("rapl: setting a power limit needs root (" + s.message() + ")");
  }
  return s;
}

RaplPowerMeter::RaplPowerMeter(const Sysfs* fs, std::vector<RaplZone> zones, const Clock* clock)
    : fs_(fs), zones_(std::move(zones)), clock_(clock) {}

StatusOr<RaplPower> RaplPowerMeter::Sample() {
  std::vector<uint64_t> now_uj;
  now_uj.reserve(zones_.size());
  for (const RaplZone& z : zones_) {
    auto v = ReadRaplEnergyUj(*fs_, z);
    if (!v.ok()) {
      last_time_.reset();
      return v.status();
    }
    now_uj.push_back(*v);
  }
  const TimePoint now = clock_->Now();
  if (!last_time_) {
    last_uj_ = std::move(now_uj);
    last_time_ = now;
    return FailedPrecondition("rapl: primed; sample again after an interval to get power");
  }
  const double dt_s = std::chrono::duration<double>(now - *last_time_).count();
  if (!(dt_s > 0)) return FailedPrecondition("rapl: no time passed since the previous sample");
  RaplPower p;
  p.interval = Seconds(dt_s);
  std::vector<Watts> per_zone;
  for (size_t i = 0; i < zones_.size(); ++i) {
    uint64_t duj = RaplEnergyDeltaUj(last_uj_[i], now_uj[i], zones_[i].max_energy_range_uj);
    Watts w(static_cast<double>(duj) / 1e6 / dt_s);
    per_zone.push_back(w);
    p.zones.emplace_back(zones_[i].name + " (" + zones_[i].id + ")", w);
  }
  for (size_t i : RaplTotalZones(zones_)) p.total += per_zone[i];
  last_uj_ = std::move(now_uj);
  last_time_ = now;
  return p;
}

}  // namespace ecomap::platform
