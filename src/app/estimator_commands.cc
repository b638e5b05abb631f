// `ecomap estimator train|eval|calibrate|predict`: the transformer latency/power estimator.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "app/cli_util.h"
#include "app/commands.h"
#include "estimator/analytic.h"
#include "estimator/conformal.h"
#include "estimator/metrics.h"
#include "estimator/model_file.h"
#include "platform/registry.h"
#include "profiler/dataset.h"
#ifdef ECOMAP_ESTIMATOR_TORCH
#include "estimator/transformer.h"
#endif

namespace ecomap::app {
namespace {

using estimator::EvalReport;
using estimator::Scores;

struct TrainArgs {
  std::vector<std::string> data;
  std::vector<std::string> exclude_configs;
  std::string out;
  int epochs = 30;
  uint64_t seed = 1;
  double holdout = 0.1;
  int max_train_tenants = 0;
  int d_model = 32, heads = 2, layers = 2, ff_dim = 64;
  int ensemble = 1;
  int batch = 256;
  double lr = 2e-3;
  int threads = 1;
  double max_minutes = 0;
  std::string loss = "huber";
};

struct EvalArgs {
  std::string model;
  std::vector<std::string> data;
  std::vector<std::string> exclude_configs;
  std::vector<std::string> only_configs;
  bool json = false;
  std::string split = "all";
  std::string predictions;
};

struct CalibrateArgs {
  std::string model;
  std::vector<std::string> data;
  std::vector<std::string> exclude_configs;
  std::string out;
  bool json = false;
};

struct PredictArgs {
  std::string model;
  std::string config;
  bool json = false;
};

std::string Joined(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) out += (out.empty() ? "" : " ") + p;
  return out;
}

// The samples of `paths`, in order, less every sample whose configuration is in one of
// `exclude_paths` (a separately measured test set) and, where `only_paths` is given, every sample
// whose configuration is in none of them: one platform throughout.
profiler::Dataset LoadData(const std::vector<std::string>& paths, const std::vector<std::string>& exclude_paths,
                           const std::vector<std::string>& only_paths = {}) {
  profiler::Dataset d;
  std::string first_path;
  for (const std::string& path : paths) {
    profiler::Dataset part = OrFail(profiler::ReadDataset(path));
    if (part.truncated_lines > 0) std::cerr << "estimator: " << path << ": skipped a truncated last line\n";
    for (profiler::Sample& s : part.samples) {
      if (!d.samples.empty() && s.platform != d.samples[0].platform) {
        Fail(path + ": sample " + std::to_string(s.index) + " is of platform '" + s.platform + "' but " + first_path +
             " starts with '" + d.samples[0].platform + "': an estimator learns one platform; split the data");
      }
      if (d.samples.empty()) first_path = path;
      d.samples.push_back(std::move(s));
    }
  }
  for (const std::string& path : exclude_paths) {
    profiler::Dataset test = OrFail(profiler::ReadDataset(path));
    const int removed = profiler::RemoveConfigurations(&d.samples, test.samples);
    std::cerr << "estimator: left out " << removed << " samples whose configuration is in " << path << "\n";
  }
  if (!only_paths.empty()) {
    std::vector<profiler::Sample> wanted;
    for (const std::string& path : only_paths) {
      profiler::Dataset part = OrFail(profiler::ReadDataset(path));
      for (profiler::Sample& s : part.samples) wanted.push_back(std::move(s));
    }
    const int removed = profiler::KeepConfigurations(&d.samples, wanted);
    std::cerr << "estimator: left out " << removed << " samples whose configuration is not in " << Joined(only_paths)
              << "\n";
  }
  if (d.samples.empty()) {
    Fail(Joined(paths) + ": no samples" +
         (exclude_paths.empty() && only_paths.empty() ? "" : " left after --exclude-configs / --only-configs"));
  }
  return d;
}

platform::PlatformInfo InfoOf(const std::string& name) {
  auto p = platform::MakePlatform(name, {});
  if (!p.ok()) Fail("cannot describe platform '" + name + "' of the dataset: " + p.status().message());
  return (*p)->info();
}

void PrintScoresRow(const std::string& label, const Scores& s) {
  // An output nothing was scored on (e.g. power in the per-arrival rows) prints as "-".
  auto cell = [](const estimator::OutputMetrics& m) {
    if (m.count == 0) return fmt::format("{:>8} {:>6}", "-", "-");
    return fmt::format("{:8.2f} {:6.3f}", m.mape, m.r2);
  };
  std::printf("%-22s %7lld %s %s %s %s %6lld\n", label.c_str(), static_cast<long long>(s.samples),
              cell(s.latency_p50).c_str(), cell(s.latency_p95).c_str(), cell(s.throughput).c_str(),
              cell(s.power).c_str(), static_cast<long long>(s.saturated));
}

void PrintHeader(const std::string& title) {
  std::printf("%s\n", title.c_str());
  std::printf("%-22s %7s %8s %6s %8s %6s %8s %6s %8s %6s %6s\n", "predictor / tenants", "samples", "p50 MAPE", "R2",
              "p95 MAPE", "R2", "thr MAPE", "R2", "pow MAPE", "R2", "satur.");
}

void PrintReport(const std::string& name, const EvalReport& r, bool per_tenants) {
  PrintScoresRow(name, r);
  if (!per_tenants) return;
  for (const auto& [k, s] : r.by_tenants) PrintScoresRow("  " + std::to_string(k) + " tenant" + (k == 1 ? "" : "s"), s);
  for (const auto& [k, s] : r.by_arrival) PrintScoresRow("  " + k + "-loop tenants", s);
}

std::vector<platform::Performance> PredictAll(const estimator::Predictor& p,
                                              const std::vector<const profiler::Sample*>& samples) {
  std::vector<platform::Configuration> configs;
  configs.reserve(samples.size());
  for (const profiler::Sample* s : samples) configs.push_back(s->config);
  auto r = p.PredictBatch(configs);
  if (!r.ok()) Fail(p.name() + ": " + r.status().message());
  return std::move(*r);
}

EvalReport ScorePredictor(const estimator::Predictor& p, const std::vector<const profiler::Sample*>& samples) {
  return estimator::Score(PredictAll(p, samples), samples);
}

#ifdef ECOMAP_ESTIMATOR_TORCH
// The p95 bound's conformal quantiles on `samples` (data the model never trained on), from the
// model's predictions for them.
estimator::ConformalCalibration Calibrate(const std::vector<platform::Performance>& predicted,
                                          const std::vector<const profiler::Sample*>& samples, std::string source) {
  return estimator::ConformalCalibration::Compute(estimator::P95ConformityScores(predicted, samples), std::move(source));
}

// One line: how many tenants of which data, and the factor per stored level.
void PrintCalibration(const estimator::ConformalCalibration& c) {
  std::printf("p95 bound (split conformal on %lld tenants of %s):", static_cast<long long>(c.scores), c.source.c_str());
  if (c.log_quantiles.empty()) std::printf(" too few tenants for any level: no bound");
  for (const auto& [level, q] : c.log_quantiles) std::printf(" %g%%: x%.4f", 100 * level, std::exp(q));
  std::printf("\n");
}

// Prints (and returns as JSON) the repeatability floor of measured data: configurations that
// were measured more than once, each sample "predicted" by its group's median.
nlohmann::json PrintRepeatFloor(const std::vector<const profiler::Sample*>& samples) {
  estimator::RepeatFloor f = estimator::MeasurementRepeatFloor(samples);
  if (f.groups == 0) return nullptr;
  const Scores& s = f.report;
  std::printf("measurement repeatability: %lld configurations measured 2+ times (%lld samples); predicting each by "
              "its group's median gives MAPE p50 %.2f%%, p95 %.2f%%, throughput %.2f%%, power %.2f%%: a floor "
              "for any estimator that sees only the configuration\n",
              static_cast<long long>(f.groups), static_cast<long long>(s.samples), s.latency_p50.mape,
              s.latency_p95.mape, s.throughput.mape, s.power.mape);
  for (const auto& [k, a] : f.report.by_arrival) {
    std::printf("  %s-loop tenants: %lld in %lld samples, MAPE p50 %.2f%%, p95 %.2f%%, throughput %.2f%%\n", k.c_str(),
                static_cast<long long>(a.tenants), static_cast<long long>(a.samples), a.latency_p50.mape,
                a.latency_p95.mape, a.throughput.mape);
  }
  nlohmann::json j = estimator::ReportToJson(f.report);
  j["groups"] = f.groups;
  return j;
}

void RunTrain(const TrainArgs& a) {
  if (!(a.holdout >= 0 && a.holdout < 1)) Fail("--holdout " + std::to_string(a.holdout) + " must be in [0, 1)");
  profiler::Dataset d = LoadData(a.data, a.exclude_configs);
  platform::PlatformInfo info = InfoOf(d.samples[0].platform);
  estimator::Split split = estimator::SplitSamples(d.samples, a.holdout, a.seed, a.max_train_tenants);
  std::printf("estimator train: %zu samples of %s (%s) from %s: %zu train, %zu held out",
              d.samples.size(), info.name.c_str(), platform::ProvenanceName(d.samples[0].provenance),
              Joined(a.data).c_str(), split.train.size(), split.holdout.size());
  if (a.max_train_tenants > 0) {
    std::printf(", %zu with more than %d tenants kept unseen", split.unseen.size(), a.max_train_tenants);
  }
  std::printf("\n");
  std::fflush(stdout);
  estimator::TransformerConfig c{
      .d_model = a.d_model, .heads = a.heads, .layers = a.layers, .ff_dim = a.ff_dim, .members = a.ensemble};
  estimator::TrainOptions o;
  o.epochs = a.epochs;
  o.seed = a.seed;
  o.batch_size = a.batch;
  o.learning_rate = a.lr;
  o.threads = a.threads;
  o.time_limit_s = a.max_minutes * 60.0;
  o.loss = a.loss == "relative" ? estimator::TrainLoss::kRelative : estimator::TrainLoss::kHuber;
  o.progress = [](const estimator::EpochReport& r) {
    if (r.members > 1) std::printf("member %d/%d, ", r.member, r.members);
    std::printf("epoch %3d/%d: train loss %.5f, held-out MAPE p95 %.2f%%, throughput %.2f%%, power %.2f%% (%.0f s)\n",
                r.epoch, r.epochs, r.train_loss, r.holdout_p95_mape, r.holdout_throughput_mape,
                r.holdout_power_mape, r.seconds);
    std::fflush(stdout);
  };
  auto model = OrFail(estimator::TransformerPredictor::Train(info, split.train, split.holdout, c, o));
  model->set_intra_op_threads(1);
  estimator::AnalyticPredictor baseline(model->analytic());
  nlohmann::json record;
  record["data"] = Joined(a.data);
  record["exclude_configs"] = a.exclude_configs;
  record["samples"] = d.samples.size();
  record["seed"] = a.seed;
  record["epochs"] = a.epochs;
  record["max_minutes"] = a.max_minutes;
  record["loss"] = a.loss;
  auto number = [](double v) { return fmt::format("{:g}", v); };
  record["command"] =
      "ecomap estimator train --data " + Joined(a.data) +
      (a.exclude_configs.empty() ? "" : " --exclude-configs " + Joined(a.exclude_configs)) + " --out " + a.out +
      " --epochs " + std::to_string(a.epochs) + " --seed " + std::to_string(a.seed) + " --holdout " +
      std::to_string(a.holdout) + " --max-train-tenants " + std::to_string(a.max_train_tenants) + " --d-model " +
      std::to_string(a.d_model) + " --heads " + std::to_string(a.heads) + " --layers " + std::to_string(a.layers) +
      " --ff " + std::to_string(a.ff_dim) + " --ensemble " + std::to_string(a.ensemble) + " --batch " +
      std::to_string(a.batch) + " --lr " + number(a.lr) +
      " --threads " + std::to_string(a.threads) + " --loss " + a.loss +
      (a.max_minutes > 0 ? " --max-minutes " + std::to_string(a.max_minutes) : "");
  record["holdout"] = a.holdout;
  record["max_train_tenants"] = a.max_train_tenants;
  record["train_samples"] = split.train.size();
  record["parameters"] = model->num_parameters();
  PrintHeader("\nmetrics (predicted vs " + std::string(platform::ProvenanceName(d.samples[0].provenance)) +
              "; MAPE in %, saturated open-loop tenants excluded from latency):");
  for (const auto& [label, set] : {std::pair{"held-out", &split.holdout}, std::pair{"unseen", &split.unseen}}) {
    if (set->empty()) continue;
    EvalReport t = ScorePredictor(*model, *set);
    EvalReport b = ScorePredictor(baseline, *set);
    PrintReport(std::string("transformer ") + label, t, true);
    PrintReport(std::string("analytic ") + label, b, false);
    record[label] = {{"transformer", estimator::ReportToJson(t)}, {"analytic", estimator::ScoresToJson(b)}};
  }
  {
    std::vector<const profiler::Sample*> all;
    for (const profiler::Sample& s : d.samples) all.push_back(&s);
    nlohmann::json floor = PrintRepeatFloor(all);
    if (!floor.is_null()) record["repeat_floor"] = floor;
  }
  // The p95 bound: split conformal on the held-out split, which the network never trained on.
  if (!split.holdout.empty()) {
    model->set_conformal(Calibrate(PredictAll(*model, split.holdout), split.holdout,
                                   fmt::format("the held-out split of {} ({} configurations, seed {}, share {:g})",
                                               Joined(a.data), split.holdout.size(), a.seed, a.holdout)));
    PrintCalibration(*model->conformal());
  } else {
    std::printf("p95 bound: none (--holdout 0 leaves no data to calibrate on; use `ecomap estimator calibrate`)\n");
  }
  OrFail(model->Save(a.out, record));
  std::printf("wrote %s (%lld parameters)\n", a.out.c_str(), static_cast<long long>(model->num_parameters()));
}

void RunEval(const EvalArgs& a) {
  if (!a.only_configs.empty() && a.split != "all") {
    Fail("--only-configs scores a subset, which a training run's --split " + a.split +
         " does not describe: drop --split (or --only-configs)");
  }
  profiler::Dataset d = LoadData(a.data, a.exclude_configs, a.only_configs);
  auto model = OrFail(estimator::TransformerPredictor::Load(a.model));
  model->set_intra_op_threads(1);
  if (d.samples[0].platform != model->info().name) {
    Fail(Joined(a.data) + " was measured on '" + d.samples[0].platform + "' but " + a.model + " models '" +
         model->info().name + "': evaluate with a model of that platform");
  }
  std::vector<const profiler::Sample*> set;
  if (a.split == "all") {
    for (const profiler::Sample& s : d.samples) set.push_back(&s);
  } else {
    const nlohmann::json& rec = model->training_record();
    double holdout = rec.value("holdout", 0.1);
    uint64_t seed = rec.value("seed", uint64_t{1});
    int max_t = rec.value("max_train_tenants", 0);
    estimator::Split split = estimator::SplitSamples(d.samples, holdout, seed, max_t);
    if (a.split == "holdout") {
      set = split.holdout;
    } else if (a.split == "unseen") {
      set = split.unseen;
    } else {
      set = split.train;
    }
  }
  if (set.empty()) Fail("--split " + a.split + " selects no samples of " + Joined(a.data));
  estimator::AnalyticPredictor baseline(model->analytic());
  std::vector<platform::Performance> tp = PredictAll(*model, set);
  std::vector<platform::Performance> bp = PredictAll(baseline, set);
  EvalReport t = estimator::Score(tp, set);
  EvalReport b = estimator::Score(bp, set);
  if (!a.predictions.empty()) {
    OrFail(estimator::WritePredictions(a.predictions, set, {{"transformer", &tp}, {"analytic", &bp}}));
    std::cerr << "estimator: wrote " << set.size() << " predictions to " << a.predictions << "\n";
  }
  if (a.json) {
    nlohmann::json j = estimator::ReportToJson(t);
    j["predictor"] = "transformer";
    j["model"] = a.model;
    j["data"] = Joined(a.data);
    j["split"] = a.split;
    j["truth"] = platform::ProvenanceName(d.samples[0].provenance);
    j["analytic"] = estimator::ReportToJson(b);
    j["analytic_latency_p95_mape"] = b.latency_p95.mape;
    // The p95 bound: coverage in percent at 90% and 95% (null without a calibrated bound).
    for (const auto& [key, level] : {std::pair{"90", 0.90}, std::pair{"95", 0.95}}) {
      std::optional<double> f = model->P95BoundFactor(level);
      j[std::string("coverage_") + key] = f ? nlohmann::json(estimator::P95Coverage(tp, set, *f).percent) : nullptr;
      j[std::string("bound_factor_") + key] = f ? nlohmann::json(*f) : nullptr;
    }
    j["coverage_tenants"] = estimator::P95Coverage(tp, set, 1.0).tenants;
    j["conformal"] = model->conformal() ? model->conformal()->ToJson() : nlohmann::json(nullptr);
    estimator::RepeatFloor f = estimator::MeasurementRepeatFloor(set);
    if (f.groups > 0) {
      j["repeat_floor"] = estimator::ReportToJson(f.report);
      j["repeat_floor"]["groups"] = f.groups;
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  PrintHeader("estimator eval: " + a.model + " on " + Joined(a.data) + " (" + a.split + ", " + std::to_string(set.size()) +
              " samples; predicted vs " + platform::ProvenanceName(d.samples[0].provenance) +
              "; MAPE in %, saturated open-loop tenants excluded from latency)");
  PrintReport("transformer", t, true);
  PrintReport("analytic", b, true);
  std::printf("saturation flag accuracy: transformer %.1f%%, analytic %.1f%%\n", 100 * t.saturation_accuracy,
              100 * b.saturation_accuracy);
  if (model->conformal()) {
    PrintCalibration(*model->conformal());
    std::printf("p95 bound coverage on these samples (measured p95 <= bound):");
    for (double level : {0.90, 0.95}) {
      std::optional<double> f = model->P95BoundFactor(level);
      if (!f) {
        std::printf(" %g%%: no bound", 100 * level);
        continue;
      }
      estimator::CoverageResult c = estimator::P95Coverage(tp, set, *f);
      std::printf(" %g%%: %.1f%% of %lld tenants", 100 * level, c.percent, static_cast<long long>(c.tenants));
    }
    std::printf("\n");
  } else {
    std::printf("p95 bound: none (the model holds no calibration: `ecomap estimator calibrate`)\n");
  }
  PrintRepeatFloor(set);
}

void RunCalibrate(const CalibrateArgs& a) {
  std::error_code ec;
  for (const std::string& d : a.data) {
    if (std::filesystem::equivalent(d, a.out, ec)) {
      Fail("calibrate: --out " + a.out + " is the --data file " + d + "; write the model elsewhere");
    }
  }
  profiler::Dataset d = LoadData(a.data, a.exclude_configs);
  auto model = OrFail(estimator::TransformerPredictor::Load(a.model));
  model->set_intra_op_threads(1);
  if (d.samples[0].platform != model->info().name) {
    Fail(Joined(a.data) + " was measured on '" + d.samples[0].platform + "' but " + a.model + " models '" +
         model->info().name + "': calibrate with data of that platform");
  }
  std::vector<const profiler::Sample*> set;
  for (const profiler::Sample& s : d.samples) set.push_back(&s);
  const std::vector<platform::Performance> predicted = PredictAll(*model, set);
  estimator::ConformalCalibration c =
      Calibrate(predicted, set, fmt::format("calibrate --data {} ({} configurations)", Joined(a.data), set.size()));
  if (c.scores == 0) {
    Fail("calibrate: " + Joined(a.data) + " has no tenant with a measured, unsaturated p95 to calibrate on");
  }
  // The container as read (weights byte for byte), with the new calibration; written atomically.
  estimator::ModelFile file =
      OrFail(estimator::ReadModelFile(a.model, estimator::kTransformerFormat, estimator::kTransformerVersion));
  file.meta["conformal"] = c.ToJson();
  OrFail(estimator::WriteModelFile(a.out, file));
  if (a.json) {
    nlohmann::json j = c.ToJson();
    j["model"] = a.model;
    j["out"] = a.out;
    j["data"] = Joined(a.data);
    std::cout << j.dump(2) << "\n";
    return;
  }
  PrintCalibration(c);
  if (c.log_quantiles.size() < estimator::kConformalLevels.size()) {
    std::printf("note: %lld tenants bound only the levels above; levels needing more were left out\n",
                static_cast<long long>(c.scores));
  }
  std::printf("wrote %s (the model of %s with this calibration)\n", a.out.c_str(), a.model.c_str());
}

void RunPredict(const PredictArgs& a) {
  auto model = OrFail(estimator::TransformerPredictor::Load(a.model));
  model->set_intra_op_threads(1);
  std::ifstream in(a.config);
  if (!in) Fail("cannot read --config " + a.config);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) Fail(a.config + ": not valid JSON");
  if (j.contains("config") && j["config"].is_object()) j = j["config"];  // a dataset line works too
  platform::Configuration c = OrFail(platform::ConfigurationFromJson(j));
  platform::Performance p = OrFail(model->Predict(c));
  if (a.json) {
    nlohmann::json out = p;
    out["predictor"] = "transformer";
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("predicted (transformer, %s): power %.2f W\n", model->info().name.c_str(), p.power.value());
  for (const platform::TenantPerformance& t : p.tenants) {
    std::printf("  %-12s p50 %9.3f ms  p95 %9.3f ms  throughput %9.2f req/s%s\n", t.name.c_str(),
                t.latency_p50.value(), t.latency_p95.value(), t.throughput_rps, t.saturated ? "  (saturated)" : "");
  }
}
#endif

void AddEstimatorCommands(CLI::App& app) {
  CLI::App* est = app.add_subcommand("estimator", "The transformer latency/power estimator: train, evaluate, calibrate the p95 bound, predict");
#ifdef ECOMAP_ESTIMATOR_TORCH
  est->require_subcommand(1);
  auto ta = std::make_shared<TrainArgs>();
  CLI::App* train = est->add_subcommand(
      "train", "Train the transformer estimator on a profiler dataset (JSON lines from `ecomap profile`)");
  train->add_option("--data", ta->data, "dataset(s) (.jsonl), read in order as one")->required();
  train->add_option("--exclude-configs", ta->exclude_configs,
                    "leave out every sample whose configuration is in these datasets (a test set measured "
                    "separately: score it with `estimator eval --data`)");
  train->add_option("--out", ta->out, "model file to write")->required();
  train->add_option("--epochs", ta->epochs, "passes over the training set")->capture_default_str()->check(CLI::Range(1, 10000));
  train->add_option("--seed", ta->seed, "seed of the split, the initialisation and the shuffling")->capture_default_str();
  train->add_option("--holdout", ta->holdout, "share of the samples held out for evaluation, [0, 1)")->capture_default_str();
  train->add_option("--max-train-tenants", ta->max_train_tenants,
                    "train only on configurations with at most this many tenants; the others are scored as "
                    "unseen mixes (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  train->add_option("--d-model", ta->d_model, "transformer width")->capture_default_str()->check(CLI::Range(4, 1024));
  train->add_option("--heads", ta->heads, "attention heads (divides --d-model)")->capture_default_str()->check(CLI::Range(1, 64));
  train->add_option("--layers", ta->layers, "encoder layers")->capture_default_str()->check(CLI::Range(1, 16));
  train->add_option("--ff", ta->ff_dim, "feed-forward width")->capture_default_str()->check(CLI::Range(4, 8192));
  train->add_option("--ensemble", ta->ensemble,
                    "networks trained from seeds seed, seed+1, ... whose outputs are averaged (inference costs "
                    "this many times as much)")
      ->capture_default_str()
      ->check(CLI::Range(1, estimator::kMaxMembers));
  train->add_option("--loss", ta->loss,
                    "latency and throughput loss: huber (Huber on log residuals: the median ratio) or relative "
                    "(|predicted / measured - 1|, the MAPE eval reports)")
      ->capture_default_str()
      ->check(CLI::IsMember({"huber", "relative"}));
  train->add_option("--batch", ta->batch, "minibatch size")->capture_default_str()->check(CLI::Range(8, 65536));
  train->add_option("--lr", ta->lr, "Adam learning rate (cosine decay)")->capture_default_str()->check(CLI::Range(1e-6, 1.0));
  train->add_option("--threads", ta->threads, "libtorch threads while training (more only on an idle machine: OpenMP spin-waits)")->capture_default_str()->check(CLI::Range(1, 64));
  train->add_option("--max-minutes", ta->max_minutes,
                    "wall-clock budget: the schedule compresses and training stops in time (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  train->callback([ta] { RunTrain(*ta); });

  auto ea = std::make_shared<EvalArgs>();
  CLI::App* eval = est->add_subcommand(
      "eval", "MAPE and R2 of the transformer and its analytic baseline per output and per number of tenants");
  ea->model = estimator::DefaultModelPath();
  eval->add_option("--model", ea->model, "model file")->capture_default_str();
  eval->add_option("--data", ea->data, "dataset(s) (.jsonl), read in order as one")->required();
  eval->add_option("--exclude-configs", ea->exclude_configs,
                   "leave out every sample whose configuration is in these datasets (as in training, so that "
                   "--split selects the training run's parts)");
  eval->add_option("--only-configs", ea->only_configs,
                   "score only the samples whose configuration is in these datasets (e.g. another measurement "
                   "of the same configurations)");
  eval->add_option("--split", ea->split,
                   "all samples, or the training run's split (same seed/hold-out/tenant limit; give the same --data "
                   "and --exclude-configs): holdout, unseen, train")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "holdout", "unseen", "train"}));
  eval->add_flag("--json", ea->json,
                 "JSON: latency_p95_mape, analytic_latency_p95_mape, throughput_mape, power_mape (percent), samples, "
                 "coverage_90, coverage_95 (percent of tenants under the p95 bound; null without one), R2s, "
                 "by_tenants, analytic");
  eval->add_option("--predictions", ea->predictions,
                    "also write one JSON line per sample (measured, transformer, analytic) to this file");
  eval->callback([ea] { RunEval(*ea); });

  auto ca = std::make_shared<CalibrateArgs>();
  CLI::App* calibrate = est->add_subcommand(
      "calibrate",
      "Re-compute the model's p95 bound (split-conformal quantiles of log(measured / predicted p95) at 80, 90, 95 "
      "and 99%) on data it never trained on, and write the model with it to --out");
  ca->model = estimator::DefaultModelPath();
  calibrate->add_option("--model", ca->model, "model file to calibrate (read only)")->capture_default_str();
  calibrate->add_option("--data", ca->data, "calibration dataset(s) (.jsonl), read in order as one; not trained on")
      ->required();
  calibrate->add_option("--exclude-configs", ca->exclude_configs,
                        "leave out every sample whose configuration is in these datasets (keep a test set apart)");
  calibrate->add_option("--out", ca->out,
                        "model file to write (written atomically; the same path as --model replaces it)")
      ->required();
  calibrate->add_flag("--json", ca->json, "print the calibration (the model file's \"conformal\" key) as JSON");
  calibrate->callback([ca] { RunCalibrate(*ca); });

  auto pa = std::make_shared<PredictArgs>();
  CLI::App* predict = est->add_subcommand("predict", "Predict one configuration (JSON: platform::Configuration or a dataset line)");
  pa->model = estimator::DefaultModelPath();
  predict->add_option("--model", pa->model, "model file")->capture_default_str();
  predict->add_option("--config", pa->config, "configuration JSON file")->required();
  predict->add_flag("--json", pa->json, "print platform::Performance JSON");
  predict->callback([pa] { RunPredict(*pa); });
#else
  est->callback([] { Fail("the transformer estimator needs libtorch, which this build leaves out"); });
#endif
}

}  // namespace

ECOMAP_REGISTER_COMMANDS(80, AddEstimatorCommands);

}  // namespace ecomap::app
