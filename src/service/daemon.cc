#include "service/daemon.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "carbon/live_source.h"
#include "carbon/trace.h"
#include "carbon/trace_source.h"
#include "estimator/analytic.h"
#include "estimator/simulator_predictor.h"
#include "platform/faulty_platform.h"
#include "platform/host/linux_host_platform.h"
#include "platform/registry.h"
#include "profiler/dataset.h"
#include "service/http_server.h"

namespace ecomap::service {
namespace {

using nlohmann::json;

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

platform::LinuxHostPlatform* AsHost(platform::Platform* p) {
  if (auto* h = dynamic_cast<platform::LinuxHostPlatform*>(p)) return h;
  if (auto* f = dynamic_cast<platform::FaultyPlatform*>(p)) return AsHost(&f->inner());
  return nullptr;
}

json DecisionToJson(const DecisionRow& d) {
  json j = {{"id", d.id},
            {"interval", d.interval},
            {"time", d.time_utc},
            {"controller", d.controller},
            {"trigger", d.trigger},
            {"mode", d.mode},
            {"threshold_w", d.threshold_w},
            {"replanned", d.replanned},
            {"reason", d.reason},
            {"decision_ms", d.decision_ms},
            {"applied", d.applied},
            {"apply_note", d.apply_note}};
  j["variants"] = json::parse(d.variants_json, nullptr, false);
  j["config"] = json::parse(d.config_json, nullptr, false);
  j["predicted"] = json::parse(d.predicted_json, nullptr, false);
  j["predicted_provenance"] = "modelled";
  return j;
}

json TenantSpecJson(const policy::TenantSpec& t) {
  json j = {{"name", t.name}, {"family", t.family}, {"variants", TenantVariants(t)}, {"slo_ms", t.slo_p95.value()}};
  if (t.min_throughput_rps > 0) j["min_throughput_rps"] = t.min_throughput_rps;
  if (t.arrival == platform::ArrivalKind::kOpenLoop) j["rate_rps"] = t.rate_rps;
  else j["concurrency"] = t.concurrency;
  return j;
}

}  // namespace

Daemon::Daemon(ServeConfig config, DaemonDeps deps)
    : config_(std::move(config)), deps_(std::move(deps)) {
  clock_ = deps_.clock ? deps_.clock : &SystemClock::Instance();
  interval_s_ = config_.interval_s;
  token_ = config_.api.token;
  tenants_ = config_.tenants;
}

Daemon::~Daemon() { Stop(); }

StatusOr<std::unique_ptr<Daemon>> Daemon::Create(ServeConfig config, DaemonDeps deps) {
  if (!deps.executors) return InvalidArgument("serve: no executor factory");
  if (!deps.make_controller) return InvalidArgument("serve: no controller factory");
  std::unique_ptr<Daemon> d(new Daemon(std::move(config), std::move(deps)));
  ECOMAP_RETURN_IF_ERROR(d->Build());
  return d;
}

Status Daemon::Build() {
  // Platform.
  if (deps_.platform) {
    platform_ = std::move(deps_.platform);
  } else {
    platform::PlatformOptions po;
    po.clock = clock_;
    po.seed = config_.seed;
    ECOMAP_ASSIGN_OR_RETURN(platform_, platform::MakePlatform(config_.platform, po));
  }
  // Engine.
  engine::EngineOptions eo;
  eo.units = deps_.units.empty() ? engine::HostUnits() : deps_.units;
  eo.clock = clock_;
  engine_ = std::make_unique<engine::Engine>(deps_.executors, eo);

  // Predictor (the controller's model of the platform).
  if (deps_.predictor) {
    predictor_ = deps_.predictor;
  } else if (config_.controller.predictor == "simulator") {
    predictor_ = std::make_shared<estimator::SimulatorPredictor>(platform::PlatformOptions{});
  } else {
    StatusOr<profiler::Dataset> ds = profiler::ReadDataset(config_.controller.profile_path);
    if (!ds.ok()) {
      return Status(ds.status().code(), config_.path + ": [serve.controller] profile: " + ds.status().message() +
                                            " (record one with `ecomap profile --platform " + config_.platform + "`)");
    }
    std::vector<const profiler::Sample*> samples;
    for (const auto& s : ds->samples) {
      if (s.platform == platform_->info().name) samples.push_back(&s);
    }
    if (samples.empty()) {
      return InvalidArgument(config_.path + ": [serve.controller] profile " + config_.controller.profile_path +
                             " has no samples of platform '" + platform_->info().name +
                             "'; record them with `ecomap profile --platform " + config_.platform + "`");
    }
    StatusOr<estimator::AnalyticModel> m = estimator::AnalyticModel::Fit(platform_->info(), samples);
    if (!m.ok()) {
      return Status(m.status().code(), "fitting the analytic predictor on " + config_.controller.profile_path +
                                           ": " + m.status().message());
    }
    // A variant whose blocks the profile never timed would be planned as free work.
    std::vector<std::string> variants;
    for (const policy::TenantSpec& t : tenants_) {
      for (const std::string& v : TenantVariants(t)) {
        if (std::find(variants.begin(), variants.end(), v) == variants.end()) variants.push_back(v);
      }
    }
    for (const std::string& v : variants) {
      for (const std::string& line : m->UncoveredModels({v})) {
        std::cerr << "ecomap serve: warning: " << config_.controller.profile_path << " has no timing for " << line
                  << ", so the analytic predictor counts that work as free; measure it with `ecomap profile --platform "
                  << config_.platform << " --models " << v << " --append --out " << config_.controller.profile_path
                  << "`\n";
      }
    }
    predictor_ = std::make_shared<estimator::AnalyticPredictor>(std::move(m).value());
  }
  if (config_.platform == "xavier-sim") oracle_ = std::make_shared<estimator::SimulatorPredictor>(platform::PlatformOptions{});
  else oracle_ = predictor_;

  policy::ControllerContext ctx;
  ctx.platform = &ControllerPlatform();
  ctx.predictor = predictor_;
  ctx.oracle = oracle_;
  ctx.options = config_.controller.options;
  ECOMAP_ASSIGN_OR_RETURN(controller_, deps_.make_controller(config_.controller.name, ctx));

  // Carbon source.
  TimePoint now = clock_->Now();
  if (deps_.carbon) {
    carbon_ = std::move(deps_.carbon);
    primary_source_ = carbon_->Name();
    signal_time_ = [](TimePoint t) { return t; };
  } else {
    ECOMAP_ASSIGN_OR_RETURN(carbon::TraceColumn column, carbon::ParseTraceColumn(config_.carbon.column));
    ECOMAP_ASSIGN_OR_RETURN(carbon::Trace trace, carbon::LoadTrace(config_.carbon.trace_path, {.column = column}));
    if (config_.carbon.provider == "trace") {
      carbon::TraceSourceOptions o = carbon::StandInOptions(trace, now);
      if (!o.replay) o.replay = carbon::ReplayMapping{now, now, 1.0, config_.carbon.loop};
      o.replay->wall_origin = now;
      o.replay->speedup = config_.carbon.speedup;
      o.replay->loop = config_.carbon.loop;
      if (config_.carbon.start) o.replay->trace_origin = *config_.carbon.start;
      Status v = carbon::ValidateReplay(*o.replay, trace);
      if (!v.ok()) return InvalidArgument(config_.path + ": [serve.carbon] start: " + v.message());
      auto src = std::make_shared<carbon::TraceSource>(trace, o);
      primary_source_ = src->Name();
      signal_time_ = [src](TimePoint t) { return src->TraceTime(t); };
      // The shared_ptr keeps the source alive for signal_time_; carbon_ owns a forwarding copy.
      carbon_ = std::make_unique<carbon::TraceSource>(trace, o);
    } else {
      ECOMAP_ASSIGN_OR_RETURN(carbon::Provider p, carbon::ParseProvider(config_.carbon.provider));
      StatusOr<std::unique_ptr<carbon::CarbonSource>> live = carbon::MakeLiveSource(p, config_.live);
      if (!live.ok()) return Status(live.status().code(), config_.path + ": " + live.status().message());
      primary_source_ = (*live)->Name();
      auto stand_in = std::make_unique<carbon::TraceSource>(trace, carbon::StandInOptions(trace, now));
      carbon_ = carbon::MakeFallbackChain(p, std::move(live).value(), std::move(stand_in), config_.live, *clock_);
      signal_time_ = [](TimePoint t) { return t; };
    }
  }
  return Status::Ok();
}

std::string Daemon::MapUnit(const std::string& unit) const {
  const auto& units = engine_->units();
  for (const auto& u : units) {
    if (u.name == unit) return unit;
  }
  const auto& pu = platform_->info().units;
  for (size_t i = 0; i < pu.size(); ++i) {
    if (pu[i].id == unit && !units.empty()) return units[i % units.size()].name;
  }
  return unit;  // the engine's validation names it
}

engine::EngineSpec Daemon::ToEngineSpec(const platform::Configuration& c) const {
  engine::EngineSpec spec;
  for (size_t i = 0; i < c.tenants.size(); ++i) {
    const platform::TenantConfig& tc = c.tenants[i];
    engine::TenantSpec e;
    e.name = tc.name.empty() && i < tenants_.size() ? tenants_[i].name : tc.name;
    e.model = tc.model;
    const policy::TenantSpec* decl = nullptr;
    for (const auto& t : tenants_) {
      if (t.name == e.name) decl = &t;
    }
    std::vector<engine::StageSpec> stages;
    for (const platform::Stage& s : tc.stages) {
      std::string u = MapUnit(s.unit);
      // Merge neighbouring stages that land on the same engine unit.
      if (!stages.empty() && stages.back().unit == u && stages.back().end == s.begin_block) {
        stages.back().end = s.end_block;
      } else {
        stages.push_back({s.begin_block, s.end_block, u});
      }
    }
    e.stages = std::move(stages);
    if (tc.arrival == platform::ArrivalKind::kOpenLoop) {
      e.source.kind = engine::SourceSpec::Kind::kPoisson;
      e.source.rate_rps = tc.rate_rps;
    } else {
      e.source.kind = engine::SourceSpec::Kind::kClosed;
      e.source.outstanding = std::max(1, tc.concurrency);
    }
    if (decl) {
      e.slo.latency_bound = decl->slo_p95;
      e.slo.min_throughput_rps = decl->min_throughput_rps;
    }
    e.slo.percentile = 95;
    e.queue_capacity = std::max(64, e.source.outstanding);
    e.seed = config_.seed + (Fnv1a(e.name) % 1000003);
    spec.tenants.push_back(std::move(e));
  }
  return spec;
}

Status Daemon::ReadCarbonLocked() {
  TimePoint now = clock_->Now();
  StatusOr<carbon::CarbonReading> r = carbon_->Latest(now);
  if (r.ok()) {
    reading_ = *r;
  } else if (reading_) {
    reading_->stale = true;
    reading_->note = "carbon source failed (" + r.status().message() + "); holding the previous reading";
  } else {
    return Status(r.status().code(), "no carbon reading: " + r.status().message());
  }
  forecast_.clear();
  StatusOr<std::vector<carbon::CarbonReading>> f = carbon_->Forecast(now, std::chrono::hours(24));
  if (f.ok()) {
    for (const auto& p : *f) forecast_.push_back(p.intensity);
  }
  return Status::Ok();
}

Status Daemon::DecideAndApplyLocked(const std::string& trigger) {
  auto t0 = std::chrono::steady_clock::now();
  DecisionRow row;
  row.id = history_ ? history_->ReserveDecisionId() : 0;
  row.interval = next_interval_;
  row.time_utc = FormatIso8601(clock_->Now());
  row.controller = controller_->name();
  row.trigger = trigger;
  Status result;
  if (tenants_.empty()) {
    if (engine_started_) result = engine_->Apply(engine::EngineSpec{});
    row.reason = "no tenants declared: nothing to run";
    row.applied = result.ok();
    row.apply_note = result.ok() ? "" : result.message();
    decision_.reset();
  } else if (!reading_) {
    result = Unavailable("no carbon reading yet");
    row.reason = result.message();
    row.applied = false;
  } else {
    policy::ControlInput in;
    in.time = signal_time_(clock_->Now());
    in.intensity = reading_->intensity;
    in.intensity_stale = reading_->stale;
    in.forecast = forecast_;
    in.tenants = tenants_;
    // The measurement describes the configuration in force over the last whole interval; a
    // decision between interval boundaries (API, reload, replan) changes it, so none is passed.
    const bool on_boundary = trigger == "interval" || trigger == "start";
    in.measured = on_boundary ? last_measured_ : std::nullopt;
    StatusOr<policy::Decision> d = controller_->Step(in);
    if (!d.ok()) {
      result = d.status();
      row.reason = "controller failed: " + d.status().message() + " (the previous configuration stays)";
      row.applied = false;
      if (decision_) {
        row.mode = decision_->config.power_mode;
        row.threshold_w = decision_->threshold.value();
      }
    } else {
      int mode = d->config.power_mode;
      if (!config_.apply_mode) {
        mode_applied_ = mode == applied_mode_;
        mode_note_ = mode_applied_ ? "" : "mode " + std::to_string(mode) + " chosen, not applied ([serve] apply_mode = false)";
      } else if (mode != applied_mode_) {
        Status m = platform_->ApplyMode(mode);
        if (m.ok()) {
          applied_mode_ = mode;
          mode_applied_ = true;
          mode_note_.clear();
        } else {
          mode_applied_ = false;
          mode_note_ = "mode " + std::to_string(mode) + " not applied: " + m.message();
        }
      }
      engine::EngineSpec spec = ToEngineSpec(d->config);
      if (spec.tenants.empty()) {
        result = Status::Ok();
      } else if (engine_started_) {
        result = engine_->Apply(spec);
      } else {
        result = engine_->Start(spec);
        if (result.ok()) engine_started_ = true;
      }
      row.mode = mode;
      row.threshold_w = d->threshold.value();
      row.replanned = d->replanned;
      row.reason = d->reason;
      row.variants_json = json(d->variants).dump();
      row.config_json = json(d->config).dump();
      row.predicted_json = json(d->predicted).dump();
      row.applied = result.ok();
      row.apply_note = result.ok() ? mode_note_ : "engine: " + result.message();
      if (result.ok()) decision_ = std::move(d).value();
      if (!on_boundary) {
        last_measured_.reset();
        config_changed_mid_interval_ = true;
      }
      summary_.replans += row.replanned ? 1 : 0;
    }
  }
  row.decision_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  summary_.decisions += 1;
  pending_decisions_.push_back(row);
  RefreshSnapshotLocked();
  return result;
}

void Daemon::MeasureAndCommitLocked(TimePoint start, double elapsed_s) {
  engine::EngineReport w;
  if (engine_started_) w = engine_->TakeWindow();
  double window_s = w.elapsed_s > 0 ? w.elapsed_s : elapsed_s;
  IntervalRow row;
  row.id = next_interval_;
  row.start_utc = FormatIso8601(start);
  row.end_utc = FormatIso8601(clock_->Now());
  row.elapsed_s = window_s;
  if (reading_) {
    row.intensity_g_per_kwh = reading_->intensity.value();
    row.carbon_source = reading_->source;
    row.carbon_stale = reading_->stale;
    row.carbon_time_utc = FormatIso8601(reading_->time);
    row.carbon = CarbonRow{FormatIso8601(reading_->time), reading_->intensity.value(), reading_->source,
                           reading_->stale, reading_->forecast, reading_->note};
  }
  int mode = applied_mode_ >= 0 ? applied_mode_ : platform_->info().default_mode;
  row.mode = decision_ ? decision_->config.power_mode : mode;
  row.threshold_w = decision_ ? decision_->threshold.value() : 0;

  // Power: the platform's reading, else a model (labelled).
  std::string power_note;
  StatusOr<platform::PowerReading> pr = platform_->ReadPower();
  if (pr.ok() && pr->provenance == platform::Provenance::kSimulated && decision_) {
    // A simulator's reading knows nothing of the engine's load: take its figure for the
    // configuration in force instead (still "simulated").
    platform::Evaluator* evaluator = platform::AsEvaluator(platform_.get());
    StatusOr<platform::Performance> sim =
        evaluator ? evaluator->Evaluate(decision_->config) : Unimplemented("no evaluator");
    if (sim.ok()) pr->total = sim->power;
  }
  if (pr.ok()) {
    row.power_w = pr->total.value();
    row.power_source = platform::ProvenanceName(pr->provenance);
  } else {
    row.power_fallback = true;
    row.power_source = "modelled";
    power_note = "power reading failed (" + pr.status().message() + "); ";
    platform::LinuxHostPlatform* host = AsHost(platform_.get());
    bool done = false;
    if (host && window_s > 0) {
      std::map<std::string, Milliseconds> busy;
      for (const auto& u : w.units) busy[u.name] = Milliseconds(u.busy_ms);
      StatusOr<platform::PowerReading> m = host->ModelPowerFromBusy(mode, busy, Milliseconds(window_s * 1000));
      if (m.ok()) {
        row.power_w = m->total.value();
        power_note += "host power model from the engine's busy time";
        done = true;
      } else {
        power_note += "host power model failed: " + m.status().message() + "; ";
      }
    }
    if (!done && decision_) {
      row.power_w = decision_->predicted.power.value();
      power_note += "the controller's predicted power";
      done = true;
    }
    if (!done) power_note += "no power model available: 0 W recorded";
  }
  row.energy_j = (Watts(row.power_w) * Seconds(window_s)).value();
  row.carbon_g = CarbonOf(Joules(row.energy_j), GramsPerKwh(row.intensity_g_per_kwh)).value();

  // Tenants.
  platform::Performance perf;
  perf.power = Watts(row.power_w);
  perf.provenance = row.power_source == "measured" ? platform::Provenance::kMeasured : platform::Provenance::kModelled;
  perf.window = Seconds(window_s);
  for (const auto& u : w.units) perf.unit_utilisation[u.name] = u.utilization;
  std::map<std::string, const engine::TenantReport*> by_name;
  for (const auto& t : w.tenants) {
    if (t.active) by_name[t.name] = &t;
  }
  for (const auto& [name, t] : by_name) {
    TenantIntervalRow tr;
    tr.tenant = name;
    tr.model = t->model;
    tr.pipeline = t->pipeline;
    tr.p50_ms = t->latency.p50_ms;
    tr.p95_ms = t->latency.p95_ms;
    tr.slo_ms = t->slo.latency_bound.value();
    tr.throughput_rps = t->throughput_rps;
    tr.completed = static_cast<int64_t>(t->completed);
    tr.rejected = static_cast<int64_t>(t->rejected);
    tr.dropped = static_cast<int64_t>(t->dropped);
    tr.slo_met = t->slo_met && !(t->completed == 0 && t->submitted > 0);
    row.completed += tr.completed;
    row.rejected += tr.rejected;
    row.dropped += tr.dropped;
    row.slo_violations += tr.slo_met ? 0 : 1;
    TenantState& st = tenant_state_[name];
    st.completed_total += tr.completed;
    st.rejected_total += tr.rejected;
    st.slo_violations_total += tr.slo_met ? 0 : 1;
    st.model = tr.model;
    st.pipeline = tr.pipeline;
    st.p50_ms = tr.p50_ms;
    st.p95_ms = tr.p95_ms;
    st.throughput_rps = tr.throughput_rps;
    st.slo_met = tr.slo_met;
    st.measured = true;
    row.tenants.push_back(std::move(tr));
  }
  if (decision_) {
    for (const auto& tc : decision_->config.tenants) {
      platform::TenantPerformance tp;
      tp.name = tc.name;
      auto it = by_name.find(tc.name);
      if (it != by_name.end()) {
        tp.latency_p50 = Milliseconds(it->second->latency.p50_ms);
        tp.latency_p95 = Milliseconds(it->second->latency.p95_ms);
        tp.throughput_rps = it->second->throughput_rps;
        tp.saturated = it->second->rejected > 0;
      }
      perf.tenants.push_back(tp);
    }
    // A window that spans a mid-interval change mixes two configurations: not fed back.
    if (!perf.tenants.empty() && !by_name.empty() && !config_changed_mid_interval_) last_measured_ = perf;
    else last_measured_.reset();
  }
  config_changed_mid_interval_ = false;
  row.decisions = pending_decisions_;
  Status c = history_->CommitInterval(row);
  if (c.ok()) {
    pending_decisions_.clear();
    next_interval_ = row.id + 1;
  } else {
    std::cerr << "ecomap serve: history: " << c.message() << " (interval " << row.id << " not recorded)\n";
  }
  summary_.intervals += 1;
  summary_.energy_j += row.energy_j;
  summary_.carbon_g += row.carbon_g;
  summary_.completed += row.completed;
  summary_.rejected += row.rejected;
  summary_.slo_violations += row.slo_violations;
  summary_.power_source = row.power_source;
  summary_.power_fallback_intervals += row.power_fallback ? 1 : 0;
  summary_.carbon_fallback_intervals += (reading_ && reading_->source != primary_source_) ? 1 : 0;
  intensity_sum_ += row.intensity_g_per_kwh;
  threshold_sum_ += row.threshold_w;
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    snap_.power_w = row.power_w;
    snap_.power_source = row.power_source;
    snap_.power_fallback = row.power_fallback;
    snap_.power_note = power_note;
  }
  RefreshSnapshotLocked();
  PrintLine(row);
  {
    // Last: a waiter woken here sees the snapshot and history of this interval.
    std::lock_guard<std::mutex> l(loop_mu_);
    intervals_run_ += 1;
  }
  loop_cv_.notify_all();
}

void Daemon::RefreshSnapshotLocked() {
  std::lock_guard<std::mutex> l(snap_mu_);
  StatusSnapshot& s = snap_;
  TimePoint now = clock_->Now();
  s.time_utc = FormatIso8601(now);
  s.started_utc = started_utc_;
  s.platform = platform_->info().name;
  s.controller = controller_ ? controller_->name() : "";
  s.version = deps_.version;
  s.interval = next_interval_;
  s.intervals_this_run = summary_.intervals;
  s.interval_s = interval_s_;
  if (reading_) {
    s.carbon_ok = true;
    s.intensity_g_per_kwh = reading_->intensity.value();
    s.carbon_source = reading_->source;
    s.carbon_note = reading_->note;
    s.carbon_stale = reading_->stale;
    s.carbon_fallback = reading_->source != primary_source_;
    s.carbon_reading_utc = FormatIso8601(reading_->time);
    s.carbon_age_s = std::chrono::duration<double>(signal_time_(now) - reading_->time).count();
  }
  if (decision_) {
    s.threshold_w = decision_->threshold.value();
    s.mode = decision_->config.power_mode;
    const platform::PowerMode* pm = platform_->info().FindMode(s.mode);
    s.mode_name = pm ? pm->name : "";
  }
  s.mode_applied = mode_applied_;
  s.mode_note = mode_note_;
  if (!pending_decisions_.empty()) s.last_reason = pending_decisions_.back().reason;
  s.decisions_total = summary_.decisions;
  s.replans_total = summary_.replans;
  if (history_) {
    const ResumeState& r = history_->resume();
    s.energy_j_total = r.total_energy_j;
    s.carbon_g_total = r.total_carbon_g;
    s.completed_total = r.total_completed;
    s.rejected_total = r.total_rejected;
    s.slo_violations_total = r.total_slo_violations;
  }
  s.tenants.clear();
  for (const policy::TenantSpec& t : tenants_) {
    TenantState st = tenant_state_.count(t.name) ? tenant_state_.at(t.name) : TenantState{};
    st.name = t.name;
    st.family = t.family;
    st.arrival = platform::ArrivalKindName(t.arrival);
    st.rate_rps = t.rate_rps;
    st.concurrency = t.concurrency;
    st.slo_ms = t.slo_p95.value();
    if (decision_) {
      for (const auto& tc : decision_->config.tenants) {
        if (tc.name == t.name) {
          st.model = tc.model;
          st.pipeline.clear();
          for (const auto& stg : tc.stages) {
            st.pipeline += (st.pipeline.empty() ? "" : "|") + std::to_string(stg.begin_block) + "-" +
                           std::to_string(stg.end_block) + ":" + stg.unit;
          }
        }
      }
    }
    s.tenants.push_back(std::move(st));
  }
  status_body_ = ToJson(s).dump();
}

void Daemon::PrintLine(const IntervalRow& row) {
  if (!deps_.terminal) return;
  std::ostringstream o;
  o << "#" << row.id << " " << row.end_utc.substr(11, 8) << "  CI " << Fixed(row.intensity_g_per_kwh, 0)
    << " g/kWh (" << row.carbon_source << (row.carbon_stale ? ", stale" : "") << ")"
    << "  thr " << Fixed(row.threshold_w, 1) << " W  mode " << row.mode;
  if (const platform::PowerMode* pm = platform_->info().FindMode(row.mode)) o << " " << pm->name;
  if (!mode_applied_) o << " (not applied)";
  o << "  power " << Fixed(row.power_w, 1) << " W " << row.power_source << (row.power_fallback ? " [fallback]" : "");
  for (const auto& t : row.tenants) {
    o << " | " << t.tenant << " " << t.model << " p95 " << Fixed(t.p95_ms, 0) << "/" << Fixed(t.slo_ms, 0) << " ms "
      << (t.slo_met ? "ok" : "MISS") << " " << Fixed(t.throughput_rps, 1) << " rps";
  }
  *deps_.terminal << o.str() << std::endl;
}

Status Daemon::Start() {
  if (started_) return FailedPrecondition("serve: already started");
  started_ = true;
  started_utc_ = FormatIso8601(clock_->Now());
  std::string config_text;
  if (!config_.path.empty()) {
    std::ifstream in(config_.path);
    std::stringstream ss;
    ss << in.rdbuf();
    config_text = ss.str();
  }
  ECOMAP_ASSIGN_OR_RETURN(history_, History::Open(config_.data_dir + "/history.sqlite", config_text));
  next_interval_ = history_->resume().next_interval;
  StatusOr<int> cm = platform_->CurrentMode();
  applied_mode_ = cm.ok() ? *cm : -1;
  {
    std::lock_guard<std::mutex> l(control_mu_);
    ECOMAP_RETURN_IF_ERROR(ReadCarbonLocked());
    Status d = DecideAndApplyLocked("start");
    if (!d.ok()) return d.WithContext("serve: first decision");
  }
  if (deps_.serve_api) {
    server_ = std::make_unique<HttpServer>(this);
    Status s = server_->Start(config_.api.host, config_.api.port);
    if (!s.ok()) {
      server_.reset();
      return s;
    }
  }
  loop_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Daemon::Loop() {
  TimePoint start = clock_->Now();
  auto t0 = std::chrono::steady_clock::now();
  while (true) {
    bool stopping;
    {
      std::unique_lock<std::mutex> lk(loop_mu_);
      auto deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(interval_s_));
      loop_cv_.wait_until(lk, deadline, [&] { return stop_; });
      stopping = stop_;
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
      std::lock_guard<std::mutex> l(control_mu_);
      MeasureAndCommitLocked(start, elapsed);
    }
    if (stopping) break;
    start = clock_->Now();
    t0 = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> l(control_mu_);
    Status s = ReadCarbonLocked();
    if (!s.ok()) std::cerr << "ecomap serve: " << s.message() << "\n";
    s = DecideAndApplyLocked("interval");
    if (!s.ok() && deps_.terminal) *deps_.terminal << "decision: " << s.message() << std::endl;
  }
}

void Daemon::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> l(loop_mu_);
    stop_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (server_) server_->Stop();
  if (engine_) engine_->Shutdown(Milliseconds(config_.drain_ms));
}

StatusOr<std::string> Daemon::Reload(const ServeConfig& c) {
  ECOMAP_RETURN_IF_ERROR(ValidateTenantSpecs(c.tenants));
  std::vector<std::string> restart;
  if (c.platform != config_.platform) restart.push_back("platform");
  if (c.apply_mode != config_.apply_mode) restart.push_back("apply_mode");
  if (c.data_dir != config_.data_dir) restart.push_back("data_dir");
  if (c.api.host != config_.api.host || c.api.port != config_.api.port) restart.push_back("api.listen");
  if (c.carbon.provider != config_.carbon.provider || c.carbon.trace_path != config_.carbon.trace_path ||
      c.carbon.speedup != config_.carbon.speedup)
    restart.push_back("carbon");
  if (c.controller.name != config_.controller.name || c.controller.predictor != config_.controller.predictor)
    restart.push_back("controller");
  std::lock_guard<std::mutex> l(control_mu_);
  std::vector<policy::TenantSpec> old = tenants_;
  tenants_ = c.tenants;
  {
    std::lock_guard<std::mutex> s(snap_mu_);
    token_ = c.api.token;
  }
  {
    std::lock_guard<std::mutex> s(loop_mu_);
    interval_s_ = c.interval_s;
  }
  if (server_) server_->SetLimits(c.api.rate_limit_rps, c.api.mutating_rate_limit_rps);
  Status d = DecideAndApplyLocked("reload");
  if (!d.ok()) {
    tenants_ = old;
    (void)DecideAndApplyLocked("reload-rollback");
    return d.WithContext("reload");
  }
  std::string out;
  for (const auto& r : restart) out += (out.empty() ? "" : ", ") + r;
  return out;
}

StatusOr<json> Daemon::AddTenant(const policy::TenantSpec& t) {
  ECOMAP_RETURN_IF_ERROR(ValidateTenantSpec(t));
  std::lock_guard<std::mutex> l(control_mu_);
  for (const auto& e : tenants_) {
    if (e.name == t.name) {
      return FailedPrecondition("tenant '" + t.name + "' exists; DELETE /tenants/" + t.name +
                                " first or choose another name");
    }
  }
  if (tenants_.size() >= 16) return InvalidArgument("at most 16 tenants; remove one first");
  tenants_.push_back(t);
  Status d = DecideAndApplyLocked("api");
  if (!d.ok()) {
    tenants_.pop_back();
    (void)DecideAndApplyLocked("api-rollback");
    return d.WithContext("tenant '" + t.name + "' not added");
  }
  return json{{"added", TenantSpecJson(t)}, {"decision", DecisionToJson(pending_decisions_.back())}};
}

StatusOr<json> Daemon::RemoveTenant(const std::string& name) {
  std::lock_guard<std::mutex> l(control_mu_);
  auto it = std::find_if(tenants_.begin(), tenants_.end(), [&](const auto& t) { return t.name == name; });
  if (it == tenants_.end()) return NotFound("no tenant named '" + name + "'; GET /tenants lists them");
  policy::TenantSpec removed = *it;
  tenants_.erase(it);
  Status d = DecideAndApplyLocked("api");
  if (!d.ok()) return d.WithContext("tenant '" + name + "' removed from the declaration, but");
  tenant_state_.erase(name);
  RefreshSnapshotLocked();
  return json{{"removed", TenantSpecJson(removed)}, {"decision", DecisionToJson(pending_decisions_.back())}};
}

const platform::PlatformInfo& Daemon::ControllerPlatform() {
  if (config_.apply_mode) return platform_->info();
  if (controller_info_.modes.empty()) {
    controller_info_ = platform_->info();
    StatusOr<int> cm = platform_->CurrentMode();
    int mode = cm.ok() ? *cm : controller_info_.default_mode;
    std::vector<platform::PowerMode> kept;
    for (const platform::PowerMode& m : controller_info_.modes) {
      if (m.id == mode) kept.push_back(m);
    }
    if (!kept.empty()) {
      controller_info_.modes = std::move(kept);
      controller_info_.default_mode = mode;
    }
  }
  return controller_info_;
}

StatusOr<json> Daemon::Replan() {
  std::lock_guard<std::mutex> l(control_mu_);
  policy::ControllerContext ctx;
  ctx.platform = &ControllerPlatform();
  ctx.predictor = predictor_;
  ctx.oracle = oracle_;
  ctx.options = config_.controller.options;
  ECOMAP_ASSIGN_OR_RETURN(auto fresh, deps_.make_controller(config_.controller.name, ctx));
  controller_ = std::move(fresh);
  ECOMAP_RETURN_IF_ERROR(DecideAndApplyLocked("replan"));
  return json{{"decision", DecisionToJson(pending_decisions_.back())}};
}

json Daemon::Tenants() const {
  StatusSnapshot s = Snapshot();
  std::lock_guard<std::mutex> l(control_mu_);
  json out = json::array();
  for (const auto& t : tenants_) {
    json j = TenantSpecJson(t);
    for (const auto& st : s.tenants) {
      if (st.name != t.name) continue;
      j["model"] = st.model;
      j["pipeline"] = st.pipeline;
      j["measured"] = st.measured;
      j["p95_ms"] = st.p95_ms;
      j["throughput_rps"] = st.throughput_rps;
      j["slo_met"] = st.slo_met;
    }
    out.push_back(std::move(j));
  }
  return out;
}

StatusOr<json> Daemon::Decisions(int64_t since, int limit) const {
  ECOMAP_ASSIGN_OR_RETURN(std::vector<DecisionRow> rows, history_->DecisionsSince(since, limit));
  {
    std::lock_guard<std::mutex> l(control_mu_);
    for (const auto& d : pending_decisions_) {
      if (d.id > since) rows.push_back(d);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  rows.erase(std::unique(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id == b.id; }),
             rows.end());
  if (static_cast<int>(rows.size()) > limit) rows.resize(limit);
  json out = json::array();
  for (const auto& d : rows) out.push_back(DecisionToJson(d));
  return json{{"decisions", std::move(out)}, {"next_since", rows.empty() ? since : rows.back().id}};
}

StatusSnapshot Daemon::Snapshot() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  return snap_;
}

std::string Daemon::StatusBody() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  return status_body_;
}

std::string Daemon::MetricsBody() const { return RenderMetrics(Snapshot()); }

std::string Daemon::token() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  return token_;
}

int Daemon::port() const { return server_ ? server_->port() : 0; }

bool Daemon::WaitForIntervals(int64_t n, Duration timeout) const {
  std::unique_lock<std::mutex> lk(loop_mu_);
  return loop_cv_.wait_for(lk, timeout, [&] { return intervals_run_ >= n; });
}

int64_t Daemon::intervals_this_run() const {
  std::lock_guard<std::mutex> lk(loop_mu_);
  return intervals_run_;
}

std::map<std::string, uint64_t> Daemon::CompletedByTenant() const {
  std::map<std::string, uint64_t> out;
  if (!engine_) return out;
  for (const auto& t : engine_->Report().tenants) out[t.name] = t.completed;
  return out;
}

RunSummary Daemon::Summary() const {
  std::lock_guard<std::mutex> l(control_mu_);
  RunSummary s = summary_;
  if (s.intervals > 0) {
    s.mean_intensity = intensity_sum_ / static_cast<double>(s.intervals);
    s.mean_threshold_w = threshold_sum_ / static_cast<double>(s.intervals);
  }
  return s;
}

}  // namespace ecomap::service
