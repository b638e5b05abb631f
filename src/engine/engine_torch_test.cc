// The engine on real libtorch models of the zoo: three tenants at once, each reconfigured
// mid-run (variant, cut points, units), every submitted request accounted for exactly once.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "engine/engine.h"
#include "engine/torch_executor.h"

namespace ecomap::engine {
namespace {

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

PipelineSpec Tenant(const std::string& compact) {
  auto t = ParseTenantsSpec(compact, 1);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? t->at(0) : PipelineSpec{};
}

// Stages [0, cut) and [cut, n) built separately (same seed) compose to the whole model.
TEST(TorchExecutor, StagesComposeToTheWholeModel) {
  auto f = MakeTorchExecutorFactory();
  for (const char* name : {"resnet18", "mobilenet_v2", "bert_tiny"}) {
    const zoo::ModelInfo* m = f->FindModel(name);
    ASSERT_NE(m, nullptr) << name;
    const int n = static_cast<int>(m->blocks.size());
    const int cut = n / 2;
    auto whole = f->CreateStage(name, 0, n, 7);
    auto head = f->CreateStage(name, 0, cut, 7);
    auto tail = f->CreateStage(name, cut, n, 7);
    ASSERT_TRUE(whole.ok() && head.ok() && tail.ok()) << name;
    auto input = (*whole)->MakeInput();
    ASSERT_TRUE(input.ok());
    Activation a = *input, b = *input;
    ASSERT_TRUE((*whole)->Run(a).ok());
    ASSERT_TRUE((*head)->Run(b).ok());
    ASSERT_TRUE((*tail)->Run(b).ok());
    const at::Tensor& ya = std::any_cast<const at::Tensor&>(a);
    const at::Tensor& yb = std::any_cast<const at::Tensor&>(b);
    EXPECT_TRUE(at::allclose(ya, yb, 1e-4, 1e-5)) << name;
    // A bad range and a bad activation are errors, not crashes.
    EXPECT_FALSE(f->CreateStage(name, cut, cut, 7).ok());
    Activation wrong = 3;
    EXPECT_FALSE((*tail)->Run(wrong).ok());
  }
  EXPECT_EQ(f->FindModel("resnet19"), nullptr);
}

TEST(TorchEngine, ThreeTenantsReconfiguredMidRunAccountEveryRequestOnce) {
  std::vector<UnitInfo> host = HostUnits();
  const std::string u0 = host[0].name, u1 = host[host.size() > 1 ? 1 : 0].name;
  auto factory = MakeTorchExecutorFactory();
  const int mb = static_cast<int>(factory->FindModel("mobilenet_v2")->blocks.size());
  Engine engine(factory, EngineOptions{{}, true, /*record_requests=*/true, nullptr});
  auto spec = ParseTenantsSpec("resnet18@" + u0 + ",closed=2,name=vision;" +
                               "mobilenet_v2@0-" + std::to_string(mb / 2) + ":" + u0 + "|" +
                               std::to_string(mb / 2) + "-:" + u1 + ",rate=20,name=mobile;" +
                               "bert_tiny@" + u1 + ",closed=1,name=text", 1);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_TRUE(engine.Start(EngineSpec{{}, *spec}).ok());
  Sleep(1200);
  EngineReport before = engine.Report();
  for (const TenantReport& t : before.tenants) EXPECT_GT(t.completed, 0u) << t.name;

  const std::string changes[] = {
      // cut points (one stage -> two) and units
      "resnet18@0-4:" + u1 + "|4-:" + u0 + ",closed=2,name=vision",
      // variant (MobileNetV2 -> MobileNetV3-Small) on one unit
      "mobilenet_v3_small@" + u1 + ",rate=20,name=mobile",
      // variant (2 -> 4 layers) and unit
      "bert_mini@" + u0 + ",closed=1,name=text",
  };
  for (const std::string& c : changes) {
    auto rep = engine.Reconfigure(Tenant(c));
    ASSERT_TRUE(rep.ok()) << c << ": " << rep.status().message();
    EXPECT_TRUE(rep->rebuilt) << c;
    EXPECT_EQ(rep->dropped, 0u) << c;
    Sleep(400);
  }
  Sleep(800);
  EngineReport r = engine.Shutdown(Milliseconds(20000));
  std::vector<RequestRecord> log = engine.TakeRequestLog();

  std::map<std::string, std::map<uint64_t, int>> seen;
  std::map<std::string, std::set<std::string>> served_by;
  for (const RequestRecord& rec : log) {
    ++seen[rec.tenant][rec.id];
    if (rec.outcome == Outcome::kCompleted) served_by[rec.tenant].insert(rec.model);
  }
  ASSERT_EQ(r.tenants.size(), 3u);
  for (const TenantReport& t : r.tenants) {
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.dropped, 0u);
    EXPECT_EQ(t.in_flight, 0u);
    EXPECT_EQ(t.completed + t.rejected, t.submitted);
    EXPECT_EQ(t.reconfigurations, 1);
    ASSERT_EQ(seen[t.name].size(), t.submitted);  // ids 0..submitted-1, each exactly once
    for (uint64_t id = 0; id < t.submitted; ++id) ASSERT_EQ(seen[t.name][id], 1) << "id " << id;
    EXPECT_GT(t.latency.p50_ms, 0);
    EXPECT_GT(t.throughput_rps, 0);
  }
  EXPECT_EQ(served_by["vision"], (std::set<std::string>{"resnet18"}));
  EXPECT_EQ(served_by["mobile"], (std::set<std::string>{"mobilenet_v2", "mobilenet_v3_small"}));
  EXPECT_EQ(served_by["text"], (std::set<std::string>{"bert_tiny", "bert_mini"}));
  double busy = 0;
  for (const UnitReport& u : r.units) busy += u.busy_ms;
  EXPECT_GT(busy, 0);
}

}  // namespace
}  // namespace ecomap::engine
