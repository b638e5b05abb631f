// platform/sim/request_sim.h: a request-level discrete-event simulator of DNN pipelines sharing
// the compute units of one SoC. xavier-sim (xavier_sim.h) builds the network from a
// Configuration and its calibrated constants; this file knows nothing about Jetson.
//
// Every request of every tenant is simulated: Poisson arrivals (open loop) or N requests always
// outstanding (closed loop); the request visits its segments in order (a segment: consecutive
// blocks on one unit), with a transfer between segments on different units. Figures (latency
// percentiles, throughput, drops, utilisation, energy) are counted from the simulated requests
// over a measurement window after a warm-up; nothing is a closed-form queueing formula.
//
// Units and their serving disciplines:
//   * kFifo: one job at a time in arrival order, not preempted (a DLA engine).
//   * kTimeSlice: one job at a time; every tenant is a context with its own FIFO queue; the unit
//     serves the contexts round robin in slices of `quantum_s`, and changing context costs
//     `switch_s` of busy time (a GPU shared by several processes).
//   * kProcessorSharing: every job in service progresses at 1/n of the unit's speed, and a
//     sharing overhead slows all of them by 1 + `share_overhead` x (n - 1) (OS threads
//     time-sliced on the CPU cores).
// Service times: each block's time is max(compute, memory x EMC slowdown); the whole segment is
// multiplied by a log-normal factor of mean 1 and coefficient of variation `cv` of its unit,
// drawn per request. EMC contention: every job in service draws memory bandwidth (its bytes over
// its nominal time, at most the unit's share); when a job starts, the slowdown of its memory
// part is slowdown(u) for u = (bandwidth drawn by the jobs in service + its own) / EMC
// bandwidth, so a job is slower when it starts beside memory-heavy work. Transfers are delays
// (a DMA through DRAM: a fixed hand-off plus bytes / EMC bandwidth x slowdown) that are not
// queued but count as memory traffic.
//
//   RequestSim sim(network, {.warmup_s = 2, .window_s = 30, .seed = 7});
//   RequestSimResult r = sim.Run();
//
// Deterministic for a seed (one mt19937_64 per run, draws in event order). Not thread-safe; a
// RequestSim is used once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ecomap::platform::sim {

enum class Discipline { kFifo, kTimeSlice, kProcessorSharing };

struct UnitSpec {
  std::string id;  // "GPU"
  Discipline discipline = Discipline::kFifo;
  double quantum_s = 0.002;     // kTimeSlice: slice length
  double switch_s = 0;          // kTimeSlice: busy time to change context
  double share_overhead = 0;    // kProcessorSharing: slowdown per extra job in service
  double cv = 0.01;             // coefficient of variation of service times (log-normal)
  double busy_w = 0;            // dynamic power while the unit serves (W)
  double bandwidth_share = 1;   // most of the EMC bandwidth one job on this unit can draw
  // The unit starts no work in [pause_begin_s, pause_end_s) (a power-mode switch: clocks and
  // rails settle); work already started finishes.
  double pause_begin_s = 0;
  double pause_end_s = 0;
};

struct BlockSpec {
  double compute_s = 0;  // compute-bound time at the unit's clock
  double memory_s = 0;   // memory-bound time at full bandwidth share, no contention
  double bytes = 0;      // DRAM bytes moved
};

struct SegmentSpec {
  int unit = 0;              // index into Network::units
  double overhead_s = 0;     // launch/submission overhead (not memory-bound)
  std::vector<BlockSpec> blocks;
  double host_cpu_s = 0;     // CPU time to submit it (power only; accelerators)
  // Transfer before this segment (0 for the first one, or on the same unit: hand-off only).
  double transfer_fixed_s = 0;
  double transfer_bytes = 0;
};

struct TenantSpec {
  std::string name;
  bool open = false;
  double rate_rps = 0;      // open loop
  int concurrency = 1;      // closed loop
  double overhead_s = 0;    // per request, before the first segment (input copy, submission)
  std::vector<SegmentSpec> segments;
  // Open loop: arrivals finding this many requests of the tenant in the system are dropped
  // (the input queue is full); 0: no limit.
  int max_outstanding = 0;
};

struct Network {
  std::vector<UnitSpec> units;
  std::vector<TenantSpec> tenants;
  double emc_bytes_per_s = 1e11;  // achievable EMC bandwidth
  double emc_j_per_byte = 0;      // DRAM + EMC energy per byte moved
  double idle_w = 0;              // floor of the whole device
  double host_cpu_busy_w = 0;     // power of the CPU while submitting accelerator work
  int cpu_unit = -1;              // unit index of the CPU (host submission power), -1: none
};

// Slowdown of memory-bound time at EMC load u (demand / bandwidth, may exceed 1).
double EmcSlowdown(double u);

struct RunOptions {
  double warmup_s = 1;
  double window_s = 10;
  uint64_t seed = 1;
  // Stop the window early once this many requests completed in it (0: no limit); the figures
  // are then over the shortened window. Bounds the cost of very fast pipelines.
  int64_t max_completions = 0;
  // Bound on the events processed (0: none): a quarter of it ends the warm-up early, all of it
  // ends the window early. Bounds the cost of heavily overloaded networks.
  int64_t max_events = 0;
  // The window is extended (by window_s at a time, up to max_window_s) until every tenant has
  // completed this many requests in it, so that slow pipelines get percentiles too; the early
  // stops above wait for it as well. 0: fixed window.
  int64_t min_completions_per_tenant = 0;
  double max_window_s = 0;
};

struct TenantResult {
  std::string name;
  double p50_s = 0, p90_s = 0, p95_s = 0, p99_s = 0, mean_s = 0;
  double throughput_rps = 0;  // completions in the window / window
  int64_t completed = 0;      // requests completed in the window
  int64_t arrived = 0;        // requests that arrived in the window (open loop)
  int64_t dropped = 0;        // arrivals refused by a full queue in the window
  int64_t backlog_end = 0;    // requests of the tenant still in the system at the end
  bool saturated = false;     // drops, or a backlog that grew over the window
};

struct RunResult {
  std::vector<TenantResult> tenants;
  std::vector<double> unit_busy;  // busy fraction of each unit over the window
  double emc_utilisation = 0;     // bytes moved / (EMC bandwidth x window)
  double energy_j = 0;            // over the window, idle included
  double window_s = 0;            // the window actually measured
  double mean_power_w = 0;        // energy / window
  std::vector<double> unit_energy_j;  // dynamic energy of each unit over the window
  double emc_energy_j = 0;
  int64_t events = 0;             // events processed (warm-up included), for benchmarks
};

// Runs the network. The network must be well formed (xavier-sim validates configurations first):
// unit indices in range, at least one segment per tenant, positive rates and concurrencies.
RunResult Run(const Network& net, const RunOptions& options);

}  // namespace ecomap::platform::sim
