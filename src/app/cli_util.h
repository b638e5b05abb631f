// app/cli_util.h: small helpers shared by the command implementations of the `ecomap` program.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "core/status.h"

namespace ecomap::app {

// Prints "ecomap: error: <message>" on stderr and ends the command with exit code `code`.
[[noreturn]] inline void Fail(const std::string& message, int code = 1) {
  std::cerr << "ecomap: error: " << message << "\n";
  throw CLI::RuntimeError(code);
}
[[noreturn]] inline void Fail(const Status& status, int code = 1) { Fail(status.message(), code); }

// Unwraps a StatusOr or ends the command with its error.
template <typename T>
T OrFail(StatusOr<T> v) {
  if (!v.ok()) Fail(v.status());
  return std::move(v).value();
}
inline void OrFail(const Status& s) {
  if (!s.ok()) Fail(s);
}

}  // namespace ecomap::app
