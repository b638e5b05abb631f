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
