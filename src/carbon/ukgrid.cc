#include "carbon/ukgrid.h"

#include <nlohmann/json.hpp>

#include "carbon/live_json.h"

namespace ecomap::carbon {
namespace {
constexpr const char* kProvider = "UK Carbon Intensity";
constexpr Duration kHalfHour = std::chrono::minutes(30);
}  // namespace

std::string FormatUkGridTime(TimePoint t) {
  std::string s = FormatIso8601(std::chrono::floor<std::chrono::minutes>(t));  // "YYYY-MM-DDTHH:MM:SSZ"
  return s.substr(0, 16) + "Z";
}

StatusOr<std::vector<CarbonReading>> ParseUkGridIntensity(const std::string& body,
                                                          const std::string& source) {
  const std::string what = std::string(kProvider) + " intensity";
  ECOMAP_ASSIGN_OR_RETURN(nlohmann::json j, ParseProviderJson(body, what));
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* data, Member(j, "data", what));
  if (!data->is_array()) return InvalidArgument(what + ": 'data' is not an array");
  std::vector<CarbonReading> out;
  for (size_t i = 0; i < data->size(); ++i) {
    const std::string item = what + " data[" + std::to_string(i) + "]";
    const nlohmann::json& e = (*data)[i];
    CarbonReading r;
    r.source = source;
    ECOMAP_ASSIGN_OR_RETURN(r.time, TimeMember(e, "from", item));
    ECOMAP_ASSIGN_OR_RETURN(TimePoint to, TimeMember(e, "to", item));
    if (to <= r.time) return InvalidArgument(item + ": 'to' is not after 'from'");
    ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* in, Member(e, "intensity", item));
    const std::string in_what = item + " intensity";
    ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* actual, Member(*in, "actual", in_what));
    if (actual->is_null()) {
      ECOMAP_ASSIGN_OR_RETURN(double fc, NumberMember(*in, "forecast", in_what));
      r.intensity = GramsPerKwh(fc);
      r.forecast = true;
      r.note = "actual not yet published; provider's forecast for this half-hour";
    } else {
      ECOMAP_ASSIGN_OR_RETURN(double act, NumberMember(*in, "actual", in_what));
      r.intensity = GramsPerKwh(act);
    }
    if (!out.empty() && r.time <= out.back().time) {
      return InvalidArgument(item + ": 'from' " + FormatIso8601(r.time) + " is not after the previous one");
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) return Unavailable(what + ": 'data' holds no entries");
  return out;
}

StatusOr<std::unique_ptr<UkGridSource>> UkGridSource::Create(UkGridOptions o) {
  if (o.base_url.empty()) return InvalidArgument("UK Carbon Intensity: empty base URL");
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  return std::unique_ptr<UkGridSource>(new UkGridSource(std::move(o)));
}

UkGridSource::UkGridSource(UkGridOptions options) : options_(std::move(options)), http_(options_.http) {}

StatusOr<CarbonReading> UkGridSource::Latest(TimePoint now) {
  StatusOr<HttpResponse> resp = http_.Get({options_.base_url + "/intensity", {}, std::nullopt});
  if (!resp.ok()) return resp.status().WithContext(std::string(kProvider) + " intensity");
  ECOMAP_ASSIGN_OR_RETURN(std::vector<CarbonReading> rs, ParseUkGridIntensity(resp->body, Name()));
  CarbonReading r = rs.back();
  MarkStaleIfOlder(r, now, options_.max_age);
  return r;
}

StatusOr<std::vector<CarbonReading>> UkGridSource::Forecast(TimePoint now, Duration horizon) {
  std::string url = options_.base_url + "/intensity/" + FormatUkGridTime(now) + "/fw24h";
  StatusOr<HttpResponse> resp = http_.Get({url, {}, std::nullopt});
  if (!resp.ok()) return resp.status().WithContext(std::string(kProvider) + " forecast");
  ECOMAP_ASSIGN_OR_RETURN(std::vector<CarbonReading> rs, ParseUkGridIntensity(resp->body, Name()));
  for (auto& r : rs) {
    if (r.time > now) {
      r.forecast = true;
      if (r.note.empty()) r.note = "provider's forecast";
    }
  }
  std::vector<CarbonReading> w = WindowOf(rs, now, horizon, kHalfHour);
  if (w.empty()) {
    return Unavailable(std::string(kProvider) + " forecast: covers " + FormatIso8601(rs.front().time) +
                       " to " + FormatIso8601(rs.back().time) + ", not " + FormatIso8601(now));
  }
  return w;
}

}  // namespace ecomap::carbon
