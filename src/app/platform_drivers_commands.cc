// `ecomap platform probe` and `ecomap platform tegrastats`: the real-hardware drivers' commands.
//
// They join the `platform` group that app/platform_commands.cc creates (registered at order 50;
// these at 51, so the group exists when they are added).
//
//   ecomap platform probe [--root DIR]            what each driver finds, one line per driver
//   ecomap platform tegrastats --file LOG [--json] parse a tegrastats log (Xavier or Orin style)
//
// tegrastats --json writes one object per valid line: {"line": N, "timestamp": "MM-DD-YYYY HH:MM:SS"
// (when printed), "total_power_w": W (VDD_IN, else the sum of the rails; measured by the board),
// "rails": [{"name", "current_mw", "average_mw"}...], "gr3d_load_pct", "emc_load_pct",
// "cpus_online", "ram_used_mb"}. Malformed lines are reported on stderr (file:line) and skipped;
// no valid line at all is an error.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include <fmt/format.h>

#include "app/cli_util.h"
#include "app/commands.h"
#include "platform/host/cgroup.h"
#include "platform/host/cpufreq.h"
#include "platform/jetson/jetson_nvpmodel.h"
#include "platform/jetson/jetson_platform.h"
#include "platform/jetson/jetson_rails.h"
#include "platform/jetson/jetson_tegrastats.h"
#include "platform/host/linux_host_platform.h"
#include "platform/host/rapl.h"
#include "platform/host/sysfs.h"

namespace ecomap::app {
namespace {

// "rapl: x" -> "x": the probe already names the driver at the start of each line.
std::string Msg(const Status& s) {
  const std::string& m = s.message();
  size_t colon = m.find(": ");
  if (colon != std::string::npos && colon < 10 && m.find(' ') > colon) return m.substr(colon + 2);
  return m;
}

void Probe(const std::string& root) {
  platform::RootedSysfs fs(root);
  std::cout << "drivers under root '" << fs.Describe() << "':\n";

  // Jetson: nvpmodel.conf, nvpmodel, INA3221.
  platform::JetsonOptions jo;
  jo.root = root;
  auto jetson = platform::JetsonPlatform::Create(jo);
  if (jetson.ok()) {
    const platform::PlatformInfo& info = (*jetson)->info();
    auto mode = (*jetson)->CurrentMode();
    std::cout << "  jetson:   " << info.modes.size() << " nvpmodel modes, units " << info.UnitIdList()
              << "; current mode "
              << (mode.ok() ? std::to_string(*mode) : "unknown (" + mode.status().message() + ")") << "\n";
  } else {
    std::cout << "  jetson:   " << Msg(jetson.status()) << "\n";
  }
  auto rails = platform::ReadIna3221(fs);
  if (rails.ok()) {
    std::cout << "  ina3221:  " << rails->rails.size() << " rails, "
              << platform::Ina3221LayoutName(rails->layout) << " layout, total "
              << fmt::format("{:.2f}", rails->total.value()) << " W (" << rails->total_rule << ", measured)\n";
  } else {
    std::cout << "  ina3221:  " << Msg(rails.status()) << "\n";
  }

  // Linux: RAPL, cpufreq, cgroup v2, online CPUs.
  auto zones = platform::DiscoverRaplZones(fs);
  if (zones.ok()) {
    std::string list;
    bool readable = true;
    std::string why;
    for (const platform::RaplZone& z : *zones) {
      list += (list.empty() ? "" : ", ") + z.name + " (" + z.id + ")";
      auto e = platform::ReadRaplEnergyUj(fs, z);
      if (!e.ok() && readable) {
        readable = false;
        why = e.status().message();
      }
    }
    std::cout << "  rapl:     " << zones->size() << " zones: " << list << "; "
              << (readable ? std::string("energy counters readable") : "energy counters NOT readable: " + why)
              << "\n";
    for (const platform::RaplZone& z : *zones) {
      for (const platform::RaplConstraint& c : z.constraints) {
        if (z.depth != 0) continue;
        std::cout << "            " << z.id << " constraint " << c.index << " (" << c.name << "): limit "
                  << fmt::format("{:.1f}", static_cast<double>(c.power_limit_uw) / 1e6) << " W"
                  << (c.time_window_us ? ", window " + std::to_string(*c.time_window_us) + " us"
                                       : std::string())
                  << "\n";
      }
    }
  } else {
    std::cout << "  rapl:     " << Msg(zones.status()) << "\n";
  }
  auto online = platform::ReadOnlineCpus(fs);
  std::cout << "  cpus:     "
            << (online.ok() ? "online " + platform::FormatCpuList(*online) : Msg(online.status())) << "\n";
  if (online.ok() && !online->empty()) {
    auto f = platform::ReadCpuFreq(fs, online->front());
    if (f.ok()) {
      std::cout << "  cpufreq:  cpu" << f->cpu << " " << f->cpuinfo_min_khz / 1000 << ".."
                << f->cpuinfo_max_khz / 1000 << " MHz, cap " << f->scaling_max_khz / 1000 << " MHz"
                << (f->governor.empty() ? std::string() : ", governor " + f->governor)
                << (f->available_khz.empty() ? std::string()
                                             : ", " + std::to_string(f->available_khz.size()) + " steps")
                << "\n";
    } else {
      std::cout << "  cpufreq:  " << Msg(f.status()) << "\n";
    }
  }
  auto controllers = fs.Read(std::string(platform::kCgroupRoot) + "/cgroup.controllers");
  if (controllers.ok()) {
    bool cpu = false;
    for (std::string_view c : platform::SplitWhitespace(*controllers)) cpu = cpu || c == "cpu";
    std::cout << "  cgroup:   v2 at " << platform::kCgroupRoot
              << (cpu ? ", cpu controller available (cpu.max)" : ", no cpu controller") << "\n";
  } else {
    std::cout << "  cgroup:   no cgroup v2 hierarchy at " << platform::kCgroupRoot
              << " (v1 or none): cpu.max bandwidth limits are unavailable\n";
  }
  platform::HostOptions ho;
  ho.root = root;
  auto host = platform::LinuxHostPlatform::Create(ho);
  std::cout << "  host:     " << (host.ok() ? "power " + (*host)->power_source_note() : Msg(host.status()))
            << "\n";
}

void Tegrastats(const std::string& file, bool json) {
  std::ifstream in_file;
  std::istream* in = &std::cin;
  if (file != "-") {
    in_file.open(file);
    if (!in_file)
      Fail("cannot open tegrastats log '" + file + "': " + std::strerror(errno) +
           " (give a file or - for stdin)");
    in = &in_file;
  }
  std::string line;
  int line_no = 0, good = 0, bad = 0;
  double sum_w = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    if (platform::Trim(line).empty()) continue;
    auto s = platform::ParseTegrastatsLine(line);
    if (!s.ok()) {
      ++bad;
      std::cerr << "ecomap: warning: " << file << ":" << line_no << ": " << s.status().message() << "\n";
      continue;
    }
    ++good;
    const double total = s->TotalPower().value();
    sum_w += total;
    if (json) {
      nlohmann::json j;
      j["line"] = line_no;
      if (s->timestamp) j["timestamp"] = *s->timestamp;
      j["total_power_w"] = total;
      nlohmann::json rails = nlohmann::json::array();  // in line order; names may repeat ("NC")
      for (const auto& r : s->rails)
        rails.push_back({{"name", r.name}, {"current_mw", r.current_mw}, {"average_mw", r.average_mw}});
      j["rails"] = rails;
      if (s->gr3d_load_pct) j["gr3d_load_pct"] = *s->gr3d_load_pct;
      if (s->emc_load_pct) j["emc_load_pct"] = *s->emc_load_pct;
      int online = 0;
      for (const auto& c : s->cpus) online += c.online ? 1 : 0;
      j["cpus_online"] = online;
      if (s->ram_used_mb) j["ram_used_mb"] = *s->ram_used_mb;
      std::cout << j.dump() << "\n";
    } else {
      std::cout << line_no << "  " << (s->timestamp ? *s->timestamp + "  " : "") << "total "
                << fmt::format("{:.3f}", total) << " W";
      if (s->gr3d_load_pct) std::cout << "  GPU " << *s->gr3d_load_pct << "%";
      std::cout << "\n";
    }
  }
  if (good == 0) Fail(file + ": no valid tegrastats line (" + std::to_string(bad) + " malformed)");
  if (!json) {
    std::cout << "mean total power " << fmt::format("{:.3f}", sum_w / good) << " W over " << good
              << " lines (measured by tegrastats)";
    if (bad > 0) std::cout << "; " << bad << " malformed lines skipped";
    std::cout << "\n";
  }
}

void AddPlatformDriverCommands(CLI::App& app) {
  CLI::App* group = nullptr;
  try {
    group = app.get_subcommand("platform");
  } catch (const CLI::Error&) {
    group = app.add_subcommand("platform", "Devices: compute units, power modes, power readings");
  }
  auto root = std::make_shared<std::string>("/");
  auto* probe =
      group->add_subcommand("probe", "Say what each real driver (Jetson, RAPL, cpufreq, cgroup) finds here");
  probe->add_option("--root", *root, "Root directory standing in for / (fixture trees)")
      ->capture_default_str();
  probe->callback([root] { Probe(*root); });

  struct TegraOpts {
    std::string file;
    bool json = false;
  };
  auto t = std::make_shared<TegraOpts>();
  auto* teg = group->add_subcommand(
      "tegrastats", "Parse a tegrastats log (Xavier 'GPU 1155/1155' or Orin 'VDD_GPU_SOC 5139mW/5139mW')");
  teg->add_option("--file", t->file, "tegrastats output, one line per sample ('-' for stdin)")->required();
  teg->add_flag("--json", t->json, "One JSON object per line (line, timestamp, total_power_w, rails, loads)");
  teg->callback([t] { Tegrastats(t->file, t->json); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(51, AddPlatformDriverCommands);

}  // namespace ecomap::app
