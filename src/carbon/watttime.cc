#include "carbon/watttime.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "carbon/live_json.h"

namespace ecomap::carbon {
namespace {
constexpr const char* kProvider = "WattTime";
}  // namespace

StatusOr<std::string> ParseWattTimeLogin(const std::string& body) {
  const std::string what = std::string(kProvider) + " login";
  ECOMAP_ASSIGN_OR_RETURN(nlohmann::json j, ParseProviderJson(body, what));
  ECOMAP_ASSIGN_OR_RETURN(std::string token, StringMember(j, "token", what));
  if (token.empty()) return InvalidArgument(what + ": empty token");
  return token;
}

StatusOr<WattTimeForecast> ParseWattTimeForecast(const std::string& body, const std::string& source) {
  const std::string what = std::string(kProvider) + " forecast";
  ECOMAP_ASSIGN_OR_RETURN(nlohmann::json j, ParseProviderJson(body, what));
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* meta, Member(j, "meta", what));
  ECOMAP_ASSIGN_OR_RETURN(std::string units, StringMember(*meta, "units", what + " meta"));
  double factor_to_g_per_kwh = 0;
  if (units == "lbs_co2_per_mwh") {
    factor_to_g_per_kwh = FromLbsPerMwh(1.0).value();
  } else if (units == "g_co2_per_kwh" || units == "kg_co2_per_mwh") {
    factor_to_g_per_kwh = 1.0;
  } else {
    return InvalidArgument(what + ": unsupported units '" + units +
                           "' (expected lbs_co2_per_mwh; is signal_type co2_moer?)");
  }
  WattTimeForecast f;
  ECOMAP_ASSIGN_OR_RETURN(double period_s, NumberMember(*meta, "data_point_period_seconds", what + " meta"));
  if (period_s < 1 || period_s > 86400) {
    return InvalidArgument(what + ": data_point_period_seconds " + std::to_string(period_s) +
                           " is out of range");
  }
  f.period = Duration(static_cast<long long>(std::llround(period_s * 1000)));
  if (meta->contains("generated_at")) {
    ECOMAP_ASSIGN_OR_RETURN(f.generated_at, TimeMember(*meta, "generated_at", what + " meta"));
  }
  ECOMAP_ASSIGN_OR_RETURN(const nlohmann::json* data, Member(j, "data", what));
  if (!data->is_array()) return InvalidArgument(what + ": 'data' is not an array");
  for (size_t i = 0; i < data->size(); ++i) {
    const std::string item = what + " data[" + std::to_string(i) + "]";
    CarbonReading r;
    ECOMAP_ASSIGN_OR_RETURN(r.time, TimeMember((*data)[i], "point_time", item));
    ECOMAP_ASSIGN_OR_RETURN(double v, NumberMember((*data)[i], "value", item));
    r.intensity = GramsPerKwh(v * factor_to_g_per_kwh);
    r.source = source;
    r.forecast = true;
    if (!f.points.empty() && r.time <= f.points.back().time) {
      return InvalidArgument(item + ": point_time " + FormatIso8601(r.time) +
                             " is not after the previous one");
    }
    f.points.push_back(std::move(r));
  }
  if (f.points.empty()) return Unavailable(what + ": 'data' holds no points");
  return f;
}

StatusOr<std::unique_ptr<WattTimeSource>> WattTimeSource::Create(WattTimeOptions o) {
  if (o.username.empty() || o.password.empty()) {
    return Unauthenticated(
        "WattTime needs a login: set the environment variables ECOMAP_WATTTIME_USERNAME and "
        "ECOMAP_WATTTIME_PASSWORD, or `username` and `password` under [carbon.watttime] in the config file");
  }
  if (o.region.empty()) {
    return InvalidArgument(
        "WattTime needs a region (e.g. --region CAISO_NORTH, or `region` under [carbon.watttime])");
  }
  if (o.signal_type != "co2_moer") {
    return InvalidArgument("WattTime: signal_type '" + o.signal_type + "' is not supported; use co2_moer");
  }
  if (o.base_url.empty()) return InvalidArgument("WattTime: empty base URL");
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  return std::unique_ptr<WattTimeSource>(new WattTimeSource(std::move(o)));
}

WattTimeSource::WattTimeSource(WattTimeOptions options)
    : options_(std::move(options)), http_(options_.http) {}

std::string WattTimeSource::Name() const { return "watttime:" + options_.region; }

Status WattTimeSource::Login(TimePoint now) {
  HttpRequest req{options_.base_url + "/login", {}, BasicAuth{options_.username, options_.password}};
  StatusOr<HttpResponse> resp = http_.Get(req);
  ++logins_;
  if (!resp.ok()) {
    Status s = resp.status().WithContext(std::string(kProvider) + " login");
    if (s.code() == StatusCode::kUnauthenticated || s.code() == StatusCode::kPermissionDenied) {
      return Status(s.code(), s.message() + " (check ECOMAP_WATTTIME_USERNAME / ECOMAP_WATTTIME_PASSWORD)");
    }
    return s;
  }
  ECOMAP_ASSIGN_OR_RETURN(token_, ParseWattTimeLogin(resp->body));
  token_time_ = now;
  return Status::Ok();
}

StatusOr<WattTimeForecast> WattTimeSource::FetchForecast(TimePoint now, int horizon_hours) {
  if (token_.empty() || now - token_time_ > options_.token_lifetime || now < token_time_) {
    ECOMAP_RETURN_IF_ERROR(Login(now));
  }
  std::string url = options_.base_url + "/v3/forecast?region=" + UrlEncode(options_.region) +
                    "&signal_type=" + options_.signal_type +
                    "&horizon_hours=" + std::to_string(horizon_hours);
  StatusOr<HttpResponse> resp = Unavailable("not tried");
  for (int round = 0; round < 2; ++round) {
    resp = http_.Get({url, {{"Authorization", "Bearer " + token_}}, std::nullopt});
    if (resp.ok() || resp.status().code() != StatusCode::kUnauthenticated || round == 1) break;
    // The token expired or was revoked: log in again, once.
    ECOMAP_RETURN_IF_ERROR(Login(now));
  }
  if (!resp.ok()) return resp.status().WithContext(std::string(kProvider) + " forecast");
  return ParseWattTimeForecast(resp->body, Name());
}

StatusOr<CarbonReading> WattTimeSource::Latest(TimePoint now) {
  ECOMAP_ASSIGN_OR_RETURN(WattTimeForecast f, FetchForecast(now, 1));
  const CarbonReading* r = InForceAt(f.points, now, f.period);
  if (!r) {
    // A forecast generated a moment after `now` starts just after it: take its first point.
    if (f.points.front().time > now && f.points.front().time - now <= f.period) {
      r = &f.points.front();
    } else {
      return Unavailable(std::string(kProvider) + " forecast: covers " +
                         FormatIso8601(f.points.front().time) + " to " +
                         FormatIso8601(f.points.back().time + f.period) + ", not " + FormatIso8601(now));
    }
  }
  CarbonReading out = *r;
  out.note = "WattTime MOER forecast point";
  if (f.generated_at) {
    out.note += " (generated " + FormatIso8601(*f.generated_at) + ")";
    if (now - *f.generated_at > options_.max_age) {
      out.stale = true;
      out.note += "; forecast is " + FormatAge(now - *f.generated_at) + " old (freshness bound " +
                  FormatAge(options_.max_age) + ")";
    }
  }
  return out;
}

StatusOr<std::vector<CarbonReading>> WattTimeSource::Forecast(TimePoint now, Duration horizon) {
  int hours = static_cast<int>(std::clamp<long long>((horizon.count() + 3599999) / 3600000, 1, 72));
  ECOMAP_ASSIGN_OR_RETURN(WattTimeForecast f, FetchForecast(now, hours));
  std::vector<CarbonReading> w = WindowOf(f.points, now, horizon, f.period);
  if (w.empty()) {
    return Unavailable(std::string(kProvider) + " forecast: covers " + FormatIso8601(f.points.front().time) +
                       " to " + FormatIso8601(f.points.back().time + f.period) + ", not " +
                       FormatIso8601(now));
  }
  return w;
}

}  // namespace ecomap::carbon
