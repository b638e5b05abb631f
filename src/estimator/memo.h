// estimator/memo.h: a memo of predictions, keyed by the configuration, for the span of one
// decision.
//
// A controller's re-plan asks its predictor about many configurations, and many of them more
// than once: the mapping search decodes distinct box points to the same configuration (integer
// rounding, cuts that mean "no cut", unit indices that wrap), LA-MCTS's perturbations revisit
// neighbours, and the substitution ladder and the budget rungs search overlapping spaces (the
// same variants at a higher rung, the warm starts of every search). MemoPredictor wraps the
// predictor and answers a configuration it has already seen from its memo; only the new ones
// go to the inner predictor, in one batch, in their order of first appearance (duplicates
// within a batch are predicted once).
//
// A memo hit returns exactly what the inner predictor returned for that configuration when it
// was first asked, so a deterministic inner predictor gives identical results with and without
// the memo. The memo is only valid while the inner predictor does not change: a controller makes
// one per decision (estimator::CorrectedPredictor changes with every measurement folded in).
// The key is the whole configuration (mode, frequency overrides, and per tenant its name, model,
// arrival figures bit for bit and stages).
//
//   MemoPredictor memo(predictor);       // per decision
//   search(memo); rank(memo);            // repeated configurations cost a lookup
//   memo.hits(); memo.misses();
//
// Thread-safety: PredictBatch may be called concurrently (a mutex guards the memo; the inner
// predictor is called outside it, so the inner predictor must be thread-safe as usual).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "estimator/predictor.h"

namespace ecomap::estimator {

// The memo's key of a configuration: equal for equal configurations (operator==), distinct
// otherwise.
std::string ConfigurationKey(const platform::Configuration& config);

class MemoPredictor final : public Predictor {
 public:
  // `inner` must outlive the memo.
  explicit MemoPredictor(const Predictor& inner) : inner_(inner) {}

  std::string name() const override { return inner_.name(); }
  StatusOr<std::vector<platform::Performance>> PredictBatch(
      const std::vector<platform::Configuration>& configs) const override;
  std::optional<double> P95BoundFactor(double confidence) const override {
    return inner_.P95BoundFactor(confidence);
  }

  // Configurations answered from the memo / predicted by the inner predictor, so far.
  long long hits() const;
  long long misses() const;
  size_t size() const;
  void Clear();

 private:
  const Predictor& inner_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, platform::Performance> memo_;  // guarded by mu_
  mutable long long hits_ = 0, misses_ = 0;                               // guarded by mu_
};

}  // namespace ecomap::estimator
