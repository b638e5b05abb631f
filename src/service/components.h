// service/components.h: the collaborators `ecomap serve` builds from its configuration, apart
// from the daemon that wires them: the controller's predictor and the carbon source.
//
//   ECOMAP_ASSIGN_OR_RETURN(auto predictor, MakeServePredictor(config, platform.info(), &std::cerr));
//   ECOMAP_ASSIGN_OR_RETURN(ServeCarbon carbon, MakeServeCarbon(config, clock.Now()));
//
// Thread-safety: plain functions.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "carbon/source.h"
#include "core/status.h"
#include "core/time.h"
#include "estimator/predictor.h"
#include "platform/platform.h"
#include "service/config.h"

namespace ecomap::service {

// [serve.controller] predictor: "simulator" (xavier-sim's own model), else the analytic model
// fitted on the profile's samples of this platform. Warns on `warnings` about variants the
// profile never timed (their work would be planned as free). Errors name the config key and the
// command that fixes them.
StatusOr<std::shared_ptr<const estimator::Predictor>> MakeServePredictor(const ServeConfig& config,
                                                                         const platform::PlatformInfo& platform,
                                                                         std::ostream* warnings);

struct ServeCarbon {
  std::unique_ptr<carbon::CarbonSource> source;
  std::string primary;                           // the configured provider's name
  std::function<TimePoint(TimePoint)> signal_time;  // wall -> the carbon signal's time
};

// [serve.carbon]: a trace replayed from `now` (optionally faster, looping), or a live provider
// with the trace as its stand-in behind the fallback chain (carbon/fallback.h).
StatusOr<ServeCarbon> MakeServeCarbon(const ServeConfig& config, const Clock& clock);

// The keys that differ between `before` and `after` but take effect only after a restart
// (platform, power_knob, data_dir, api.listen, carbon, controller), comma-separated.
std::string RestartKeys(const ServeConfig& before, const ServeConfig& after);

}  // namespace ecomap::service
