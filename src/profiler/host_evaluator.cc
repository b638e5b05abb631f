#include "profiler/host_evaluator.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/configuration_adapter.h"
#include "engine/engine.h"
#include "engine/torch_executor.h"
#include "platform/host/linux_host_platform.h"

namespace ecomap::profiler {
namespace {

const engine::TenantReport* FindTenant(const engine::EngineReport& report, const std::string& name) {
  for (const engine::TenantReport& t : report.tenants) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace

HostEvaluator::~HostEvaluator() = default;

StatusOr<std::unique_ptr<HostEvaluator>> HostEvaluator::Create(const HostEvaluatorOptions& options) {
  if (!(options.window.value() > 0)) return InvalidArgument("host evaluator: window must be > 0 s");
  if (options.warmup.value() < 0) return InvalidArgument("host evaluator: warmup must be >= 0 s");
  if (options.min_completions < 0) return InvalidArgument("host evaluator: min_completions must be >= 0");
  if (options.min_open_completions < -1) {
    return InvalidArgument("host evaluator: min_open_completions must be >= 0 (or -1: min_completions)");
  }
  if (!(options.backlog_growth >= 0) || options.backlog_growth > 1) {
    return InvalidArgument("host evaluator: backlog_growth must be in [0, 1], got " +
                           std::to_string(options.backlog_growth));
  }
  if (options.min_open_completions > 0 && options.min_completions == 0) {
    return InvalidArgument("host evaluator: min_open_completions needs min_completions > 0 (the adaptive window)");
  }
  if (options.min_completions > 0 && options.max_window.value() < options.window.value()) {
    return InvalidArgument("host evaluator: max_window (" + std::to_string(options.max_window.value()) +
                           " s) must be >= window (" + std::to_string(options.window.value()) +
                           " s) when min_completions is set");
  }
  std::unique_ptr<HostEvaluator> ev(new HostEvaluator());
  ev->options_ = options;
  platform::HostOptions ho;
  ho.root = options.root;
  ECOMAP_ASSIGN_OR_RETURN(ev->host_, platform::LinuxHostPlatform::Create(ho));
  ev->factory_ = engine::MakeTorchExecutorFactory({.intra_op_threads = 1});
  return ev;
}

const platform::PlatformInfo& HostEvaluator::info() const { return host_->info(); }

std::vector<std::string> HostEvaluator::DefaultModels() const {
  return {"resnet18", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
          "bert_tiny", "bert_mini"};
}

platform::Provenance HostEvaluator::power_provenance() const {
  // Power is attributed from the engine's per-unit busy time through the host power model, so
  // that it belongs to the measured window of this configuration alone.
  return platform::Provenance::kModelled;
}

StatusOr<platform::Performance> HostEvaluator::Evaluate(const platform::Configuration& config) {
  ECOMAP_RETURN_IF_ERROR(host_->Validate(config));
  const platform::PowerMode* mode = host_->info().FindMode(config.power_mode);
  engine::ConfigurationAdapterOptions adapter;
  adapter.queue_capacity = options_.queue_capacity;
  // A fresh arrival sequence per measurement, so that repeated configurations sample the
  // arrival noise instead of replaying it.
  adapter.seed = [this](size_t i, const std::string&) { return evaluations_ * 64 + i + 1; };
  engine::EngineSpec spec = engine::ToEngineSpec(config, adapter);
  // Units offline in the mode are not used by the engine either.
  if (mode && mode->online_cpu_cores > 0) {
    for (int c = 0; c < mode->online_cpu_cores && c < static_cast<int>(host_->info().units.size()); ++c) {
      spec.online_units.push_back(host_->info().units[c].id);
    }
  }
  ++evaluations_;
  engine::Engine eng(factory_);
  ECOMAP_RETURN_IF_ERROR(eng.Start(spec));
  auto sleep_s = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
  sleep_s(options_.warmup.value());
  (void)eng.TakeWindow();
  const auto window_start = std::chrono::steady_clock::now();
  const engine::EngineReport at_start = eng.Report();
  sleep_s(options_.window.value());
  // Report() counts since Start; the window's counts are differences against at_start.
  if (options_.min_completions > 0) {
    const int open_needed = options_.min_open_completions >= 0 ? options_.min_open_completions : options_.min_completions;
    auto enough = [&] {
      engine::EngineReport now = eng.Report();
      for (const auto& t : now.tenants) {
        const engine::TenantReport* b = FindTenant(at_start, t.name);
        const uint64_t before = b ? b->completed : 0;
        const bool open = t.source.kind == engine::SourceSpec::Kind::kPoisson;
        if (t.completed - before < static_cast<uint64_t>(open ? open_needed : options_.min_completions)) return false;
      }
      return true;
    };
    const auto deadline = window_start + std::chrono::duration<double>(options_.max_window.value());
    while (std::chrono::steady_clock::now() < deadline && !enough()) sleep_s(0.05);
  }
  const engine::EngineReport at_end = eng.Report();
  engine::EngineReport window = eng.TakeWindow();
  // What is still queued after the window is not measured: drop it instead of draining it.
  (void)eng.Shutdown(Milliseconds{50});

  platform::Performance perf;
  perf.provenance = platform::Provenance::kMeasured;
  perf.window = Seconds{window.elapsed_s};
  for (size_t i = 0; i < config.tenants.size(); ++i) {
    const engine::TenantReport* r = FindTenant(window, spec.tenants[i].name);
    if (!r) return Internal("host evaluator: no report for tenant '" + spec.tenants[i].name + "'");
    if (r->completed == 0) {
      return Unavailable("host evaluator: tenant '" + r->name + "' (" + r->model + ") completed no request in " +
                         std::to_string(window.elapsed_s) + " s; the configuration is too heavy for the window");
    }
    platform::TenantPerformance tp;
    tp.name = r->name;
    tp.latency_p50 = Milliseconds{r->latency.p50_ms};
    tp.latency_p95 = Milliseconds{r->latency.p95_ms};
    tp.throughput_rps = r->throughput_rps;
    tp.saturated = r->rejected > 0;
    if (!tp.saturated && options_.backlog_growth > 0 && config.tenants[i].arrival == platform::ArrivalKind::kOpenLoop) {
      const engine::TenantReport* b = FindTenant(at_start, r->name);
      const engine::TenantReport* e = FindTenant(at_end, r->name);
      if (b && e) {
        const double grown = static_cast<double>(e->in_flight) - static_cast<double>(b->in_flight);
        const double arrivals = static_cast<double>(e->submitted - b->submitted);
        tp.saturated = grown > std::max<double>(kMinBacklogGrowth, options_.backlog_growth * arrivals);
      }
    }
    perf.tenants.push_back(tp);
  }
  std::map<std::string, Milliseconds> busy;
  for (const auto& u : window.units) {
    busy[u.name] = Milliseconds{u.busy_ms};
    perf.unit_utilisation[u.name] = u.utilization;
  }
  ECOMAP_ASSIGN_OR_RETURN(platform::PowerReading power,
                          host_->ModelPowerFromBusy(config.power_mode, busy, Milliseconds{window.elapsed_s * 1000}));
  perf.power = power.total;
  return perf;
}

}  // namespace ecomap::profiler
