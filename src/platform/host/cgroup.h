// platform/host/cgroup.h: cgroup v2 CPU bandwidth (`cpu.max`).
//
//   /sys/fs/cgroup/<group>/cpu.max      "QUOTA PERIOD" in µs, or "max PERIOD" (no limit)
//
// A quota of Q µs per period P µs lets the group use Q/P CPUs' worth of time. The kernel accepts
// periods of 1 ms .. 1 s and quotas of at least 1 ms.
//
//   StatusOr<CpuMax> m = ParseCpuMax("50000 100000");   // 0.5 CPU
//   Status s = WriteCpuMax(fs, "/sys/fs/cgroup/ecomap", CpuMax::Cpus(1.5));
//
// Thread-safety: stateless functions; CpuMax is a value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

struct CpuMax {
  std::optional<int64_t> quota_us;  // nullopt = "max" (unlimited)
  int64_t period_us = 100000;

  // A limit of `cpus` CPUs' worth over the default 100 ms period (cpus > 0).
  static CpuMax Cpus(double cpus, int64_t period_us = 100000);
  // quota/period, or nullopt when unlimited.
  std::optional<double> cpus() const;
  // "50000 100000" / "max 100000".
  std::string ToString() const;
  bool operator==(const CpuMax&) const = default;
};

// Parses the file content; InvalidArgument naming the text on anything but "Q P" / "max P".
StatusOr<CpuMax> ParseCpuMax(std::string_view text);
// Checks the kernel's bounds (1000 <= period <= 1000000, quota >= 1000).
Status ValidateCpuMax(const CpuMax& m);

// `group_dir` is the device path of the cgroup directory (e.g. "/sys/fs/cgroup/ecomap").
// NotFound with a hint when the file is missing (cgroup v1, or the cpu controller not enabled).
StatusOr<CpuMax> ReadCpuMax(const Sysfs& fs, std::string_view group_dir);
Status WriteCpuMax(Sysfs& fs, std::string_view group_dir, const CpuMax& m);

}  // namespace ecomap::platform
