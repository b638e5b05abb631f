// policy/tenant.h: ValidateTenants (the checks every controller runs on its demand) and JudgeSlo.
#include <cmath>
#include <set>
#include <string>

#include <fmt/format.h>

#include "policy/tenant.h"
#include "zoo/model.h"

namespace ecomap::policy {
namespace {

std::string Num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

Status ValidateTenants(const std::vector<TenantSpec>& tenants) {
  if (tenants.empty()) return InvalidArgument("no tenants: declare at least one tenant");
  std::set<std::string> names;
  for (size_t i = 0; i < tenants.size(); ++i) {
    const TenantSpec& t = tenants[i];
    const std::string who = "tenant '" + (t.name.empty() ? "#" + std::to_string(i) : t.name) + "'";
    if (t.name.empty()) return InvalidArgument(who + ": empty name; give every tenant a unique name");
    if (!names.insert(t.name).second)
      return InvalidArgument(who + ": duplicate name; tenant names must be unique");
    std::vector<const zoo::ModelInfo*> family = zoo::Family(t.family);
    if (family.empty()) {
      return NotFound(who + ": unknown family '" + t.family + "'; known families: " +
                      Join(zoo::Families()));
    }
    for (const std::string& v : t.variants) {
      const zoo::ModelInfo* m = zoo::FindModel(v);
      if (m == nullptr) {
        return NotFound(who + ": unknown model '" + v + "'; members of family '" + t.family +
                        "': " + [&] {
                          std::vector<std::string> n;
                          for (auto* f : family) n.push_back(f->name);
                          return Join(n);
                        }());
      }
      if (m->family != t.family) {
        std::vector<std::string> n;
        for (auto* f : family) n.push_back(f->name);
        return InvalidArgument(who + ": variant '" + v + "' belongs to family '" + m->family +
                               "', not '" + t.family + "'; use one of: " + Join(n));
      }
    }
    std::set<std::string> seen(t.variants.begin(), t.variants.end());
    if (seen.size() != t.variants.size())
      return InvalidArgument(who + ": a variant is listed twice; list each variant once");
    if (!(t.slo_p95.value() > 0) || !std::isfinite(t.slo_p95.value()))
      return InvalidArgument(who + ": slo_ms = " + Num(t.slo_p95.value()) +
                             " must be a positive number of milliseconds");
    if (!(t.min_throughput_rps >= 0) || !std::isfinite(t.min_throughput_rps))
      return InvalidArgument(who + ": min_throughput_rps = " + Num(t.min_throughput_rps) +
                             " must be >= 0 (0: none)");
    if (t.arrival == platform::ArrivalKind::kOpenLoop) {
      if (!(t.rate_rps > 0) || !std::isfinite(t.rate_rps))
        return InvalidArgument(who + ": rate_rps = " + Num(t.rate_rps) +
                               " must be a positive number of requests per second (open loop)");
    } else if (t.concurrency < 1) {
      return InvalidArgument(who + ": concurrency = " + std::to_string(t.concurrency) +
                             " must be >= 1 (closed loop)");
    }
  }
  return Status::Ok();
}

SloVerdict JudgeSlo(const TenantSpec& spec, const platform::TenantPerformance& measured) {
  SloVerdict v;
  if (measured.saturated) {
    v.why = "saturated";
  } else if (spec.slo_p95.value() > 0 && measured.latency_p95 > spec.slo_p95) {
    v.why = fmt::format("p95 {:.1f} > {:.1f} ms", measured.latency_p95.value(), spec.slo_p95.value());
  } else if (spec.min_throughput_rps > 0 && measured.throughput_rps < spec.min_throughput_rps) {
    v.why = fmt::format("throughput {:.1f} < {:.1f} req/s", measured.throughput_rps, spec.min_throughput_rps);
  }
  v.violated = !v.why.empty();
  return v;
}

}  // namespace ecomap::policy
