#include "platform/host/cpu_share.h"

#include <dirent.h>
#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

namespace ecomap::platform {
namespace {

// The CPUs this process may run on now.
StatusOr<std::vector<int>> ProcessCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return Unavailable(fmt::format("sched_getaffinity failed: {}", std::strerror(errno)));
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) return Unavailable("the process may run on no CPU");
  return cpus;
}

}  // namespace

StatusOr<std::string> OwnCgroupDir(const Sysfs& fs) {
  ECOMAP_ASSIGN_OR_RETURN(std::string cgroups, fs.Read("/proc/self/cgroup"));
  std::optional<std::string> path;
  std::istringstream lines(cgroups);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("0::", 0) == 0) path = std::string(Trim(line.substr(3)));
  }
  if (!path) return NotFound("no cgroup v2 entry (\"0::\") in /proc/self/cgroup: cgroup v1 only");
  ECOMAP_ASSIGN_OR_RETURN(std::string mountinfo, fs.Read("/proc/self/mountinfo"));
  std::istringstream mounts(mountinfo);
  for (std::string line; std::getline(mounts, line);) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    std::vector<std::string_view> f = SplitWhitespace(line);
    auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
    if (f.size() < 5 || dash == f.end() || dash + 1 == f.end() || *(dash + 1) != "cgroup2") continue;
    std::string root(f[3]), mount_point(f[4]);
    // The mount shows the hierarchy from ROOT; the process's path is relative to the hierarchy.
    std::string rel = *path;
    if (root != "/" && rel.rfind(root, 0) == 0) rel = rel.substr(root.size());
    return JoinPath(mount_point, rel == "/" ? "" : (rel.front() == '/' ? rel.substr(1) : rel));
  }
  return NotFound("no cgroup2 file system in /proc/self/mountinfo");
}

StatusOr<std::unique_ptr<CpuShare>> CpuShare::Create(const CpuShareOptions& options) {
  std::unique_ptr<CpuShare> s(new CpuShare());
  s->fs_ = std::make_unique<RootedSysfs>(options.root);
  ECOMAP_ASSIGN_OR_RETURN(s->initial_cpus_, ProcessCpus());
  s->cores_ = static_cast<int>(s->initial_cpus_.size());
  s->limit_cpus_ = s->cores_;
  std::string cgroup_why = "disabled";
  if (options.allow_cgroup) {
    StatusOr<std::string> dir = OwnCgroupDir(*s->fs_);
    if (!dir.ok()) {
      cgroup_why = dir.status().message();
    } else {
      StatusOr<CpuMax> now = ReadCpuMax(*s->fs_, *dir);
      if (!now.ok()) {
        cgroup_why = now.status().message();
      } else {
        // Writable? Write back what is there (no change).
        Status w = WriteCpuMax(*s->fs_, *dir, *now);
        if (w.ok()) {
          s->cgroup_dir_ = *dir;
          s->initial_max_ = *now;
          s->note_ = fmt::format("cgroup v2 cpu.max of {} ({} at start)", *dir, now->ToString());
          return s;
        }
        cgroup_why = w.message();
      }
    }
  }
  if (!options.allow_affinity) {
    return Unavailable("the daemon cannot limit its own CPU share: cgroup: " + cgroup_why +
                       "; affinity: disabled");
  }
  s->note_ = fmt::format("CPU affinity of the process over CPUs {} (the clock ratio is not "
                         "expressible this way: only the core count takes effect; cgroup: {})",
                         FormatCpuList(s->initial_cpus_), cgroup_why);
  return s;
}

CpuShare::~CpuShare() { (void)Restore(); }

std::string CpuShare::mechanism() const { return cgroup_dir_ ? "cgroup cpu.max" : "affinity"; }

std::vector<int> CpuShare::allowed_cpus() const {
  if (cgroup_dir_) return initial_cpus_;
  return std::vector<int>(initial_cpus_.begin(), initial_cpus_.begin() + cores_);
}

Status CpuShare::SetAffinity(const std::vector<int>& cpus) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  for (int c : cpus) CPU_SET(c, &allowed);
  // Every thread of the process: /proc/self/task lists them. Each keeps what it had of its own
  // (an engine worker pinned to its unit's CPU stays there when that CPU is allowed): its mask
  // the first time it is seen, narrowed to the allowed CPUs, or all of them when none is left.
  // A thread first seen with exactly the last limit's mask was started under that limit (it
  // inherited it), so its own mask is taken to be the whole initial set.
  StatusOr<std::vector<std::string>> tasks = fs_->List("/proc/self/task");
  if (!tasks.ok()) tasks = std::vector<std::string>{std::to_string(getpid())};
  std::map<pid_t, cpu_set_t> seen;
  for (const std::string& t : *tasks) {
    const pid_t tid = static_cast<pid_t>(std::atoll(t.c_str()));
    if (tid <= 0) continue;
    cpu_set_t own;
    auto it = own_masks_.find(tid);
    if (it != own_masks_.end()) {
      own = it->second;
    } else {
      CPU_ZERO(&own);
      if (sched_getaffinity(tid, sizeof(own), &own) != 0) {
        if (errno == ESRCH) continue;  // ended meanwhile
        CPU_ZERO(&own);
      }
      if (last_limit_ && CPU_EQUAL(&own, &*last_limit_)) {
        CPU_ZERO(&own);
        for (int c : initial_cpus_) CPU_SET(c, &own);
      }
    }
    seen[tid] = own;
    cpu_set_t mask;
    CPU_AND(&mask, &own, &allowed);
    if (CPU_COUNT(&mask) == 0) mask = allowed;
    if (sched_setaffinity(tid, sizeof(mask), &mask) != 0 && errno != ESRCH) {
      return Unavailable(fmt::format("sched_setaffinity(thread {}, CPUs {}) failed: {}", tid,
                                     FormatCpuList(cpus), std::strerror(errno)));
    }
  }
  own_masks_ = std::move(seen);  // threads that ended are forgotten
  last_limit_ = allowed;
  return Status::Ok();
}

Status CpuShare::Apply(int cores, double ratio) {
  const int n = static_cast<int>(initial_cpus_.size());
  if (cores < 1 || cores > n) {
    return InvalidArgument(fmt::format("CPU share: {} cores requested, this process may use 1 to {}",
                                       cores, n));
  }
  if (!(ratio > 0 && ratio <= 1)) {
    return InvalidArgument(fmt::format("CPU share: clock ratio {} is outside (0, 1]", ratio));
  }
  if (cgroup_dir_) {
    CpuMax m = CpuMax::Cpus(std::max(0.01, cores * ratio));
    ECOMAP_RETURN_IF_ERROR(WriteCpuMax(*fs_, *cgroup_dir_, m));
    cores_ = cores;
    limit_cpus_ = cores * ratio;
    return Status::Ok();
  }
  std::vector<int> cpus(initial_cpus_.begin(), initial_cpus_.begin() + cores);
  ECOMAP_RETURN_IF_ERROR(SetAffinity(cpus));
  cores_ = cores;
  limit_cpus_ = cores;
  return Status::Ok();
}

Status CpuShare::Restore() {
  if (cgroup_dir_ && initial_max_) {
    ECOMAP_RETURN_IF_ERROR(WriteCpuMax(*fs_, *cgroup_dir_, *initial_max_));
  } else if (!cgroup_dir_ && cores_ != static_cast<int>(initial_cpus_.size())) {
    ECOMAP_RETURN_IF_ERROR(SetAffinity(initial_cpus_));
  }
  cores_ = static_cast<int>(initial_cpus_.size());
  limit_cpus_ = cores_;
  return Status::Ok();
}

}  // namespace ecomap::platform
