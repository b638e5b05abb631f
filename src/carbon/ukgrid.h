// carbon/ukgrid.h: the UK National Grid ESO Carbon Intensity API (no key) as a CarbonSource.
//
//   GET /intensity               -> {"data":[{"from","to","intensity":{"forecast","actual","index"}}]}
//   GET /intensity/{from}/fw24h  -> the same shape, 48 half-hours from `from` (forecast)
// `actual` is null until the half-hour has been measured; then the reading carries the
// forecast value, forecast=true, and a note saying so. Times are "2020-05-24T20:30Z" (UTC).
//
//   ECOMAP_ASSIGN_OR_RETURN(auto uk, UkGridSource::Create({}));
//   StatusOr<CarbonReading> r = uk->Latest(clock.Now());
//
// Thread-safety: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "carbon/http_client.h"
#include "carbon/source.h"

namespace ecomap::carbon {

struct UkGridOptions {
  std::string base_url = "https://api.carbonintensity.org.uk";
  Duration max_age = std::chrono::hours(1);  // readings whose period started longer ago are stale
  HttpOptions http;
};

class UkGridSource final : public CarbonSource {
 public:
  static StatusOr<std::unique_ptr<UkGridSource>> Create(UkGridOptions options);

  std::string Name() const override { return "ukgrid:GB"; }
  StatusOr<CarbonReading> Latest(TimePoint now) override;
  StatusOr<std::vector<CarbonReading>> Forecast(TimePoint now, Duration horizon) override;

 private:
  explicit UkGridSource(UkGridOptions options);
  UkGridOptions options_;
  HttpClient http_;
};

// Parses an /intensity body: one reading per entry, oldest first (exposed for tests).
StatusOr<std::vector<CarbonReading>> ParseUkGridIntensity(const std::string& body, const std::string& source);
// "2020-05-24T20:30Z": the API's path timestamp format.
std::string FormatUkGridTime(TimePoint t);

}  // namespace ecomap::carbon
