// platform/host/cpu_share.h: the daemon's own CPU share, a power knob that touches nothing else.
//
// On a shared host Ecomap may not hot-plug cores or cap clocks (root only, and it would slow
// every other program). It can still cap its own power: the CPU time it may use. Two ways, the
// first that works:
//   cgroup   cgroup v2 `cpu.max` of the process's own cgroup, where that file exists and is
//            writable (a delegated cgroup, e.g. a systemd unit with Delegate=yes): a quota of
//            cores x ratio CPUs' worth of time per 100 ms period;
//   affinity the CPU affinity of every thread of the process, restricted to the first `cores`
//            CPUs it was allowed at creation (sched_setaffinity); a thread pinned to some of
//            those CPUs (an engine worker on its unit's CPU) keeps its pin, and gets it back
//            when a wider limit follows. The clock ratio cannot be expressed this way, so only
//            the core count takes effect (note() says so). Threads the process starts later
//            inherit the limit of the thread that starts them (a pin set later is the
//            caller's: the engine keeps its stages on allowed_cpus()).
// The cgroup is found from /proc/self/cgroup (the "0::PATH" line) and the cgroup2 mount point in
// /proc/self/mountinfo. Restore() puts back what was there at creation.
//
//   StatusOr<std::unique_ptr<CpuShare>> s = CpuShare::Create({});
//   (*s)->Apply(2, 0.6);           // 1.2 CPUs' worth (cgroup) or cores 0-1 (affinity)
//   (*s)->mechanism();             // "cgroup cpu.max" | "affinity"
//
// Thread-safety: one thread at a time (the daemon's actuator).
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/host/cgroup.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

struct CpuShareOptions {
  std::string root = "/";    // where /proc and /sys are looked up (tests: a fixture tree)
  bool allow_cgroup = true;  // false: go straight to affinity
  bool allow_affinity = true;  // false: cgroup or nothing (tests of the cgroup path)
};

// The cgroup v2 directory (device path, e.g. "/sys/fs/cgroup/system.slice/ecomap.service") of
// this process, from /proc/self/cgroup and /proc/self/mountinfo below `fs`. NotFound naming why
// (no cgroup2 mount, no "0::" line: cgroup v1 only).
StatusOr<std::string> OwnCgroupDir(const Sysfs& fs);

class CpuShare {
 public:
  // Unavailable when neither mechanism can be used (the reason of each in the message).
  static StatusOr<std::unique_ptr<CpuShare>> Create(const CpuShareOptions& options);
  ~CpuShare();
  CpuShare(const CpuShare&) = delete;
  CpuShare& operator=(const CpuShare&) = delete;

  // Limits the process to `cores` cores at `ratio` of their time. InvalidArgument when cores is
  // outside [1, cores available at creation] or ratio outside (0, 1]. Errors of the write
  // (PermissionDenied, ...) leave the previous limit in force.
  Status Apply(int cores, double ratio);
  // The limit at creation. Also called by the destructor (errors ignored there).
  Status Restore();

  std::string mechanism() const;        // "cgroup cpu.max" | "affinity"
  std::string note() const { return note_; }
  int available_cores() const { return static_cast<int>(initial_cpus_.size()); }
  // The CPUs the process may use under the current limit (affinity: the first `cores` of the
  // initial set; cgroup: the initial set, the quota spreads over them).
  std::vector<int> allowed_cpus() const;
  // CPUs' worth of time the current limit allows (cores x ratio for cgroup, cores for affinity).
  double limit_cpus() const { return limit_cpus_; }

 private:
  CpuShare() = default;
  Status SetAffinity(const std::vector<int>& cpus);

  std::unique_ptr<RootedSysfs> fs_;
  std::optional<std::string> cgroup_dir_;  // set: the cgroup mechanism
  std::optional<CpuMax> initial_max_;
  std::vector<int> initial_cpus_;
  // Affinity: each thread's own mask (as first seen), and the mask of the last limit.
  std::map<pid_t, cpu_set_t> own_masks_;
  std::optional<cpu_set_t> last_limit_;
  int cores_ = 0;
  double limit_cpus_ = 0;
  std::string note_;
};

}  // namespace ecomap::platform
