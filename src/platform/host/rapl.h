// platform/host/rapl.h: Intel/AMD RAPL energy counters and power limits through Linux powercap.
//
//   /sys/class/powercap/intel-rapl:<N>[:<M>]/
//     name                              "package-0", "core", "uncore", "dram", "psys"
//     energy_uj                         cumulative energy, µJ; wraps to 0 after max_energy_range_uj;
//                                       root-only since Linux 5.10 (CVE-2020-8694)
//     max_energy_range_uj               the counter's range
//     constraint_<K>_name               "long_term", "short_term", "peak_power"
//     constraint_<K>_power_limit_uw     µW, writable by root
//     constraint_<K>_time_window_us     µs
//     constraint_<K>_max_power_uw       optional
//     enabled                           0/1
// (intel-rapl-mmio:<N> zones are read the same way.)
//
// Power comes from two energy readings: P = ΔE / Δt, where ΔE accounts for one wrap-around:
// ΔE = E1 - E0 when E1 >= E0, else (max_energy_range_uj - E0) + E1.
//
// Host total: a "psys" zone (the whole platform) when there is one, else the sum of the
// top-level zones (one per package; their subzones are parts of them and are not added).
//
// Errors are distinct, as callers must react differently:
//   Unimplemented     no powercap RAPL zones on this machine (VMs, most ARM boards)
//   PermissionDenied  the zones exist but energy_uj is root-only
//   InvalidArgument   a file's content does not parse (named), or a bad limit value
//
//   RootedSysfs fs("/");
//   StatusOr<std::vector<RaplZone>> zones = DiscoverRaplZones(fs);
//   RaplPowerMeter meter(&fs, *zones, &SystemClock::Instance());
//   meter.Sample();  ...  StatusOr<RaplPower> p = meter.Sample();   // power since the previous sample
//
// Thread-safety: the free functions are stateless. RaplPowerMeter is not thread-safe (one owner).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

struct RaplConstraint {
  int index = 0;
  std::string name;  // "long_term", "short_term", "peak_power" ("" if the file is missing)
  uint64_t power_limit_uw = 0;
  std::optional<uint64_t> time_window_us;
  std::optional<uint64_t> max_power_uw;
};

struct RaplZone {
  std::string id;    // "intel-rapl:0", "intel-rapl:0:1"
  std::string path;  // device directory
  std::string name;  // "package-0"
  int depth = 0;     // 0 for top-level zones, 1 for subzones
  uint64_t max_energy_range_uj = 0;
  std::optional<bool> enabled;
  std::vector<RaplConstraint> constraints;
};

inline constexpr const char* kPowercapDir = "/sys/class/powercap";

// Lists and describes every RAPL zone (sorted by id). Reads name, max_energy_range_uj, enabled and
// the constraints, but not energy_uj (so it works for non-root users).
StatusOr<std::vector<RaplZone>> DiscoverRaplZones(const Sysfs& fs);

// The zone's energy counter, µJ. PermissionDenied explains the root-only rule.
StatusOr<uint64_t> ReadRaplEnergyUj(const Sysfs& fs, const RaplZone& zone);

// ΔE in µJ between two readings of a counter that wraps at `max_range_uj` (at most one wrap).
// REQUIRES: max_range_uj > 0 when a wrap can occur.
uint64_t RaplEnergyDeltaUj(uint64_t before_uj, uint64_t after_uj, uint64_t max_range_uj);

// Which zones make up the host total (see the header comment): indexes into `zones`.
std::vector<size_t> RaplTotalZones(const std::vector<RaplZone>& zones);

// Sets constraint `index` of `zone` to `limit`. InvalidArgument when <= 0, above the
// constraint's max_power_uw, or the constraint does not exist; PermissionDenied for non-root.
Status SetRaplPowerLimit(Sysfs& fs, const RaplZone& zone, int index, Watts limit);

struct RaplPower {
  std::vector<std::pair<std::string, Watts>> zones;  // (zone name + id, power) for every zone
  Watts total{0.0};
  Seconds interval{0.0};
};

// Turns successive energy readings into power.
class RaplPowerMeter {
 public:
  // Not owned: `fs` and `clock` must outlive the meter.
  RaplPowerMeter(const Sysfs* fs, std::vector<RaplZone> zones, const Clock* clock);

  // Reads every zone's counter. The first call (or the first after an error) only primes the
  // meter and returns FailedPrecondition("primed"); later calls return the power since the
  // previous successful call. FailedPrecondition also when no time passed (clock unchanged).
  StatusOr<RaplPower> Sample();

  const std::vector<RaplZone>& zones() const { return zones_; }

 private:
  const Sysfs* fs_;
  std::vector<RaplZone> zones_;
  const Clock* clock_;
  std::vector<uint64_t> last_uj_;
  std::optional<TimePoint> last_time_;
};

}  // namespace ecomap::platform
