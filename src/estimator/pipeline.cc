#include "estimator/pipeline.h"

#include <algorithm>
#include <cmath>

namespace ecomap::estimator {

Decomposer::Decomposer(platform::PlatformInfo info, platform::ModelLookup lookup)
    : info_(std::move(info)), lookup_(lookup ? std::move(lookup) : platform::DefaultModelLookup()) {
  for (const zoo::ModelInfo& m : zoo::Models()) {
    if (lookup_(m.name) == &m) models_[m.name] = &m;
  }
  fallback_.assign(info_.units.size(), -1);
  for (size_t u = 0; u < info_.units.size(); ++u) {
    if (!info_.units[u].fallback_unit.empty()) fallback_[u] = UnitIndex(info_.units[u].fallback_unit);
  }
  for (const platform::PowerMode& m : info_.modes) {
    if (m.emc_max_mhz) emc_max_mhz_ = std::max(emc_max_mhz_, *m.emc_max_mhz);
  }
}

int Decomposer::UnitIndex(const std::string& id) const {
  for (size_t u = 0; u < info_.units.size(); ++u) {
    if (info_.units[u].id == id) return static_cast<int>(u);
  }
  return -1;
}

const zoo::ModelInfo* Decomposer::Lookup(const std::string& name) const {
  auto it = models_.find(name);
  if (it != models_.end()) return it->second;
  return lookup_(name);
}

Status Decomposer::Decompose(const platform::Configuration& config, ConfigView* view) const {
  int mode_index = -1;
  for (size_t m = 0; m < info_.modes.size(); ++m) {
    if (info_.modes[m].id == config.power_mode) mode_index = static_cast<int>(m);
  }
  if (mode_index < 0) {
    return NotFound("power mode " + std::to_string(config.power_mode) + " does not exist on " + info_.name +
                    ": modes are " + info_.ModeList());
  }
  if (config.tenants.empty()) return InvalidArgument("the configuration has no tenants: add at least one");
  const platform::PowerMode& mode = info_.modes[static_cast<size_t>(mode_index)];
  const size_t nu = info_.units.size();
  view->mode_index = mode_index;
  view->mhz.assign(nu, 0);
  view->mhz_fraction.assign(nu, 1);
  for (size_t u = 0; u < nu; ++u) {
    const platform::ComputeUnit& unit = info_.units[u];
    auto cap = mode.max_frequency_mhz.find(unit.id);
    double f = cap != mode.max_frequency_mhz.end() ? cap->second : unit.max_frequency_mhz;
    if (auto o = config.frequency_mhz.find(unit.id); o != config.frequency_mhz.end()) {
      if (!(o->second > 0) || !std::isfinite(o->second)) {
        return InvalidArgument("frequency_mhz of " + unit.id + " is " + std::to_string(o->second) +
                               ": it must be a positive clock in MHz");
      }
      f = std::min(f > 0 ? f : o->second, o->second);
    }
    if (!(f > 0)) f = 1;  // unknown clock: a neutral value, the learned models absorb the scale
    view->mhz[u] = f;
    view->mhz_fraction[u] = unit.max_frequency_mhz > 0 ? f / unit.max_frequency_mhz : 1.0;
  }
  int cpu_cores = 0;
  for (const platform::ComputeUnit& u : info_.units) {
    if (u.kind == platform::UnitKind::kCpu) cpu_cores += u.cores;
  }
  view->online_cores = mode.online_cpu_cores;
  view->cpu_core_fraction = (cpu_cores > 0 && mode.online_cpu_cores > 0)
                                ? static_cast<double>(mode.online_cpu_cores) / cpu_cores : 1.0;
  view->emc_mhz = mode.emc_max_mhz.value_or(emc_max_mhz_ > 0 ? emc_max_mhz_ : 1.0);
  view->emc_fraction = emc_max_mhz_ > 0 ? view->emc_mhz / emc_max_mhz_ : 1.0;

  view->tenants.clear();
  view->stages.clear();
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const platform::TenantConfig& t = config.tenants[i];
    const std::string where = "tenant " + std::to_string(i) + (t.name.empty() ? "" : " ('" + t.name + "')");
    const zoo::ModelInfo* model = Lookup(t.model);
    if (model == nullptr) {
      return NotFound(where + ": unknown model '" + t.model + "': known models are " + zoo::KnownModelNames());
    }
    const int nb = static_cast<int>(model->blocks.size());
    TenantView tv;
    tv.first_stage = static_cast<int>(view->stages.size());
    tv.num_stages = static_cast<int>(t.stages.size());
    tv.open = t.arrival == platform::ArrivalKind::kOpenLoop;
    tv.rate_rps = t.rate_rps;
    tv.concurrency = t.concurrency;
    if (tv.open && !(t.rate_rps > 0 && std::isfinite(t.rate_rps))) {
      return InvalidArgument(where + ": open-loop rate_rps is " + std::to_string(t.rate_rps) +
                             ": it must be a finite rate > 0 requests/s");
    }
    if (!tv.open && t.concurrency < 1) {
      return InvalidArgument(where + ": closed-loop concurrency is " + std::to_string(t.concurrency) +
                             ": it must be >= 1");
    }
    if (t.stages.empty()) return InvalidArgument(where + " has no stages: give at least one");
    int expect = 0;
    int prev_exec = -1;
    double prev_out = 0;
    for (size_t s = 0; s < t.stages.size(); ++s) {
      const platform::Stage& st = t.stages[s];
      if (st.begin_block != expect || st.end_block <= st.begin_block || st.end_block > nb) {
        return InvalidArgument(where + ", stage " + std::to_string(s) + ": blocks [" +
                               std::to_string(st.begin_block) + ", " + std::to_string(st.end_block) +
                               ") are not contiguous inside [0, " + std::to_string(nb) + ") of " + t.model +
                               ": stages must start at block 0, follow each other and cover every block");
      }
      expect = st.end_block;
      StageView sv;
      sv.tenant = static_cast<int>(i);
      sv.position = static_cast<int>(s);
      sv.unit = UnitIndex(st.unit);
      if (sv.unit < 0) {
        return NotFound(where + ", stage " + std::to_string(s) + ": unknown unit '" + st.unit +
                        "': units are " + info_.UnitIdList());
      }
      const platform::ComputeUnit& unit = info_.units[static_cast<size_t>(sv.unit)];
      const bool is_dla = unit.kind == platform::UnitKind::kDla;
      sv.native.unit = sv.unit;
      const int fb = fallback_[static_cast<size_t>(sv.unit)];
      for (int b = st.begin_block; b < st.end_block; ++b) {
        const zoo::BlockDescriptor& block = model->blocks[static_cast<size_t>(b)];
        bool native = unit.RunsNatively(block.kind) && (!is_dla || block.dla_supported);
        int exec = sv.unit;
        UnitWork* w = &sv.native;
        if (!native) {
          if (fb < 0 || !info_.units[static_cast<size_t>(fb)].RunsNatively(block.kind)) {
            return InvalidArgument(where + ", stage " + std::to_string(s) + ": unit " + unit.id +
                                   " cannot run block " + std::to_string(b) + " ('" + block.name +
                                   "') and has no fallback unit that can: choose another unit");
          }
          exec = fb;
          w = &sv.fallback;
          sv.fallback.unit = fb;
        }
        const int k = std::clamp(static_cast<int>(block.kind), 0, kNumBlockKinds - 1);
        w->flops[static_cast<size_t>(k)] += block.flops;
        w->bytes += 4.0 * static_cast<double>(block.params) +
                    static_cast<double>(block.input_bytes + block.output_bytes);
        w->elementwise += block.elementwise_ops;
        w->blocks += 1;
        sv.params += static_cast<double>(block.params);
        tv.total_flops += block.flops;
        if (prev_exec >= 0 && exec != prev_exec) {
          sv.transfers += 1;
          sv.transfer_bytes += prev_out;
        }
        prev_exec = exec;
        prev_out = static_cast<double>(block.output_bytes);
      }
      sv.activation_bytes = static_cast<double>(model->blocks[static_cast<size_t>(st.begin_block)].input_bytes +
                                                model->blocks[static_cast<size_t>(st.end_block - 1)].output_bytes);
      tv.transfers += sv.transfers;
      tv.transfer_bytes += sv.transfer_bytes;
      view->stages.push_back(sv);
    }
    if (expect != nb) {
      return InvalidArgument(where + ": stages end at block " + std::to_string(expect) + " but " + t.model +
                             " has " + std::to_string(nb) + " blocks: the last stage must end at " +
                             std::to_string(nb));
    }
    view->tenants.push_back(tv);
  }
  return Status::Ok();
}

}  // namespace ecomap::estimator
