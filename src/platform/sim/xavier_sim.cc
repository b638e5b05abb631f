#include "platform/sim/xavier_sim.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace ecomap::platform {
namespace {

constexpr int kCpu = 0;
constexpr int kGpu = 1;
constexpr int kDla0 = 2;
constexpr int kDla1 = 3;
constexpr int kNumUnits = 4;
const char* const kUnitIds[kNumUnits] = {"CPU", "GPU", "DLA0", "DLA1"};

int UnitIndex(const std::string& id) {
  for (int u = 0; u < kNumUnits; ++u) {
    if (id == kUnitIds[u]) return u;
  }
  return -1;
}

double VoltageScaledFactor(const XavierSimParams& p, const XavierSimParams::Unit& u, double mhz) {
  if (u.max_mhz <= 0) return 0;
  double span = u.max_mhz - u.min_mhz;
  double x = span > 0 ? std::clamp((mhz - u.min_mhz) / span, 0.0, 1.0) : 1.0;
  double v = p.voltage_floor_ratio + (1.0 - p.voltage_floor_ratio) * x;
  return (mhz / u.max_mhz) * v * v;
}

// Deterministic standard normal from the engine (Box-Muller; the same on every library).
double Gaussian(std::mt19937_64& rng) {
  constexpr double kTwoPi = 6.283185307179586;
  double u1 = (static_cast<double>(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  double u2 = (static_cast<double>(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

// Rails of a Xavier tegrastats line and the idle floor's split over them (L4T 32 proportions).
struct RailSplit {
  const char* name;
  double idle_share;
};
constexpr RailSplit kRails[] = {{"GPU", 0.167}, {"CPU", 0.056}, {"SOC", 0.361},
                                {"CV", 0.0},    {"VDDRQ", 0.028}, {"SYS5V", 0.388}};

}  // namespace

XavierSimParams XavierSimParams::Calibrated() {
  XavierSimParams p;
  // zoo::BlockKind order: conv, depthwise, linear, attention, pool, embedding, other.
  // CPU: 8 Carmel cores, 2 x 128-bit NEON FMA per core = 16 FP32 FLOP per clock per core.
  p.cpu.peak_ops_per_cycle = 16;
  p.cpu.weight_bytes_per_param = 4;
  p.cpu.activation_bytes_scale = 1.0;
  p.cpu.bandwidth_share = 0.4;
  p.cpu.launch_overhead_ms = 0.01;
  p.cpu.efficiency = {0.35, 0.10, 0.25, 0.20, 0.10, 0.05, 0.10};
  p.cpu.efficiency_fp16 = p.cpu.efficiency;  // the CPU runs FP32 either way
  p.cpu.cv = 0.08;
  p.cpu.handoff_ms = 0.03;
  p.cpu.max_dynamic_w = 1.6;
  p.cpu.min_mhz = 115.2;
  p.cpu.max_mhz = 2265.6;
  // GPU: 512 CUDA cores, 64 tensor cores; INT8 peak ~22.6 TOPS at 1377 MHz = 16384 ops/clock.
  p.gpu.peak_ops_per_cycle = 16384;
  p.gpu.weight_bytes_per_param = 1;
  p.gpu.activation_bytes_scale = 0.25;
  p.gpu.bandwidth_share = 0.9;
  p.gpu.launch_overhead_ms = 0;
  p.gpu.layer_overhead_ms = 0.0185;
  p.gpu.efficiency = {0.47, 0.15, 0.10, 0.08, 0.05, 0.02, 0.05};
  p.gpu.efficiency_fp16 = {0.55, 0.35, 0.15, 0.12, 0.08, 0.03, 0.08};
  p.gpu.layer_flops_half = 1.44e7;
  p.gpu.cv = 0.012;
  p.gpu.handoff_ms = 0.025;
  p.gpu.max_dynamic_w = 15.0;
  p.gpu.min_mhz = 318.75;
  p.gpu.max_mhz = 1377;
  // DLA (NVDLA v1): ~5 INT8 TOPS at 1395.2 MHz = 3584 ops/clock; conv/pool/FC-style only.
  p.dla.peak_ops_per_cycle = 3584;
  p.dla.weight_bytes_per_param = 1;
  p.dla.activation_bytes_scale = 0.25;
  p.dla.bandwidth_share = 0.35;
  p.dla.launch_overhead_ms = 0.02;
  p.dla.efficiency = {0.45, 0.12, 0.15, 0.0, 0.15, 0.0, 0.0};
  p.dla.efficiency_fp16 = {0.45, 0.12, 0.15, 0.0, 0.15, 0.0, 0.0};
  p.dla.cv = 0.02;
  p.dla.handoff_ms = 0.045;
  p.dla.max_dynamic_w = 2.5;
  p.dla.min_mhz = 115.2;
  p.dla.max_mhz = 1395.2;
  return p;
}

PlatformInfo XavierSim::MakeInfo() {
  using zoo::BlockKind;
  PlatformInfo info;
  info.name = "xavier-sim";
  info.description =
      "simulated NVIDIA Jetson AGX Xavier (request-level discrete-event simulation calibrated to "
      "public measurements; nothing runs)";
  info.provenance = Provenance::kSimulated;
  info.default_mode = 2;
  info.units = {
      ComputeUnit{
          "CPU", UnitKind::kCpu, "8-core NVIDIA Carmel ARMv8.2 (4 clusters of 2), FP32", 8, 2265.6, {}, ""},
      ComputeUnit{
          "GPU", UnitKind::kGpu, "512-core Volta GPU with 64 tensor cores, TensorRT INT8", 1, 1377, {}, ""},
      ComputeUnit{"DLA0",
                  UnitKind::kDla,
                  "NVDLA v1 engine 0, TensorRT INT8, GPU fallback",
                  1,
                  1395.2,
                  {BlockKind::kConv, BlockKind::kDepthwise, BlockKind::kLinear, BlockKind::kPool},
                  "GPU"},
      ComputeUnit{"DLA1",
                  UnitKind::kDla,
                  "NVDLA v1 engine 1, TensorRT INT8, GPU fallback",
                  1,
                  1395.2,
                  {BlockKind::kConv, BlockKind::kDepthwise, BlockKind::kLinear, BlockKind::kPool},
                  "GPU"},
  };
  // nvpmodel modes of L4T 32 (REFERENCE.md): id, name, budget, online CPUs, CPU/GPU/DLA/EMC MHz.
  struct Row {
    int id;
    const char* name;
    double budget_w;  // 0: none
    int cpus;
    double cpu, gpu, dla, emc;
  };
  const Row rows[] = {
      {0, "MAXN", 0, 8, 2265.6, 1377, 1395.2, 2133},
      {1, "MODE_10W", 10, 2, 1200, 520, 550, 1065.6},
      {2, "MODE_15W", 15, 4, 1200, 670, 750, 1331.2},
      {3, "MODE_30W_ALL", 30, 8, 1200, 900, 1050, 1600},
      {4, "MODE_30W_6CORE", 30, 6, 1450, 900, 1050, 1600},
      {5, "MODE_30W_4CORE", 30, 4, 1780, 900, 1050, 1600},
      {6, "MODE_30W_2CORE", 30, 2, 2100, 900, 1050, 1600},
  };
  for (const Row& r : rows) {
    PowerMode m;
    m.id = r.id;
    m.name = r.name;
    if (r.budget_w > 0) m.budget = Watts(r.budget_w);
    m.max_frequency_mhz = {{"CPU", r.cpu}, {"GPU", r.gpu}, {"DLA0", r.dla}, {"DLA1", r.dla}};
    m.online_cpu_cores = r.cpus;
    m.emc_max_mhz = r.emc;
    info.modes.push_back(std::move(m));
  }
  return info;
}

XavierSim::XavierSim(const PlatformOptions& options, XavierSimParams params)
    : info_(MakeInfo()),
      params_(params),
      lookup_(options.model_lookup ? options.model_lookup : DefaultModelLookup()),
      clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()),
      noise_(options.noise),
      seed_(options.seed),
      current_mode_(info_.default_mode),
      rng_(options.seed) {}

StatusOr<int> XavierSim::CurrentMode() {
  std::lock_guard<std::mutex> lock(mu_);
  return current_mode_;
}


namespace {

// The cost of switching from mode `from` to `to` (s): none, a settle pause, or a reboot.
double SwitchCost(const XavierSimParams& p, int from, int to) {
  if (from == to) return 0;
  if (from == p.reboot_mode || to == p.reboot_mode) return p.reboot_pause_s;
  return p.switch_pause_s;
}

}  // namespace

Status XavierSim::ApplyMode(int mode_id) {
  if (info_.FindMode(mode_id) == nullptr) {
    return NotFound("xavier-sim: power mode " + std::to_string(mode_id) + " does not exist: use one of " +
                    info_.ModeList());
  }
  std::lock_guard<std::mutex> lock(mu_);
  pending_pause_s_ += SwitchCost(params_, current_mode_, mode_id);
  current_mode_ = mode_id;
  last_.reset();
  return Status::Ok();
}

Status XavierSim::Validate(const Configuration& config) const {
  return ValidateConfiguration(info_, config, lookup_);
}

StatusOr<Watts> XavierSim::IdlePower(int mode_id) const {
  if (info_.FindMode(mode_id) == nullptr || mode_id < 0 ||
      mode_id >= static_cast<int>(params_.idle_w.size())) {
    return NotFound("xavier-sim: power mode " + std::to_string(mode_id) + " does not exist: use one of " +
                    info_.ModeList());
  }
  return Watts(params_.idle_w[static_cast<size_t>(mode_id)]);
}

double XavierSim::WallPower(double module_w) const {
  return module_w / params_.wall_psu_efficiency + params_.wall_board_w;
}

StatusOr<sim::Network> XavierSim::BuildNetwork(const Configuration& config, double pause_s,
                                               double warmup_s) const {
  ECOMAP_RETURN_IF_ERROR(Validate(config));
  const XavierSimParams& P = params_;
  const PowerMode& mode = *info_.FindMode(config.power_mode);
  const bool fp16 = P.precision == Precision::kFp16;

  // Clocks of this configuration (MHz): the mode's caps, or the overrides below them.
  double mhz[kNumUnits];
  for (int u = 0; u < kNumUnits; ++u) {
    auto cap = mode.max_frequency_mhz.find(kUnitIds[u]);
    mhz[u] = cap != mode.max_frequency_mhz.end() ? cap->second : info_.units[u].max_frequency_mhz;
    if (auto o = config.frequency_mhz.find(kUnitIds[u]); o != config.frequency_mhz.end()) {
      mhz[u] = o->second;
    }
  }
  const int cores = mode.online_cpu_cores > 0 ? mode.online_cpu_cores : 8;
  const double emc_mhz = mode.emc_max_mhz.value_or(P.emc_max_mhz);
  const double emc_bw = emc_mhz * 1e6 * P.emc_bytes_per_cycle * P.emc_efficiency;  // bytes/s
  const double cpu_speedup = cores / (1.0 + P.cpu_parallel_alpha * (cores - 1));
  auto unit_params = [&](int u) -> const XavierSimParams::Unit& {
    return u == kCpu ? P.cpu : (u == kGpu ? P.gpu : P.dla);
  };

  sim::Network net;
  net.emc_bytes_per_s = emc_bw;
  // EMC + DRAM energy per byte: the full-bandwidth power at this EMC clock over that bandwidth.
  net.emc_j_per_byte = P.emc_max_dynamic_w * (emc_mhz / P.emc_max_mhz) / emc_bw;
  net.idle_w = P.idle_w[static_cast<size_t>(std::clamp(mode.id, 0, 6))];
  net.cpu_unit = kCpu;
  net.host_cpu_busy_w = P.cpu.max_dynamic_w * VoltageScaledFactor(P, P.cpu, mhz[kCpu]);
  for (int u = 0; u < kNumUnits; ++u) {
    const XavierSimParams::Unit& up = unit_params(u);
    sim::UnitSpec us;
    us.id = kUnitIds[u];
    us.cv = up.cv;
    us.bandwidth_share = up.bandwidth_share;
    us.busy_w = up.max_dynamic_w * VoltageScaledFactor(P, up, mhz[u]) * (u == kCpu ? cores : 1);
    if (u == kGpu) {
      us.discipline = sim::Discipline::kTimeSlice;
      us.quantum_s = P.gpu_quantum_ms / 1000.0;
      us.switch_s = P.gpu_switch_ms / 1000.0;
    } else if (u == kCpu) {
      us.discipline = sim::Discipline::kProcessorSharing;
      us.share_overhead = P.cpu_share_overhead;
    } else {
      us.discipline = sim::Discipline::kFifo;
    }
    if (pause_s > 0) {
      us.pause_begin_s = warmup_s;
      us.pause_end_s = warmup_s + pause_s;
    }
    net.units.push_back(std::move(us));
  }

  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const TenantConfig& t = config.tenants[i];
    const zoo::ModelInfo* model = lookup_(t.model);  // non-null: validated
    sim::TenantSpec ts;
    ts.name = t.name.empty() ? "t" + std::to_string(i) : t.name;
    ts.open = t.arrival == ArrivalKind::kOpenLoop;
    ts.rate_rps = t.rate_rps;
    ts.concurrency = t.concurrency;
    ts.overhead_s = P.request_overhead_ms / 1000.0;
    if (ts.open) ts.max_outstanding = static_cast<int>(std::max(64.0, t.rate_rps * P.queue_limit_s));
    int prev_unit = -1, prev_stage = -1;
    double prev_out_bytes = 0, prev_act_scale = 0;
    for (size_t s = 0; s < t.stages.size(); ++s) {
      const Stage& st = t.stages[s];
      const int stage_unit = UnitIndex(st.unit);
      for (int b = st.begin_block; b < st.end_block; ++b) {
        const zoo::BlockDescriptor& block = model->blocks[static_cast<size_t>(b)];
        const int kind = static_cast<int>(block.kind);
        int unit = stage_unit;
        if (unit == kDla0 || unit == kDla1) {
          const bool native =
              block.dla_supported && info_.units[unit].RunsNatively(block.kind) && P.dla.efficiency[kind] > 0;
          if (!native) unit = kGpu;  // TensorRT GPU fallback
        }
        const XavierSimParams::Unit& up = unit_params(unit);
        const bool half = fp16 && unit != kCpu;
        const double act_scale = up.activation_bytes_scale * (half ? 2.0 : 1.0);
        const bool new_segment = ts.segments.empty() || unit != prev_unit || static_cast<int>(s) != prev_stage;
        if (new_segment) {
          sim::SegmentSpec seg;
          seg.unit = unit;
          if (prev_unit >= 0) {
            if (unit != prev_unit) {
              // The activation goes through DRAM: written by the producer, read by the consumer.
              seg.transfer_fixed_s = unit_params(prev_unit).handoff_ms / 1000.0;
              seg.transfer_bytes = 2.0 * prev_out_bytes * std::max(prev_act_scale, act_scale);
            } else {
              seg.transfer_fixed_s = P.stage_handoff_ms / 1000.0;
            }
          }
          if (unit != kCpu) seg.host_cpu_s = P.host_cpu_ms_per_segment / 1000.0;
          ts.segments.push_back(std::move(seg));
        }
        sim::SegmentSpec& seg = ts.segments.back();
        const double peak = up.peak_ops_per_cycle * mhz[unit] * 1e6 * (unit == kCpu ? cpu_speedup : 1.0) *
                            (half ? 0.5 : 1.0);
        const double e = half ? up.efficiency_fp16[kind] : up.efficiency[kind];
        double eff = e > 0 ? e : 0.05;
        const int layers = std::max(1, block.layers);  // 0: unknown, one kernel
        if (up.layer_flops_half > 0 && block.flops > 0) {
          const double per_layer = block.flops / layers;
          eff *= per_layer / (per_layer + up.layer_flops_half);
        }
        const double bytes = static_cast<double>(block.params) * up.weight_bytes_per_param * (half ? 2.0 : 1.0) +
                             static_cast<double>(block.input_bytes + block.output_bytes) * act_scale;
        seg.blocks.push_back(sim::BlockSpec{block.flops / (peak * eff), bytes / (emc_bw * up.bandwidth_share), bytes});
        seg.overhead_s += (up.launch_overhead_ms + up.layer_overhead_ms * layers) / 1000.0;
        prev_unit = unit;
        prev_stage = static_cast<int>(s);
        prev_out_bytes = static_cast<double>(block.output_bytes);
        prev_act_scale = act_scale;
      }
    }
    net.tenants.push_back(std::move(ts));
  }
  return net;
}

StatusOr<sim::RunResult> XavierSim::Simulate(const Configuration& config, const sim::RunOptions& run,
                                             double pause_s) const {
  ECOMAP_ASSIGN_OR_RETURN(sim::Network net, BuildNetwork(config, pause_s, run.warmup_s));
  return sim::Run(net, run);
}

Performance XavierSim::ToPerformance(const Configuration& config, const sim::RunResult& r) const {
  Performance perf;
  perf.provenance = Provenance::kSimulated;
  perf.window = Seconds(r.window_s);
  perf.emc_utilisation = r.emc_utilisation;
  perf.power = Watts(r.mean_power_w);
  for (int u = 0; u < kNumUnits; ++u) perf.unit_utilisation[kUnitIds[u]] = r.unit_busy[static_cast<size_t>(u)];
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const sim::TenantResult& tr = r.tenants[i];
    TenantPerformance tp;
    tp.name = tr.name;
    tp.latency_p50 = Milliseconds(tr.p50_s * 1000.0);
    tp.latency_p95 = Milliseconds(std::max(tr.p95_s, tr.p50_s) * 1000.0);
    tp.throughput_rps = tr.throughput_rps;
    tp.saturated = tr.saturated;
    perf.tenants.push_back(std::move(tp));
  }
  return perf;
}

sim::RunOptions XavierSim::RunFor(bool predict) const {
  const XavierSimParams& p = params_;
  sim::RunOptions run;
  run.warmup_s = predict ? p.predict_warmup_s : p.warmup_s;
  run.window_s = predict ? p.predict_window_s : p.window_s;
  run.max_completions = predict ? p.predict_max_completions : p.max_completions;
  run.max_events = predict ? p.predict_max_events : p.max_events;
  run.min_completions_per_tenant = p.min_completions;
  run.max_window_s = predict ? p.predict_max_window_s : p.max_window_s;
  return run;
}

StatusOr<Performance> XavierSim::Predict(const Configuration& config) const {
  sim::RunOptions run = RunFor(/*predict=*/true);
  run.seed = seed_ ^ 0x5EED5EEDULL;
  ECOMAP_ASSIGN_OR_RETURN(sim::RunResult r, Simulate(config, run));
  return ToPerformance(config, r);
}

XavierSim::MeasurementDraw XavierSim::NextDraw() {
  std::lock_guard<std::mutex> lock(mu_);
  return DrawLocked();
}

XavierSim::MeasurementDraw XavierSim::DrawLocked() {
  MeasurementDraw d;
  d.seed = rng_();
  if (noise_ > 0) d.noise_factor = std::max(0.5, 1.0 + noise_ * Gaussian(rng_));
  return d;
}

StatusOr<Performance> XavierSim::Measure(const Configuration& config, const MeasurementDraw& draw,
                                         int from_mode) const {
  ECOMAP_RETURN_IF_ERROR(Validate(config));
  return MeasureWith(config, draw, SwitchCost(params_, from_mode, config.power_mode), nullptr);
}

StatusOr<Performance> XavierSim::MeasureWith(const Configuration& config, const MeasurementDraw& draw,
                                             double pause, sim::RunResult* run_result) const {
  sim::RunOptions run = RunFor(/*predict=*/false);
  run.seed = draw.seed;
  // A pause shorter than a quarter of the window is simulated in it; a longer one (a reboot) is
  // an outage of pause / represented_s of the time the measurement stands for.
  const bool in_window = pause <= 0.25 * params_.window_s;
  ECOMAP_ASSIGN_OR_RETURN(sim::RunResult r, Simulate(config, run, in_window ? pause : 0));
  Performance perf = ToPerformance(config, r);
  if (!in_window) {
    const double f = std::min(1.0, pause / params_.represented_s);
    const double idle = params_.idle_w[static_cast<size_t>(std::clamp(config.power_mode, 0, 6))];
    perf.power = Watts((1 - f) * perf.power.value() + f * idle);
    for (size_t i = 0; i < perf.tenants.size(); ++i) {
      TenantPerformance& tp = perf.tenants[i];
      tp.throughput_rps *= (1 - f);
      // Requests that meet the outage wait on average half of it: when they are more than 5% of
      // the requests, the 95th percentile is one of them.
      if (f > 0.05) tp.latency_p95 = Milliseconds(std::max(tp.latency_p95.value(), 0.5 * pause * 1000.0));
      if (f > 0.5) tp.latency_p50 = Milliseconds(std::max(tp.latency_p50.value(), 0.5 * pause * 1000.0));
    }
  }
  perf.power = Watts(perf.power.value() * draw.noise_factor);
  if (run_result != nullptr) *run_result = std::move(r);
  return perf;
}

StatusOr<Performance> XavierSim::Evaluate(const Configuration& config) {
  ECOMAP_RETURN_IF_ERROR(Validate(config));
  MeasurementDraw draw;
  double pause = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    draw = DrawLocked();
    pause = pending_pause_s_ + SwitchCost(params_, current_mode_, config.power_mode);
  }
  sim::RunResult r;
  ECOMAP_ASSIGN_OR_RETURN(Performance perf, MeasureWith(config, draw, pause, &r));
  std::lock_guard<std::mutex> lock(mu_);
  current_mode_ = config.power_mode;
  pending_pause_s_ = 0;
  last_ = std::move(r);
  return perf;
}

StatusOr<PowerReading> XavierSim::ReadPower() {
  std::lock_guard<std::mutex> lock(mu_);
  const double idle = params_.idle_w[static_cast<size_t>(std::clamp(current_mode_, 0, 6))];
  // Dynamic power per rail from the last measurement's energies (idle after a mode change).
  double gpu = 0, cpu = 0, cv = 0, emc = 0;
  if (last_) {
    const double w = std::max(1e-9, last_->window_s);
    cpu = last_->unit_energy_j[kCpu] / w;
    gpu = last_->unit_energy_j[kGpu] / w;
    cv = (last_->unit_energy_j[kDla0] + last_->unit_energy_j[kDla1]) / w;
    emc = last_->emc_energy_j / w;
  }
  PowerReading r;
  r.time = clock_->Now();
  r.provenance = Provenance::kSimulated;
  double total = 0;
  for (const RailSplit& rail : kRails) {
    double v = rail.idle_share * idle;
    const std::string name = rail.name;
    if (name == "GPU") v += gpu;
    if (name == "CPU") v += cpu;
    if (name == "CV") v += cv;
    if (name == "SOC" || name == "VDDRQ") v += 0.5 * emc;
    if (noise_ > 0) v = std::max(0.0, v * (1.0 + noise_ * Gaussian(rng_)));
    r.rails.push_back(RailPower{name, Watts(v), std::nullopt, std::nullopt});
    total += v;
  }
  r.total = Watts(total);
  return r;
}

}  // namespace ecomap::platform
