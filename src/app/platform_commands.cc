// `ecomap platform ...`: list platforms, show a platform's units and power modes, read its
// power, evaluate a configuration, and print xavier-sim's calibration table.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "app/cli_util.h"
#include "app/commands.h"
#include "platform/sim/calibration.h"
#include "platform/platform.h"
#include "platform/registry.h"
#include "platform/sim/xavier_sim.h"

namespace ecomap::app {
namespace {

using platform::PlatformInfo;
using platform::Provenance;

// "(simulated)" / "(modelled)" / "" to put beside every figure.
std::string Label(Provenance p) {
  return p == Provenance::kMeasured ? "" : std::string(" (") + platform::ProvenanceName(p) + ")";
}

std::unique_ptr<platform::Platform> Make(const std::string& name, const std::string& root, uint64_t seed,
                                         double noise, platform::ModelLookup lookup = {}) {
  platform::PlatformOptions o;
  o.root = root;
  o.seed = seed;
  o.noise = noise;
  o.model_lookup = std::move(lookup);
  return OrFail(platform::MakePlatform(name, o));
}

void PrintInfo(const PlatformInfo& info) {
  std::cout << "platform " << info.name << Label(info.provenance) << ": " << info.description << "\n\n";
  std::cout << "compute units:\n";
  for (const platform::ComputeUnit& u : info.units) {
    std::cout << "  " << u.id << "  " << platform::UnitKindName(u.kind) << "  cores " << u.cores << "  max "
              << (u.max_frequency_mhz > 0 ? fmt::format("{:.1f}", u.max_frequency_mhz) + " MHz" : "clock unknown") << "  "
              << u.description << "\n";
    std::string kinds;
    for (zoo::BlockKind k : u.native_kinds)
      kinds += (kinds.empty() ? "" : ",") + std::string(zoo::BlockKindName(k));
    std::cout << "        runs: " << (kinds.empty() ? "every block kind" : kinds);
    if (!u.fallback_unit.empty()) std::cout << "; other blocks fall back to " << u.fallback_unit;
    std::cout << "\n";
  }
  std::cout << "\npower modes (default " << info.default_mode << "):\n";
  std::cout << "  id  name              budget   cpus  clock caps (MHz)                      emc MHz\n";
  for (const platform::PowerMode& m : info.modes) {
    std::string caps;
    for (const auto& [unit, mhz] : m.max_frequency_mhz) caps += unit + " " + fmt::format("{:.1f}", mhz) + "  ";
    std::cout << fmt::format("  {:<3} {:<17} {:<8} {:<5} {:<37} {}\n", m.id, m.name,
                             m.budget ? fmt::format("{:.0f} W", m.budget->value()) : "none", m.online_cpu_cores, caps,
                             m.emc_max_mhz ? fmt::format("{:.1f}", *m.emc_max_mhz) : "-");
  }
}

void AddPlatformCommands(CLI::App& app) {
  auto* group = app.add_subcommand(
      "platform", "Devices: compute units, power modes, power readings, the simulated Xavier");
  group->require_subcommand(1);

  // platform list
  auto* list = group->add_subcommand("list", "List the platforms that --platform accepts");
  list->callback([] {
    for (const platform::PlatformEntry& e : platform::PlatformNames()) {
      std::cout << e.name << "  " << e.description << "\n";
    }
  });

  // platform show
  struct ShowOpts {
    std::string name = "xavier-sim";
    std::string root = "/";
    bool json = false;
  };
  auto show_opts = std::make_shared<ShowOpts>();
  auto* show = group->add_subcommand("show", "List a platform's compute units and power modes");
  show->add_option("--platform", show_opts->name, "Platform name (see `ecomap platform list`)")
      ->capture_default_str();
  show->add_option("--root", show_opts->root,
                   "Root directory of the real drivers' sysfs/etc files (fixture trees in tests)")
      ->capture_default_str();
  show->add_flag("--json", show_opts->json, "Print the PlatformInfo as JSON");
  show->callback([show_opts] {
    auto p = Make(show_opts->name, show_opts->root, 0, 0);
    if (show_opts->json) {
      std::cout << nlohmann::json(p->info()).dump(2) << "\n";
    } else {
      PrintInfo(p->info());
    }
  });

  // platform power
  struct PowerOpts {
    std::string name = "xavier-sim";
    std::string root = "/";
    int mode = -1;
    bool json = false;
  };
  auto power_opts = std::make_shared<PowerOpts>();
  auto* power = group->add_subcommand("power", "Read the platform's power now (per rail and total)");
  power->add_option("--platform", power_opts->name, "Platform name")->capture_default_str();
  power->add_option("--root", power_opts->root, "Root directory of sysfs/etc files")->capture_default_str();
  power->add_option("--mode", power_opts->mode, "Apply this power mode id first (-1: leave it)")
      ->capture_default_str();
  power->add_flag("--json", power_opts->json, "Print the PowerReading as JSON");
  power->callback([power_opts] {
    auto p = Make(power_opts->name, power_opts->root, 0, 0);
    if (power_opts->mode >= 0) OrFail(p->ApplyMode(power_opts->mode));
    platform::PowerReading r = OrFail(p->ReadPower());
    if (power_opts->json) {
      std::cout << nlohmann::json(r).dump(2) << "\n";
      return;
    }
    std::string label = Label(r.provenance);
    std::cout << "power at " << FormatIso8601(r.time) << label << ":\n";
    for (const platform::RailPower& rail : r.rails) {
      std::cout << "  " << rail.name << "  " << fmt::format("{:.2f}", rail.power.value()) << " W" << label << "\n";
    }
    std::cout << "  total  " << fmt::format("{:.2f}", r.total.value()) << " W" << label << "\n";
  });

  // platform evaluate
  struct EvalOpts {
    std::string name = "xavier-sim";
    std::string root = "/";
    std::string config;
    uint64_t seed = 0;
    double noise = 0;
    bool json = false;
  };
  auto eval_opts = std::make_shared<EvalOpts>();
  auto* eval = group->add_subcommand(
      "evaluate", "Run or predict a configuration (power mode + tenants' stages) given as JSON");
  eval->add_option("--platform", eval_opts->name, "Platform name")->capture_default_str();
  eval->add_option("--root", eval_opts->root, "Root directory of sysfs/etc files")->capture_default_str();
  eval->add_option("--config", eval_opts->config,
                   "Configuration JSON file ('-' for stdin), schema in src/platform/types.h: "
                   "{\"power_mode\":2,\"tenants\":[{\"name\":\"a\",\"model\":\"resnet50\","
                   "\"stages\":[{\"begin\":0,\"end\":3,\"unit\":\"DLA0\"},...],"
                   "\"arrival\":\"open\",\"rate_rps\":20}]}")
      ->required();
  eval->add_option("--seed", eval_opts->seed, "Seed of the measurement noise")->capture_default_str();
  eval->add_option("--noise", eval_opts->noise, "Relative standard deviation of the noise (simulators)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  eval->add_flag("--json", eval_opts->json, "Print the Performance as JSON");
  eval->callback([eval_opts] {
    std::string text;
    if (eval_opts->config == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      std::ifstream in(eval_opts->config);
      if (!in) Fail("cannot read --config '" + eval_opts->config + "': check the path");
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) Fail("--config '" + eval_opts->config + "' is not valid JSON");
    platform::Configuration config = OrFail(platform::ConfigurationFromJson(j));
    auto p = Make(eval_opts->name, eval_opts->root, eval_opts->seed, eval_opts->noise,
                  eval_opts->name == "xavier-sim" ? platform::CalibrationLookup() : platform::ModelLookup());
    platform::Evaluator* ev = platform::AsEvaluator(p.get());
    if (ev == nullptr) {
      // Real devices: validate first (its error wins), then say which command to use instead.
      OrFail(p->Validate(config));
      OrFail(platform::MakeEvaluator(eval_opts->name).status());
      Fail("platform eval: '" + eval_opts->name + "' cannot predict configurations");
    }
    platform::Performance perf = OrFail(ev->Evaluate(config));
    if (eval_opts->json) {
      std::cout << nlohmann::json(perf).dump(2) << "\n";
      return;
    }
    std::string label = Label(perf.provenance);
    for (const platform::TenantPerformance& t : perf.tenants) {
      std::cout << t.name << ": p50 " << fmt::format("{:.2f}", t.latency_p50.value()) << " ms, p95 "
                << fmt::format("{:.2f}", t.latency_p95.value()) << " ms, " << fmt::format("{:.1f}", t.throughput_rps) << " req/s"
                << (t.saturated ? " (saturated)" : "") << label << "\n";
    }
    std::cout << "power " << fmt::format("{:.2f}", perf.power.value()) << " W" << label << "\n";
    for (const auto& [unit, u] : perf.unit_utilisation) {
      std::cout << "  " << unit << " busy " << fmt::format("{:.1f}", 100 * u) << "%" << label << "\n";
    }
    std::cout << "  EMC bandwidth use " << fmt::format("{:.1f}", 100 * perf.emc_utilisation) << "%" << label << "\n";
  });

  // platform calibrate
  struct CalOpts {
    std::string name = "xavier-sim";
    bool json = false;
  };
  auto cal_opts = std::make_shared<CalOpts>();
  auto* cal = group->add_subcommand(
      "calibrate", "Print the simulator's figures beside the published ones it is calibrated to");
  cal->add_option("--platform", cal_opts->name, "Simulated platform (only xavier-sim)")
      ->capture_default_str();
  cal->add_flag("--json", cal_opts->json, "Print the rows as JSON");
  cal->callback([cal_opts] {
    if (cal_opts->name != "xavier-sim") {
      Fail("--platform '" + cal_opts->name + "': only xavier-sim is a calibrated simulator");
    }
    platform::PlatformOptions o;
    o.model_lookup = platform::CalibrationLookup();
    platform::XavierSim sim(o);
    auto rows = OrFail(platform::RunCalibration(sim));
    int failed = 0;
    if (cal_opts->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : rows) {
        out.push_back({{"target", r.target},
                       {"unit", r.unit},
                       {"published", r.published},
                       {"simulated", r.modelled},
                       {"low", r.low},
                       {"high", r.high},
                       {"checked", r.checked},
                       {"pass", r.pass},
                       {"source", r.source}});
        failed += !r.pass;
      }
      std::cout << out.dump(2) << "\n";
    } else {
      std::cout << "xavier-sim calibration (simulated figures vs published figures)\n\n";
      std::cout << "| target | unit | published | simulated | accepted | result |\n";
      std::cout << "| --- | --- | --- | --- | --- | --- |\n";
      for (const auto& r : rows) {
        int prec = r.unit == "ms" ? 3 : (r.unit == "W" ? 2 : 0);
        std::string range = r.checked ? fmt::format("{:.{}f}", r.low, prec) + " .. " + fmt::format("{:.{}f}", r.high, prec) : "context only";
        std::cout << "| " << r.target << " | " << r.unit << " | " << fmt::format("{:.{}f}", r.published, prec) << " | "
                  << fmt::format("{:.{}f}", r.modelled, prec) << " | " << range << " | "
                  << (r.checked ? (r.pass ? "ok" : "MISSED") : "-") << " |\n";
        failed += !r.pass;
      }
      std::cout << "\nSources: docs/calibration-xavier.md.\n";
    }
    if (failed > 0) Fail(std::to_string(failed) + " calibration target(s) missed", 2);
  });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(50, AddPlatformCommands);

}  // namespace ecomap::app
