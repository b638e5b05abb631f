// The `ecomap` command-line program: one binary, one subcommand group per part.
#include <CLI/CLI.hpp>
#include <algorithm>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
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
#if defined(__GLIBC__)
  // The mapping and LA-MCTS searches allocate and free large temporaries on every proposal
  // (kernel matrices of 512 candidates x 150 points); glibc gave the heap's top back to the
  // system after each and the next proposal paid the page faults again: 8% of LA-MCTS's CPU time
  // at 500 evaluations (ecomap search bench, Ackley-20: 0.96 -> 0.88 ms per evaluation). Growing
  // the heap with a 64 MB pad keeps that memory mapped; only touched pages count as resident.
  // Setting the pad turns off glibc's dynamic mmap threshold, so the threshold is set to that
  // adjustment's own ceiling (32 MB): tensors below it come from the heap, as they did once the
  // dynamic threshold had risen.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
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
