// estimator/transformer.h: the learned transformer estimator (libtorch behind a torch-free header).
//
// Tokens are the pipeline stages of every tenant of a configuration (estimator/features.h lists
// the features: block-kind FLOPs, bytes, parameters, the stage's unit, the mode's clocks, online
// cores and EMC cap, the tenant-local stage position, arrival kind and rate, and the analytic
// baseline's estimates as hints). No feature names a tenant slot or the tenant count: tenants
// are a set (reordering them reorders the outputs), which is what lets a model trained on 1-3
// tenants predict 4-6. Architecture (defaults; sizes in TransformerConfig):
//   features (normalised by the training set's mean/std, clamped to +-8) -> Linear(F, d_model) ->
//   layers x pre-norm encoder layer [x += MHA(LN(x)) with attention over ALL tenants' tokens,
//   x += FFN(LN(x)), ReLU FFN of ff_dim, no dropout; batch first, one fused QKV projection; a
//   padding mask only where a batch mixes token counts] -> LayerNorm ->
//   per tenant: mean of its tokens ++ mean of all tokens -> MLP(2 d, d, 4): log p50, log p95,
//     log throughput (each as a normalised residual over the analytic baseline's log value) and
//     a saturation logit;
//   global: mean of all tokens -> MLP(d, d, 1): log power (normalised residual over analytic).
// Residual learning: the analytic baseline (mean-value analysis, estimator/analytic.h) gives
// the physics; the network learns what it misses (memory contention, fit errors), so it
// converges in a few epochs and generalises across tenant mixes.
// Loss: Huber (delta 0.25 target std) on the normalised residuals (latency terms masked for
// measured-saturated tenants, whose latency is only what the window saw) + 0.2 x binary
// cross-entropy of the saturation flag; Adam, cosine learning-rate decay, minibatches of 256
// drawn from buckets of equal token count (no padding), deterministic for a seed.
// Ensembles (TransformerConfig::members > 1): the networks train one after another on the same
// data and normalisation, member k from seed + k (its initialisation and minibatch order), and
// inference averages their normalised outputs. Averaging evens out how networks trained from
// different seeds scatter around the labels; it costs `members` times the inference time.
// Inference: configurations are bucketed by token count and run in chunks of 512 under
// c10::InferenceMode.
//
//   TrainOptions o; o.epochs = 30; o.progress = [](const EpochReport& r) { ... };
//   auto p = TransformerPredictor::Train(info, split.train, split.holdout, {}, o);
//   ECOMAP_RETURN_IF_ERROR((*p)->Save("model.ecomap"));
//   auto q = TransformerPredictor::Load("model.ecomap");         // clear errors for bad files
//   auto perf = (*q)->PredictBatch(configs);                      // batched, inference mode
//
// The model file (estimator/model_file.h container, format "ecomap.estimator.transformer",
// version kTransformerVersion; version 1 had tenant-slot features and a post-norm encoder,
// version 2 lacked the contention hints of features.h; both are refused with "retrain") holds
// in its meta JSON: the platform description, the sizes, feature and target normalisation,
// the fitted analytic baseline, the training record and, when calibrated, the p95 bound's
// conformal quantiles ("conformal", estimator/conformal.h); the weights are a libtorch archive (an ensemble's: member k's parameters in sub-archive
// "member<k>"; one network's at the top level, as in files from before ensembles).
//
// Thread-safety: PredictBatch is const and may be called from several threads at once; each
// call runs on the calling thread with `intra_op_threads` libtorch threads (set per call).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "estimator/analytic.h"
#include "estimator/conformal.h"
#include "estimator/predictor.h"
#include "platform/sample.h"

namespace ecomap::estimator {

inline constexpr const char* kTransformerFormat = "ecomap.estimator.transformer";
inline constexpr int kTransformerVersion = 3;

struct TransformerConfig {
  int d_model = 32;
  int heads = 2;
  int layers = 2;
  int ff_dim = 64;
  // An ensemble: this many networks of the sizes above, each trained from its own seed, whose
  // normalised outputs are averaged (a geometric mean of their predictions). Inference costs
  // `members` times as much.
  int members = 1;
};
inline constexpr int kMaxMembers = 16;

struct EpochReport {
  int epoch = 0;             // 1-based
  int epochs = 0;
  double train_loss = 0;     // mean minibatch loss
  double holdout_p95_mape = 0;    // percent, non-saturated tenants; 0 without a hold-out
  double holdout_power_mape = 0;  // percent
  double holdout_throughput_mape = 0;
  double seconds = 0;        // since training started
  int member = 1, members = 1;  // which member of the ensemble the epoch trained (1-based)
};

// What the latency and throughput outputs are trained to minimise (power always uses Huber).
enum class TrainLoss {
  kHuber,     // Huber on the normalised log residuals: the prediction tracks the median ratio
  kRelative,  // |predicted / measured - 1|, the MAPE that eval reports: where repeated
              // measurements of a configuration scatter, it settles below their middle
};

struct TrainOptions {
  int epochs = 30;
  TrainLoss loss = TrainLoss::kHuber;
  int batch_size = 256;
  double learning_rate = 2e-3;
  double final_learning_rate = 2e-5;  // cosine decay to this
  uint64_t seed = 1;
  // libtorch intra-op threads while training. 1 by default: on a shared, busy machine OpenMP
  // workers spin-wait for each other and 2 threads ran 30x slower than 1 here (small model).
  int threads = 1;
  // > 0: a wall-clock budget in seconds. The learning-rate schedule then advances by
  // max(step / total steps, elapsed / budget) and training stops when either reaches 1, so a
  // run fits a time slot (at the price of bit-for-bit reproducibility across machines). An
  // ensemble's members share it equally.
  double time_limit_s = 0;
  std::function<void(const EpochReport&)> progress;  // called after every epoch
};

class TransformerPredictor final : public Predictor {
 public:
  ~TransformerPredictor() override;

  // Fits the analytic baseline and then the transformer on `train`; reports the hold-out
  // metrics per epoch. InvalidArgument when the samples are unusable (naming why).
  static StatusOr<std::unique_ptr<TransformerPredictor>> Train(
      const platform::PlatformInfo& info, const std::vector<const platform::Sample*>& train,
      const std::vector<const platform::Sample*>& holdout, const TransformerConfig& config,
      const TrainOptions& options);

  // Reads a model file. NotFound (no file), InvalidArgument (not a model / other format),
  // FailedPrecondition (another version: retrain), DataLoss (truncated, corrupt, unreadable
  // weights), each naming the file and the problem.
  static StatusOr<std::unique_ptr<TransformerPredictor>> Load(const std::string& path,
                                                              platform::ModelLookup lookup = {});
  // Writes the model file; `training` is stored as the meta's "training" record.
  Status Save(const std::string& path, const nlohmann::json& training = nlohmann::json::object()) const;

  std::string name() const override { return "transformer"; }
  StatusOr<std::vector<platform::Performance>> PredictBatch(
      const std::vector<platform::Configuration>& configs) const override;
  // exp(the conformal quantile) of the model's calibration (estimator/conformal.h) at the
  // smallest stored level >= confidence; nullopt for a model without one (files from before
  // calibration, or trained with --holdout 0 and never calibrated).
  std::optional<double> P95BoundFactor(double confidence) const override;

  // The p95 calibration kept with the model (meta key "conformal"); Save writes it.
  // set_conformal is not thread-safe: call it before the model is shared.
  const std::optional<ConformalCalibration>& conformal() const;
  void set_conformal(std::optional<ConformalCalibration> calibration);

  // The analytic baseline fitted with (and stored in) this model.
  const AnalyticModel& analytic() const;
  const platform::PlatformInfo& info() const;
  const TransformerConfig& config() const;
  // The meta's "training" record (data, seed, epochs, hold-out metrics).
  const nlohmann::json& training_record() const;
  int64_t num_parameters() const;
  void set_intra_op_threads(int n);

 private:
  struct Impl;
  explicit TransformerPredictor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomap::estimator
