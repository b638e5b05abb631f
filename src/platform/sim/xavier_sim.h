// platform/sim/xavier_sim.h: xavier-sim, a simulated NVIDIA Jetson AGX Xavier.
//
// Nothing runs on a device: every figure is produced by a request-level discrete-event
// simulation (platform/sim/request_sim.h) and labelled "simulated". Units CPU (8-core Carmel),
// GPU (512-core Volta), DLA0, DLA1 (NVDLA v1); the seven nvpmodel modes of the L4T 32
// nvpmodel.conf with their clock caps. docs/calibration-xavier.md has the model, every constant
// and the published measurements it was calibrated against. In short:
//
//   * Per-block cost (roofline): max(flops / (peak ops per clock x f x eff[kind]), bytes / (EMC
//     bandwidth x unit share)) + a launch overhead (GPU: per layer of the block, with eff
//     growing with the flops per layer; DLA, CPU: per block); precision INT8 (MLPerf) or FP16
//     (HaX-CoNN, torch2trt) on GPU/DLA, FP32 on the CPU (all online cores, Amdahl-style).
//   * DLA stages run the blocks a DLA supports; the others fall back to the GPU, with a
//     transfer each way, and queue there like any GPU work.
//   * Every request is simulated: Poisson or closed-loop arrivals, FIFO DLA engines, a GPU
//     time-sliced between tenants' contexts with a context-switch cost, the CPU shared by
//     processor sharing, log-normal service times around the block costs, transfers through
//     DRAM at unit changes, and EMC contention that slows memory-bound work as the bandwidth
//     drawn by the work in service rises.
//   * Power from unit activity: per-mode idle floor + each unit's busy time x its dynamic power
//     at the mode's clock (f x V(f)^2, V linear in f) + EMC energy per byte moved.
//   * A power-mode switch stalls the units for a moment; switching into or out of MODE_10W
//     needed a reboot on the reference board, modelled as a long outage.
//
//   XavierSim sim({.seed = 7});
//   StatusOr<Performance> p = sim.Evaluate(config);   // 60 s window after a 2 s warm-up
//
// Thread-safety: Predict() and Simulate() are const and thread-safe. Evaluate/ApplyMode/
// ReadPower/CurrentMode keep state (current mode, last result, seed stream) behind a mutex: safe
// from any thread, and deterministic for a seed given the same sequence of calls.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "platform/evaluator.h"
#include "platform/sim/request_sim.h"

namespace ecomap::platform {

enum class Precision { kInt8, kFp16 };

// Every constant of the model, with its unit. Calibrated() holds the values that
// docs/calibration-xavier.md justifies; tests build variations of it.
struct XavierSimParams {
  struct Unit {
    double peak_ops_per_cycle = 0;  // 2 x MACs per clock at INT8 (CPU: FP32, per core)
    double weight_bytes_per_param = 1;     // INT8 (FP16: x2 on GPU/DLA)
    double activation_bytes_scale = 0.25;  // x the float32 bytes of the descriptors (FP16: x2)
    double bandwidth_share = 1.0;          // fraction of the EMC bandwidth the unit can draw alone
    double launch_overhead_ms = 0;         // per block (a DLA task, a CPU stage step)
    double layer_overhead_ms = 0;          // per MAC layer of a block (a GPU kernel launch)
    std::array<double, 7> efficiency{};       // INT8: fraction of peak per zoo::BlockKind (0: cannot run)
    std::array<double, 7> efficiency_fp16{};  // FP16: fraction of the FP16 peak (half the INT8 peak)
    double max_dynamic_w = 0;              // busy at max clock (CPU: per online core)
    double min_mhz = 0;                    // lowest clock (voltage floor)
    double max_mhz = 0;                    // highest clock in any mode
    double cv = 0.01;                      // coefficient of variation of a stage's service time
    double handoff_ms = 0.03;              // fixed cost of handing an activation to another unit
    // Small layers under-use wide units: the efficiency of a block is eff[kind] x w / (w +
    // layer_flops_half), w = its flops per MAC layer (0: no such effect).
    double layer_flops_half = 0;
  };
  Unit cpu, gpu, dla;
  Precision precision = Precision::kInt8;  // of GPU and DLA work
  double cpu_parallel_alpha = 0.12;   // speedup(n) = n / (1 + alpha (n - 1))
  double cpu_share_overhead = 0.05;   // processor sharing: slowdown per extra CPU job
  double gpu_quantum_ms = 2.0;        // GPU time slice between contexts
  double gpu_switch_ms = 0.05;        // GPU context switch
  double voltage_floor_ratio = 0.55;  // V(min_mhz) / V(max_mhz); V linear in f between
  double emc_bytes_per_cycle = 64;    // LPDDR4x 256-bit, DDR: 32 bytes x 2 per EMC clock
  double emc_efficiency = 0.8;        // achievable fraction of the EMC peak
  double emc_max_dynamic_w = 3.0;     // EMC+DRAM power at full bandwidth use at 2133 MHz
  double emc_max_mhz = 2133;
  double stage_handoff_ms = 0.005;        // hand-off between stages on the same unit
  double request_overhead_ms = 0.05;      // per request: input copy, submission, completion
  double host_cpu_ms_per_segment = 0.01;  // CPU time to submit one GPU/DLA segment (power only)
  // Open loop: a tenant's input queue holds at most max(64, rate x queue_limit_s) requests;
  // arrivals beyond are dropped.
  double queue_limit_s = 2.0;
  // Evaluate(): warm-up, then the measured window; a window stops early after max_completions.
  double warmup_s = 2;
  double window_s = 60;
  int64_t max_completions = 120000;
  int64_t max_events = 3000000;
  // Both: a window is extended until every tenant completed this many requests in it, up to
  // the longest window below (slow pipelines, e.g. a large model on a slow CPU).
  int64_t min_completions = 20;
  double max_window_s = 120;
  double predict_max_window_s = 30;
  // Predict(): the same simulation, shorter, with a fixed seed (common random numbers).
  double predict_warmup_s = 0.1;
  double predict_window_s = 1;
  int64_t predict_max_completions = 300;
  int64_t predict_max_events = 5000;
  // Power-mode switch: the units start no work for switch_pause_s; into or out of
  // reboot_mode (MODE_10W needed a reboot on the reference board) the device is out for
  // reboot_pause_s, accounted as that share of represented_s (the stretch one Evaluate stands
  // for, an hour of a replay) since the window itself is shorter than the outage.
  double switch_pause_s = 0.3;
  int reboot_mode = 1;
  double reboot_pause_s = 45;
  double represented_s = 3600;
  // Wall (AC) power of the developer kit from module power: module / PSU efficiency + the
  // carrier board, fan and regulators (for comparing with figures measured at the wall).
  double wall_psu_efficiency = 0.87;
  double wall_board_w = 3.2;
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
  // Any of the seven modes; the next Evaluate() pays the switch (pause or reboot outage); resets
  // the simulated load to idle.
  Status ApplyMode(int mode_id) override;
  // Simulated rails named like the INA3221 rails of a Xavier (GPU, CPU, SOC, CV, VDDRQ, SYS5V)
  // for the load of the last Evaluate() in the current mode (idle after ApplyMode).
  StatusOr<PowerReading> ReadPower() override;
  Status Validate(const Configuration& config) const override;
  // One measurement: simulates warmup_s + window_s of requests with the next seed of the run's
  // stream (so repeated calls differ as repeated measurements do), pays a pending mode switch,
  // and leaves the device in config.power_mode. options.noise adds relative noise to the power
  // figures (the sensor), nothing else.
  StatusOr<Performance> Evaluate(const Configuration& config) override;
  Evaluator* AsEvaluator() override { return this; }

  // The random draws of one measurement: the simulation's seed and the power sensor's noise
  // factor (1 without noise).
  struct MeasurementDraw {
    uint64_t seed = 0;
    double noise_factor = 1;
  };
  // Takes the next measurement's draws from the stream, exactly as Evaluate() takes them (the
  // stream advances alike): the n-th call of a fresh XavierSim returns the draws of its n-th
  // Evaluate(). Thread-safe.
  MeasurementDraw NextDraw();
  // What Evaluate() measures for `config` with `draw`, coming from mode `from_mode` (its switch
  // cost paid as Evaluate pays it), without touching the platform's state (mode, stream, last
  // load). Evaluate() is NextDraw() + this + the state update. Validates first. Thread-safe.
  StatusOr<Performance> Measure(const Configuration& config, const MeasurementDraw& draw,
                                int from_mode) const;

  // A short simulation (0.1 s warm-up, a 1 s window cut at 300 completions or 5,000 events)
  // with a seed fixed by options.seed: the same configuration always gives the same figures.
  // Validates first. Thread-safe.
  StatusOr<Performance> Predict(const Configuration& config) const;

  // The simulation itself, with every statistic (p90/p99, drops, per-unit energy): validates,
  // builds the request network and runs it. `pause_s` stalls every unit at the start of the
  // window (a mode switch). Thread-safe.
  StatusOr<sim::RunResult> Simulate(const Configuration& config, const sim::RunOptions& run,
                                    double pause_s = 0) const;

  // Wall (AC) power of the developer kit drawing `module_w` at the module.
  double WallPower(double module_w) const;

  // The idle power of a mode (no tenants). NotFound for an unknown mode.
  StatusOr<Watts> IdlePower(int mode_id) const;

  const XavierSimParams& params() const { return params_; }

 private:
  StatusOr<sim::Network> BuildNetwork(const Configuration& config, double pause_s, double warmup_s) const;
  Performance ToPerformance(const Configuration& config, const sim::RunResult& r) const;
  MeasurementDraw DrawLocked();  // requires mu_
  // Measure() with a pause already known, `config` validated by the caller; `run_result`
  // (optional) receives the simulation.
  StatusOr<Performance> MeasureWith(const Configuration& config, const MeasurementDraw& draw, double pause,
                                    sim::RunResult* run_result) const;
  // The windows of Predict() (predict = true) or Evaluate() from the params; no seed.
  sim::RunOptions RunFor(bool predict) const;

  PlatformInfo info_;
  XavierSimParams params_;
  ModelLookup lookup_;
  const Clock* clock_;
  double noise_;
  uint64_t seed_;

  mutable std::mutex mu_;
  int current_mode_;           // guarded by mu_
  std::optional<sim::RunResult> last_;  // guarded by mu_; the last Evaluate (nullopt: idle)
  double pending_pause_s_ = 0;          // guarded by mu_; switch cost the next Evaluate pays
  std::mt19937_64 rng_;                 // guarded by mu_
};

}  // namespace ecomap::platform
