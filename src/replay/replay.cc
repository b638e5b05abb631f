#include "replay/replay.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "carbon/accounting.h"
#include "carbon/forecast.h"
#include "carbon/stats.h"
#include "zoo/model.h"

namespace ecomap::replay {
namespace {

const policy::TenantSpec* FindSpec(const std::vector<policy::TenantSpec>& demand, const std::string& name) {
  for (const auto& t : demand) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// The demand's arrival figures imposed on the decision's configuration.
Status ImposeDemand(const std::vector<policy::TenantSpec>& demand, platform::Configuration* config) {
  if (config->tenants.size() != demand.size()) {
    return InvalidArgument("the decision configures " + std::to_string(config->tenants.size()) +
                           " tenants but the demand has " + std::to_string(demand.size()));
  }
  for (auto& t : config->tenants) {
    const policy::TenantSpec* s = FindSpec(demand, t.name);
    if (s == nullptr) return InvalidArgument("the decision configures tenant '" + t.name + "' that the demand lacks");
    t.arrival = s->arrival;
    t.rate_rps = s->rate_rps;
    t.concurrency = s->concurrency;
  }
  return Status::Ok();
}

}  // namespace

platform::PlatformOptions DefaultPlatformOptions() {
  platform::PlatformOptions o;
  o.seed = 1;
  o.noise = 0.03;
  return o;
}

Status ReplayOptions::Validate() const {
  if (days <= 0) return InvalidArgument("days must be > 0 (got " + std::to_string(days) + ")");
  if (days > 366) return InvalidArgument("days must be at most 366 (got " + std::to_string(days) + ")");
  const auto hour = std::chrono::minutes(60);
  if (interval.count() <= 0 || interval > hour || hour % interval != Duration(0)) {
    return InvalidArgument("interval must be > 0 and divide 60 minutes (e.g. 5, 10, 15, 30, 60); got " +
                           std::to_string(interval.count() / 60000.0) + " min");
  }
  if (forecast_horizon.count() < 0) return InvalidArgument("forecast horizon must be >= 0");
  if (!(platform_options.noise >= 0) || platform_options.noise > 0.5) {
    return InvalidArgument("measurement noise must be in [0, 0.5] (relative standard deviation)");
  }
  return Status::Ok();
}

TimePoint DefaultStart(const carbon::Trace& trace, int days) {
  TimePoint s = trace.Start() + std::chrono::hours(24 * 7);
  if (s + std::chrono::hours(24 * std::max(days, 0)) <= trace.End()) return s;
  return trace.Start();
}

StatusOr<double> BestAccuracy(const policy::TenantSpec& tenant) {
  double best = -1;
  if (!tenant.variants.empty()) {
    for (const auto& v : tenant.variants) {
      const zoo::ModelInfo* m = zoo::FindModel(v);
      if (m == nullptr) return NotFound("tenant '" + tenant.name + "': unknown model '" + v + "'");
      best = std::max(best, m->accuracy);
    }
  } else {
    for (const zoo::ModelInfo* m : zoo::Family(tenant.family)) best = std::max(best, m->accuracy);
  }
  if (best < 0) {
    return NotFound("tenant '" + tenant.name + "': family '" + tenant.family + "' has no models in the catalogue");
  }
  return best;
}

StatusOr<IntervalRecord> AccountInterval(const std::vector<policy::TenantSpec>& demand,
                                         const platform::Configuration& config,
                                         const platform::Performance& measured, GramsPerKwh intensity,
                                         Duration interval) {
  if (measured.tenants.size() != config.tenants.size()) {
    return InvalidArgument("the measurement has " + std::to_string(measured.tenants.size()) +
                           " tenants, the configuration " + std::to_string(config.tenants.size()));
  }
  if (!(measured.power.value() >= 0) || !std::isfinite(measured.power.value())) {
    return InvalidArgument("measured power must be finite and >= 0 W");
  }
  IntervalRecord r;
  r.power_mode = config.power_mode;
  r.intensity_g_per_kwh = intensity.value();
  r.power_w = measured.power.value();
  const Seconds secs(std::chrono::duration<double>(interval).count());
  const Joules e = measured.power * secs;
  r.energy_wh = ToWattHours(e).value();
  r.carbon_g = CarbonOf(e, intensity).value();

  std::vector<carbon::TenantLoad> loads;
  double weighted_loss = 0, weight = 0;
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const platform::TenantConfig& tc = config.tenants[i];
    const platform::TenantPerformance& tp = measured.tenants[i];
    const policy::TenantSpec* spec = FindSpec(demand, tc.name);
    if (spec == nullptr) return InvalidArgument("tenant '" + tc.name + "' is not in the demand");
    const zoo::ModelInfo* served = zoo::FindModel(tc.model);
    if (served == nullptr) return NotFound("tenant '" + tc.name + "': unknown model '" + tc.model + "'");
    ECOMAP_ASSIGN_OR_RETURN(double best, BestAccuracy(*spec));
    TenantInterval t;
    t.name = tc.name;
    t.variant = tc.model;
    t.throughput_rps = tp.throughput_rps;
    t.p95_ms = tp.latency_p95.value();
    t.slo_ms = spec->slo_p95.value();
    t.saturated = tp.saturated;
    t.offered_rps = spec->arrival == platform::ArrivalKind::kOpenLoop ? spec->rate_rps : tp.throughput_rps;
    t.slo_violated = tp.saturated || (spec->slo_p95.value() > 0 && t.p95_ms > spec->slo_p95.value()) ||
                     (spec->min_throughput_rps > 0 && tp.throughput_rps < spec->min_throughput_rps);
    t.accuracy_loss_pts = std::max(0.0, best - served->accuracy);
    weighted_loss += t.accuracy_loss_pts * t.offered_rps;
    weight += t.offered_rps;
    r.requests += t.offered_rps * secs.value();
    loads.push_back({tc.name, tp.throughput_rps, tp.latency_p95});
    r.tenants.push_back(std::move(t));
  }
  r.accuracy_loss_pts = weight > 0 ? weighted_loss / weight : 0;
  ECOMAP_ASSIGN_OR_RETURN(carbon::CdpSummary cdp, carbon::ComputeCdp(measured.power, intensity, loads));
  r.per_inference_g = cdp.per_inference.value();
  r.cdp_g_s = cdp.mean_cdp.value();
  for (size_t i = 0; i < r.tenants.size(); ++i) r.tenants[i].cdp_g_s = cdp.tenants[i].cdp.value();
  return r;
}

const ControllerSummary* ReplayResult::Find(const std::string& name) const {
  for (const auto& c : controllers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

double SavingPct(double ours, double theirs) {
  if (theirs == 0) return 0;
  return 100.0 * (1.0 - ours / theirs);
}

namespace {

void Summarise(ControllerSummary* s, Duration interval) {
  const double secs = std::chrono::duration<double>(interval).count();
  double cdp_sum = 0, power_sum = 0, dec_sum = 0, loss_w = 0, req = 0;
  std::map<std::string, std::vector<double>> p95s;
  std::map<std::string, std::pair<double, double>> tenant_loss;  // sum loss*req, req
  std::vector<std::string> order;
  int prev_mode = -1;
  for (size_t k = 0; k < s->intervals.size(); ++k) {
    const IntervalRecord& r = s->intervals[k];
    s->carbon_g += r.carbon_g;
    s->energy_wh += r.energy_wh;
    power_sum += r.power_w;
    cdp_sum += r.cdp_g_s;
    dec_sum += r.decision_ms;
    s->decision_ms_max = std::max(s->decision_ms_max, r.decision_ms);
    loss_w += r.accuracy_loss_pts * r.requests;
    req += r.requests;
    if (k > 0 && r.power_mode != prev_mode) ++s->mode_switches;
    prev_mode = r.power_mode;
    if (r.replanned) ++s->replans;
    if (r.threshold_raised) ++s->threshold_raises;
    for (const TenantInterval& t : r.tenants) {
      if (!p95s.count(t.name)) order.push_back(t.name);
      p95s[t.name].push_back(t.p95_ms);
      auto& tl = tenant_loss[t.name];
      tl.first += t.accuracy_loss_pts * t.offered_rps * secs;
      tl.second += t.offered_rps * secs;
      s->inferences += t.throughput_rps * secs;
      ++s->tenant_intervals;
      if (t.slo_violated) ++s->slo_violations;
    }
  }
  const double n = static_cast<double>(s->intervals.size());
  if (n > 0) {
    s->mean_power_w = power_sum / n;
    s->cdp_g_s = cdp_sum / n;
    s->decision_ms = dec_sum / n;
  }
  s->accuracy_loss_pts = req > 0 ? loss_w / req : 0;
  s->slo_violation_rate = s->tenant_intervals > 0 ? double(s->slo_violations) / s->tenant_intervals : 0;
  s->carbon_per_inference_g = s->inferences > 0 ? s->carbon_g / s->inferences : 0;
  for (const std::string& name : order) {
    TenantSummary t;
    t.name = name;
    std::vector<double> v = p95s[name];
    std::sort(v.begin(), v.end());
    t.p95_ms = carbon::Percentile(v, 95.0);
    double sum = 0;
    for (double x : v) sum += x;
    t.mean_p95_ms = sum / v.size();
    t.max_p95_ms = v.back();
    auto& tl = tenant_loss[name];
    t.accuracy_loss_pts = tl.second > 0 ? tl.first / tl.second : 0;
    for (const IntervalRecord& r : s->intervals) {
      for (const TenantInterval& ti : r.tenants) {
        if (ti.name != name) continue;
        t.slo_ms = ti.slo_ms;
        if (ti.slo_violated) ++t.violations;
        ++t.variant_intervals[ti.variant];
      }
    }
    s->tenants.push_back(std::move(t));
  }
}

}  // namespace

StatusOr<ReplayResult> RunReplay(const carbon::Trace& trace, const DemandFn& demand,
                                 const std::vector<ControllerRun>& controllers, const ReplayOptions& options) {
  ECOMAP_RETURN_IF_ERROR(options.Validate());
  if (controllers.empty()) return InvalidArgument("no controllers to replay; give at least one");
  if (!demand) return InvalidArgument("no demand (scenario) given");
  if (trace.points.empty()) return InvalidArgument("trace '" + trace.name + "' has no points");
  const TimePoint end = options.start + std::chrono::hours(24 * options.days);
  const std::string range = FormatIso8601(trace.Start()) + " to " + FormatIso8601(trace.End());
  if (options.start < trace.Start() || end > trace.End()) {
    return InvalidArgument("the replay window " + FormatIso8601(options.start) + " to " + FormatIso8601(end) + " (" +
                           std::to_string(options.days) + " days) is not inside trace '" + trace.name +
                           "', which covers " + range + "; choose --start and --days inside that range");
  }
  const int steps = static_cast<int>((end - options.start) / options.interval);

  // The intensity and forecast of every interval: the same for every controller.
  std::vector<GramsPerKwh> ci(steps);
  std::vector<std::vector<GramsPerKwh>> forecasts(steps);
  carbon::SeasonalForecaster forecaster;
  const int history_points = static_cast<int>(std::chrono::hours(24 * 9) / std::max(trace.period, Duration(1))) + 1;
  for (int k = 0; k < steps; ++k) {
    const TimePoint t = options.start + options.interval * k;
    std::optional<size_t> idx = trace.IndexAt(t);
    if (!idx) return InvalidArgument("trace '" + trace.name + "' has no value at " + FormatIso8601(t));
    ci[k] = trace.points[*idx].intensity;
    if (options.use_forecast && options.forecast_horizon.count() > 0) {
      const size_t first = *idx + 1 > size_t(history_points) ? *idx + 1 - history_points : 0;
      std::span<const carbon::TracePoint> hist(trace.points.data() + first, *idx + 1 - first);
      auto fc = forecaster.Forecast(hist, t, options.forecast_horizon, trace.period);
      if (!fc.ok()) return fc.status().WithContext("forecast at " + FormatIso8601(t));
      for (const auto& reading : *fc) forecasts[k].push_back(reading.intensity);
    }
  }

  ReplayResult result;
  result.trace_name = trace.name;
  result.zone = trace.zone;
  result.attribution = trace.Attribution();
  result.start = options.start;
  result.end = end;
  result.interval = options.interval;
  result.steps = steps;
  result.days = options.days;
  result.forecast = options.use_forecast;
  result.platform = options.platform;
  result.seed = options.platform_options.seed;
  result.noise = options.platform_options.noise;

  for (size_t c = 0; c < controllers.size(); ++c) {
    const ControllerRun& run = controllers[c];
    const std::string ctx = "controller '" + run.name + "'";
    ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<platform::Platform> plat,
                            platform::MakePlatform(options.platform, options.platform_options));
    result.provenance = platform::ProvenanceName(plat->info().provenance);
    auto made = run.make ? run.make() : StatusOr<std::unique_ptr<policy::Controller>>(
                                            InvalidArgument("no factory"));
    if (!made.ok()) return made.status().WithContext(ctx);
    std::unique_ptr<policy::Controller> controller = std::move(made).value();

    ControllerSummary summary;
    summary.name = run.name;
    summary.intervals.reserve(steps);
    std::optional<platform::Performance> last;
    for (int k = 0; k < steps; ++k) {
      const TimePoint t = options.start + options.interval * k;
      const std::string where = ctx + ", interval " + FormatIso8601(t);
      policy::ControlInput in;
      in.time = t;
      in.intensity = ci[k];
      in.forecast = forecasts[k];
      in.tenants = demand(t);
      in.measured = last;
      if (in.tenants.empty()) return InvalidArgument(where + ": the scenario has no tenants at this time");

      const auto t0 = std::chrono::steady_clock::now();
      StatusOr<policy::Decision> d = controller->Step(in);
      const double step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (!d.ok()) return d.status().WithContext(where);

      platform::Configuration applied = d->config;
      Status s = ImposeDemand(in.tenants, &applied);
      if (!s.ok()) return s.WithContext(where);
      platform::Evaluator* evaluator = platform::AsEvaluator(plat.get());
      StatusOr<platform::Performance> m =
          evaluator ? evaluator->Evaluate(applied) : platform::MakeEvaluator(options.platform).status();
      if (!m.ok()) return m.status().WithContext(where + ": measuring the decision");
      StatusOr<IntervalRecord> rec = AccountInterval(in.tenants, applied, *m, ci[k], options.interval);
      if (!rec.ok()) return rec.status().WithContext(where);
      rec->time = t;
      rec->threshold_w = d->threshold.value();
      rec->decision_ms = step_ms;
      rec->replanned = d->replanned;
      rec->threshold_raised = d->threshold_raised;
      rec->reason = d->reason;
      summary.intervals.push_back(std::move(*rec));
      last = std::move(*m);
      if (options.progress) {
        options.progress({run.name, static_cast<int>(c), static_cast<int>(controllers.size()), k + 1, steps, t});
      }
    }
    Summarise(&summary, options.interval);
    result.controllers.push_back(std::move(summary));
  }
  return result;
}

}  // namespace ecomap::replay
