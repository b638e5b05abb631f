#include "engine/overhead.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "engine/engine.h"
#include "engine/stats.h"
#include "engine/torch_executor.h"
#include "zoo/torch_models.h"

namespace ecomap::engine {
namespace {

using Steady = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double ProcessCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct RunFigures {
  double rps = 0;
  double cpu_ms_per_inference = 0;
  LatencySummary latency;
};

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// One plain run on its own pinned thread; appends forward latencies.
StatusOr<RunFigures> PlainRun(zoo::TorchModel& model, const OverheadOptions& o, int cpu,
                              std::vector<double>* latencies_ms) {
  Status status;
  RunFigures f;
  std::thread worker([&] {
    Pin(cpu);
    SetTorchThreads(o.intra_op_threads);
    try {
      at::Tensor x = model.MakeInput(1);
      const int n = model.num_blocks();
      auto until = Steady::now() + std::chrono::duration<double>(o.warmup_s);
      while (Steady::now() < until) model.Forward(0, n, x);
      const double cpu0 = ProcessCpuMs();
      auto start = Steady::now();
      auto end = start + std::chrono::duration<double>(o.seconds);
      uint64_t count = 0;
      auto t0 = start;
      while (t0 < end) {
        at::Tensor y = model.Forward(0, n, x);
        auto t1 = Steady::now();
        latencies_ms->push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        ++count;
        t0 = t1;
      }
      f.rps = static_cast<double>(count) / std::chrono::duration<double>(t0 - start).count();
      f.cpu_ms_per_inference = (ProcessCpuMs() - cpu0) / static_cast<double>(count);
    } catch (const std::exception& e) {
      status = Internal(std::string("plain loop: ") + e.what());
    }
  });
  worker.join();
  if (!status.ok()) return status;
  return f;
}

// One engine run: completed per second in the measured window, and its latency summary.
StatusOr<RunFigures> EngineRun(const OverheadOptions& o, int cpu) {
  EngineOptions eo;
  eo.units = {{"cpu" + std::to_string(cpu), cpu}};
  Engine engine(MakeTorchExecutorFactory({o.intra_op_threads}), eo);
  PipelineSpec t;
  t.name = o.model;
  t.model = o.model;
  t.stages = {{0, StageSpec::kToEnd, eo.units[0].name}};
  t.source.kind = SourceSpec::Kind::kClosed;
  t.source.outstanding = o.outstanding;
  t.queue_capacity = std::max(64, o.outstanding);
  t.seed = o.seed;
  ECOMAP_RETURN_IF_ERROR(engine.Start(EngineSpec{{}, {t}}));
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup_s));
  (void)engine.TakeWindow();
  const double cpu0 = ProcessCpuMs();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  EngineReport w = engine.TakeWindow();
  const double cpu_ms = ProcessCpuMs() - cpu0;
  engine.Shutdown(Milliseconds(60000));
  const TenantReport& tr = w.tenants.at(0);
  if (tr.dropped > 0) return Internal("engine run dropped " + std::to_string(tr.dropped) + " requests");
  RunFigures f;
  f.rps = tr.throughput_rps;
  f.latency = tr.latency;
  f.cpu_ms_per_inference = tr.completed > 0 ? cpu_ms / static_cast<double>(tr.completed) : 0;
  return f;
}

}  // namespace

StatusOr<OverheadResult> MeasureEngineOverhead(const OverheadOptions& options) {
  OverheadOptions o = options;
  if (o.seconds <= 0 || o.warmup_s < 0 || o.repeats < 1 || o.intra_op_threads < 1 || o.outstanding < 1) {
    return InvalidArgument("bench: seconds must be > 0, warm-up >= 0, repeats, threads and outstanding >= 1");
  }
  std::vector<UnitInfo> host = HostUnits();
  if (host.empty()) return Unavailable("bench: no CPU available to this process");
  int cpu = o.cpu;
  if (cpu < 0) {
    cpu = host[0].cpu_id;
  } else if (std::none_of(host.begin(), host.end(), [&](const UnitInfo& u) { return u.cpu_id == cpu; })) {
    return InvalidArgument("bench: CPU " + std::to_string(cpu) + " is not available to this process");
  }
  o.cpu = cpu;
  ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<zoo::TorchModel> model, zoo::CreateTorchModel(o.model, o.seed));
  OverheadResult r;
  r.options = o;
  std::vector<double> plain_lat, engine_p50, engine_p95, plain_cpu, engine_cpu;
  for (int i = 0; i < o.repeats; ++i) {
    ECOMAP_ASSIGN_OR_RETURN(RunFigures plain, PlainRun(*model, o, cpu, &plain_lat));
    ECOMAP_ASSIGN_OR_RETURN(RunFigures eng, EngineRun(o, cpu));
    r.plain_rps.push_back(plain.rps);
    r.engine_rps.push_back(eng.rps);
    r.ratios.push_back(plain.rps > 0 ? eng.rps / plain.rps : 0);
    r.cpu_ratios.push_back(eng.cpu_ms_per_inference > 0 ? plain.cpu_ms_per_inference / eng.cpu_ms_per_inference : 0);
    plain_cpu.push_back(plain.cpu_ms_per_inference);
    engine_cpu.push_back(eng.cpu_ms_per_inference);
    engine_p50.push_back(eng.latency.p50_ms);
    engine_p95.push_back(eng.latency.p95_ms);
  }
  r.cpu_ratio_median = Median(r.cpu_ratios);
  r.plain_cpu_ms_per_inference = Median(plain_cpu);
  r.engine_cpu_ms_per_inference = Median(engine_cpu);
  r.plain_rps_median = Median(r.plain_rps);
  r.engine_rps_median = Median(r.engine_rps);
  r.ratio_median = Median(r.ratios);
  r.plain_p50_ms = ExactPercentile(plain_lat, 50);
  r.plain_p95_ms = ExactPercentile(plain_lat, 95);
  r.engine_p50_ms = Median(engine_p50);
  r.engine_p95_ms = Median(engine_p95);
  return r;
}

nlohmann::json ToJson(const OverheadResult& r) {
  return {{"measured", true},
          {"model", r.options.model},
          {"cpu", r.options.cpu},
          {"intra_op_threads", r.options.intra_op_threads},
          {"outstanding", r.options.outstanding},
          {"seconds_per_run", r.options.seconds},
          {"repeats", r.options.repeats},
          {"plain_rps", r.plain_rps},
          {"engine_rps", r.engine_rps},
          {"ratios", r.ratios},
          {"plain_rps_median", r.plain_rps_median},
          {"engine_rps_median", r.engine_rps_median},
          {"ratio_median", r.ratio_median},
          {"plain_p50_ms", r.plain_p50_ms},
          {"plain_p95_ms", r.plain_p95_ms},
          {"engine_p50_ms", r.engine_p50_ms},
          {"engine_p95_ms", r.engine_p95_ms},
          {"cpu_ratios", r.cpu_ratios},
          {"cpu_ratio_median", r.cpu_ratio_median},
          {"plain_cpu_ms_per_inference", r.plain_cpu_ms_per_inference},
          {"engine_cpu_ms_per_inference", r.engine_cpu_ms_per_inference}};
}

}  // namespace ecomap::engine
