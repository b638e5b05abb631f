// estimator/memo.h: the memo of predictions for one decision.
#include "estimator/memo.h"

#include <cstring>

#include <fmt/format.h>

namespace ecomap::estimator {

namespace {
// A double bit for bit (two rates that print alike may differ).
void AppendBits(std::string* out, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  fmt::format_to(std::back_inserter(*out), "{:x}", bits);
}
}  // namespace

std::string ConfigurationKey(const platform::Configuration& config) {
  std::string k;
  k.reserve(64 * (config.tenants.size() + 1));
  fmt::format_to(std::back_inserter(k), "m{}", config.power_mode);
  for (const auto& [unit, mhz] : config.frequency_mhz) {
    k += "|f";
    k += unit;
    k += '=';
    AppendBits(&k, mhz);
  }
  for (const platform::TenantConfig& t : config.tenants) {
    // Lengths before the names: no name can fake a separator.
    fmt::format_to(std::back_inserter(k), "|t{}:{}{}:{}{}:{}:", t.name.size(), t.name, t.model.size(), t.model,
                   static_cast<int>(t.arrival), t.concurrency);
    AppendBits(&k, t.rate_rps);
    for (const platform::Stage& s : t.stages) {
      fmt::format_to(std::back_inserter(k), "/{},{},{}:{}", s.begin_block, s.end_block, s.unit.size(), s.unit);
    }
  }
  return k;
}

StatusOr<std::vector<platform::Performance>> MemoPredictor::PredictBatch(
    const std::vector<platform::Configuration>& configs) const {
  std::vector<platform::Performance> out(configs.size());
  std::vector<std::string> keys;
  keys.reserve(configs.size());
  for (const auto& c : configs) keys.push_back(ConfigurationKey(c));
  // The configurations the memo lacks, once each, in order of first appearance; `slot` says
  // which of them answers configs[i] (-1: the memo does).
  std::vector<platform::Configuration> todo;
  std::vector<long> slot(configs.size(), -1);
  {
    std::unordered_map<std::string, long> pending;
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < configs.size(); ++i) {
      auto it = memo_.find(keys[i]);
      if (it != memo_.end()) {
        out[i] = it->second;
        ++hits_;
        continue;
      }
      auto [p, fresh] = pending.emplace(keys[i], static_cast<long>(todo.size()));
      if (fresh) {
        todo.push_back(configs[i]);
        ++misses_;
      } else {
        ++hits_;
      }
      slot[i] = p->second;
    }
  }
  if (todo.empty()) return out;
  ECOMAP_ASSIGN_OR_RETURN(std::vector<platform::Performance> perf, inner_.PredictBatch(todo));
  if (perf.size() != todo.size()) {
    return Internal(fmt::format("predictor {} returned {} results for {} configurations", inner_.name(), perf.size(),
                                todo.size()));
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    if (slot[i] >= 0) out[i] = perf[static_cast<size_t>(slot[i])];
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < configs.size(); ++i) {
    if (slot[i] >= 0) memo_.emplace(keys[i], out[i]);
  }
  return out;
}

long long MemoPredictor::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

long long MemoPredictor::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

size_t MemoPredictor::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return memo_.size();
}

void MemoPredictor::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  memo_.clear();
  hits_ = misses_ = 0;
}

}  // namespace ecomap::estimator
