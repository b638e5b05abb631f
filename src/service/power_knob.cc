#include "service/power_knob.h"

#include <algorithm>

#include <fmt/format.h>

#include "platform/host/cpu_share.h"

namespace ecomap::service {
namespace {

class ModeKnob final : public PowerKnob {
 public:
  explicit ModeKnob(platform::Platform* p) : platform_(p) {}
  Status Apply(const platform::PowerMode& mode) override {
    ECOMAP_RETURN_IF_ERROR(platform_->ApplyMode(mode.id));
    in_force_ = fmt::format("mode {} {} (platform)", mode.id, mode.name);
    return Status::Ok();
  }
  std::string Describe() const override { return in_force_; }
  std::string kind() const override { return "mode"; }

 private:
  platform::Platform* platform_;
  std::string in_force_ = "platform mode unchanged";
};

class CpuShareKnob final : public PowerKnob {
 public:
  CpuShareKnob(const platform::PlatformInfo& info, std::unique_ptr<platform::CpuShare> share)
      : info_(info), share_(std::move(share)) {}
  Status Apply(const platform::PowerMode& mode) override {
    CpuShareLevel l = CpuShareOfMode(info_, mode);
    l.cores = std::clamp(l.cores, 1, share_->available_cores());
    return share_->Apply(l.cores, l.ratio);
  }
  std::string Describe() const override {
    if (share_->mechanism() == "affinity") {
      std::vector<int> cpus = share_->allowed_cpus();
      std::string list;
      for (int c : cpus) list += (list.empty() ? "" : ",") + std::to_string(c);
      return fmt::format("cpu share (affinity): CPU{} {}", cpus.size() == 1 ? "" : "s", list);
    }
    return fmt::format("cpu share ({}): {:.2f} CPUs", share_->mechanism(), share_->limit_cpus());
  }
  std::string kind() const override { return "cpu-share"; }
  bool ShowInLine() const override { return true; }

 private:
  platform::PlatformInfo info_;
  std::unique_ptr<platform::CpuShare> share_;
};

}  // namespace

CpuShareLevel CpuShareOfMode(const platform::PlatformInfo& info, const platform::PowerMode& mode) {
  CpuShareLevel l;
  int cpus = 0;
  double max_mhz = 0, cap_mhz = 0;
  for (const platform::ComputeUnit& u : info.units) {
    if (u.kind != platform::UnitKind::kCpu) continue;
    cpus += std::max(1, u.cores);
    max_mhz = std::max(max_mhz, u.max_frequency_mhz);
    auto it = mode.max_frequency_mhz.find(u.id);
    if (it != mode.max_frequency_mhz.end()) cap_mhz = std::max(cap_mhz, it->second);
  }
  l.cores = mode.online_cpu_cores > 0 ? mode.online_cpu_cores : std::max(1, cpus);
  if (cap_mhz > 0 && max_mhz > 0) l.ratio = std::clamp(cap_mhz / max_mhz, 0.01, 1.0);
  return l;
}

StatusOr<std::unique_ptr<PowerKnob>> MakePowerKnob(const std::string& kind, platform::Platform* platform) {
  if (kind == "none") return std::unique_ptr<PowerKnob>();
  if (kind == "mode") return std::unique_ptr<PowerKnob>(std::make_unique<ModeKnob>(platform));
  if (kind == "cpu-share") {
    if (platform->info().name != "host") {
      return InvalidArgument("power_knob = \"cpu-share\" limits the daemon's own CPUs and needs platform \"host\" (this is \"" +
                             platform->info().name + "\"); use power_knob = \"mode\"");
    }
    StatusOr<std::unique_ptr<platform::CpuShare>> share = platform::CpuShare::Create({});
    if (!share.ok()) {
      return Status(share.status().code(), share.status().message() + "; set [serve] power_knob = \"none\" to run without a live power knob");
    }
    return std::unique_ptr<PowerKnob>(std::make_unique<CpuShareKnob>(platform->info(), std::move(*share)));
  }
  return InvalidArgument("power_knob = \"" + kind + "\" is unknown; use " + kPowerKnobs);
}

}  // namespace ecomap::service
