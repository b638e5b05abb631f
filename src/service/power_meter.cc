#include "service/power_meter.h"

namespace ecomap::service {

PowerMeter::PowerMeter(platform::Platform* platform, platform::Evaluator* simulator)
    : platform_(platform), simulator_(simulator) {}

PowerFigure PowerMeter::Read(const Inputs& in) {
  PowerFigure f;
  StatusOr<platform::PowerReading> pr = platform_->ReadPower();
  if (pr.ok() && pr->provenance == platform::Provenance::kModelled) {
    // A modelled reading is the machine's (the host's /proc/stat counts every program on it); the
    // daemon's own figure is the model driven by the engine's busy time, where there is one.
    f.power = pr->total;
    f.provenance = platform::Provenance::kModelled;
    if (in.window.value() > 0) {
      StatusOr<platform::PowerReading> m =
          platform_->ModelPowerFromBusy(in.mode, in.busy, Milliseconds(in.window.value() * 1000));
      if (m.ok()) {
        f.power = m->total;
        f.note = "the daemon's own load: the power model from the engine's busy time";
      }
    }
    return f;
  }
  if (pr.ok()) {
    f.power = pr->total;
    f.provenance = pr->provenance;
    if (pr->provenance == platform::Provenance::kSimulated && in.config != nullptr && simulator_ != nullptr) {
      StatusOr<platform::Performance> sim = simulator_->Evaluate(*in.config);
      if (sim.ok()) f.power = sim->power;
    }
    return f;
  }
  f.fallback = true;
  f.provenance = platform::Provenance::kModelled;
  f.note = "power reading failed (" + pr.status().message() + "); ";
  if (in.window.value() > 0) {
    StatusOr<platform::PowerReading> m =
        platform_->ModelPowerFromBusy(in.mode, in.busy, Milliseconds(in.window.value() * 1000));
    if (m.ok()) {
      f.power = m->total;
      f.note += "host power model from the engine's busy time";
      return f;
    }
    if (m.status().code() != StatusCode::kUnimplemented) {
      f.note += "host power model failed: " + m.status().message() + "; ";
    }
  }
  if (in.predicted) {
    f.power = *in.predicted;
    f.note += "the controller's predicted power";
    return f;
  }
  f.note += "no power model available: 0 W recorded";
  return f;
}

}  // namespace ecomap::service
