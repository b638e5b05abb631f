#include "replay/replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "carbon/forecast.h"
#include "carbon/stats.h"
#include "loop/control_loop.h"

namespace ecomap::replay {
namespace {

// The demand's arrival figures imposed on the decision's configuration.
Status ImposeDemand(const std::vector<policy::TenantSpec>& demand, platform::Configuration* config) {
  if (config->tenants.size() != demand.size()) {
    return InvalidArgument("the decision configures " + std::to_string(config->tenants.size()) +
                           " tenants but the demand has " + std::to_string(demand.size()));
  }
  for (auto& t : config->tenants) {
    const policy::TenantSpec* s = policy::FindTenant(demand, t.name);
    if (s == nullptr) return InvalidArgument("the decision configures tenant '" + t.name + "' that the demand lacks");
    t.arrival = s->arrival;
    t.rate_rps = s->rate_rps;
    t.concurrency = s->concurrency;
  }
  return Status::Ok();
}

// The loop's carbon plug: the interval's intensity and forecast, computed once for every
// controller.
class IntervalCarbon final : public carbon::CarbonSource {
 public:
  IntervalCarbon(const std::string& name, TimePoint start, Duration interval, const std::vector<GramsPerKwh>* ci,
                 const std::vector<std::vector<GramsPerKwh>>* forecasts)
      : name_(name), start_(start), interval_(interval), ci_(ci), forecasts_(forecasts) {}
  std::string Name() const override { return name_; }
  StatusOr<carbon::CarbonReading> Latest(TimePoint now) override {
    ECOMAP_ASSIGN_OR_RETURN(size_t k, Index(now));
    return Reading(now, (*ci_)[k], false);
  }
  StatusOr<std::vector<carbon::CarbonReading>> Forecast(TimePoint now, Duration) override {
    ECOMAP_ASSIGN_OR_RETURN(size_t k, Index(now));
    std::vector<carbon::CarbonReading> out;
    for (GramsPerKwh g : (*forecasts_)[k]) out.push_back(Reading(now, g, true));
    return out;
  }

 private:
  carbon::CarbonReading Reading(TimePoint t, GramsPerKwh g, bool forecast) const {
    carbon::CarbonReading r;
    r.time = t;
    r.intensity = g;
    r.source = name_;
    r.forecast = forecast;
    return r;
  }
  StatusOr<size_t> Index(TimePoint now) const {
    if (now < start_ || (now - start_) / interval_ >= static_cast<int64_t>(ci_->size())) {
      return InvalidArgument("no carbon value at " + FormatIso8601(now) + " in the replay window");
    }
    return static_cast<size_t>((now - start_) / interval_);
  }
  std::string name_;
  TimePoint start_;
  Duration interval_;
  const std::vector<GramsPerKwh>* ci_;
  const std::vector<std::vector<GramsPerKwh>>* forecasts_;
};

// The world of a replay: the demand sets the load; the platform says what it costs (simulated).
class SimulatedWorld final : public loop::Actuator, public loop::Meter {
 public:
  explicit SimulatedWorld(platform::Evaluator* evaluator) : evaluator_(evaluator) {}
  StatusOr<Applied> Apply(const policy::Decision& d, const std::vector<policy::TenantSpec>& demand) override {
    Applied a{d.config, ""};
    ECOMAP_RETURN_IF_ERROR(ImposeDemand(demand, &a.config));
    return a;
  }
  Status Clear() override { return Status::Ok(); }
  StatusOr<loop::Measurement> Measure(const Request& req) override {
    if (req.config == nullptr || req.demand == nullptr) return FailedPrecondition("no configuration in force");
    StatusOr<platform::Performance> m = evaluator_->Evaluate(*req.config);
    if (!m.ok()) return m.status().WithContext("measuring the decision");
    loop::Measurement out;
    out.demand = *req.demand;
    out.config = *req.config;
    out.perf = std::move(m).value();
    out.window = req.elapsed;
    out.feedback = out.perf;
    return out;
  }

 private:
  platform::Evaluator* evaluator_;
};

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
  return bound_search.Validate();
}

TimePoint DefaultStart(const carbon::Trace& trace, int days) {
  TimePoint s = trace.Start() + std::chrono::hours(24 * 7);
  if (s + std::chrono::hours(24 * std::max(days, 0)) <= trace.End()) return s;
  return trace.Start();
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
  std::vector<double> decisions;
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
    decisions.push_back(r.decision_ms);
    s->decision_ms_max = std::max(s->decision_ms_max, r.decision_ms);
    loss_w += r.accuracy_loss_pts * r.requests;
    s->good_requests += r.good_requests;
    s->dropped_requests += r.dropped_requests;
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
    std::sort(decisions.begin(), decisions.end());
    s->decision_ms_p95 = carbon::Percentile(decisions, 95.0);
  }
  s->accuracy_loss_pts = req > 0 ? loss_w / req : 0;
  s->slo_violation_rate = s->tenant_intervals > 0 ? double(s->slo_violations) / s->tenant_intervals : 0;
  s->carbon_per_inference_g = s->inferences > 0 ? s->carbon_g / s->inferences : 0;
  s->carbon_per_1k_good_g = s->good_requests > 0 ? 1000.0 * s->carbon_g / s->good_requests : 0;
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

std::vector<std::vector<BoundCandidate>> BoundCandidates(const std::vector<ControllerSummary>& controllers, int steps) {
  std::vector<std::vector<BoundCandidate>> candidates(static_cast<size_t>(std::max(0, steps)));
  for (const ControllerSummary& s : controllers) {
    for (size_t k = 0; k < s.intervals.size() && k < candidates.size(); ++k) {
      const IntervalRecord& r = s.intervals[k];
      candidates[k].push_back(
          {s.name, r.carbon_g, r.accuracy_loss_pts * r.requests, r.requests, r.slo_violations, r.energy_wh});
    }
  }
  return candidates;
}

std::vector<std::vector<BoundCandidate>> BoundCandidates(const ReplayResult& result) {
  std::vector<std::vector<BoundCandidate>> candidates = BoundCandidates(result.controllers, result.steps);
  for (size_t k = 0; k < candidates.size() && k < result.searched.intervals.size(); ++k) {
    const std::vector<BoundCandidate>& more = result.searched.intervals[k];
    candidates[k].insert(candidates[k].end(), more.begin(), more.end());
  }
  return candidates;
}

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

  // One controller's whole replay; independent of the others.
  std::mutex progress_mu;
  auto replay_one = [&](size_t c) -> StatusOr<ControllerSummary> {
    const ControllerRun& run = controllers[c];
    const std::string ctx = "controller '" + run.name + "'";
    ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<platform::Evaluator> sim,
                            platform::MakeEvaluator(options.platform, options.platform_options));
    auto made = run.make ? run.make() : StatusOr<std::unique_ptr<policy::Controller>>(
                                            InvalidArgument("no factory"));
    if (!made.ok()) return made.status().WithContext(ctx);
    std::unique_ptr<policy::Controller> controller = std::move(made).value();

    ControllerSummary summary;
    summary.name = run.name;
    summary.intervals.reserve(steps);
    SimulatedWorld world(sim.get());
    loop::LoopPlugs plugs;
    plugs.clock = std::make_unique<loop::SimulatedClock>(options.start);
    plugs.carbon = std::make_unique<IntervalCarbon>(trace.name, options.start, options.interval, &ci, &forecasts);
    plugs.demand = demand;
    plugs.controller = controller.get();
    plugs.actuator = &world;
    plugs.meter = &world;
    loop::LoopOptions lo;
    lo.interval = options.interval;
    lo.strict = true;
    ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<loop::ControlLoop> control, loop::ControlLoop::Create(std::move(plugs), lo));
    for (int k = 0; k < steps; ++k) {
      const TimePoint t = options.start + options.interval * k;
      StatusOr<loop::IntervalOutcome> o = control->Tick();
      if (!o.ok()) return o.status().WithContext(ctx);
      summary.intervals.push_back(std::move(o->record));
      if (options.progress) {
        std::lock_guard<std::mutex> lock(progress_mu);
        options.progress({run.name, static_cast<int>(c), static_cast<int>(controllers.size()), k + 1, steps, t});
      }
    }
    Summarise(&summary, options.interval);
    return summary;
  };
  {
    ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<platform::Evaluator> probe,
                            platform::MakeEvaluator(options.platform, options.platform_options));
    result.provenance = platform::ProvenanceName(probe->info().provenance);
  }
  const size_t n = controllers.size();
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max<size_t>(1, n));
  std::vector<std::optional<StatusOr<ControllerSummary>>> done(n);
  // Longest first (the order of the results stays the order asked for): the controllers that
  // search with the simulator or the estimator take far longer than the fixed ones.
  auto cost = [&](size_t c) {
    const std::string& name = controllers[c].name;
    if (name == "perfect-predictor") return 3;
    if (name.rfind("ecomap", 0) == 0 || name == "energy") return 2;  // Ecomap, its twin, its ablations
    return (name == "throughput" || name == "clover") ? 1 : 0;
  };
  std::vector<size_t> order(n);
  for (size_t c = 0; c < n; ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost(a) > cost(b); });
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k = next++; k < n; k = next++) done[order[k]] = replay_one(order[k]);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (size_t c = 0; c < n; ++c) {
    if (!done[c]->ok()) return done[c]->status();
    result.controllers.push_back(std::move(**done[c]));
  }
  if (options.bound && n > 1) {
    // The hindsight bound over the controllers' measured choices and its own searched ones
    // (replay/bound.h, replay/bound_search.h), at each controller's own accuracy loss.
    if (options.bound_search.evals > 0) {
      std::vector<std::vector<policy::TenantSpec>> demands;
      for (int k = 0; k < steps; ++k) demands.push_back(demand(options.start + options.interval * k));
      BoundSearchOptions bso = options.bound_search;
      if (bso.threads == 0) bso.threads = options.threads;
      StatusOr<SearchedCandidates> sc = SearchBoundCandidates(demands, ci, options.interval, options.platform,
                                                              options.platform_options, bso);
      if (!sc.ok()) return sc.status().WithContext("the bound's searched candidates");
      result.searched = std::move(sc).value();
    }
    const std::vector<std::vector<BoundCandidate>> candidates = BoundCandidates(result);
    for (const ControllerSummary& s : result.controllers) {
      StatusOr<BoundResult> b = SolveBound(candidates, s.accuracy_loss_pts + 1e-9);
      if (b.status().code() == StatusCode::kFailedPrecondition) {
        // Not even this controller's own choices fit: it broke SLOs where only lossier
        // candidates held them. No bound at its accuracy loss.
        BoundResult none;
        none.budget_pts = s.accuracy_loss_pts;
        none.feasible = false;
        result.bounds.push_back({s.name, none});
        continue;
      }
      if (!b.ok()) return b.status().WithContext("bound at " + s.name + "'s accuracy loss");
      result.bounds.push_back({s.name, *b});
    }
  }
  return result;
}

}  // namespace ecomap::replay
