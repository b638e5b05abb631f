// estimator/correction.h: online correction of a predictor from measurements, no retraining.
//
// The running system measures what a configuration really costs; a CorrectedPredictor folds the
// measured / predicted ratios back into later predictions: per tenant and model (keyed by the
// tenant's name, a service's identity, and the variant it runs) and per output (latency p50,
// latency p95, throughput) an exponentially weighted mean of log(measured / predicted), and one
// for device power. The key holds the model because a ratio does not carry over between a
// tenant's variants: a per-request overhead the predictor lacks (a REST hop, decoding) is most of
// a light variant's latency and a small part of a heavy one's, so a light variant's measured
// ratio (3-4x on the demo's camera) would rule out its heavier variant unseen; a variant not
// measured yet is predicted uncorrected. A prediction is
// multiplied by exp(mean). Ratios are clamped to [1/max_ratio, max_ratio] so one outlier cannot
// wreck the estimates. The latency of a saturated measurement is not a ratio (it only says
// "overloaded"): the tenant's latency factors step up instead (to at least 1, then x
// saturation_step per saturated interval), so a plan the predictor thinks fits but that keeps
// saturating is re-planned with more headroom; later unsaturated measurements pull the factors
// back to the measured ratios.
//
//   auto base = std::make_shared<AnalyticPredictor>(model);
//   CorrectedPredictor p(base, {.alpha = 0.3});
//   p.Observe(config, measured);            // after each control interval
//   auto r = p.PredictBatch(candidates);    // corrected
//
// Thread-safety: all methods may be called concurrently (a mutex guards the state); the inner
// predictor must be thread-safe for PredictBatch.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "estimator/predictor.h"

namespace ecomap::estimator {

struct CorrectionOptions {
  double alpha = 0.3;       // weight of the newest observation, in (0, 1]
  double max_ratio = 4.0;   // measured/predicted ratios are clamped to [1/max_ratio, max_ratio]
  double saturation_step = 1.25;  // a saturated measurement multiplies the latency factors by this
};

// The correction state alone (for callers that keep their own predictions).
class OnlineCorrection {
 public:
  explicit OnlineCorrection(CorrectionOptions options = {}) : options_(options) {}

  // Updates the ratios from one configuration's uncorrected prediction and its measurement
  // (tenants matched by position; names from the configuration). InvalidArgument when the
  // tenant counts differ.
  Status Observe(const platform::Configuration& config, const platform::Performance& predicted,
                 const platform::Performance& measured);
  // Multiplies the outputs of `perf` (a prediction for `config`) by the learned ratios.
  void Apply(const platform::Configuration& config, platform::Performance* perf) const;
  // The current factor (exp of the mean log ratio) of one output: "p50", "p95", "throughput"
  // for a tenant name running `model`, or "power" (tenant and model ignored). 1 when nothing was
  // observed.
  double Factor(const std::string& tenant, const std::string& model, const std::string& output) const;
  void Reset();

 private:
  struct Ewma {
    double log_ratio = 0;
    bool seen = false;
  };
  void Update(Ewma* e, double measured, double predicted);

  static std::string Key(const std::string& tenant, const std::string& model) { return tenant + '\n' + model; }

  CorrectionOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Ewma[3]> tenants_;  // by Key(tenant, model); guarded by mu_
  Ewma power_;                              // guarded by mu_
};

class CorrectedPredictor final : public Predictor {
 public:
  CorrectedPredictor(std::shared_ptr<const Predictor> inner, CorrectionOptions options = {})
      : inner_(std::move(inner)), correction_(options) {}

  std::string name() const override { return inner_->name() + "+corrected"; }
  StatusOr<std::vector<platform::Performance>> PredictBatch(
      const std::vector<platform::Configuration>& configs) const override;
  // The inner predictor's bound: its calibration describes the uncorrected residuals; the
  // correction, which pulls predictions towards the measurements, usually narrows them.
  std::optional<double> P95BoundFactor(double confidence) const override {
    return inner_->P95BoundFactor(confidence);
  }

  // Predicts `config` with the inner predictor and folds `measured` into the correction.
  Status Observe(const platform::Configuration& config, const platform::Performance& measured);
  const OnlineCorrection& correction() const { return correction_; }
  void Reset() { correction_.Reset(); }

 private:
  std::shared_ptr<const Predictor> inner_;
  OnlineCorrection correction_;
};

}  // namespace ecomap::estimator
