// service/serve_plugs.h: what `ecomap serve` plugs into the control loop (loop/control_loop.h).
//
//   SystemIntervalClock  the wall clock; an interval is waited out on a condition variable of the
//                        daemon's control mutex (released while waiting), and a stop request
//                        ends it early.
//   EngineActuator       puts a decision in force: the power mode through the daemon's power
//                        knob (service/power_knob.h: the platform's mode or the daemon's own CPU
//                        share; none: reported only) and the engine (Start, then live Apply),
//                        through the one Configuration -> EngineSpec adapter
//                        (engine/configuration_adapter.h). On "host" the platform's units are the
//                        engine's; elsewhere (xavier-sim, jetson) a stage on the platform's unit
//                        #i runs on engine unit #(i mod n).
//   EngineMeter          what ran: the engine's window (per tenant p50/p95, throughput,
//                        completed/rejected/dropped, per-unit busy time) and the PowerMeter's
//                        figure (service/power_meter.h).
//
// Thread-safety: used under the daemon's control mutex.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/time.h"
#include "engine/configuration_adapter.h"
#include "engine/engine.h"
#include "loop/control_loop.h"
#include "platform/platform.h"
#include "service/power_knob.h"
#include "service/power_meter.h"

namespace ecomap::service {

class SystemIntervalClock final : public loop::IntervalClock {
 public:
  // REQUIRES: clock, cv and stop outlive this object; `stop` is guarded by the mutex of the lock
  // given to set_lock.
  SystemIntervalClock(const Clock* clock, std::condition_variable* cv, const bool* stop)
      : clock_(clock), cv_(cv), stop_(stop) {}
  // The lock the waiting thread holds on the control mutex; WaitInterval releases it while it
  // waits. Without one, WaitInterval returns at once as stopped.
  void set_lock(std::unique_lock<std::mutex>* lock) { lock_ = lock; }

  TimePoint Now() const override { return clock_->Now(); }
  void StartInterval() override { t0_ = std::chrono::steady_clock::now(); }
  Waited WaitInterval(Duration length) override;

 private:
  const Clock* clock_;
  std::condition_variable* cv_;
  const bool* stop_;
  std::unique_lock<std::mutex>* lock_ = nullptr;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

class EngineActuator final : public loop::Actuator {
 public:
  // REQUIRES: platform and engine outlive this object.
  // knob: nullptr when modes are not applied ([serve] power_knob = "none").
  EngineActuator(platform::Platform* platform, engine::Engine* engine, PowerKnob* knob, uint64_t seed);

  // true: the engine's tenants run no generator (engine SourceSpec::external): inference clients
  // ([serve] load = "clients") are their only load; the declared rates stay planning hints.
  void set_client_load(bool on) { client_load_ = on; }

  // The mode the device is in at start (Platform::CurrentMode), -1 when unknown.
  void set_applied_mode(int mode) { applied_mode_ = mode; }

  StatusOr<Applied> Apply(const policy::Decision& decision,
                          const std::vector<policy::TenantSpec>& demand) override;
  Status Clear() override;

  bool engine_started() const { return engine_started_; }
  int applied_mode() const { return applied_mode_; }
  bool mode_applied() const { return mode_applied_; }
  const std::string& mode_note() const { return mode_note_; }

 private:
  std::string MapUnit(const std::string& platform_unit) const;

  platform::Platform* platform_;
  engine::Engine* engine_;
  PowerKnob* knob_;
  uint64_t seed_;
  bool engine_started_ = false;
  bool client_load_ = false;
  int applied_mode_ = -1;
  bool mode_applied_ = true;
  std::string mode_note_;
};

class EngineMeter final : public loop::Meter {
 public:
  // REQUIRES: every argument outlives this object.
  EngineMeter(engine::Engine* engine, const EngineActuator* actuator, PowerMeter* power,
              const platform::PlatformInfo* info)
      : engine_(engine), actuator_(actuator), power_(power), info_(info) {}

  StatusOr<loop::Measurement> Measure(const Request& request) override;

  // Of the last Measure: the engine's window (active tenants, in the measurement's order) and
  // the power figure.
  const std::vector<engine::TenantReport>& last_tenants() const { return tenants_; }
  const PowerFigure& last_power() const { return power_figure_; }

 private:
  engine::Engine* engine_;
  const EngineActuator* actuator_;
  PowerMeter* power_;
  const platform::PlatformInfo* info_;
  std::vector<engine::TenantReport> tenants_;
  PowerFigure power_figure_;
};

}  // namespace ecomap::service
