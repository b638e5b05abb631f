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

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/units.h"
#include "platform/types.h"
#include "zoo/torchscript.h"

namespace ecomap::policy {

// A tenant as the operator declares it: a service with a family of variants and an SLO.
struct TenantSpec {
  std::string name;                   // unique
  std::string family;                 // zoo family, e.g. "resnet" (or the tenant's own, see models)
  std::vector<std::string> variants;  // allowed members, increasing accuracy; empty: the family
  Milliseconds slo_p95{0};            // > 0
  double min_throughput_rps = 0;      // 0: none
  platform::ArrivalKind arrival = platform::ArrivalKind::kOpenLoop;
  double rate_rps = 0;                // the current offered load (open loop)
  int concurrency = 1;                // closed loop
  // The tenant's own TorchScript models (zoo/torchscript.h), of `family`. The serve daemon
  // registers them (measured on the host) before the tenant's variants are used; the parsers
  // list them in `variants` when the declaration has no variants. Empty: zoo models only.
  std::vector<zoo::TorchScriptSpec> models;
};

// The limits of a tenant declaration.
inline constexpr size_t kMaxTenantNameLength = 64;
inline constexpr double kMaxSloMs = 3.6e6;       // an hour
inline constexpr double kMaxRateRps = 10000;     // open loop
inline constexpr int kMaxConcurrency = 64;       // closed loop

// True when `name` is 1-64 letters, digits, '-', '_' or '.'.
bool ValidTenantName(const std::string& name);

// The one check of a tenant declaration (scenarios, the serve config, the operator API, every
// controller's demand): a valid name (ValidTenantName), a known zoo family, variants that are
// members of it (each listed once; a variant declared in `models` but not registered yet counts
// as a member, and a tenant with `models` may name a family of its own, not a built-in one), 0 < slo_ms <= 3.6e6, min_throughput_rps >= 0, and an
// open-loop rate in (0, 10000] req/s or a closed-loop concurrency in [1, 64]. InvalidArgument
// (NotFound for an unknown family or model) naming the tenant, the bad value and the fix.
Status ValidateTenant(const TenantSpec& tenant);

// At least one tenant, every one valid (ValidateTenant), and no name used twice.
Status ValidateTenants(const std::vector<TenantSpec>& tenants);

// The names of `models`, in increasing declared accuracy (a tenant's variants when it lists none).
std::vector<std::string> DeclaredVariants(const std::vector<zoo::TorchScriptSpec>& models);

// The tenant named `name` in `tenants`; nullptr when none is.
const TenantSpec* FindTenant(const std::vector<TenantSpec>& tenants, const std::string& name);

struct SloVerdict {
  bool violated = false;
  // Empty when met; else what broke it: "saturated", "p95 12.3 > 10.0 ms",
  // "throughput 1.0 < 2.0 req/s" (the first rule that fails, in that order).
  std::string why;
};

// The SLO verdict of one tenant over one interval (see the top comment).
SloVerdict JudgeSlo(const TenantSpec& spec, const platform::TenantPerformance& measured);

}  // namespace ecomap::policy
