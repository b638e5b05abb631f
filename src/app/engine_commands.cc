// `ecomap engine run|validate|units|bench`: the real multi-tenant execution engine.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "app/cli_util.h"
#include "app/commands.h"
#include "engine/engine.h"
#include "engine/overhead.h"
#include "engine/spec.h"
#include "engine/torch_executor.h"

namespace ecomap::app {
namespace {

using engine::EngineReport;
using engine::EngineSpec;
using engine::TenantReport;
using engine::PipelineSpec;

constexpr const char* kSpecHelp =
    "Tenants, compact form: TENANT[;TENANT...] with TENANT = MODEL@STAGES[,OPTION...].\n"
    "  STAGES: UNIT (whole model on one unit) or BEGIN-END:UNIT|BEGIN-END:UNIT|... where\n"
    "          BEGIN-END is a half-open block range [BEGIN, END) (`ecomap zoo show MODEL`\n"
    "          lists the blocks); BEGIN defaults to 0, END to the last block.\n"
    "  OPTION: name=NAME, rate=R (open-loop Poisson, requests/s), closed=N (closed loop, N\n"
    "          outstanding; the default is closed=1), slo=MS (latency bound, default 200),\n"
    "          pct=P (percentile of the bound, default 95), min_rps=R, queue=N (per-stage\n"
    "          queue capacity, default 64), seed=S.\n"
    "  Units: `ecomap engine units` (cpu0, cpu1, ...: the cores this process may use).\n"
    "  Example: \"resnet18@cpu0,rate=20,slo=100;mobilenet_v2@0-10:cpu0|10-:cpu1,closed=2\"\n"
    "A JSON file (--tenants-file) holds {\"online_units\": [...], \"tenants\": [{\"name\",\n"
    "\"model\", \"stages\": [{\"begin\",\"end\",\"unit\"}], \"source\": {\"kind\": \"poisson\",\n"
    "\"rate_rps\"} or {\"kind\": \"closed\", \"outstanding\"}, \"slo\": {\"latency_ms\",\n"
    "\"percentile\", \"min_throughput_rps\"}, \"queue_capacity\", \"seed\"}]}.";

struct SpecFlags {
  std::string tenants;
  std::string file;
  uint64_t seed = 1;
};

void AddSpecFlags(CLI::App* cmd, SpecFlags& f) {
  cmd->add_option("--tenants", f.tenants, "Tenants in the compact form (see below)");
  cmd->add_option("--tenants-file", f.file, "Tenants as a JSON file (see below)");
  cmd->add_option("--seed", f.seed, "Base seed of model weights and arrivals (tenant i: seed+i)")
      ->capture_default_str();
}

EngineSpec LoadSpec(const SpecFlags& f) {
  if (f.tenants.empty() && f.file.empty()) {
    Fail("no tenants: give --tenants \"MODEL@UNIT,...\" and/or --tenants-file FILE "
         "(see --help for the syntax)");
  }
  EngineSpec spec;
  if (!f.file.empty()) spec = OrFail(engine::LoadEngineSpecFile(f.file, f.seed));
  if (!f.tenants.empty()) {
    std::vector<PipelineSpec> more =
        OrFail(engine::ParseTenantsSpec(f.tenants, f.seed + spec.tenants.size()));
    for (PipelineSpec& t : more) spec.tenants.push_back(std::move(t));
  }
  if (spec.tenants.empty()) Fail("the tenant list is empty");
  return spec;
}

std::string SourceText(const engine::SourceSpec& s) {
  return s.kind == engine::SourceSpec::Kind::kPoisson ? fmt::format("rate={:g}/s", s.rate_rps)
                                                      : fmt::format("closed={}", s.outstanding);
}

void PrintReport(const EngineReport& r, int changes) {
  std::cout << fmt::format(
      "ecomap engine run: {} tenant(s), {:.1f} s of real execution on this host (libtorch, CPU), "
      "{} live change(s)\n",
      r.tenants.size(), r.elapsed_s, changes);
  std::cout << fmt::format("{:<14} {:<18} {:<26} {:<11} {:>6} {:>6} {:>5} {:>5} {:>8} {:>8} {:>8} {:>8}  {}\n",
                           "TENANT", "MODEL", "PIPELINE", "SOURCE", "SUBMIT", "DONE", "REJ", "DROP",
                           "P50_MS", "P95_MS", "P99_MS", "TPUT/S", "SLO");
  for (const TenantReport& t : r.tenants) {
    std::string slo = t.completed == 0 ? "n/a (nothing completed)"
                                       : fmt::format("{} (p{:g} {:.1f} ms {} {:g} ms{})", t.slo_met ? "met" : "MISSED",
                                                     t.slo.percentile, t.slo_percentile_ms,
                                                     t.slo_percentile_ms <= t.slo.latency_bound.value() ? "<=" : ">",
                                                     t.slo.latency_bound.value(),
                                                     t.slo.min_throughput_rps > 0
                                                         ? fmt::format(", >= {:g}/s", t.slo.min_throughput_rps)
                                                         : "");
    std::cout << fmt::format("{:<14} {:<18} {:<26} {:<11} {:>6} {:>6} {:>5} {:>5} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f}  {}\n",
                             t.name, t.model, t.pipeline, SourceText(t.source), t.submitted, t.completed,
                             t.rejected, t.dropped, t.latency.p50_ms, t.latency.p95_ms, t.latency.p99_ms,
                             t.throughput_rps, slo);
    for (const auto& [reason, n] : t.rejected_by_reason) {
      std::cout << fmt::format("  rejected {} x {}\n", n, reason);
    }
    for (const auto& [reason, n] : t.dropped_by_reason) {
      std::cout << fmt::format("  dropped {} x {}\n", n, reason);
    }
  }
  std::cout << fmt::format("{:<8} {:>4} {:>7} {:>7} {:>10} {:>10} {:>6}\n", "UNIT", "CPU", "ONLINE", "STAGES",
                           "BUSY_MS", "CPU_MS", "UTIL");
  for (const auto& u : r.units) {
    std::cout << fmt::format("{:<8} {:>4} {:>7} {:>7} {:>10.1f} {:>10.1f} {:>5.1f}%\n", u.name, u.cpu_id,
                             u.online ? "yes" : "no", u.stages, u.busy_ms, u.cpu_ms, 100 * u.utilization);
  }
  std::cout << "Latency: arrival to completion, queueing included (measured). Busy: wall time with a "
               "stage executing on the unit; utilisation = busy / run time.\n";
}

struct Change {
  double at_s = 0;
  PipelineSpec tenant;
  std::string text;
};

std::vector<Change> ParseChanges(const std::vector<std::string>& items, double seconds, uint64_t seed) {
  std::vector<Change> out;
  for (const std::string& item : items) {
    size_t colon = item.find(':');
    double at = 0;
    bool ok = colon != std::string::npos;
    if (ok) {
      try {
        size_t used = 0;
        at = std::stod(item.substr(0, colon), &used);
        ok = used == colon && std::isfinite(at);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok) Fail("--change '" + item + "' is not SECONDS:TENANT, e.g. 5:resnet34@cpu0,name=resnet18");
    if (at < 0 || at >= seconds) {
      Fail(fmt::format("--change '{}': time {:g} s is outside the run [0, {:g}) s", item, at, seconds));
    }
    std::vector<PipelineSpec> t = OrFail(engine::ParseTenantsSpec(item.substr(colon + 1), seed));
    if (t.size() != 1) Fail("--change '" + item + "' must name exactly one tenant");
    out.push_back({at, t[0], item.substr(colon + 1)});
  }
  std::sort(out.begin(), out.end(), [](const Change& a, const Change& b) { return a.at_s < b.at_s; });
  return out;
}

void Run(const SpecFlags& flags, double seconds, bool json, int threads, double progress_s, double drain_s,
         const std::vector<std::string>& change_items) {
  if (!(seconds > 0) || !std::isfinite(seconds)) Fail(fmt::format("--seconds {:g} must be > 0", seconds));
  if (threads < 1) Fail(fmt::format("--threads {} must be >= 1", threads));
  if (!(drain_s >= 0)) Fail(fmt::format("--drain {:g} must be >= 0 seconds", drain_s));
  EngineSpec spec = LoadSpec(flags);
  std::vector<Change> changes = ParseChanges(change_items, seconds, flags.seed + 1000);
  auto factory = engine::MakeTorchExecutorFactory({threads});
  {
    // Fail fast on a bad spec (Start validates again; on error nothing has started).
    EngineSpec check = spec;
    engine::ModelLookup lookup = [&](const std::string& m) { return factory->FindModel(m); };
    OrFail(engine::ValidateEngineSpec(check, lookup, engine::HostUnits()));
  }
  engine::Engine eng(factory);
  std::cerr << fmt::format("ecomap engine: building {} tenant pipeline(s)...\n", spec.tenants.size());
  OrFail(eng.Start(spec));
  const EngineSpec started = eng.spec();  // stage ends resolved
  for (const PipelineSpec& t : started.tenants) {
    std::cerr << fmt::format("  {}: {}\n", t.name, engine::FormatTenant(t));
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const bool progress = progress_s > 0 && seconds > 3;
  auto next_progress = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(progress_s));
  size_t next_change = 0;
  auto since_start = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  while (true) {
    // Changes fall due at their time; one that waited for a slow earlier change runs late (and
    // says so), but every change given runs, all before the run ends.
    while (next_change < changes.size() && since_start() >= changes[next_change].at_s) {
      const Change& c = changes[next_change++];
      bool exists = false;
      for (const PipelineSpec& t : eng.spec().tenants) exists = exists || t.name == c.tenant.name;
      const double due = c.at_s, began = since_start();
      if (exists) {
        auto rep = eng.Reconfigure(c.tenant);
        if (!rep.ok()) {
          std::cerr << "ecomap engine: change '" << c.text << "' refused: " << rep.status().message() << "\n";
        } else {
          std::cerr << fmt::format(
              "[{:5.1f} s] reconfigured {} (due at {:g} s): {}; build {:.0f} ms, {} migrated, {} drained in "
              "{:.0f} ms\n",
              began, c.tenant.name, due, c.text, rep->build_ms, rep->migrated, rep->drained, rep->drain_ms);
        }
      } else {
        Status s = eng.AddTenant(c.tenant);
        std::cerr << (s.ok() ? fmt::format("[{:5.1f} s] added (due at {:g} s): {}\n", began, due, c.text)
                             : "ecomap engine: change '" + c.text + "' refused: " + s.message() + "\n");
      }
    }
    auto now = Clock::now();
    if (now >= end && next_change == changes.size()) break;
    if (progress && now >= next_progress) {
      EngineReport w = eng.TakeWindow();
      std::string line = fmt::format("[{:5.1f}/{:g} s]", since_start(), seconds);
      for (const TenantReport& t : w.tenants) {
        if (!t.active) continue;
        line += fmt::format(" {}: {} done {:.1f}/s p95 {:.1f} ms{};", t.name, t.completed, t.throughput_rps,
                            t.latency.p95_ms, t.rejected ? fmt::format(" {} rejected", t.rejected) : "");
      }
      std::cerr << line << "\n";
      while (next_progress <= now) {
        next_progress += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(progress_s));
      }
    }
    auto wake = end;
    if (progress) wake = std::min(wake, next_progress);
    if (next_change < changes.size()) {
      wake = std::min(wake, start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(changes[next_change].at_s)));
    }
    std::this_thread::sleep_until(wake);
  }
  EngineReport r = eng.Shutdown(Milliseconds(drain_s * 1000));
  if (json) {
    nlohmann::json j = engine::ToJson(r);
    j["spec"] = engine::ToJson(started);
    j["changes"] = nlohmann::json::array();
    for (const Change& c : changes) j["changes"].push_back({{"at_s", c.at_s}, {"tenant", engine::ToJson(c.tenant)}});
    std::cout << j.dump(2) << "\n";
  } else {
    PrintReport(r, static_cast<int>(changes.size()));
  }
}

void Validate(const SpecFlags& flags, bool json) {
  EngineSpec spec = LoadSpec(flags);
  auto factory = engine::MakeTorchExecutorFactory();
  engine::ModelLookup lookup = [&](const std::string& m) { return factory->FindModel(m); };
  OrFail(engine::ValidateEngineSpec(spec, lookup, engine::HostUnits()));
  if (json) {
    std::cout << engine::ToJson(spec).dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("valid: {} tenant(s)\n", spec.tenants.size());
  for (const PipelineSpec& t : spec.tenants) std::cout << "  " << engine::FormatTenant(t) << "\n";
}

void Units(bool json) {
  std::vector<engine::UnitInfo> units = engine::HostUnits();
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& u : units) out.push_back({{"name", u.name}, {"cpu", u.cpu_id}});
    std::cout << out.dump(2) << "\n";
    return;
  }
  for (const auto& u : units) std::cout << fmt::format("{:<8} CPU {}\n", u.name, u.cpu_id);
}

void Bench(std::string models, double seconds, int repeats, int threads, int outstanding, int cpu, bool json) {
  if (!(seconds > 0)) Fail(fmt::format("--seconds {:g} must be > 0", seconds));
  if (repeats < 1) Fail(fmt::format("--repeats {} must be >= 1", repeats));
  if (threads < 1) Fail(fmt::format("--threads {} must be >= 1", threads));
  if (outstanding < 1) Fail(fmt::format("--outstanding {} must be >= 1", outstanding));
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos <= models.size()) {
    size_t comma = models.find(',', pos);
    if (comma == std::string::npos) comma = models.size();
    std::string m = models.substr(pos, comma - pos);
    if (m.empty()) Fail("--models '" + models + "' has an empty name; write e.g. resnet18,resnet50");
    names.push_back(m);
    pos = comma + 1;
  }
  auto factory = engine::MakeTorchExecutorFactory();
  for (const std::string& m : names) {
    if (!factory->FindModel(m)) Fail("unknown model '" + m + "'; run `ecomap zoo list` for the known models");
  }
  nlohmann::json all = nlohmann::json::array();
  if (!json) {
    std::cout << fmt::format(
        "Engine vs plain libtorch loop: one tenant, one stage, closed loop ({} outstanding), {} intra-op "
        "thread(s), pinned to one CPU; {} pair(s) of {:g} s runs per model, medians (measured).\n",
        outstanding, threads, repeats, seconds);
    std::cout << fmt::format("{:<18} {:>9} {:>9} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}  {}\n", "MODEL",
                             "PLAIN/S", "ENGINE/S", "RATIO", "FWD_P50", "FWD_P95", "FWD_CPU", "E2E_P50", "E2E_P95",
                             "CPU_RATIO", "RATIOS");
  }
  for (const std::string& m : names) {
    engine::OverheadOptions o;
    o.model = m;
    o.seconds = seconds;
    o.repeats = repeats;
    o.intra_op_threads = threads;
    o.outstanding = outstanding;
    o.cpu = cpu;
    engine::OverheadResult r = OrFail(engine::MeasureEngineOverhead(o));
    if (json) {
      all.push_back(engine::ToJson(r));
      continue;
    }
    std::string ratios;
    for (double x : r.ratios) ratios += fmt::format("{}{:.3f}", ratios.empty() ? "" : " ", x);
    std::cout << fmt::format(
                     "{:<18} {:>9.2f} {:>9.2f} {:>6.3f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f} {:>9.3f}  {}\n", m,
                     r.plain_rps_median, r.engine_rps_median, r.ratio_median, r.plain_p50_ms, r.plain_p95_ms,
                     r.plain_cpu_ms_per_inference, r.engine_p50_ms, r.engine_p95_ms, r.cpu_ratio_median, ratios)
              << std::flush;
  }
  if (json) {
    std::cout << all.dump(2) << "\n";
  } else {
    std::cout << "FWD: one plain forward (ms, wall clock); FWD_CPU: CPU ms per plain forward (close to the\n"
                 "latency on an idle core); E2E: engine arrival-to-completion latency (ms), queueing "
                 "behind the other outstanding request(s) included. RATIO: engine/plain inferences per second\n"
                 "(goal >= 0.97); CPU_RATIO: plain/engine process CPU ms per inference (the same overhead,\n"
                 "insensitive to other processes sharing the CPU). RATIOS: the per-pair wall-clock ratios.\n";
  }
}

void AddEngineCommands(CLI::App& app) {
  auto* eng = app.add_subcommand("engine", "Run tenants' DNNs for real: pipelines on CPU cores, live reconfiguration");
  eng->require_subcommand(1);

  {
    auto* run = eng->add_subcommand("run", "Run a mix of tenants for N seconds and print per-tenant figures");
    run->footer(std::string(kSpecHelp) +
                "\n--json prints {\"measured\": true, \"elapsed_s\", \"tenants\": [{\"name\", \"model\", "
                "\"pipeline\", \"submitted\", \"completed\", \"rejected\", \"dropped\", \"in_flight\", "
                "\"p50_ms\", \"p95_ms\", \"p99_ms\", \"mean_ms\", \"max_ms\", \"throughput_rps\", "
                "\"slo_met\", ...}], \"units\": [{\"name\", \"cpu\", \"busy_ms\", \"cpu_ms\", "
                "\"utilization\", ...}], \"spec\": {the tenants as started, --tenants-file format}, "
                "\"changes\": [{\"at_s\", \"tenant\"}]}.");
    auto flags = std::make_shared<SpecFlags>();
    auto seconds = std::make_shared<double>(10);
    auto json = std::make_shared<bool>(false);
    auto threads = std::make_shared<int>(1);
    auto progress = std::make_shared<double>(2);
    auto drain = std::make_shared<double>(10);
    auto changes = std::make_shared<std::vector<std::string>>();
    AddSpecFlags(run, *flags);
    run->add_option("--seconds", *seconds, "How long the sources send requests")->capture_default_str();
    run->add_flag("--json", *json, "Print the report as JSON on stdout");
    run->add_option("--threads", *threads, "libtorch intra-op threads per running stage")->capture_default_str();
    run->add_option("--progress", *progress, "Seconds between progress lines on stderr (0: none; "
                                             "only for runs longer than 3 s)")->capture_default_str();
    run->add_option("--drain", *drain, "At the end, seconds to let queued requests finish before "
                                       "dropping (and counting) the rest")->capture_default_str();
    run->add_option("--change", *changes,
                    "SECONDS:TENANT, repeatable: at that time reconfigure the tenant of that name= live "
                    "(or add it if new), e.g. 5:resnet34@cpu0,name=resnet18");
    run->callback([=] { Run(*flags, *seconds, *json, *threads, *progress, *drain, *changes); });
  }
  {
    auto* val = eng->add_subcommand("validate", "Check a tenant spec without running it; print it resolved");
    val->footer(kSpecHelp);
    auto flags = std::make_shared<SpecFlags>();
    auto json = std::make_shared<bool>(false);
    AddSpecFlags(val, *flags);
    val->add_flag("--json", *json, "Print the resolved spec as JSON (the --tenants-file format)");
    val->callback([=] { Validate(*flags, *json); });
  }
  {
    auto* units = eng->add_subcommand("units", "List the compute units of this host (CPU cores)");
    auto json = std::make_shared<bool>(false);
    units->add_flag("--json", *json, "Print as JSON");
    units->callback([=] { Units(*json); });
  }
  {
    auto* bench = eng->add_subcommand(
        "bench", "Engine throughput against a plain libtorch loop of the same model and threads, and latencies");
    auto models = std::make_shared<std::string>("resnet18,resnet50,mobilenet_v2");
    auto seconds = std::make_shared<double>(3);
    auto repeats = std::make_shared<int>(5);
    auto threads = std::make_shared<int>(1);
    auto outstanding = std::make_shared<int>(2);
    auto cpu = std::make_shared<int>(-1);
    auto json = std::make_shared<bool>(false);
    bench->add_option("--models", *models, "Comma-separated zoo models")->capture_default_str();
    bench->add_option("--seconds", *seconds, "Measured seconds per run")->capture_default_str();
    bench->add_option("--repeats", *repeats, "Pairs of runs (plain, engine) per model")->capture_default_str();
    bench->add_option("--threads", *threads, "libtorch intra-op threads (both sides)")->capture_default_str();
    bench->add_option("--outstanding", *outstanding, "Engine closed-loop requests in flight")->capture_default_str();
    bench->add_option("--cpu", *cpu, "CPU to pin both to (-1: the first available)")->capture_default_str();
    bench->add_flag("--json", *json, "Print as JSON");
    bench->callback([=] { Bench(*models, *seconds, *repeats, *threads, *outstanding, *cpu, *json); });
  }
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(40, AddEngineCommands);

}  // namespace ecomap::app
