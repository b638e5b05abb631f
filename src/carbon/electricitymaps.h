// carbon/electricitymaps.h: the Electricity Maps v3 API as a CarbonSource.
//
// Endpoints (header `auth-token: <token>`; zone=Z or lat=..&lon=..):
//   GET /v3/carbon-intensity/latest   -> {"zone","carbonIntensity","datetime","isEstimated",...}
//   GET /v3/carbon-intensity/history  -> {"zone","history":[ same objects, last 24 h ]}
//   GET /v3/carbon-intensity/forecast -> {"zone","updatedAt","forecast":[{"datetime","carbonIntensity"}]}
// Latest() returns the latest reading, stale when its datetime is older than `max_age`.
//
//   ElectricityMapsOptions o;
//   o.token = *env_token; o.zone = "ES";
//   ECOMAP_ASSIGN_OR_RETURN(auto em, ElectricityMapsSource::Create(o));
//   StatusOr<CarbonReading> r = em->Latest(clock.Now());
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

struct ElectricityMapsOptions {
  std::string base_url = "https://api.electricitymap.org";  // no trailing path
  std::string token;                         // API token (from the environment or the config file)
  std::string zone;                          // e.g. "ES", "US-CAL-CISO"; or set lat/lon
  std::optional<double> lat, lon;            // degrees, used when zone is empty
  std::string emission_factor_type;          // "", "lifecycle" or "direct" (empty: the account's default)
  Duration max_age = std::chrono::hours(2);  // older latest readings are marked stale
  HttpOptions http;
};

class ElectricityMapsSource final : public CarbonSource {
 public:
  // Validates the options (token present, zone or lat/lon, known emission factor type).
  static StatusOr<std::unique_ptr<ElectricityMapsSource>> Create(ElectricityMapsOptions options);

  // "electricitymaps:<zone>" (or "electricitymaps:<lat>,<lon>").
  std::string Name() const override;
  StatusOr<CarbonReading> Latest(TimePoint now) override;
  // The provider's forecast, window [now, now + horizon]; readings have forecast=true.
  StatusOr<std::vector<CarbonReading>> Forecast(TimePoint now, Duration horizon) override;
  // The last 24 hours as the provider publishes them, oldest first.
  StatusOr<std::vector<CarbonReading>> History();

 private:
  explicit ElectricityMapsSource(ElectricityMapsOptions options);
  StatusOr<std::string> Fetch(const std::string& endpoint);

  ElectricityMapsOptions options_;
  HttpClient http_;
};

// Parsers of the three bodies (exposed for tests). `source` goes into each reading.
StatusOr<CarbonReading> ParseElectricityMapsLatest(const std::string& body, const std::string& source);
StatusOr<std::vector<CarbonReading>> ParseElectricityMapsHistory(const std::string& body,
                                                                 const std::string& source);
StatusOr<std::vector<CarbonReading>> ParseElectricityMapsForecast(const std::string& body,
                                                                  const std::string& source);

}  // namespace ecomap::carbon
