// A full 4-tenant decision: SearchMapping with LA-MCTS (MakeMappingOptimizer, 300 evaluations)
// over the default scenario's tenants at their peak rates (data/scenarios/default.toml as of this
// writing: camera resnet 115.5 rps / 20 ms, inspection efficientnet 143 rps / 12 ms, mobile
// mobilenet 165 rps / 8 ms, text bert 82.5 rps / 20 ms), every xavier-sim mode, up to 2 stages
// per tenant, threshold 15 W, 250 gCO2/kWh.
// The goal: under 200 ms on one core with the estimator. Every predictor runs in the same
// process: the simulator oracle, the analytic baseline and (builds with libtorch) the shipped
// transformer (data/estimator/xavier-sim.ecomap, one intra-op thread).
//
//   build/src/search/mapping_bench [--benchmark_filter=transformer]
//
// Counters (CPU time of the calling thread, ThreadCpuClock: one core, not inflated by other
// load): decision_ms (the whole SearchMapping call), search_ms (optimizer + decode + scoring),
// predict_ms (inside PredictBatch), vs_goal (decision_ms / 200; < 1 meets the goal),
// evaluations, cost (the best objective found).
#include <benchmark/benchmark.h>

#include <memory>

#include "estimator/analytic.h"
#include "estimator/model_file.h"
#include "estimator/simulator_predictor.h"
#include "estimator/transformer.h"  // torch-free header; Load is linked only with ECOMAP_ESTIMATOR_TORCH
#include "search/mapping.h"

namespace ecomap::search {
namespace {

MappingTenant Open(std::string name, std::vector<std::string> variants, double rate, double slo_ms) {
  MappingTenant t;
  t.name = std::move(name);
  t.variants = std::move(variants);
  t.arrival = platform::ArrivalKind::kOpenLoop;
  t.rate_rps = rate;
  t.slo_p95 = Milliseconds(slo_ms);
  return t;
}

std::vector<MappingTenant> DefaultScenarioAtPeak() {
  return {Open("camera", {"resnet18", "resnet34", "resnet50", "resnet101"}, 115.5, 20),
          Open("inspection", {"efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3"}, 143, 12),
          Open("mobile", {"mobilenet_v3_small", "mobilenet_v2", "mobilenet_v3_large"}, 165, 8),
          Open("text", {"bert_mini", "bert_small", "bert_medium"}, 82.5, 20)};
}

std::shared_ptr<const estimator::Predictor> MakePredictor(const std::string& kind) {
  if (kind == "sim") return std::make_shared<estimator::SimulatorPredictor>();
  const std::string path = estimator::DefaultModelPath("xavier-sim");
  if (kind == "analytic") {
    auto f = estimator::ReadModelFile(path, estimator::kTransformerFormat, estimator::kTransformerVersion);
    if (!f.ok()) return nullptr;
    auto info = platform::PlatformInfoFromJson(f->meta.at("platform"));
    if (!info.ok()) return nullptr;
    auto m = estimator::AnalyticModel::FromJson(f->meta.at("analytic"), *info);
    if (!m.ok()) return nullptr;
    return std::make_shared<estimator::AnalyticPredictor>(std::move(*m));
  }
#ifdef ECOMAP_ESTIMATOR_TORCH
  if (kind == "transformer") {
    auto t = estimator::TransformerPredictor::Load(path);
    if (!t.ok()) return nullptr;
    (*t)->set_intra_op_threads(1);
    return std::shared_ptr<const estimator::Predictor>(std::move(*t));
  }
#endif
  return nullptr;
}

void BM_Decision(benchmark::State& state, const char* kind) {
  const auto predictor = MakePredictor(kind);
  if (predictor == nullptr) {
    state.SkipWithError((std::string("cannot load the ") + kind + " predictor").c_str());
    return;
  }
  MappingSpaceOptions so;
  so.max_stages = 2;
  auto space = MappingSpace::Create(platform::XavierSim::MakeInfo(), DefaultScenarioAtPeak(), so);
  if (!space.ok()) {
    state.SkipWithError(space.status().message().c_str());
    return;
  }
  MappingGoal goal;
  goal.threshold = Watts(15);
  goal.intensity = GramsPerKwh(250);
  static const ThreadCpuClock cpu_clock;
  Budget budget;
  budget.max_evals = 300;
  budget.clock = &cpu_clock;
  double total = 0, search = 0, predict = 0, cost = 0;
  int runs = 0, evals = 0;
  uint64_t seed = 1;
  for (auto _ : state) {
    auto opt = MakeMappingOptimizer("lamcts", *space, budget.max_evals);
    auto r = SearchMapping(*space, *predictor, goal, **opt, budget, seed++);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    total += r->total_ms;
    search += r->search_ms;
    predict += r->predict_ms;
    cost += r->score.cost;
    evals += r->search.evaluations;
    ++runs;
  }
  state.counters["decision_ms"] = total / runs;
  state.counters["search_ms"] = search / runs;
  state.counters["predict_ms"] = predict / runs;
  state.counters["vs_goal"] = total / runs / 200.0;
  state.counters["evaluations"] = static_cast<double>(evals) / runs;
  state.counters["cost"] = cost / runs;
}

}  // namespace

BENCHMARK_CAPTURE(BM_Decision, sim, "sim")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Decision, analytic, "analytic")->Unit(benchmark::kMillisecond)->Iterations(3);
#ifdef ECOMAP_ESTIMATOR_TORCH
BENCHMARK_CAPTURE(BM_Decision, transformer, "transformer")->Unit(benchmark::kMillisecond)->Iterations(3);
#endif

}  // namespace ecomap::search

BENCHMARK_MAIN();
