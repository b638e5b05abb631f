#include "platform/faulty_platform.h"

#include <string>
#include <utility>

namespace ecomap::platform {

FaultyPlatform::FaultyPlatform(std::unique_ptr<Platform> inner, Faults faults)
    : inner_(std::move(inner)), faults_(faults) {}

Status FaultyPlatform::Fault(std::atomic<long>& counter, int every, const char* method) {
  long n = ++counter;
  if (every > 0 && n % every == 0) {
    return Status(faults_.code, inner_->info().name + ": injected fault in " + method + " (call " +
                                    std::to_string(n) + ")");
  }
  return Status::Ok();
}

StatusOr<int> FaultyPlatform::CurrentMode() {
  ECOMAP_RETURN_IF_ERROR(Fault(current_mode_calls_, faults_.current_mode_every, "CurrentMode"));
  return inner_->CurrentMode();
}

Status FaultyPlatform::ApplyMode(int mode_id) {
  ECOMAP_RETURN_IF_ERROR(Fault(apply_mode_calls_, faults_.apply_mode_every, "ApplyMode"));
  return inner_->ApplyMode(mode_id);
}

StatusOr<PowerReading> FaultyPlatform::ReadPower() {
  ECOMAP_RETURN_IF_ERROR(Fault(read_power_calls_, faults_.read_power_every, "ReadPower"));
  return inner_->ReadPower();
}

StatusOr<Performance> FaultyPlatform::Evaluate(const Configuration& config) {
  ECOMAP_RETURN_IF_ERROR(Fault(evaluate_calls_, faults_.evaluate_every, "Evaluate"));
  Evaluator* inner = inner_->AsEvaluator();
  if (inner == nullptr) return Unimplemented(inner_->info().name + ": cannot predict configurations");
  return inner->Evaluate(config);
}

}  // namespace ecomap::platform
