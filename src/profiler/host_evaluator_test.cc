// Runs real configurations on this machine's engine (libtorch) and checks what comes back.
#include "profiler/host_evaluator.h"

#include <gtest/gtest.h>

namespace ecomap::profiler {
namespace {

platform::Configuration OneTenant(const std::string& model, const std::vector<platform::Stage>& stages) {
  platform::Configuration c;
  c.power_mode = 0;
  platform::TenantConfig t;
  t.name = "a";
  t.model = model;
  t.stages = stages;
  t.arrival = platform::ArrivalKind::kClosedLoop;
  t.concurrency = 1;
  c.tenants.push_back(t);
  return c;
}

TEST(HostEvaluator, MeasuresRealInference) {
  HostEvaluatorOptions o;
  o.window = Seconds{0.8};
  o.warmup = Seconds{0.2};
  auto ev = HostEvaluator::Create(o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  platform::Configuration c = OneTenant("mobilenet_v3_small", {{0, 4, "cpu0"}, {4, 16, "cpu0"}});
  c.tenants[0].stages.back().end_block = static_cast<int>(zoo::FindModel("mobilenet_v3_small")->blocks.size());
  platform::TenantConfig second = c.tenants[0];
  second.name = "b";
  second.arrival = platform::ArrivalKind::kOpenLoop;
  second.rate_rps = 5;
  c.tenants.push_back(second);
  auto p = (*ev)->Evaluate(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->tenants.size(), 2u);
  for (const auto& t : p->tenants) {
    EXPECT_GT(t.latency_p50.value(), 0.0);
    EXPECT_GE(t.latency_p95.value(), t.latency_p50.value());
    EXPECT_GT(t.throughput_rps, 0.0);
  }
  // The open-loop tenant is served at about its rate (Poisson over a short window: loose bound).
  EXPECT_LT(p->tenants[1].throughput_rps, 15.0);
  EXPECT_EQ(p->provenance, platform::Provenance::kMeasured);
  EXPECT_GT(p->power.value(), 0.0);
  EXPECT_GT(p->unit_utilisation.at("cpu0"), 0.0);
}

TEST(HostEvaluator, RejectsInvalidConfigurationsBeforeRunning) {
  auto ev = HostEvaluator::Create({});
  ASSERT_TRUE(ev.ok());
  platform::Configuration c = OneTenant("resnet18", {{0, 2, "cpu0"}, {2, 3, "cpu97"}});
  auto p = (*ev)->Evaluate(c);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("cpu97"), std::string::npos) << p.status().message();
  c = OneTenant("no_such_net", {{0, 2, "cpu0"}});
  EXPECT_FALSE((*ev)->Evaluate(c).ok());
}

TEST(HostEvaluator, AdaptiveWindowWaitsForEnoughCompletions) {
  HostEvaluatorOptions o;
  o.window = Seconds{0.2};
  o.warmup = Seconds{0.1};
  o.min_completions = 6;
  o.max_window = Seconds{10};
  auto ev = HostEvaluator::Create(o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  platform::Configuration c = OneTenant("mobilenet_v3_small", {{0, 1, "cpu0"}});
  c.tenants[0].stages[0].end_block = static_cast<int>(zoo::FindModel("mobilenet_v3_small")->blocks.size());
  c.tenants[0].arrival = platform::ArrivalKind::kOpenLoop;
  c.tenants[0].rate_rps = 8;  // about 0.75 s for 6 completions: longer than the 0.2 s minimum
  auto p = (*ev)->Evaluate(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const double completed = p->tenants[0].throughput_rps * p->window.value();
  EXPECT_GE(completed, 5.5) << "window " << p->window.value() << " s";
  EXPECT_LT(p->window.value(), 10.0);

  // The longest window bounds the wait: 1 req/s cannot complete 6 requests in 0.6 s.
  o.max_window = Seconds{0.6};
  ev = HostEvaluator::Create(o);
  ASSERT_TRUE(ev.ok());
  c.tenants[0].rate_rps = 1;
  p = (*ev)->Evaluate(c);
  if (p.ok()) {
    EXPECT_LT(p->window.value(), 1.5);
  } else {
    // No completion at all in the window is reported as such, not hidden.
    EXPECT_NE(p.status().message().find("completed no request"), std::string::npos) << p.status().message();
  }
}

TEST(HostEvaluator, OpenLoopTenantsCanNeedMoreCompletions) {
  HostEvaluatorOptions o;
  o.window = Seconds{0.2};
  o.warmup = Seconds{0.1};
  o.min_completions = 2;
  o.min_open_completions = 12;
  o.max_window = Seconds{10};
  auto ev = HostEvaluator::Create(o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  const int blocks = static_cast<int>(zoo::FindModel("mobilenet_v3_small")->blocks.size());
  platform::Configuration c = OneTenant("mobilenet_v3_small", {{0, blocks, "cpu0"}});
  platform::TenantConfig open = c.tenants[0];
  open.name = "b";
  open.arrival = platform::ArrivalKind::kOpenLoop;
  open.rate_rps = 12;  // about 1 s for 12 completions; the closed loop has its 2 within 0.2 s
  open.stages = {{0, blocks, "cpu1"}};
  c.tenants.push_back(open);
  auto p = (*ev)->Evaluate(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_GE(p->tenants[1].throughput_rps * p->window.value(), 11.5) << "window " << p->window.value() << " s";
  EXPECT_GT(p->window.value(), 0.4);
}

TEST(HostEvaluator, GrowingBacklogIsSaturationEvenWithoutOverflow) {
  HostEvaluatorOptions o;
  o.window = Seconds{1.0};
  o.warmup = Seconds{0.1};
  o.queue_capacity = 100000;  // never overflows: only the backlog test can flag it
  auto ev = HostEvaluator::Create(o);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  const int blocks = static_cast<int>(zoo::FindModel("resnet18")->blocks.size());
  platform::Configuration c = OneTenant("resnet18", {{0, blocks, "cpu0"}});
  c.tenants[0].arrival = platform::ArrivalKind::kOpenLoop;
  c.tenants[0].rate_rps = 400;  // tens of times what one core serves
  auto p = (*ev)->Evaluate(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->tenants[0].saturated);

  // The same overload with the backlog test off: no overflow, so no flag.
  o.backlog_growth = 0;
  ev = HostEvaluator::Create(o);
  ASSERT_TRUE(ev.ok());
  p = (*ev)->Evaluate(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->tenants[0].saturated);

  // A light load keeps its backlog: not saturated.
  o.backlog_growth = 0.1;
  ev = HostEvaluator::Create(o);
  ASSERT_TRUE(ev.ok());
  c.tenants[0].rate_rps = 3;
  p = (*ev)->Evaluate(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->tenants[0].saturated);
}

TEST(HostEvaluator, RejectsBadOptions) {
  HostEvaluatorOptions o;
  o.window = Seconds{0};
  EXPECT_FALSE(HostEvaluator::Create(o).ok());
  o.window = Seconds{1};
  o.min_completions = -1;
  EXPECT_FALSE(HostEvaluator::Create(o).ok());
  o.min_completions = 10;
  o.max_window = Seconds{0.5};
  auto bad = HostEvaluator::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("max_window"), std::string::npos) << bad.status().message();
  o.max_window = Seconds{5};
  o.min_open_completions = -2;
  bad = HostEvaluator::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("min_open_completions"), std::string::npos) << bad.status().message();
  o.min_open_completions = 20;
  o.min_completions = 0;
  bad = HostEvaluator::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("needs min_completions"), std::string::npos) << bad.status().message();
  o.min_completions = 10;
  o.min_open_completions = -1;
  o.backlog_growth = 1.5;
  bad = HostEvaluator::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("backlog_growth"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace ecomap::profiler
