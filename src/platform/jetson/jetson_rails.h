// platform/jetson/jetson_rails.h: the Jetson's INA3221 power monitors, read from sysfs.
//
// Two layouts exist and both are read:
//  - L4T 32.x (Xavier, JetPack 4), iio driver `ina3221x`:
//      /sys/bus/i2c/drivers/ina3221x/<bus-addr>/iio:device<N>/
//        rail_name_<c>          "GPU", "CPU", "SOC" (0x40); "CV", "VDDRQ", "SYS5V" (0x41)
//        in_power<c>_input      mW
//        in_voltage<c>_input    mV
//        in_current<c>_input    mA
//  - L4T 35+ (JetPack 5/6, Orin and later Xaviers), upstream hwmon driver `ina3221`:
//      /sys/bus/i2c/drivers/ina3221/<bus-addr>/hwmon/hwmon<N>/
//        in<c>_label            "VDD_GPU_SOC", ... (channels without a label, or labelled "NC",
//                               are not connected and are skipped)
//        in<c>_input            bus voltage, mV
//        curr<c>_input          current, mA
//      power = V * I (the hwmon driver has no power file).
//
// Total power: when a rail named VDD_IN exists (Orin NX/Nano: the module input) it is the total;
// otherwise the total is the sum of all rails (AGX Xavier and AGX Orin expose no input rail, so
// this is the sum of the module rails and reads below a meter at the wall).
//
//   RootedSysfs fs("/");
//   StatusOr<RailSnapshot> s = ReadIna3221(fs);
//   for (const RailReading& r : s->rails) std::cout << r.name << " " << r.power.value() << " W\n";
//
// Thread-safety: stateless functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "platform/host/sysfs.h"

namespace ecomap::platform {

enum class Ina3221Layout { kIio, kHwmon };
const char* Ina3221LayoutName(Ina3221Layout layout);

struct RailReading {
  std::string name;  // rail label as the board names it ("GPU", "VDD_GPU_SOC")
  Watts power{0.0};
  std::optional<double> voltage_mv;
  std::optional<double> current_ma;
  std::string device_dir;  // the sysfs directory it came from
  int channel = 0;
};

struct RailSnapshot {
  Ina3221Layout layout = Ina3221Layout::kIio;
  std::vector<RailReading> rails;  // sorted by device directory, then channel
  Watts total{0.0};
  std::string total_rule;  // "VDD_IN" or "sum of 6 rails", for reports
};

// The monitor directories present (iio first, then hwmon). Empty when none.
std::vector<std::string> FindIna3221Dirs(const Sysfs& fs, Ina3221Layout* layout_out = nullptr);

// Reads every connected channel of every INA3221. NotFound (one line, naming the two places
// looked at) when neither layout exists; the first read or parse error of a present channel
// otherwise (PermissionDenied, InvalidArgument naming the file...).
StatusOr<RailSnapshot> ReadIna3221(const Sysfs& fs);

}  // namespace ecomap::platform
