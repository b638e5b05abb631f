#include "search/mapping.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace ecomap::search {

using platform::ArrivalKind;
using platform::ComputeUnit;
using platform::Configuration;
using platform::Performance;
using platform::PlatformInfo;
using platform::PowerMode;
using platform::Stage;
using platform::TenantConfig;

// ---------------------------------------------------------------------------------------------
// The space.

// One logical coordinate of the encoding and where it lives in the box (-1: constant 0).
struct Slot {
  std::string label;  // "mode", "cam.variant", "cam.cut0", "cam.unit1"
  int count = 1;      // values 0..count-1
  int dim = -1;       // box dimension, or -1 when count == 1
  bool categorical = false;  // unordered choices (the units): Box::categorical
};

struct MappingSpace::State {
  PlatformInfo info;
  std::vector<MappingTenant> tenants;
  MappingSpaceOptions options;
  platform::ModelLookup lookup;

  std::vector<int> modes;                          // allowed mode ids
  std::vector<std::vector<int>> online;            // per allowed mode: indices into info.units
  struct TenantData {
    std::vector<const zoo::ModelInfo*> variants;
    int max_blocks = 0;
    double best_accuracy = 0;
    int variant_slot = 0;
    std::vector<int> cut_slots;   // max_stages - 1
    std::vector<int> unit_slots;  // max_stages
  };
  std::vector<TenantData> tdata;
  std::vector<Slot> slots;  // slot 0: the mode
  Box box;
  bool dummy_dim = false;

  int Value(const std::vector<double>& x, int slot) const {
    const Slot& s = slots[static_cast<size_t>(slot)];
    if (s.dim < 0) return 0;
    const double v = x[static_cast<size_t>(s.dim)];
    if (!std::isfinite(v)) return 0;
    return std::clamp(static_cast<int>(std::lround(v)), 0, s.count - 1);
  }
  void Set(std::vector<double>* x, int slot, int value) const {
    const Slot& s = slots[static_cast<size_t>(slot)];
    if (s.dim >= 0) (*x)[static_cast<size_t>(s.dim)] = value;
  }
};

namespace {

// Whether `unit` runs every block of [begin, end) of `model`, natively or through its fallback
// (the rule of platform::ValidateConfiguration).
bool CanRun(const PlatformInfo& info, const ComputeUnit& unit, const zoo::ModelInfo& model, int begin, int end) {
  const ComputeUnit* fallback = unit.fallback_unit.empty() ? nullptr : info.FindUnit(unit.fallback_unit);
  for (int b = begin; b < end; ++b) {
    const zoo::BlockKind kind = model.blocks[static_cast<size_t>(b)].kind;
    if (unit.RunsNatively(kind)) continue;
    if (fallback == nullptr || !fallback->RunsNatively(kind)) return false;
  }
  return true;
}

// Indices of the units online in `mode`: every non-CPU unit; CPU units in platform order while
// the cores before them are fewer than the mode's online_cpu_cores (0: all online).
std::vector<int> OnlineUnitIndices(const PlatformInfo& info, const PowerMode& mode) {
  std::vector<int> out;
  int cpu_cores_before = 0;
  for (size_t i = 0; i < info.units.size(); ++i) {
    const ComputeUnit& u = info.units[i];
    if (u.kind == platform::UnitKind::kCpu) {
      const bool on = mode.online_cpu_cores <= 0 || cpu_cores_before < mode.online_cpu_cores;
      cpu_cores_before += std::max(1, u.cores);
      if (!on) continue;
    }
    out.push_back(static_cast<int>(i));
  }
  return out;
}

// The cut value v in [0, max_blocks] decodes to round(v * n / max_blocks) for a variant of n blocks.
int ScaleCut(int v, int n, int max_blocks) {
  if (max_blocks <= 0) return 0;
  return static_cast<int>(std::lround(static_cast<double>(v) * n / max_blocks));
}

}  // namespace

StatusOr<MappingSpace> MappingSpace::Create(const PlatformInfo& info, std::vector<MappingTenant> tenants,
                                            MappingSpaceOptions options, platform::ModelLookup lookup) {
  auto st = std::make_shared<State>();
  st->info = info;
  st->lookup = lookup ? std::move(lookup) : platform::DefaultModelLookup();
  if (tenants.empty()) return InvalidArgument("mapping space: no tenants: give at least one tenant");
  if (options.max_stages < 1) {
    return InvalidArgument("mapping space: max_stages " + std::to_string(options.max_stages) +
                           " must be >= 1 (1: every model on one unit)");
  }
  if (options.max_stages > 16) {
    return InvalidArgument("mapping space: max_stages " + std::to_string(options.max_stages) + " must be <= 16");
  }
  if (info.modes.empty()) return InvalidArgument("mapping space: platform '" + info.name + "' has no power modes");
  if (info.units.empty()) return InvalidArgument("mapping space: platform '" + info.name + "' has no units");

  // Modes.
  if (options.modes.empty()) {
    for (const PowerMode& m : info.modes) st->modes.push_back(m.id);
  } else {
    std::set<int> seen;
    for (int id : options.modes) {
      if (info.FindMode(id) == nullptr) {
        return NotFound("mapping space: power mode " + std::to_string(id) + " does not exist on " + info.name +
                        ": use one of " + info.ModeList());
      }
      if (!seen.insert(id).second) {
        return InvalidArgument("mapping space: power mode " + std::to_string(id) + " is listed twice");
      }
      st->modes.push_back(id);
    }
  }
  for (const std::string& u : options.units) {
    if (info.FindUnit(u) == nullptr) return NotFound("mapping space: unknown unit '" + u + "'");
  }
  size_t max_online = 0;
  for (int id : st->modes) {
    st->online.push_back(OnlineUnitIndices(info, *info.FindMode(id)));
    if (!options.units.empty()) {
      std::vector<int>& on = st->online.back();
      on.erase(std::remove_if(on.begin(), on.end(),
                              [&](int i) {
                                return std::find(options.units.begin(), options.units.end(),
                                                 info.units[static_cast<size_t>(i)].id) == options.units.end();
                              }),
               on.end());
    }
    if (st->online.back().empty()) {
      return InvalidArgument("mapping space: power mode " + std::to_string(id) + " has no online unit");
    }
    max_online = std::max(max_online, st->online.back().size());
  }

  // Tenants.
  std::set<std::string> names;
  for (size_t i = 0; i < tenants.size(); ++i) {
    const MappingTenant& t = tenants[i];
    const std::string label = "tenant " + std::to_string(i) + (t.name.empty() ? "" : " '" + t.name + "'");
    if (t.name.empty()) return InvalidArgument("mapping space: " + label + " has no name: give every tenant a unique name");
    if (!names.insert(t.name).second) {
      return InvalidArgument("mapping space: tenant name '" + t.name + "' is used twice: names must be unique");
    }
    if (t.variants.empty()) {
      return InvalidArgument("mapping space: " + label + " has no variants: allow at least one zoo model");
    }
    State::TenantData td;
    std::set<std::string> seen;
    for (const std::string& v : t.variants) {
      const zoo::ModelInfo* m = st->lookup(v);
      if (m == nullptr) {
        return NotFound("mapping space: " + label + ": unknown model '" + v +
                        "' (see `ecomap zoo list` for the known models)");
      }
      if (!seen.insert(v).second) {
        return InvalidArgument("mapping space: " + label + ": variant '" + v + "' is listed twice");
      }
      if (m->blocks.empty()) return InvalidArgument("mapping space: " + label + ": model '" + v + "' has no blocks");
      td.variants.push_back(m);
      td.max_blocks = std::max(td.max_blocks, static_cast<int>(m->blocks.size()));
      td.best_accuracy = std::max(td.best_accuracy, m->accuracy);
      // Every allowed mode must have a unit that runs the whole model (so every stage decodes).
      for (size_t mi = 0; mi < st->modes.size(); ++mi) {
        bool any = false;
        for (int u : st->online[mi]) {
          any = any || CanRun(info, info.units[static_cast<size_t>(u)], *m, 0, static_cast<int>(m->blocks.size()));
        }
        if (!any) {
          return InvalidArgument("mapping space: " + label + ": no unit online in power mode " +
                                 std::to_string(st->modes[mi]) + " can run " + v +
                                 ": drop the variant or the mode");
        }
      }
    }
    if (t.arrival == ArrivalKind::kOpenLoop) {
      if (!(t.rate_rps > 0) || !std::isfinite(t.rate_rps)) {
        return InvalidArgument("mapping space: " + label + ": open-loop rate " + fmt::format("{:g}", t.rate_rps) +
                               " req/s must be a finite number > 0");
      }
    } else if (t.concurrency < 1) {
      return InvalidArgument("mapping space: " + label + ": closed-loop concurrency " +
                             std::to_string(t.concurrency) + " must be >= 1");
    }
    if (!(t.slo_p95.value() >= 0) || !std::isfinite(t.slo_p95.value())) {
      return InvalidArgument("mapping space: " + label + ": p95 SLO " + fmt::format("{:g}", t.slo_p95.value()) +
                             " ms must be >= 0 (0: none)");
    }
    if (!(t.min_throughput_rps >= 0) || !std::isfinite(t.min_throughput_rps)) {
      return InvalidArgument("mapping space: " + label + ": minimum throughput " + fmt::format("{:g}", t.min_throughput_rps) +
                             " req/s must be >= 0 (0: none)");
    }
    st->tdata.push_back(std::move(td));
  }

  // Slots and the box.
  auto add_slot = [&](std::string label, int count, bool categorical = false) {
    st->slots.push_back(Slot{std::move(label), std::max(1, count), -1, categorical});
    return static_cast<int>(st->slots.size()) - 1;
  };
  add_slot("mode", static_cast<int>(st->modes.size()));
  for (size_t i = 0; i < tenants.size(); ++i) {
    State::TenantData& td = st->tdata[i];
    const std::string& n = tenants[i].name;
    td.variant_slot = add_slot(n + ".variant", static_cast<int>(td.variants.size()));
    for (int k = 0; k + 1 < options.max_stages; ++k) td.cut_slots.push_back(add_slot(n + ".cut" + std::to_string(k), td.max_blocks + 1));
    for (int k = 0; k < options.max_stages; ++k) {
      td.unit_slots.push_back(add_slot(n + ".unit" + std::to_string(k), static_cast<int>(max_online), /*categorical=*/true));
    }
  }
  for (Slot& s : st->slots) {
    if (s.count < 2) continue;
    s.dim = st->box.dims();
    st->box.lb.push_back(0);
    st->box.ub.push_back(s.count - 1);
    st->box.integer.push_back(true);
    st->box.categorical.push_back(s.categorical);
  }
  if (st->box.dims() == 0) {
    st->dummy_dim = true;
    st->box = Box{{0.0}, {1.0}, {true}, {false}};
  }
  st->tenants = std::move(tenants);
  st->options = std::move(options);
  return MappingSpace(std::move(st));
}

const Box& MappingSpace::box() const { return state_->box; }
const PlatformInfo& MappingSpace::info() const { return state_->info; }
const std::vector<MappingTenant>& MappingSpace::tenants() const { return state_->tenants; }
const MappingSpaceOptions& MappingSpace::options() const { return state_->options; }
const std::vector<int>& MappingSpace::modes() const { return state_->modes; }
const platform::ModelLookup& MappingSpace::lookup() const { return state_->lookup; }

std::vector<std::string> MappingSpace::OnlineUnits(int mode_id) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < state_->modes.size(); ++i) {
    if (state_->modes[i] != mode_id) continue;
    for (int u : state_->online[i]) out.push_back(state_->info.units[static_cast<size_t>(u)].id);
  }
  return out;
}

long long MappingSpace::Size() const {
  long double n = 1;
  const Box& b = state_->box;
  for (int i = 0; i < b.dims(); ++i) n *= (b.ub[static_cast<size_t>(i)] - b.lb[static_cast<size_t>(i)] + 1);
  if (n >= static_cast<long double>(LLONG_MAX)) return LLONG_MAX;
  return static_cast<long long>(n);
}

std::string MappingSpace::Describe() const {
  std::ostringstream s;
  s << state_->box.dims() << " integer dims, " << Size() << " points:";
  for (const Slot& slot : state_->slots) {
    if (slot.dim >= 0) s << " " << slot.label << "(" << slot.count << (slot.categorical ? ", categorical" : "") << ")";
  }
  return s.str();
}

namespace {

// A decoded point in index form: what Decode builds a Configuration from and Canonical encodes.
struct DecodedTenant {
  int variant = 0;                  // index into the tenant's variants
  std::vector<int> cuts;            // block indices where a stage starts (sorted, in (0, n))
  std::vector<int> units;           // per stage: index into the mode's online units
};

// The decoding rule of the top comment of mapping.h, in index form. `x` is snapped.
std::vector<DecodedTenant> DecodeIndices(const MappingSpace::State& st, const std::vector<double>& x, int mi) {
  const std::vector<int>& online = st.online[static_cast<size_t>(mi)];
  const int n_online = static_cast<int>(online.size());
  std::vector<DecodedTenant> out(st.tenants.size());
  for (size_t t = 0; t < st.tenants.size(); ++t) {
    const MappingSpace::State::TenantData& td = st.tdata[t];
    DecodedTenant& dt = out[t];
    dt.variant = st.Value(x, td.variant_slot);
    const zoo::ModelInfo& model = *td.variants[static_cast<size_t>(dt.variant)];
    const int n = static_cast<int>(model.blocks.size());
    for (int slot : td.cut_slots) {
      const int cut = ScaleCut(st.Value(x, slot), n, td.max_blocks);
      if (cut > 0 && cut < n) dt.cuts.push_back(cut);
    }
    std::sort(dt.cuts.begin(), dt.cuts.end());
    dt.cuts.erase(std::unique(dt.cuts.begin(), dt.cuts.end()), dt.cuts.end());
    int begin = 0;
    for (size_t k = 0; k <= dt.cuts.size(); ++k) {
      const int end = k < dt.cuts.size() ? dt.cuts[k] : n;
      const int want = st.Value(x, td.unit_slots[k]) % n_online;
      // The chosen unit, or the next online one that runs the stage (one that runs the whole
      // model exists: Create checked it).
      int chosen = want;
      for (int j = 0; j < n_online; ++j) {
        const int idx = (want + j) % n_online;
        if (CanRun(st.info, st.info.units[static_cast<size_t>(online[static_cast<size_t>(idx)])], model, begin, end)) {
          chosen = idx;
          break;
        }
      }
      dt.units.push_back(chosen);
      begin = end;
    }
  }
  return out;
}

std::vector<double> SnappedPoint(const MappingSpace::State& st, const std::vector<double>& x_in) {
  std::vector<double> x = x_in;
  x.resize(static_cast<size_t>(st.box.dims()), 0.0);
  for (double& v : x) {
    if (!std::isfinite(v)) v = 0.0;
  }
  st.box.Snap(&x);
  return x;
}

}  // namespace

Configuration MappingSpace::Decode(const std::vector<double>& x_in) const {
  const State& st = *state_;
  const std::vector<double> x = SnappedPoint(st, x_in);
  Configuration c;
  const int mi = st.Value(x, 0);
  c.power_mode = st.modes[static_cast<size_t>(mi)];
  const std::vector<int>& online = st.online[static_cast<size_t>(mi)];
  const std::vector<DecodedTenant> decoded = DecodeIndices(st, x, mi);
  for (size_t t = 0; t < st.tenants.size(); ++t) {
    const MappingTenant& mt = st.tenants[t];
    const DecodedTenant& dt = decoded[t];
    const zoo::ModelInfo& model = *st.tdata[t].variants[static_cast<size_t>(dt.variant)];
    TenantConfig tc;
    tc.name = mt.name;
    tc.model = model.name;
    tc.arrival = mt.arrival;
    tc.rate_rps = mt.rate_rps;
    tc.concurrency = mt.concurrency;
    int begin = 0;
    for (size_t k = 0; k < dt.units.size(); ++k) {
      const int end = k < dt.cuts.size() ? dt.cuts[k] : static_cast<int>(model.blocks.size());
      tc.stages.push_back(Stage{begin, end, st.info.units[static_cast<size_t>(online[static_cast<size_t>(dt.units[k])])].id});
      begin = end;
    }
    c.tenants.push_back(std::move(tc));
  }
  return c;
}

std::vector<double> MappingSpace::Canonical(const std::vector<double>& x_in) const {
  // Encode(Decode(x)) without building the configuration: the searches call it for every
  // candidate they check.
  const State& st = *state_;
  const std::vector<double> x = SnappedPoint(st, x_in);
  std::vector<double> out(static_cast<size_t>(st.box.dims()), 0.0);
  const int mi = st.Value(x, 0);
  st.Set(&out, 0, mi);
  const std::vector<DecodedTenant> decoded = DecodeIndices(st, x, mi);
  for (size_t t = 0; t < st.tenants.size(); ++t) {
    const State::TenantData& td = st.tdata[t];
    const DecodedTenant& dt = decoded[t];
    st.Set(&out, td.variant_slot, dt.variant);
    const int n = static_cast<int>(td.variants[static_cast<size_t>(dt.variant)]->blocks.size());
    for (size_t k = 0; k < dt.cuts.size(); ++k) {
      // The smallest cut value that scales to this block, as Encode writes it.
      int value = 0;
      while (value < td.max_blocks && ScaleCut(value, n, td.max_blocks) != dt.cuts[k]) ++value;
      st.Set(&out, td.cut_slots[k], value);
    }
    for (size_t k = 0; k < dt.units.size(); ++k) st.Set(&out, td.unit_slots[k], dt.units[k]);
  }
  return out;
}

StatusOr<std::vector<double>> MappingSpace::Encode(const Configuration& config) const {
  const State& st = *state_;
  const auto mode_it = std::find(st.modes.begin(), st.modes.end(), config.power_mode);
  if (mode_it == st.modes.end()) {
    std::string allowed;
    for (int id : st.modes) allowed += (allowed.empty() ? "" : ", ") + std::to_string(id);
    return InvalidArgument("power mode " + std::to_string(config.power_mode) +
                           " is not in the mapping space: allowed modes are " + allowed);
  }
  if (!config.frequency_mhz.empty()) {
    return InvalidArgument("frequency overrides (" + config.frequency_mhz.begin()->first +
                           " ...) are not part of the mapping space: drop them");
  }
  if (config.tenants.size() != st.tenants.size()) {
    return InvalidArgument("the configuration has " + std::to_string(config.tenants.size()) +
                           " tenants but the mapping space has " + std::to_string(st.tenants.size()));
  }
  // The space's arrival figures: a configuration from an earlier interval may carry other rates.
  Configuration c = config;
  for (size_t t = 0; t < c.tenants.size(); ++t) {
    c.tenants[t].arrival = st.tenants[t].arrival;
    c.tenants[t].rate_rps = st.tenants[t].rate_rps;
    c.tenants[t].concurrency = st.tenants[t].concurrency;
  }
  ECOMAP_RETURN_IF_ERROR(platform::ValidateConfiguration(st.info, c, st.lookup));

  const size_t mi = static_cast<size_t>(mode_it - st.modes.begin());
  std::vector<double> x(static_cast<size_t>(st.box.dims()), 0.0);
  st.Set(&x, 0, static_cast<int>(mi));
  const std::vector<int>& online = st.online[mi];
  for (size_t t = 0; t < c.tenants.size(); ++t) {
    const TenantConfig& tc = c.tenants[t];
    const MappingTenant& mt = st.tenants[t];
    const State::TenantData& td = st.tdata[t];
    const std::string label = "tenant " + std::to_string(t) + " '" + mt.name + "'";
    if (tc.name != mt.name) {
      return InvalidArgument(label + ": the configuration's tenant " + std::to_string(t) + " is named '" + tc.name +
                             "': tenants must come in the space's order with its names");
    }
    int vi = -1;
    for (size_t v = 0; v < td.variants.size(); ++v) {
      if (td.variants[v]->name == tc.model) vi = static_cast<int>(v);
    }
    if (vi < 0) {
      std::string allowed;
      for (const std::string& v : mt.variants) allowed += (allowed.empty() ? "" : ", ") + v;
      return InvalidArgument(label + ": model '" + tc.model + "' is not an allowed variant (" + allowed + ")");
    }
    st.Set(&x, td.variant_slot, vi);
    if (static_cast<int>(tc.stages.size()) > st.options.max_stages) {
      return InvalidArgument(label + ": " + std::to_string(tc.stages.size()) + " stages, the space allows at most " +
                             std::to_string(st.options.max_stages));
    }
    const int n = static_cast<int>(td.variants[static_cast<size_t>(vi)]->blocks.size());
    const std::vector<int> cuts = platform::CutPoints(tc.stages);
    for (size_t k = 0; k < cuts.size(); ++k) {
      int value = -1;
      for (int v = 0; v <= td.max_blocks && value < 0; ++v) {
        if (ScaleCut(v, n, td.max_blocks) == cuts[k]) value = v;
      }
      if (value < 0) return Internal(label + ": cut " + std::to_string(cuts[k]) + " has no encoding");
      st.Set(&x, td.cut_slots[k], value);
    }
    // Unused cut slots stay 0 ("no cut").
    for (size_t k = 0; k < tc.stages.size(); ++k) {
      int ui = -1;
      for (size_t j = 0; j < online.size(); ++j) {
        if (st.info.units[static_cast<size_t>(online[j])].id == tc.stages[k].unit) ui = static_cast<int>(j);
      }
      if (ui < 0) {
        std::string on;
        for (int u : online) on += (on.empty() ? "" : ", ") + st.info.units[static_cast<size_t>(u)].id;
        return InvalidArgument(label + " stage " + std::to_string(k) + ": unit " + tc.stages[k].unit +
                               " is offline in power mode " + std::to_string(config.power_mode) +
                               ": online units are " + on);
      }
      st.Set(&x, td.unit_slots[k], ui);
    }
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// The objective.

Status ObjectiveWeights::Validate() const {
  const std::pair<const char*, double> fields[] = {{"energy", energy},   {"cdp", cdp},  {"accuracy", accuracy},
                                                   {"penalty_base", penalty_base}, {"slo", slo}, {"power", power}};
  for (const auto& [name, v] : fields) {
    if (!std::isfinite(v) || v < 0) {
      return InvalidArgument(std::string("objective weight ") + name + " = " + fmt::format("{:g}", v) + " must be a finite number >= 0");
    }
  }
  return Status::Ok();
}

Status MappingGoal::Validate() const {
  if (!std::isfinite(threshold.value()) || threshold.value() < 0) {
    return InvalidArgument("power threshold " + fmt::format("{:g}", threshold.value()) + " W must be a finite number >= 0 (0: none)");
  }
  if (!std::isfinite(intensity.value()) || intensity.value() < 0) {
    return InvalidArgument("carbon intensity " + fmt::format("{:g}", intensity.value()) + " gCO2/kWh must be a finite number >= 0");
  }
  if (!std::isfinite(reference.power.value()) || reference.power.value() < 0 || !std::isfinite(reference.cdp_g_s) ||
      reference.cdp_g_s < 0) {
    return InvalidArgument("reference power/CDP must be finite and >= 0 (0: computed)");
  }
  return weights.Validate();
}

namespace {

// Mean over tenants of per-inference carbon x p95 (gCO2eq*s); 0 without intensity.
double MeanCdp(const Performance& perf, GramsPerKwh intensity) {
  if (perf.tenants.empty() || intensity.value() <= 0) return 0.0;
  double total_rps = 0;
  for (const auto& t : perf.tenants) total_rps += std::max(0.0, t.throughput_rps);
  total_rps = std::max(total_rps, 1e-3);  // a dead configuration: huge but finite
  const GramsCO2 per_inf = CarbonPerInference(perf.power, intensity, total_rps);
  double sum = 0;
  for (const auto& t : perf.tenants) sum += CarbonDelay(per_inf, t.latency_p95).value();
  return sum / static_cast<double>(perf.tenants.size());
}

}  // namespace

MappingScore ScoreConfiguration(const MappingSpace& space, const MappingGoal& goal, const Configuration& config,
                                const Performance& perf) {
  MappingScore s;
  const ObjectiveWeights& w = goal.weights;
  s.power = perf.power;
  s.cdp_g_s = MeanCdp(perf, goal.intensity);
  const auto& tenants = space.tenants();
  const platform::ModelLookup& lookup = space.lookup();

  double slo_excess = 0;
  bool all_met = true;
  double weight_sum = 0, loss_sum = 0;
  s.slo_met.assign(config.tenants.size(), true);
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const TenantConfig& tc = config.tenants[i];
    const platform::TenantPerformance* tp = i < perf.tenants.size() ? &perf.tenants[i] : nullptr;
    const MappingTenant* mt = i < tenants.size() ? &tenants[i] : nullptr;
    bool met = tp != nullptr;
    double excess = tp == nullptr ? 1.0 : 0.0;
    if (tp != nullptr && mt != nullptr) {
      if (mt->slo_p95.value() > 0 && tp->latency_p95 > mt->slo_p95) {
        met = false;
        excess += std::min(100.0, tp->latency_p95.value() / mt->slo_p95.value() - 1.0);
      }
      if (tp->saturated) {
        met = false;
        excess += 1.0;
      }
      if (mt->min_throughput_rps > 0 && tp->throughput_rps < mt->min_throughput_rps) {
        met = false;
        excess += (mt->min_throughput_rps - std::max(0.0, tp->throughput_rps)) / mt->min_throughput_rps;
      }
    }
    s.slo_met[i] = met;
    all_met = all_met && met;
    slo_excess += excess;
    // Accuracy loss against the tenant's best allowed variant, weighted by its requests.
    double best = 0, acc = 0;
    if (mt != nullptr) {
      for (const std::string& v : mt->variants) {
        const zoo::ModelInfo* m = lookup(v);
        if (m != nullptr) best = std::max(best, m->accuracy);
      }
    }
    const zoo::ModelInfo* m = lookup(tc.model);
    acc = m != nullptr ? m->accuracy : best;
    double weight = 1.0;
    if (tc.arrival == ArrivalKind::kOpenLoop) {
      weight = tc.rate_rps;
    } else if (tp != nullptr) {
      weight = tp->throughput_rps;
    }
    weight = std::isfinite(weight) ? std::max(0.0, weight) : 0.0;
    weight_sum += weight;
    loss_sum += weight * std::max(0.0, best - acc);
  }
  s.accuracy_loss_pts = weight_sum > 0 ? loss_sum / weight_sum : 0.0;

  const bool power_ok = goal.threshold.value() <= 0 || perf.power <= goal.threshold;
  s.feasible = all_met && power_ok;
  const double p_ref = goal.reference.power.value() > 0 ? goal.reference.power.value() : 1.0;
  const double cdp_ref = goal.reference.cdp_g_s > 0 ? goal.reference.cdp_g_s : 1.0;
  double cost = w.energy * perf.power.value() / p_ref + w.cdp * s.cdp_g_s / cdp_ref + w.accuracy * s.accuracy_loss_pts;
  if (!s.feasible) {
    cost += w.penalty_base + w.slo * slo_excess;
    if (!power_ok) cost += w.power * (perf.power.value() / goal.threshold.value() - 1.0);
  }
  s.cost = std::isfinite(cost) ? std::min(cost, 1e12) : 1e12;
  return s;
}

Configuration ReferenceConfiguration(const MappingSpace& space) {
  const PlatformInfo& info = space.info();
  // The allowed mode with the largest budget; no budget (MAXN) counts as the largest.
  int best_mode = space.modes().front();
  double best_budget = -1;
  for (int id : space.modes()) {
    const PowerMode* m = info.FindMode(id);
    const double b = m->budget ? m->budget->value() : 1e18;
    if (b > best_budget) {
      best_budget = b;
      best_mode = id;
    }
  }
  const std::vector<std::string> online = space.OnlineUnits(best_mode);
  const platform::ModelLookup& lookup = space.lookup();
  Configuration c;
  c.power_mode = best_mode;
  for (const MappingTenant& t : space.tenants()) {
    // The most accurate allowed variant (the catalogue's accuracy; ties: the later one).
    std::string variant = t.variants.back();
    double acc = -1;
    for (const std::string& v : t.variants) {
      const zoo::ModelInfo* m = lookup(v);
      if (m != nullptr && m->accuracy >= acc) {
        acc = m->accuracy;
        variant = v;
      }
    }
    TenantConfig tc;
    tc.name = t.name;
    tc.model = variant;
    tc.arrival = t.arrival;
    tc.rate_rps = t.rate_rps;
    tc.concurrency = t.concurrency;
    const zoo::ModelInfo* m = lookup(variant);
    const int n = m != nullptr ? static_cast<int>(m->blocks.size()) : 1;
    std::string unit;
    for (const std::string& u : online) {
      const ComputeUnit* cu = info.FindUnit(u);
      if (cu->kind == platform::UnitKind::kGpu && m != nullptr && CanRun(info, *cu, *m, 0, n)) unit = u;
    }
    for (const std::string& u : online) {
      if (unit.empty() && m != nullptr && CanRun(info, *info.FindUnit(u), *m, 0, n)) unit = u;
    }
    tc.stages.push_back(Stage{0, n, unit});
    c.tenants.push_back(std::move(tc));
  }
  return c;
}

StatusOr<MappingReference> ComputeReference(const MappingSpace& space, const estimator::Predictor& predictor,
                                            GramsPerKwh intensity) {
  const Configuration c = ReferenceConfiguration(space);
  StatusOr<Performance> p = predictor.Predict(c);
  if (!p.ok()) return p.status().WithContext("predicting the reference configuration with " + predictor.name());
  MappingReference r;
  r.power = p->power;
  r.cdp_g_s = MeanCdp(*p, intensity);
  return r;
}

// ---------------------------------------------------------------------------------------------
// The search.

StatusOr<MappingResult> SearchMapping(const MappingSpace& space, const estimator::Predictor& predictor,
                                      const MappingGoal& goal_in, Optimizer& optimizer, const Budget& budget,
                                      uint64_t seed, const std::vector<Configuration>& warm_start) {
  ECOMAP_RETURN_IF_ERROR(goal_in.Validate());
  ECOMAP_RETURN_IF_ERROR(budget.Validate());
  SteadyMonotonicClock steady;
  const MonotonicClock* clock = budget.clock != nullptr ? budget.clock : &steady;
  const auto t0 = clock->Now();
  std::chrono::nanoseconds predict_ns{0};

  MappingResult result;
  MappingGoal goal = goal_in;
  if (goal.reference.power.value() <= 0 || (goal.reference.cdp_g_s <= 0 && goal.intensity.value() > 0)) {
    const auto p0 = clock->Now();
    ECOMAP_ASSIGN_OR_RETURN(MappingReference ref, ComputeReference(space, predictor, goal.intensity));
    predict_ns += clock->Now() - p0;
    if (goal.reference.power.value() <= 0) goal.reference.power = ref.power;
    if (goal.reference.cdp_g_s <= 0) goal.reference.cdp_g_s = ref.cdp_g_s;
  }
  result.reference = goal.reference;

  std::vector<std::vector<double>> warm;
  for (size_t i = 0; i < warm_start.size(); ++i) {
    StatusOr<std::vector<double>> x = space.Encode(warm_start[i]);
    if (!x.ok()) return x.status().WithContext("warm start " + std::to_string(i));
    warm.push_back(std::move(*x));
  }
  if (budget.max_evals > 0 && static_cast<int>(warm.size()) > budget.max_evals) {
    warm.resize(static_cast<size_t>(budget.max_evals));
  }

  bool have_best = false;
  double best_cost = 0;
  BatchObjective objective = [&](const std::vector<std::vector<double>>& xs, std::vector<double>* values) -> Status {
    std::vector<Configuration> configs;
    configs.reserve(xs.size());
    for (const auto& x : xs) configs.push_back(space.Decode(x));
    const auto p0 = clock->Now();
    StatusOr<std::vector<Performance>> perf = predictor.PredictBatch(configs);
    predict_ns += clock->Now() - p0;
    if (!perf.ok()) return perf.status().WithContext("predictor " + predictor.name());
    if (perf->size() != configs.size()) {
      return Internal("predictor " + predictor.name() + " returned " + std::to_string(perf->size()) +
                      " results for " + std::to_string(configs.size()) + " configurations");
    }
    for (size_t i = 0; i < configs.size(); ++i) {
      MappingScore s = ScoreConfiguration(space, goal, configs[i], (*perf)[i]);
      values->push_back(-s.cost);
      if (!have_best || s.cost < best_cost) {
        have_best = true;
        best_cost = s.cost;
        result.config = configs[i];
        result.predicted = (*perf)[i];
        result.score = std::move(s);
      }
    }
    return Status::Ok();
  };

  // Warm starts: one batch, recorded as batch 0.
  SearchResult merged;
  if (!warm.empty()) {
    for (auto& x : warm) space.box().Snap(&x);
    std::vector<double> fx;
    ECOMAP_RETURN_IF_ERROR(objective(warm, &fx));
    for (size_t i = 0; i < warm.size(); ++i) {
      merged.history.push_back(Evaluation{warm[i], fx[i], 0});
      if (merged.best_trace.empty() || fx[i] > merged.best_f) {
        merged.best_f = fx[i];
        merged.best_x = warm[i];
      }
      merged.best_trace.push_back(merged.best_f);
    }
    merged.evaluations = static_cast<int>(warm.size());
    merged.objective_calls = 1;
    result.warm_start_evals = static_cast<int>(warm.size());
  }

  Budget rest = budget;
  bool run_optimizer = true;
  if (budget.max_evals > 0) {
    rest.max_evals = budget.max_evals - static_cast<int>(warm.size());
    if (rest.max_evals <= 0) run_optimizer = false;
  }
  if (budget.max_time.value() > 0) {
    const double used_ms = std::chrono::duration<double, std::milli>(clock->Now() - t0).count();
    rest.max_time = Milliseconds(budget.max_time.value() - used_ms);
    if (rest.max_time.value() <= 0) {
      run_optimizer = false;
      merged.stopped_by_time = true;
    }
  }
  if (!run_optimizer && warm.empty()) {
    return InvalidArgument("the time budget ran out before any configuration was evaluated: raise the budget");
  }
  if (run_optimizer) {
    Problem problem{space.box(), objective, [&space](const std::vector<double>& x) { return space.Canonical(x); }};
    StatusOr<SearchResult> r = optimizer.Maximize(problem, rest, seed);
    if (!r.ok()) {
      std::string ctx = optimizer.name() + " over the mapping space";
      if (!warm.empty()) {
        ctx += " (" + std::to_string(rest.max_evals) + " evaluations left after " + std::to_string(warm.size()) +
               " warm starts)";
      }
      return r.status().WithContext(ctx);
    }
    const int shift = merged.objective_calls;
    for (Evaluation e : r->history) {
      e.batch += shift;
      if (merged.history.empty() && merged.best_trace.empty()) merged.best_f = e.f;
      if (merged.best_trace.empty() || e.f > merged.best_f) {
        merged.best_f = e.f;
        merged.best_x = e.x;
      }
      merged.best_trace.push_back(merged.best_f);
      merged.history.push_back(std::move(e));
    }
    merged.evaluations += r->evaluations;
    merged.objective_calls += r->objective_calls;
    merged.repeats += r->repeats;
    merged.exhausted = r->exhausted;
    merged.stopped_by_time = r->stopped_by_time;
  }
  if (!have_best) return Internal("the mapping search evaluated nothing");
  const auto total = clock->Now() - t0;
  merged.total_time = Milliseconds(std::chrono::duration<double, std::milli>(total).count());
  merged.function_time = Milliseconds(std::chrono::duration<double, std::milli>(predict_ns).count());
  result.search = std::move(merged);
  result.total_ms = result.search.total_time.value();
  result.predict_ms = result.search.function_time.value();
  result.search_ms = std::max(0.0, result.total_ms - result.predict_ms);
  return result;
}

}  // namespace ecomap::search
