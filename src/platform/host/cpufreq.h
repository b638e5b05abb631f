// platform/host/cpufreq.h: CPU hot-plug state and cpufreq frequency caps of a Linux host or Jetson.
//
//   /sys/devices/system/cpu/online                       CPU list, e.g. "0-3,6"
//   /sys/devices/system/cpu/present, possible            CPU lists
//   /sys/devices/system/cpu/cpu<N>/online                0/1 (absent for cpu0 on most kernels)
//   /sys/devices/system/cpu/cpu<N>/cpufreq/
//     cpuinfo_min_freq, cpuinfo_max_freq                 hardware range, kHz
//     scaling_min_freq, scaling_max_freq                 current policy caps, kHz (writable by root)
//     scaling_cur_freq                                   kHz (optional)
//     scaling_available_frequencies                      kHz list (optional; absent with intel_pstate)
//     scaling_governor                                   (optional)
//
//   RootedSysfs fs("/");
//   StatusOr<std::vector<int>> cpus = ReadOnlineCpus(fs);
//   StatusOr<CpuFreqInfo> f = ReadCpuFreq(fs, 0);         // NotFound when the kernel has no cpufreq
//   Status s = SetCpuMaxFreq(fs, 0, 1200000);             // kHz, validated against cpuinfo range
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

inline constexpr const char* kCpuDir = "/sys/devices/system/cpu";

StatusOr<std::vector<int>> ReadOnlineCpus(const Sysfs& fs);
StatusOr<std::vector<int>> ReadPresentCpus(const Sysfs& fs);

struct CpuFreqInfo {
  int cpu = 0;
  int64_t cpuinfo_min_khz = 0;
  int64_t cpuinfo_max_khz = 0;
  int64_t scaling_min_khz = 0;
  int64_t scaling_max_khz = 0;
  std::optional<int64_t> scaling_cur_khz;
  std::vector<int64_t> available_khz;  // sorted ascending; empty when the driver has no table
  std::string governor;
};

// NotFound (one line) when cpu<N>/cpufreq does not exist: the kernel exposes no frequency scaling
// (typical for VMs); InvalidArgument naming the file on malformed content.
StatusOr<CpuFreqInfo> ReadCpuFreq(const Sysfs& fs, int cpu);

// Writes scaling_max_freq. InvalidArgument when `max_khz` is outside [cpuinfo_min, cpuinfo_max]
// (message gives the range); PermissionDenied when not root; NotFound without cpufreq.
Status SetCpuMaxFreq(Sysfs& fs, int cpu, int64_t max_khz);

// Writes cpu<N>/online. Unimplemented when the CPU cannot be hot-plugged (no online file, e.g. cpu0).
Status SetCpuOnline(Sysfs& fs, int cpu, bool online);

}  // namespace ecomap::platform
