#include "service/components.h"

#include <algorithm>
#include <ostream>

#include "carbon/fallback.h"
#include "carbon/live_source.h"
#include "carbon/trace.h"
#include "carbon/trace_source.h"
#include "estimator/analytic.h"
#include "estimator/simulator_predictor.h"
#include "profiler/dataset.h"

namespace ecomap::service {

StatusOr<std::shared_ptr<const estimator::Predictor>> MakeServePredictor(const ServeConfig& config,
                                                                         const platform::PlatformInfo& platform,
                                                                         std::ostream* warnings) {
  if (config.controller.predictor == "simulator") {
    return std::shared_ptr<const estimator::Predictor>(
        std::make_shared<estimator::SimulatorPredictor>(platform::PlatformOptions{}));
  }
  const std::string& profile = config.controller.profile_path;
  StatusOr<profiler::Dataset> ds = profiler::ReadDataset(profile);
  if (!ds.ok()) {
    return Status(ds.status().code(), config.path + ": [serve.controller] profile: " + ds.status().message() +
                                          " (record one with `ecomap profile --platform " + config.platform + "`)");
  }
  std::vector<const profiler::Sample*> samples;
  for (const auto& s : ds->samples) {
    if (s.platform == platform.name) samples.push_back(&s);
  }
  if (samples.empty()) {
    return InvalidArgument(config.path + ": [serve.controller] profile " + profile + " has no samples of platform '" +
                           platform.name + "'; record them with `ecomap profile --platform " + config.platform + "`");
  }
  StatusOr<estimator::AnalyticModel> m = estimator::AnalyticModel::Fit(platform, samples);
  if (!m.ok()) {
    return Status(m.status().code(), "fitting the analytic predictor on " + profile + ": " + m.status().message());
  }
  // A variant whose blocks the profile never timed would be planned as free work.
  std::vector<std::string> variants;
  for (const policy::TenantSpec& t : config.tenants) {
    for (const std::string& v : TenantVariants(t)) {
      if (std::find(variants.begin(), variants.end(), v) == variants.end()) variants.push_back(v);
    }
  }
  for (const std::string& v : variants) {
    for (const std::string& line : m->UncoveredModels({v})) {
      if (warnings == nullptr) continue;
      *warnings << "ecomap serve: warning: " << profile << " has no timing for " << line
                << ", so the analytic predictor counts that work as free; measure it with `ecomap profile --platform "
                << config.platform << " --models " << v << " --append --out " << profile << "`\n";
    }
  }
  return std::shared_ptr<const estimator::Predictor>(std::make_shared<estimator::AnalyticPredictor>(std::move(m).value()));
}

StatusOr<ServeCarbon> MakeServeCarbon(const ServeConfig& config, const Clock& clock) {
  const TimePoint now = clock.Now();
  ServeCarbon out;
  out.signal_time = [](TimePoint t) { return t; };
  ECOMAP_ASSIGN_OR_RETURN(carbon::TraceColumn column, carbon::ParseTraceColumn(config.carbon.column));
  ECOMAP_ASSIGN_OR_RETURN(carbon::Trace trace, carbon::LoadTrace(config.carbon.trace_path, {.column = column}));
  if (config.carbon.provider == "trace") {
    carbon::TraceSourceOptions o = carbon::StandInOptions(trace, now);
    if (!o.replay) o.replay = carbon::ReplayMapping{now, now, 1.0, config.carbon.loop};
    o.replay->wall_origin = now;
    o.replay->speedup = config.carbon.speedup;
    o.replay->loop = config.carbon.loop;
    if (config.carbon.start) o.replay->trace_origin = *config.carbon.start;
    Status v = carbon::ValidateReplay(*o.replay, trace);
    if (!v.ok()) return InvalidArgument(config.path + ": [serve.carbon] start: " + v.message());
    auto src = std::make_shared<carbon::TraceSource>(trace, o);
    out.primary = src->Name();
    out.signal_time = [src](TimePoint t) { return src->TraceTime(t); };
    // The shared_ptr keeps a copy alive for signal_time; the loop owns its own.
    out.source = std::make_unique<carbon::TraceSource>(trace, o);
    return out;
  }
  ECOMAP_ASSIGN_OR_RETURN(carbon::Provider p, carbon::ParseProvider(config.carbon.provider));
  StatusOr<std::unique_ptr<carbon::CarbonSource>> live = carbon::MakeLiveSource(p, config.live);
  if (!live.ok()) return Status(live.status().code(), config.path + ": " + live.status().message());
  out.primary = (*live)->Name();
  auto stand_in = std::make_unique<carbon::TraceSource>(trace, carbon::StandInOptions(trace, now));
  out.source = carbon::MakeFallbackChain(p, std::move(live).value(), std::move(stand_in), config.live, clock);
  return out;
}

std::string RestartKeys(const ServeConfig& a, const ServeConfig& c) {
  std::vector<std::string> restart;
  if (c.platform != a.platform) restart.push_back("platform");
  if (c.power_knob != a.power_knob) restart.push_back("power_knob");
  if (c.data_dir != a.data_dir) restart.push_back("data_dir");
  if (c.api.host != a.api.host || c.api.port != a.api.port) restart.push_back("api.listen");
  if (c.grpc.enabled != a.grpc.enabled || c.grpc.host != a.grpc.host || c.grpc.port != a.grpc.port)
    restart.push_back("grpc.listen");
  if (c.carbon.provider != a.carbon.provider || c.carbon.trace_path != a.carbon.trace_path ||
      c.carbon.speedup != a.carbon.speedup)
    restart.push_back("carbon");
  if (c.controller.name != a.controller.name || c.controller.predictor != a.controller.predictor)
    restart.push_back("controller");
  std::string out;
  for (const auto& r : restart) out += (out.empty() ? "" : ", ") + r;
  return out;
}

}  // namespace ecomap::service
