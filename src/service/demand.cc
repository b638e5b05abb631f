#include "service/demand.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace ecomap::service {
namespace {

using json = nlohmann::json;

int HourOf(TimePoint t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(t - days).count());
}

bool Weight(double w) { return std::isfinite(w) && w > 0 && w <= 1; }

}  // namespace

Status ValidateDemandOptions(const DemandOptions& o) {
  if (!Weight(o.smoothing)) {
    return InvalidArgument(fmt::format("demand smoothing must be in (0, 1], got {}", o.smoothing));
  }
  if (!Weight(o.profile_smoothing)) {
    return InvalidArgument(
        fmt::format("demand profile_smoothing must be in (0, 1], got {}", o.profile_smoothing));
  }
  if (o.hint_intervals < 0) {
    return InvalidArgument(fmt::format("demand hint_intervals must be >= 0, got {}", o.hint_intervals));
  }
  if (o.min_profile_samples < 1) {
    return InvalidArgument(
        fmt::format("demand min_profile_samples must be >= 1, got {}", o.min_profile_samples));
  }
  return Status::Ok();
}

double PlanningRate(double rate_rps) {
  constexpr double kFloor = 0.1, kStep = 1.1;
  if (!(rate_rps > kFloor) || !std::isfinite(rate_rps)) return kFloor;
  const double k = std::ceil(std::log(rate_rps / kFloor) / std::log(kStep) - 1e-9);
  return std::min(kFloor * std::pow(kStep, k), 10000.0);
}

DemandModel::DemandModel(DemandOptions options) : options_(options) {}

void DemandModel::Observe(const std::string& tenant, TimePoint start, double elapsed_s,
                          uint64_t arrivals) {
  if (!(elapsed_s >= 1e-3) || !std::isfinite(elapsed_s)) return;
  const double rate = static_cast<double>(arrivals) / elapsed_s;
  Tenant& t = tenants_[tenant];
  t.level_rps = t.intervals == 0 ? rate : t.level_rps + options_.smoothing * (rate - t.level_rps);
  ++t.intervals;
  Bin& b = t.profile[HourOf(start)];
  b.rate_rps = b.samples == 0 ? rate : b.rate_rps + options_.profile_smoothing * (rate - b.rate_rps);
  ++b.samples;
}

DemandEstimate DemandModel::Expect(const std::string& tenant, TimePoint at,
                                   double declared_rps) const {
  const double declared = std::isfinite(declared_rps) ? std::max(0.0, declared_rps) : 0.0;
  auto it = tenants_.find(tenant);
  if (it == tenants_.end() || it->second.intervals == 0) return {declared, "declared", 0};
  const Tenant& t = it->second;
  if (t.intervals < options_.hint_intervals && declared > 0) {
    const double w = static_cast<double>(t.intervals) / options_.hint_intervals;
    return {w * t.level_rps + (1 - w) * declared, "declared+observed", t.intervals};
  }
  const Bin& b = t.profile[HourOf(at)];
  if (t.intervals >= options_.hint_intervals && b.samples >= options_.min_profile_samples) {
    return {0.5 * (t.level_rps + b.rate_rps), "observed+profile", t.intervals};
  }
  return {t.level_rps, "observed", t.intervals};
}

void DemandModel::Forget(const std::string& tenant) { tenants_.erase(tenant); }

json DemandModel::ToJson() const {
  json tenants = json::object();
  for (const auto& [name, t] : tenants_) {
    json profile = json::array();
    for (const Bin& b : t.profile) profile.push_back({{"rate_rps", b.rate_rps}, {"samples", b.samples}});
    tenants[name] = {{"level_rps", t.level_rps}, {"intervals", t.intervals}, {"profile", profile}};
  }
  return {{"format", "ecomap.demand"}, {"version", 1}, {"tenants", tenants}};
}

StatusOr<DemandModel> DemandModel::FromJson(const json& j, DemandOptions options) {
  ECOMAP_RETURN_IF_ERROR(ValidateDemandOptions(options));
  auto bad = [](const std::string& what) { return DataLoss("demand model: " + what); };
  if (!j.is_object() || j.value("format", std::string()) != "ecomap.demand") {
    return bad("not an \"ecomap.demand\" object");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1) {
    return bad("unsupported version (this build reads version 1)");
  }
  if (!j.contains("tenants") || !j["tenants"].is_object()) return bad("'tenants' must be an object");
  DemandModel m(options);
  for (const auto& [name, v] : j["tenants"].items()) {
    if (!v.is_object() || !v.contains("level_rps") || !v["level_rps"].is_number() ||
        !v.contains("intervals") || !v["intervals"].is_number_integer() || !v.contains("profile") ||
        !v["profile"].is_array() || v["profile"].size() != 24) {
      return bad("tenant '" + name + "' needs level_rps, intervals and a 24-bin profile");
    }
    Tenant t;
    t.level_rps = v["level_rps"].get<double>();
    t.intervals = v["intervals"].get<int64_t>();
    if (!std::isfinite(t.level_rps) || t.level_rps < 0 || t.intervals < 0) {
      return bad("tenant '" + name + "' has a negative or non-finite level or count");
    }
    for (size_t h = 0; h < 24; ++h) {
      const json& b = v["profile"][h];
      if (!b.is_object() || !b.contains("rate_rps") || !b["rate_rps"].is_number() ||
          !b.contains("samples") || !b["samples"].is_number_integer()) {
        return bad(fmt::format("tenant '{}' profile bin {} needs rate_rps and samples", name, h));
      }
      t.profile[h].rate_rps = b["rate_rps"].get<double>();
      t.profile[h].samples = b["samples"].get<int64_t>();
      if (!std::isfinite(t.profile[h].rate_rps) || t.profile[h].rate_rps < 0 || t.profile[h].samples < 0) {
        return bad(fmt::format("tenant '{}' profile bin {} is negative or not finite", name, h));
      }
    }
    m.tenants_[name] = t;
  }
  return m;
}

}  // namespace ecomap::service
