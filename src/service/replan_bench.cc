#include "service/replan_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "carbon/stats.h"
#include "service/daemon.h"

namespace ecomap::service {
namespace {

using json = nlohmann::json;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return carbon::Percentile(v, 50);
}

LoadgenOptions LoadOf(const ServeConfig& config, double seconds, uint64_t seed) {
  LoadgenOptions lo;
  for (const policy::TenantSpec& t : config.tenants) {
    ModelLoad m;
    m.model = t.name;
    m.closed = t.arrival == platform::ArrivalKind::kClosedLoop;
    m.rate_rps = t.rate_rps;
    m.concurrency = std::max(1, t.concurrency);
    lo.models.push_back(m);
  }
  lo.duration_s = seconds;
  lo.seed = seed;
  return lo;
}

// One phase: warm-up load, then the measured load; with `replan`, one thread re-plans back to
// back from the start of the warm-up to the end of the measured load.
StatusOr<ReplanPhase> RunPhase(Daemon& daemon, const ReplanBenchOptions& o, bool replan, uint64_t seed) {
  ReplanPhase out;
  out.replanning = replan;
  std::atomic<bool> stop{false};
  std::atomic<int> plans{0};
  double plan_ms_sum = 0;
  std::string plan_error;
  std::thread planner;
  if (replan) {
    planner = std::thread([&] {
      LowerToPlannerPriority();  // where the daemon's own plans run
      while (!stop.load()) {
        const auto t0 = std::chrono::steady_clock::now();
        StatusOr<policy::Decision> d = daemon.ShadowPlan();
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!d.ok()) {
          if (plan_error.empty()) plan_error = d.status().message();
          std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no busy loop on a failing plan
          continue;
        }
        plan_ms_sum += ms;
        plans.fetch_add(1);
      }
    });
  }
  auto transport = MakeRestTransport("127.0.0.1", daemon.port(), /*binary=*/true);
  StatusOr<LoadgenReport> warm = o.warmup_s > 0 ? RunLoad(*transport, LoadOf(daemon.config(), o.warmup_s, seed + 7))
                                                : StatusOr<LoadgenReport>(LoadgenReport{});
  StatusOr<LoadgenReport> load =
      warm.ok() ? RunLoad(*transport, LoadOf(daemon.config(), o.seconds, seed)) : StatusOr<LoadgenReport>(warm.status());
  stop = true;
  if (planner.joinable()) planner.join();
  if (!load.ok()) return load.status().WithContext("bench-replan: load");
  out.seconds = load->duration_s;
  out.tenants = load->models;
  out.plans = plans.load();
  out.plan_ms_mean = out.plans > 0 ? plan_ms_sum / out.plans : 0;
  out.plan_error = plan_error;
  return out;
}

std::string PhaseLine(const ReplanPhase& p, int pair) {
  std::string s = fmt::format("pair {} {:<10}", pair + 1, p.replanning ? "replanning" : "quiet");
  for (const ModelStats& m : p.tenants) {
    s += fmt::format("  {} p95 {:.1f} ms ({} ok, {} refused)", m.model, m.p95_ms, m.ok, m.refused);
  }
  if (p.replanning) s += fmt::format("  | {} plans, mean {:.0f} ms", p.plans, p.plan_ms_mean);
  return s;
}

}  // namespace

StatusOr<ReplanBenchResult> RunReplanBench(Daemon& daemon, const ReplanBenchOptions& o) {
  if (o.pairs < 1) return InvalidArgument("bench-replan: pairs " + std::to_string(o.pairs) + " must be >= 1");
  if (!(o.seconds > 0)) return InvalidArgument("bench-replan: seconds must be > 0");
  if (daemon.config().tenants.empty()) {
    return FailedPrecondition("bench-replan: the config declares no tenants; add [[serve.tenants]]");
  }
  if (daemon.port() == 0) return FailedPrecondition("bench-replan: the daemon has no API listener");
  ReplanBenchResult r;
  r.options = o;
  {
    StatusSnapshot s = daemon.Snapshot();
    r.configuration = "mode " + s.mode_name;
    for (const TenantState& t : s.tenants) r.configuration += "; " + t.name + " " + t.model + " [" + t.pipeline + "]";
  }
  double plan_ms_sum = 0;
  std::string first_plan_error;
  for (int pair = 0; pair < o.pairs; ++pair) {
    ReplanPhase phases[2];
    const bool replan_first = pair % 2 == 1;
    for (int k = 0; k < 2; ++k) {
      const bool replan = (k == 0) == replan_first;
      ECOMAP_ASSIGN_OR_RETURN(ReplanPhase p, RunPhase(daemon, o, replan, 1000 + static_cast<uint64_t>(pair) * 2 + k));
      if (o.progress) o.progress(PhaseLine(p, pair));
      if (!p.plan_error.empty() && first_plan_error.empty()) first_plan_error = p.plan_error;
      phases[replan ? 1 : 0] = std::move(p);
    }
    r.plans += phases[1].plans;
    plan_ms_sum += phases[1].plan_ms_mean * phases[1].plans;
    r.quiet.push_back(std::move(phases[0]));
    r.replanning.push_back(std::move(phases[1]));
  }
  if (r.plans == 0) {
    return Internal("bench-replan: no re-plan completed" +
                    (first_plan_error.empty() ? std::string() : ": " + first_plan_error));
  }
  r.plan_ms_mean = plan_ms_sum / r.plans;
  r.pass = true;
  for (const policy::TenantSpec& spec : daemon.config().tenants) {
    ReplanTenant t;
    t.name = spec.name;
    for (int pair = 0; pair < o.pairs; ++pair) {
      auto find = [&](const ReplanPhase& p) -> const ModelStats* {
        for (const ModelStats& m : p.tenants) {
          if (m.model == spec.name) return &m;
        }
        return nullptr;
      };
      const ModelStats* q = find(r.quiet[pair]);
      const ModelStats* p = find(r.replanning[pair]);
      if (!q || !p) continue;
      t.quiet_refused += q->refused;
      t.replanning_refused += p->refused;
      if (q->ok == 0 || p->ok == 0 || q->p95_ms <= 0) continue;  // nothing served: no ratio
      t.quiet_p95_ms.push_back(q->p95_ms);
      t.replanning_p95_ms.push_back(p->p95_ms);
      t.ratios.push_back(p->p95_ms / q->p95_ms);
    }
    t.quiet_p95_ms_median = Median(t.quiet_p95_ms);
    t.replanning_p95_ms_median = Median(t.replanning_p95_ms);
    t.ratio_median = Median(t.ratios);
    t.pass = !t.ratios.empty() && t.ratio_median <= o.goal_ratio;
    r.pass = r.pass && t.pass;
    r.tenants.push_back(std::move(t));
  }
  return r;
}

json ToJson(const ReplanBenchResult& r) {
  json tenants = json::array();
  for (const ReplanTenant& t : r.tenants) {
    json pairs = json::array();
    for (size_t i = 0; i < t.ratios.size(); ++i) {
      pairs.push_back({{"quiet_p95_ms", t.quiet_p95_ms[i]},
                       {"replanning_p95_ms", t.replanning_p95_ms[i]},
                       {"ratio", t.ratios[i]}});
    }
    tenants.push_back({{"name", t.name},
                       {"quiet_p95_ms", t.quiet_p95_ms_median},
                       {"replanning_p95_ms", t.replanning_p95_ms_median},
                       {"ratio", t.ratio_median},
                       {"pairs", std::move(pairs)},
                       {"quiet_refused", t.quiet_refused},
                       {"replanning_refused", t.replanning_refused},
                       {"pass", t.pass}});
  }
  return {{"configuration", r.configuration},
          {"options",
           {{"seconds", r.options.seconds}, {"warmup_s", r.options.warmup_s}, {"pairs", r.options.pairs}}},
          {"plans", r.plans},
          {"plan_ms_mean", r.plan_ms_mean},
          {"tenants", std::move(tenants)},
          {"goal_ratio", r.options.goal_ratio},
          {"pass", r.pass}};
}

std::string FormatReplanBench(const ReplanBenchResult& r) {
  std::string s = "re-plan interference (measured on this machine, real engine): " + r.configuration + "\n";
  s += fmt::format("{} full re-plans back to back in the replanning phases, mean {:.0f} ms each (nice {})\n", r.plans,
                   r.plan_ms_mean, kPlannerNice);
  s += fmt::format("{:<14} {:>14} {:>18} {:>14} {:>10}\n", "tenant", "quiet p95 ms", "replanning p95 ms",
                   "median ratio", "refused");
  for (const ReplanTenant& t : r.tenants) {
    s += fmt::format("{:<14} {:>14.1f} {:>18.1f} {:>14.3f} {:>4} / {:<4}{}\n", t.name, t.quiet_p95_ms_median,
                     t.replanning_p95_ms_median, t.ratio_median, t.quiet_refused, t.replanning_refused,
                     t.pass ? "" : "  over the goal");
  }
  s += fmt::format("medians over {} pairs of {:g} s phases; goal: every tenant's median ratio <= {:.2f}: {}\n",
                   r.options.pairs, r.options.seconds, r.options.goal_ratio, r.pass ? "met" : "NOT met");
  return s;
}

}  // namespace ecomap::service
