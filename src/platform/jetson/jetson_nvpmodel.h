// platform/jetson/jetson_nvpmodel.h: the Jetson power-mode table (/etc/nvpmodel.conf) and the
// `nvpmodel` tool that switches between its modes.
//
// /etc/nvpmodel.conf (L4T 32 and later) declares parameters, then one block per power mode:
//
//   < PARAM TYPE=FILE NAME=CPU_ONLINE >        knob name -> sysfs file
//   CORE_1 /sys/devices/system/cpu/cpu1/online
//   < PARAM TYPE=CLOCK NAME=GPU >
//   MAX_FREQ /sys/devices/17000000.gv11b/devfreq/17000000.gv11b/max_freq
//   < POWER_MODEL ID=2 NAME=MODE_15W >         PARAM ARG VALUE
//   CPU_ONLINE CORE_4 0
//   CPU_DENVER_0 MAX_FREQ 1200000              CPU clocks in kHz
//   GPU MAX_FREQ 670000000                     other clocks in Hz
//   < PM_CONFIG DEFAULT=2 >
//
// A CLOCK value of -1 means "no cap" (nvpmodel writes INT_MAX); for the EMC iso cap, 0 also
// means "no cap" (MAXN uses `EMC MAX_FREQ 0`). Lines starting with '#' are comments; other
// sections (e.g. `< FAN_CONFIG DEFAULT=cool >`) are kept as raw key/values and otherwise ignored.
//
//   StatusOr<NvpmodelConf> conf = ParseNvpmodelConf(text, "/etc/nvpmodel.conf");
//   const NvpmodelMode* m = conf->FindMode(2);        // MODE_15W, 4 CPUs online, caps...
//   NvpmodelClient client(*conf, {.binary = "/usr/sbin/nvpmodel"});
//   StatusOr<NvpmodelCurrent> now = client.Query();   // runs `nvpmodel -q`
//   Status s = client.SetMode(0);                     // runs `nvpmodel -m 0`
//
// Thread-safety: the table is a value; NvpmodelClient is const and may be shared, but the device
// has one power mode, so concurrent SetMode calls race in the device, not in this code.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/units.h"

namespace ecomap::platform {

enum class NvpParamType { kFile, kClock };

// One `< PARAM TYPE=... NAME=... >` section: knob (argument) names and their sysfs files.
struct NvpParam {
  std::string name;
  NvpParamType type = NvpParamType::kFile;
  std::vector<std::pair<std::string, std::string>> args;  // (ARG_NAME, sysfs path), file order
  // The sysfs path of `arg`, or nullptr.
  const std::string* PathOf(std::string_view arg) const;
};

// A CLOCK parameter's caps in one mode, in Hz (CPU kHz values are converted). nullopt = no cap.
struct NvpClockCaps {
  std::optional<double> min_hz;
  std::optional<double> max_hz;
};

// One `< POWER_MODEL ID=.. NAME=.. >` block, raw and typed.
struct NvpmodelMode {
  struct Setting {
    std::string param, arg, value;
    int line = 0;
  };
  int id = 0;
  std::string name;
  std::vector<Setting> settings;               // every line, in file order
  std::vector<int> online_cpus;                // CPUs left online (CPU_ONLINE knobs not set to 0)
  std::map<std::string, NvpClockCaps> clocks;  // CLOCK param name -> caps (only the ones it sets)
  // The budget in the mode's name ("MODE_15W" -> 15 W, "MODE_30W_ALL" -> 30 W); nullopt for
  // names without one (MAXN). nvpmodel.conf has no budget field: this is the name's promise.
  std::optional<Watts> budget;
};

struct NvpmodelConf {
  std::string source;                                 // the path it was read from, for messages
  std::vector<NvpParam> params;                       // file order
  std::vector<NvpmodelMode> modes;                    // file order
  int default_mode = 0;                               // PM_CONFIG DEFAULT
  std::map<std::string, std::string> other_sections;  // e.g. "FAN_CONFIG.DEFAULT" -> "cool"
  std::vector<int> all_cpus;                          // CPUs declared by the CPU_ONLINE param

  const NvpmodelMode* FindMode(int id) const;
  const NvpmodelMode* FindModeByName(std::string_view name) const;
  const NvpParam* FindParam(std::string_view name) const;
};

// Parses the text of an nvpmodel.conf. `source` names it in errors ("nvpmodel.conf:42: ...").
// InvalidArgument on malformed headers, settings outside a section, references to undeclared
// params or args, non-integer CLOCK values, duplicate mode ids, a missing or dangling
// PM_CONFIG DEFAULT, or no POWER_MODEL at all.
StatusOr<NvpmodelConf> ParseNvpmodelConf(std::string_view text, std::string_view source);

// True when `param` is a CPU clock (its values are kHz, not Hz).
bool IsCpuClockParam(std::string_view param);

// The mode nvpmodel reports.
struct NvpmodelCurrent {
  int id = 0;
  std::string name;
};

// Parses `nvpmodel -q` output ("NV Fan Mode:quiet\nNV Power Mode: MODE_15W\n2\n").
StatusOr<NvpmodelCurrent> ParseNvpmodelQuery(std::string_view output);
// Parses /var/lib/nvpmodel/status ("pmode:0002 fmode:quiet"): the id only.
StatusOr<int> ParseNvpmodelStatusFile(std::string_view text);

struct NvpmodelOptions {
  std::string binary = "/usr/sbin/nvpmodel";  // absolute path; tests use a fixture script
  std::chrono::milliseconds timeout{15000};   // per invocation
  std::vector<std::string> extra_env;         // "NAME=value" entries for the child
};

// Runs nvpmodel with validated arguments (see platform/host/process.h: no shell, stdin /dev/null,
// timeout, output captured).
class NvpmodelClient {
 public:
  NvpmodelClient(NvpmodelConf conf, NvpmodelOptions options);

  // Runs `nvpmodel -q`. Errors: those of RunProcess (NotFound binary, DeadlineExceeded...),
  // Unavailable on a non-zero exit (with its output), InvalidArgument when the output does not parse.
  StatusOr<NvpmodelCurrent> Query() const;

  // Runs `nvpmodel -m ID` after checking that ID is a mode of the table (InvalidArgument listing
  // the valid ids otherwise), then queries to confirm. FailedPrecondition when nvpmodel says the
  // switch needs a reboot (MODE_10W on some Xaviers); Unavailable on a non-zero exit;
  // DataLoss when the confirming query reports another mode.
  Status SetMode(int id) const;

  const NvpmodelConf& conf() const { return conf_; }
  const NvpmodelOptions& options() const { return options_; }

 private:
  NvpmodelConf conf_;
  NvpmodelOptions options_;
};

}  // namespace ecomap::platform
