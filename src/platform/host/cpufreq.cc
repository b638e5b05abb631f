#include "platform/host/cpufreq.h"

#include <algorithm>

namespace ecomap::platform {
namespace {

std::string CpuPath(int cpu, std::string_view rest) {
  return std::string(kCpuDir) + "/cpu" + std::to_string(cpu) + "/" + std::string(rest);
}

StatusOr<std::vector<int>> ReadCpuListFile(const Sysfs& fs, const std::string& path) {
  ECOMAP_ASSIGN_OR_RETURN(std::string s, fs.Read(path));
  auto list = ParseCpuList(s);
  if (!list.ok()) return InvalidArgument(path + ": " + list.status().message());
  return list;
}

}  // namespace

StatusOr<std::vector<int>> ReadOnlineCpus(const Sysfs& fs) {
  return ReadCpuListFile(fs, std::string(kCpuDir) + "/online");
}
StatusOr<std::vector<int>> ReadPresentCpus(const Sysfs& fs) {
  return ReadCpuListFile(fs, std::string(kCpuDir) + "/present");
}

StatusOr<CpuFreqInfo> ReadCpuFreq(const Sysfs& fs, int cpu) {
  const std::string dir = CpuPath(cpu, "cpufreq");
  if (!fs.IsDirectory(dir)) {
    return NotFound("cpufreq: " + dir + " not found under root '" + fs.Describe() +
                    "': the kernel exposes no CPU frequency scaling here (common in VMs)");
  }
  CpuFreqInfo f;
  f.cpu = cpu;
  ECOMAP_ASSIGN_OR_RETURN(f.cpuinfo_min_khz, ReadInt64(fs, dir + "/cpuinfo_min_freq"));
  ECOMAP_ASSIGN_OR_RETURN(f.cpuinfo_max_khz, ReadInt64(fs, dir + "/cpuinfo_max_freq"));
  ECOMAP_ASSIGN_OR_RETURN(f.scaling_min_khz, ReadInt64(fs, dir + "/scaling_min_freq"));
  ECOMAP_ASSIGN_OR_RETURN(f.scaling_max_khz, ReadInt64(fs, dir + "/scaling_max_freq"));
  if (f.cpuinfo_min_khz <= 0 || f.cpuinfo_max_khz < f.cpuinfo_min_khz) {
    return InvalidArgument(dir + "/cpuinfo_max_freq: " + std::to_string(f.cpuinfo_max_khz) +
                           " kHz with cpuinfo_min_freq " + std::to_string(f.cpuinfo_min_khz) +
                           " kHz is not a valid range");
  }
  if (fs.Exists(dir + "/scaling_cur_freq")) {
    auto cur = ReadInt64(fs, dir + "/scaling_cur_freq");
    if (cur.ok()) f.scaling_cur_khz = *cur;  // reading it can be slow or root-only; informative only
  }
  if (fs.Exists(dir + "/scaling_available_frequencies")) {
    ECOMAP_ASSIGN_OR_RETURN(std::string s, fs.Read(dir + "/scaling_available_frequencies"));
    for (std::string_view t : SplitWhitespace(s)) {
      ECOMAP_ASSIGN_OR_RETURN(int64_t khz, ParseInt64(t, dir + "/scaling_available_frequencies"));
      f.available_khz.push_back(khz);
    }
    std::sort(f.available_khz.begin(), f.available_khz.end());
  }
  if (fs.Exists(dir + "/scaling_governor")) {
    auto g = ReadTrimmed(fs, dir + "/scaling_governor");
    if (g.ok()) f.governor = *g;
  }
  return f;
}

Status SetCpuMaxFreq(Sysfs& fs, int cpu, int64_t max_khz) {
  ECOMAP_ASSIGN_OR_RETURN(CpuFreqInfo f, ReadCpuFreq(fs, cpu));
  if (max_khz < f.cpuinfo_min_khz || max_khz > f.cpuinfo_max_khz) {
    return InvalidArgument("cpufreq: cpu" + std::to_string(cpu) + " max frequency " +
                           std::to_string(max_khz) + " kHz is outside the hardware range " +
                           std::to_string(f.cpuinfo_min_khz) + ".." + std::to_string(f.cpuinfo_max_khz) +
                           " kHz");
  }
  // Lower the floor first when the new cap is below it, as the kernel rejects max < min.
  if (max_khz < f.scaling_min_khz) {
    ECOMAP_RETURN_IF_ERROR(
        fs.Write(CpuPath(cpu, "cpufreq/scaling_min_freq"), std::to_string(f.cpuinfo_min_khz) + "\n"));
  }
  Status s = fs.Write(CpuPath(cpu, "cpufreq/scaling_max_freq"), std::to_string(max_khz) + "\n");
  if (s.code() == StatusCode::kPermissionDenied) {
    return PermissionDenied("cpufreq: writing frequency caps needs root (" + s.message() + ")");
  }
  return s;
}

Status SetCpuOnline(Sysfs& fs, int cpu, bool online) {
  const std::string path = CpuPath(cpu, "online");
  if (!fs.Exists(path)) {
    return Unimplemented("cpu" + std::to_string(cpu) + " cannot be taken on/offline here (" + path +
                         " does not exist)");
  }
  Status s = fs.Write(path, online ? "1\n" : "0\n");
  if (s.code() == StatusCode::kPermissionDenied) {
    return PermissionDenied("cpu hot-plug needs root (" + s.message() + ")");
  }
  return s;
}

}  // namespace ecomap::platform
