#include "core/time.h"

#include <cctype>

#include <fmt/format.h>

namespace ecomap {
namespace {

// Reads exactly `n` digits at `pos`; advances pos. Returns -1 when they are not digits.
int ReadDigits(std::string_view s, size_t& pos, int n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

StatusOr<TimePoint> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  auto bad = [&](const char* why) {
    return InvalidArgument("bad timestamp '" + std::string(text) + "': " + why +
                           " (expected e.g. 2022-01-01 00:00:00 or 2022-01-01T00:00:00Z)");
  };
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  size_t pos = 0;
  int y = ReadDigits(s, pos, 4);
  if (y < 0 || !Expect(s, pos, '-')) return bad("no year");
  int mo = ReadDigits(s, pos, 2);
  if (mo < 0 || !Expect(s, pos, '-')) return bad("no month");
  int d = ReadDigits(s, pos, 2);
  if (d < 0) return bad("no day");
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad("no such date");
  int h = 0, mi = 0, sec = 0, ms = 0, offset_min = 0;
  if (pos < s.size()) {
    if (!(Expect(s, pos, 'T') || Expect(s, pos, ' '))) return bad("expected 'T' or ' ' after the date");
    h = ReadDigits(s, pos, 2);
    if (h < 0 || !Expect(s, pos, ':')) return bad("no hour");
    mi = ReadDigits(s, pos, 2);
    if (mi < 0) return bad("no minute");
    if (Expect(s, pos, ':')) {
      sec = ReadDigits(s, pos, 2);
      if (sec < 0) return bad("no second");
      if (Expect(s, pos, '.')) {
        int digits = 0;
        int frac = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
          if (digits < 3) frac = frac * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return bad("empty fraction of a second");
        for (int i = digits; i < 3; ++i) frac *= 10;
        ms = frac;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return bad("time of day out of range");
    if (pos < s.size()) {
      if (Expect(s, pos, 'Z') || Expect(s, pos, 'z')) {
      } else if (s[pos] == '+' || s[pos] == '-') {
        int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = ReadDigits(s, pos, 2);
        Expect(s, pos, ':');
        int om = ReadDigits(s, pos, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59) return bad("bad UTC offset");
        offset_min = sign * (oh * 60 + om);
      } else {
        return bad("unexpected text after the time");
      }
    }
    if (pos != s.size()) return bad("unexpected text at the end");
  }
  TimePoint t = time_point_cast<milliseconds>(sys_days(ymd)) + hours(h) + minutes(mi) + seconds(sec) +
                milliseconds(ms) - minutes(offset_min);
  return t;
}

std::string FormatIso8601(TimePoint t) {
  using namespace std::chrono;
  auto day_point = floor<days>(t);
  year_month_day ymd(day_point);
  hh_mm_ss<milliseconds> tod(t - day_point);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                static_cast<long long>(tod.hours().count()), static_cast<long long>(tod.minutes().count()),
                                static_cast<long long>(tod.seconds().count()));
  const long long ms = tod.subseconds().count();
  if (ms != 0) out += fmt::format(".{:03}", ms);
  return out + "Z";
}

std::string FormatShort(TimePoint t) {
  std::string iso = FormatIso8601(t);
  return iso.substr(0, 10) + " " + iso.substr(11, 5);
}

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace ecomap
