#include "replay/tables.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace ecomap::replay {
namespace {

using json = nlohmann::json;

json Controller(double carbon, double viol) {
  return {{"carbon_g", carbon}, {"energy_wh", 10 * carbon}, {"cdp", 1e-8}, {"slo_violation_rate", viol},
          {"accuracy_loss_pts", 0.5}, {"carbon_per_1k_good_g", 0.01}, {"dropped_requests", 3},
          {"decision_ms", 12}, {"decision_ms_p95", 40}, {"good_requests", viol < 0.5 ? 1000.0 : 0.0}};
}

json MakeRun(const char* zone, double ecomap, double maxn) {
  return {{"format", "ecomap.replay"},
          {"trace", {{"zone", zone}}},
          {"window", {{"start", "2023-06-05T00:00:00Z"}}},
          {"controllers", {{"ecomap", Controller(ecomap, 0.01)}, {"maxn", Controller(maxn, 0.5)}}}};
}

ResultLoader Fake() {
  return [](const std::string& path) -> StatusOr<json> {
    if (path == "us.json") return MakeRun("US", 50, 100);
    if (path == "es.json") {
      json j = MakeRun("ES", 30, 120);
      j["bound"] = {{"at", {{"ecomap", {{"feasible", true}, {"carbon_g", 25.0}}}}}};
      return j;
    }
    if (path == "sweep.json") {
      // ecomap at 1.0 pt and 50 g; energy's curve covers 0.5-2 pts (60 g at 1.0 pt); clover's
      // starts at 1.5 pts (not covered); the bound's points have no CDP (re-solved, not replayed).
      json j = MakeRun("US", 50, 100);
      j["controllers"]["ecomap"]["accuracy_loss_pts"] = 1.0;
      auto point = [](double knob, double loss, double carbon) {
        return json{{"knob", knob}, {"accuracy_loss_pts", loss}, {"carbon_g", carbon}, {"cdp", 2e-9},
                    {"slo_violation_rate", 0.005}, {"good_requests", 900}};
      };
      j["pareto"] = {{"ecomap", {point(0, 0.2, 80), point(1, 1.2, 48)}},
                     {"energy", {point(1, 0.5, 70), point(0, 2.0, 40)}},
                     {"clover", {point(0, 1.5, 90), point(1, 3.0, 60)}},
                     {"bound", {{{"knob", 0.0}, {"accuracy_loss_pts", 0.0}, {"carbon_g", 90.0}},
                                {{"knob", 2.0}, {"accuracy_loss_pts", 2.0}, {"carbon_g", 30.0}}}}};
      j["bound"] = {{"at", {{"ecomap", {{"feasible", true}, {"carbon_g", 45.0}}}}}};
      j["equal_accuracy"] = {{"vs",
                              {{"energy", {{"covered", true}, {"carbon_g", 60.0}}},
                               {"clover", {{"covered", false}}},
                               {"bound-carbon-blind", {{"covered", true}, {"carbon_g", 54.0}}}}}};
      return j;
    }
    if (path == "bad.json") return json{{"format", "other"}};
    return NotFound("no " + path);
  };
}

TEST(ResultTablesTest, RendersControllersAndSavings) {
  StatusOr<std::string> t = RenderResultTable("controllers", {"us.json"}, Fake());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_NE(t->find("| **ecomap** | **50.0** | 500 |"), std::string::npos) << *t;
  EXPECT_NE(t->find("| maxn | 100.0 | 1000 |"), std::string::npos) << *t;
  EXPECT_NE(t->find("| 50.00% | 0.50 | - (none good) |"), std::string::npos) << *t;  // maxn: no good request
  StatusOr<std::string> s = RenderResultTable("savings", {"us.json", "es.json"}, Fake());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_NE(s->find("| US 2023-06-05 | -50.0% |"), std::string::npos) << *s;
  EXPECT_NE(s->find("| ES 2023-06-05 | -75.0% |"), std::string::npos) << *s;
  EXPECT_NE(s->find("| +20.0% (bound 25.0 g) |"), std::string::npos) << *s;  // 30 g against a 25 g bound
  EXPECT_NE(s->find("| 0.50 pts | - |"), std::string::npos) << *s;            // US: no bound in its JSON
  EXPECT_FALSE(RenderResultTable("pie", {"us.json"}, Fake()).ok());
  EXPECT_FALSE(RenderResultTable("controllers", {"bad.json"}, Fake()).ok());
  EXPECT_EQ(RenderResultTable("controllers", {"none.json"}, Fake()).status().code(), StatusCode::kNotFound);
  json missing = MakeRun("US", 1, 2);
  missing["controllers"]["maxn"].erase("carbon_per_1k_good_g");
  StatusOr<std::string> m = RenderResultTable(
      "controllers", {"x"}, [&](const std::string&) -> StatusOr<json> { return missing; });
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("carbon_per_1k_good_g"), std::string::npos);
}

TEST(ResultTablesTest, RendersEqualAccuracyAndParetoCurves) {
  StatusOr<std::string> t = RenderResultTable("equal-accuracy", {"sweep.json"}, Fake());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  // energy at 1.0 pt: 70 + (40 - 70) x 0.5 / 1.5 = 60 g; ecomap's 50 g saves 16.7%.
  EXPECT_NE(t->find("| energy (threshold position) | 2 | 0.50-2.00 pts | 1.00 pts | 60.0 | 50.0 | +16.7% |"),
            std::string::npos) << *t;
  EXPECT_NE(t->find("| clover (lambda) | 2 | 1.50-3.00 pts | 1.00 pts | not covered | 50.0 | not covered |"),
            std::string::npos) << *t;
  // The bound: solved at ecomap's loss (the run's bound.at), not read off its curve (60 g).
  EXPECT_NE(t->find("| bound (solved at that loss) | - | - | 1.00 pts | 45.0 | 50.0 | -11.1% |"), std::string::npos)
      << *t;
  EXPECT_NE(t->find("| bound, carbon-blind (least energy, solved at that loss) | - | - | 1.00 pts | 54.0 | "
                    "50.0 | +7.4% |"),
            std::string::npos)
      << *t;
  EXPECT_EQ(t->find("| ecomap ("), std::string::npos) << *t;  // not against itself
  StatusOr<std::string> p = RenderResultTable("pareto", {"sweep.json"}, Fake());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_NE(p->find("| energy (threshold position) | 1.00 | 0.50 | 70.0 | 2.000e-09 | 0.50% | 900 |"),
            std::string::npos) << *p;
  EXPECT_NE(p->find("| bound (accuracy-loss budget) | 2.00 | 2.00 | 30.0 | - | - | - |"), std::string::npos) << *p;
  // A run without a sweep says how to make one; a stale equal_accuracy is caught.
  StatusOr<std::string> none = RenderResultTable("equal-accuracy", {"us.json"}, Fake());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("--sweep"), std::string::npos) << none.status().ToString();
  StatusOr<json> stale = Fake()("sweep.json");
  (*stale)["equal_accuracy"]["vs"]["energy"]["carbon_g"] = 61.0;
  EXPECT_FALSE(
      RenderResultTable("equal-accuracy", {"x"}, [&](const std::string&) -> StatusOr<json> { return *stale; }).ok());
}

// The evidence issue's goals, each figure beside its goal and verdict; the energy goal follows
// the bound's own saving against the energy curve.
TEST(ResultTablesTest, RendersTheMustShowGoals) {
  StatusOr<json> run = Fake()("sweep.json");
  ASSERT_TRUE(run.ok());
  (*run)["controllers"]["throughput"] = Controller(90, 0.2);
  (*run)["controllers"]["throughput"]["cdp"] = 5e-8;
  (*run)["controllers"]["clover"] = Controller(70, 0.05);
  (*run)["controllers"]["clover"]["cdp"] = 2e-8;
  auto load = [&](const std::string&) -> StatusOr<json> { return *run; };
  StatusOr<std::string> t = RenderResultTable("must-show", {"sweep.json"}, load);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  // energy at 1.0 pt: 60 g, ecomap 50 g saves 16.7%; the bound (45 g) saves 25% >= 18%, so the
  // goal is 15%. Clover's curve does not reach 1.0 pt. 50 g is 11.1% above the bound.
  EXPECT_NE(t->find("| US 2023-06-05 | 16.7% (goal >= 15%): met | not covered: **missed** | +11.1% (goal <= +5%): "
                    "**missed** | -80.0% (goal <= -25%): met | -50.0% (goal <= 0): met | 1.00% (goal <= 1%): met | "
                    "1.00 pts (goal <= 1.5): met | 5 of 7 |"),
            std::string::npos)
      << *t;
  // A bound that saves less than 18% against energy: the goal is its saving minus 3 points.
  (*run)["bound"]["at"]["ecomap"]["carbon_g"] = 55.0;
  t = RenderResultTable("must-show", {"sweep.json"}, load);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_NE(t->find("| 16.7% (bound saves 8.3%, goal >= 5.3%): met |"), std::string::npos) << *t;
  EXPECT_NE(t->find("| -9.1% (goal <= +5%): met |"), std::string::npos) << *t;
  // Without a sweep, or without the baselines it compares with, it says what is missing.
  EXPECT_FALSE(RenderResultTable("must-show", {"us.json"}, Fake()).ok());
  run->at("controllers").erase("throughput");
  StatusOr<std::string> no_tp = RenderResultTable("must-show", {"sweep.json"}, load);
  ASSERT_FALSE(no_tp.ok());
  EXPECT_NE(no_tp.status().message().find("'throughput'"), std::string::npos) << no_tp.status().ToString();
}

// Against the energy curve at ecomap's loss (60 g): the bound (45 g) saves 25%, the carbon-blind
// bound (54 g) 10%, so knowing the carbon signal added 15 points to the bound; ecomap saves 16.7%.
TEST(ResultTablesTest, RendersWhatTheCarbonSignalIsWorth) {
  StatusOr<std::string> t = RenderResultTable("carbon-signal", {"sweep.json"}, Fake());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_NE(t->find("| US 2023-06-05 | 1.00 pts | 60.0 g | 25.0% | 10.0% | 15.0 pts | 16.7% |"),
            std::string::npos)
      << *t;
  // A run made before the carbon-blind bound existed is refused, saying how to make one.
  StatusOr<json> old = Fake()("sweep.json");
  (*old)["equal_accuracy"]["vs"].erase("bound-carbon-blind");
  StatusOr<std::string> o =
      RenderResultTable("carbon-signal", {"x"}, [&](const std::string&) -> StatusOr<json> { return *old; });
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("carbon-blind"), std::string::npos) << o.status().ToString();
  EXPECT_FALSE(RenderResultTable("carbon-signal", {"us.json"}, Fake()).ok());  // no sweep
}

TEST(ResultTablesTest, RegeneratesMarkedBlocksOnly) {
  const std::string doc =
      "# Title\n\ntext before\n<!-- replay-table controllers us.json -->\n| stale | table |\n"
      "<!-- /replay-table -->\ntext after\n";
  StatusOr<std::string> u = UpdateResultTables(doc, Fake());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->find("stale"), std::string::npos);
  EXPECT_NE(u->find("text before\n<!-- replay-table controllers us.json -->\n| controller |"), std::string::npos);
  EXPECT_NE(u->find("<!-- /replay-table -->\ntext after\n"), std::string::npos);
  // Idempotent.
  StatusOr<std::string> again = UpdateResultTables(*u, Fake());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *u);
  // Malformed markers name their line.
  Status open = UpdateResultTables("a\n<!-- replay-table controllers us.json -->\n| x |\n", Fake()).status();
  EXPECT_NE(open.message().find("line 2"), std::string::npos) << open.message();
  Status bad_end = UpdateResultTables("<!-- replay-table controllers us.json\n", Fake()).status();
  EXPECT_FALSE(bad_end.ok());
  Status bad_file = UpdateResultTables("x\n<!-- replay-table savings none.json -->\n<!-- /replay-table -->\n",
                                       Fake()).status();
  EXPECT_NE(bad_file.message().find("line 2"), std::string::npos);
  // No markers: unchanged.
  EXPECT_EQ(*UpdateResultTables("plain\ntext", Fake()), "plain\ntext");
}

// The repository's documents agree with the committed JSON they quote.
TEST(ResultTablesTest, DocumentsAgreeWithCommittedResults) {
  const std::string root = ECOMAP_SOURCE_DIR;
  int blocks = 0;
  for (const char* doc : {"README.md", "docs/replay.md", "docs/policy.md"}) {
    std::ifstream in(root + "/" + doc);
    ASSERT_TRUE(in) << doc;
    std::stringstream text;
    text << in.rdbuf();
    StatusOr<std::string> updated = UpdateResultTables(text.str(), FileLoader(root));
    ASSERT_TRUE(updated.ok()) << doc << ": " << updated.status().ToString();
    EXPECT_EQ(*updated, text.str()) << doc << " differs from its JSON: run `ecomap results tables --update "
                                    << doc << "`";
    for (size_t p = 0; (p = text.str().find("<!-- replay-table ", p)) != std::string::npos; ++p) ++blocks;
  }
  EXPECT_GE(blocks, 2) << "the README's replay tables should be generated";
}

}  // namespace
}  // namespace ecomap::replay
