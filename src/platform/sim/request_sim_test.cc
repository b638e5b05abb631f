// The discrete-event engine against results it must reproduce whatever the Xavier constants:
// textbook single-queue figures (M/D/1, M/M/1), processor sharing, time slicing, censoring.
#include "platform/sim/request_sim.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ecomap::platform::sim {
namespace {

Network OneUnit(Discipline d, double service_s, double cv) {
  Network n;
  UnitSpec u;
  u.id = "U";
  u.discipline = d;
  u.cv = cv;
  u.busy_w = 10;
  n.units = {u};
  n.idle_w = 5;
  return n;
}

TenantSpec Tenant(const std::string& name, double service_s, bool open, double rate, int concurrency = 1) {
  TenantSpec t;
  t.name = name;
  t.open = open;
  t.rate_rps = rate;
  t.concurrency = concurrency;
  SegmentSpec s;
  s.unit = 0;
  s.blocks = {BlockSpec{service_s, 0, 0}};
  t.segments = {s};
  return t;
}

TEST(RequestSim, MD1MeanResponseMatchesPollaczekKhinchine) {
  // Poisson arrivals at rho = 0.7, deterministic 10 ms service: R = D + rho D / (2 (1 - rho)).
  Network n = OneUnit(Discipline::kFifo, 0.01, 0.0);
  n.tenants = {Tenant("a", 0.01, true, 70)};
  RunOptions o;
  o.warmup_s = 20;
  o.window_s = 2000;
  RunResult r = sim::Run(n, o);
  const double expected = 0.01 + 0.7 * 0.01 / (2 * 0.3);
  EXPECT_NEAR(r.tenants[0].mean_s, expected, 0.04 * expected);
  EXPECT_NEAR(r.unit_busy[0], 0.7, 0.02);
  EXPECT_NEAR(r.tenants[0].throughput_rps, 70, 1.5);
  // Power: idle + busy fraction x busy power.
  EXPECT_NEAR(r.mean_power_w, 5 + 0.7 * 10, 0.2);
}

TEST(RequestSim, LogNormalServiceHasTheRequestedSpread) {
  // One closed-loop request at a time: latency = service; its cv is the unit's.
  Network n = OneUnit(Discipline::kFifo, 0.01, 0.2);
  n.tenants = {Tenant("a", 0.01, false, 0, 1)};
  RunOptions o;
  o.window_s = 200;
  RunResult r = sim::Run(n, o);
  EXPECT_NEAR(r.tenants[0].mean_s, 0.01, 0.0003);
  // Log-normal with cv 0.2: p95 / mean = exp(1.645 sigma - sigma^2 / 2), sigma^2 = ln(1.04).
  const double sigma = std::sqrt(std::log(1.04));
  EXPECT_NEAR(r.tenants[0].p95_s / r.tenants[0].mean_s, std::exp(1.645 * sigma - sigma * sigma / 2), 0.02);
}

TEST(RequestSim, ProcessorSharingAndTimeSlicingShareTheUnit) {
  for (Discipline d : {Discipline::kProcessorSharing, Discipline::kTimeSlice}) {
    Network n = OneUnit(d, 0.01, 0.0);
    n.tenants = {Tenant("a", 0.01, false, 0, 1), Tenant("b", 0.01, false, 0, 1)};
    RunOptions o;
    o.window_s = 20;
    RunResult r = sim::Run(n, o);
    // Two jobs share one unit: each completes every 20 ms, whatever the discipline.
    EXPECT_NEAR(r.tenants[0].throughput_rps, 50, 1.0);
    EXPECT_NEAR(r.tenants[1].throughput_rps, 50, 1.0);
    EXPECT_NEAR(r.tenants[0].mean_s, 0.02, 0.0015);
  }
  // Time slicing with a switch cost loses that much throughput.
  Network n = OneUnit(Discipline::kTimeSlice, 0.01, 0.0);
  n.units[0].quantum_s = 0.002;
  n.units[0].switch_s = 0.001;
  n.tenants = {Tenant("a", 0.01, false, 0, 1), Tenant("b", 0.01, false, 0, 1)};
  RunOptions o;
  o.window_s = 20;
  RunResult r = sim::Run(n, o);
  // Every 2 ms slice is followed by a 1 ms switch: 2/3 of the unit does work.
  EXPECT_NEAR(r.tenants[0].throughput_rps + r.tenants[1].throughput_rps, 100.0 * 2 / 3, 2.0);
}

TEST(RequestSim, OverloadDropsAndCensorsWaitingRequests) {
  Network n = OneUnit(Discipline::kFifo, 0.01, 0.0);
  TenantSpec t = Tenant("a", 0.01, true, 200);
  t.max_outstanding = 50;
  n.tenants = {t};
  RunOptions o;
  o.window_s = 10;
  RunResult r = sim::Run(n, o);
  EXPECT_TRUE(r.tenants[0].saturated);
  EXPECT_NEAR(r.tenants[0].throughput_rps, 100, 2);
  EXPECT_GT(r.tenants[0].dropped, 800);
  // A full queue of 50 at 10 ms each: about 0.5 s in the system.
  EXPECT_NEAR(r.tenants[0].p50_s, 0.5, 0.05);
}

TEST(RequestSim, DeterministicForASeedAndBoundedByMaxCompletions) {
  Network n = OneUnit(Discipline::kFifo, 0.001, 0.1);
  n.tenants = {Tenant("a", 0.001, true, 500)};
  RunOptions o;
  o.seed = 3;
  RunResult a = sim::Run(n, o), b = sim::Run(n, o);
  EXPECT_EQ(a.tenants[0].p95_s, b.tenants[0].p95_s);
  o.seed = 4;
  EXPECT_NE(sim::Run(n, o).tenants[0].p95_s, a.tenants[0].p95_s);
  o.max_completions = 1000;
  RunResult capped = sim::Run(n, o);
  EXPECT_EQ(capped.tenants[0].completed, 1000);
  EXPECT_LT(capped.window_s, 2.5);
}

TEST(RequestSim, EmcSlowdownIsFlatThenBandwidthBound) {
  EXPECT_DOUBLE_EQ(EmcSlowdown(0), 1.0);
  EXPECT_LT(EmcSlowdown(0.3), 1.05);
  EXPECT_GT(EmcSlowdown(0.9), 1.5);
  EXPECT_NEAR(EmcSlowdown(1.8) / EmcSlowdown(0.9), 2.0, 1e-9);
}

}  // namespace
}  // namespace ecomap::platform::sim
