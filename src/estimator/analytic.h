// estimator/analytic.h: the analytic baseline estimator, fitted by least squares.
//
// The model (all times in seconds, clocks in MHz, bytes as the zoo's float32 descriptors):
//   * Service time of the blocks a unit u executes for one stage (the stage's unit, or its
//     fallback unit for blocks it cannot run natively):
//       sum_k a[u][k] * flops_k / (f_u * 1e6 * n_u) + s[u][k] * flops_k / (f_u * 1e6)   (k: block kind;
//         n_u: online cores of a multi-core unit, so a and s split parallel and serial work)
//       + m[u] * bytes / (emc_mhz * 1e6) + o[u] * blocks
//     i.e. a per-(unit, kind) throughput table plus a memory and a per-block term.
//   * Fixed latency of a tenant = sum of its service times + t_x * transfers
//     + b_x * transfer_bytes / (emc_mhz * 1e6) + r (per request).
//   * Contention: units are shared queueing stations (time-sharing). Closed-loop tenants are
//     solved with Schweitzer's approximate mean-value analysis (each tenant a class with
//     `concurrency` customers) on demands inflated by 1 / (1 - U_open_u); open-loop tenants
//     (Poisson) wait Pollaczek-Khinchine-style behind the open load's residual service
//     (rate x d^2 / 2) and the closed requests present at the unit, divided by 1 - U_open_u;
//     an open load that would pass 98% of a unit is scaled down ("saturated"). This is the
//     textbook mean-value decomposition of a mixed network; on the simulated Xavier it matches
//     the simulator's own structure, on a real host it is an approximation (no memory
//     contention: the transformer learns what it misses).
//     Latency p50 = fixed + g50 * wait, p95 = c95 * fixed + g95 * wait (wait = response - fixed).
//   * Power = idle[mode] + sum_u util_u * (p1[u] * f/fmax + p3[u] * (f/fmax)^3) (CPU also x the
//     online-core fraction) + e * memory GB/s * emc_mhz/emc_max.
// Fit (AnalyticModel::Fit): the service table from tenants running alone (closed loop, one
// request outstanding: no queueing), by least squares on relative errors with non-negative
// coefficients (active set) and a small ridge on normalised columns; g50, c95, g95 and the power
// model by least squares over all samples, using the model's own utilisation estimates.
//
//   ECOMAP_ASSIGN_OR_RETURN(AnalyticModel m, AnalyticModel::Fit(info, samples));
//   AnalyticPredictor p(std::move(m));
//   auto r = p.PredictBatch(configs);
//
// The transformer estimator uses an AnalyticModel's per-stage and per-tenant estimates as input
// features and predicts its own outputs relative to them (estimator/transformer.h).
//
// Thread-safety: AnalyticModel and AnalyticPredictor are immutable after construction; their
// const methods are thread-safe.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <vector>

#include "estimator/pipeline.h"
#include "estimator/predictor.h"
#include "profiler/dataset.h"

namespace ecomap::estimator {

// What the analytic model estimates for one configuration.
struct AnalyticEstimate {
  struct Tenant {
    double fixed_s = 0;        // service + transfers + request overhead, no queueing
    double latency_p50_s = 0;
    double latency_p95_s = 0;
    double throughput_rps = 0;
    bool saturated = false;
  };
  std::vector<Tenant> tenants;
  std::vector<double> stage_service_s;  // per ConfigView stage: service time on every unit it uses
  std::vector<double> utilisation;      // per unit, busy fraction (may exceed 1 before clamping)
  double memory_gbps = 0;               // DRAM traffic estimate
  double power_w = 0;
};

class AnalyticModel {
 public:
  static constexpr int kColumnsPerUnit = 2 * kNumBlockKinds + 2;

  // Fits every coefficient to the samples (all from the platform `info` describes).
  // InvalidArgument when the samples cannot determine the model (e.g. none, or none with a
  // tenant whose latency is known), naming what is missing.
  static StatusOr<AnalyticModel> Fit(const platform::PlatformInfo& info,
                                     const std::vector<const profiler::Sample*>& samples,
                                     platform::ModelLookup lookup = {});

  // Round trip through JSON (the "analytic" object of a model file). FromJson checks sizes
  // against the platform and names the bad key.
  nlohmann::json ToJson() const;
  static StatusOr<AnalyticModel> FromJson(const nlohmann::json& j, const platform::PlatformInfo& info,
                                          platform::ModelLookup lookup = {});

  // Estimates one decomposed configuration.
  void Estimate(const ConfigView& view, AnalyticEstimate* out) const;
  // Decomposes and estimates (errors from the Decomposer).
  Status Estimate(const platform::Configuration& config, ConfigView* view, AnalyticEstimate* out) const;

  const Decomposer& decomposer() const { return *decomposer_; }
  const platform::PlatformInfo& info() const { return decomposer_->info(); }

 private:
  AnalyticModel(const platform::PlatformInfo& info, platform::ModelLookup lookup);
  double ServiceSeconds(const ConfigView& v, const UnitWork& w) const;
  void Contention(const ConfigView& v, AnalyticEstimate* out, std::vector<double>* wait_s) const;
  void PowerColumns(const ConfigView& v, const AnalyticEstimate& e, std::vector<double>* cols) const;

  std::shared_ptr<const Decomposer> decomposer_;
  std::vector<double> service_;   // num_units x kColumnsPerUnit
  double transfer_s_ = 0;         // per change of executing unit
  double transfer_byte_ = 0;      // x bytes / (emc_mhz * 1e6)
  double request_s_ = 0;
  double g50_ = 0, c95_ = 1, g95_ = 1;
  std::vector<double> power_;     // modes + 2 x units + 1
};

class AnalyticPredictor final : public Predictor {
 public:
  explicit AnalyticPredictor(AnalyticModel model) : model_(std::move(model)) {}
  std::string name() const override { return "analytic"; }
  StatusOr<std::vector<platform::Performance>> PredictBatch(
      const std::vector<platform::Configuration>& configs) const override;
  const AnalyticModel& model() const { return model_; }

 private:
  AnalyticModel model_;
};

}  // namespace ecomap::estimator
