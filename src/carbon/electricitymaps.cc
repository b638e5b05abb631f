#include "carbon/electricitymaps.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "carbon/live_json.h"

namespace ecomap::carbon {
namespace {

constexpr const char* kProvider = "Electricity Maps";

// One {"carbonIntensity","datetime",["isEstimated"]} object.
StatusOr<CarbonReading> ReadingOf(const nlohmann::json& o, const std::string& what,
                                  const std::string& source) {
  CarbonReading r;
  ECOMAP_ASSIGN_OR_RETURN(r.time, TimeMember(o, "datetime", what));
  ECOMAP_ASSIGN_OR_RETURN(double ci, NumberMember(o, "carbonIntensity", what));
  r.intensity = GramsPerKwh(ci);
  r.source = source;
  auto est = o.find("isEstimated");
  if (est != o.end() && est->is_boolean()) r.estimated = est->get<bool>();
  return r;
}

StatusOr<std::vector<CarbonReading>> ArrayOf(const std::string& body, const std::string& key,
                                             const std::string& what, const std::string& source,
                                             bool forecast) {
  ECOMAP_ASSIGN_OR_RETURN(nlohmann::json j, ParseProviderJson(body, what));
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* arr, Member(j, key, what));
  if (!arr->is_array()) return InvalidArgument(what + ": '" + key + "' is not an array");
  std::vector<CarbonReading> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string item_what = what + " " + key + "[" + std::to_string(i) + "]";
    const auto& o = (*arr)[i];
    // History entries for hours the provider has no data for carry a null intensity: skip them.
    if (o.is_object() && o.contains("carbonIntensity") && o["carbonIntensity"].is_null() && !forecast)
      continue;
    ECOMAP_ASSIGN_OR_RETURN(CarbonReading r, ReadingOf(o, item_what, source));
    r.forecast = forecast;
    if (!out.empty() && r.time <= out.back().time) {
      return InvalidArgument(item_what + ": datetime " + FormatIso8601(r.time) +
                             " is not after the previous one");
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) return Unavailable(what + ": '" + key + "' holds no readings");
  return out;
}

}  // namespace

StatusOr<CarbonReading> ParseElectricityMapsLatest(const std::string& body, const std::string& source) {
  const std::string what = std::string(kProvider) + " latest";
  ECOMAP_ASSIGN_OR_RETURN(nlohmann::json j, ParseProviderJson(body, what));
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* ci, Member(j, "carbonIntensity", what));
  if (ci->is_null()) {
    return Unavailable(what + ": no carbon intensity published for this zone now (carbonIntensity is null)");
  }
  return ReadingOf(j, what, source);
}

StatusOr<std::vector<CarbonReading>> ParseElectricityMapsHistory(const std::string& body,
                                                                 const std::string& source) {
  return ArrayOf(body, "history", std::string(kProvider) + " history", source, false);
}

StatusOr<std::vector<CarbonReading>> ParseElectricityMapsForecast(const std::string& body,
                                                                  const std::string& source) {
  return ArrayOf(body, "forecast", std::string(kProvider) + " forecast", source, true);
}

StatusOr<std::unique_ptr<ElectricityMapsSource>> ElectricityMapsSource::Create(ElectricityMapsOptions o) {
  if (o.token.empty()) {
    return Unauthenticated(
        "Electricity Maps needs an API token: set the environment variable ECOMAP_ELECTRICITYMAPS_TOKEN "
        "or `token` under [carbon.electricitymaps] in the config file");
  }
  if (o.zone.empty() && !(o.lat && o.lon)) {
    return InvalidArgument(
        "Electricity Maps needs a zone (e.g. --zone ES, or `zone` under "
        "[carbon.electricitymaps]) or both lat and lon");
  }
  if (o.lat && (*o.lat < -90 || *o.lat > 90))
    return InvalidArgument("Electricity Maps: lat " + std::to_string(*o.lat) + " is outside [-90, 90]");
  if (o.lon && (*o.lon < -180 || *o.lon > 180))
    return InvalidArgument("Electricity Maps: lon " + std::to_string(*o.lon) + " is outside [-180, 180]");
  if (!o.emission_factor_type.empty() && o.emission_factor_type != "lifecycle" &&
      o.emission_factor_type != "direct") {
    return InvalidArgument("Electricity Maps: emission factor type '" + o.emission_factor_type +
                           "' is unknown; use 'lifecycle' or 'direct'");
  }
  if (o.base_url.empty()) return InvalidArgument("Electricity Maps: empty base URL");
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  return std::unique_ptr<ElectricityMapsSource>(new ElectricityMapsSource(std::move(o)));
}

ElectricityMapsSource::ElectricityMapsSource(ElectricityMapsOptions options)
    : options_(std::move(options)), http_(options_.http) {}

std::string ElectricityMapsSource::Name() const {
  if (!options_.zone.empty()) return "electricitymaps:" + options_.zone;
  return fmt::format("electricitymaps:{:.4f},{:.4f}", *options_.lat, *options_.lon);
}

StatusOr<std::string> ElectricityMapsSource::Fetch(const std::string& endpoint) {
  std::string url = options_.base_url + "/v3/carbon-intensity/" + endpoint + "?";
  if (!options_.zone.empty()) {
    url += "zone=" + UrlEncode(options_.zone);
  } else {
    url += fmt::format("lat={:.6f}&lon={:.6f}", *options_.lat, *options_.lon);
  }
  if (!options_.emission_factor_type.empty()) url += "&emissionFactorType=" + options_.emission_factor_type;
  HttpRequest req{url, {{"auth-token", options_.token}}, std::nullopt};
  StatusOr<HttpResponse> resp = http_.Get(req);
  if (!resp.ok()) return resp.status().WithContext(std::string(kProvider) + " " + endpoint);
  return std::move(resp->body);
}

StatusOr<CarbonReading> ElectricityMapsSource::Latest(TimePoint now) {
  ECOMAP_ASSIGN_OR_RETURN(std::string body, Fetch("latest"));
  ECOMAP_ASSIGN_OR_RETURN(CarbonReading r, ParseElectricityMapsLatest(body, Name()));
  MarkStaleIfOlder(r, now, options_.max_age);
  return r;
}

StatusOr<std::vector<CarbonReading>> ElectricityMapsSource::Forecast(TimePoint now, Duration horizon) {
  ECOMAP_ASSIGN_OR_RETURN(std::string body, Fetch("forecast"));
  ECOMAP_ASSIGN_OR_RETURN(std::vector<CarbonReading> all, ParseElectricityMapsForecast(body, Name()));
  std::vector<CarbonReading> w = WindowOf(all, now, horizon, std::chrono::hours(1));
  if (w.empty()) {
    return Unavailable(std::string(kProvider) + " forecast: covers " + FormatIso8601(all.front().time) +
                       " to " + FormatIso8601(all.back().time) + ", not " + FormatIso8601(now));
  }
  return w;
}

StatusOr<std::vector<CarbonReading>> ElectricityMapsSource::History() {
  ECOMAP_ASSIGN_OR_RETURN(std::string body, Fetch("history"));
  return ParseElectricityMapsHistory(body, Name());
}

}  // namespace ecomap::carbon
