// estimator/pipeline.h: a configuration decomposed into what the estimators reason about.
//
// Every tenant's pipeline becomes a list of stages; every stage records, per unit that really
// executes its blocks (the stage's unit, and its fallback unit for the blocks the unit cannot
// run natively, e.g. a DLA's GPU fallback), the FLOPs per block kind, the bytes (weights +
// activations, float32 descriptor bytes) and the block count; transfers count the changes of
// executing unit along the pipeline and the activation bytes they move. Clocks are the mode's
// caps or the configuration's overrides.
//
//   Decomposer d(info, platform::DefaultModelLookup());
//   ConfigView view;
//   Status s = d.Decompose(config, &view);   // InvalidArgument/NotFound naming the bad value
//
// Decompose checks exactly what it needs (mode, models, contiguous stages covering the model,
// units that exist and can run their blocks natively or through the fallback) so that it is
// fast enough for the search's batched predictions; it is not a full ValidateConfiguration.
//
// Thread-safety: a Decomposer is immutable after construction; Decompose is const and
// thread-safe (the model lookup must be too; the zoo's is).
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "platform/types.h"
#include "zoo/model.h"

namespace ecomap::estimator {

inline constexpr int kNumBlockKinds = 7;  // zoo::BlockKind values

// Blocks of one stage that execute on one unit.
struct UnitWork {
  int unit = -1;                                 // index into PlatformInfo::units; -1: none
  std::array<double, kNumBlockKinds> flops{};    // per zoo::BlockKind
  double bytes = 0;                              // params x 4 + input + output bytes
  double elementwise = 0;
  int blocks = 0;
};

struct StageView {
  int tenant = 0;
  int position = 0;          // 0-based index of the stage within its tenant
  int unit = 0;              // the stage's unit (index into PlatformInfo::units)
  UnitWork native;           // blocks the stage's unit runs
  UnitWork fallback;         // blocks run by the fallback unit (unit -1 when none)
  double params = 0;
  double activation_bytes = 0;   // input of the first + output of the last block
  int transfers = 0;             // changes of executing unit entering or inside the stage
  double transfer_bytes = 0;     // activation bytes moved by those changes
};

struct TenantView {
  int first_stage = 0;       // index into ConfigView::stages
  int num_stages = 0;
  bool open = false;
  double rate_rps = 0;       // open loop
  int concurrency = 1;       // closed loop
  int transfers = 0;
  double transfer_bytes = 0;
  double total_flops = 0;
};

struct ConfigView {
  int mode_index = 0;                 // index into PlatformInfo::modes
  std::vector<double> mhz;            // per unit: the clock this configuration runs at
  std::vector<double> mhz_fraction;   // mhz / the unit's max_frequency_mhz
  int online_cores = 0;               // CPU cores online (0: unknown)
  double cpu_core_fraction = 1;       // online / total CPU cores
  double emc_mhz = 0;                 // EMC cap (the platform's highest when unknown)
  double emc_fraction = 1;            // emc_mhz / the highest EMC cap of any mode
  std::vector<TenantView> tenants;
  std::vector<StageView> stages;      // tenant by tenant, stage by stage
};

class Decomposer {
 public:
  Decomposer(platform::PlatformInfo info, platform::ModelLookup lookup);

  Status Decompose(const platform::Configuration& config, ConfigView* view) const;

  const platform::PlatformInfo& info() const { return info_; }
  int num_units() const { return static_cast<int>(info_.units.size()); }
  int num_modes() const { return static_cast<int>(info_.modes.size()); }
  // Cores of each unit (1 for accelerators).
  int unit_cores(int u) const { return info_.units[static_cast<size_t>(u)].cores; }
  // Index of the unit with that id; -1 when none.
  int UnitIndex(const std::string& id) const;
  // The model of that name in the lookup; nullptr when unknown.
  const zoo::ModelInfo* Lookup(const std::string& name) const;

 private:
  platform::PlatformInfo info_;
  platform::ModelLookup lookup_;
  std::unordered_map<std::string, const zoo::ModelInfo*> models_;  // zoo models, prefilled
  std::vector<int> fallback_;        // per unit: fallback unit index or -1
  double emc_max_mhz_ = 0;
};

}  // namespace ecomap::estimator
