// The `ecomap` command-line program: one binary, one subcommand group per part.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

#include "app/commands.h"

namespace ecomap::app {
namespace {
std::vector<std::pair<int, CommandAdder>>& Registry() {
  static std::vector<std::pair<int, CommandAdder>> registry;
  return registry;
}
}  // namespace

CommandRegistration::CommandRegistration(int order, CommandAdder adder) {
  Registry().emplace_back(order, adder);
}

void AddAllCommands(CLI::App& app) {
  auto entries = Registry();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, adder] : entries) adder(app);
}

}  // namespace ecomap::app

int main(int argc, char** argv) {
  CLI::App app{
      "Ecomap: carbon-aware mapping of multi-tenant DNN inference on edge devices.\n"
      "Follows the grid's carbon intensity, sets the device's power threshold from it and maps\n"
      "every tenant's DNN onto the compute units under that threshold.",
      "ecomap"};
  app.set_version_flag("--version", "ecomap " ECOMAP_VERSION);
  app.require_subcommand(1);

  ecomap::app::AddAllCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  }
  return 0;
}
