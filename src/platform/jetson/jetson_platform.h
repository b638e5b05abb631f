// platform/jetson/jetson_platform.h: `jetson`, the Platform of a real NVIDIA Jetson (L4T 32 and later).
//
// Everything comes from the device itself, under a configurable root ("/" on the board, a fixture
// tree such as src/platform/testdata/xavier in tests):
//   * modes: /etc/nvpmodel.conf (platform/jetson/jetson_nvpmodel.h): ids, names, online CPUs, clock caps
//     (CPU clusters -> unit CPU, GPU -> GPU, DLA_CORE -> DLA0 and DLA1, DLA<n>_CORE -> DLA<n>, EMC);
//     the budget is the one in the mode's name (MODE_15W -> 15 W; MAXN has none);
//   * units: CPU (the cores of the CPU_ONLINE param), GPU, DLA engines (DLAs run conv, depthwise,
//     linear and pool blocks the zoo marks dla_supported; the rest falls back to the GPU, as TensorRT
//     does); each unit's top clock from its frequency table (FREQ_TABLE file) when readable;
//   * current mode / apply: `nvpmodel -q` / `nvpmodel -m ID` (platform/host/process.h: no shell,
//     timeout); the current mode falls back to /var/lib/nvpmodel/status when nvpmodel cannot run;
//   * power: the INA3221 rails (platform/jetson/jetson_rails.h), both layouts, flagged measured.
// It is no Evaluator (platform/evaluator.h): running tenants on the GPU/DLA needs a TensorRT engine,
// which Ecomap does not have (use xavier-sim to predict, host to run on a CPU); MakeEvaluator("jetson")
// says so (kJetsonCannotEvaluate).
//
//   JetsonOptions o;  o.root = "/";
//   StatusOr<std::unique_ptr<JetsonPlatform>> j = JetsonPlatform::Create(o);
//   // not a Jetson: Unavailable "jetson: /etc/nvpmodel.conf not found under root '/': this is
//   //               not a Jetson (use --platform xavier-sim or host)"
//   (*j)->ApplyMode(2);  (*j)->ReadPower();
//
// Thread-safety: one thread at a time (the device has one mode; nvpmodel runs serialise anyway).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "platform/jetson/jetson_nvpmodel.h"
#include "platform/platform.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

struct JetsonOptions {
  std::string root = "/";                  // where /etc, /sys and /var are looked up
  std::string nvpmodel_path = "nvpmodel";  // bare name: <root>/usr/sbin etc., then PATH
  std::chrono::milliseconds nvpmodel_timeout{15000};
  std::vector<std::string> nvpmodel_env;  // extra "NAME=value" for the nvpmodel process
  const Clock* clock = nullptr;           // nullptr: the system clock
  ModelLookup model_lookup;               // empty: the zoo's catalogue
};

class JetsonPlatform final : public Platform {
 public:
  // Reads <root>/etc/nvpmodel.conf and describes the device. Unavailable (one line) when the conf
  // is absent: not a Jetson; InvalidArgument (file:line) when it is malformed. The nvpmodel program
  // is looked up lazily: its absence only fails CurrentMode/ApplyMode.
  static StatusOr<std::unique_ptr<JetsonPlatform>> Create(const JetsonOptions& options);

  // Units and modes of a parsed conf; clock tables are read through `fs` when present.
  static PlatformInfo MakeInfo(const NvpmodelConf& conf, const Sysfs& fs);

  const PlatformInfo& info() const override { return info_; }
  StatusOr<int> CurrentMode() override;
  Status ApplyMode(int mode_id) override;
  StatusOr<PowerReading> ReadPower() override;
  Status Validate(const Configuration& config) const override;

  const NvpmodelConf& conf() const { return conf_; }

 private:
  JetsonPlatform(JetsonOptions options, NvpmodelConf conf, PlatformInfo info);
  StatusOr<NvpmodelClient> Client() const;

  JetsonOptions options_;
  RootedSysfs fs_;
  NvpmodelConf conf_;
  PlatformInfo info_;
  const Clock* clock_;
};

// Why a Jetson has no Evaluator (the Unimplemented message of MakeEvaluator("jetson")).
inline constexpr const char* kJetsonCannotEvaluate =
    "jetson: running tenants on the Jetson's GPU/DLA needs a TensorRT engine, which Ecomap does not have; "
    "use --platform xavier-sim to predict the configuration, or --platform host to run it on the CPU";

// The registry's factory for "jetson" (platform/registry.cc): maps PlatformOptions (root, clock,
// model_lookup, nvpmodel_path) onto the driver's options.
StatusOr<std::unique_ptr<Platform>> MakeJetsonPlatform(const PlatformOptions& options);

}  // namespace ecomap::platform
