// policy/controllers/base.h: the shared Step skeleton (triggers, breach counting) and helpers.
#include "policy/controllers/base.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "policy/planning.h"
#include "zoo/model.h"

namespace ecomap::policy::controllers {

using platform::Configuration;
using platform::Performance;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<std::string> ModelsOf(const Configuration& c) {
  std::vector<std::string> out;
  for (const auto& t : c.tenants) out.push_back(t.model);
  return out;
}

void RecordSearch(const search::SearchResult& r, double predict_ms, Clock::time_point t0, Decision* d) {
  d->evaluations = r.evaluations + 1;
  d->predict_ms = predict_ms;
  d->search_ms = std::max(0.0, MsSince(t0) - predict_ms);
  d->replanned = true;
  d->variants = ModelsOf(d->config);
}

std::vector<search::MappingTenant> PinVariants(const std::vector<TenantSpec>& tenants, const std::vector<int>& idx) {
  std::vector<search::MappingTenant> out;
  for (size_t i = 0; i < tenants.size(); ++i) {
    std::vector<std::string> ladder = Ladder(tenants[i]);
    out.push_back(ToMappingTenant(tenants[i], {ladder[static_cast<size_t>(idx[i])]}));
  }
  return out;
}

std::vector<int> BestIndices(const std::vector<TenantSpec>& tenants) {
  std::vector<int> idx;
  for (const TenantSpec& t : tenants) idx.push_back(static_cast<int>(Ladder(t).size()) - 1);
  return idx;
}

Configuration AllOnGpu(const platform::PlatformInfo& info, const std::vector<TenantSpec>& tenants,
                       const std::vector<std::string>& models, int mode) {
  Configuration c;
  c.power_mode = mode;
  const platform::ModelLookup lookup = platform::DefaultModelLookup();
  for (size_t i = 0; i < tenants.size(); ++i) {
    platform::TenantConfig tc;
    tc.name = tenants[i].name;
    tc.model = models[i];
    tc.arrival = tenants[i].arrival;
    tc.rate_rps = tenants[i].rate_rps;
    tc.concurrency = tenants[i].concurrency;
    const zoo::ModelInfo* m = zoo::FindModel(models[i]);
    const int n = m ? static_cast<int>(m->blocks.size()) : 1;
    std::vector<std::string> order;
    for (const auto& u : info.units) {
      if (u.kind == platform::UnitKind::kGpu) order.push_back(u.id);
    }
    for (const auto& u : info.units) order.push_back(u.id);
    for (const std::string& u : order) {
      tc.stages = {{0, n, u}};
      Configuration one;
      one.power_mode = mode;
      one.tenants = {tc};
      if (platform::ValidateConfiguration(info, one, lookup).ok()) break;
    }
    c.tenants.push_back(std::move(tc));
  }
  return c;
}

std::vector<std::string> Breaches(const std::vector<TenantSpec>& specs, const Configuration& config,
                                  const Performance& measured) {
  std::vector<std::string> out;
  for (size_t i = 0; i < config.tenants.size() && i < measured.tenants.size(); ++i) {
    const TenantSpec* s = FindTenant(specs, config.tenants[i].name);
    if (s == nullptr) continue;
    SloVerdict v = JudgeSlo(*s, measured.tenants[i]);
    if (v.violated) out.push_back(s->name + " " + v.why);
  }
  return out;
}

std::string DemandChange(const std::vector<TenantSpec>& before, const std::vector<TenantSpec>& now) {
  if (before.size() != now.size()) return "tenants changed (" + std::to_string(before.size()) + " -> " + std::to_string(now.size()) + ")";
  for (size_t i = 0; i < now.size(); ++i) {
    const TenantSpec& a = before[i];
    const TenantSpec& b = now[i];
    if (a.name != b.name || a.family != b.family || a.variants != b.variants || a.slo_p95 != b.slo_p95 ||
        a.arrival != b.arrival || a.concurrency != b.concurrency || a.min_throughput_rps != b.min_throughput_rps) {
      return "tenant '" + b.name + "' changed";
    }
    if (b.arrival == platform::ArrivalKind::kOpenLoop &&
        (b.rate_rps > a.rate_rps * 1.01 || b.rate_rps < a.rate_rps * 0.90)) {
      return fmt::format("rate of '{}' {:.1f} -> {:.1f} req/s", b.name, a.rate_rps, b.rate_rps);
    }
  }
  return "";
}

ControllerBase::ControllerBase(std::string name, const ControllerContext& ctx) : name_(std::move(name)), ctx_(ctx) {}

StatusOr<Decision> ControllerBase::Step(const ControlInput& in) {
  const auto t0 = Clock::now();
  ECOMAP_RETURN_IF_ERROR(ValidateTenants(in.tenants));
  if (!std::isfinite(in.intensity.value()) || in.intensity.value() < 0) {
    return InvalidArgument(fmt::format("controller {}: carbon intensity {:g} g/kWh must be a finite number >= 0",
                                       name_, in.intensity.value()));
  }
  Triggers trig;
  trig.first = !last_.has_value();
  if (!trig.first) {
    trig.demand = DemandChange(planned_tenants_, in.tenants);
    if (in.measured) {
      std::vector<std::string> b = Breaches(planned_tenants_, last_->config, *in.measured);
      if (b.empty()) {
        breach_count_ = 0;
      } else {
        ++breach_count_;
        trig.breach_what = b.front() + (b.size() > 1 ? " (+" + std::to_string(b.size() - 1) + " more)" : "");
      }
      trig.breach = breach_count_ >= ctx_.options.slo_breach_intervals;
    }
  }
  StatusOr<Decision> d = DoStep(in, trig);
  if (!d.ok()) return d.status().WithContext("controller " + name_);
  if (d->replanned) {
    planned_tenants_ = in.tenants;
    breach_count_ = 0;
  }
  d->decision_ms = MsSince(t0);
  last_ = *d;
  return d;
}

Decision ControllerBase::Keep(const std::string& why) const {
  Decision d = *last_;
  d.replanned = false;
  d.threshold_raised = false;
  d.evaluations = 0;
  d.search_ms = 0;
  d.predict_ms = 0;
  d.reason = "kept: " + why;
  return d;
}

}  // namespace ecomap::policy::controllers
