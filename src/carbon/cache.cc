#include "carbon/cache.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "carbon/live_json.h"
#include "core/file.h"

namespace ecomap::carbon {
namespace {

nlohmann::json ReadingToJson(const CarbonReading& r) {
  return {{"time", FormatIso8601(r.time)},
          {"gco2_per_kwh", r.intensity.value()},
          {"source", r.source},
          {"stale", r.stale},
          {"forecast", r.forecast},
          {"estimated", r.estimated},
          {"note", r.note}};
}

StatusOr<CarbonReading> ReadingFromJson(const nlohmann::json& j, const std::string& what) {
  CarbonReading r;
  ECOMAP_ASSIGN_OR_RETURN(r.time, TimeMember(j, "time", what));
  ECOMAP_ASSIGN_OR_RETURN(double v, NumberMember(j, "gco2_per_kwh", what));
  r.intensity = GramsPerKwh(v);
  ECOMAP_ASSIGN_OR_RETURN(r.source, StringMember(j, "source", what));
  for (auto [key, field] :
       {std::pair{"stale", &r.stale}, {"forecast", &r.forecast}, {"estimated", &r.estimated}}) {
    ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* b, Member(j, key, what));
    if (!b->is_boolean()) return InvalidArgument(what + ": '" + key + "' is not true/false");
    *field = b->get<bool>();
  }
  ECOMAP_ASSIGN_OR_RETURN(r.note, StringMember(j, "note", what));
  return r;
}

void AppendNote(CarbonReading& r, const std::string& note) {
  r.note = r.note.empty() ? note : r.note + "; " + note;
}

}  // namespace

CachedSource::CachedSource(std::unique_ptr<CarbonSource> inner, const Clock& clock, CacheOptions options)
    : inner_(std::move(inner)), clock_(clock), options_(options) {
  snap_.source = inner_->Name();
}

StatusOr<CarbonReading> CachedSource::Latest(TimePoint now) {
  const TimePoint t = clock_.Now();
  if (snap_.latest && t >= snap_.latest->fetched_at && t - snap_.latest->fetched_at < options_.latest_ttl) {
    CarbonReading r = snap_.latest->reading;
    AppendNote(r, "cached, fetched " + FormatIso8601(snap_.latest->fetched_at));
    MarkStaleIfOlder(r, now, options_.max_age);
    return r;
  }
  ++inner_latest_calls_;
  ECOMAP_ASSIGN_OR_RETURN(CarbonReading r, inner_->Latest(now));
  snap_.latest = CachedLatest{r, t};
  return r;
}

StatusOr<std::vector<CarbonReading>> CachedSource::Forecast(TimePoint now, Duration horizon) {
  const TimePoint t = clock_.Now();
  if (snap_.forecast && t >= snap_.forecast->fetched_at &&
      t - snap_.forecast->fetched_at < options_.forecast_ttl &&
      InForceAt(snap_.forecast->readings, now, std::chrono::hours(1)) != nullptr) {
    // Within its TTL the provider would answer the same: serve the window from the cache.
    return WindowOf(snap_.forecast->readings, now, horizon, std::chrono::hours(1));
  }
  if (forecast_failed_at_ && t >= *forecast_failed_at_) {
    const Duration remember =
        forecast_failure_.code() == StatusCode::kUnimplemented ? options_.forecast_ttl : options_.latest_ttl;
    if (t - *forecast_failed_at_ < remember) {
      return Status(forecast_failure_.code(), forecast_failure_.message() + " (remembered from " +
                                                  FormatIso8601(*forecast_failed_at_) + ")");
    }
  }
  StatusOr<std::vector<CarbonReading>> f = inner_->Forecast(now, horizon);
  if (!f.ok()) {
    forecast_failed_at_ = t;
    forecast_failure_ = f.status();
    return f.status();
  }
  forecast_failed_at_.reset();
  snap_.forecast = CachedForecast{*f, t};
  return f;
}

Status CachedSource::Restore(CacheSnapshot snapshot) {
  if (snapshot.source != inner_->Name()) {
    return InvalidArgument("cache holds readings of '" + snapshot.source + "', not of '" + inner_->Name() +
                           "'");
  }
  snap_ = std::move(snapshot);
  return Status::Ok();
}

Status SaveCacheFile(const std::string& path, const CacheSnapshot& s) {
  nlohmann::json j = {{"format", "ecomap-carbon-cache"}, {"version", 1}, {"source", s.source}};
  j["latest"] = nullptr;
  j["forecast"] = nullptr;
  if (s.latest)
    j["latest"] = {{"fetched_at", FormatIso8601(s.latest->fetched_at)},
                   {"reading", ReadingToJson(s.latest->reading)}};
  if (s.forecast) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : s.forecast->readings) arr.push_back(ReadingToJson(r));
    j["forecast"] = {{"fetched_at", FormatIso8601(s.forecast->fetched_at)}, {"readings", arr}};
  }
  // Through a temporary file and a rename, so that a crash never leaves half a cache.
  return WriteFileAtomic(path, j.dump(2) + "\n");
}

StatusOr<CacheSnapshot> LoadCacheFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cache file '" + path + "' does not exist or cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string what = "cache file '" + path + "'";
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return InvalidArgument(what + ": not valid JSON; delete it to start afresh");
  ECOMAP_ASSIGN_OR_RETURN(std::string format, StringMember(j, "format", what));
  if (format != "ecomap-carbon-cache")
    return InvalidArgument(what + ": format is '" + format + "', not ecomap-carbon-cache");
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* version, Member(j, "version", what));
  if (*version != 1)
    return InvalidArgument(what + ": version " + version->dump() + " is not supported (expected 1)");
  CacheSnapshot s;
  ECOMAP_ASSIGN_OR_RETURN(s.source, StringMember(j, "source", what));
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* latest, Member(j, "latest", what));
  if (!latest->is_null()) {
    CachedLatest l;
    ECOMAP_ASSIGN_OR_RETURN(l.fetched_at, TimeMember(*latest, "fetched_at", what + " latest"));
    ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* r, Member(*latest, "reading", what + " latest"));
    ECOMAP_ASSIGN_OR_RETURN(l.reading, ReadingFromJson(*r, what + " latest reading"));
    s.latest = std::move(l);
  }
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* fc, Member(j, "forecast", what));
  if (!fc->is_null()) {
    CachedForecast f;
    ECOMAP_ASSIGN_OR_RETURN(f.fetched_at, TimeMember(*fc, "fetched_at", what + " forecast"));
    ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* arr, Member(*fc, "readings", what + " forecast"));
    if (!arr->is_array()) return InvalidArgument(what + ": forecast readings is not an array");
    for (size_t i = 0; i < arr->size(); ++i) {
      ECOMAP_ASSIGN_OR_RETURN(CarbonReading r,
                              ReadingFromJson((*arr)[i], what + " forecast[" + std::to_string(i) + "]"));
      if (!f.readings.empty() && r.time <= f.readings.back().time) {
        return InvalidArgument(what + ": forecast[" + std::to_string(i) +
                               "] is not after the previous reading");
      }
      f.readings.push_back(std::move(r));
    }
    s.forecast = std::move(f);
  }
  return s;
}

}  // namespace ecomap::carbon
