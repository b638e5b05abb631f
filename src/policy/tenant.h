// policy/tenant.h: a tenant as the operator declares it, its validation, and the one SLO verdict.
//
// Every part that judges an interval (the control loop's accounting, replay's totals, the serve
// daemon's history, the controllers' breach counting) asks JudgeSlo, so a tenant-interval is a
// violation by one rule everywhere:
//   violated  <=>  the tenant's queue saturated (or nothing completed while requests arrived)
//              or its measured p95 exceeds slo_p95
//              or min_throughput_rps > 0 and its throughput fell under it.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "platform/types.h"

namespace ecomap::policy {

// A tenant as the operator declares it: a service with a family of variants and an SLO.
struct TenantSpec {
  std::string name;                   // unique
  std::string family;                 // zoo family, e.g. "resnet"
  std::vector<std::string> variants;  // allowed members, increasing accuracy; empty: the family
  Milliseconds slo_p95{0};            // > 0
  double min_throughput_rps = 0;      // 0: none
  platform::ArrivalKind arrival = platform::ArrivalKind::kOpenLoop;
  double rate_rps = 0;                // the current offered load (open loop)
  int concurrency = 1;                // closed loop
};

// InvalidArgument / NotFound naming the tenant and the bad value (unknown family or variant,
// variant outside its family, SLO <= 0, rate <= 0 for open loop, duplicate name).
Status ValidateTenants(const std::vector<TenantSpec>& tenants);

struct SloVerdict {
  bool violated = false;
  // Empty when met; else what broke it: "saturated", "p95 12.3 > 10.0 ms",
  // "throughput 1.0 < 2.0 req/s" (the first rule that fails, in that order).
  std::string why;
};

// The SLO verdict of one tenant over one interval (see the top comment).
SloVerdict JudgeSlo(const TenantSpec& spec, const platform::TenantPerformance& measured);

}  // namespace ecomap::policy
