// `ecomap profile`: datasets for the estimator.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "app/cli_util.h"
#include "app/commands.h"
#include "platform/registry.h"
#include "platform/sim/xavier_sim.h"
#include "profiler/profiler.h"
#include "zoo/model.h"
#ifdef ECOMAP_HAVE_HOST_PROFILER
#include "profiler/host_evaluator.h"
#endif

namespace ecomap::app {
namespace {

struct ProfileArgs {
  std::string platform = "xavier-sim";
  int64_t samples = 1000;
  std::string out;
  uint64_t seed = 1;
  int max_tenants = 6;
  int max_stages = 3;
  double noise = 0.0;
  double window_s = 2.0;
  double warmup_s = 0.5;
  int min_completions = 0;
  int min_open_completions = -1;
  double max_window_s = 0;
  double backlog_growth = 0.1;
  double min_rate = 1.0;
  double max_rate = 60.0;
  bool append = false;
  std::string configs;  // measure this dataset's configurations instead of drawn ones
  int repeat = 1;
  std::vector<std::string> models;
};

void RunProfileCommand(const ProfileArgs& a) {
  platform::PlatformOptions po;
  po.seed = a.seed;
  po.noise = a.noise;
  std::unique_ptr<platform::Platform> p = OrFail(platform::MakePlatform(a.platform, po));
  profiler::SamplerOptions so;
  so.max_tenants = a.max_tenants;
  so.max_stages = a.max_stages;
  so.models = a.models;
  so.min_rate_rps = a.min_rate;
  so.max_rate_rps = a.max_rate;
  if (Status st = so.Validate(); !st.ok()) Fail("profile: " + st.message() + " (check --min-rate/--max-rate)");
  profiler::Evaluator evaluate;
  profiler::ProfileOptions opts;
  opts.samples = a.samples;
  opts.seed = a.seed;
  opts.platform_name = a.platform;
  opts.provenance = p->info().provenance;
  opts.power_provenance = p->info().provenance;
#ifdef ECOMAP_HAVE_HOST_PROFILER
  std::unique_ptr<profiler::HostEvaluator> host;
#endif
  if (a.platform == "xavier-sim") {
    platform::Evaluator* ev = platform::AsEvaluator(p.get());
    if (ev == nullptr) Fail("profile: --platform '" + a.platform + "' cannot predict configurations");
    evaluate = [ev](const platform::Configuration& c) { return ev->Evaluate(c); };
  } else if (a.platform == "host") {
#ifdef ECOMAP_HAVE_HOST_PROFILER
    profiler::HostEvaluatorOptions ho;
    ho.window = Seconds{a.window_s};
    ho.warmup = Seconds{a.warmup_s};
    ho.min_completions = a.min_completions;
    ho.min_open_completions = a.min_open_completions;
    ho.backlog_growth = a.backlog_growth;
    if (a.max_window_s > 0 && a.max_window_s < a.window_s) {
      Fail(fmt::format("profile: --max-window {:g} is shorter than --window {:g}; give --max-window >= --window",
                       a.max_window_s, a.window_s));
    }
    ho.max_window = Seconds{a.min_completions > 0 && a.max_window_s == 0 ? a.window_s * 4 : a.max_window_s};
    host = OrFail(profiler::HostEvaluator::Create(ho));
    // The real engine on this host: light models keep a sample to a few seconds.
    if (so.models.empty()) so.models = host->DefaultModels();
    so.max_stages = std::min(so.max_stages, 2);
    opts.provenance = platform::Provenance::kMeasured;
    opts.power_provenance = host->power_provenance();
    evaluate = [&host](const platform::Configuration& c) { return host->Evaluate(c); };
#else
    Fail("profile --platform host needs the engine, which this build leaves out (built without libtorch)");
#endif
  } else {
    Fail("profile: --platform '" + a.platform + "' cannot be profiled; use xavier-sim or host");
  }
#ifdef ECOMAP_HAVE_HOST_PROFILER
  const platform::PlatformInfo& info = host ? host->info() : p->info();
#else
  const platform::PlatformInfo& info = p->info();
#endif
  auto sampler = OrFail(profiler::Sampler::Create(info, so, zoo::Models()));
  // Given configurations are read before --out is opened (and maybe emptied).
  std::vector<platform::Configuration> configs;
  if (!a.configs.empty()) {
    std::error_code ec;  // equivalent() is false (with ec set) when either file is missing
    if (std::filesystem::equivalent(a.configs, a.out, ec)) {
      Fail("profile: --configs and --out are the same file (" + a.out + "); write the measurements elsewhere");
    }
    profiler::Dataset given = OrFail(profiler::ReadDataset(a.configs));
    for (const profiler::Sample& s : given.samples) {
      if (s.platform != a.platform) {
        Fail("profile: " + a.configs + " holds '" + s.platform + "' configurations (sample " +
             std::to_string(s.index) + "); measure them with --platform " + s.platform);
      }
      configs.push_back(s.config);
    }
  }
  auto writer = OrFail(profiler::DatasetWriter::Open(a.out, !a.append));
  if (a.configs.empty()) std::cerr << "profile: " << a.samples << " samples on " << a.platform << " ("
            << platform::ProvenanceName(opts.provenance) << "), seed " << a.seed << " -> " << a.out << "\n";
  auto progress = [](int64_t done, int64_t total, double secs) {
    double rate = secs > 0 ? done / secs : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    std::fprintf(stderr, "\rprofile: %lld/%lld (%.0f%%), %.1f s elapsed, %.0f samples/s, ETA %.0f s   ",
                 static_cast<long long>(done), static_cast<long long>(total), 100.0 * done / total, secs, rate, eta);
    if (done == total) std::fprintf(stderr, "\n");
  };
  profiler::ProfileSummary summary;
  if (a.configs.empty()) {
    summary = OrFail(profiler::RunProfile(sampler, evaluate, opts, *writer, progress));
  } else {
    std::cerr << "profile: measuring the " << configs.size() << " configurations of " << a.configs << ", "
              << a.repeat << " time(s) each\n";
    summary = OrFail(profiler::RunProfileOn(configs, a.repeat, evaluate, opts, *writer, progress));
    if (summary.rejected > 0) std::fprintf(stderr, "\n");
  }
  std::printf("wrote %lld samples (latency %s, power %s) to %s in %.1f s; %lld configurations rejected\n",
              static_cast<long long>(summary.written), platform::ProvenanceName(opts.provenance),
              platform::ProvenanceName(opts.power_provenance), a.out.c_str(),
              summary.seconds, static_cast<long long>(summary.rejected));
  if (summary.rejected > 0) std::printf("last rejection: %s\n", summary.last_error.c_str());
}

void AddProfilerCommands(CLI::App& app) {
  auto args = std::make_shared<ProfileArgs>();
  CLI::App* cmd = app.add_subcommand(
      "profile",
      "Measure (host) or simulate (xavier-sim) random multi-tenant configurations into a JSON-lines dataset\n"
      "for the estimator (schema: see src/profiler/dataset.h or the README).");
  cmd->add_option("--platform", args->platform, "xavier-sim (simulated) or host (the real engine on this machine)")
      ->capture_default_str();
  cmd->add_option("--samples", args->samples, "number of configurations to write")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  cmd->add_option("--out", args->out, "output file (.jsonl)")->required();
  cmd->add_option("--seed", args->seed, "seed of the sampler (and of the simulator's noise)")->capture_default_str();
  cmd->add_option("--max-tenants", args->max_tenants, "tenants per configuration, 1..N")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  cmd->add_option("--max-stages", args->max_stages, "pipeline stages per tenant, 1..N")
      ->capture_default_str()
      ->check(CLI::Range(1, 8));
  cmd->add_option("--models", args->models, "restrict to these zoo models (default: all; host: light ones)")
      ->delimiter(',');
  cmd->add_option("--noise", args->noise, "xavier-sim: relative measurement noise (0 = none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--window", args->window_s, "host: measurement window per configuration, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.2, 60.0));
  cmd->add_option("--warmup", args->warmup_s, "host: warm-up excluded from the window, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 30.0));
  cmd->add_option("--min-completions", args->min_completions,
                  "host: extend the window until every tenant completed this many requests (0: fixed window)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--min-open-completions", args->min_open_completions,
                  "host: the same for open-loop tenants, whose percentiles converge more slowly (default: "
                  "--min-completions)")
      ->check(CLI::Range(0, 100000))
      ->needs("--min-completions");
  cmd->add_option("--backlog-growth", args->backlog_growth,
                  "host: an open-loop tenant whose backlog grew in the window by more than this share of its "
                  "arrivals (and by more than 5 requests) is saturated; 0: only a queue overflow counts")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-window", args->max_window_s,
                  "host: longest window with --min-completions, seconds (default: 4 x --window)")
      ->check(CLI::Range(0.2, 600.0))
      ->needs("--min-completions");
  cmd->add_option("--min-rate", args->min_rate, "open-loop tenants: lowest arrival rate, req/s (log-uniform)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-rate", args->max_rate, "open-loop tenants: highest arrival rate, req/s")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--append", args->append, "append to --out instead of replacing it");
  cmd->add_option("--configs", args->configs,
                  "measure the configurations of this dataset (.jsonl) instead of drawing new ones")
      ->excludes("--samples");
  cmd->add_option("--repeat", args->repeat,
                  "with --configs: measurements per configuration (repeatability; host: fresh arrivals each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->callback([args] { RunProfileCommand(*args); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(70, AddProfilerCommands);

}  // namespace ecomap::app
