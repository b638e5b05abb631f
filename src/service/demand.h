// service/demand.h: the demand the daemon plans for, learned from the requests that arrive.
//
// Clients, not the configuration, decide how many requests a tenant gets. After every interval
// the daemon tells the model how many requests arrived for each tenant (admitted or refused:
// a refusal is demand too); before every decision it asks what to expect in the coming interval.
//
// Per tenant the model keeps
//   level    an exponentially smoothed arrival rate over the recent intervals
//            (level += smoothing * (observed - level); the first observation sets it);
//   profile  24 hour-of-day bins (UTC), each an exponentially smoothed rate of the intervals
//            that started in that hour (profile_smoothing), with the number of intervals seen.
// Expect(tenant, at, declared) for an interval starting at `at`:
//   no interval observed yet            -> the declared rate (source "declared"); 0 when none
//   fewer than hint_intervals observed  -> the declared and observed levels blended by the
//                                          share of hint_intervals seen (source "declared+observed")
//                                          (observed level alone when nothing is declared)
//   otherwise                           -> the level (source "observed"), or, when the bin of
//                                          `at`'s hour holds at least min_profile_samples
//                                          intervals, the mean of the level and that bin
//                                          (source "observed+profile"): the level follows the
//                                          last minutes, the bin what this hour brought before.
// The declared rate is a hint for the first intervals only.
//
// Persistence: ToJson / FromJson (format "ecomap.demand" version 1:
//   {"format": "ecomap.demand", "version": 1, "tenants": {NAME: {"level_rps", "intervals",
//    "profile": [{"rate_rps", "samples"} x 24]}}}); the daemon stores it with every committed
// interval, so a restart keeps what was learned.
//
// Thread-safety: none; the daemon calls it under its control mutex.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/time.h"

namespace ecomap::service {

struct DemandOptions {
  double smoothing = 0.5;          // level's weight of the newest interval, (0, 1]
  double profile_smoothing = 0.3;  // a bin's weight of the newest interval in that hour, (0, 1]
  int hint_intervals = 3;          // intervals until the declared rate stops counting
  int min_profile_samples = 2;     // intervals in an hour bin before it is used
};

// InvalidArgument naming the field when a weight is outside (0, 1] or a count is negative.
Status ValidateDemandOptions(const DemandOptions& o);

struct DemandEstimate {
  double rate_rps = 0;
  std::string source;              // see the header comment
  int64_t observed_intervals = 0;
};

// The rate a plan is made for: `rate` rounded up to the next step of a geometric ladder with
// 10% steps from 0.1 req/s (so noise within a step does not re-plan, and a rising demand is met
// with up to 10% headroom); at least 0.1 req/s.
double PlanningRate(double rate_rps);

class DemandModel {
 public:
  explicit DemandModel(DemandOptions options = {});

  // `arrivals` requests arrived for `tenant` during the interval [start, start + elapsed_s).
  // Intervals shorter than 1 ms are ignored.
  void Observe(const std::string& tenant, TimePoint start, double elapsed_s, uint64_t arrivals);
  DemandEstimate Expect(const std::string& tenant, TimePoint at, double declared_rps) const;
  // Drops what was learned about `tenant` (it was removed).
  void Forget(const std::string& tenant);
  bool Knows(const std::string& tenant) const { return tenants_.count(tenant) > 0; }

  nlohmann::json ToJson() const;
  // DataLoss naming the problem when `j` is not a demand model of this format.
  static StatusOr<DemandModel> FromJson(const nlohmann::json& j, DemandOptions options = {});

 private:
  struct Bin {
    double rate_rps = 0;
    int64_t samples = 0;
  };
  struct Tenant {
    double level_rps = 0;
    int64_t intervals = 0;
    std::array<Bin, 24> profile{};
  };
  DemandOptions options_;
  std::map<std::string, Tenant> tenants_;
};

}  // namespace ecomap::service
