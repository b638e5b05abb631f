// core/time.h: UTC timestamps, ISO-8601 parsing/formatting, and an injectable clock.
//
// Code that reads the time takes a Clock&, so the replay evaluator and tests run the very same
// code on simulated time (ManualClock) that the daemon runs on the wall clock (SystemClock).
//
//   StatusOr<TimePoint> t = ParseTimestamp("2022-01-01 00:00:00");  // UTC
//   std::string s = FormatIso8601(*t);                               // "2022-01-01T00:00:00Z"
//
// Thread-safety: SystemClock is thread-safe; ManualClock is thread-safe (atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ecomap {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;  // UTC, ms resolution
using Duration = std::chrono::milliseconds;

// Accepts "YYYY-MM-DD HH:MM[:SS[.fff]]" and "YYYY-MM-DDTHH:MM[:SS[.fff]]" with an optional
// "Z" or "+HH:MM"/"-HH:MM" offset (no offset means UTC), and a bare "YYYY-MM-DD" (midnight UTC).
// Fails with InvalidArgument naming the text on anything else, including impossible dates.
StatusOr<TimePoint> ParseTimestamp(std::string_view text);

// "YYYY-MM-DDTHH:MM:SSZ" (milliseconds appended only when non-zero).
std::string FormatIso8601(TimePoint t);
// "YYYY-MM-DD HH:MM" for tables and plot axes.
std::string FormatShort(TimePoint t);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  static SystemClock& Instance();
};

// A clock that moves only when told: for tests and replays.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_ms_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(Duration(now_ms_.load())); }
  void Advance(Duration d) { now_ms_ += d.count(); }
  void Set(TimePoint t) { now_ms_ = t.time_since_epoch().count(); }

 private:
  std::atomic<long long> now_ms_;
};

}  // namespace ecomap
