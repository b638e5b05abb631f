// `ecomap zoo export|bench`: commands that need the libtorch models. This file is compiled
// with the zoo part in every build, but its content only exists where ecomap_zoo_torch is
// built (that library defines ECOMAP_ZOO_TORCH for its users).
#ifdef ECOMAP_ZOO_TORCH

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <time.h>

#include "app/cli_util.h"
#include "app/commands.h"
#include "zoo/catalog.h"
#include "zoo/derive.h"
#include "zoo/torch_models.h"

namespace ecomap::app {
namespace {

using zoo::ModelInfo;

struct ExportOptions {
  std::string out = "-";
  bool check = false;
};

void Export(const ExportOptions& o) {
  std::vector<ModelInfo> models = OrFail(zoo::DeriveCatalog());
  // A comparison with the published figures, on stderr (stdout may carry the catalogue).
  std::cerr << fmt::format("{:<20} {:>11} {:>10} {:>10} {:>7}\n", "MODEL", "PARAMS", "GMACs",
                           "PUBLISHED", "DIFF");
  for (const ModelInfo& m : models) {
    const double gmacs = m.TotalFlops() / 2e9;
    std::cerr << fmt::format("{:<20} {:>11} {:>10.3f} {:>10} {:>7}\n", m.name, m.TotalParams(),
                             gmacs,
                             m.published_gmacs > 0 ? fmt::format("{:.3f}", m.published_gmacs) : "-",
                             m.published_gmacs > 0
                                 ? fmt::format("{:+.1f}%", 100 * (gmacs / m.published_gmacs - 1))
                                 : "-");
  }
  if (o.check) {
    if (!zoo::CatalogStatus().ok()) Fail(zoo::CatalogStatus());
    for (const ModelInfo& m : models) {
      const ModelInfo* embedded = zoo::FindModel(m.name);
      if (embedded == nullptr || !(*embedded == m)) {
        Fail("the embedded catalogue is stale for '" + m.name +
             "'; run `ecomap zoo export --out data/zoo/catalog.json` and rebuild");
      }
    }
    std::cerr << "the embedded catalogue equals a fresh derivation from the modules\n";
    return;
  }
  const std::string text = zoo::CatalogToJson(models);
  if (o.out == "-") {
    std::cout << text;
    return;
  }
  std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
  if (!f) Fail("cannot write '" + o.out + "'; check that its directory exists and is writable");
  f << text;
  f.close();
  if (!f) Fail("writing '" + o.out + "' failed");
  std::cerr << "wrote " << models.size() << " models to " << o.out
            << " (rebuild to embed it into the catalogue)\n";
}

struct BenchOptions {
  std::string model;
  int runs = 20;
  int warmup = 3;
  int threads = 1;
  int64_t batch = 1;
  uint64_t seed = 0;
  bool json = false;
};

// CPU time of the calling thread (ms). With one intra-op thread the forward runs on the
// calling thread, so this is the latency minus the time other processes took the core.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

void Bench(const BenchOptions& o) {
  if (o.runs < 1) Fail(fmt::format("--runs {} must be >= 1", o.runs));
  if (o.warmup < 0) Fail(fmt::format("--warmup {} must be >= 0", o.warmup));
  if (o.threads < 1) Fail(fmt::format("--threads {} must be >= 1", o.threads));
  if (o.batch < 1 || o.batch > 256) Fail(fmt::format("--batch {} must be in [1, 256]", o.batch));
  auto model = OrFail(zoo::CreateTorchModel(o.model, o.seed));
  at::set_num_threads(o.threads);
  const int n = model->num_blocks();
  at::Tensor x = model->MakeInput(o.batch);
  for (int i = 0; i < o.warmup; ++i) model->Forward(0, n, x);
  std::vector<double> ms, cpu_ms;
  for (int i = 0; i < o.runs; ++i) {
    const double c0 = ThreadCpuMs();
    const auto t0 = std::chrono::steady_clock::now();
    at::Tensor y = model->Forward(0, n, x);
    const auto t1 = std::chrono::steady_clock::now();
    cpu_ms.push_back(ThreadCpuMs() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  const double cpu_median = Percentile(cpu_ms, 0.5);
  const double median = Percentile(ms, 0.5);
  const double p90 = Percentile(ms, 0.9);
  const double min = *std::min_element(ms.begin(), ms.end());
  if (o.json) {
    nlohmann::json j{{"model", o.model},      {"batch", o.batch},         {"threads", o.threads},
                     {"runs", o.runs},        {"warmup", o.warmup},       {"median_ms", median},
                     {"thread_cpu_median_ms", cpu_median},
                     {"p90_ms", p90},         {"min_ms", min},            {"measured", "host CPU"},
                     {"throughput_ips", 1000.0 * o.batch / median}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format(
      "{}: batch {}, {} intra-op thread(s), {} runs after {} warm-up (measured on this host's "
      "CPU): median {:.2f} ms, p90 {:.2f} ms, min {:.2f} ms, {:.1f} inferences/s; calling "
      "thread's CPU time median {:.2f} ms{}\n",
      o.model, o.batch, o.threads, o.runs, o.warmup, median, p90, min, 1000.0 * o.batch / median,
      cpu_median,
      o.threads > 1 ? " (other intra-op threads not included)" : " (wall minus time lost to other "
                                                                 "processes)");
}

void AddZooTorchCommands(CLI::App& app) {
  CLI::App* zoo = app.get_subcommand("zoo");  // added by zoo_commands.cc (order 30)

  auto* exp = zoo->add_subcommand(
      "export", "Derive every model's block descriptors from the libtorch modules and write the "
                "catalogue (format: src/zoo/catalog.h)");
  auto eo = std::make_shared<ExportOptions>();
  exp->add_option("--out", eo->out, "Output file, '-' for stdout (the committed catalogue is "
                                    "data/zoo/catalog.json)")
      ->capture_default_str();
  exp->add_flag("--check", eo->check, "Write nothing; fail if the embedded catalogue differs "
                                      "from a fresh derivation");
  exp->callback([eo] { Export(*eo); });

  auto* bench = zoo->add_subcommand(
      "bench", "Measure a model's forward latency on this host's CPU (median of --runs)");
  auto bo = std::make_shared<BenchOptions>();
  bench->add_option("model", bo->model, "Model name (see `ecomap zoo list`)")->required();
  bench->add_option("--runs", bo->runs, "Timed forward passes")->capture_default_str();
  bench->add_option("--warmup", bo->warmup, "Untimed forward passes first")->capture_default_str();
  bench->add_option("--threads", bo->threads, "libtorch intra-op threads")->capture_default_str();
  bench->add_option("--batch", bo->batch, "Batch size")->capture_default_str();
  bench->add_option("--seed", bo->seed, "Seed of the random weights and input")
      ->capture_default_str();
  bench->add_flag("--json", bo->json, "Print JSON");
  bench->callback([bo] { Bench(*bo); });
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(31, AddZooTorchCommands);

}  // namespace ecomap::app

#endif  // ECOMAP_ZOO_TORCH
