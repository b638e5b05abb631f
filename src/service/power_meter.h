// service/power_meter.h: the serve daemon's power figure of an interval, with its fallback chain.
//
//   1. the platform's reading (ReadPower): measured (RAPL, INA3221 rails) or simulated. A
//      simulator's reading knows nothing of the engine's load, so on a simulated platform the
//      figure is the simulator's evaluation of the configuration in force (still "simulated").
//      A modelled reading (the host without RAPL: /proc/stat, i.e. every program on the
//      machine) gives way to the platform's model of the daemon's own load, the engine's
//      per-unit busy time in the mode in force (Platform::ModelPowerFromBusy), where it has one;
//      both are "modelled" and neither is a fallback;
//   2. when the reading fails: the platform's model of power from the engine's per-unit busy
//      time (Platform::ModelPowerFromBusy; the Linux host has one), labelled "modelled";
//   3. else the controller's predicted power of the decision in force, labelled "modelled";
//   4. else 0 W, labelled "modelled", with a note that no model was available.
// Every figure after step 1 is a fallback (fallback = true) and its note says which step gave it.
//
//   PowerMeter meter(platform, platform::AsEvaluator(platform));
//   PowerFigure p = meter.Read({.mode = 2, .config = &cfg, .predicted = Watts(11), .busy = busy,
//                               .window = Seconds(5)});
//
// Thread-safety: one thread at a time (the platform's reader is not shared).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/status.h"
#include "core/units.h"
#include "platform/platform.h"

namespace ecomap::service {

struct PowerFigure {
  Watts power{0};
  platform::Provenance provenance = platform::Provenance::kModelled;
  bool fallback = false;  // not the platform's own reading
  std::string note;       // why a fallback served it, and which one; empty for a reading
  // "measured", "modelled" or "simulated" (the provenance's name).
  std::string source() const { return platform::ProvenanceName(provenance); }
};

class PowerMeter {
 public:
  // `simulator`: the platform's own Evaluator (step 1; platform::AsEvaluator), nullptr when it
  // has none. REQUIRES: both outlive the meter.
  PowerMeter(platform::Platform* platform, platform::Evaluator* simulator);

  struct Inputs {
    int mode = 0;                                     // the power mode in force
    const platform::Configuration* config = nullptr;  // in force; nullptr: none
    std::optional<Watts> predicted;                   // the decision in force's predicted power
    std::map<std::string, Milliseconds> busy;         // per engine unit, over the window
    Seconds window{0};
  };
  PowerFigure Read(const Inputs& in);

 private:
  platform::Platform* platform_;
  platform::Evaluator* simulator_;
};

}  // namespace ecomap::service
