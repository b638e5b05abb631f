#include "loop/control_loop.h"

#include <chrono>

namespace ecomap::loop {
namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

IntervalClock::Waited SimulatedClock::WaitInterval(Duration length) {
  now_ += length;
  return {Seconds(std::chrono::duration<double>(length).count()), false};
}

ControlLoop::ControlLoop(LoopPlugs plugs, LoopOptions options)
    : plugs_(std::move(plugs)), options_(std::move(options)) {}

StatusOr<std::unique_ptr<ControlLoop>> ControlLoop::Create(LoopPlugs plugs, LoopOptions options) {
  if (!plugs.clock) return InvalidArgument("control loop: no clock");
  if (!plugs.carbon) return InvalidArgument("control loop: no carbon source");
  if (!plugs.demand) return InvalidArgument("control loop: no demand");
  if (plugs.controller == nullptr) return InvalidArgument("control loop: no controller");
  if (plugs.actuator == nullptr) return InvalidArgument("control loop: no actuator");
  if (plugs.meter == nullptr) return InvalidArgument("control loop: no meter");
  if (options.interval.count() <= 0) return InvalidArgument("control loop: the interval must be > 0");
  return std::unique_ptr<ControlLoop>(new ControlLoop(std::move(plugs), std::move(options)));
}

Status ControlLoop::ReadCarbon() {
  const TimePoint now = plugs_.clock->Now();
  StatusOr<carbon::CarbonReading> r = plugs_.carbon->Latest(now);
  carbon_error_ = r.ok() ? "" : r.status().message();
  if (r.ok()) {
    carbon_ = *r;
  } else if (carbon_) {
    carbon_->stale = true;
    carbon_->note = "carbon source failed (" + r.status().message() + "); holding the previous reading";
  } else {
    return Status(r.status().code(), "no carbon reading: " + r.status().message());
  }
  forecast_.clear();
  if (options_.forecast_horizon.count() > 0) {
    StatusOr<std::vector<carbon::CarbonReading>> f = plugs_.carbon->Forecast(now, options_.forecast_horizon);
    if (f.ok()) {
      for (const auto& p : *f) forecast_.push_back(p.intensity);
    }
  }
  return Status::Ok();
}

Status ControlLoop::Start() {
  Status c = ReadCarbon();
  if (!c.ok()) return c;
  interval_start_ = plugs_.clock->Now();
  plugs_.clock->StartInterval();
  Status d = DecideNow("start", /*on_boundary=*/true);
  decided_at_boundary_ = true;
  return d;
}

Status ControlLoop::Decide(const std::string& trigger) { return DecideNow(trigger, /*on_boundary=*/false); }

StatusOr<policy::Decision> ControlLoop::DryRun(policy::Controller& controller) const {
  const TimePoint now = plugs_.clock->Now();
  std::vector<policy::TenantSpec> demand = plugs_.demand(now);
  if (demand.empty()) return FailedPrecondition("dry run: the demand has no tenants at this time");
  if (!carbon_) return FailedPrecondition("dry run: no carbon reading yet");
  policy::ControlInput in;
  in.time = signal_time(now);
  in.intensity = carbon_->intensity;
  in.intensity_stale = carbon_->stale;
  in.forecast = forecast_;
  in.tenants = std::move(demand);
  return controller.Step(in);
}

Status ControlLoop::DecideNow(const std::string& trigger, bool on_boundary) {
  const auto t0 = std::chrono::steady_clock::now();
  DecisionEvent ev;
  ev.trigger = trigger;
  ev.time = plugs_.clock->Now();
  ev.on_boundary = on_boundary;
  std::vector<policy::TenantSpec> demand = plugs_.demand(ev.time);
  if (demand.empty() && options_.allow_no_tenants) {
    ev.status = plugs_.actuator->Clear();
    ev.reason = "no tenants declared: nothing to run";
    ev.applied = ev.status.ok();
    ev.apply_note = ev.status.ok() ? "" : ev.status.message();
    decision_.reset();
    demand_.clear();
  } else if (demand.empty()) {
    ev.status = InvalidArgument("the demand has no tenants at this time");
    ev.reason = ev.status.message();
  } else if (!carbon_) {
    ev.status = Unavailable("no carbon reading yet" + (carbon_error_.empty() ? "" : ": " + carbon_error_));
    ev.reason = ev.status.message();
  } else {
    policy::ControlInput in;
    in.time = signal_time(ev.time);
    in.intensity = carbon_->intensity;
    in.intensity_stale = carbon_->stale;
    in.forecast = forecast_;
    in.tenants = demand;
    // The measurement describes the configuration in force over the last whole interval; a
    // decision between interval boundaries changes it, so none is passed.
    in.measured = on_boundary ? feedback_ : std::nullopt;
    const auto s0 = std::chrono::steady_clock::now();
    StatusOr<policy::Decision> d = plugs_.controller->Step(in);
    ev.step_ms = MsSince(s0);
    if (!d.ok()) {
      ev.status = d.status();
      ev.reason = "controller failed: " + d.status().message() + " (the previous configuration stays)";
    } else {
      ev.reason = d->reason;
      StatusOr<Actuator::Applied> a = plugs_.actuator->Apply(*d, demand);
      ev.applied = a.ok();
      if (a.ok()) {
        ev.apply_note = a->note;
        decision_ = *d;
        config_ = std::move(a->config);
        demand_ = demand;
      } else {
        ev.status = a.status();
        ev.apply_note = a.status().message();
      }
      if (!on_boundary) {
        feedback_.reset();
        changed_mid_interval_ = true;
      }
      ev.decision = std::move(d).value();
    }
  }
  ev.decision_ms = MsSince(t0);
  Status result = ev.status;
  pending_.push_back(ev);
  if (plugs_.on_decision) plugs_.on_decision(pending_.back());
  return result;
}

StatusOr<IntervalOutcome> ControlLoop::Tick() {
  IntervalOutcome out;
  // Start() may have decided for this interval already.
  const bool decided = decided_at_boundary_;
  decided_at_boundary_ = false;
  out.start = decided ? interval_start_ : plugs_.clock->Now();
  const std::string where = "interval " + FormatIso8601(out.start);
  if (!decided) {
    plugs_.clock->StartInterval();
    Status c = ReadCarbon();
    // Not strict: Decide reports "no carbon reading yet" when there has never been one.
    if (!c.ok() && options_.strict) return c.WithContext(where);
    Status d = DecideNow("interval", /*on_boundary=*/true);
    if (!d.ok() && options_.strict) return d.WithContext(where);
  }

  IntervalClock::Waited w = plugs_.clock->WaitInterval(options_.interval);
  out.stopped = w.stop;
  out.elapsed = w.elapsed;
  out.end = plugs_.clock->Now();
  out.carbon = carbon_;

  Meter::Request req;
  req.start = out.start;
  req.elapsed = w.elapsed;
  req.config = decision_ ? &config_ : nullptr;
  req.decision = decision_ ? &*decision_ : nullptr;
  req.demand = &demand_;
  StatusOr<Measurement> m = plugs_.meter->Measure(req);
  if (!m.ok()) return m.status().WithContext(where + ": measuring the configuration in force");
  out.measurement = std::move(m).value();

  const GramsPerKwh ci = carbon_ ? carbon_->intensity : GramsPerKwh(0);
  StatusOr<IntervalRecord> rec = AccountInterval(out.measurement.demand, out.measurement.config,
                                                 out.measurement.perf, ci, out.measurement.window);
  if (!rec.ok()) return rec.status().WithContext(where);
  if (!rec->served && options_.strict && !rec->tenants.empty()) {
    return InvalidArgument(where + ": no tenant was served (total throughput 0): no per-inference carbon");
  }
  rec->time = out.start;
  if (decision_) rec->threshold_w = decision_->threshold.value();
  for (const DecisionEvent& ev : pending_) {
    if (!ev.on_boundary || !ev.decision) continue;
    rec->decision_ms = ev.step_ms;
    rec->replanned = ev.decision->replanned;
    rec->threshold_raised = ev.decision->threshold_raised;
    rec->reason = ev.decision->reason;
  }
  out.record = std::move(rec).value();

  // Feed back: only a window that describes one configuration, the one in force.
  if (!changed_mid_interval_ && decision_) feedback_ = out.measurement.feedback;
  else feedback_.reset();
  changed_mid_interval_ = false;
  out.decisions = std::move(pending_);
  pending_.clear();
  return out;
}

}  // namespace ecomap::loop
