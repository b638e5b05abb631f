#include "estimator/metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/file.h"

namespace ecomap::estimator {
namespace {

struct Acc {
  int64_t n = 0;
  double ape = 0, sum = 0, sum2 = 0, ss_res = 0;
  void Add(double pred, double truth) {
    if (!(truth > 0) || !std::isfinite(pred)) return;
    ++n;
    ape += std::abs(pred - truth) / truth;
    sum += truth;
    sum2 += truth * truth;
    ss_res += (pred - truth) * (pred - truth);
  }
  OutputMetrics Get() const {
    OutputMetrics m;
    m.count = n;
    if (n == 0) return m;
    m.mape = 100.0 * ape / static_cast<double>(n);
    double ss_tot = sum2 - sum * sum / static_cast<double>(n);
    m.r2 = (n >= 2 && ss_tot > 0) ? 1.0 - ss_res / ss_tot : 0.0;
    return m;
  }
};

struct ScoreAcc {
  Acc p50, p95, thr, power;
  int64_t samples = 0, tenants = 0, saturated = 0, sat_ok = 0;
  Scores Get() const {
    Scores s;
    s.samples = samples;
    s.tenants = tenants;
    s.saturated = saturated;
    s.saturation_accuracy = tenants > 0 ? static_cast<double>(sat_ok) / static_cast<double>(tenants) : 1.0;
    s.latency_p50 = p50.Get();
    s.latency_p95 = p95.Get();
    s.throughput = thr.Get();
    s.power = power.Get();
    return s;
  }
};

}  // namespace

EvalReport Score(const std::vector<platform::Performance>& predicted,
                 const std::vector<const platform::Sample*>& truth) {
  ScoreAcc all;
  std::map<int, ScoreAcc> by;
  std::map<std::string, ScoreAcc> by_arrival;
  const size_t n = std::min(predicted.size(), truth.size());
  for (size_t s = 0; s < n; ++s) {
    const platform::Performance& p = predicted[s];
    const platform::Performance& t = truth[s]->result;
    const std::vector<platform::TenantConfig>& tc = truth[s]->config.tenants;
    ScoreAcc& b = by[static_cast<int>(t.tenants.size())];
    for (ScoreAcc* a : {&all, &b}) {
      a->samples += 1;
      a->power.Add(p.power.value(), t.power.value());
    }
    std::map<std::string, bool> seen;
    for (size_t i = 0; i < t.tenants.size() && i < p.tenants.size(); ++i) {
      const platform::TenantPerformance& tt = t.tenants[i];
      const platform::TenantPerformance& pt = p.tenants[i];
      const std::string kind =
          i < tc.size() && tc[i].arrival == platform::ArrivalKind::kOpenLoop ? "open" : "closed";
      ScoreAcc& k = by_arrival[kind];
      if (!seen[kind]) k.samples += 1;
      seen[kind] = true;
      for (ScoreAcc* a : {&all, &b, &k}) {
        a->tenants += 1;
        a->sat_ok += tt.saturated == pt.saturated;
        a->thr.Add(pt.throughput_rps, tt.throughput_rps);
        if (tt.saturated) {
          a->saturated += 1;
          continue;
        }
        a->p50.Add(pt.latency_p50.value(), tt.latency_p50.value());
        a->p95.Add(pt.latency_p95.value(), tt.latency_p95.value());
      }
    }
  }
  EvalReport r;
  static_cast<Scores&>(r) = all.Get();
  for (const auto& [k, a] : by) r.by_tenants[k] = a.Get();
  for (const auto& [k, a] : by_arrival) r.by_arrival[k] = a.Get();
  return r;
}

nlohmann::json ScoresToJson(const Scores& s) {
  nlohmann::json j;
  j["samples"] = s.samples;
  j["tenants"] = s.tenants;
  j["saturated_excluded"] = s.saturated;
  j["saturation_accuracy"] = s.saturation_accuracy;
  auto put = [&j](const std::string& k, const OutputMetrics& m) {
    j[k + "_mape"] = m.mape;
    j[k + "_r2"] = m.r2;
    j[k + "_count"] = m.count;
  };
  put("latency_p50", s.latency_p50);
  put("latency_p95", s.latency_p95);
  put("throughput", s.throughput);
  put("power", s.power);
  return j;
}

nlohmann::json ReportToJson(const EvalReport& r) {
  nlohmann::json j = ScoresToJson(r);
  nlohmann::json by = nlohmann::json::object();
  for (const auto& [k, s] : r.by_tenants) by[std::to_string(k)] = ScoresToJson(s);
  j["by_tenants"] = by;
  nlohmann::json arrival = nlohmann::json::object();
  for (const auto& [k, s] : r.by_arrival) arrival[k] = ScoresToJson(s);
  j["by_arrival"] = arrival;
  return j;
}

RepeatFloor MeasurementRepeatFloor(const std::vector<const platform::Sample*>& samples) {
  std::map<std::string, std::vector<const platform::Sample*>> groups;
  for (const platform::Sample* s : samples) groups[nlohmann::json(s->config).dump()].push_back(s);
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
  };
  RepeatFloor floor;
  std::vector<platform::Performance> predicted;
  std::vector<const platform::Sample*> truth;
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    ++floor.groups;
    const size_t nt = members[0]->result.tenants.size();
    for (size_t self = 0; self < members.size(); ++self) {
      // Leave one out: the sample is predicted by the median of the other measurements only.
      platform::Performance m;
      std::vector<double> power;
      for (size_t o = 0; o < members.size(); ++o) {
        if (o != self) power.push_back(members[o]->result.power.value());
      }
      m.power = Watts(median(power));
      m.tenants.resize(nt);
      for (size_t i = 0; i < nt; ++i) {
        std::vector<double> p50, p95, thr;
        int saturated = 0, others = 0;
        for (size_t o = 0; o < members.size(); ++o) {
          const platform::Sample* s = members[o];
          if (o == self || i >= s->result.tenants.size()) continue;
          const platform::TenantPerformance& t = s->result.tenants[i];
          ++others;
          thr.push_back(t.throughput_rps);
          saturated += t.saturated;
          if (t.saturated) continue;
          p50.push_back(t.latency_p50.value());
          p95.push_back(t.latency_p95.value());
        }
        m.tenants[i].latency_p50 = Milliseconds(median(p50));
        m.tenants[i].latency_p95 = Milliseconds(median(p95));
        m.tenants[i].throughput_rps = median(thr);
        m.tenants[i].saturated = 2 * saturated > others;
      }
      predicted.push_back(std::move(m));
      truth.push_back(members[self]);
    }
  }
  floor.report = Score(predicted, truth);
  return floor;
}

Split SplitSamples(const std::vector<platform::Sample>& samples, double holdout_share, uint64_t seed,
                   int max_train_tenants) {
  Split split;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const platform::Sample& s : samples) {
    const double draw = u(rng);  // drawn for every sample so the split does not depend on the limit
    if (max_train_tenants > 0 && static_cast<int>(s.config.tenants.size()) > max_train_tenants) {
      split.unseen.push_back(&s);
    } else if (draw < holdout_share) {
      split.holdout.push_back(&s);
    } else {
      split.train.push_back(&s);
    }
  }
  return split;
}

Status WritePredictions(const std::string& path, const std::vector<const platform::Sample*>& samples,
                        const std::vector<NamedPredictions>& predictors) {
  for (const NamedPredictions& p : predictors) {
    if (p.predicted == nullptr || p.predicted->size() != samples.size()) {
      return InvalidArgument("predictions of '" + p.name + "': " +
                             std::to_string(p.predicted ? p.predicted->size() : 0) + " for " +
                             std::to_string(samples.size()) + " samples");
    }
    if (p.name == "schema" || p.name == "index" || p.name == "seed" || p.name == "config" || p.name == "truth") {
      return InvalidArgument("predictor name '" + p.name + "' clashes with a key of the predictions file");
    }
  }
  std::string lines;
  for (size_t i = 0; i < samples.size(); ++i) {
    nlohmann::json line;
    line["schema"] = "ecomap.predictions.v1";
    line["index"] = samples[i]->index;
    line["seed"] = samples[i]->seed;
    line["config"] = samples[i]->config;
    line["truth"] = samples[i]->result;
    for (const NamedPredictions& p : predictors) line[p.name] = (*p.predicted)[i];
    lines += line.dump();
    lines += '\n';
  }
  return WriteFileAtomic(path, lines);
}

}  // namespace ecomap::estimator
