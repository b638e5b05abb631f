// platform/sim/calibration.h: xavier-sim against published Jetson AGX Xavier figures.
//
// Each target is a public (or measured-board) figure; the simulator computes the same quantity
// under the same conditions and the row says whether it falls within the stated tolerance.
// docs/calibration-xavier.md explains every source; `ecomap platform calibrate` prints the
// table; calibration_test.cc fails when a target is missed.
//
// The MLPerf targets use the networks MLPerf ran (ResNet-50 v1.5 and MobileNet-v1 at 224x224).
// MobileNet-v1 is not in the zoo, so CalibrationModels() builds both networks' per-block
// descriptors from their architecture definitions (the zoo's conventions: flops = 2 x MACs of
// convolutions and fully connected layers, float32 activation bytes, batch 1).
//
//   XavierSim sim({.model_lookup = CalibrationLookup()});
//   std::vector<CalibrationRow> rows = RunCalibration(sim);
//   for (const auto& r : rows) std::cout << r.target << " " << r.modelled << " vs " << r.published;
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <string>
#include <vector>

#include "platform/platform.h"
#include "platform/sim/xavier_sim.h"

namespace ecomap::platform {

// "mlperf-resnet50-v1.5" and "mlperf-mobilenet-v1": descriptors derived from the architectures.
const std::vector<zoo::ModelInfo>& CalibrationModels();
// The calibration models first, then the zoo.
ModelLookup CalibrationLookup();

struct CalibrationRow {
  std::string target;    // "ResNet-50 v1.5 SingleStream latency p50, MAXN, GPU INT8, batch 1"
  std::string unit;      // "ms", "W", "samples/s"
  double published = 0;  // the source's figure (or the bound, for budget rows)
  double modelled = 0;   // the simulator's figure (simulated)
  double low = 0;        // accepted range for `modelled`
  double high = 0;
  bool checked = true;  // false: shown for context only (e.g. batched throughput)
  bool pass = false;    // low <= modelled <= high (true when !checked)
  std::string source;   // short citation; the note has the full reference
};

// Runs every target on `sim` (which must resolve the calibration models, see
// CalibrationLookup). Errors only when a configuration is rejected (a bug).
StatusOr<std::vector<CalibrationRow>> RunCalibration(const XavierSim& sim);

// The "typical load" used by the budget rows: three closed-loop tenants (ResNet-50 on the GPU,
// MobileNet-v1 on DLA0, ResNet-50 on DLA1), two requests outstanding each, in `mode`.
Configuration TypicalLoad(int mode);
// The "full load": typical load plus a ResNet-50 tenant on the CPU and deeper queues.
Configuration FullLoad(int mode);

}  // namespace ecomap::platform
