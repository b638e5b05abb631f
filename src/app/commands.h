// app/commands.h: how each part adds its subcommands to the `ecomap` program.
//
// Every part has one file app/<part>_commands.cc that parses flags, calls the part's public
// interface and prints. It registers itself at static-initialisation time:
//
//   static void AddZooCommands(CLI::App& app) { auto* zoo = app.add_subcommand("zoo", "..."); ... }
//   ECOMAP_REGISTER_COMMANDS(30, AddZooCommands);
//
// The number orders the groups in `ecomap --help`. app/CMakeLists.txt compiles the file of every
// part whose library is built (e.g. torch parts are left out of the sanitizer build).
#pragma once

#include <CLI/CLI.hpp>

namespace ecomap::app {

using CommandAdder = void (*)(CLI::App&);

struct CommandRegistration {
  CommandRegistration(int order, CommandAdder adder);
};

// Adds every registered group to `app`, in order.
void AddAllCommands(CLI::App& app);

}  // namespace ecomap::app

#define ECOMAP_REGISTER_COMMANDS(order, adder) \
  static const ::ecomap::app::CommandRegistration ecomap_commands_registration_##adder(order, adder)
