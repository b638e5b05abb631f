// platform/jetson/jetson_tegrastats.h: parse the lines `tegrastats` prints on a Jetson.
//
// Two rail styles are understood:
//   Xavier / L4T 32:   "... GPU 1155/1155 CPU 385/385 SOC 2504/2503 CV 0/0 VDDRQ 192/192 SYS5V 2692/2692"
//                      (current/average, mW)
//   Orin / JetPack 5-6: "... VDD_GPU_SOC 5139mW/5139mW VDD_CPU_CV 3268mW/3268mW VIN_SYS_5V0 5500mW/5500mW"
//                      (current/average[/max], mW)
// and the other fields: an optional "MM-DD-YYYY HH:MM:SS" prefix, RAM used/total MB, the CPU list
// "CPU [2%@2265,1%@2265,off,...]" (load %, MHz; "off" = offline core), EMC_FREQ "N%[@MHz]",
// GR3D_FREQ "N%[@MHz]" or "N%@[MHz,MHz]" (one per GPC on Orin) and temperatures "CPU@33.5C".
// Fields it does not know (APE, VIC_FREQ, NVENC off, MTS fg/bg...) are skipped.
//
//   StatusOr<TegrastatsSample> s = ParseTegrastatsLine(line);
//   Watts total = s->TotalPower();
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/units.h"

namespace ecomap::platform {

struct TegrastatsCpu {
  bool online = false;
  int load_pct = 0;
  std::optional<int> freq_mhz;
};

struct TegrastatsRail {
  std::string name;
  double current_mw = 0;
  double average_mw = 0;
};

struct TegrastatsSample {
  std::optional<std::string> timestamp;  // as printed, e.g. "11-27-2026 18:00:00"
  std::optional<int> ram_used_mb;
  std::optional<int> ram_total_mb;
  std::vector<TegrastatsCpu> cpus;
  std::optional<int> emc_load_pct;
  std::optional<int> emc_freq_mhz;
  std::optional<int> gr3d_load_pct;
  std::vector<int> gr3d_freq_mhz;  // one per GPC on Orin, one on Xavier, empty if not printed
  std::map<std::string, double> temperatures_c;
  std::vector<TegrastatsRail> rails;  // in line order
  bool orin_style_rails = false;      // "mW" suffixes

  // VDD_IN's current value when present, else the sum of the rails' current values.
  Watts TotalPower() const;
  const TegrastatsRail* FindRail(std::string_view name) const;
};

// Parses one line. InvalidArgument (naming the offending token) on an empty line, a line with no
// field tegrastats prints, or a known field with a malformed value (e.g. "CPU [12%@x]").
StatusOr<TegrastatsSample> ParseTegrastatsLine(std::string_view line);

}  // namespace ecomap::platform
