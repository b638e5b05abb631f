// `ecomap policy scenario|controllers`: check a workload scenario and list the controllers.
// (The controllers run in `ecomap replay` and `ecomap serve`.)
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli_util.h"
#include "app/commands.h"
#include "platform/types.h"
#include "policy/controller.h"
#include "policy/scenario.h"

namespace ecomap::app {
namespace {

struct ScenarioArgs {
  std::string path;
  bool json = false;
  bool no_check = false;
};

void RunScenario(const ScenarioArgs& a) {
  const std::string path = a.path.empty() ? policy::DefaultScenarioPath() : a.path;
  policy::ScenarioCheck check;
  check.check_feasibility = !a.no_check;
  policy::Scenario s = OrFail(policy::LoadScenario(path, check));
  if (a.json) {
    nlohmann::json j;
    j["name"] = s.name;
    j["description"] = s.description;
    j["path"] = path;
    for (const policy::ScenarioTenant& t : s.tenants) {
      nlohmann::json x;
      x["name"] = t.spec.name;
      x["family"] = t.spec.family;
      x["variants"] = t.spec.variants;
      x["slo_ms"] = t.spec.slo_p95.value();
      x["min_throughput_rps"] = t.spec.min_throughput_rps;
      x["arrival"] = platform::ArrivalKindName(t.spec.arrival);
      if (t.spec.arrival == platform::ArrivalKind::kOpenLoop) {
        nlohmann::json rates = nlohmann::json::array();
        for (int h = 0; h < 24; ++h) rates.push_back(t.RateAtHour(h));
        x["rate_rps_by_hour"] = rates;
      } else {
        x["concurrency"] = t.spec.concurrency;
      }
      j["tenants"].push_back(x);
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << "scenario " << s.name << " (" << path << ")";
  if (!s.description.empty()) std::cout << ": " << s.description;
  std::cout << "\n" << (a.no_check ? "feasibility not checked\n" :
                        "every SLO is reachable by the tenant's lightest variant alone at its peak rate "
                        "(xavier-sim, simulated)\n") << "\n";
  std::printf("%-12s %-13s %7s  %-9s %s\n", "tenant", "family", "slo_ms", "arrival", "variants (increasing accuracy)");
  for (const policy::ScenarioTenant& t : s.tenants) {
    std::string v;
    for (const auto& m : t.spec.variants) v += (v.empty() ? "" : ", ") + m;
    std::printf("%-12s %-13s %7.1f  %-9s %s\n", t.spec.name.c_str(), t.spec.family.c_str(), t.spec.slo_p95.value(),
                platform::ArrivalKindName(t.spec.arrival), v.c_str());
  }
  std::cout << "\nrequests/s by UTC hour (closed loop: concurrency)\n";
  std::printf("%-12s", "hour");
  for (int h = 0; h < 24; h += 2) std::printf(" %5d", h);
  std::printf("\n");
  for (const policy::ScenarioTenant& t : s.tenants) {
    std::printf("%-12s", t.spec.name.c_str());
    for (int h = 0; h < 24; h += 2) {
      if (t.spec.arrival == platform::ArrivalKind::kOpenLoop) {
        std::printf(" %5.0f", t.RateAtHour(h));
      } else {
        std::printf(" %5d", t.spec.concurrency);
      }
    }
    std::printf("\n");
  }
}

void RunControllers() {
  struct Row {
    const char* name;
    const char* what;
  } rows[] = {
      {"ecomap", "carbon -> power threshold (relative map, hysteresis); LA-MCTS mapping under it with the estimator; "
                 "mixed-quality substitution; threshold raised one mode when nothing holds the SLOs; SLO feedback"},
      {"maxn", "every tenant's best variant on the GPU in the highest mode (carbon-agnostic)"},
      {"throughput", "fastest mapping of the best variants in the highest mode (carbon-agnostic)"},
      {"powercap", "the same carbon threshold picks the mode; mapping (GPU) and variants (best) fixed"},
      {"clover", "variants by simulated annealing on lambda*carbon - (1-lambda)*accuracy; highest mode, GPU"},
      {"perfect-predictor", "ecomap's rules with the simulator as predictor and a longer search (not a bound)"},
  };
  for (const Row& r : rows) std::printf("%-11s %s\n", r.name, r.what);
}

void AddPolicyCommands(CLI::App& app) {
  auto* policy = app.add_subcommand("policy", "Controllers and workload scenarios (see also: ecomap replay)");
  policy->require_subcommand(1);

  static ScenarioArgs sa;
  auto* sc = policy->add_subcommand("scenario", "Check a scenario file (TOML) and print its tenants and hourly rates");
  sc->add_option("file", sa.path, "scenario TOML (default: data/scenarios/default.toml; format: policy/scenario.h)");
  sc->add_flag("--json", sa.json, "print the parsed scenario as JSON");
  sc->add_flag("--no-check", sa.no_check, "skip the impossible-SLO check (xavier-sim)");
  sc->callback([] { RunScenario(sa); });

  auto* ctl = policy->add_subcommand("controllers", "List the controllers that replay and serve accept");
  ctl->callback([] { RunControllers(); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(85, AddPolicyCommands);

}  // namespace ecomap::app
