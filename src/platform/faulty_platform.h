// platform/faulty_platform.h: a Platform wrapper that injects failures, for tests of the code
// that drives a platform (policy feedback, the service loop, the profiler).
//
// It forwards every call to the wrapped platform, except that the n-th, 2n-th, ... call of a
// method fails with the configured code and a message that says the fault was injected. It is an
// Evaluator (AsEvaluator() non-null) exactly when the wrapped platform is; Evaluate() forwards to
// the wrapped platform's Evaluator.
//
//   FaultyPlatform::Faults f;
//   f.read_power_every = 3;                       // every third ReadPower() fails
//   FaultyPlatform p(std::make_unique<XavierSim>(), f);
//
// Thread-safety: as the wrapped platform; the call counters are atomic.
#pragma once

#include <atomic>
#include <memory>

#include "platform/platform.h"

namespace ecomap::platform {

class FaultyPlatform final : public Platform, public Evaluator {
 public:
  struct Faults {
    int current_mode_every = 0;  // 0: never fail
    int apply_mode_every = 0;
    int read_power_every = 0;
    int evaluate_every = 0;
    StatusCode code = StatusCode::kUnavailable;
  };

  // REQUIRES: inner != nullptr.
  FaultyPlatform(std::unique_ptr<Platform> inner, Faults faults);

  const PlatformInfo& info() const override { return inner_->info(); }
  StatusOr<int> CurrentMode() override;
  Status ApplyMode(int mode_id) override;
  StatusOr<PowerReading> ReadPower() override;
  Status Validate(const Configuration& config) const override { return inner_->Validate(config); }
  // Unimplemented when the wrapped platform is no Evaluator.
  StatusOr<Performance> Evaluate(const Configuration& config) override;
  Evaluator* AsEvaluator() override { return inner_->AsEvaluator() ? this : nullptr; }
  Status SetPowerCap(Watts cap) override { return inner_->SetPowerCap(cap); }
  StatusOr<PowerReading> ModelPowerFromBusy(int mode_id, const std::map<std::string, Milliseconds>& busy,
                                            Milliseconds window) const override {
    return inner_->ModelPowerFromBusy(mode_id, busy, window);
  }

  Platform& inner() { return *inner_; }

 private:
  // A non-ok Status when this call (counted in `counter`) must fail.
  Status Fault(std::atomic<long>& counter, int every, const char* method);

  std::unique_ptr<Platform> inner_;
  Faults faults_;
  std::atomic<long> current_mode_calls_{0}, apply_mode_calls_{0}, read_power_calls_{0}, evaluate_calls_{0};
};

}  // namespace ecomap::platform
