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

// Highest utilisation an open-loop load may reach before it counts as saturated.
constexpr double kSaturation = 0.98;
constexpr double kZ95 = 1.6448536269514722;  // standard normal 95th percentile
// Quantiles of a Gamma(shape 2) variable as multiples of its mean.
constexpr double kGamma2Median = 0.8392;
constexpr double kGamma2P95 = 2.3724;

int UnitIndex(const std::string& id) {
  for (int u = 0; u < kNumUnits; ++u) {
    if (id == kUnitIds[u]) return u;
  }
  return -1;
}

// One block's cost on the unit that runs it: compute seconds and memory seconds at full EMC
// bandwidth share (scaled by the EMC slowdown later).
struct BlockCost {
  double compute_s = 0;
  double memory_s = 0;
};

// Consecutive blocks of one tenant on one unit.
struct Segment {
  int unit = 0;
  std::vector<BlockCost> blocks;
  double overhead_s = 0;
  double bytes = 0;  // DRAM bytes per request

  double Time(double emc_slowdown) const {
    double t = overhead_s;
    for (const BlockCost& b : blocks) t += std::max(b.compute_s, b.memory_s * emc_slowdown);
    return t;
  }
};

struct TenantModel {
  std::vector<Segment> segments;
  double fixed_delay_s = 0;      // request overhead + hand-offs (not queued)
  double transfer_memory_s = 0;  // DRAM time of the transfers (scaled by EMC slowdown)
  double bytes = 0;              // DRAM bytes per request, transfers included
  bool open = false;
  double rate = 0;               // open: offered req/s
  int population = 1;            // closed: requests outstanding
  int accelerator_segments = 0;  // GPU/DLA segments (host CPU submission cost)
};

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
  p.cpu.max_dynamic_w = 1.6;
  p.cpu.min_mhz = 115.2;
  p.cpu.max_mhz = 2265.6;
  // GPU: 512 CUDA cores, 64 tensor cores; INT8 peak ~22.6 TOPS at 1377 MHz = 16384 ops/clock.
  p.gpu.peak_ops_per_cycle = 16384;
  p.gpu.weight_bytes_per_param = 1;
  p.gpu.activation_bytes_scale = 0.25;
  p.gpu.bandwidth_share = 0.9;
  p.gpu.launch_overhead_ms = 0.008;
  p.gpu.efficiency = {0.192, 0.13, 0.10, 0.08, 0.05, 0.02, 0.05};
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
      "simulated NVIDIA Jetson AGX Xavier (analytical model calibrated to public figures; "
      "nothing runs)";
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
      current_mode_(info_.default_mode),
      rng_(options.seed) {}

StatusOr<int> XavierSim::CurrentMode() {
  std::lock_guard<std::mutex> lock(mu_);
  return current_mode_;
}

Status XavierSim::ApplyMode(int mode_id) {
  if (info_.FindMode(mode_id) == nullptr) {
    return NotFound("xavier-sim: power mode " + std::to_string(mode_id) + " does not exist: use one of " +
                    info_.ModeList());
  }
  std::lock_guard<std::mutex> lock(mu_);
  current_mode_ = mode_id;
  has_load_ = false;
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

// Per-rail power of one prediction (W).
struct XavierSim::Rails {
  double gpu = 0, cpu = 0, soc = 0, cv = 0, vddrq = 0, sys5v = 0;
};

StatusOr<Performance> XavierSim::Predict(const Configuration& config) const {
  return PredictImpl(config, nullptr);
}

StatusOr<Performance> XavierSim::PredictImpl(const Configuration& config, Rails* rails) const {
  ECOMAP_RETURN_IF_ERROR(Validate(config));
  const XavierSimParams& P = params_;
  const PowerMode& mode = *info_.FindMode(config.power_mode);

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

  // 1. Each tenant's pipeline as segments on the units that really run them.
  const size_t n = config.tenants.size();
  std::vector<TenantModel> tm(n);
  for (size_t i = 0; i < n; ++i) {
    const TenantConfig& t = config.tenants[i];
    const zoo::ModelInfo* model = lookup_(t.model);  // non-null: validated
    TenantModel& m = tm[i];
    m.open = t.arrival == ArrivalKind::kOpenLoop;
    m.rate = t.rate_rps;
    m.population = t.concurrency;
    m.fixed_delay_s = P.request_overhead_ms / 1000.0;
    int prev_unit = -1;
    int prev_stage = -1;
    double prev_out_bytes = 0;
    double prev_act_scale = 0;
    for (size_t s = 0; s < t.stages.size(); ++s) {
      const Stage& st = t.stages[s];
      const int stage_unit = UnitIndex(st.unit);
      for (int b = st.begin_block; b < st.end_block; ++b) {
        const zoo::BlockDescriptor& block = model->blocks[static_cast<size_t>(b)];
        const int kind = static_cast<int>(block.kind);
        int unit = stage_unit;
        if (unit == kDla0 || unit == kDla1) {
          bool native =
              block.dla_supported && info_.units[unit].RunsNatively(block.kind) && P.dla.efficiency[kind] > 0;
          if (!native) unit = kGpu;  // TensorRT GPU fallback
        }
        const XavierSimParams::Unit& up = unit_params(unit);
        const bool new_segment = m.segments.empty() || unit != prev_unit || static_cast<int>(s) != prev_stage;
        if (new_segment && prev_unit >= 0) {
          if (unit != prev_unit) {
            // Activation through DRAM: written by the producer, read by the consumer.
            double bytes = 2.0 * prev_out_bytes * std::max(prev_act_scale, up.activation_bytes_scale);
            m.fixed_delay_s += P.transfer_latency_ms / 1000.0;
            m.transfer_memory_s += bytes / emc_bw;
            m.bytes += bytes;
          } else {
            m.fixed_delay_s += P.stage_handoff_ms / 1000.0;
          }
        }
        if (new_segment) {
          m.segments.push_back(Segment{unit, {}, 0, 0});
          if (unit != kCpu) ++m.accelerator_segments;
        }
        Segment& seg = m.segments.back();
        double peak = up.peak_ops_per_cycle * mhz[unit] * 1e6 * (unit == kCpu ? cpu_speedup : 1.0);
        double eff = up.efficiency[kind] > 0 ? up.efficiency[kind] : 0.05;
        double bytes =
            static_cast<double>(block.params) * up.weight_bytes_per_param +
            static_cast<double>(block.input_bytes + block.output_bytes) * up.activation_bytes_scale;
        seg.blocks.push_back(BlockCost{block.flops / (peak * eff), bytes / (emc_bw * up.bandwidth_share)});
        seg.overhead_s += up.launch_overhead_ms / 1000.0;
        seg.bytes += bytes;
        m.bytes += bytes;
        prev_unit = unit;
        prev_stage = static_cast<int>(s);
        prev_out_bytes = static_cast<double>(block.output_bytes);
        prev_act_scale = up.activation_bytes_scale;
      }
    }
  }

  // 2. Queueing network, inside a fixed point on the EMC slowdown.
  std::vector<std::array<double, kNumUnits>> demand(n), resp(n), queue(n);
  std::vector<double> delay(n), x(n), served(n), response(n);
  std::array<double, kNumUnits> rho{}, rho_open{};
  double emc_slowdown = 1.0;
  double emc_util = 0;
  for (int outer = 0; outer < 12; ++outer) {
    for (size_t i = 0; i < n; ++i) {
      demand[i].fill(0);
      for (const Segment& seg : tm[i].segments) demand[i][seg.unit] += seg.Time(emc_slowdown);
      delay[i] = tm[i].fixed_delay_s + tm[i].transfer_memory_s * emc_slowdown;
    }
    // Open classes: offered load, capped at saturation.
    rho_open.fill(0);
    for (size_t i = 0; i < n; ++i) {
      if (!tm[i].open) continue;
      for (int u = 0; u < kNumUnits; ++u) rho_open[u] += tm[i].rate * demand[i][u];
    }
    for (size_t i = 0; i < n; ++i) {
      if (!tm[i].open) continue;
      double scale = 1.0;
      for (int u = 0; u < kNumUnits; ++u) {
        if (demand[i][u] > 0 && rho_open[u] > kSaturation) scale = std::min(scale, kSaturation / rho_open[u]);
      }
      served[i] = tm[i].rate * scale;
    }
    rho_open.fill(0);
    for (size_t i = 0; i < n; ++i) {
      if (!tm[i].open) continue;
      for (int u = 0; u < kNumUnits; ++u) rho_open[u] += served[i] * demand[i][u];
    }
    for (int u = 0; u < kNumUnits; ++u) rho_open[u] = std::min(rho_open[u], kSaturation);

    // Closed classes: Schweitzer approximate MVA on demands inflated by the open load.
    for (size_t i = 0; i < n; ++i) {
      queue[i].fill(0);
      if (tm[i].open) continue;
      int visited = 0;
      for (int u = 0; u < kNumUnits; ++u) visited += demand[i][u] > 0;
      for (int u = 0; u < kNumUnits; ++u) {
        if (demand[i][u] > 0) queue[i][u] = static_cast<double>(tm[i].population) / visited;
      }
    }
    for (int iter = 0; iter < 500; ++iter) {
      double change = 0;
      std::array<double, kNumUnits> total{};
      for (size_t j = 0; j < n; ++j) {
        for (int u = 0; u < kNumUnits; ++u) total[u] += queue[j][u];
      }
      for (size_t i = 0; i < n; ++i) {
        if (tm[i].open) continue;
        const double pop = tm[i].population;
        double r_sum = delay[i];
        for (int u = 0; u < kNumUnits; ++u) {
          resp[i][u] = 0;
          if (demand[i][u] <= 0) continue;
          double d = demand[i][u] / (1.0 - rho_open[u]);
          resp[i][u] = d * (1.0 + total[u] - queue[i][u] / pop);
          r_sum += resp[i][u];
        }
        x[i] = pop / r_sum;
        for (int u = 0; u < kNumUnits; ++u) {
          double q = x[i] * resp[i][u];
          change = std::max(change, std::abs(q - queue[i][u]));
          queue[i][u] = q;
        }
      }
      if (change < 1e-9) break;
    }
    // Open classes' response: M/D/1 waiting (Pollaczek-Khinchine) behind the open load, plus
    // the closed requests present at the unit.
    for (size_t i = 0; i < n; ++i) {
      if (!tm[i].open) continue;
      x[i] = served[i];
      double r_sum = delay[i];
      for (int u = 0; u < kNumUnits; ++u) {
        resp[i][u] = 0;
        if (demand[i][u] <= 0) continue;
        double residual = 0;
        for (size_t j = 0; j < n; ++j) {
          if (tm[j].open) {
            residual += served[j] * demand[j][u] * demand[j][u] / 2.0;
          } else {
            residual += queue[j][u] * demand[j][u];
          }
        }
        resp[i][u] = demand[i][u] + residual / (1.0 - rho_open[u]);
        r_sum += resp[i][u];
      }
      response[i] = r_sum;
    }
    for (size_t i = 0; i < n; ++i) {
      if (tm[i].open) continue;
      response[i] = delay[i];
      for (int u = 0; u < kNumUnits; ++u) response[i] += resp[i][u];
    }
    // Utilisation and memory traffic.
    rho.fill(0);
    double bytes_per_s = 0;
    for (size_t i = 0; i < n; ++i) {
      for (int u = 0; u < kNumUnits; ++u) rho[u] += x[i] * demand[i][u];
      bytes_per_s += x[i] * tm[i].bytes;
    }
    emc_util = bytes_per_s / emc_bw;
    double target = emc_util <= 1.0 ? 1.0 + 0.3 * emc_util * emc_util : 1.3 * emc_util;
    double next = 0.5 * emc_slowdown + 0.5 * target;
    if (std::abs(next - emc_slowdown) < 1e-6) {
      emc_slowdown = next;
      break;
    }
    emc_slowdown = next;
  }

  // 3. Per-tenant figures.
  Performance perf;
  perf.provenance = Provenance::kSimulated;
  perf.window = Seconds(P.window_s);
  perf.emc_utilisation = emc_util;
  for (size_t i = 0; i < n; ++i) {
    const TenantConfig& t = config.tenants[i];
    double fixed = delay[i];
    for (int u = 0; u < kNumUnits; ++u) fixed += demand[i][u];
    double wait = std::max(0.0, response[i] - fixed);
    // Waiting time ~ Gamma(shape 2) with the mean from the queueing model: median 0.839 x mean,
    // 95th percentile 2.372 x mean (less variable than an exponential, as time-sharing spreads
    // the delay over every request). Service jitter (service_cv) widens p95.
    auto quantile = [&](double wait_factor, double z) {
      return fixed * (1.0 + z * P.service_cv) + wait_factor * wait;
    };
    TenantPerformance tp;
    tp.name = t.name.empty() ? "t" + std::to_string(i) : t.name;
    double p50 = quantile(kGamma2Median, 0.0);
    double p95 = quantile(kGamma2P95, kZ95);
    if (tm[i].open && served[i] < tm[i].rate * (1.0 - 1e-9)) {
      // Saturated: the backlog grows at (rate - served) over the window.
      tp.saturated = true;
      double growth = tm[i].rate / served[i] - 1.0;
      p50 += growth * P.window_s * 0.5;
      p95 += growth * P.window_s * 0.95;
    }
    tp.latency_p50 = Milliseconds(p50 * 1000.0);
    tp.latency_p95 = Milliseconds(std::max(p95, p50) * 1000.0);
    tp.throughput_rps = x[i];
    perf.tenants.push_back(std::move(tp));
  }

  // 4. Power.
  double host_cpu = 0;
  for (size_t i = 0; i < n; ++i)
    host_cpu += x[i] * tm[i].accelerator_segments * P.host_cpu_ms_per_segment / 1000.0;
  double util[kNumUnits];
  for (int u = 0; u < kNumUnits; ++u) {
    util[u] = std::clamp(rho[u], 0.0, 1.0);
    perf.unit_utilisation[kUnitIds[u]] = util[u];
  }
  const double cpu_power_util = std::min(1.0, util[kCpu] + host_cpu);
  const double p_cpu =
      cpu_power_util * cores * P.cpu.max_dynamic_w * VoltageScaledFactor(P, P.cpu, mhz[kCpu]);
  const double p_gpu = util[kGpu] * P.gpu.max_dynamic_w * VoltageScaledFactor(P, P.gpu, mhz[kGpu]);
  const double p_dla = (util[kDla0] * VoltageScaledFactor(P, P.dla, mhz[kDla0]) +
                        util[kDla1] * VoltageScaledFactor(P, P.dla, mhz[kDla1])) *
                       P.dla.max_dynamic_w;
  const double p_emc = std::min(1.0, emc_util) * P.emc_max_dynamic_w * (emc_mhz / P.emc_max_mhz);
  const double idle = params_.idle_w[static_cast<size_t>(std::clamp(mode.id, 0, 6))];
  perf.power = Watts(idle + p_cpu + p_gpu + p_dla + p_emc);
  if (rails != nullptr) {
    // Idle split as in a Xavier tegrastats line (GPU 17%, CPU 6%, SOC 36%, VDDRQ 3%, SYS5V 38%).
    rails->gpu = 0.167 * idle + p_gpu;
    rails->cpu = 0.056 * idle + p_cpu;
    rails->soc = 0.361 * idle + 0.5 * p_emc;
    rails->cv = p_dla;
    rails->vddrq = 0.028 * idle + 0.5 * p_emc;
    rails->sys5v = 0.388 * idle;
  }
  return perf;
}

StatusOr<Performance> XavierSim::Evaluate(const Configuration& config) {
  Rails rails;
  ECOMAP_ASSIGN_OR_RETURN(Performance perf, PredictImpl(config, &rails));
  std::lock_guard<std::mutex> lock(mu_);
  current_mode_ = config.power_mode;
  last_config_ = config;
  has_load_ = true;
  if (noise_ > 0) {
    auto jitter = [&](double v) { return v * std::max(0.5, 1.0 + noise_ * Gaussian(rng_)); };
    for (TenantPerformance& t : perf.tenants) {
      double p50 = jitter(t.latency_p50.value());
      double p95 = std::max(p50, jitter(t.latency_p95.value()));
      t.latency_p50 = Milliseconds(p50);
      t.latency_p95 = Milliseconds(p95);
      t.throughput_rps = jitter(t.throughput_rps);
    }
    perf.power = Watts(jitter(perf.power.value()));
  }
  return perf;
}

StatusOr<PowerReading> XavierSim::ReadPower() {
  Configuration load;
  int mode;
  bool has_load;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mode = current_mode_;
    has_load = has_load_;
    if (has_load) load = last_config_;
  }
  Rails rails;
  if (has_load) {
    auto perf = PredictImpl(load, &rails);
    if (!perf.ok()) return perf.status();
  } else {
    double idle = params_.idle_w[static_cast<size_t>(std::clamp(mode, 0, 6))];
    rails = Rails{0.167 * idle, 0.056 * idle, 0.361 * idle, 0, 0.028 * idle, 0.388 * idle};
  }
  PowerReading r;
  r.time = clock_->Now();
  r.provenance = Provenance::kSimulated;
  const std::pair<const char*, double> list[] = {{"GPU", rails.gpu},     {"CPU", rails.cpu},
                                                 {"SOC", rails.soc},     {"CV", rails.cv},
                                                 {"VDDRQ", rails.vddrq}, {"SYS5V", rails.sys5v}};
  double total = 0;
  for (const auto& [name, w] : list) {
    double v = w;
    if (noise_ > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      v = std::max(0.0, v * (1.0 + noise_ * Gaussian(rng_)));
    }
    r.rails.push_back(RailPower{name, Watts(v), std::nullopt, std::nullopt});
    total += v;
  }
  r.total = Watts(total);
  return r;
}

}  // namespace ecomap::platform
