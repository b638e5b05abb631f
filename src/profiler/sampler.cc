#include "profiler/sampler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace ecomap::profiler {

Status SamplerOptions::Validate() const {
  if (min_tenants < 1 || max_tenants < min_tenants)
    return InvalidArgument("sampler: tenants range [" + std::to_string(min_tenants) + ", " +
                           std::to_string(max_tenants) + "] is empty; use 1 <= min <= max");
  if (max_stages < 1) return InvalidArgument("sampler: max_stages must be >= 1");
  if (!(closed_share >= 0 && closed_share <= 1)) return InvalidArgument("sampler: closed_share must be in [0, 1]");
  if (!(min_rate_rps > 0 && max_rate_rps >= min_rate_rps && std::isfinite(max_rate_rps)))
    return InvalidArgument("sampler: rates need 0 < min_rate_rps <= max_rate_rps");
  return Status::Ok();
}

StatusOr<Sampler> Sampler::Create(const platform::PlatformInfo& info, SamplerOptions options,
                                  const std::vector<zoo::ModelInfo>& catalogue) {
  ECOMAP_RETURN_IF_ERROR(options.Validate());
  if (info.units.empty()) return InvalidArgument("sampler: platform '" + info.name + "' has no compute units");
  Sampler s;
  s.info_ = &info;
  s.options_ = options;
  std::set<std::string> wanted(options.models.begin(), options.models.end());
  for (const std::string& name : wanted) {
    bool found = std::any_of(catalogue.begin(), catalogue.end(), [&](const zoo::ModelInfo& m) { return m.name == name; });
    if (!found) return NotFound("sampler: unknown model '" + name + "' (see `ecomap zoo list`)");
  }
  std::map<std::string, std::vector<const zoo::ModelInfo*>> by_family;
  std::vector<std::string> order;
  for (const zoo::ModelInfo& m : catalogue) {
    if (!wanted.empty() && !wanted.count(m.name)) continue;
    if (m.blocks.empty()) continue;
    if (!by_family.count(m.family)) order.push_back(m.family);
    by_family[m.family].push_back(&m);
  }
  for (const std::string& f : order) s.families_.push_back(by_family[f]);
  if (s.families_.empty()) return InvalidArgument("sampler: no models to sample from");
  if (options.modes.empty()) {
    for (const auto& m : info.modes) s.modes_.push_back(m.id);
  } else {
    for (int id : options.modes) {
      if (!info.FindMode(id))
        return NotFound("sampler: platform '" + info.name + "' has no mode " + std::to_string(id) +
                        "; modes: " + info.ModeList());
      s.modes_.push_back(id);
    }
  }
  if (s.modes_.empty()) return InvalidArgument("sampler: platform '" + info.name + "' has no power modes");
  return s;
}

platform::Configuration Sampler::Next(std::mt19937_64& rng) const {
  auto uniform_int = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto uniform01 = [&]() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); };
  platform::Configuration c;
  c.power_mode = modes_[uniform_int(0, static_cast<int>(modes_.size()) - 1)];
  int n = uniform_int(options_.min_tenants, options_.max_tenants);
  const int num_units = static_cast<int>(info_->units.size());
  for (int i = 0; i < n; ++i) {
    const auto& family = families_[uniform_int(0, static_cast<int>(families_.size()) - 1)];
    const zoo::ModelInfo* m = family[uniform_int(0, static_cast<int>(family.size()) - 1)];
    platform::TenantConfig t;
    t.name = "t" + std::to_string(i);
    t.model = m->name;
    const int blocks = static_cast<int>(m->blocks.size());
    const int stages = uniform_int(1, std::min(options_.max_stages, blocks));
    // A uniform subset of the boundaries 1..blocks-1 of size stages-1.
    std::vector<int> boundaries;
    for (int b = 1; b < blocks; ++b) boundaries.push_back(b);
    std::shuffle(boundaries.begin(), boundaries.end(), rng);
    std::vector<int> cuts(boundaries.begin(), boundaries.begin() + (stages - 1));
    std::sort(cuts.begin(), cuts.end());
    int begin = 0;
    for (int s = 0; s < stages; ++s) {
      int end = s + 1 < stages ? cuts[s] : blocks;
      t.stages.push_back({begin, end, info_->units[uniform_int(0, num_units - 1)].id});
      begin = end;
    }
    if (uniform01() < options_.closed_share) {
      t.arrival = platform::ArrivalKind::kClosedLoop;
      t.concurrency = 1;
    } else {
      t.arrival = platform::ArrivalKind::kOpenLoop;
      double lo = std::log(options_.min_rate_rps), hi = std::log(options_.max_rate_rps);
      t.rate_rps = std::exp(lo + (hi - lo) * uniform01());
    }
    c.tenants.push_back(std::move(t));
  }
  return c;
}

}  // namespace ecomap::profiler
