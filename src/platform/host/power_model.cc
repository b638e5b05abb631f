#include "platform/host/power_model.h"

#include <algorithm>
#include <cmath>

namespace ecomap::platform {

ModelledPower HostPowerModel::Estimate(const std::vector<CoreActivity>& cores) const {
  ModelledPower out;
  out.idle = Watts(params_.idle_base_w + params_.idle_per_core_w * static_cast<double>(cores.size()));
  out.total = out.idle;
  for (const CoreActivity& c : cores) {
    double u = std::clamp(std::isfinite(c.utilisation) ? c.utilisation : 0.0, 0.0, 1.0);
    double r = std::clamp(std::isfinite(c.freq_ratio) ? c.freq_ratio : 1.0, 0.0, 1.0);
    Watts dyn(params_.dynamic_per_core_w * u * std::pow(r, params_.freq_exponent));
    out.per_core.push_back(dyn);
    out.total += dyn;
  }
  return out;
}

Watts HostPowerModel::FullLoad(int cores, double freq_ratio) const {
  std::vector<CoreActivity> a(static_cast<size_t>(std::max(cores, 0)), CoreActivity{1.0, freq_ratio});
  return Estimate(a).total;
}

StatusOr<std::vector<double>> HostPowerModel::UtilisationFromBusy(const std::vector<Milliseconds>& busy,
                                                                  Milliseconds window) {
  if (!(window.value() > 0)) {
    return InvalidArgument("power model: window " + std::to_string(window.value()) + " ms must be positive");
  }
  std::vector<double> out;
  for (Milliseconds b : busy) out.push_back(std::clamp(b.value() / window.value(), 0.0, 1.0));
  return out;
}

StatusOr<std::map<int, CpuJiffies>> ParseProcStat(std::string_view text) {
  std::map<int, CpuJiffies> out;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || !std::isdigit(static_cast<unsigned char>(line[3])))
      continue;
    std::vector<std::string_view> t = SplitWhitespace(line);
    auto bad = [&] {
      return InvalidArgument("/proc/stat:" + std::to_string(line_no) + ": malformed cpu line '" +
                             std::string(Trim(line)) + "'");
    };
    if (t.size() < 5) return bad();
    auto cpu = ParseInt64(t[0].substr(3), "cpu");
    if (!cpu.ok() || *cpu < 0) return bad();
    uint64_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 1; i < t.size() && i <= 8; ++i) {
      auto x = ParseUint64(t[i], "jiffies");
      if (!x.ok()) return bad();
      v[i - 1] = *x;
    }
    // user nice system idle iowait irq softirq steal
    CpuJiffies j;
    j.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    j.total = j.busy + v[3] + v[4];
    out[static_cast<int>(*cpu)] = j;
  }
  if (out.empty()) return NotFound("/proc/stat: no cpuN line");
  return out;
}

StatusOr<std::vector<CoreUtilisation>> ProcStatSampler::Sample() {
  ECOMAP_ASSIGN_OR_RETURN(std::string text, fs_->Read("/proc/stat"));
  ECOMAP_ASSIGN_OR_RETURN(auto now, ParseProcStat(text));
  if (!last_) {
    last_ = std::move(now);
    return FailedPrecondition("proc stat sampler primed; sample again after an interval");
  }
  std::vector<CoreUtilisation> out;
  for (const auto& [cpu, j] : now) {
    CoreUtilisation c{cpu, 0.0};
    auto it = last_->find(cpu);
    if (it != last_->end() && j.total > it->second.total && j.busy >= it->second.busy) {
      c.utilisation = std::clamp(
          static_cast<double>(j.busy - it->second.busy) / static_cast<double>(j.total - it->second.total),
          0.0, 1.0);
    }
    out.push_back(c);
  }
  last_ = std::move(now);
  return out;
}

}  // namespace ecomap::platform
