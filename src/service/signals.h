// service/signals.h: the daemon's signal handling, synchronous (sigtimedwait), no handlers.
//
//   BlockServeSignals();            // FIRST, before any thread starts (threads inherit the mask)
//   ... daemon->Start() ...
//   ServeExit e = RunUntilSignal(*daemon, reload, std::nullopt, &std::cerr);
//   daemon->Stop();
//
// SIGTERM / SIGINT: return (the caller stops the daemon: the interval in progress is measured
// and committed, the engine drains). SIGHUP: `reload()` re-reads the config and the daemon
// applies it (Daemon::Reload); an invalid file is reported and the running config is kept.
//
// Thread-safety: call from one thread (the main thread).
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>

#include "core/status.h"
#include "core/time.h"
#include "service/config.h"

namespace ecomap::service {

class Daemon;

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and so in threads it starts later).
void BlockServeSignals();

enum class ServeExit { kSignal, kTimeLimit };

struct SignalLoopResult {
  ServeExit exit = ServeExit::kSignal;
  int signal = 0;       // the signal that ended it
  int reloads = 0;      // SIGHUPs handled
};

// Waits for signals until SIGTERM/SIGINT or `time_limit` (wall, steady clock).
SignalLoopResult RunUntilSignal(Daemon& daemon, const std::function<StatusOr<ServeConfig>()>& reload,
                                std::optional<Duration> time_limit, std::ostream* log);

}  // namespace ecomap::service
