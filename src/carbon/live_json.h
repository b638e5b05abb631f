// carbon/live_json.h: helpers shared by the live carbon-intensity clients.
//
// Parsing a provider's JSON body with errors that name the provider, the request and the
// problem ("Electricity Maps latest: missing key 'carbonIntensity'"), staleness marking, and
// selecting a forecast window.
//
//   ECOMAP_ASSIGN_OR_RETURN(nlohmann::json j, ParseProviderJson(body, "UK Carbon Intensity /intensity"));
//   ECOMAP_ASSIGN_OR_RETURN(double v, NumberAt(j, "intensity", "forecast", what));
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "carbon/source.h"

namespace ecomap::carbon {

// Parses `body` as JSON; on failure InvalidArgument "<what>: response is not valid JSON (...)".
// A top-level object holding an "error" (or "message" without data) key fails with that text.
StatusOr<nlohmann::json> ParseProviderJson(const std::string& body, const std::string& what);

// The member `key` of object `obj`; InvalidArgument naming `what` and the key when absent or when
// `obj` is not an object.
StatusOr<const nlohmann::json*> Member(const nlohmann::json& obj, const std::string& key,
                                       const std::string& what);
// A finite, non-negative number at obj[key]; null, strings and negatives fail with InvalidArgument.
StatusOr<double> NumberMember(const nlohmann::json& obj, const std::string& key, const std::string& what);
// A timestamp string at obj[key], parsed with ParseTimestamp.
StatusOr<TimePoint> TimeMember(const nlohmann::json& obj, const std::string& key, const std::string& what);
// A string at obj[key].
StatusOr<std::string> StringMember(const nlohmann::json& obj, const std::string& key,
                                   const std::string& what);

// Sets r.stale (and appends the age to r.note) when `now - r.time > max_age`. Never clears
// stale; a reading already stale is left as it is (its note already says why).
void MarkStaleIfOlder(CarbonReading& r, TimePoint now, Duration max_age);

// The reading in force at `now` among `sorted` (oldest first): the last one whose time is
// <= now, provided now is before its end (the next reading's time, or time + the last spacing
// for the final one; `default_period` when there is a single reading). nullptr when none.
const CarbonReading* InForceAt(const std::vector<CarbonReading>& sorted, TimePoint now,
                               Duration default_period);

// The readings of `sorted` relevant to [now, now + horizon]: the one in force at `now` (if any)
// then every later one with time <= now + horizon.
std::vector<CarbonReading> WindowOf(const std::vector<CarbonReading>& sorted, TimePoint now, Duration horizon,
                                    Duration default_period);

// "2h05m" / "12m" / "40s" for notes.
std::string FormatAge(Duration d);

}  // namespace ecomap::carbon
