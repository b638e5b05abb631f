// policy/tenant.h: ValidateTenant / ValidateTenants (the one tenant validator) and JudgeSlo.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string>

#include <fmt/format.h>

#include "policy/tenant.h"
#include "zoo/model.h"

namespace ecomap::policy {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string Members(const std::vector<const zoo::ModelInfo*>& family) {
  std::vector<std::string> n;
  for (const zoo::ModelInfo* f : family) n.push_back(f->name);
  return Join(n);
}

}  // namespace

bool ValidTenantName(const std::string& name) {
  if (name.empty() || name.size() > kMaxTenantNameLength) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

Status ValidateTenant(const TenantSpec& t) {
  if (t.name.empty()) {
    return InvalidArgument("tenant name is empty: give every tenant a unique name of 1-64 letters, digits, '-', '_' or '.'");
  }
  if (!ValidTenantName(t.name)) {
    return InvalidArgument("tenant name '" + t.name + "' is invalid: use 1-64 letters, digits, '-', '_' or '.'");
  }
  const std::string who = "tenant '" + t.name + "'";
  std::vector<const zoo::ModelInfo*> family = zoo::Family(t.family);
  std::set<std::string> declared;
  for (const zoo::TorchScriptSpec& m : t.models) {
    ECOMAP_RETURN_IF_ERROR(zoo::ValidateTorchScriptSpec(m).WithContext(who));
    if (m.family != t.family) {
      return InvalidArgument(who + ": TorchScript model '" + m.name + "' has family '" + m.family + "', not the tenant's '" +
                             t.family + "'");
    }
    if (!declared.insert(m.name).second) {
      return InvalidArgument(who + ": TorchScript model '" + m.name + "' is declared twice; give each model its own name");
    }
  }
  if (!t.models.empty() && zoo::IsCatalogueFamily(t.family)) {
    return InvalidArgument(who + ": family '" + t.family +
                           "' is a built-in zoo family; give your own models a family of their own (e.g. family = \"" +
                           t.family + "-custom\")");
  }
  if (family.empty() && t.models.empty()) {
    return NotFound(who + ": unknown model family '" + t.family + "'; known families: " + Join(zoo::Families()) +
                    " (or declare your own TorchScript models, see docs/serve.md)");
  }
  std::set<std::string> seen;
  for (const std::string& v : t.variants) {
    const zoo::ModelInfo* m = zoo::FindModel(v);
    if (m == nullptr && declared.count(v)) {
      if (!seen.insert(v).second) {
        return InvalidArgument(who + ": variant '" + v + "' is listed twice; list each variant once");
      }
      continue;
    }
    if (m == nullptr) {
      return NotFound(who + ": unknown model '" + v + "'; members of family '" + t.family + "': " + Members(family));
    }
    if (m->family != t.family) {
      return InvalidArgument(who + ": variant '" + v + "' belongs to family '" + m->family + "', not '" + t.family +
                             "'; use one of: " + Members(family));
    }
    if (!seen.insert(v).second) {
      return InvalidArgument(who + ": variant '" + v + "' is listed twice; list each variant once");
    }
  }
  if (!(t.slo_p95.value() > 0) || !std::isfinite(t.slo_p95.value()) || t.slo_p95.value() > kMaxSloMs) {
    return InvalidArgument(fmt::format("{}: slo_ms = {:g} must be a positive number of milliseconds, at most {:.0f} (an hour)",
                                       who, t.slo_p95.value(), kMaxSloMs));
  }
  if (!(t.min_throughput_rps >= 0) || !std::isfinite(t.min_throughput_rps)) {
    return InvalidArgument(fmt::format("{}: min_throughput_rps = {:g} must be >= 0 (0: none)", who, t.min_throughput_rps));
  }
  if (t.arrival == platform::ArrivalKind::kOpenLoop) {
    if (!(t.rate_rps > 0) || !std::isfinite(t.rate_rps) || t.rate_rps > kMaxRateRps) {
      return InvalidArgument(fmt::format("{}: rate_rps = {:g} must be in (0, {:g}] requests per second (open loop)", who,
                                         t.rate_rps, kMaxRateRps));
    }
  } else if (t.concurrency < 1 || t.concurrency > kMaxConcurrency) {
    return InvalidArgument(fmt::format("{}: concurrency = {} must be in [1, {}] requests outstanding (closed loop)", who,
                                       t.concurrency, kMaxConcurrency));
  }
  return Status::Ok();
}

Status ValidateTenants(const std::vector<TenantSpec>& tenants) {
  if (tenants.empty()) return InvalidArgument("no tenants: declare at least one tenant");
  std::set<std::string> names;
  for (const TenantSpec& t : tenants) {
    ECOMAP_RETURN_IF_ERROR(ValidateTenant(t));
    if (!names.insert(t.name).second) {
      return InvalidArgument("tenant '" + t.name + "': duplicate name, used twice; tenant names must be unique");
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

std::vector<std::string> DeclaredVariants(const std::vector<zoo::TorchScriptSpec>& models) {
  std::vector<const zoo::TorchScriptSpec*> sorted;
  for (const zoo::TorchScriptSpec& m : models) sorted.push_back(&m);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const zoo::TorchScriptSpec* a, const zoo::TorchScriptSpec* b) { return a->accuracy < b->accuracy; });
  std::vector<std::string> out;
  for (const zoo::TorchScriptSpec* m : sorted) out.push_back(m->name);
  return out;
}

const TenantSpec* FindTenant(const std::vector<TenantSpec>& tenants, const std::string& name) {
  for (const TenantSpec& t : tenants) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace ecomap::policy
