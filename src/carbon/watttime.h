// carbon/watttime.h: the WattTime v3 API as a CarbonSource (marginal operating emissions rate).
//
//   GET /login  (HTTP Basic username:password) -> {"token": "..."}; later calls send
//               `Authorization: Bearer <token>`. The token is reused until it is 25 minutes old
//               (WattTime's tokens last 30) and refreshed once when a call answers 401.
//   GET /v3/forecast?region=R&signal_type=co2_moer[&horizon_hours=H]
//     -> {"data":[{"point_time","value"}],"meta":{"data_point_period_seconds","units":"lbs_co2_per_mwh",...}}
// Values in lbs CO2/MWh are converted to gCO2/kWh (units.h FromLbsPerMwh). Latest() is the
// forecast point in force at `now` (forecast=true: WattTime's current value is the first point
// of its forecast), stale when the forecast was generated more than `max_age` ago.
//
//   WattTimeOptions o; o.username = ...; o.password = ...; o.region = "CAISO_NORTH";
//   ECOMAP_ASSIGN_OR_RETURN(auto wt, WattTimeSource::Create(o));
//
// Thread-safety: one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbon/http_client.h"
#include "carbon/source.h"

namespace ecomap::carbon {

struct WattTimeOptions {
  std::string base_url = "https://api.watttime.org";
  std::string username;
  std::string password;
  std::string region;                           // e.g. "CAISO_NORTH"
  std::string signal_type = "co2_moer";         // only co2_moer is supported
  Duration max_age = std::chrono::minutes(30);  // a forecast generated longer ago is stale
  Duration token_lifetime = std::chrono::minutes(25);
  HttpOptions http;
};

struct WattTimeForecast {
  std::vector<CarbonReading> points;  // gCO2/kWh, oldest first, forecast=true
  Duration period{300000};            // data_point_period_seconds
  std::optional<TimePoint> generated_at;
};

class WattTimeSource final : public CarbonSource {
 public:
  static StatusOr<std::unique_ptr<WattTimeSource>> Create(WattTimeOptions options);

  std::string Name() const override;  // "watttime:<region>"
  StatusOr<CarbonReading> Latest(TimePoint now) override;
  StatusOr<std::vector<CarbonReading>> Forecast(TimePoint now, Duration horizon) override;

  int logins() const { return logins_; }  // how many times it logged in (for tests and logs)

 private:
  explicit WattTimeSource(WattTimeOptions options);
  Status Login(TimePoint now);
  StatusOr<WattTimeForecast> FetchForecast(TimePoint now, int horizon_hours);

  WattTimeOptions options_;
  HttpClient http_;
  std::string token_;
  TimePoint token_time_{};
  int logins_ = 0;
};

// Parsers (exposed for tests).
StatusOr<std::string> ParseWattTimeLogin(const std::string& body);
StatusOr<WattTimeForecast> ParseWattTimeForecast(const std::string& body, const std::string& source);

}  // namespace ecomap::carbon
