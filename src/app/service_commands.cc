// app/service_commands.cc: `ecomap serve`, the live carbon-aware daemon (src/service).
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "app/cli_util.h"
#include "app/commands.h"
#include "service/config.h"
#include "service/daemon.h"
#include "service/signals.h"

#ifdef ECOMAP_SERVICE_RUNNABLE
#include <httplib.h>

#include <fmt/format.h>

#include "engine/torch_executor.h"
#include "policy/controller.h"
#include "service/loadgen.h"
#include "service/protocol_bench.h"
#include "service/replan_bench.h"
#endif

namespace ecomap::app {
namespace {

struct ServeFlags {
  std::string config;
  bool demo = false;
  double demo_seconds = 180;
  bool load_check = false;
  double load_rps = 1000;
  double load_seconds = 5;
  int load_pairs = 4;
  bool quiet = false;
  // --bench-protocol (service/protocol_bench.h).
  bool bench_protocol = false;
  std::string bench_saturation_model = "resnet18";
  std::string bench_latency_model = "mobilenet_v3_small";
  int bench_concurrency = 4;
  double bench_seconds = 3;
  double bench_warmup = 1;
  int bench_pairs = 5;
  bool bench_latency_phases = false;
  std::string bench_stages;
  // --bench-replan (service/replan_bench.h); the phase length and pairs default to its own
  // figures unless --bench-seconds / --bench-pairs are given.
  bool bench_replan = false;
  bool bench_seconds_given = false, bench_pairs_given = false;
  bool json = false;
};

#ifdef ECOMAP_SERVICE_RUNNABLE

double TotalRps(const std::map<std::string, uint64_t>& a, const std::map<std::string, uint64_t>& b, double s) {
  uint64_t n = 0;
  for (const auto& [k, v] : b) {
    auto it = a.find(k);
    n += v - (it == a.end() ? 0 : it->second);
  }
  return static_cast<double>(n) / s;
}

struct LoadPhase {
  double tenants_rps = 0;
  double api_rps = 0;
  uint64_t api_ok = 0, api_errors = 0;
  std::vector<double> latency_ms;
};

// One phase: `seconds` long; with rps > 0 a client sends GET /status paced at `rps` (rps < 0:
// as fast as it can) on one keep-alive connection.
LoadPhase RunPhase(service::Daemon& d, double seconds, double rps) {
  LoadPhase out;
  std::atomic<bool> done{false};
  std::thread client;
  if (rps != 0) {
    client = std::thread([&] {
      httplib::Client c("127.0.0.1", d.port());
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      auto start = std::chrono::steady_clock::now();
      uint64_t i = 0;
      while (!done.load()) {
        if (rps > 0) {
          auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i) / rps));
          auto now = std::chrono::steady_clock::now();
          if (due > now) std::this_thread::sleep_until(due);
          else if (now - due > std::chrono::milliseconds(50)) start += now - due - std::chrono::milliseconds(50);
        }
        auto t0 = std::chrono::steady_clock::now();
        auto r = c.Get("/status");
        auto t1 = std::chrono::steady_clock::now();
        ++i;
        if (r && r->status == 200) {
          ++out.api_ok;
          out.latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
          ++out.api_errors;
        }
      }
    });
  }
  auto before = d.CompletedByTenant();
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  auto after = d.CompletedByTenant();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  done = true;
  if (client.joinable()) client.join();
  out.tenants_rps = TotalRps(before, after, s);
  out.api_rps = static_cast<double>(out.api_ok) / s;
  return out;
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

int LoadCheck(service::Daemon& d, const ServeFlags& f) {
  std::cout << "load check: warming up 3 s, then " << f.load_pairs << " pairs of " << f.load_seconds
            << " s phases, without and with " << f.load_rps
            << " GET /status per second (one keep-alive client in this process), then " << f.load_seconds
            << " s unpaced\n";
  std::this_thread::sleep_for(std::chrono::seconds(3));
  double base = 0, loaded = 0, api = 0;
  std::vector<double> lat, drops;
  uint64_t errors = 0;
  for (int pair = 0; pair < f.load_pairs; ++pair) {
    // Alternate the order so that a drift of the machine's background load does not favour one side.
    LoadPhase a, b;
    if (pair % 2 == 0) {
      a = RunPhase(d, f.load_seconds, 0);
      b = RunPhase(d, f.load_seconds, f.load_rps);
    } else {
      b = RunPhase(d, f.load_seconds, f.load_rps);
      a = RunPhase(d, f.load_seconds, 0);
    }
    std::cout << "  pair " << pair + 1 << ": tenants " << fmt::format("{:.1f}", a.tenants_rps) << " req/s without load, "
              << fmt::format("{:.1f}", b.tenants_rps) << " req/s with " << fmt::format("{:.0f}", b.api_rps) << " /status req/s" << std::endl;
    base += a.tenants_rps / f.load_pairs;
    loaded += b.tenants_rps / f.load_pairs;
    api += b.api_rps / f.load_pairs;
    if (a.tenants_rps > 0) drops.push_back((a.tenants_rps - b.tenants_rps) / a.tenants_rps * 100);
    lat.insert(lat.end(), b.latency_ms.begin(), b.latency_ms.end());
    errors += b.api_errors;
  }
  LoadPhase max = RunPhase(d, f.load_seconds, -1);
  double drop = base > 0 ? (base - loaded) / base * 100 : 0;
  std::cout << "/status (paced at " << f.load_rps << "/s): " << fmt::format("{:.0f}", api) << " req/s answered, p50 "
            << fmt::format("{:.3f}", Pct(lat, 50)) << " ms, p99 " << fmt::format("{:.3f}", Pct(lat, 99)) << " ms, " << errors << " errors\n"
            << "/status (unpaced, one client): " << fmt::format("{:.0f}", max.api_rps) << " req/s; tenants meanwhile "
            << fmt::format("{:.1f}", max.tenants_rps) << " req/s\n"
            << "tenants' throughput (measured, real engine): " << fmt::format("{:.2f}", base) << " req/s without load, "
            << fmt::format("{:.2f}", loaded) << " req/s under the paced load: drop " << fmt::format("{:.2f}", drop)
            << "% (median of the per-pair drops " << fmt::format("{:.2f}", Pct(drops, 50)) << "%)\n";
  bool ok = api >= 0.99 * f.load_rps && f.load_rps >= 1000 && max.api_rps >= 1000 && drop < 5;
  std::cout << "load check " << (ok ? "PASSED" : "FAILED") << " (goal: >= 1000 /status req/s, drop < 5%)\n";
  return ok ? 0 : 3;
}

void PrintSummary(const service::Daemon& d, bool demo) {
  service::RunSummary s = d.Summary();
  const std::string& src = s.power_source.empty() ? "modelled" : s.power_source;
  std::cout << "\n" << (demo ? "demo summary" : "run summary") << " (" << s.intervals << " intervals of "
            << d.config().interval_s << " s";
  if (d.config().carbon.provider == "trace" && d.config().carbon.speedup != 1) {
    std::cout << "; carbon trace replayed at " << d.config().carbon.speedup << "x";
  }
  std::cout << "):\n"
            << "  carbon intensity   mean " << fmt::format("{:.1f}", s.mean_intensity) << " gCO2eq/kWh\n"
            << "  energy             " << fmt::format("{:.1f}", s.energy_j) << " J (" << fmt::format("{:.4f}", s.energy_j / 3600) << " Wh), power "
            << src << (s.power_fallback_intervals ? " (model fallback in " + std::to_string(s.power_fallback_intervals) + " intervals)" : "")
            << "\n"
            << "  carbon             " << fmt::format("{:.4f}", s.carbon_g) << " gCO2eq (" << src << " energy x intensity)\n"
            << "  requests           " << s.completed << " completed, " << s.rejected << " rejected (measured)\n"
            << "  SLO violations     " << s.slo_violations << " tenant-intervals (p95 over the SLO, or requests refused at admission / queue full)\n"
            << "  decisions          " << s.decisions << " (" << s.replans << " re-plans), mean threshold "
            << fmt::format("{:.1f}", s.mean_threshold_w) << " W\n"
            << "  threshold          changed in " << s.threshold_changes << " of " << std::max<int64_t>(0, s.intervals - 1)
            << " interval boundaries; by mode in force:\n";
  for (const auto& [mode, m] : s.by_mode) {
    const double n = static_cast<double>(std::max<int64_t>(1, m.intervals));
    std::cout << fmt::format("    {:<22} {:>4} intervals  CI {:>5.0f} g/kWh  threshold {:>5.1f} W  power {:>5.2f} W {}\n",
                             mode, m.intervals, m.intensity_sum / n, m.threshold_w_sum / n, m.power_w_sum / n, src);
  }
  // Did the power follow the threshold? Pearson's r over the intervals that served requests.
  std::cout << "  power vs threshold ";
  const std::optional<double> r = s.threshold_power.r();
  if (r) {
    std::cout << fmt::format("r = {:+.2f} over {} serving intervals ({} power)", *r, s.threshold_power.count(), src);
  } else {
    std::cout << "no correlation to compute (" << s.threshold_power.count()
              << " serving intervals; fewer than 3, or the threshold or the power never moved)";
  }
  std::cout << "\n";
  if (demo) {
    // The demo's point: the carbon signal moves the threshold, and the daemon's power follows it.
    const bool changed = s.threshold_changes >= 2;
    const bool follows = r && *r >= 0.5;
    std::cout << "  demo check         " << (changed && follows ? "yes" : "NO") << ": the threshold changed "
              << s.threshold_changes << " times (goal >= 2) and the power followed it (r "
              << (r ? fmt::format("{:+.2f}", *r) : std::string("undefined"))
              << ", goal >= +0.50)\n";
  }
  std::cout << "  carbon fallbacks   " << s.carbon_fallback_intervals << " intervals\n"
            << "  history            " << d.config().data_dir << "/history.sqlite\n";
}

// `--bench-protocol`: REST vs in-process engine, side by side (service/protocol_bench.h).
void RunBenchProtocol(const ServeFlags& f) {
  service::ProtocolBenchOptions o;
  o.saturation_model = f.bench_saturation_model;
  o.latency_model = f.bench_latency_model;
  o.concurrency = f.bench_concurrency;
  o.seconds = f.bench_seconds;
  o.warmup_s = f.bench_warmup;
  o.pairs = f.bench_pairs;
  o.stages = f.bench_stages;
  o.interleave_latency = !f.bench_latency_phases;
  // Progress on stderr with --json (stdout is the JSON), else on stdout.
  std::ostream& log = f.json ? std::cerr : std::cout;
  o.progress = [&log](const std::string& line) { log << line << std::endl; };
  // As the daemon: one libtorch intra-op thread per stage worker.
  auto factory = engine::MakeTorchExecutorFactory({.intra_op_threads = 1});
  service::ProtocolBenchResult r = OrFail(service::RunProtocolBench(factory, o));
  if (f.json) std::cout << service::ToJson(r).dump(2) << std::endl;
  else std::cout << service::FormatProtocolBench(r);
  if (!(r.throughput_pass && r.latency_pass)) throw CLI::RuntimeError(3);
}

// `--bench-replan`: the tenants' p95 with and without re-plans beside them, on a started daemon.
int RunBenchReplan(service::Daemon& daemon, const ServeFlags& f) {
  service::ReplanBenchOptions o;
  if (f.bench_seconds_given) o.seconds = f.bench_seconds;
  if (f.bench_pairs_given) o.pairs = f.bench_pairs;
  o.warmup_s = f.bench_warmup;
  std::ostream& log = f.json ? std::cerr : std::cout;
  o.progress = [&log](const std::string& line) { log << line << std::endl; };
  log << "bench-replan: " << o.pairs << " pairs of " << o.seconds << " s phases (quiet / re-planning back to back)"
      << std::endl;
  service::ReplanBenchResult r = OrFail(service::RunReplanBench(daemon, o));
  if (f.json) std::cout << service::ToJson(r).dump(2) << std::endl;
  else std::cout << service::FormatReplanBench(r);
  return r.pass ? 0 : 3;
}

void RunServe(const ServeFlags& f) {
  if (f.bench_protocol) return RunBenchProtocol(f);
  if (f.bench_replan && (f.demo || f.load_check)) Fail("--bench-replan runs on its own; drop --demo / --load-check");
  // Before any thread exists: every thread inherits the blocked set; the main thread waits.
  service::BlockServeSignals();
  std::string path = f.config;
  if (path.empty() && (f.demo || f.bench_replan)) path = std::string(ECOMAP_DATA_DIR) + "/serve/demo.toml";
  if (path.empty()) Fail("give --config FILE (a commented example: data/serve/ecomap.toml) or --demo");
  auto env = carbon::ProcessEnvironment();
  service::ServeConfig config = OrFail(service::LoadServeConfig(path, env));
  if (f.load_check || f.bench_replan) config.api.port = 0;  // a free port; the check talks to it itself
  // The demo's load comes from real clients: loadgen over the REST listener (below).
  if (f.demo || f.bench_replan) config.client_load = true;
  // The bench keeps one configuration in force: no boundary decision during it.
  if (f.bench_replan) config.interval_s = 86400;
  if (f.demo || f.load_check || f.bench_replan) {
    char tmpl[] = "/tmp/ecomap-demo-XXXXXX";
    if (!mkdtemp(tmpl)) Fail("cannot create a temporary folder for the demo history");
    config.data_dir = tmpl;
  }
  service::DaemonDeps deps;
  deps.executors = engine::MakeTorchExecutorFactory({.intra_op_threads = 1});
  deps.make_controller = [](const std::string& name, const policy::ControllerContext& ctx) {
    return policy::MakeController(name, ctx);
  };
  deps.terminal = f.quiet || f.bench_replan ? nullptr : &std::cout;
#ifdef ECOMAP_VERSION
  deps.version = ECOMAP_VERSION;
#endif
  // With --json (the benches) stdout carries the JSON only.
  std::ostream& banner = f.json && f.bench_replan ? std::cerr : std::cout;
  banner << "ecomap serve: platform " << config.platform << ", controller " << config.controller.name
            << " (predictor " << config.controller.predictor
            << (config.controller.predictor == "analytic" ? " fitted on " + config.controller.profile_path : "")
            << "), carbon " << config.carbon.provider << " (" << config.carbon.trace_path << "), interval "
            << config.interval_s << " s; building models..." << std::endl;
  auto daemon = OrFail(service::Daemon::Create(config, std::move(deps)));
  OrFail(daemon->Start());
  banner << "API on http://" << config.api.host << ":" << daemon->port() << " (GET /status /metrics /decisions "
            << "/tenants; POST/DELETE need the bearer token" << (daemon->token().empty() ? ", none set: disabled" : "")
            << "); history " << daemon->history()->path() << " (run " << daemon->history()->resume().runs + 1
            << ", resumed at interval " << daemon->history()->resume().next_interval << ")\n"
            << "power figures are labelled measured/modelled/simulated; SIGHUP reloads the config, SIGTERM/Ctrl-C stops"
            << std::endl;
  if (f.load_check || f.bench_replan) {
    int rc = f.load_check ? LoadCheck(*daemon, f) : RunBenchReplan(*daemon, f);
    daemon->Stop();
    if (rc != 0) throw CLI::RuntimeError(rc);
    return;
  }
  std::optional<Duration> limit;
  if (f.demo) limit = Duration(static_cast<long long>(f.demo_seconds * 1000));
  // The demo drives its tenants through the REST listener with `ecomap loadgen`'s client, at
  // the tenants' declared rates (open loop) or concurrency (closed loop).
  std::atomic<bool> cancel{false};
  std::optional<StatusOr<service::LoadgenReport>> load;
  std::thread loader;
  if (f.demo) {
    service::LoadgenOptions lo;
    for (const policy::TenantSpec& t : config.tenants) {
      service::ModelLoad m;
      m.model = t.name;
      m.closed = t.arrival == platform::ArrivalKind::kClosedLoop;
      m.rate_rps = t.rate_rps;
      m.concurrency = std::max(1, t.concurrency);
      lo.models.push_back(m);
    }
    lo.duration_s = std::max(1.0, f.demo_seconds - 1);
    lo.cancel = &cancel;
    lo.seed = config.seed;
    const int port = daemon->port();
    const std::string host = config.api.host;
    std::cout << "loadgen: driving " << lo.models.size() << " tenants over REST (binary tensors) at http://" << host
              << ":" << port << "/v2/models/NAME/infer" << std::endl;
    loader = std::thread([&load, lo, host, port] {
      auto transport = service::MakeRestTransport(host, port, /*binary=*/true);
      load = service::RunLoad(*transport, lo);
    });
  }
  auto reload = [path, env]() { return service::LoadServeConfig(path, env); };
  service::SignalLoopResult r = service::RunUntilSignal(*daemon, reload, limit, &std::cerr);
  std::cout << (r.exit == service::ServeExit::kTimeLimit ? "time limit reached" : "signal received")
            << ": finishing the interval in progress and draining..." << std::endl;
  cancel = true;
  if (loader.joinable()) loader.join();
  daemon->Stop();
  PrintSummary(*daemon, f.demo);
  if (load) {
    if (load->ok()) std::cout << "\n" << service::FormatReport(**load);
    else std::cout << "\nloadgen: " << load->status().message() << "\n";
  }
}

#else

void RunServe(const ServeFlags&) {
  Fail("`ecomap serve` needs the libtorch build (the engine's executors) and the policy part; "
       "this build has ECOMAP_WITH_TORCH=OFF");
}

#endif

void AddServiceCommands(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the live carbon-aware daemon: carbon reading -> controller -> power mode + engine reconfiguration -> "
      "measurements, every interval, on real libtorch tenants; HTTP API on 127.0.0.1; history in SQLite.");
  serve->add_option("--config", f->config, "TOML config (commented example: data/serve/ecomap.toml)");
  serve->add_flag("--demo", f->demo,
                  "Run the bundled demo (data/serve/demo.toml unless --config): the carbon trace replayed at one "
                  "hour per 5 s, a fresh temporary history, a summary at the end");
  serve->add_option("--demo-seconds", f->demo_seconds, "How long --demo runs (seconds)")
      ->capture_default_str()
      ->check(CLI::Range(5.0, 86400.0));
  serve->add_flag("--load-check", f->load_check,
                  "Measure the API under load while the tenants run: /status requests per second and the "
                  "tenants' throughput with and without the load, side by side; then stop (fresh temporary "
                  "history, a free port)");
  serve->add_option("--load-rps", f->load_rps, "Paced /status rate of --load-check")->check(CLI::Range(1.0, 1e6));
  serve->add_option("--load-seconds", f->load_seconds, "Length of each --load-check phase (seconds)")
      ->check(CLI::Range(1.0, 600.0));
  serve->add_option("--load-pairs", f->load_pairs, "Pairs of --load-check phases (without / with load)")
      ->check(CLI::Range(1, 100));
  serve->add_flag("--quiet", f->quiet, "No per-interval terminal line");
  serve->add_flag("--bench-protocol", f->bench_protocol,
                  "Measure the Open Inference Protocol's overhead and stop (no --config needed): the same engine "
                  "driven in process (Engine::Submit) and over REST (binary tensors, the daemon's HTTP server on "
                  "127.0.0.1, loadgen's client), alternating phases; the saturation model's throughput ratio "
                  "(goal >= 0.9) and the latency model's added p50 at one request at a time (goal <= 1 ms). "
                  "Exit 3 when a goal is missed");
  serve->add_option("--bench-saturation-model", f->bench_saturation_model,
                    "--bench-protocol: zoo model driven at saturation")->capture_default_str();
  serve->add_option("--bench-latency-model", f->bench_latency_model,
                    "--bench-protocol: zoo model driven one request at a time")->capture_default_str();
  serve->add_option("--bench-concurrency", f->bench_concurrency,
                    "--bench-protocol: closed-loop clients of the saturation model")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_option("--bench-seconds", f->bench_seconds, "--bench-protocol: measured seconds per phase")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  serve->add_option("--bench-warmup", f->bench_warmup, "--bench-protocol: warm-up seconds before each phase")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  serve->add_option("--bench-pairs", f->bench_pairs,
                    "--bench-protocol: alternating (in process, REST) pairs per model; medians are quoted")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  serve->add_option("--bench-stages", f->bench_stages,
                    "--bench-protocol: both models' pipeline, e.g. 0-5:cpu0|5-:cpu1 (default: the blocks split "
                    "over this process's cores by FLOPs, one stage per core)");
  serve->add_flag("--bench-latency-phases", f->bench_latency_phases,
                  "--bench-protocol: measure the latency model in alternating phases like the saturation model "
                  "(default: one client alternating in process and REST request by request)");
  serve->add_flag("--bench-replan", f->bench_replan,
                  "Measure what re-plans cost the tenants and stop: the daemon on --config (default the demo's "
                  "tenants, fresh temporary history, a free port) serves its tenants' declared load over REST in "
                  "alternating phases, quiet and with a full re-plan running back to back beside it (nothing "
                  "applied); each tenant's p95 ratio, median over the pairs (goal <= 1.10). --bench-seconds "
                  "(default 8 here), --bench-pairs (default 5), --bench-warmup, --json apply. Exit 3 when the "
                  "goal is missed");
  serve->add_flag("--json", f->json,
                  "--bench-protocol, --bench-replan: print the figures as JSON (progress on stderr)");
  serve->footer(
      "Terminal view: one line per interval: interval, carbon intensity + source, threshold, mode, power + its "
      "source, and each tenant's p95 vs SLO.\nSignals: SIGTERM/SIGINT finish the interval in progress, drain and "
      "stop; SIGHUP re-reads --config and applies tenant changes live.\nAPI token: [serve.api] token or "
      "ECOMAP_API_TOKEN.");
  serve->callback([f, serve] {
    f->bench_seconds_given = serve->count("--bench-seconds") > 0;
    f->bench_pairs_given = serve->count("--bench-pairs") > 0;
    RunServe(*f);
  });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(95, AddServiceCommands);

}  // namespace ecomap::app
