#include "estimator/analytic.h"

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace ecomap::estimator {
namespace {

constexpr double kOpenSaturation = 0.98;
constexpr size_t kMinRowsPerKind = 8;    // tenants of an arrival kind needed for factors of its own
constexpr double kClosedBusyCap = 0.999;  // a closed-loop stage thread is never quite always busy
constexpr int kMvaIterations = 200;
constexpr double kMvaTolerance = 1e-5;  // customers

// Least squares on relative errors with non-negative coefficients: minimises
// sum_r ((offset_r + X_r . beta - y_r) / y_r)^2 + ridge, beta >= 0 (active set: negative
// coefficients are pinned to zero and the rest refitted). Columns are normalised before the
// ridge. No offset: 0.
std::vector<double> FitNonNegative(const std::vector<std::vector<double>>& rows, const std::vector<double>& y,
                                   size_t cols, double ridge = 1e-7, const std::vector<double>* offset = nullptr) {
  const size_t n = rows.size();
  Eigen::MatrixXd a(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(cols));
  Eigen::VectorXd target = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(n));
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < cols; ++c) a(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c] / y[r];
    if (offset) target(static_cast<Eigen::Index>(r)) = 1.0 - (*offset)[r] / y[r];
  }
  std::vector<double> scale(cols, 0.0);
  std::vector<bool> active(cols, false);
  for (size_t c = 0; c < cols; ++c) {
    double s = a.col(static_cast<Eigen::Index>(c)).norm() / std::sqrt(static_cast<double>(std::max<size_t>(n, 1)));
    scale[c] = s;
    active[c] = s > 1e-300;
    if (active[c]) a.col(static_cast<Eigen::Index>(c)) /= s;
  }
  std::vector<double> beta(cols, 0.0);
  for (int round = 0; round < 3 * static_cast<int>(cols) + 1; ++round) {
    std::vector<Eigen::Index> idx;
    for (size_t c = 0; c < cols; ++c) {
      if (active[c]) idx.push_back(static_cast<Eigen::Index>(c));
    }
    if (idx.empty()) break;
    Eigen::MatrixXd sub(a.rows(), static_cast<Eigen::Index>(idx.size()));
    for (size_t k = 0; k < idx.size(); ++k) sub.col(static_cast<Eigen::Index>(k)) = a.col(idx[k]);
    Eigen::MatrixXd ata = sub.transpose() * sub;
    ata.diagonal().array() += ridge * static_cast<double>(n);
    Eigen::VectorXd atb = sub.transpose() * target;
    Eigen::VectorXd sol = ata.ldlt().solve(atb);
    bool negative = false;
    Eigen::Index worst = -1;
    double worst_v = 0;
    for (size_t k = 0; k < idx.size(); ++k) {
      if (sol(static_cast<Eigen::Index>(k)) < worst_v) {
        worst_v = sol(static_cast<Eigen::Index>(k));
        worst = idx[k];
        negative = true;
      }
    }
    std::fill(beta.begin(), beta.end(), 0.0);
    for (size_t k = 0; k < idx.size(); ++k) {
      beta[static_cast<size_t>(idx[k])] = std::max(0.0, sol(static_cast<Eigen::Index>(k))) / scale[static_cast<size_t>(idx[k])];
    }
    if (!negative) break;
    active[static_cast<size_t>(worst)] = false;  // pin the most negative one and refit
  }
  return beta;
}

bool IsCpuLike(const platform::PlatformInfo& info, int u) {
  return info.units[static_cast<size_t>(u)].cores > 1;
}

}  // namespace

AnalyticModel::AnalyticModel(const platform::PlatformInfo& info, platform::ModelLookup lookup)
    : decomposer_(std::make_shared<Decomposer>(info, std::move(lookup))) {
  service_.assign(static_cast<size_t>(decomposer_->num_units() * kColumnsPerUnit), 0.0);
  observed_.assign(service_.size(), true);
  power_.assign(static_cast<size_t>(decomposer_->num_modes() + 2 * decomposer_->num_units() + 1), 0.0);
}

namespace {

// Adds the service-table columns of `w` to `base` (kColumnsPerUnit entries of its unit).
void AddUnitColumns(const Decomposer& d, const ConfigView& v, const UnitWork& w, double* base) {
  const size_t u = static_cast<size_t>(w.unit);
  const double f = v.mhz[u] * 1e6;
  const bool multi = d.unit_cores(w.unit) > 1;
  const double cores = multi ? (v.online_cores > 0 ? v.online_cores : d.unit_cores(w.unit)) : 1.0;
  for (int k = 0; k < kNumBlockKinds; ++k) {
    const double fl = w.flops[static_cast<size_t>(k)];
    if (fl == 0) continue;
    base[k] += fl / (f * cores);
    if (multi) base[kNumBlockKinds + k] += fl / f;
  }
  base[2 * kNumBlockKinds] += w.bytes / (v.emc_mhz * 1e6);
  base[2 * kNumBlockKinds + 1] += w.blocks;
}

// Adds the service-table columns of `w` to row (num_units x kColumnsPerUnit entries).
void AddWorkColumns(const Decomposer& d, const ConfigView& v, const UnitWork& w, double* row) {
  if (w.unit < 0 || w.blocks == 0) return;
  AddUnitColumns(d, v, w, row + static_cast<size_t>(w.unit) * AnalyticModel::kColumnsPerUnit);
}

}  // namespace

double AnalyticModel::ServiceSeconds(const ConfigView& v, const UnitWork& w) const {
  if (w.unit < 0 || w.blocks == 0) return 0;
  double cols[kColumnsPerUnit] = {};
  const size_t u = static_cast<size_t>(w.unit);
  AddUnitColumns(*decomposer_, v, w, cols);
  const double* c = service_.data() + u * kColumnsPerUnit;
  double t = 0;
  for (int k = 0; k < kColumnsPerUnit; ++k) t += c[k] * cols[k];
  return t;
}

void AnalyticModel::Demands(const ConfigView& v, AnalyticEstimate* out, Demand* d) const {
  const size_t n = v.tenants.size();
  d->parts.clear();
  d->parts.reserve(2 * v.stages.size());
  d->delay_s.assign(n, 0.0);
  d->bytes.assign(n, 0.0);
  out->stage_service_s.assign(v.stages.size(), 0.0);
  out->tenants.assign(n, {});
  for (size_t s = 0; s < v.stages.size(); ++s) {
    const StageView& st = v.stages[s];
    const size_t i = static_cast<size_t>(st.tenant);
    const double a = ServiceSeconds(v, st.native);
    const double b = ServiceSeconds(v, st.fallback);
    out->stage_service_s[s] = a + b;
    if (st.native.unit >= 0 && a > 0) d->parts.push_back({i, static_cast<size_t>(st.native.unit), a});
    if (st.fallback.unit >= 0 && b > 0) d->parts.push_back({i, static_cast<size_t>(st.fallback.unit), b});
    d->bytes[i] += st.native.bytes + st.fallback.bytes + 2.0 * st.transfer_bytes;
  }
  for (size_t i = 0; i < n; ++i) {
    const TenantView& t = v.tenants[i];
    d->delay_s[i] = request_s_ + transfer_s_ * t.transfers + transfer_byte_ * t.transfer_bytes / (v.emc_mhz * 1e6);
    out->tenants[i].fixed_s = d->delay_s[i];
  }
  for (const Demand::Part& p : d->parts) out->tenants[p.tenant].fixed_s += p.service_s;
}

void AnalyticModel::Contention(const ConfigView& v, AnalyticEstimate* out, Waits* w) const {
  Demand dem;
  Demands(v, out, &dem);
  Contention(sharing_, v, dem, out, w);
}

void AnalyticModel::Contention(Sharing sharing, const ConfigView& v, const Demand& dem, AnalyticEstimate* out,
                               Waits* w) const {
  if (sharing == Sharing::kThreads) {
    ContentionThreads(v, dem, out, w);
  } else {
    ContentionQueue(v, dem, out, w);
  }
}

void AnalyticModel::ContentionQueue(const ConfigView& v, const Demand& dem, AnalyticEstimate* out, Waits* w) const {
  const size_t n = v.tenants.size();
  const size_t nu = v.mhz.size();
  const std::vector<double>& delay = dem.delay_s;
  const std::vector<double>& bytes = dem.bytes;
  std::vector<double> d(n * nu, 0.0), x(n, 0.0);
  for (const Demand::Part& p : dem.parts) d[p.tenant * nu + p.unit] += p.service_s;
  // Open loops: the offered load, scaled down where it would pass saturation.
  std::vector<double> open_load(nu, 0.0), util(nu, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (!v.tenants[i].open) continue;
    for (size_t u = 0; u < nu; ++u) open_load[u] += v.tenants[i].rate_rps * d[i * nu + u];
  }
  for (size_t i = 0; i < n; ++i) {
    const TenantView& t = v.tenants[i];
    if (!t.open) continue;
    double scale = 1.0;
    for (size_t u = 0; u < nu; ++u) {
      if (d[i * nu + u] > 0 && open_load[u] > kOpenSaturation) scale = std::min(scale, kOpenSaturation / open_load[u]);
    }
    x[i] = t.rate_rps * scale;
    out->tenants[i].saturated = scale < 1.0;
  }
  std::fill(open_load.begin(), open_load.end(), 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (!v.tenants[i].open) continue;
    for (size_t u = 0; u < nu; ++u) open_load[u] += x[i] * d[i * nu + u];
  }
  for (size_t u = 0; u < nu; ++u) open_load[u] = std::min(open_load[u], kOpenSaturation);

  // Closed loops: Schweitzer's approximate mean-value analysis, every closed tenant a class
  // with `concurrency` customers, on demands inflated by the open load 1 / (1 - U_open).
  std::vector<double> queue(n * nu, 0.0), rq(n * nu, 0.0), total(nu, 0.0), resp(n, 0.0);
  bool any_closed = false;
  for (size_t i = 0; i < n; ++i) {
    if (v.tenants[i].open) continue;
    any_closed = true;
    int visited = 0;
    for (size_t u = 0; u < nu; ++u) visited += d[i * nu + u] > 0;
    for (size_t u = 0; u < nu; ++u) {
      if (d[i * nu + u] > 0) queue[i * nu + u] = static_cast<double>(v.tenants[i].concurrency) / visited;
    }
  }
  for (int it = 0; any_closed && it < kMvaIterations; ++it) {
    std::fill(total.begin(), total.end(), 0.0);
    for (size_t j = 0; j < n * nu; ++j) total[j % nu] += queue[j];
    double change = 0;
    for (size_t i = 0; i < n; ++i) {
      const TenantView& t = v.tenants[i];
      if (t.open) continue;
      const double pop = t.concurrency;
      double r = delay[i];
      for (size_t u = 0; u < nu; ++u) {
        const double du = d[i * nu + u];
        rq[i * nu + u] = 0;
        if (du <= 0) continue;
        rq[i * nu + u] = du / (1.0 - open_load[u]) * (1.0 + total[u] - queue[i * nu + u] / pop);
        r += rq[i * nu + u];
      }
      x[i] = pop / std::max(r, 1e-12);
      resp[i] = r;
      for (size_t u = 0; u < nu; ++u) {
        const double q = x[i] * rq[i * nu + u];
        change = std::max(change, std::abs(q - queue[i * nu + u]) / pop);
        queue[i * nu + u] = q;
      }
    }
    if (change < kMvaTolerance) break;
  }
  // Open loops: Pollaczek-Khinchine waiting behind the open load's residual service and the
  // closed requests present at the unit.
  for (size_t i = 0; i < n; ++i) {
    if (!v.tenants[i].open) continue;
    double r = delay[i];
    for (size_t u = 0; u < nu; ++u) {
      const double du = d[i * nu + u];
      if (du <= 0) continue;
      double residual = 0;
      for (size_t j = 0; j < n; ++j) {
        const double dj = d[j * nu + u];
        residual += v.tenants[j].open ? x[j] * dj * dj / 2.0 : queue[j * nu + u] * dj;
      }
      r += du + residual / (1.0 - open_load[u]);
    }
    resp[i] = r;
  }
  std::fill(util.begin(), util.end(), 0.0);
  double gbps = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t u = 0; u < nu; ++u) util[u] += x[i] * d[i * nu + u];
    gbps += x[i] * bytes[i] / 1e9;
  }
  out->utilisation = util;
  out->memory_gbps = gbps;
  w->stretch_s.assign(n, 0.0);
  w->queue_s.assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    w->queue_s[i] = std::max(0.0, resp[i] - out->tenants[i].fixed_s);
    out->tenants[i].throughput_rps = x[i];
  }
}

void AnalyticModel::ContentionThreads(const ConfigView& v, const Demand& dem, AnalyticEstimate* out,
                                      Waits* w) const {
  const size_t n = v.tenants.size();
  const size_t nu = v.mhz.size();
  struct Thread {
    size_t tenant, unit;
    double d;         // service seconds alone on the unit
    double busy = 0;  // probability the thread has work (executing or waiting for the core)
    double eff = 0;   // service seconds stretched by the other busy threads of the unit
    double q = 0;     // closed loop: requests at this thread
  };
  const std::vector<double>& delay = dem.delay_s;
  const std::vector<double>& bytes = dem.bytes;
  std::vector<Thread> th;
  for (const Demand::Part& p : dem.parts) th.push_back({p.tenant, p.unit, p.service_s});
  std::vector<double> x(n, 0.0), resp(n, 0.0), work(nu, 0.0);
  // Fixed point over the threads' busy probabilities, damped by half a step.
  std::vector<double> unit_busy(nu, 0.0);
  for (int it = 0; it < kMvaIterations; ++it) {
    std::fill(unit_busy.begin(), unit_busy.end(), 0.0);
    for (const Thread& t : th) unit_busy[t.unit] += t.busy;
    for (Thread& t : th) t.eff = t.d * (1.0 + unit_busy[t.unit] - t.busy);
    double change = 0;
    for (size_t i = 0; i < n; ++i) {
      const TenantView& tv = v.tenants[i];
      double r = delay[i];
      if (tv.open) {
        // Each stage thread is a FIFO queue of its own, served at the stretched rate (M/M/1).
        double scale = 1.0;
        for (const Thread& t : th) {
          if (t.tenant == i && tv.rate_rps * t.eff > kOpenSaturation) {
            scale = std::min(scale, kOpenSaturation / (tv.rate_rps * t.eff));
          }
        }
        x[i] = tv.rate_rps * scale;
        out->tenants[i].saturated = scale < 1.0;
        for (Thread& t : th) {
          if (t.tenant != i) continue;
          const double rho = x[i] * t.eff;
          r += t.eff + rho * t.eff / (1.0 - rho);
          const double busy = 0.5 * t.busy + 0.5 * rho;
          change = std::max(change, std::abs(busy - t.busy));
          t.busy = busy;
        }
      } else {
        // Schweitzer's mean-value analysis over the tenant's own stage threads.
        const double pop = tv.concurrency;
        for (const Thread& t : th) {
          if (t.tenant == i) r += t.eff * (1.0 + t.q * (pop - 1.0) / pop);
        }
        x[i] = pop / std::max(r, 1e-12);
        for (Thread& t : th) {
          if (t.tenant != i) continue;
          t.q = x[i] * t.eff * (1.0 + t.q * (pop - 1.0) / pop);
          const double busy = 0.5 * t.busy + 0.5 * std::min(kClosedBusyCap, x[i] * t.eff);
          change = std::max(change, std::abs(busy - t.busy));
          t.busy = busy;
        }
      }
      resp[i] = r;
    }
    if (it > 0 && change < kMvaTolerance) break;
  }
  double gbps = 0;
  for (const Thread& t : th) work[t.unit] += x[t.tenant] * t.d;
  for (size_t i = 0; i < n; ++i) gbps += x[i] * bytes[i] / 1e9;
  out->utilisation = work;
  out->memory_gbps = gbps;
  w->stretch_s.assign(n, 0.0);
  w->queue_s.assign(n, 0.0);
  for (const Thread& t : th) w->stretch_s[t.tenant] += t.eff - t.d;
  for (size_t i = 0; i < n; ++i) {
    w->queue_s[i] = std::max(0.0, resp[i] - out->tenants[i].fixed_s - w->stretch_s[i]);
    out->tenants[i].throughput_rps = x[i];
  }
}

std::vector<std::string> AnalyticModel::UnfittedWork(const ConfigView& v) const {
  std::vector<std::string> out;
  auto check = [&](const UnitWork& w) {
    if (w.unit < 0) return;
    const size_t base = static_cast<size_t>(w.unit) * kColumnsPerUnit;
    for (int k = 0; k < kNumBlockKinds; ++k) {
      if (w.flops[static_cast<size_t>(k)] == 0) continue;
      const size_t ki = static_cast<size_t>(k);
      if (observed_[base + ki] || observed_[base + kNumBlockKinds + ki]) continue;
      std::string line = std::string(zoo::BlockKindName(static_cast<zoo::BlockKind>(k))) + " blocks on " +
                         info().units[static_cast<size_t>(w.unit)].id;
      if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(std::move(line));
    }
  };
  for (const StageView& st : v.stages) {
    check(st.native);
    check(st.fallback);
  }
  return out;
}

std::vector<std::string> AnalyticModel::UncoveredModels(const std::vector<std::string>& models) const {
  std::vector<std::string> out;
  for (const std::string& name : models) {
    const zoo::ModelInfo* model = decomposer_->Lookup(name);
    if (model == nullptr) {
      out.push_back(name + " (not a known model)");
      continue;
    }
    std::vector<std::string> missing;
    for (const platform::ComputeUnit& unit : info().units) {
      platform::Configuration c;
      c.power_mode = info().modes.empty() ? 0 : info().modes.front().id;
      c.tenants.push_back(platform::TenantConfig{
          .name = name, .model = name, .stages = {{0, static_cast<int>(model->blocks.size()), unit.id}}});
      ConfigView v;
      if (!decomposer_->Decompose(c, &v).ok()) continue;  // the unit cannot hold it: nothing to predict
      for (std::string& m : UnfittedWork(v)) missing.push_back(std::move(m));
    }
    if (missing.empty()) continue;
    std::string line = name + " (";
    for (size_t i = 0; i < missing.size(); ++i) line += (i ? ", " : "") + missing[i];
    out.push_back(line + ")");
  }
  return out;
}

void AnalyticModel::PowerColumns(const ConfigView& v, const AnalyticEstimate& e, std::vector<double>* cols) const {
  const size_t nm = static_cast<size_t>(decomposer_->num_modes());
  const size_t nu = v.mhz.size();
  cols->assign(nm + 2 * nu + 1, 0.0);
  (*cols)[static_cast<size_t>(v.mode_index)] = 1.0;
  for (size_t u = 0; u < nu; ++u) {
    double util = std::clamp(e.utilisation[u], 0.0, 1.0);
    if (IsCpuLike(decomposer_->info(), static_cast<int>(u))) util *= v.cpu_core_fraction;
    const double phi = v.mhz_fraction[u];
    (*cols)[nm + 2 * u] = util * phi;
    (*cols)[nm + 2 * u + 1] = util * phi * phi * phi;
  }
  (*cols)[nm + 2 * nu] = e.memory_gbps * v.emc_fraction;
}

void AnalyticModel::Estimate(const ConfigView& v, AnalyticEstimate* out) const { Estimate(v, out, false); }

void AnalyticModel::EstimateWithHints(const ConfigView& v, AnalyticEstimate* out) const { Estimate(v, out, true); }

void AnalyticModel::Estimate(const ConfigView& v, AnalyticEstimate* out, bool hints) const {
  Demand dem;
  Demands(v, out, &dem);
  Waits w;
  Contention(sharing_, v, dem, out, &w);
  for (size_t i = 0; i < out->tenants.size(); ++i) {
    AnalyticEstimate::Tenant& t = out->tenants[i];
    const Percentiles& k = percentiles_[v.tenants[i].open ? 1 : 0];
    t.latency_p50_s = k.P50(t.fixed_s, w.stretch_s[i], w.queue_s[i]);
    t.latency_p95_s = k.P95(t.fixed_s, w.stretch_s[i], w.queue_s[i]);
    t.stretch_s = w.stretch_s[i];
    t.queue_s = w.queue_s[i];
  }
  std::vector<double> cols;
  PowerColumns(v, *out, &cols);
  double p = 0;
  for (size_t c = 0; c < cols.size(); ++c) p += cols[c] * power_[c];
  out->power_w = p;
  if (!hints) return;
  // The other discipline on the same demands, in a scratch estimate (it overwrites throughput,
  // saturation and utilisation).
  AnalyticEstimate other = *out;
  Contention(sharing_ == Sharing::kThreads ? Sharing::kQueue : Sharing::kThreads, v, dem, &other, &w);
  for (size_t i = 0; i < out->tenants.size(); ++i) {
    out->tenants[i].alt_stretch_s = w.stretch_s[i];
    out->tenants[i].alt_queue_s = w.queue_s[i];
    out->tenants[i].alt_throughput_rps = other.tenants[i].throughput_rps;
  }
}

Status AnalyticModel::Estimate(const platform::Configuration& config, ConfigView* view,
                               AnalyticEstimate* out) const {
  ECOMAP_RETURN_IF_ERROR(decomposer_->Decompose(config, view));
  Estimate(*view, out);
  return Status::Ok();
}

StatusOr<AnalyticModel> AnalyticModel::Fit(const platform::PlatformInfo& info,
                                           const std::vector<const platform::Sample*>& samples,
                                           platform::ModelLookup lookup) {
  AnalyticModel m(info, std::move(lookup));
  if (samples.empty()) return InvalidArgument("analytic fit: no samples");
  const size_t nu = info.units.size();
  const size_t cols = nu * kColumnsPerUnit + 3;
  std::vector<ConfigView> views(samples.size());
  for (size_t s = 0; s < samples.size(); ++s) {
    Status st = m.decomposer_->Decompose(samples[s]->config, &views[s]);
    if (!st.ok()) return st.WithContext("analytic fit: sample " + std::to_string(samples[s]->index));
  }
  // 1. Service table from tenants without queueing: alone, closed loop, one request outstanding.
  auto collect = [&](bool alone_only, std::vector<std::vector<double>>* rows, std::vector<double>* y) {
    for (size_t s = 0; s < samples.size(); ++s) {
      const ConfigView& v = views[s];
      if (alone_only && v.tenants.size() != 1) continue;
      for (size_t i = 0; i < v.tenants.size(); ++i) {
        const TenantView& t = v.tenants[i];
        const platform::TenantPerformance& tp = samples[s]->result.tenants[i];
        if (t.open || t.concurrency != 1 || tp.saturated || !(tp.latency_p50.value() > 0)) continue;
        std::vector<double> row(cols, 0.0);
        for (int k = 0; k < t.num_stages; ++k) {
          const StageView& st = v.stages[static_cast<size_t>(t.first_stage + k)];
          AddWorkColumns(*m.decomposer_, v, st.native, row.data());
          AddWorkColumns(*m.decomposer_, v, st.fallback, row.data());
        }
        row[nu * kColumnsPerUnit] = t.transfers;
        row[nu * kColumnsPerUnit + 1] = t.transfer_bytes / (v.emc_mhz * 1e6);
        row[nu * kColumnsPerUnit + 2] = 1.0;
        rows->push_back(std::move(row));
        y->push_back(tp.latency_p50.value() / 1000.0);
      }
    }
  };
  std::vector<std::vector<double>> rows;
  std::vector<double> y;
  collect(true, &rows, &y);
  if (rows.size() < cols) {  // too few lone tenants: every closed-loop tenant (contention biases it)
    rows.clear();
    y.clear();
    collect(false, &rows, &y);
  }
  if (rows.size() < 8) {
    return InvalidArgument("analytic fit: only " + std::to_string(rows.size()) +
                           " closed-loop tenants with one request outstanding and a latency; the service "
                           "table needs more (profile more samples)");
  }
  std::vector<double> beta = FitNonNegative(rows, y, cols);
  for (size_t c = 0; c < m.observed_.size(); ++c) {
    m.observed_[c] = std::any_of(rows.begin(), rows.end(), [c](const std::vector<double>& r) { return r[c] != 0; });
  }
  std::copy(beta.begin(), beta.begin() + static_cast<std::ptrdiff_t>(nu * kColumnsPerUnit), m.service_.begin());
  m.transfer_s_ = beta[nu * kColumnsPerUnit];
  m.transfer_byte_ = beta[nu * kColumnsPerUnit + 1];
  m.request_s_ = beta[nu * kColumnsPerUnit + 2];

  // 2. Percentile factors and power from the model's own contention estimates, once per
  // sharing discipline; the one whose latencies fit the training samples better is kept.
  AnalyticModel best = m;
  double best_error = std::numeric_limits<double>::infinity();
  for (Sharing sharing : {Sharing::kQueue, Sharing::kThreads}) {
    m.sharing_ = sharing;
    double error = 0;
    ECOMAP_RETURN_IF_ERROR(m.FitPercentilesAndPower(views, samples, &error));
    if (error < best_error) {
      best_error = error;
      best = m;
    }
  }
  return best;
}

AnalyticModel::Percentiles AnalyticModel::FitPercentiles(const LatencyRows& rows) {
  Percentiles p;
  if (rows.x.empty()) return p;
  std::vector<std::vector<double>> waits;
  std::vector<double> fixed;
  for (const auto& x : rows.x) {
    waits.push_back({x[1], x[2]});
    fixed.push_back(x[0]);
  }
  std::vector<double> b50 = FitNonNegative(waits, rows.y50, 2, 1e-9, &fixed);
  std::vector<double> b95 = FitNonNegative(rows.x, rows.y95, 3, 1e-9);
  p.h50 = b50[0];
  p.g50 = b50[1];
  p.c95 = std::max(1.0, b95[0]);
  p.h95 = b95[1];
  p.g95 = b95[2];
  return p;
}

Status AnalyticModel::FitPercentilesAndPower(const std::vector<ConfigView>& views,
                                             const std::vector<const platform::Sample*>& samples, double* error) {
  // Latency rows: [fixed, stretch, queue] per tenant with a latency (saturated ones excluded),
  // apart for closed-loop (0) and open-loop (1) tenants.
  std::array<LatencyRows, 2> rows;
  std::vector<std::vector<double>> prows;
  std::vector<double> py;
  AnalyticEstimate e;
  Waits w;
  for (size_t s = 0; s < samples.size(); ++s) {
    Contention(views[s], &e, &w);
    for (size_t i = 0; i < e.tenants.size(); ++i) {
      const platform::TenantPerformance& tp = samples[s]->result.tenants[i];
      if (tp.saturated) continue;
      const double a50 = tp.latency_p50.value() / 1000.0, a95 = tp.latency_p95.value() / 1000.0;
      if (!(a50 > 0) || !(a95 > 0)) continue;
      LatencyRows& r = rows[views[s].tenants[i].open ? 1 : 0];
      r.x.push_back({e.tenants[i].fixed_s, w.stretch_s[i], w.queue_s[i]});
      r.y50.push_back(a50);
      r.y95.push_back(a95);
    }
    if (samples[s]->result.power.value() > 0) {
      std::vector<double> pc;
      PowerColumns(views[s], e, &pc);
      prows.push_back(std::move(pc));
      py.push_back(samples[s]->result.power.value());
    }
  }
  // Each arrival kind gets factors of its own where it has enough tenants (open loops queue
  // behind Poisson bursts that closed loops never see); otherwise both share the pooled ones.
  Percentiles pooled;
  if (rows[0].x.size() < kMinRowsPerKind || rows[1].x.size() < kMinRowsPerKind) {
    LatencyRows all = rows[0];
    all.x.insert(all.x.end(), rows[1].x.begin(), rows[1].x.end());
    all.y50.insert(all.y50.end(), rows[1].y50.begin(), rows[1].y50.end());
    all.y95.insert(all.y95.end(), rows[1].y95.begin(), rows[1].y95.end());
    pooled = FitPercentiles(all);
  }
  *error = 0;
  for (size_t k = 0; k < 2; ++k) {
    percentiles_[k] = rows[k].x.size() >= kMinRowsPerKind ? FitPercentiles(rows[k]) : pooled;
    for (size_t r = 0; r < rows[k].x.size(); ++r) {
      const std::vector<double>& x = rows[k].x[r];
      *error += std::abs(percentiles_[k].P50(x[0], x[1], x[2]) - rows[k].y50[r]) / rows[k].y50[r] +
                std::abs(percentiles_[k].P95(x[0], x[1], x[2]) - rows[k].y95[r]) / rows[k].y95[r];
    }
  }
  const size_t scored = rows[0].x.size() + rows[1].x.size();
  if (scored > 0) *error /= static_cast<double>(2 * scored);
  if (prows.size() < 4) return InvalidArgument("analytic fit: fewer than 4 samples with a power reading");
  power_ = FitNonNegative(prows, py, prows[0].size());
  return Status::Ok();
}

nlohmann::json AnalyticModel::ToJson() const {
  nlohmann::json j;
  j["service"] = service_;
  j["transfer_s"] = transfer_s_;
  j["transfer_byte"] = transfer_byte_;
  j["request_s"] = request_s_;
  // Top level: the closed-loop tenants' percentile factors; "open": the open-loop tenants'.
  auto put = [](nlohmann::json& o, const Percentiles& p) {
    o["g50"] = p.g50;
    o["c95"] = p.c95;
    o["g95"] = p.g95;
    o["h50"] = p.h50;
    o["h95"] = p.h95;
  };
  put(j, percentiles_[0]);
  put(j["open"], percentiles_[1]);
  j["sharing"] = sharing_ == Sharing::kThreads ? "threads" : "queue";
  std::vector<int> observed(observed_.begin(), observed_.end());
  j["observed"] = observed;
  j["power"] = power_;
  return j;
}

StatusOr<AnalyticModel> AnalyticModel::FromJson(const nlohmann::json& j, const platform::PlatformInfo& info,
                                                platform::ModelLookup lookup) {
  AnalyticModel m(info, std::move(lookup));
  try {
    std::vector<double> service = j.at("service").get<std::vector<double>>();
    std::vector<double> power = j.at("power").get<std::vector<double>>();
    if (service.size() != m.service_.size()) {
      return InvalidArgument("analytic.service has " + std::to_string(service.size()) + " entries; the platform needs " +
                             std::to_string(m.service_.size()));
    }
    if (power.size() != m.power_.size()) {
      return InvalidArgument("analytic.power has " + std::to_string(power.size()) + " entries; the platform needs " +
                             std::to_string(m.power_.size()));
    }
    m.service_ = std::move(service);
    m.power_ = std::move(power);
    m.transfer_s_ = j.at("transfer_s").get<double>();
    m.transfer_byte_ = j.at("transfer_byte").get<double>();
    m.request_s_ = j.at("request_s").get<double>();
    // Model files from before the stretch terms (no h50/h95) or the per-kind factors (no
    // "open") read as zero stretch and shared factors.
    auto get = [](const nlohmann::json& o) {
      Percentiles p;
      p.g50 = o.at("g50").get<double>();
      p.c95 = o.at("c95").get<double>();
      p.g95 = o.at("g95").get<double>();
      p.h50 = o.value("h50", 0.0);
      p.h95 = o.value("h95", 0.0);
      return p;
    };
    m.percentiles_[0] = get(j);
    m.percentiles_[1] = j.contains("open") ? get(j.at("open")) : m.percentiles_[0];
    // Model files written before the sharing discipline was fitted: queueing stations.
    const std::string sharing = j.value("sharing", std::string("queue"));
    if (sharing != "queue" && sharing != "threads") {
      return InvalidArgument("analytic.sharing is '" + sharing + "'; expected \"queue\" or \"threads\"");
    }
    m.sharing_ = sharing == "threads" ? Sharing::kThreads : Sharing::kQueue;
    if (j.contains("observed")) {
      std::vector<int> observed = j.at("observed").get<std::vector<int>>();
      if (observed.size() != m.observed_.size()) {
        return InvalidArgument("analytic.observed has " + std::to_string(observed.size()) +
                               " entries; the platform needs " + std::to_string(m.observed_.size()));
      }
      m.observed_.assign(observed.begin(), observed.end());
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("analytic: ") + e.what());
  }
  return m;
}

StatusOr<std::vector<platform::Performance>> AnalyticPredictor::PredictBatch(
    const std::vector<platform::Configuration>& configs) const {
  std::vector<platform::Performance> out(configs.size());
  ConfigView view;
  AnalyticEstimate e;
  const platform::PlatformInfo& info = model_.info();
  for (size_t c = 0; c < configs.size(); ++c) {
    Status s = model_.Estimate(configs[c], &view, &e);
    if (!s.ok()) return s.WithContext("configuration " + std::to_string(c));
    platform::Performance& p = out[c];
    p.provenance = platform::Provenance::kModelled;
    p.power = Watts(e.power_w);
    p.tenants.resize(e.tenants.size());
    for (size_t i = 0; i < e.tenants.size(); ++i) {
      platform::TenantPerformance& tp = p.tenants[i];
      tp.name = TenantName(configs[c].tenants[i], i);
      tp.latency_p50 = Milliseconds(e.tenants[i].latency_p50_s * 1000.0);
      tp.latency_p95 = Milliseconds(e.tenants[i].latency_p95_s * 1000.0);
      tp.throughput_rps = e.tenants[i].throughput_rps;
      tp.saturated = e.tenants[i].saturated;
    }
    for (size_t u = 0; u < info.units.size(); ++u) {
      p.unit_utilisation[info.units[u].id] = std::clamp(e.utilisation[u], 0.0, 1.0);
    }
  }
  return out;
}

}  // namespace ecomap::estimator
