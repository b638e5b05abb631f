// The week-long goals on a week of each bundled grid (ES, US-CAL-CISO 2023-06-05..12)
// with the default scenario and all six controllers. Slow (about 3 min per grid on 2 cores):
// built only with -DECOMAP_REPLAY_SLOW_TESTS=ON and labelled "slow". The controllers use the
// xavier-sim oracle as predictor here (no libtorch in this test); the figures with the shipped
// transformer estimator are measured with `ecomap replay` (see docs/replay.md).
#include <gtest/gtest.h>

#include "estimator/simulator_predictor.h"
#include "platform/sim/xavier_sim.h"
#include "policy/scenario.h"
#include "replay/replay.h"
#include "replay/report.h"

namespace ecomap::replay {
namespace {

class MustShowTest : public ::testing::TestWithParam<const char*> {};

TEST_P(MustShowTest, WeekOfBundledGrid) {
  auto scenario = policy::LoadScenario(policy::DefaultScenarioPath());
  ASSERT_TRUE(scenario.ok()) << scenario.status().ToString();
  auto trace = carbon::LoadTrace(std::string(ECOMAP_SOURCE_DIR) + "/data/carbon/" + GetParam() + "_2023_hourly.csv");
  ASSERT_TRUE(trace.ok());
  const platform::PlatformInfo info = platform::XavierSim::MakeInfo();
  policy::ControllerContext ctx;
  ctx.platform = &info;
  ctx.predictor = std::make_shared<estimator::SimulatorPredictor>();
  ctx.oracle = ctx.predictor;
  ReplayOptions o;
  o.start = *ParseTimestamp("2023-06-05");
  o.days = 7;
  auto r = RunReplay(*trace, [&](TimePoint t) { return scenario->DemandAt(t); },
                     ControllerRuns(policy::ControllerNames(), ctx), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string table = FormatTextReport(*r, {});
  const ControllerSummary* e = r->Find("ecomap");
  const ControllerSummary* maxn = r->Find("maxn");
  const ControllerSummary* thr = r->Find("throughput");
  const ControllerSummary* oracle = r->Find("perfect-predictor");
  ASSERT_TRUE(e && maxn && thr && oracle);
  EXPECT_GE(SavingPct(e->carbon_g, maxn->carbon_g), 30) << table;
  EXPECT_GE(SavingPct(e->carbon_g, thr->carbon_g), 15) << table;
  EXPECT_GE(SavingPct(e->cdp_g_s, std::min(maxn->cdp_g_s, thr->cdp_g_s)), 25) << table;
  EXPECT_LE(e->slo_violation_rate, 0.01) << table;
  EXPECT_LE(e->accuracy_loss_pts, 1.5) << table;
  EXPECT_LE(e->carbon_g, 1.05 * oracle->carbon_g) << table;
}

INSTANTIATE_TEST_SUITE_P(Grids, MustShowTest, ::testing::Values("ES", "US-CAL-CISO"));

}  // namespace
}  // namespace ecomap::replay
