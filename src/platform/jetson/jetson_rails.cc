#include "platform/jetson/jetson_rails.h"

#include <algorithm>
#include <regex>

namespace ecomap::platform {
namespace {

constexpr const char* kIioDriver = "/sys/bus/i2c/drivers/ina3221x";
constexpr const char* kHwmonDriver = "/sys/bus/i2c/drivers/ina3221";

// I2C device directories of a driver: "1-0040", "1-0041" (skips bind/unbind/uevent/module).
std::vector<std::string> I2cDevices(const Sysfs& fs, const std::string& driver) {
  static const std::regex kDev(R"(^[0-9]+-[0-9a-fA-F]{4}$)");
  std::vector<std::string> out;
  auto names = fs.List(driver);
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    if (std::regex_match(n, kDev)) out.push_back(JoinPath(driver, n));
  }
  return out;
}

std::vector<std::string> SubdirsMatching(const Sysfs& fs, const std::string& dir, const std::regex& re) {
  std::vector<std::string> out;
  auto names = fs.List(dir);
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    if (std::regex_match(n, re) && fs.IsDirectory(JoinPath(dir, n))) out.push_back(JoinPath(dir, n));
  }
  return out;
}

StatusOr<double> ReadNumber(const Sysfs& fs, const std::string& path) {
  ECOMAP_ASSIGN_OR_RETURN(std::string s, fs.Read(path));
  return ParseDouble(s, path);
}

Status ReadIioDir(const Sysfs& fs, const std::string& dir, std::vector<RailReading>& out) {
  static const std::regex kRail(R"(^rail_name_([0-9]+)$)");
  ECOMAP_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.List(dir));
  for (const std::string& n : names) {
    std::smatch m;
    if (!std::regex_match(n, m, kRail)) continue;
    const std::string c = m[1].str();
    RailReading r;
    r.device_dir = dir;
    r.channel = std::stoi(c);
    ECOMAP_ASSIGN_OR_RETURN(r.name, ReadTrimmed(fs, JoinPath(dir, n)));
    if (r.name.empty()) return InvalidArgument(JoinPath(dir, n) + ": empty rail name");
    ECOMAP_ASSIGN_OR_RETURN(double mw, ReadNumber(fs, JoinPath(dir, "in_power" + c + "_input")));
    if (mw < 0)
      return InvalidArgument(JoinPath(dir, "in_power" + c + "_input") + ": negative power " +
                             std::to_string(mw) + " mW");
    r.power = Watts(mw / 1000.0);
    // Voltage and current are informative; their absence is not an error.
    if (auto v = ReadNumber(fs, JoinPath(dir, "in_voltage" + c + "_input")); v.ok()) r.voltage_mv = *v;
    if (auto i = ReadNumber(fs, JoinPath(dir, "in_current" + c + "_input")); i.ok()) r.current_ma = *i;
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

Status ReadHwmonDir(const Sysfs& fs, const std::string& dir, std::vector<RailReading>& out) {
  static const std::regex kLabel(R"(^in([0-9]+)_label$)");
  ECOMAP_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.List(dir));
  for (const std::string& n : names) {
    std::smatch m;
    if (!std::regex_match(n, m, kLabel)) continue;
    const std::string c = m[1].str();
    RailReading r;
    r.device_dir = dir;
    r.channel = std::stoi(c);
    ECOMAP_ASSIGN_OR_RETURN(r.name, ReadTrimmed(fs, JoinPath(dir, n)));
    if (r.name.empty() || r.name == "NC") continue;  // not connected
    // Channels 1..3 are the bus voltages; a label on in4.. (shunt sums) carries no curr file.
    const std::string curr_path = JoinPath(dir, "curr" + c + "_input");
    if (!fs.Exists(curr_path)) continue;
    ECOMAP_ASSIGN_OR_RETURN(double mv, ReadNumber(fs, JoinPath(dir, "in" + c + "_input")));
    ECOMAP_ASSIGN_OR_RETURN(double ma, ReadNumber(fs, curr_path));
    if (mv < 0)
      return InvalidArgument(JoinPath(dir, "in" + c + "_input") + ": negative voltage " + std::to_string(mv) +
                             " mV");
    // Current can read slightly negative around zero load (shunt offset): clamp at 0.
    r.voltage_mv = mv;
    r.current_ma = ma;
    r.power = Watts(std::max(0.0, mv * ma) / 1e6);
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace

const char* Ina3221LayoutName(Ina3221Layout layout) {
  return layout == Ina3221Layout::kIio ? "iio (L4T 32, ina3221x)" : "hwmon (L4T 35+, ina3221)";
}

std::vector<std::string> FindIna3221Dirs(const Sysfs& fs, Ina3221Layout* layout_out) {
  static const std::regex kIio(R"(^iio:device[0-9]+$)");
  static const std::regex kHwmon(R"(^hwmon[0-9]+$)");
  std::vector<std::string> dirs;
  for (const std::string& dev : I2cDevices(fs, kIioDriver)) {
    auto sub = SubdirsMatching(fs, dev, kIio);
    dirs.insert(dirs.end(), sub.begin(), sub.end());
  }
  if (!dirs.empty()) {
    if (layout_out) *layout_out = Ina3221Layout::kIio;
    return dirs;
  }
  for (const std::string& dev : I2cDevices(fs, kHwmonDriver)) {
    auto sub = SubdirsMatching(fs, JoinPath(dev, "hwmon"), kHwmon);
    dirs.insert(dirs.end(), sub.begin(), sub.end());
  }
  if (layout_out) *layout_out = Ina3221Layout::kHwmon;
  return dirs;
}

StatusOr<RailSnapshot> ReadIna3221(const Sysfs& fs) {
  RailSnapshot snap;
  std::vector<std::string> dirs = FindIna3221Dirs(fs, &snap.layout);
  if (dirs.empty()) {
    return NotFound(std::string("no INA3221 power monitor under root '") + fs.Describe() + "' (looked for " +
                    kIioDriver + "/*/iio:device* and " + kHwmonDriver + "/*/hwmon/hwmon*)");
  }
  for (const std::string& d : dirs) {
    if (snap.layout == Ina3221Layout::kIio) {
      ECOMAP_RETURN_IF_ERROR(ReadIioDir(fs, d, snap.rails));
    } else {
      ECOMAP_RETURN_IF_ERROR(ReadHwmonDir(fs, d, snap.rails));
    }
  }
  if (snap.rails.empty()) {
    return NotFound("INA3221 monitors found under root '" + fs.Describe() + "' (" + dirs.front() +
                    ") but no labelled channel in them");
  }
  std::stable_sort(snap.rails.begin(), snap.rails.end(), [](const RailReading& a, const RailReading& b) {
    return a.device_dir != b.device_dir ? a.device_dir < b.device_dir : a.channel < b.channel;
  });
  auto vin = std::find_if(snap.rails.begin(), snap.rails.end(),
                          [](const RailReading& r) { return r.name == "VDD_IN"; });
  if (vin != snap.rails.end()) {
    snap.total = vin->power;
    snap.total_rule = "VDD_IN (module input rail)";
  } else {
    for (const RailReading& r : snap.rails) snap.total += r.power;
    snap.total_rule = "sum of " + std::to_string(snap.rails.size()) + " rails";
  }
  return snap;
}

}  // namespace ecomap::platform
