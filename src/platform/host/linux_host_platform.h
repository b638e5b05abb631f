// platform/host/linux_host_platform.h: `host`, the Platform of the Linux machine Ecomap runs on.
//
// Units: one per online CPU core at creation ("cpu0", "cpu1", ...; kind cpu, 1 core each).
// Modes ("levels"), derived from what the kernel offers, ids in this order:
//   for each core set in {all cores, the lower half of them (when more than one core and the
//   others can be hot-plugged: cpuN/online exists)}:
//     for each clock ratio in {1.0, 0.8, 0.6, 0.4} of cpuinfo_max_freq (only 1.0 without cpufreq),
//     snapped down to scaling_available_frequencies when the driver has a table and kept at or
//     above cpuinfo_min_freq, duplicates dropped:
//       a mode named "<n>CORE_<pct>PCT" (e.g. "4CORE_100PCT", "2CORE_60PCT"; "<n>CORE" without cpufreq).
//   The cores kept online are the lowest-numbered ones. A mode's budget is the power model's
//   full-load power for it (modelled, platform/host/power_model.h). Mode 0 (all cores, no cap) is the default.
// ApplyMode writes cpuN/online and cpufreq/scaling_max_freq (root only): PermissionDenied when not
// permitted, Unimplemented when the kernel has no such files; on failure it restores what it changed.
// ReadPower: RAPL powercap (measured) when the counters exist and are readable, otherwise the power
// model driven by /proc/stat utilisation (modelled; every rail and the total are flagged modelled).
// Readings are averages since the previous reading (or since creation for the first).
// It is no Evaluator (platform/evaluator.h): the tenants of a host configuration run in the real
// engine (the engine part; profiler/host_evaluator.h), which reports per-unit busy time;
// ModelPowerFromBusy() turns that into power. MakeEvaluator("host") says so (kHostCannotEvaluate).
//
//   HostOptions o;  o.root = "/";
//   StatusOr<std::unique_ptr<LinuxHostPlatform>> h = LinuxHostPlatform::Create(o);
//   StatusOr<PowerReading> p = (*h)->ReadPower();   // p->provenance: measured (RAPL) or modelled
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "platform/host/cpufreq.h"
#include "platform/platform.h"
#include "platform/host/power_model.h"
#include "platform/host/rapl.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

struct HostOptions {
  std::string root = "/";        // where /sys and /proc are looked up
  const Clock* clock = nullptr;  // nullptr: the system clock
  ModelLookup model_lookup;      // empty: the zoo's catalogue
  HostPowerModelParams model = HostPowerModelParams::Default();
  // With the system clock, a reading taken sooner than this after the previous one waits for the
  // rest (counters need an interval). Ignored with an injected clock (tests advance it themselves).
  std::chrono::milliseconds min_interval{200};
  // Tests: a Sysfs to use instead of RootedSysfs(root) (e.g. a FaultySysfs). Not owned.
  Sysfs* sysfs = nullptr;
};

class LinuxHostPlatform final : public Platform {
 public:
  // Never fails for lack of RAPL or cpufreq (the driver says what it found in info().description);
  // fails (Unavailable, one line) only when the online CPU list cannot be read.
  static StatusOr<std::unique_ptr<LinuxHostPlatform>> Create(const HostOptions& options);

  const PlatformInfo& info() const override { return info_; }
  StatusOr<int> CurrentMode() override;
  Status ApplyMode(int mode_id) override;
  StatusOr<PowerReading> ReadPower() override;
  Status Validate(const Configuration& config) const override;

  // RAPL's long-term limit (constraint "long_term", else constraint 0) of every package zone,
  // `cap` split evenly between them. Unimplemented without powercap zones.
  Status SetPowerCap(Watts cap) override;

  // Modelled power of `mode_id` for the busy time of each unit (keyed by unit id, e.g. from the
  // engine) over `window`. Units absent count as idle; cores offline in the mode are not counted.
  // NotFound for an unknown mode or unit; InvalidArgument for a non-positive window.
  StatusOr<PowerReading> ModelPowerFromBusy(int mode_id, const std::map<std::string, Milliseconds>& busy,
                                            Milliseconds window) const override;

  // Whether ReadPower() measures (RAPL) or models; and why RAPL is not used when it is not.
  bool measures_power() const { return rapl_.has_value(); }
  const std::string& power_source_note() const { return power_note_; }
  const HostPowerModel& power_model() const { return model_; }

 private:
  struct Level {
    std::vector<int> online;         // CPU ids online in this mode
    std::optional<int64_t> cap_khz;  // nullopt: no cap (cpuinfo_max_freq)
    double freq_ratio = 1;
  };
  LinuxHostPlatform(const HostOptions& options, std::unique_ptr<Sysfs> owned, Sysfs* fs);
  Status Init();
  void WaitForInterval();

  HostOptions options_;
  std::unique_ptr<Sysfs> owned_fs_;
  Sysfs* fs_;
  const Clock* clock_;
  HostPowerModel model_;
  PlatformInfo info_;
  std::vector<int> cpus_;            // online at creation
  std::map<int, CpuFreqInfo> freq_;  // cpu -> cpufreq (absent: none)
  std::vector<Level> levels_;        // index = mode id
  std::optional<RaplPowerMeter> rapl_;
  std::optional<ProcStatSampler> procstat_;
  std::string power_note_;
  std::optional<TimePoint> last_read_;
  std::optional<PowerReading> last_reading_;
};

// Why the host driver has no Evaluator (the Unimplemented message of MakeEvaluator("host")).
inline constexpr const char* kHostCannotEvaluate =
    "host: the tenants of a host configuration run in the real engine (the engine part), not in this "
    "driver; "
    "this driver applies modes and reads power (ModelPowerFromBusy turns the engine's busy time into "
    "power)";

// The registry's factory for "host" (platform/registry.cc): maps PlatformOptions (root, clock,
// model_lookup) onto the driver's options.
StatusOr<std::unique_ptr<Platform>> MakeHostPlatform(const PlatformOptions& options);

}  // namespace ecomap::platform
