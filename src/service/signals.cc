#include "service/signals.h"

#include <signal.h>

#include <chrono>
#include <ctime>
#include <ostream>

#include "service/daemon.h"

namespace ecomap::service {
namespace {

sigset_t ServeSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void BlockServeSignals() {
  sigset_t set = ServeSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalLoopResult RunUntilSignal(Daemon& daemon, const std::function<StatusOr<ServeConfig>()>& reload,
                                std::optional<Duration> time_limit, std::ostream* log) {
  SignalLoopResult r;
  sigset_t set = ServeSet();
  auto start = std::chrono::steady_clock::now();
  while (true) {
    if (time_limit && std::chrono::steady_clock::now() - start >= *time_limit) {
      r.exit = ServeExit::kTimeLimit;
      return r;
    }
    timespec ts{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig < 0) continue;  // timeout or EINTR
    if (sig == SIGHUP) {
      ++r.reloads;
      StatusOr<ServeConfig> c = reload ? reload() : StatusOr<ServeConfig>(Unimplemented("no reload"));
      if (!c.ok()) {
        if (log) *log << "SIGHUP: config not reloaded: " << c.status().message() << " (keeping the running one)\n";
        continue;
      }
      StatusOr<std::string> applied = daemon.Reload(*c);
      if (log) {
        if (!applied.ok()) *log << "SIGHUP: " << applied.status().message() << "\n";
        else *log << "SIGHUP: config reloaded (" << c->tenants.size() << " tenants)"
                  << (applied->empty() ? "" : "; restart to apply: " + *applied) << "\n";
      }
      continue;
    }
    r.signal = sig;
    r.exit = ServeExit::kSignal;
    return r;
  }
}

}  // namespace ecomap::service
