// The replay with the real controllers (policy::MakeController) on bundled data: fast settings
// (one day, the xavier-sim oracle as predictor) so the suite stays quick. The week-long
// week-long figures are measured with `ecomap replay` (see the README).
#include <gtest/gtest.h>

#include <algorithm>

#include "estimator/simulator_predictor.h"
#include "platform/sim/xavier_sim.h"
#include "policy/scenario.h"
#include "replay/replay.h"
#include "replay/report.h"

namespace ecomap::replay {
namespace {

class ReplayControllersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = policy::LoadScenario(policy::DefaultScenarioPath());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scenario_ = *s;
    ctx_.platform = &info_;
    ctx_.predictor = std::make_shared<estimator::SimulatorPredictor>();
    ctx_.oracle = ctx_.predictor;
    ctx_.options.budget_evals = 150;
    ctx_.options.oracle_budget_evals = 600;
  }

  StatusOr<ReplayResult> Run(const std::string& trace_file, const std::string& start, int days,
                             const std::vector<std::string>& names) {
    auto trace = carbon::LoadTrace(trace_file);
    if (!trace.ok()) return trace.status();
    ReplayOptions o;
    o.start = *ParseTimestamp(start);
    o.days = days;
    return RunReplay(*trace, [this](TimePoint t) { return scenario_.DemandAt(t); }, ControllerRuns(names, ctx_), o);
  }

  const platform::PlatformInfo info_ = platform::XavierSim::MakeInfo();
  policy::Scenario scenario_;
  policy::ControllerContext ctx_;
};

TEST_F(ReplayControllersTest, EcomapEmitsLessCarbonThanMaxnOnADayOfSpain) {
  auto r = Run(std::string(ECOMAP_SOURCE_DIR) + "/data/carbon/ES_2023_hourly.csv", "2023-03-06", 1,
               {"ecomap", "maxn"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ControllerSummary* e = r->Find("ecomap");
  const ControllerSummary* m = r->Find("maxn");
  ASSERT_TRUE(e && m);
  EXPECT_EQ(e->intervals.size(), 24u);
  EXPECT_LT(e->carbon_g, m->carbon_g) << FormatTextReport(*r, {});
  EXPECT_LT(e->energy_wh, m->energy_wh);
  EXPECT_GT(e->replans, 0);
  // maxn runs the best variants: no accuracy loss, and never changes mode.
  EXPECT_NEAR(m->accuracy_loss_pts, 0.0, 1e-9);
  EXPECT_EQ(m->mode_switches, 0);
  // Accounting identity over the whole run: carbon = sum of energy x CI.
  double c = 0;
  for (const IntervalRecord& k : e->intervals) c += k.energy_wh / 1000 * k.intensity_g_per_kwh;
  EXPECT_NEAR(e->carbon_g, c, 1e-9);
  // The hindsight bound (replay/bound.h) at each controller's accuracy loss: never above a
  // controller that held every SLO (replay_bound_test checks that on enumerated instances; with
  // the simulator's 1 s predictor here neither controller may hold them all), its dual never
  // above its plan, its plan within the budget.
  ASSERT_EQ(r->bounds.size(), 2u);
  for (const auto& [name, b] : r->bounds) {
    const ControllerSummary* s = r->Find(name);
    ASSERT_NE(s, nullptr);
    if (!b.feasible) {
      EXPECT_GT(s->slo_violations, 0) << name << ": its own choices are a plan when it held every SLO";
      continue;
    }
    EXPECT_LE(b.lower_bound_g, b.carbon_g + 1e-9) << name;
    EXPECT_LE(b.accuracy_loss_pts, s->accuracy_loss_pts + 1e-6) << name;
    if (s->slo_violations == 0) {
      EXPECT_LE(b.carbon_g, s->carbon_g + 1e-9) << name << "\n" << FormatTextReport(*r, {});
    }
  }
}

TEST_F(ReplayControllersTest, ACleanGridKeepsTheThresholdHigh) {
  // The synthetic hydro-like trace stays under 30 g/kWh (always_clean_below_g): every hour is
  // clean, so Ecomap's threshold stays at its highest budget and never moves.
  auto r = Run(std::string(ECOMAP_SOURCE_DIR) + "/src/replay/testdata/hydro_synthetic_hourly.csv", "2023-01-08", 1,
               {"ecomap"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ControllerSummary& e = r->controllers[0];
  const double first = e.intervals.front().threshold_w;
  EXPECT_GT(first, 0);
  for (const IntervalRecord& k : e.intervals) {
    EXPECT_EQ(k.threshold_w, first) << FormatIso8601(k.time);
    EXPECT_LT(k.intensity_g_per_kwh, 30);
  }
  EXPECT_EQ(e.threshold_raises, 0);
}

TEST(ControllerListTest, UnknownAndEmptyNamesAreRejected) {
  auto ok = ParseControllerList("ecomap, maxn");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<std::string>{"ecomap", "maxn"}));
  auto bad = ParseControllerList("ecomap,greedy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown controller 'greedy'"), std::string::npos);
  for (const std::string& n : policy::ControllerNames()) {
    EXPECT_NE(bad.status().message().find(n), std::string::npos) << n;
  }
  EXPECT_FALSE(ParseControllerList("").ok());
  EXPECT_FALSE(ParseControllerList("ecomap,,maxn").ok());
  EXPECT_FALSE(ParseControllerList("maxn,maxn").ok());
}

}  // namespace
}  // namespace ecomap::replay
