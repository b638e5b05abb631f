// estimator/predictor.h: "what would this configuration cost?" without running it.
//
// The search asks this thousands of times per decision, so the interface is batched: one call
// predicts many configurations (power mode + every tenant's variant, cut points and units) and
// returns, per configuration, a platform::Performance with every tenant's latency p50/p95 and
// throughput and the device power (the same type the platforms and the profiler produce, so
// predictions and measurements compare field by field).
//
// Implementations (all behind this interface):
//   * TransformerPredictor (estimator/transformer.h, libtorch): the learned estimator.
//   * AnalyticPredictor (estimator/analytic.h): per-(unit, kind) throughput tables fitted by
//     least squares, a utilisation-based contention term and a fitted power model (baseline).
//   * SimulatorPredictor (estimator/simulator_predictor.h): xavier-sim itself (the oracle).
//   * CorrectedPredictor (estimator/correction.h): online correction of any of them.
//
//   std::unique_ptr<Predictor> p = ...;
//   StatusOr<std::vector<platform::Performance>> r = p->PredictBatch(configs);
//   if (r.ok()) use((*r)[0].tenants[0].latency_p95, (*r)[0].power);
//
// Calibrated uncertainty: P95BoundFactor(confidence) answers "by how much must a predicted p95 be
// multiplied to bound the real one at this confidence?" (split conformal, estimator/conformal.h).
// Only a calibrated transformer model answers; the analytic baseline and the simulator oracle
// have no bound (nullopt), and callers keep their own margin then (policy/planning.h).
//
// Predicted figures carry Provenance::kModelled (the simulator oracle: kSimulated) and every
// command that prints them labels them "predicted".
//
// Thread-safety: PredictBatch is const; implementations say whether concurrent calls are safe
// (all of this part's are, except where their header says otherwise).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "platform/types.h"

namespace ecomap::estimator {

class Predictor {
 public:
  virtual ~Predictor() = default;

  // A short name for tables and logs: "transformer", "analytic", "xavier-sim".
  virtual std::string name() const = 0;

  // Predicts every configuration. On success the result has configs.size() entries, in order,
  // each with one TenantPerformance per tenant (names defaulted to "t<index>" like the
  // platforms do), power, and unit_utilisation where the predictor estimates it.
  // Fails (InvalidArgument / NotFound naming the configuration index, the tenant and the bad
  // value) when any configuration is invalid for the predictor's platform; nothing is returned
  // for the others then. An empty batch gives an empty result.
  virtual StatusOr<std::vector<platform::Performance>> PredictBatch(
      const std::vector<platform::Configuration>& configs) const = 0;

  // The p95 bound factor f at `confidence` in (0, 1): for a tenant like those the predictor was
  // calibrated on, P(measured p95 <= predicted p95 x f) >= confidence (marginally over tenants;
  // f < 1 where the predictor over-predicts). nullopt when the predictor has no calibration that
  // reaches `confidence` (the default: analytic, simulator). Cheap: no prediction runs.
  virtual std::optional<double> P95BoundFactor(double confidence) const;

  // One configuration: PredictBatch of a batch of one.
  StatusOr<platform::Performance> Predict(const platform::Configuration& config) const;
};

// The tenant name the platforms report: config name, or "t<index>" when empty.
std::string TenantName(const platform::TenantConfig& t, size_t index);

}  // namespace ecomap::estimator
