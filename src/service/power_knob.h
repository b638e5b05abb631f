// service/power_knob.h: how `ecomap serve` puts a decision's power mode into effect
// ([serve] power_knob).
//
//   "mode"       Platform::ApplyMode: nvpmodel on a Jetson, the simulated mode on xavier-sim,
//                core hot-plug and clock caps of the whole machine on host (root; it slows every
//                other program, so not the host's default).
//   "cpu-share"  host only: the daemon's own CPU share (platform/host/cpu_share.h). A host mode
//                "NCORE_RPCT" becomes N cores at R% of their time: cgroup v2 cpu.max of the
//                daemon's own cgroup where it is delegated, else the CPU affinity of the
//                daemon's threads (N cores; the clock ratio is not expressible). Nothing else
//                on the machine is touched; the threshold takes effect live. The default on host.
//   "none"       the chosen mode is reported, not applied; the controller is then given the mode
//                in force alone, so its plans match what runs.
//
//   StatusOr<std::unique_ptr<PowerKnob>> k = MakePowerKnob("cpu-share", platform);
//   (*k)->Apply(*platform->info().FindMode(1));   // 1 core
//   (*k)->Describe();                             // "cpu share (affinity): CPU 0"
//
// Thread-safety: one thread at a time (the daemon's actuator, under its control mutex).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "platform/platform.h"

namespace ecomap::service {

class PowerKnob {
 public:
  virtual ~PowerKnob() = default;
  // Puts `mode` into effect. An error leaves the previous mode in force.
  virtual Status Apply(const platform::PowerMode& mode) = 0;
  // What is in force now, for the terminal and /status ("mode 1 via nvpmodel", "cpu share
  // (cgroup cpu.max): 1.20 CPUs").
  virtual std::string Describe() const = 0;
  // "mode" | "cpu-share"
  virtual std::string kind() const = 0;
  // Whether the terminal's interval line shows Describe() after the mode: only where it says
  // more than the mode's name (the cpu share: which CPUs, which mechanism).
  virtual bool ShowInLine() const { return false; }
};

// The knobs [serve] power_knob accepts, for messages.
inline constexpr const char* kPowerKnobs = "\"mode\", \"cpu-share\" or \"none\"";

// "mode" or "cpu-share" on `platform` (which outlives the knob); nullptr for "none".
// InvalidArgument for an unknown kind or cpu-share off the host platform; Unavailable when the
// daemon can limit its own CPU share neither way (the reasons in the message).
StatusOr<std::unique_ptr<PowerKnob>> MakePowerKnob(const std::string& kind, platform::Platform* platform);

// The CPU share a host mode stands for: its online cores (all of the platform's CPU units when 0)
// and the ratio of its clock cap to the units' highest clock (1 without a cap or a known clock).
struct CpuShareLevel {
  int cores = 1;
  double ratio = 1.0;
};
CpuShareLevel CpuShareOfMode(const platform::PlatformInfo& info, const platform::PowerMode& mode);

}  // namespace ecomap::service
