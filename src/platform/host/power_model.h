// platform/host/power_model.h: a documented CPU power model for Linux hosts without power sensors,
// and the /proc/stat utilisation it can be driven by.
//
// Where a host has no RAPL counters (virtual machines such as this build machine), Ecomap
// estimates CPU power from how busy each core was and at which clock:
//
//   P = idle_base_w + n_online x idle_per_core_w
//       + sum over online cores i of  dynamic_per_core_w x u_i x (f_i / f_max)^freq_exponent
//
// u_i in [0, 1] is core i's busy fraction over the window (from the engine's per-unit busy time,
// or from /proc/stat), f_i / f_max its clock relative to cpuinfo_max_freq (1 when unknown).
// Default constants (HostPowerModelParams::Default()), all per logical CPU as Linux sees them:
//   idle_base_w        = 2.0 W   share of package uncore/memory-controller idle power
//   idle_per_core_w    = 1.0 W   leakage + shallow C-state power of an online core
//   dynamic_per_core_w = 5.0 W   a fully busy core at its highest clock, above idle; server x86
//                                parts spend 5-8 W per core at TDP (TDP / core count)
//   freq_exponent      = 2.5     dynamic power ~ C V^2 f with V rising with f (exponent 3 where V
//                                ~ f, lower near the voltage floor)
// These are order-of-magnitude figures for a server-class x86 core, NOT calibrated against a
// meter on any machine: every reading built from them is labelled "modelled".
//
//   HostPowerModel model;                                   // Default()
//   Watts p = model.Estimate({{0.9, 1.0}, {0.1, 1.0}});     // two cores, 90% and 10% busy
//   ProcStatSampler s(&fs);  s.Sample();  ... StatusOr<std::vector<CoreUtilisation>> u = s.Sample();
//
// Thread-safety: HostPowerModel is immutable; ProcStatSampler is not thread-safe (one owner).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

struct HostPowerModelParams {
  double idle_base_w = 2.0;
  double idle_per_core_w = 1.0;
  double dynamic_per_core_w = 5.0;
  double freq_exponent = 2.5;
  static HostPowerModelParams Default() { return {}; }
};

struct CoreActivity {
  double utilisation = 0;  // busy fraction in [0, 1] (clamped)
  double freq_ratio = 1;   // f / f_max in (0, 1] (clamped)
};

struct ModelledPower {
  Watts total{0};
  Watts idle{0};                // base + per-core idle
  std::vector<Watts> per_core;  // dynamic part of each core, in input order
};

class HostPowerModel {
 public:
  explicit HostPowerModel(HostPowerModelParams params = HostPowerModelParams::Default()) : params_(params) {}

  // One entry per online core.
  ModelledPower Estimate(const std::vector<CoreActivity>& cores) const;
  // Full load of `cores` cores at `freq_ratio`: the most the model can give (used as a mode's budget).
  Watts FullLoad(int cores, double freq_ratio = 1.0) const;

  // Busy fraction of each unit from its busy time over a window (as the engine reports it).
  // Values are clamped to [0, 1]; InvalidArgument when the window is not positive.
  static StatusOr<std::vector<double>> UtilisationFromBusy(const std::vector<Milliseconds>& busy,
                                                           Milliseconds window);

  const HostPowerModelParams& params() const { return params_; }

 private:
  HostPowerModelParams params_;
};

// Per-CPU jiffies from /proc/stat ("cpuN user nice system idle iowait irq softirq steal ...").
struct CpuJiffies {
  uint64_t busy = 0;   // user + nice + system + irq + softirq + steal
  uint64_t total = 0;  // busy + idle + iowait
};
// Parses the cpuN lines (the aggregate "cpu" line is skipped). InvalidArgument naming the line on
// malformed content; NotFound when there is no cpuN line.
StatusOr<std::map<int, CpuJiffies>> ParseProcStat(std::string_view text);

struct CoreUtilisation {
  int cpu = 0;
  double utilisation = 0;
};

// Utilisation per CPU between successive reads of /proc/stat (under the Sysfs root).
class ProcStatSampler {
 public:
  explicit ProcStatSampler(const Sysfs* fs) : fs_(fs) {}  // not owned
  // The first call primes and returns FailedPrecondition; later calls return each CPU's busy
  // fraction since the previous call (0 for a CPU whose counters did not move).
  StatusOr<std::vector<CoreUtilisation>> Sample();

 private:
  const Sysfs* fs_;
  std::optional<std::map<int, CpuJiffies>> last_;
};

}  // namespace ecomap::platform
