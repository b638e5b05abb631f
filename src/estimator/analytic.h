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
//   * Contention, in one of two sharing disciplines (enum Sharing; Fit keeps the one whose
//     latencies fit the training samples better):
//     - kQueue: units are shared queueing stations. Closed-loop tenants are solved with
//       Schweitzer's approximate mean-value analysis (each tenant a class with `concurrency`
//       customers) on demands inflated by 1 / (1 - U_open_u); open-loop tenants (Poisson) wait
//       Pollaczek-Khinchine-style behind the open load's residual service (rate x d^2 / 2) and the
//       closed requests present at the unit, divided by 1 - U_open_u. This is the textbook
//       mean-value decomposition of a mixed network and the simulated Xavier's own structure.
//     - kThreads: every stage is a worker thread with a FIFO queue of its own, and the OS
//       time-slices the threads that have work (the host engine, engine/engine.h). A thread's
//       service stretches to d x (1 + the busy probabilities of the other threads on its unit);
//       an open-loop thread is then an M/M/1 queue at that stretched service, a closed-loop
//       tenant a mean-value analysis over its own threads; the busy probabilities are solved
//       as a fixed point. Measured on the host: k identical closed tenants on one core each take
//       ~k times as long as one alone, which kQueue (FIFO across tenants) cannot express.
//     An open load that would pass 98% of a unit (a thread) is scaled down ("saturated").
//     No memory contention in either: the transformer learns what they miss.
//     Latency p50 = fixed + h50 x stretch + g50 x queue, p95 = c95 x fixed + h95 x stretch +
//     g95 x queue (stretch: the time-slicing share of the response, 0 under kQueue; queue: the
//     rest of the response beyond the fixed latency), with factors of their own for closed-loop
//     and for open-loop tenants (Poisson bursts spread an open loop's latencies even at low
//     load; shared factors where a kind has fewer than 8 tenants in the training data).
//   * Power = idle[mode] + sum_u util_u * (p1[u] * f/fmax + p3[u] * (f/fmax)^3) (CPU also x the
//     online-core fraction) + e * memory GB/s * emc_mhz/emc_max.
// Fit (AnalyticModel::Fit): the service table from tenants running alone (closed loop, one
// request outstanding: no queueing), by least squares on relative errors with non-negative
// coefficients (active set) and a small ridge on normalised columns; then, for each sharing
// discipline, the percentile factors per arrival kind (non-negative, on relative errors) and
// the power model by least squares over all samples, using the model's own utilisation
// estimates.
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

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "estimator/pipeline.h"
#include "estimator/predictor.h"
#include "platform/sample.h"

namespace ecomap::estimator {

// What the analytic model estimates for one configuration.
struct AnalyticEstimate {
  struct Tenant {
    double fixed_s = 0;        // service + transfers + request overhead, no queueing
    double latency_p50_s = 0;
    double latency_p95_s = 0;
    double throughput_rps = 0;
    bool saturated = false;
    // The contention behind the latencies (seconds): the time-sharing stretch and the queueing
    // wait under the fitted discipline; and, filled by EstimateWithHints only, the same and the
    // throughput under the other discipline (the transformer's hints).
    double stretch_s = 0, queue_s = 0;
    double alt_stretch_s = 0, alt_queue_s = 0, alt_throughput_rps = 0;
  };
  std::vector<Tenant> tenants;
  std::vector<double> stage_service_s;  // per ConfigView stage: service time on every unit it uses
  std::vector<double> utilisation;      // per unit, busy fraction (may exceed 1 before clamping)
  double memory_gbps = 0;               // DRAM traffic estimate
  double power_w = 0;
};

// How the tenants that share a unit are served (AnalyticModel::Fit picks the one that fits).
enum class Sharing {
  kQueue,    // one queueing station per unit, requests of all tenants in it (the simulator's model)
  kThreads,  // one worker thread per stage, the OS time-slicing the busy ones (the host engine)
};

class AnalyticModel {
 public:
  static constexpr int kColumnsPerUnit = 2 * kNumBlockKinds + 2;

  // Fits every coefficient to the samples (all from the platform `info` describes).
  // InvalidArgument when the samples cannot determine the model (e.g. none, or none with a
  // tenant whose latency is known), naming what is missing.
  static StatusOr<AnalyticModel> Fit(const platform::PlatformInfo& info,
                                     const std::vector<const platform::Sample*>& samples,
                                     platform::ModelLookup lookup = {});

  // Round trip through JSON (the "analytic" object of a model file). FromJson checks sizes
  // against the platform and names the bad key.
  nlohmann::json ToJson() const;
  static StatusOr<AnalyticModel> FromJson(const nlohmann::json& j, const platform::PlatformInfo& info,
                                          platform::ModelLookup lookup = {});

  // Estimates one decomposed configuration.
  void Estimate(const ConfigView& view, AnalyticEstimate* out) const;
  // Estimate, and also the waits and throughput under the other sharing discipline
  // (Tenant::alt_*): a second contention solve, for the transformer's features.
  void EstimateWithHints(const ConfigView& view, AnalyticEstimate* out) const;
  // Decomposes and estimates (errors from the Decomposer).
  Status Estimate(const platform::Configuration& config, ConfigView* view, AnalyticEstimate* out) const;

  // Work the fit saw no timing for: blocks of a kind on a unit where no training tenant ran that
  // kind keep service coefficients of zero, so the model counts them as free. One line per
  // (kind, unit) that `view` meets, e.g. "attention blocks on cpu1"; empty when the training
  // data covers the configuration (always, for model files from before this check).
  std::vector<std::string> UnfittedWork(const ConfigView& view) const;
  // Each model of `models` alone, as one stage on every unit of the platform: the models that
  // meet unfitted work, as "bert_mini (attention blocks on cpu0, ...)". Unknown models are
  // named as such. Empty when the training data covers them all.
  std::vector<std::string> UncoveredModels(const std::vector<std::string>& models) const;

  const Decomposer& decomposer() const { return *decomposer_; }
  const platform::PlatformInfo& info() const { return decomposer_->info(); }
  Sharing sharing() const { return sharing_; }

 private:
  AnalyticModel(const platform::PlatformInfo& info, platform::ModelLookup lookup);
  double ServiceSeconds(const ConfigView& v, const UnitWork& w) const;
  // What a configuration asks of the units, before contention.
  struct Demand {
    struct Part {
      size_t tenant, unit;
      double service_s;  // > 0: seconds of one request's work of that tenant on that unit
    };
    std::vector<Part> parts;       // per stage, its unit's and its fallback unit's share
    std::vector<double> delay_s;   // per tenant: request overhead + transfers, outside the units
    std::vector<double> bytes;     // per tenant: DRAM bytes moved per request
  };
  // Fills `d`, out->stage_service_s and every tenant's out->tenants[i].fixed_s.
  void Demands(const ConfigView& v, AnalyticEstimate* out, Demand* d) const;
  // Per tenant: the time-sharing stretch of its service and its queueing wait, in seconds.
  struct Waits {
    std::vector<double> stretch_s, queue_s;
  };
  // The fitted discipline on freshly computed demands, or the given discipline on `dem`.
  void Contention(const ConfigView& v, AnalyticEstimate* out, Waits* w) const;
  void Contention(Sharing sharing, const ConfigView& v, const Demand& dem, AnalyticEstimate* out, Waits* w) const;
  void ContentionQueue(const ConfigView& v, const Demand& dem, AnalyticEstimate* out, Waits* w) const;
  void ContentionThreads(const ConfigView& v, const Demand& dem, AnalyticEstimate* out, Waits* w) const;
  // Estimate, with the other discipline's hints (Tenant::alt_*) when `hints`.
  void Estimate(const ConfigView& v, AnalyticEstimate* out, bool hints) const;
  // Latency p50 = fixed + h50 x stretch + g50 x queue, p95 = c95 x fixed + h95 x stretch +
  // g95 x queue (at least p50).
  struct Percentiles {
    double h50 = 0, g50 = 1, c95 = 1, h95 = 0, g95 = 1;  // before any fit: waits count in full
    double P50(double fixed, double stretch, double queue) const { return fixed + h50 * stretch + g50 * queue; }
    double P95(double fixed, double stretch, double queue) const {
      return std::max(P50(fixed, stretch, queue), c95 * fixed + h95 * stretch + g95 * queue);
    }
  };
  struct LatencyRows {
    std::vector<std::vector<double>> x;  // [fixed, stretch, queue] seconds
    std::vector<double> y50, y95;        // measured seconds
  };
  static Percentiles FitPercentiles(const LatencyRows& rows);
  // Step 2 of Fit for the current sharing discipline; `error` is the mean relative error of the
  // fitted p50 and p95 latencies on the samples.
  Status FitPercentilesAndPower(const std::vector<ConfigView>& views,
                                const std::vector<const platform::Sample*>& samples, double* error);
  void PowerColumns(const ConfigView& v, const AnalyticEstimate& e, std::vector<double>* cols) const;

  std::shared_ptr<const Decomposer> decomposer_;
  std::vector<double> service_;   // num_units x kColumnsPerUnit
  // Per service column: did a training tenant's work have a nonzero value in it? All true for
  // model files from before this was recorded.
  std::vector<bool> observed_;
  double transfer_s_ = 0;         // per change of executing unit
  double transfer_byte_ = 0;      // x bytes / (emc_mhz * 1e6)
  double request_s_ = 0;
  Sharing sharing_ = Sharing::kQueue;
  std::array<Percentiles, 2> percentiles_;  // closed-loop tenants, open-loop tenants
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
