#include "service/daemon.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include "estimator/simulator_predictor.h"
#include "platform/registry.h"
#include "service/components.h"
#include "service/engine_backend.h"
#include "service/http_server.h"
#ifdef ECOMAP_HAVE_GRPC
#include "service/grpc_server.h"
#else
namespace ecomap::service {
// Builds without gRPC never create one; the type only has to be complete for grpc_'s deleter.
class GrpcServer {};
}  // namespace ecomap::service
#endif
#include "service/reporting.h"
#include "service/topk.h"
#include "zoo/model.h"

namespace ecomap::service {

using nlohmann::json;

namespace {

// Loads, measures and registers the tenants' own TorchScript models (engine/torchscript_model.h
// through the executor factory); the same declaration again is a no-op there. Errors name the
// tenant and the file.
Status RegisterTenantModels(engine::ExecutorFactory& executors, const std::vector<policy::TenantSpec>& tenants) {
  for (const policy::TenantSpec& t : tenants) {
    for (const zoo::TorchScriptSpec& m : t.models) {
      StatusOr<const zoo::ModelInfo*> r = executors.RegisterModel(m);
      if (!r.ok()) return r.status().WithContext("tenant '" + t.name + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

Daemon::Daemon(ServeConfig config, DaemonDeps deps) : config_(std::move(config)), deps_(std::move(deps)) {
  clock_ = deps_.clock ? deps_.clock : &SystemClock::Instance();
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

StatusOr<std::unique_ptr<policy::Controller>> Daemon::MakeController() {
  policy::ControllerContext ctx;
  ctx.platform = &controller_info_;
  ctx.predictor = predictor_;
  ctx.oracle = oracle_;
  ctx.options = config_.controller.options;
  return deps_.make_controller(config_.controller.name, ctx);
}

Status Daemon::Build() {
  ECOMAP_RETURN_IF_ERROR(RegisterTenantModels(*deps_.executors, tenants_));
  if (deps_.platform) {
    platform_ = std::move(deps_.platform);
  } else {
    platform::PlatformOptions po;
    po.clock = clock_;
    po.seed = config_.seed;
    ECOMAP_ASSIGN_OR_RETURN(platform_, platform::MakePlatform(config_.platform, po));
  }
  controller_info_ = platform_->info();
  if (config_.power_knob == "none") {
    StatusOr<int> cm = platform_->CurrentMode();
    const int mode = cm.ok() ? *cm : controller_info_.default_mode;
    std::vector<platform::PowerMode> kept;
    for (const platform::PowerMode& m : controller_info_.modes) {
      if (m.id == mode) kept.push_back(m);
    }
    if (!kept.empty()) {
      controller_info_.modes = std::move(kept);
      controller_info_.default_mode = mode;
    }
  }
  engine::EngineOptions eo;
  eo.units = deps_.units.empty() ? engine::HostUnits() : deps_.units;
  eo.clock = clock_;
  engine_ = std::make_unique<engine::Engine>(deps_.executors, eo);

  if (deps_.predictor) {
    predictor_ = deps_.predictor;
  } else {
    ECOMAP_ASSIGN_OR_RETURN(predictor_, MakeServePredictor(config_, platform_->info(), &std::cerr));
  }
  if (config_.platform == "xavier-sim") oracle_ = std::make_shared<estimator::SimulatorPredictor>(platform::PlatformOptions{});
  else oracle_ = predictor_;
  ECOMAP_ASSIGN_OR_RETURN(controller_, MakeController());

  ServeCarbon carbon;
  if (deps_.carbon) {
    carbon.primary = deps_.carbon->Name();
    carbon.source = std::move(deps_.carbon);
    carbon.signal_time = [](TimePoint t) { return t; };
  } else {
    ECOMAP_ASSIGN_OR_RETURN(carbon, MakeServeCarbon(config_, *clock_));
  }
  primary_source_ = carbon.primary;

  platform::Platform* plat = platform_.get();
  power_ = std::make_unique<PowerMeter>(plat, platform::AsEvaluator(plat));
  ECOMAP_ASSIGN_OR_RETURN(knob_, MakePowerKnob(config_.power_knob, plat));
  actuator_ = std::make_unique<EngineActuator>(plat, engine_.get(), knob_.get(), config_.seed);
  actuator_->set_client_load(config_.client_load);
  meter_ = std::make_unique<EngineMeter>(engine_.get(), actuator_.get(), power_.get(), &platform_->info());
  auto clock = std::make_unique<SystemIntervalClock>(clock_, &control_cv_, &stop_);
  interval_clock_ = clock.get();
  loop::LoopPlugs plugs;
  plugs.clock = std::move(clock);
  plugs.carbon = std::move(carbon.source);
  plugs.signal_time = carbon.signal_time;
  plugs.demand = [this](TimePoint t) { return PlannedDemandLocked(t); };
  plugs.controller = controller_.get();
  plugs.actuator = actuator_.get();
  plugs.meter = meter_.get();
  plugs.on_decision = [this](const loop::DecisionEvent& e) { OnDecisionLocked(e); };
  loop::LoopOptions lo;
  lo.interval = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(config_.interval_s));
  lo.strict = false;
  lo.allow_no_tenants = true;
  ECOMAP_ASSIGN_OR_RETURN(loop_, loop::ControlLoop::Create(std::move(plugs), lo));
  return Status::Ok();
}

void Daemon::OnDecisionLocked(const loop::DecisionEvent& ev) {
  const int64_t id = history_ ? history_->ReserveDecisionId() : 0;
  pending_decisions_.push_back(ToDecisionRow(ev, id, next_interval_, controller_->name(), loop_->decision()));
  summary_.decisions += 1;
  summary_.replans += ev.decision && ev.decision->replanned ? 1 : 0;
  if (!ev.status.ok() && ev.trigger == "interval" && deps_.terminal) {
    *deps_.terminal << "decision: " << ev.status.message() << std::endl;
  }
  RefreshSnapshotLocked();
}

std::vector<policy::TenantSpec> Daemon::PlannedDemandLocked(TimePoint at) const {
  if (!config_.client_load) return tenants_;
  std::vector<policy::TenantSpec> out = tenants_;
  for (policy::TenantSpec& t : out) {
    if (t.arrival != platform::ArrivalKind::kOpenLoop) continue;
    const DemandEstimate e = demand_.Expect(t.name, at, t.rate_rps);
    t.rate_rps = PlanningRate(e.rate_rps);
  }
  return out;
}

void Daemon::RestoreLocked() {
  // Tenants added through the API in earlier runs (the file's tenants take precedence).
  StatusOr<std::vector<ApiTenantRow>> api = history_->ApiTenants();
  if (!api.ok()) std::cerr << "ecomap serve: history: " << api.status().message() << "\n";
  for (const ApiTenantRow& row : api.ok() ? *api : std::vector<ApiTenantRow>{}) {
    const bool declared = std::any_of(tenants_.begin(), tenants_.end(), [&](const auto& t) { return t.name == row.name; });
    if (declared) continue;
    StatusOr<policy::TenantSpec> t = ParseTenantRequest(row.body);
    Status s = t.ok() ? RegisterTenantModels(*deps_.executors, {*t}) : t.status();
    if (s.ok() && tenants_.size() >= 16) s = ResourceExhausted("at most 16 tenants");
    if (!s.ok()) {
      std::cerr << "ecomap serve: tenant '" << row.name << "' (added through the API on " << row.added_utc
                << ") not restored: " << s.message() << "\n";
      continue;
    }
    tenants_.push_back(*t);
    if (deps_.terminal) *deps_.terminal << "restored tenant '" << row.name << "' (added through the API)" << std::endl;
  }
  // What the demand model learned.
  StatusOr<std::optional<std::string>> state = history_->State("demand");
  if (state.ok() && state->has_value()) {
    nlohmann::json j = nlohmann::json::parse(**state, nullptr, /*allow_exceptions=*/false);
    StatusOr<DemandModel> m = DemandModel::FromJson(j);
    if (m.ok()) demand_ = std::move(*m);
    else std::cerr << "ecomap serve: history: the stored demand model is unusable (" << m.status().message()
                   << "); learning it again\n";
  }
  // Per-tenant counters continue from every earlier run.
  StatusOr<std::map<std::string, TenantTotals>> totals = history_->TenantTotalsByName();
  if (totals.ok()) {
    for (const auto& [name, t] : *totals) {
      TenantState& st = tenant_state_[name];
      st.completed_total = t.completed;
      st.rejected_total = t.rejected;
      st.slo_violations_total = t.slo_violations;
    }
  }
}

void Daemon::CommitLocked(const loop::IntervalOutcome& o) {
  const PowerFigure& power = meter_->last_power();
  IntervalRow row = ToIntervalRow(o, next_interval_, meter_->last_tenants(), power);
  if (config_.client_load) {
    // Arrivals: every request that finished or was refused in the window.
    for (const TenantIntervalRow& tr : row.tenants) {
      demand_.Observe(tr.tenant, o.record.time, row.elapsed_s,
                      static_cast<uint64_t>(std::max<int64_t>(0, tr.completed + tr.rejected + tr.dropped)));
    }
    row.states["demand"] = demand_.ToJson().dump();
  }
  for (const TenantIntervalRow& tr : row.tenants) {
    TenantState& st = tenant_state_[tr.tenant];
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
  }
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
  summary_.carbon_fallback_intervals += (o.carbon && o.carbon->source != primary_source_) ? 1 : 0;
  if (summary_.intervals > 1 && std::abs(row.threshold_w - last_threshold_w_) > 0.05) ++summary_.threshold_changes;
  last_threshold_w_ = row.threshold_w;
  if (row.completed > 0) summary_.threshold_power.Add(row.threshold_w, row.power_w);
  {
    const platform::PowerMode* pm = platform_->info().FindMode(row.mode);
    RunSummary::InMode& m = summary_.by_mode[(pm ? pm->name : "mode " + std::to_string(row.mode)) +
                                             (actuator_->mode_applied() ? "" : " (not applied)")];
    m.intervals += 1;
    m.intensity_sum += row.intensity_g_per_kwh;
    m.threshold_w_sum += row.threshold_w;
    m.power_w_sum += row.power_w;
  }
  intensity_sum_ += row.intensity_g_per_kwh;
  threshold_sum_ += row.threshold_w;
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    snap_.power_w = row.power_w;
    snap_.power_source = row.power_source;
    snap_.power_fallback = row.power_fallback;
    snap_.power_note = power.note;
  }
  RefreshSnapshotLocked();
  if (deps_.terminal) *deps_.terminal << IntervalLine(row, platform_->info(), actuator_->mode_applied(),
                                                 knob_ && knob_->ShowInLine() ? knob_->Describe() : "") << std::endl;
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
  const TimePoint now = clock_->Now();
  s.time_utc = FormatIso8601(now);
  s.started_utc = started_utc_;
  s.platform = platform_->info().name;
  s.controller = controller_ ? controller_->name() : "";
  s.version = deps_.version;
  s.interval = next_interval_;
  s.intervals_this_run = summary_.intervals;
  s.interval_s = std::chrono::duration<double>(loop_->interval()).count();
  if (const auto& r = loop_->carbon()) {
    s.carbon_ok = true;
    s.intensity_g_per_kwh = r->intensity.value();
    s.carbon_source = r->source;
    s.carbon_note = r->note;
    s.carbon_stale = r->stale;
    s.carbon_fallback = r->source != primary_source_;
    s.carbon_reading_utc = FormatIso8601(r->time);
    s.carbon_age_s = std::chrono::duration<double>(loop_->signal_time(now) - r->time).count();
  }
  const policy::Decision* decision = loop_->decision();
  if (decision) {
    s.threshold_w = decision->threshold.value();
    s.mode = decision->config.power_mode;
    const platform::PowerMode* pm = platform_->info().FindMode(s.mode);
    s.mode_name = pm ? pm->name : "";
  }
  s.mode_applied = actuator_->mode_applied();
  s.mode_note = actuator_->mode_note();
  s.mode_knob = knob_ ? knob_->Describe() : "none: the chosen mode is reported, not applied";
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
    if (config_.client_load && t.arrival == platform::ArrivalKind::kOpenLoop) {
      const DemandEstimate e = demand_.Expect(t.name, clock_->Now(), t.rate_rps);
      st.planned_rate_rps = PlanningRate(e.rate_rps);
      st.demand_source = e.source;
    }
    st.slo_ms = t.slo_p95.value();
    if (decision) {
      for (const auto& tc : decision->config.tenants) {
        if (tc.name != t.name) continue;
        st.model = tc.model;
        st.pipeline = PipelineText(tc);
      }
    }
    s.tenants.push_back(std::move(st));
  }
  status_body_ = ToJson(s).dump();
  std::map<std::string, ModelState> models;
  for (const policy::TenantSpec& t : tenants_) {
    ModelState m;
    m.spec = t;
    m.versions = t.variants;
    if (m.versions.empty()) {
      for (const zoo::ModelInfo* v : zoo::Family(t.family)) m.versions.push_back(v->name);
    }
    if (decision) {
      const auto& tcs = decision->config.tenants;
      for (size_t i = 0; i < tcs.size(); ++i) {
        if (tcs[i].name != t.name) continue;
        m.variant = tcs[i].model;
        if (i < decision->predicted.tenants.size()) {
          const platform::TenantPerformance& p = decision->predicted.tenants[i];
          // Refused with 409 only when the operator's declared demand cannot be served. Once
          // the plan follows observed demand, a flood beyond capacity is shed by admission
          // control (503 for the excess) instead of refusing the tenant outright.
          const bool declared_demand =
              !config_.client_load || t.arrival != platform::ArrivalKind::kOpenLoop ||
              demand_.Expect(t.name, clock_->Now(), t.rate_rps).observed_intervals == 0;
          if (declared_demand && (p.saturated || p.latency_p95.value() > t.slo_p95.value())) {
            char buf[200];
            std::snprintf(buf, sizeof buf, "predicted p95 %.1f ms%s against its SLO of %.1f ms",
                          p.latency_p95.value(), p.saturated ? " (saturated)" : "", t.slo_p95.value());
            m.infeasible = "no configuration the controller found serves tenant '" + t.name + "' within its SLO (" +
                           buf + ")";
          }
        }
      }
    }
    models[t.name] = std::move(m);
  }
  models_ = std::move(models);
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
  {
    std::lock_guard<std::mutex> l(control_mu_);
    RestoreLocked();
  }
  StatusOr<int> cm = platform_->CurrentMode();
  actuator_->set_applied_mode(cm.ok() ? *cm : -1);
  {
    std::lock_guard<std::mutex> l(control_mu_);
    Status d = loop_->Start();
    if (!d.ok()) return loop_->carbon() ? d.WithContext("serve: first decision") : d;
  }
  if (deps_.serve_api) {
    server_ = std::make_unique<HttpServer>(this);
    Status s = server_->Start(config_.api.host, config_.api.port);
    if (!s.ok()) {
      server_.reset();
      return s;
    }
  }
  if (config_.grpc.enabled && deps_.serve_api) {
#ifdef ECOMAP_HAVE_GRPC
    GrpcServerOptions go;
    go.max_message_bytes = config_.grpc.max_message_bytes;
    grpc_ = std::make_unique<GrpcServer>(this, go);
    Status s = grpc_->Start(config_.grpc.host, config_.grpc.port);
    if (!s.ok()) {
      grpc_.reset();
      if (server_) server_->Stop();
      return s.WithContext("serve.grpc");
    }
#else
    if (server_) server_->Stop();
    return Unimplemented("[serve.grpc] listen is set, but this build has no gRPC transport (install "
                         "libgrpc++-dev, protobuf-compiler-grpc and rebuild, or remove the key)");
#endif
  }
  loop_thread_ = std::thread([this] { Loop(); });
  live_ = true;
  return Status::Ok();
}

void LowerToPlannerPriority() {
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kPlannerNice);
}

void Daemon::Loop() {
  LowerToPlannerPriority();
  std::unique_lock<std::mutex> lk(control_mu_);
  interval_clock_->set_lock(&lk);
  while (true) {
    StatusOr<loop::IntervalOutcome> o = loop_->Tick();
    if (o.ok()) CommitLocked(*o);
    else std::cerr << "ecomap serve: " << o.status().message() << "\n";
    if (o.ok() ? o->stopped : stop_) break;
  }
  interval_clock_->set_lock(nullptr);
}

void Daemon::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  live_ = false;
  {
    std::lock_guard<std::mutex> l(control_mu_);
    stop_ = true;
  }
  control_cv_.notify_all();
  if (loop_thread_.joinable()) loop_thread_.join();
  if (server_) server_->Stop();
#ifdef ECOMAP_HAVE_GRPC
  if (grpc_) grpc_->Stop();
#endif
  if (engine_) engine_->Shutdown(Milliseconds(config_.drain_ms));
}

StatusOr<std::string> Daemon::Reload(const ServeConfig& c) {
  ECOMAP_RETURN_IF_ERROR(RegisterTenantModels(*deps_.executors, c.tenants).WithContext("reload"));
  if (!c.tenants.empty()) ECOMAP_RETURN_IF_ERROR(policy::ValidateTenants(c.tenants));
  std::lock_guard<std::mutex> l(control_mu_);
  std::vector<policy::TenantSpec> old = tenants_;
  tenants_ = c.tenants;
  {
    std::lock_guard<std::mutex> s(snap_mu_);
    token_ = c.api.token;
  }
  loop_->set_interval(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(c.interval_s)));
  if (server_) server_->SetLimits(c.api.rate_limit_rps, c.api.mutating_rate_limit_rps);
  Status d = loop_->Decide("reload");
  if (!d.ok()) {
    tenants_ = old;
    (void)loop_->Decide("reload-rollback");
    return d.WithContext("reload");
  }
  // The file is authoritative: tenants added through the API and not in it are gone for good.
  if (history_) {
    StatusOr<std::vector<ApiTenantRow>> api = history_->ApiTenants();
    for (const ApiTenantRow& row : api.ok() ? *api : std::vector<ApiTenantRow>{}) {
      if (!policy::FindTenant(tenants_, row.name)) (void)history_->RemoveApiTenant(row.name);
    }
  }
  return RestartKeys(config_, c);
}

StatusOr<json> Daemon::AddTenant(const policy::TenantSpec& declared) {
  policy::TenantSpec t = declared;
  // The tenant's own models: relative paths against the config file's folder; loaded and
  // measured now (seconds), before the control lock, so the loop keeps running meanwhile.
  for (zoo::TorchScriptSpec& m : t.models) {
    std::filesystem::path p(m.path);
    if (p.is_relative() && !config_.path.empty()) {
      m.path = (std::filesystem::path(config_.path).parent_path() / p).lexically_normal().string();
    }
  }
  ECOMAP_RETURN_IF_ERROR(policy::ValidateTenant(t));
  ECOMAP_RETURN_IF_ERROR(RegisterTenantModels(*deps_.executors, {t}));
  std::lock_guard<std::mutex> l(control_mu_);
  for (const auto& e : tenants_) {
    if (e.name == t.name) {
      return FailedPrecondition("tenant '" + t.name + "' exists; DELETE /tenants/" + t.name +
                                " first or choose another name");
    }
  }
  if (tenants_.size() >= 16) return InvalidArgument("at most 16 tenants; remove one first");
  tenants_.push_back(t);
  Status d = loop_->Decide("api");
  if (!d.ok()) {
    tenants_.pop_back();
    (void)loop_->Decide("api-rollback");
    return d.WithContext("tenant '" + t.name + "' not added");
  }
  if (history_) {
    // Kept for the next run (restored at Start); a failure here only costs that.
    Status s = history_->SaveApiTenant({t.name, TenantJson(t).dump(), FormatIso8601(clock_->Now())});
    if (!s.ok()) std::cerr << "ecomap serve: history: tenant '" << t.name << "' will not survive a restart: " << s.message() << "\n";
  }
  return json{{"added", TenantJson(t)}, {"decision", DecisionJson(pending_decisions_.back())}};
}

StatusOr<json> Daemon::RemoveTenant(const std::string& name) {
  std::lock_guard<std::mutex> l(control_mu_);
  auto it = std::find_if(tenants_.begin(), tenants_.end(), [&](const auto& t) { return t.name == name; });
  if (it == tenants_.end()) return NotFound("no tenant named '" + name + "'; GET /tenants lists them");
  policy::TenantSpec removed = *it;
  tenants_.erase(it);
  Status d = loop_->Decide("api");
  if (!d.ok()) return d.WithContext("tenant '" + name + "' removed from the declaration, but");
  tenant_state_.erase(name);
  demand_.Forget(name);
  if (history_) {
    Status s = history_->RemoveApiTenant(name);
    if (!s.ok()) std::cerr << "ecomap serve: history: " << s.message() << "\n";
  }
  RefreshSnapshotLocked();
  return json{{"removed", TenantJson(removed)}, {"decision", DecisionJson(pending_decisions_.back())}};
}

StatusOr<json> Daemon::Replan() {
  std::lock_guard<std::mutex> l(control_mu_);
  ECOMAP_ASSIGN_OR_RETURN(auto fresh, MakeController());
  controller_ = std::move(fresh);
  loop_->set_controller(controller_.get());
  ECOMAP_RETURN_IF_ERROR(loop_->Decide("replan"));
  return json{{"decision", DecisionJson(pending_decisions_.back())}};
}

StatusOr<policy::Decision> Daemon::ShadowPlan() {
  std::lock_guard<std::mutex> l(control_mu_);
  ECOMAP_ASSIGN_OR_RETURN(auto fresh, MakeController());
  return loop_->DryRun(*fresh);
}

json Daemon::Tenants() const {
  StatusSnapshot s = Snapshot();
  std::lock_guard<std::mutex> l(control_mu_);
  json out = json::array();
  for (const auto& t : tenants_) {
    json j = TenantJson(t);
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
  for (const auto& d : rows) out.push_back(DecisionJson(d));
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

// ---------------------------------------------------------------------------------------------
// Inference (service/inference.h).

namespace {
constexpr double kInferDeadlineS = 30;
}

bool Daemon::Live() const { return live_.load(); }

bool Daemon::Ready() const {
  if (!live_.load()) return false;
  for (const std::string& m : Models()) {
    if (!engine_->Serving(m)) return false;
  }
  return true;
}

ServerMetadata Daemon::Metadata() const {
  ServerMetadata m;
  m.version = deps_.version;
  m.extensions = {"binary_tensor_data", "top_k", "best_effort"};
  return m;
}

std::vector<std::string> Daemon::Models() const {
  std::lock_guard<std::mutex> l(snap_mu_);
  std::vector<std::string> out;
  for (const auto& [name, m] : models_) out.push_back(name);
  return out;
}

StatusOr<ModelMetadata> Daemon::ModelMetadataOf(const std::string& model) const {
  ModelState st;
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    auto it = models_.find(model);
    if (it == models_.end()) {
      return NotFound("no model named '" + model + "'; a model is a tenant, GET /tenants lists them");
    }
    st = it->second;
  }
  const std::string variant = !st.variant.empty() ? st.variant : (st.versions.empty() ? "" : st.versions.front());
  return ModelMetadataFor(*deps_.executors, model, variant, st.versions);
}

StatusOr<bool> Daemon::ModelReady(const std::string& model) const {
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    if (!models_.count(model)) {
      return NotFound("no model named '" + model + "'; a model is a tenant, GET /tenants lists them");
    }
  }
  return live_.load() && engine_->Serving(model);
}

StatusOr<InferResponse> Daemon::Infer(InferRequest request, double* retry_after_s) {
  ModelState st;
  {
    std::lock_guard<std::mutex> l(snap_mu_);
    auto it = models_.find(request.model);
    if (it == models_.end()) {
      return NotFound("no model named '" + request.model + "'; a model is a tenant, GET /tenants lists them");
    }
    st = it->second;
  }
  if (!request.version.empty()) {
    if (std::find(st.versions.begin(), st.versions.end(), request.version) == st.versions.end()) {
      return NotFound("model '" + request.model + "' has no version '" + request.version + "'; GET /v2/models/" +
                      request.model + " lists its versions");
    }
    if (request.version != st.variant) {
      if (retry_after_s) *retry_after_s = config_.interval_s;
      return Unavailable("model '" + request.model + "' is served by variant '" + st.variant + "' now, not '" +
                         request.version + "'; omit the version to take the one in force");
    }
  }
  if (!st.infeasible.empty() && !request.best_effort) {
    return FailedPrecondition(st.infeasible + "; send parameters {\"best_effort\": true} to be served anyway");
  }
  if (!live_.load()) return Unavailable("the daemon is not serving (starting or stopping)");
  return InferOnEngine(*engine_, request, /*check_slo=*/!request.best_effort, retry_after_s, kInferDeadlineS);
}

int Daemon::port() const { return server_ ? server_->port() : 0; }

int Daemon::grpc_port() const {
#ifdef ECOMAP_HAVE_GRPC
  return grpc_ ? grpc_->port() : 0;
#else
  return 0;
#endif
}

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
