#include "carbon/live_json.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace ecomap::carbon {

StatusOr<nlohmann::json> ParseProviderJson(const std::string& body, const std::string& what) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    std::string ex = body.substr(0, 80);
    for (char& c : ex) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return InvalidArgument(what + ": response is not valid JSON (starts with '" + ex + "')");
  }
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    return Unavailable(what +
                       ": provider returned an error: " + (e.is_string() ? e.get<std::string>() : e.dump()));
  }
  return j;
}

StatusOr<const nlohmann::json*> Member(const nlohmann::json& obj, const std::string& key,
                                       const std::string& what) {
  if (!obj.is_object())
    return InvalidArgument(what + ": expected a JSON object holding '" + key + "', got " + obj.type_name());
  auto it = obj.find(key);
  if (it == obj.end()) return InvalidArgument(what + ": missing key '" + key + "'");
  return &*it;
}

StatusOr<double> NumberMember(const nlohmann::json& obj, const std::string& key, const std::string& what) {
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* v, Member(obj, key, what));
  if (v->is_null()) return InvalidArgument(what + ": '" + key + "' is null (no value published)");
  if (!v->is_number()) return InvalidArgument(what + ": '" + key + "' is not a number: " + v->dump());
  double d = v->get<double>();
  if (!std::isfinite(d) || d < 0)
    return InvalidArgument(what + ": '" + key + "' is negative or not finite: " + v->dump());
  return d;
}

StatusOr<std::string> StringMember(const nlohmann::json& obj, const std::string& key,
                                   const std::string& what) {
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* v, Member(obj, key, what));
  if (!v->is_string()) return InvalidArgument(what + ": '" + key + "' is not a string: " + v->dump());
  return v->get<std::string>();
}

StatusOr<TimePoint> TimeMember(const nlohmann::json& obj, const std::string& key, const std::string& what) {
  ECOMAP_ASSIGN_OR_RETURN(std::string s, StringMember(obj, key, what));
  StatusOr<TimePoint> t = ParseTimestamp(s);
  if (!t.ok()) return InvalidArgument(what + ": '" + key + "': " + t.status().message());
  return *t;
}

std::string FormatAge(Duration d) {
  long long s = d.count() / 1000;
  bool neg = s < 0;
  if (neg) s = -s;
  std::string out;
  if (s >= 3600) {
    out = std::to_string(s / 3600) + "h" + (s % 3600 / 60 < 10 ? "0" : "") + std::to_string(s % 3600 / 60) +
          "m";
  } else if (s >= 60) {
    out = std::to_string(s / 60) + "m";
  } else {
    out = std::to_string(s) + "s";
  }
  return neg ? "-" + out : out;
}

void MarkStaleIfOlder(CarbonReading& r, TimePoint now, Duration max_age) {
  Duration age = now - r.time;
  if (age > max_age && !r.stale) {
    r.stale = true;
    std::string why = "reading is " + FormatAge(age) + " old (freshness bound " + FormatAge(max_age) + ")";
    r.note = r.note.empty() ? why : r.note + "; " + why;
  }
}

const CarbonReading* InForceAt(const std::vector<CarbonReading>& sorted, TimePoint now,
                               Duration default_period) {
  const CarbonReading* found = nullptr;
  size_t idx = 0;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i].time <= now) {
      found = &sorted[i];
      idx = i;
    } else {
      break;
    }
  }
  if (!found) return nullptr;
  TimePoint end;
  if (idx + 1 < sorted.size()) {
    end = sorted[idx + 1].time;
  } else if (idx > 0) {
    end = found->time + (found->time - sorted[idx - 1].time);
  } else {
    end = found->time + default_period;
  }
  return now < end ? found : nullptr;
}

std::vector<CarbonReading> WindowOf(const std::vector<CarbonReading>& sorted, TimePoint now, Duration horizon,
                                    Duration default_period) {
  std::vector<CarbonReading> out;
  if (const CarbonReading* r = InForceAt(sorted, now, default_period)) out.push_back(*r);
  for (const auto& r : sorted) {
    if (r.time > now && r.time <= now + horizon) out.push_back(r);
  }
  return out;
}

}  // namespace ecomap::carbon
