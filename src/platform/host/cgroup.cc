#include "platform/host/cgroup.h"

#include <cmath>

namespace ecomap::platform {

CpuMax CpuMax::Cpus(double cpus, int64_t period_us) {
  CpuMax m;
  m.period_us = period_us;
  m.quota_us = static_cast<int64_t>(std::llround(cpus * static_cast<double>(period_us)));
  return m;
}

std::optional<double> CpuMax::cpus() const {
  if (!quota_us) return std::nullopt;
  return static_cast<double>(*quota_us) / static_cast<double>(period_us);
}

std::string CpuMax::ToString() const {
  return (quota_us ? std::to_string(*quota_us) : std::string("max")) + " " + std::to_string(period_us);
}

StatusOr<CpuMax> ParseCpuMax(std::string_view text) {
  std::vector<std::string_view> t = SplitWhitespace(text);
  auto bad = [&] {
    return InvalidArgument("cpu.max '" + std::string(Trim(text)) +
                           "' is not 'QUOTA PERIOD' or 'max PERIOD' (µs)");
  };
  if (t.size() != 2) return bad();
  CpuMax m;
  auto period = ParseInt64(t[1], "cpu.max period");
  if (!period.ok() || *period <= 0) return bad();
  m.period_us = *period;
  if (t[0] != "max") {
    auto quota = ParseInt64(t[0], "cpu.max quota");
    if (!quota.ok() || *quota <= 0) return bad();
    m.quota_us = *quota;
  }
  return m;
}

Status ValidateCpuMax(const CpuMax& m) {
  if (m.period_us < 1000 || m.period_us > 1000000) {
    return InvalidArgument("cpu.max period " + std::to_string(m.period_us) +
                           " µs is outside 1000..1000000 µs");
  }
  if (m.quota_us && *m.quota_us < 1000) {
    return InvalidArgument("cpu.max quota " + std::to_string(*m.quota_us) +
                           " µs is below the kernel's minimum of 1000 µs");
  }
  return Status::Ok();
}

StatusOr<CpuMax> ReadCpuMax(const Sysfs& fs, std::string_view group_dir) {
  const std::string path = JoinPath(group_dir, "cpu.max");
  auto text = fs.Read(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFound(
          "cgroup: " + path + " not found under root '" + fs.Describe() +
          "' (cgroup v2 with the cpu controller enabled is needed; v1 hierarchies have no cpu.max)");
    }
    return text.status();
  }
  auto m = ParseCpuMax(*text);
  if (!m.ok()) return InvalidArgument(path + ": " + m.status().message());
  return m;
}

Status WriteCpuMax(Sysfs& fs, std::string_view group_dir, const CpuMax& m) {
  ECOMAP_RETURN_IF_ERROR(ValidateCpuMax(m));
  const std::string path = JoinPath(group_dir, "cpu.max");
  if (!fs.Exists(path)) {
    return NotFound("cgroup: " + path + " not found under root '" + fs.Describe() +
                    "' (create the group and enable +cpu in the parent's cgroup.subtree_control)");
  }
  Status s = fs.Write(path, m.ToString() + "\n");
  if (s.code() == StatusCode::kPermissionDenied)
    return PermissionDenied("cgroup: writing cpu.max needs delegation or root (" + s.message() + ")");
  return s;
}

}  // namespace ecomap::platform
