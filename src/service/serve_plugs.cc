#include "service/serve_plugs.h"

#include <algorithm>
#include <map>

#include "zoo/model.h"

namespace ecomap::service {
namespace {

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// A tenant's figures over the engine's window; zero when the engine did not run it (nullptr).
// Saturated: a full queue, or nothing completed while requests arrived.
platform::TenantPerformance Measured(const std::string& name, const engine::TenantReport* t) {
  platform::TenantPerformance tp;
  tp.name = name;
  if (t == nullptr) return tp;
  tp.latency_p50 = Milliseconds(t->latency.p50_ms);
  tp.latency_p95 = Milliseconds(t->latency.p95_ms);
  tp.throughput_rps = t->throughput_rps;
  tp.saturated = t->rejected > 0 || (t->completed == 0 && t->submitted > 0);
  return tp;
}

// A tenant the engine runs but the decision's demand lacks (removed, and the removal's decision
// failed): declared by what the engine runs it with, so it is judged by that SLO.
policy::TenantSpec AsRun(const engine::TenantReport& t) {
  policy::TenantSpec s;
  s.name = t.name;
  const zoo::ModelInfo* info = zoo::FindModel(t.model);
  s.family = info ? info->family : "";
  s.variants = {t.model};
  s.slo_p95 = t.slo.latency_bound;
  s.min_throughput_rps = t.slo.min_throughput_rps;
  s.arrival = t.source.kind == engine::SourceSpec::Kind::kPoisson ? platform::ArrivalKind::kOpenLoop
                                                                   : platform::ArrivalKind::kClosedLoop;
  s.rate_rps = t.source.rate_rps;
  s.concurrency = t.source.outstanding;
  return s;
}

}  // namespace

loop::IntervalClock::Waited SystemIntervalClock::WaitInterval(Duration length) {
  Waited w;
  if (lock_ == nullptr) {
    w.stop = true;
  } else {
    const auto deadline = t0_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(length);
    cv_->wait_until(*lock_, deadline, [&] { return *stop_; });
    w.stop = *stop_;
  }
  w.elapsed = Seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  return w;
}

EngineActuator::EngineActuator(platform::Platform* platform, engine::Engine* engine, PowerKnob* knob, uint64_t seed)
    : platform_(platform), engine_(engine), knob_(knob), seed_(seed) {}

std::string EngineActuator::MapUnit(const std::string& unit) const {
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

StatusOr<loop::Actuator::Applied> EngineActuator::Apply(const policy::Decision& d,
                                                        const std::vector<policy::TenantSpec>& demand) {
  const int mode = d.config.power_mode;
  if (knob_ == nullptr) {
    mode_applied_ = mode == applied_mode_;
    mode_note_ = mode_applied_ ? "" : "mode " + std::to_string(mode) + " chosen, not applied ([serve] power_knob = \"none\")";
  } else if (mode != applied_mode_ || !mode_applied_) {
    const platform::PowerMode* pm = platform_->info().FindMode(mode);
    Status m = pm ? knob_->Apply(*pm) : NotFound("the platform has no mode " + std::to_string(mode));
    if (m.ok()) {
      applied_mode_ = mode;
      mode_applied_ = true;
      mode_note_.clear();
    } else {
      mode_applied_ = false;
      mode_note_ = "mode " + std::to_string(mode) + " not applied (" + knob_->kind() + "): " + m.message();
    }
  }
  engine::ConfigurationAdapterOptions o;
  o.map_unit = [this](const std::string& u) { return MapUnit(u); };
  o.merge_stages_on_one_unit = true;
  o.queue_capacity = 64;
  o.seed = [this](size_t, const std::string& name) { return seed_ + (Fnv1a(name) % 1000003); };
  o.slo = [&demand](const std::string& name) -> std::optional<engine::SloSpec> {
    engine::SloSpec slo;
    slo.percentile = 95;
    if (const policy::TenantSpec* decl = policy::FindTenant(demand, name)) {
      slo.latency_bound = decl->slo_p95;
      slo.min_throughput_rps = decl->min_throughput_rps;
    }
    return slo;
  };
  engine::EngineSpec spec = engine::ToEngineSpec(d.config, o);
  for (engine::PipelineSpec& t : spec.tenants) t.source.external = client_load_;
  Status result;
  if (spec.tenants.empty()) {
    result = Status::Ok();
  } else if (engine_started_) {
    result = engine_->Apply(spec);
  } else {
    result = engine_->Start(spec);
    if (result.ok()) engine_started_ = true;
  }
  if (!result.ok()) return Status(result.code(), "engine: " + result.message());
  return Applied{d.config, mode_note_};
}

Status EngineActuator::Clear() {
  if (engine_started_) return engine_->Apply(engine::EngineSpec{});
  return Status::Ok();
}

StatusOr<loop::Measurement> EngineMeter::Measure(const Request& req) {
  engine::EngineReport w;
  if (actuator_->engine_started()) w = engine_->TakeWindow();
  const double window_s = w.elapsed_s > 0 ? w.elapsed_s : req.elapsed.value();
  const int applied = actuator_->applied_mode();
  const int mode = applied >= 0 ? applied : info_->default_mode;

  PowerMeter::Inputs pin;
  pin.mode = mode;
  pin.config = req.config;
  if (req.decision) pin.predicted = req.decision->predicted.power;
  for (const auto& u : w.units) pin.busy[u.name] = Milliseconds(u.busy_ms);
  pin.window = Seconds(window_s);
  power_figure_ = power_->Read(pin);

  // The accounted view: every tenant the engine ran in the window, by name.
  std::map<std::string, const engine::TenantReport*> by_name;
  for (const auto& t : w.tenants) {
    if (t.active) by_name[t.name] = &t;
  }
  loop::Measurement m;
  m.window = Seconds(window_s);
  m.config.power_mode = req.decision ? req.decision->config.power_mode : mode;
  m.perf.power = power_figure_.power;
  m.perf.provenance = power_figure_.provenance;
  m.perf.window = Seconds(window_s);
  for (const auto& u : w.units) m.perf.unit_utilisation[u.name] = u.utilization;
  tenants_.clear();
  for (const auto& [name, t] : by_name) {
    platform::TenantConfig tc;
    tc.name = name;
    tc.model = t->model;
    m.config.tenants.push_back(tc);
    m.perf.tenants.push_back(Measured(name, t));
    const policy::TenantSpec* decl = req.demand ? policy::FindTenant(*req.demand, name) : nullptr;
    m.demand.push_back(decl ? *decl : AsRun(*t));
    tenants_.push_back(*t);
  }
  // What the controller is told: the configuration in force's tenants, in its order.
  if (req.config != nullptr && !by_name.empty()) {
    platform::Performance fb = m.perf;
    fb.provenance = power_figure_.provenance == platform::Provenance::kMeasured ? platform::Provenance::kMeasured
                                                                              : platform::Provenance::kModelled;
    fb.tenants.clear();
    for (const auto& tc : req.config->tenants) {
      auto it = by_name.find(tc.name);
      fb.tenants.push_back(Measured(tc.name, it == by_name.end() ? nullptr : it->second));
    }
    if (!fb.tenants.empty()) m.feedback = std::move(fb);
  }
  return m;
}

}  // namespace ecomap::service
