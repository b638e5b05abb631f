// platform/sim/xavier_sim.h: xavier-sim, a calibrated simulated NVIDIA Jetson AGX Xavier.
//
// Nothing runs: every figure is computed by an analytical model and labelled "simulated".
// Units CPU (8-core Carmel), GPU (512-core Volta), DLA0, DLA1 (NVDLA v1); the seven nvpmodel modes
// of the L4T 32 nvpmodel.conf with their clock caps. The model, in short (docs/calibration-xavier.md
// has the details, the constants and the published figures they were calibrated against):
//
//   * Precision: TensorRT INT8 on GPU and DLA (weights and activations 1 byte), FP32 on the CPU.
//   * Block time on a unit (roofline): max(flops / (peak_ops_per_cycle x f x eff[kind]),
//     bytes / unit bandwidth x EMC slowdown) + per-block launch overhead. bytes = weights +
//     input + output activations at the unit's precision. The CPU runs a stage on all online
//     cores with a parallel efficiency (Amdahl-style).
//   * DLA: runs conv/depthwise/linear/pool blocks whose descriptor says dla_supported; others
//     fall back to the GPU (TensorRT GPU fallback) and load the GPU.
//   * Transfer at every change of unit: the activation goes through DRAM (write + read) plus a
//     hand-off latency; it also loads the EMC.
//   * Contention (time-sharing): units are queueing stations. Closed-loop tenants are solved
//     with Schweitzer's approximate mean-value analysis (each tenant a class with `concurrency`
//     customers); open-loop tenants (Poisson) see M/D/1-style waiting (Pollaczek-Khinchine with
//     deterministic service) plus the closed customers present; the mixed network follows the
//     usual decomposition (closed demands inflated by 1/(1 - open utilisation)).
//   * Memory bandwidth: total bytes/s of all tenants vs the mode's EMC bandwidth; the memory
//     part of every block slows by 1 + 0.3 u^2 (u <= 1) and 1.3 u beyond (fixed point).
//   * Percentiles: latency = fixed part (service + transfers) + waiting; the waiting time is
//     taken as Gamma(shape 2) with the model's mean (p50 = 0.839 x mean, p95 = 2.372 x mean);
//     a small service jitter (coefficient of variation `service_cv`) widens p95.
//   * Power: per-mode idle floor + per-unit dynamic power util x P_max x (f/f_max) x (V(f)/V_max)^2
//     with V linear in f, + EMC power rising with bandwidth use and EMC clock.
//
//   XavierSim sim({});                       // no noise
//   StatusOr<Performance> p = sim.Predict(config);
//
// Thread-safety: Predict() is const and thread-safe. Evaluate/ApplyMode/ReadPower/CurrentMode
// keep state (current mode, last load, noise stream) behind a mutex: safe from any thread, and
// deterministic for a seed given the same sequence of calls.
#pragma once

#include <array>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "platform/evaluator.h"

namespace ecomap::platform {

// Every constant of the model, with its unit. Calibrated() holds the values that
// docs/calibration-xavier.md justifies; tests build variations of it.
struct XavierSimParams {
  struct Unit {
    double peak_ops_per_cycle = 0;  // 2 x MACs per clock at the unit's precision (CPU: per core)
    double weight_bytes_per_param = 1;
    double activation_bytes_scale = 0.25;  // x the float32 bytes of the descriptors
    double bandwidth_share = 1.0;          // fraction of the EMC bandwidth the unit can draw alone
    double launch_overhead_ms = 0;         // per block (kernel launches, DLA task submission)
    std::array<double, 7> efficiency{};    // fraction of peak per zoo::BlockKind (0: cannot run)
    double max_dynamic_w = 0;              // busy at max clock (CPU: per online core)
    double min_mhz = 0;                    // lowest clock (voltage floor)
    double max_mhz = 0;                    // highest clock in any mode
  };
  Unit cpu, gpu, dla;
  double cpu_parallel_alpha = 0.12;   // speedup(n) = n / (1 + alpha (n - 1))
  double voltage_floor_ratio = 0.55;  // V(min_mhz) / V(max_mhz); V linear in f between
  double emc_bytes_per_cycle = 64;    // LPDDR4x 256-bit, DDR: 32 bytes x 2 per EMC clock
  double emc_efficiency = 0.8;        // achievable fraction of the EMC peak
  double emc_max_dynamic_w = 3.0;     // EMC+DRAM power at full bandwidth use at 2133 MHz
  double emc_max_mhz = 2133;
  double transfer_latency_ms = 0.03;      // hand-off between units (sync + reformat), per change
  double stage_handoff_ms = 0.005;        // hand-off between stages on the same unit
  double request_overhead_ms = 0.05;      // per request: input copy, submission, completion
  double host_cpu_ms_per_segment = 0.01;  // CPU time to submit one GPU/DLA segment (power only)
  double service_cv = 0.01;               // coefficient of variation of service times (jitter)
  double window_s = 10;                   // evaluation window: latency of saturated open loops
  // Idle floor of each nvpmodel mode id 0..6 (W): measured idle of a board (see the note).
  std::array<double, 7> idle_w{8.3, 5.9, 6.0, 6.2, 6.15, 6.1, 6.0};

  static XavierSimParams Calibrated();
};

// Both a Platform (modes, power readings) and an Evaluator (what a configuration costs).
class XavierSim final : public Platform, public Evaluator {
 public:
  // options.seed / options.noise set the measurement noise of Evaluate() (not Predict()),
  // options.model_lookup the catalogue, options.clock the time of power readings.
  explicit XavierSim(const PlatformOptions& options = {},
                     XavierSimParams params = XavierSimParams::Calibrated());

  // The platform description: units CPU, GPU, DLA0, DLA1 and modes 0..6 (REFERENCE.md table).
  static PlatformInfo MakeInfo();

  const PlatformInfo& info() const override { return info_; }
  StatusOr<int> CurrentMode() override;
  // Any of the seven modes; switches instantly; resets the simulated load to idle.
  Status ApplyMode(int mode_id) override;
  // Simulated rails named like the INA3221 rails of a Xavier (GPU, CPU, SOC, CV, VDDRQ, SYS5V)
  // for the load of the last Evaluate() in the current mode (idle after ApplyMode).
  StatusOr<PowerReading> ReadPower() override;
  Status Validate(const Configuration& config) const override;
  // Predict() plus measurement noise (options.noise); switches to config.power_mode.
  StatusOr<Performance> Evaluate(const Configuration& config) override;
  Evaluator* AsEvaluator() override { return this; }

  // The model, noise-free. Validates first. Thread-safe.
  StatusOr<Performance> Predict(const Configuration& config) const;

  // The idle power of a mode (no tenants). NotFound for an unknown mode.
  StatusOr<Watts> IdlePower(int mode_id) const;

  const XavierSimParams& params() const { return params_; }

 private:
  struct Rails;
  StatusOr<Performance> PredictImpl(const Configuration& config, Rails* rails) const;

  PlatformInfo info_;
  XavierSimParams params_;
  ModelLookup lookup_;
  const Clock* clock_;
  double noise_;

  mutable std::mutex mu_;
  int current_mode_;           // guarded by mu_
  Configuration last_config_;  // guarded by mu_; tenants empty: idle
  bool has_load_ = false;      // guarded by mu_
  std::mt19937_64 rng_;        // guarded by mu_
};

}  // namespace ecomap::platform
