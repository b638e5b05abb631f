#include "engine/configuration_adapter.h"

#include <algorithm>

namespace ecomap::engine {

EngineSpec ToEngineSpec(const platform::Configuration& config, const ConfigurationAdapterOptions& options) {
  EngineSpec spec;
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const platform::TenantConfig& tc = config.tenants[i];
    PipelineSpec e;
    e.name = tc.name.empty() ? "t" + std::to_string(i) : tc.name;
    e.model = tc.model;
    for (const platform::Stage& s : tc.stages) {
      const std::string unit = options.map_unit ? options.map_unit(s.unit) : s.unit;
      if (options.merge_stages_on_one_unit && !e.stages.empty() && e.stages.back().unit == unit &&
          e.stages.back().end == s.begin_block) {
        e.stages.back().end = s.end_block;
      } else {
        e.stages.push_back({s.begin_block, s.end_block, unit});
      }
    }
    if (tc.arrival == platform::ArrivalKind::kOpenLoop) {
      e.source.kind = SourceSpec::Kind::kPoisson;
      e.source.rate_rps = tc.rate_rps;
    } else {
      e.source.kind = SourceSpec::Kind::kClosed;
      e.source.outstanding = std::max(1, tc.concurrency);
    }
    e.queue_capacity = std::max(options.queue_capacity, e.source.outstanding);
    e.seed = options.seed ? options.seed(i, e.name) : i + 1;
    if (options.slo) {
      if (std::optional<SloSpec> slo = options.slo(e.name)) e.slo = *slo;
    }
    spec.tenants.push_back(std::move(e));
  }
  return spec;
}

}  // namespace ecomap::engine
