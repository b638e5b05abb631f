// loop/control_loop.h: the control loop of Ecomap, one for `ecomap replay` and `ecomap serve`.
//
// One Tick is one control interval:
//
//   read carbon (CarbonSource; on failure the previous reading is held, marked stale)
//   -> demand (the tenants and their load now)
//   -> Controller::Step (with what the configuration in force did over the last whole interval)
//   -> Actuator::Apply (put the decision in force)
//   -> IntervalClock::WaitInterval (simulated: time jumps; system: the interval passes, a stop
//      request ends it early)
//   -> Meter::Measure (what ran: per-tenant latency, throughput, saturation; device power)
//   -> AccountInterval (loop/accounting.h: energy, carbon, per-inference carbon, CDP, the SLO
//      verdict)  -> feed the measurement back to the next Step.
//
// Replay and serve differ only in what they plug in:
//   replay: a simulated clock, a trace-backed carbon source, the scenario's demand, an actuator
//           that imposes the demand's load on the decision, and a meter that asks the simulated
//           Xavier (platform::Evaluate) what the configuration costs;
//   serve:  the system clock (the wait is interruptible), the configured carbon source with its
//           fallback chain, the declared tenants, an actuator that switches the power mode and
//           reconfigures the engine, and a meter that reads the engine's window and a PowerMeter.
//
// Decisions between interval boundaries (serve's API, reloads, /replan) go through Decide(); they
// get no measurement (it described another configuration), and the interval in which one falls
// is not fed back either (its window mixes two configurations).
//
//   ControlLoop loop(plugs, options);
//   while (...) { ECOMAP_ASSIGN_OR_RETURN(IntervalOutcome o, loop.Tick()); record(o); }
//
// Thread-safety: a ControlLoop is used by one thread at a time; a caller that shares it between
// threads guards it with one mutex and releases that mutex inside IntervalClock::WaitInterval
// (the daemon waits on a condition variable of that mutex).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbon/source.h"
#include "core/status.h"
#include "core/time.h"
#include "core/units.h"
#include "loop/accounting.h"
#include "platform/types.h"
#include "policy/controller.h"

namespace ecomap::loop {

// Time for the loop: timestamps, and the wait that makes an interval pass.
class IntervalClock {
 public:
  virtual ~IntervalClock() = default;
  virtual TimePoint Now() const = 0;
  // Marks the start of an interval (called by Tick before it decides).
  virtual void StartInterval() = 0;
  struct Waited {
    Seconds elapsed{0};  // how long the interval lasted
    bool stop = false;   // a stop was requested: the interval ended early, the loop should end
  };
  // Returns when `length` has passed since StartInterval, or earlier on a stop request.
  virtual Waited WaitInterval(Duration length) = 0;
};

// A clock that does not wait: every interval lasts exactly its length (replay, tests).
class SimulatedClock final : public IntervalClock {
 public:
  explicit SimulatedClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override { return now_; }
  void StartInterval() override {}
  Waited WaitInterval(Duration length) override;

 private:
  TimePoint now_;
};

// Puts decisions in force.
class Actuator {
 public:
  virtual ~Actuator() = default;
  // Puts `decision` in force for `demand` and returns the configuration that now runs (e.g. the
  // decision's with the demand's load imposed) and a note (e.g. "mode 2 chosen, not applied").
  // On an error the configuration in force before stays.
  struct Applied {
    platform::Configuration config;
    std::string note;
  };
  virtual StatusOr<Applied> Apply(const policy::Decision& decision,
                                  const std::vector<policy::TenantSpec>& demand) = 0;
  // No tenants are declared: stop running anything.
  virtual Status Clear() = 0;
};

// What the configuration in force did over an interval.
struct Measurement {
  // The tenants measured, as configured and as declared (matched by name), and their figures in
  // the configuration's order, with the device's mean power, its provenance and the window.
  std::vector<policy::TenantSpec> demand;
  platform::Configuration config;
  platform::Performance perf;
  // The window the figures cover, accounted with them (energy = power x window).
  Seconds window{0};
  // What the next boundary Step is told the configuration in force did, in the order of that
  // configuration's tenants; nullopt: nothing (e.g. nothing ran).
  std::optional<platform::Performance> feedback;
};

class Meter {
 public:
  virtual ~Meter() = default;
  struct Request {
    TimePoint start{};                             // the interval's start
    Seconds elapsed{0};                            // its length, as the clock measured it
    const platform::Configuration* config = nullptr;  // in force; nullptr: none
    const policy::Decision* decision = nullptr;    // in force; nullptr: none
    const std::vector<policy::TenantSpec>* demand = nullptr;  // the decision's demand
  };
  virtual StatusOr<Measurement> Measure(const Request& request) = 0;
};

// The demand at a time: every tenant with its load (the scenario's hour, or the declared tenants).
using DemandFn = std::function<std::vector<policy::TenantSpec>(TimePoint)>;

// One decision, at an interval boundary or between two.
struct DecisionEvent {
  std::string trigger;              // "start", "interval" (boundaries); "api", "reload", ... (between)
  TimePoint time{};                 // the clock's time when it was made
  bool on_boundary = false;
  Status status;                    // the controller's or the actuator's error; Ok otherwise
  std::optional<policy::Decision> decision;  // the controller's decision (also when not applied)
  bool applied = false;             // put in force
  std::string apply_note;           // the actuator's note, or its error
  std::string reason;               // the decision's reason, or why there is none
  double step_ms = 0;               // wall time of Controller::Step
  double decision_ms = 0;           // wall time of the whole decision (Step and Apply)
};

struct IntervalOutcome {
  TimePoint start{}, end{};
  Seconds elapsed{0};
  bool stopped = false;                      // the clock's wait was ended by a stop request
  std::optional<carbon::CarbonReading> carbon;  // the reading in force over the interval
  Measurement measurement;
  IntervalRecord record;                     // AccountInterval of the measurement
  std::vector<DecisionEvent> decisions;      // made for and during this interval
};

struct LoopPlugs {
  std::unique_ptr<IntervalClock> clock;        // required
  std::unique_ptr<carbon::CarbonSource> carbon;  // required
  // Maps the clock's time to the carbon signal's time given to the controller (serve replays a
  // trace faster than real time); empty: the clock's time.
  std::function<TimePoint(TimePoint)> signal_time;
  DemandFn demand;                             // required
  policy::Controller* controller = nullptr;    // required, not owned (replaceable: set_controller)
  Actuator* actuator = nullptr;                // required, not owned
  Meter* meter = nullptr;                      // required, not owned
  // Called after every decision (e.g. to record it and publish the state).
  std::function<void(const DecisionEvent&)> on_decision;
};

struct LoopOptions {
  Duration interval = std::chrono::minutes(60);  // > 0
  // true (replay): a boundary decision that fails ends the Tick with its error, and so does an
  // interval in which nothing was served (no per-inference carbon). false (serve): the
  // configuration in force before stays, and such an interval is recorded with c = CDP = 0.
  bool strict = true;
  // true (serve): an empty demand clears the actuator ("no tenants declared"); false: an error.
  bool allow_no_tenants = false;
  Duration forecast_horizon = std::chrono::hours(24);  // 0: no forecast asked
};

class ControlLoop {
 public:
  // InvalidArgument when a required plug is missing or the interval is not > 0.
  static StatusOr<std::unique_ptr<ControlLoop>> Create(LoopPlugs plugs, LoopOptions options);

  // Reads carbon and makes the first boundary decision ("start") before the first Tick, so that a
  // caller can report its errors before anything runs. Optional: Tick decides itself otherwise.
  Status Start();

  // One whole interval (see the top comment). Errors: no carbon reading at all; in strict mode a
  // failed boundary decision or an interval that served nothing; the meter's and the
  // accounting's errors. The error names the interval's start.
  StatusOr<IntervalOutcome> Tick();

  // A decision between interval boundaries (the carbon reading in force, no measurement). The
  // controller's or the actuator's error; the configuration in force before then stays.
  Status Decide(const std::string& trigger);

  // What `controller` would decide now, given what a decision between boundaries would get (the
  // demand now, the carbon reading and forecast in force, no measurement); nothing is applied,
  // recorded or reported to on_decision, and the loop's own controller is not asked. For
  // measuring what a re-plan costs the tenants beside it (`ecomap serve --bench-replan`).
  // FailedPrecondition without tenants or a carbon reading; the controller's error.
  StatusOr<policy::Decision> DryRun(policy::Controller& controller) const;

  void set_interval(Duration interval) { options_.interval = interval; }
  Duration interval() const { return options_.interval; }
  void set_controller(policy::Controller* controller) { plugs_.controller = controller; }

  // State in force (nullptr / nullopt when none).
  const policy::Decision* decision() const { return decision_ ? &*decision_ : nullptr; }
  const platform::Configuration* config() const { return decision_ ? &config_ : nullptr; }
  const std::optional<carbon::CarbonReading>& carbon() const { return carbon_; }
  const std::vector<DecisionEvent>& pending_decisions() const { return pending_; }
  TimePoint signal_time(TimePoint t) const { return plugs_.signal_time ? plugs_.signal_time(t) : t; }
  IntervalClock& clock() { return *plugs_.clock; }

 private:
  ControlLoop(LoopPlugs plugs, LoopOptions options);
  Status ReadCarbon();  // on failure also sets carbon_error_
  Status DecideNow(const std::string& trigger, bool on_boundary);

  LoopPlugs plugs_;
  LoopOptions options_;
  std::optional<carbon::CarbonReading> carbon_;
  std::string carbon_error_;                   // the source's last error ("" after a reading)
  std::vector<GramsPerKwh> forecast_;
  std::optional<policy::Decision> decision_;   // in force
  platform::Configuration config_;             // in force (the actuator's)
  std::vector<policy::TenantSpec> demand_;     // the decision in force's demand
  std::optional<platform::Performance> feedback_;  // for the next boundary Step
  std::vector<DecisionEvent> pending_;         // of the interval in progress
  TimePoint interval_start_{};                 // of the interval Start() decided for
  bool decided_at_boundary_ = false;           // Start() decided for the coming interval
  bool changed_mid_interval_ = false;
};

}  // namespace ecomap::loop
