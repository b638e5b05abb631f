// Tests of the serve daemon without libtorch: config, history (incl. a kill -9 mid-loop), the
// API's parsing (table-driven + fuzz), the Prometheus text, and the daemon end to end over HTTP
// with a small real executor (a CPU loop per block, zoo model descriptors) and a test controller
// (the policy part's controllers are exercised by the integration test / the app).
#include <gtest/gtest.h>
#include <httplib.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "carbon/live_test_server.h"
#include "platform/faulty_platform.h"
#include "platform/registry.h"
#include "service/api.h"
#include "service/config.h"
#include "service/daemon.h"
#include "service/engine_backend.h"
#include "service/http_server.h"
#include "service/protocol_bench.h"
#include "service/replan_bench.h"
#include "service/reporting.h"
#include "service/history.h"
#ifdef ECOMAP_HAVE_GRPC
#include "service/grpc_client.h"
#endif
#include "service/kserve_rest.h"
#include "service/loadgen.h"
#include "zoo/model.h"

namespace ecomap::service {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& tag) {
  std::string d = fs::temp_directory_path() / ("ecomap-serve-" + tag + "-" + std::to_string(getpid()) + "-" +
                                               std::to_string(std::random_device{}()));
  fs::create_directories(d);
  return d;
}

carbon::EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// ------------------------------------------------------------------------------------------
// Config.

TEST(ServeConfigTest, BundledExamplesParse) {
  for (const char* f : {"data/serve/ecomap.toml", "data/serve/demo.toml"}) {
    StatusOr<ServeConfig> c = LoadServeConfig(std::string(ECOMAP_SOURCE_DIR) + "/" + f, NoEnv());
    ASSERT_TRUE(c.ok()) << f << ": " << c.status().message();
    EXPECT_EQ(c->platform, "host");
    EXPECT_EQ(c->tenants.size(), 2u);
    EXPECT_EQ(c->power_knob, "cpu-share");
    EXPECT_TRUE(fs::exists(c->carbon.trace_path)) << c->carbon.trace_path;
  }
  // The example states Ecomap's defaults; the demo turns the accuracy price off (demo.toml says why).
  StatusOr<ServeConfig> ex = LoadServeConfig(std::string(ECOMAP_SOURCE_DIR) + "/data/serve/ecomap.toml", NoEnv());
  StatusOr<ServeConfig> demo = LoadServeConfig(std::string(ECOMAP_SOURCE_DIR) + "/data/serve/demo.toml", NoEnv());
  ASSERT_TRUE(ex.ok() && demo.ok());
  EXPECT_EQ(ex->controller.options.accuracy_price, policy::ControllerOptions{}.accuracy_price);
  EXPECT_EQ(ex->controller.options.threshold.depth, policy::ControllerOptions{}.threshold.depth);
  EXPECT_EQ(demo->controller.options.accuracy_price, 0);
  EXPECT_EQ(demo->controller.options.threshold.depth, 1);
}

TEST(ServeConfigTest, ErrorsNameFileLineKeyAndFix) {
  const std::string head = "[serve]\nplatform = \"host\"\n";
  const std::string tenant = "[[serve.tenants]]\nname = \"a\"\nfamily = \"resnet\"\nslo_ms = 100\nrate_rps = 5\n";
  struct Case {
    std::string text;
    std::string want;  // substring of the message
  } cases[] = {
      {"[serve]\nplatfrom = \"host\"\n", "cfg.toml:2: unknown key 'platfrom' in [serve]"},
      {"[serve]\nplatform = \"pc\"\n", "use host, xavier-sim or jetson"},
      {"[serve\n", "cfg.toml:1: not valid TOML"},
      {"[other]\n", "unknown table 'other'"},
      {"x = 1\n", "unknown table 'x'"},
      {head + "interval_s = -1\n", "cfg.toml:3: [serve] interval_s must be a number"},
      {head + "[serve.api]\nlisten = \"localhost\"\n", "must be HOST:PORT"},
      {head + "[serve.api]\nlisten = \"127.0.0.1:99999\"\n", "port must be 0..65535"},
      {head + "[serve.carbon]\nprovider = \"acme\"\n", "use trace, electricitymaps"},
      {head + "[serve.carbon]\ntrace = \"nope.csv\"\n", "file 'nope.csv' not found"},
      {head + "[serve.controller]\npredictor = \"simulator\"\n", "needs platform = \"xavier-sim\""},
      {head + "[serve.controller]\naccuracy_price = -1\n", "[serve.controller] accuracy_price must be a number in [0,"},
      {head + "[serve.controller]\nthreshold_depth = 2\n", "threshold_depth must be a number in [0, 1]"},
      {head + "[[serve.tenants]]\nname = \"a\"\nfamily = \"resnet\"\nrate_rps = 5\n", "slo_ms is required"},
      {head + "[[serve.tenants]]\nname = \"a\"\nfamily = \"resnet\"\nslo_ms = -5\nrate_rps = 5\n", "slo_ms = -5 must be a positive"},
      {head + "[[serve.tenants]]\nname = \"a\"\nfamily = \"resnet\"\nslo_ms = 5\n", "exactly one of rate_rps"},
      {head + "[[serve.tenants]]\nname = \"a\"\nfamily = \"resnet\"\nslo_ms = 5\nrate_rps = 1\nconcurrency = 2\n",
       "exactly one of rate_rps"},
      {head + "[[serve.tenants]]\nname = \"a\"\nfamily = \"alexnet\"\nslo_ms = 5\nrate_rps = 1\n", "unknown model family 'alexnet'"},
      {head + "[[serve.tenants]]\nname = \"a\"\nfamily = \"resnet\"\nvariants = [\"bert_tiny\"]\nslo_ms = 5\nrate_rps = 1\n",
       "belongs to family 'bert'"},
      {head + tenant + tenant, "used twice"},
      {head + "[[serve.tenants]]\nname = \"a b\"\nfamily = \"resnet\"\nslo_ms = 5\nrate_rps = 1\n", "is invalid"},
      {head + "[carbon.live]\nbogus = 1\n", "unknown key 'bogus'"},
      {head + "apply_mode = false\n", "replaced by power_knob"},
      {head + "power_knob = \"dvfs\"\n", "'dvfs' is unknown; use \"mode\", \"cpu-share\" or \"none\""},
      {"[serve]\nplatform = \"xavier-sim\"\npower_knob = \"cpu-share\"\n", "needs platform = \"host\""},
  };
  for (const Case& c : cases) {
    StatusOr<ServeConfig> r = ParseServeConfig(c.text, "cfg.toml", ECOMAP_SOURCE_DIR, NoEnv());
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << "got: " << r.status().message();
    EXPECT_NE(r.status().message().find("cfg.toml"), std::string::npos) << r.status().message();
  }
}

TEST(ServeConfigTest, DefaultsEnvironmentTokenAndPaths) {
  auto env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "ECOMAP_API_TOKEN") return std::string("from-env");
    return std::nullopt;
  };
  StatusOr<ServeConfig> c = ParseServeConfig(
      "[serve]\ndata_dir = \"d\"\n[serve.api]\ntoken = \"file\"\nlisten = \"127.0.0.1:0\"\n"
      "[[serve.tenants]]\nvariants = [\"resnet18\"]\nslo_ms = 50\nconcurrency = 2\n",
      "c.toml", "/srv/x", env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->api.token, "from-env");
  EXPECT_EQ(c->api.port, 0);
  EXPECT_EQ(c->data_dir, "/srv/x/d");
  EXPECT_EQ(c->interval_s, 60);
  ASSERT_EQ(c->tenants.size(), 1u);
  EXPECT_EQ(c->tenants[0].family, "resnet");
  EXPECT_EQ(c->tenants[0].name, "resnet");
  EXPECT_EQ(c->tenants[0].arrival, platform::ArrivalKind::kClosedLoop);
  EXPECT_EQ(c->tenants[0].concurrency, 2);
  EXPECT_EQ(c->controller.name, "ecomap");
  EXPECT_EQ(c->power_knob, "cpu-share");  // the host's default: the daemon's own CPU share
  StatusOr<ServeConfig> sim = ParseServeConfig("[serve]\nplatform = \"xavier-sim\"\n", "c.toml", "/srv/x", env);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  EXPECT_EQ(sim->power_knob, "mode");
}

// ------------------------------------------------------------------------------------------
// History.

IntervalRow MakeRow(int64_t id, int tenants) {
  IntervalRow r;
  r.id = id;
  r.start_utc = "2026-01-01T00:00:00Z";
  r.end_utc = "2026-01-01T00:01:00Z";
  r.elapsed_s = 60;
  r.intensity_g_per_kwh = 100 + id;
  r.carbon_source = "trace:x.csv";
  r.power_w = 10;
  r.power_source = "modelled";
  r.energy_j = 600;
  r.carbon_g = 600 / 3.6e6 * (100 + id);
  r.completed = 100;
  r.rejected = 1;
  r.slo_violations = id % 2;
  for (int i = 0; i < tenants; ++i) {
    TenantIntervalRow t;
    t.tenant = "t" + std::to_string(i);
    t.model = "resnet18";
    t.p95_ms = 20;
    t.completed = 50;
    r.tenants.push_back(t);
  }
  r.carbon = CarbonRow{"2026-01-01T00:00:00Z", 100.0 + id, "trace:x.csv", false, false, ""};
  DecisionRow d;
  d.controller = "test";
  d.reason = "interval " + std::to_string(id);
  r.decisions.push_back(d);
  return r;
}

TEST(HistoryTest, CommitsAndResumesAcrossReopen) {
  std::string dir = TempDir("hist");
  {
    auto h = History::Open(dir + "/h.sqlite");
    ASSERT_TRUE(h.ok()) << h.status().message();
    EXPECT_EQ((*h)->resume().next_interval, 0);
    for (int i = 0; i < 3; ++i) {
      IntervalRow r = MakeRow(i, 2);
      ASSERT_TRUE((*h)->CommitInterval(r).ok());
      EXPECT_DOUBLE_EQ(r.total_energy_j, 600.0 * (i + 1));
    }
    IntervalRow wrong = MakeRow(7, 1);
    EXPECT_EQ((*h)->CommitInterval(wrong).code(), StatusCode::kFailedPrecondition);
  }
  auto h = History::Open(dir + "/h.sqlite");
  ASSERT_TRUE(h.ok());
  const ResumeState& r = (*h)->resume();
  EXPECT_EQ(r.next_interval, 3);
  EXPECT_DOUBLE_EQ(r.total_energy_j, 1800);
  EXPECT_EQ(r.total_completed, 300);
  EXPECT_EQ(r.total_rejected, 3);
  EXPECT_EQ(r.total_slo_violations, 1);
  EXPECT_EQ(r.runs, 1);
  auto d = (*h)->DecisionsSince(1, 10);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].id, 2);
  EXPECT_EQ((*d)[0].reason, "interval 1");
  EXPECT_EQ((*h)->ReserveDecisionId(), 4);
  auto recent = (*h)->RecentIntervals(2);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[1].id, 2);
  EXPECT_EQ((*recent)[1].tenants.size(), 2u);
  ASSERT_TRUE((*recent)[1].carbon.has_value());
  EXPECT_DOUBLE_EQ((*recent)[1].carbon->intensity_g_per_kwh, 102);
  fs::remove_all(dir);
}

TEST(HistoryTest, KeepsApiTenantsTotalsAndStatesAcrossReopen) {
  std::string dir = TempDir("hist2");
  {
    auto h = History::Open(dir + "/h.sqlite");
    ASSERT_TRUE(h.ok()) << h.status().message();
    ASSERT_TRUE((*h)->SaveApiTenant({"cam", R"({"name":"cam","family":"resnet","slo_ms":50,"rate_rps":5})",
                                     "2026-01-01T00:00:00Z"}).ok());
    ASSERT_TRUE((*h)->SaveApiTenant({"gone", "{}", "2026-01-01T00:00:01Z"}).ok());
    ASSERT_TRUE((*h)->RemoveApiTenant("gone").ok());
    for (int i = 0; i < 3; ++i) {
      IntervalRow r = MakeRow(i, 2);
      r.tenants[0].slo_met = i != 1;
      r.tenants[1].rejected = 2;
      r.states["demand"] = "v" + std::to_string(i);
      ASSERT_TRUE((*h)->CommitInterval(r).ok());
    }
    IntervalRow r = MakeRow(3, 1);  // no state this time: the last one stays
    ASSERT_TRUE((*h)->CommitInterval(r).ok());
  }
  auto h = History::Open(dir + "/h.sqlite");
  ASSERT_TRUE(h.ok());
  auto api = (*h)->ApiTenants();
  ASSERT_TRUE(api.ok());
  ASSERT_EQ(api->size(), 1u);
  EXPECT_EQ((*api)[0].name, "cam");
  EXPECT_NE((*api)[0].body.find("\"slo_ms\":50"), std::string::npos);
  auto totals = (*h)->TenantTotalsByName();
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ((*totals)["t0"].intervals, 4);
  EXPECT_EQ((*totals)["t0"].completed, 200);
  EXPECT_EQ((*totals)["t0"].slo_violations, 1);
  EXPECT_EQ((*totals)["t1"].rejected, 6);
  auto state = (*h)->State("demand");
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ(**state, "v2");
  EXPECT_FALSE((*(*h)->State("none")).has_value());
  fs::remove_all(dir);
}

TEST(HistoryTest, UpgradesVersionOneFiles) {
  std::string dir = TempDir("v1");
  {
    auto h = History::Open(dir + "/h.sqlite");
    ASSERT_TRUE(h.ok());
    IntervalRow r = MakeRow(0, 1);
    ASSERT_TRUE((*h)->CommitInterval(r).ok());
  }
  {  // Make it look like a version-1 file: no api_tenants table.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir + "/h.sqlite").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE api_tenants; UPDATE meta SET value='1' WHERE key='schema_version'",
                           nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto h = History::Open(dir + "/h.sqlite");
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ((*h)->resume().next_interval, 1);
  EXPECT_TRUE((*h)->SaveApiTenant({"cam", "{}", "t"}).ok());
  fs::remove_all(dir);
}

TEST(HistoryTest, RejectsGarbageAndNewerSchema) {
  std::string dir = TempDir("bad");
  {
    std::ofstream f(dir + "/garbage.sqlite");
    f << std::string(4096, 'x');
  }
  auto g = History::Open(dir + "/garbage.sqlite");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss) << g.status().message();
  {
    auto h = History::Open(dir + "/v.sqlite");
    ASSERT_TRUE(h.ok());
  }
  {
    // Pretend a newer program wrote it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir + "/v.sqlite").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto v = History::Open(dir + "/v.sqlite");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("schema version 99"), std::string::npos);
  fs::remove_all(dir);
}

// A child process commits intervals as fast as it can and is killed with SIGKILL in the middle
// of its loop; the database must open cleanly with every committed interval whole.
TEST(HistoryTest, KillMinus9MidLoopLosesAtMostTheCurrentInterval) {
  std::string dir = TempDir("kill");
  const std::string path = dir + "/h.sqlite";
  for (int round = 0; round < 3; ++round) {
    int64_t before = 0;
    {
      auto h = History::Open(path);
      ASSERT_TRUE(h.ok()) << h.status().message();
      before = (*h)->resume().next_interval;
    }
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(pipefd[0]);
      auto h = History::Open(path);
      if (!h.ok()) _exit(2);
      for (int64_t id = (*h)->resume().next_interval;; ++id) {
        IntervalRow r = MakeRow(id, 3);
        if (!(*h)->CommitInterval(r).ok()) _exit(3);
        char c = 1;
        if (write(pipefd[1], &c, 1) != 1) _exit(4);
      }
    }
    close(pipefd[1]);
    // Wait for a few commits, then kill at a point that varies by round.
    int seen = 0;
    char c;
    while (seen < 5 + 7 * round && read(pipefd[0], &c, 1) == 1) ++seen;
    usleep(static_cast<useconds_t>(300 * round));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(pipefd[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

    auto h = History::Open(path);
    ASSERT_TRUE(h.ok()) << h.status().message();
    EXPECT_TRUE((*h)->CheckIntegrity().ok());
    int64_t next = (*h)->resume().next_interval;
    EXPECT_GE(next, before + seen);  // everything acknowledged is there
    // Every interval id 0..next-1 exists exactly once, with all its tenant rows and its carbon row.
    auto count = (*h)->CountIntervals();
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(*count, next);
    auto all = (*h)->RecentIntervals(static_cast<int>(next));
    ASSERT_TRUE(all.ok());
    for (size_t i = 0; i < all->size(); ++i) {
      EXPECT_EQ((*all)[i].id, static_cast<int64_t>(i));
      EXPECT_EQ((*all)[i].tenants.size(), 3u) << "interval " << i;
      EXPECT_TRUE((*all)[i].carbon.has_value()) << "interval " << i;
    }
    EXPECT_DOUBLE_EQ((*h)->resume().total_energy_j, 600.0 * static_cast<double>(next));
  }
  fs::remove_all(dir);
}

// ------------------------------------------------------------------------------------------
// API parsing.

// [[serve.tenants.models]]: the tenant's own TorchScript models, parsed (paths resolved against
// the config's folder) and checked; they are loaded and measured by the daemon, not here.
TEST(ConfigTest, TenantModelsParseAndBadOnesNameTheKey) {
  const std::string head = "[serve]\n[[serve.tenants]]\nname = \"door\"\nfamily = \"doorcam\"\nslo_ms = 100\nrate_rps = 2\n";
  const std::string good = head +
                           "  [[serve.tenants.models]]\n  name = \"door_l\"\n  torchscript = \"models/l.pt\"\n"
                           "  accuracy = 80\n  input_shape = [1, 3, 32, 32]\n  split = \"children\"\n"
                           "  [[serve.tenants.models]]\n  name = \"door_s\"\n  torchscript = \"models/s.pt\"\n"
                           "  accuracy = 70.5\n  input_shape = [1, 3, 32, 32]\n  input_dtype = \"float32\"\n";
  StatusOr<ServeConfig> c = ParseServeConfig(good, "cfg.toml", "/srv/ecomap", NoEnv());
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->tenants.size(), 1u);
  const policy::TenantSpec& t = c->tenants[0];
  EXPECT_EQ(t.variants, (std::vector<std::string>{"door_s", "door_l"}));  // increasing accuracy
  ASSERT_EQ(t.models.size(), 2u);
  EXPECT_EQ(t.models[0].path, "/srv/ecomap/models/l.pt");
  EXPECT_EQ(t.models[0].split, zoo::SplitMode::kChildren);
  EXPECT_EQ(t.models[0].family, "doorcam");
  EXPECT_EQ(t.models[1].input_shape, (std::vector<int64_t>{1, 3, 32, 32}));
  struct Case {
    std::string models, want;
  } cases[] = {
      {"  name = \"x\"\n  accuracy = 80\n  input_shape = [1, 3]\n", "torchscript"},
      {"  name = \"x\"\n  torchscript = \"x.pt\"\n  input_shape = [1, 3]\n", "accuracy"},
      {"  name = \"x\"\n  torchscript = \"x.pt\"\n  accuracy = 80\n", "input_shape"},
      {"  name = \"x\"\n  torchscript = \"x.pt\"\n  accuracy = 80\n  input_shape = [1, 3.5]\n", "array of integers"},
      {"  name = \"x\"\n  torchscript = \"x.pt\"\n  accuracy = 101\n  input_shape = [1, 3]\n", "accuracy"},
      {"  name = \"x\"\n  torchscript = \"x.pt\"\n  accuracy = 80\n  input_shape = [1, 3]\n  split = \"yes\"\n", "split"},
      {"  name = \"x\"\n  torchscript = \"x.pt\"\n  accuracy = 80\n  input_shape = [1, 3]\n  input_dtype = \"f16\"\n", "input_dtype"},
      {"  name = \"x\"\n  torchscript = \"x.pt\"\n  accuracy = 80\n  input_shape = [1, 3]\n  weights = 1\n", "unknown key 'weights'"},
  };
  for (const Case& k : cases) {
    StatusOr<ServeConfig> r = ParseServeConfig(head + "  [[serve.tenants.models]]\n" + k.models, "cfg.toml", "/srv", NoEnv());
    ASSERT_FALSE(r.ok()) << k.models;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().message();
    EXPECT_NE(r.status().message().find(k.want), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("cfg.toml:"), std::string::npos) << r.status().message();
  }
  // A built-in family for your own models is refused.
  std::string resnet = good;
  resnet.replace(resnet.find("doorcam"), 7, "resnet");
  StatusOr<ServeConfig> r = ParseServeConfig(resnet, "cfg.toml", "/srv", NoEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("built-in zoo family"), std::string::npos) << r.status().message();
}

// Pearson's r the textbook way (means first, then the sums of products), to check the
// one-pass accumulation against.
double TwoPassR(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

std::optional<double> CorrelationOf(const std::vector<double>& x, const std::vector<double>& y) {
  Correlation c;
  for (size_t i = 0; i < x.size(); ++i) c.Add(x[i], y[i]);
  return c.r();
}

TEST(ReportingTest, CorrelationFollowsAndRefusesWhatItCannotSay) {
  // Power stepping up with the threshold, with noise: strongly positive.
  const std::vector<double> thr = {8, 8, 14, 14, 11, 8, 14};
  const std::vector<double> pow = {4.1, 4.3, 7.2, 6.9, 4.4, 4.0, 7.4};
  std::optional<double> r = CorrelationOf(thr, pow);
  ASSERT_TRUE(r.has_value());
  EXPECT_GT(*r, 0.8);
  EXPECT_LE(*r, 1.0);
  EXPECT_NEAR(*r, TwoPassR(thr, pow), 1e-12);
  // Exact linear relations: +1 and -1.
  EXPECT_NEAR(*CorrelationOf({1, 2, 3, 4}, {3, 5, 7, 9}), 1.0, 1e-12);
  EXPECT_NEAR(*CorrelationOf({1, 2, 3, 4}, {9, 7, 5, 3}), -1.0, 1e-12);
  // Unrelated: the power does not follow (symmetric pattern, r = 0).
  EXPECT_NEAR(*CorrelationOf({1, 2, 3, 4, 5}, {5, 1, 0, 1, 5}), 0.0, 1e-12);
  // Undefined: a threshold that never moved, too few pairs.
  EXPECT_FALSE(CorrelationOf({11, 11, 11, 11}, {4, 5, 6, 7}).has_value());
  EXPECT_FALSE(CorrelationOf({8, 14}, {4, 7}).has_value());
  // Accumulated pair by pair (as the daemon does over a run): no r before the third pair, the
  // count of pairs, and large offsets (a threshold in the thousands) do not spoil it.
  Correlation c, shifted;
  for (size_t i = 0; i < thr.size(); ++i) {
    c.Add(thr[i], pow[i]);
    shifted.Add(thr[i] + 1e6, pow[i] + 1e6);
    if (i < 2) {
      EXPECT_FALSE(c.r().has_value());
    }
  }
  EXPECT_EQ(c.count(), static_cast<int64_t>(thr.size()));
  EXPECT_NEAR(*c.r(), *r, 1e-12);
  EXPECT_NEAR(*shifted.r(), *r, 1e-6);
}

TEST(ApiTest, ParseTenantRequestTable) {
  struct Case {
    std::string body;
    StatusCode code;
    std::string want;
  } cases[] = {
      {R"({"name":"cam","family":"resnet","slo_ms":100,"rate_rps":10})", StatusCode::kOk, ""},
      {R"({"name":"cam","variants":["bert_tiny"],"slo_ms":100,"concurrency":2})", StatusCode::kOk, ""},
      {R"({"name":"cam","family":"resnet","slo_ms":100,"rate_rps":10)", StatusCode::kInvalidArgument, "not valid JSON"},
      {"", StatusCode::kInvalidArgument, "not valid JSON"},
      {"[1,2]", StatusCode::kInvalidArgument, "must be a JSON object"},
      {R"({"family":"resnet","slo_ms":100,"rate_rps":10})", StatusCode::kInvalidArgument, "'name'"},
      {R"({"name":"cam","family":"resnet","slo_ms":-1,"rate_rps":10})", StatusCode::kInvalidArgument, "'slo_ms' must be > 0"},
      {R"({"name":"cam","family":"resnet","slo_ms":"100","rate_rps":10})", StatusCode::kInvalidArgument, "must be a number"},
      {R"({"name":"cam","family":"resnet","rate_rps":10})", StatusCode::kInvalidArgument, "'slo_ms'"},
      {R"({"name":"cam","family":"alexnet","slo_ms":100,"rate_rps":10})", StatusCode::kNotFound, "unknown model family"},
      {R"({"name":"cam","variants":["resnet9000"],"slo_ms":100,"rate_rps":10})", StatusCode::kNotFound, "unknown model 'resnet9000'"},
      {R"({"name":"cam","family":"resnet","variants":["resnet9000"],"slo_ms":100,"rate_rps":10})", StatusCode::kNotFound, "unknown model"},
      {R"({"name":"cam","family":"resnet","slo_ms":100})", StatusCode::kInvalidArgument, "exactly one of"},
      {R"({"name":"cam","family":"resnet","slo_ms":100,"concurrency":0})", StatusCode::kInvalidArgument, "concurrency"},
      {R"({"name":"cam","family":"resnet","slo_ms":100,"concurrency":1.5})", StatusCode::kInvalidArgument, "integer"},
      {R"({"name":"cam","family":"resnet","slo_ms":100,"rate_rps":-3})", StatusCode::kInvalidArgument, "rate_rps"},
      {R"({"name":"c m","family":"resnet","slo_ms":100,"rate_rps":3})", StatusCode::kInvalidArgument, "invalid"},
      {R"({"name":"cam","family":"resnet","slo_ms":100,"rate_rps":3,"gpu":true})", StatusCode::kInvalidArgument, "unknown key 'gpu'"},
      // The tenant's own TorchScript models (parsed here; loaded and measured by the daemon).
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","torchscript":"m/s.pt","accuracy":70,"input_shape":[1,3,32,32]}]})", StatusCode::kOk, ""},
      {R"({"name":"own","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","torchscript":"m/s.pt","accuracy":70,"input_shape":[1,3,32,32]}]})", StatusCode::kInvalidArgument, "'family' is required with 'models'"},
      {R"({"name":"own","family":"resnet","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","torchscript":"m/s.pt","accuracy":70,"input_shape":[1,3,32,32]}]})", StatusCode::kInvalidArgument, "built-in zoo family"},
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","torchscript":"m/s.pt","accuracy":70}]})", StatusCode::kInvalidArgument, "'input_shape'"},
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","torchscript":"m/s.pt","accuracy":170,"input_shape":[1,3]}]})", StatusCode::kInvalidArgument, "accuracy = 170"},
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","torchscript":"m/s.pt","accuracy":70,"input_shape":[2,3]}]})", StatusCode::kInvalidArgument, "batch size 1"},
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","torchscript":"m/s.pt","accuracy":70,"input_shape":[1,3],"split":"maybe"}]})", StatusCode::kInvalidArgument, "split = 'maybe'"},
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[{"name":"door_s","file":"m/s.pt","accuracy":70,"input_shape":[1,3]}]})", StatusCode::kInvalidArgument, "unknown key 'file'"},
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[]})", StatusCode::kInvalidArgument, "non-empty array"},
      {R"({"name":"own","family":"doorcam","slo_ms":100,"rate_rps":3,"models":[{"name":"a","torchscript":"a.pt","accuracy":1,"input_shape":[1]},{"name":"a","torchscript":"b.pt","accuracy":2,"input_shape":[1]}]})", StatusCode::kInvalidArgument, "declared twice"},
  };
  for (const Case& c : cases) {
    StatusOr<policy::TenantSpec> r = ParseTenantRequest(c.body);
    EXPECT_EQ(r.status().code(), c.code) << c.body << " -> " << r.status().message();
    if (!c.want.empty()) {
      EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().message();
    }
    if (r.ok()) {
      EXPECT_TRUE(policy::ValidateTenant(*r).ok());
    } else {
      EXPECT_GE(HttpStatusFor(r.status()), 400);
      EXPECT_LT(HttpStatusFor(r.status()), 500);
    }
  }
}

// Property: whatever the body (random bytes, or a valid body mutated byte by byte), parsing
// returns (never throws or crashes), and an accepted request is always a valid tenant.
TEST(ApiTest, FuzzedBodiesNeverCrashAndAlwaysGiveAStatus) {
  std::mt19937_64 rng(12345);
  const std::vector<std::string> seeds = {
      R"({"name":"cam","family":"resnet","slo_ms":100,"rate_rps":10})",
      R"({"name":"t1","variants":["bert_tiny","bert_mini"],"slo_ms":50,"concurrency":2,"min_throughput_rps":1})",
      R"({"name":"x","family":"mobilenet","slo_ms":1e308,"rate_rps":1e-300})",
  };
  const std::string alphabet = "{}[]\":,0123456789.eE-+ truefalsnul\\abcxyz_\x01\xff\xc3\xa9";
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string body;
    int kind = static_cast<int>(rng() % 3);
    if (kind == 0) {
      size_t n = rng() % 200;
      for (size_t k = 0; k < n; ++k) body.push_back(static_cast<char>(rng() % 256));
    } else {
      body = seeds[rng() % seeds.size()];
      int edits = 1 + static_cast<int>(rng() % 6);
      for (int e = 0; e < edits && !body.empty(); ++e) {
        size_t pos = rng() % body.size();
        switch (rng() % 3) {
          case 0: body[pos] = alphabet[rng() % alphabet.size()]; break;
          case 1: body.erase(pos, 1 + rng() % 4); break;
          default: body.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        }
      }
    }
    StatusOr<policy::TenantSpec> r = ParseTenantRequest(body);
    if (r.ok()) {
      ++accepted;
      ASSERT_TRUE(policy::ValidateTenant(*r).ok()) << body;
      ASSERT_GT(r->slo_p95.value(), 0) << body;
    } else {
      ++rejected;
      ASSERT_FALSE(r.status().message().empty()) << body;
      int code = HttpStatusFor(r.status());
      ASSERT_TRUE(code >= 400 && code < 500) << body;
      ASSERT_TRUE(nlohmann::json::accept(ErrorJson(r.status())));
    }
    (void)ParseSinceParam(body.substr(0, 30));
    (void)ParseTenantPath("/tenants/" + body.substr(0, 40));
    (void)CheckBearer(body, "tok");
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

TEST(ApiTest, BearerQueryAndPathChecks) {
  EXPECT_TRUE(CheckBearer("Bearer s3cret", "s3cret").ok());
  EXPECT_EQ(CheckBearer("", "s3cret").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(CheckBearer("Basic abc", "s3cret").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(CheckBearer("Bearer s3cre", "s3cret").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckBearer("Bearer s3cretX", "s3cret").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckBearer("Bearer anything", "").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(HttpStatusFor(Unauthenticated("x")), 401);
  EXPECT_EQ(HttpStatusFor(PermissionDenied("x")), 403);
  EXPECT_EQ(*ParseSinceParam(""), 0);
  EXPECT_EQ(*ParseSinceParam("42"), 42);
  EXPECT_FALSE(ParseSinceParam("-1").ok());
  EXPECT_FALSE(ParseSinceParam("1e3").ok());
  EXPECT_FALSE(ParseSinceParam("99999999999999999999").ok());
  EXPECT_EQ(*ParseLimitParam(""), 100);
  EXPECT_FALSE(ParseLimitParam("0").ok());
  EXPECT_FALSE(ParseLimitParam("1001").ok());
  EXPECT_EQ(*ParseTenantPath("/tenants/cam-1"), "cam-1");
  EXPECT_EQ(*ParseTenantPath("/tenants/a%2Eb"), "a.b");
  EXPECT_FALSE(ParseTenantPath("/tenants/a%2").ok());
  EXPECT_FALSE(ParseTenantPath("/tenants/a%2Fb").ok());
  EXPECT_FALSE(ParseTenantPath("/tenants/").ok());
}

TEST(ApiTest, RateLimiterAllowsBurstThenRefuses) {
  RateLimiter r(1, 3);
  EXPECT_TRUE(r.Allow());
  EXPECT_TRUE(r.Allow());
  EXPECT_TRUE(r.Allow());
  EXPECT_FALSE(r.Allow());
}

// Every sample line is NAME{LABELS} VALUE with valid names, and every family has HELP and TYPE.
void ExpectPrometheusText(const std::string& text) {
  std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? [-+0-9.eEInfNa]+$)");
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "bad line: " << line;
    EXPECT_TRUE(typed.count(m[1].str())) << "no # TYPE before " << line;
    ++samples;
  }
  EXPECT_GT(samples, 10);
}

TEST(ApiTest, MetricsAreValidPrometheusTextAndEscapeLabels) {
  StatusSnapshot s;
  s.carbon_ok = true;
  s.intensity_g_per_kwh = 123.5;
  s.carbon_source = "electricitymaps:ES/last-known";
  s.carbon_fallback = true;
  s.power_w = 9.5;
  s.power_source = "modelled";
  s.power_fallback = true;
  s.threshold_w = 12;
  s.mode = 1;
  s.mode_name = "1CORE";
  TenantState t;
  t.name = "we\"ird\\name";
  t.measured = true;
  t.p50_ms = 10;
  t.p95_ms = 20;
  t.slo_ms = 100;
  t.completed_total = 7;
  s.tenants.push_back(t);
  std::string text = RenderMetrics(s);
  ExpectPrometheusText(text);
  EXPECT_NE(text.find("ecomap_carbon_intensity_grams_per_kwh{source=\"electricitymaps:ES/last-known\"} 123.5"), std::string::npos);
  EXPECT_NE(text.find("ecomap_power_watts{source=\"modelled\"} 9.5"), std::string::npos);
  EXPECT_NE(text.find("ecomap_power_fallback 1"), std::string::npos);
  EXPECT_NE(text.find("ecomap_tenant_latency_seconds{tenant=\"we\\\"ird\\\\name\",quantile=\"0.95\"} 0.02"), std::string::npos);
  EXPECT_NE(text.find("ecomap_requests_completed_total{tenant=\"we\\\"ird\\\\name\"} 7"), std::string::npos);
}

// ------------------------------------------------------------------------------------------
// The daemon end to end, with a small real executor and a test controller.

// Runs each block as a CPU loop proportional to its FLOPs (about 1 ms per GFLOP here): real
// work on the engine's threads, zoo descriptors for the controller and validation.
class SpinStage final : public engine::StageExecutor {
 public:
  SpinStage(int begin, int end, int64_t iters) : begin_(begin), end_(end), iters_(iters) {}
  Status Run(engine::Activation& io) override {
    uint64_t x = std::any_cast<uint64_t>(io);
    for (int64_t i = 0; i < iters_; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    io = x + static_cast<uint64_t>(end_ - begin_);
    return Status::Ok();
  }
  StatusOr<engine::Activation> MakeInput() override { return engine::Activation(uint64_t{1}); }

 private:
  int begin_, end_;
  int64_t iters_;
};

class SpinFactory final : public engine::ExecutorFactory {
 public:
  const zoo::ModelInfo* FindModel(const std::string& name) const override { return zoo::FindModel(name); }
  StatusOr<std::unique_ptr<engine::StageExecutor>> CreateStage(const std::string& model, int begin, int end,
                                                               uint64_t) override {
    const zoo::ModelInfo* m = zoo::FindModel(model);
    if (!m) return NotFound(model);
    double flops = 0;
    for (int b = begin; b < end; ++b) flops += m->blocks[b].flops;
    return std::unique_ptr<engine::StageExecutor>(
        new SpinStage(begin, end, static_cast<int64_t>(std::min(flops / 1e9, 20.0) * 300000)));
  }
  // Client inputs: the model's input (FP32 or INT64 of its input shape) hashed into the state;
  // the output is one-hot FP32 [1,1000] logits at class (state % 1000), so tests can check that
  // an answer is computed from its own input.
  StatusOr<engine::Activation> FromTensor(const std::string& model, const engine::HostTensor& t) override {
    const zoo::ModelInfo* m = zoo::FindModel(model);
    if (!m) return NotFound(model);
    if (t.shape != m->input_shape) return InvalidArgument("input of " + model + " has the wrong shape");
    ECOMAP_RETURN_IF_ERROR(t.Validate());
    uint64_t h = 1469598103934665603ULL;
    for (char c : t.data) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
    return engine::Activation(h);
  }
  StatusOr<engine::HostTensor> ToTensor(const std::string&, const engine::Activation& a,
                                        const std::string& name) override {
    std::vector<float> logits(1000, 0.f);
    logits[std::any_cast<uint64_t>(a) % 1000] = 5.f;
    return engine::HostTensor::FromValues<float>(name, engine::DataType::kFp32, {1, 1000}, logits);
  }
};

// Each tenant's cheapest variant whole on unit #(i mod n) in the default mode; the threshold
// follows the carbon intensity (so it moves with the signal). Re-plans on a tenant change.
class TestController final : public policy::Controller {
 public:
  // alternate_modes: the power mode alternates between the platform's first two modes every
  // step (a re-plan each time), as a carbon-following controller's would.
  explicit TestController(const platform::PlatformInfo* info, bool alternate_modes = false)
      : info_(info), alternate_modes_(alternate_modes) {}
  std::string name() const override { return "test"; }
  StatusOr<policy::Decision> Step(const policy::ControlInput& in) override {
    policy::Decision d;
    d.config.power_mode = info_->default_mode;
    if (alternate_modes_ && info_->modes.size() >= 2) d.config.power_mode = info_->modes[steps % 2].id;
    std::vector<std::string> names;
    for (size_t i = 0; i < in.tenants.size(); ++i) {
      const policy::TenantSpec& t = in.tenants[i];
      std::string model = TenantVariants(t).front();
      const zoo::ModelInfo* m = zoo::FindModel(model);
      platform::TenantConfig tc;
      tc.name = t.name;
      tc.model = model;
      tc.stages = {{0, static_cast<int>(m->blocks.size()), info_->units[i % info_->units.size()].id}};
      tc.arrival = t.arrival;
      tc.rate_rps = t.rate_rps;
      tc.concurrency = t.concurrency;
      d.config.tenants.push_back(tc);
      d.variants.push_back(model);
      names.push_back(t.name);
    }
    d.threshold = Watts(30 - in.intensity.value() / 20);
    d.predicted.power = Watts(7);
    d.replanned = names != last_ || alternate_modes_;
    d.reason = d.replanned ? "tenants changed" : "no change";
    last_ = names;
    ++steps;
    if (in.measured) ++measured_steps;
    return d;
  }
  int steps = 0, measured_steps = 0;

 private:
  const platform::PlatformInfo* info_;
  bool alternate_modes_;
  std::vector<std::string> last_;
};

ControllerFactory TestControllers() {
  return [](const std::string& name, const policy::ControllerContext& ctx)
             -> StatusOr<std::unique_ptr<policy::Controller>> {
    if (name != "test" && name != "test-modes") return NotFound("controller '" + name + "' (tests know: test, test-modes)");
    return std::unique_ptr<policy::Controller>(new TestController(ctx.platform, name == "test-modes"));
  };
}

std::string DaemonConfigText(const std::string& data_dir, const std::string& carbon) {
  return "[serve]\nplatform = \"host\"\ninterval_s = 0.4\ndata_dir = \"" + data_dir +
         "\"\ndrain_ms = 1000\n"
         "[serve.api]\nlisten = \"127.0.0.1:0\"\ntoken = \"s3cret\"\nmax_body_bytes = 4096\n"
         "mutating_rate_limit_rps = 1000\n" + carbon +
         "[serve.controller]\nname = \"test\"\n"
         "[[serve.tenants]]\nname = \"cam\"\nvariants = [\"mobilenet_v3_small\"]\nslo_ms = 500\nrate_rps = 20\n"
         "[[serve.tenants]]\nname = \"nlp\"\nvariants = [\"bert_tiny\"]\nslo_ms = 500\nconcurrency = 1\n";
}

const char* kTraceCarbon =
    "[serve.carbon]\nprovider = \"trace\"\ntrace = \"data/carbon/ES_2023_hourly.csv\"\nspeedup = 3600\n"
    "start = \"2023-03-01T00:00:00Z\"\n";

StatusOr<std::unique_ptr<Daemon>> MakeDaemon(const std::string& text, std::unique_ptr<platform::Platform> p = nullptr) {
  ECOMAP_ASSIGN_OR_RETURN(ServeConfig c, ParseServeConfig(text, "test.toml", ECOMAP_SOURCE_DIR, NoEnv()));
  DaemonDeps deps;
  deps.executors = std::make_shared<SpinFactory>();
  deps.make_controller = TestControllers();
  deps.platform = std::move(p);
  return Daemon::Create(std::move(c), std::move(deps));
}

nlohmann::json GetJson(httplib::Client& c, const std::string& path) {
  auto r = c.Get(path.c_str());
  if (!r) return nullptr;
  EXPECT_EQ(r->status, 200) << path << ": " << r->body;
  return nlohmann::json::parse(r->body, nullptr, false);
}

TEST(DaemonTest, KserveRestInferenceWithClientLoad) {
  std::string dir = TempDir("daemon-v2");
  std::string text = DaemonConfigText(dir, kTraceCarbon);
  text.replace(text.find("drain_ms = 1000\n"), 16, "drain_ms = 1000\nload = \"clients\"\n");
  auto d = MakeDaemon(text);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE((*d)->Start().ok());
  ASSERT_TRUE((*d)->WaitForIntervals(1, std::chrono::seconds(20)));
  httplib::Client c("127.0.0.1", (*d)->port());
  c.set_read_timeout(30, 0);
  nlohmann::json server = GetJson(c, "/v2");
  EXPECT_EQ(server["name"], "ecomap");
  EXPECT_EQ(c.Get("/v2/health/live")->status, 200);
  EXPECT_EQ(c.Get("/v2/health/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/cam/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/zzz/ready")->status, 404);
  nlohmann::json meta = GetJson(c, "/v2/models/cam");
  EXPECT_EQ(meta["platform"], "libtorch");
  EXPECT_EQ(meta["inputs"][0]["shape"], nlohmann::json({1, 3, 224, 224}));
  EXPECT_EQ(meta["inputs"][0]["datatype"], "FP32");
  EXPECT_EQ(meta["versions"], nlohmann::json({"mobilenet_v3_small"}));
  EXPECT_EQ(GetJson(c, "/v2/models/nlp")["inputs"][0]["datatype"], "INT64");

  // Binary in, binary out, top-2; no token needed.
  InferRequest req;
  req.model = "cam";
  req.top_k = 2;
  req.inputs.push_back(engine::HostTensor::Zeros("input", engine::DataType::kFp32, {1, 3, 224, 224}));
  int ok = 0;
  std::vector<int64_t> top;
  for (bool binary : {true, false}) {
    kserve::HttpBody b = kserve::EncodeInferRequest(req, binary, binary);
    httplib::Headers hd;
    if (b.json_length) hd.emplace(kserve::kHeaderLength, std::to_string(*b.json_length));
    auto r = c.Post("/v2/models/cam/infer", hd, b.body, b.content_type.c_str());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body.substr(0, 300);
    std::string hl = r->get_header_value(kserve::kHeaderLength);
    EXPECT_EQ(hl.empty(), !binary);
    std::optional<size_t> len;
    if (!hl.empty()) len = std::stoul(hl);
    auto resp = kserve::ParseInferResponse(r->body, len);
    ASSERT_TRUE(resp.ok()) << resp.status().message();
    EXPECT_EQ(resp->version, "mobilenet_v3_small");
    ASSERT_EQ(resp->outputs.size(), 3u);
    EXPECT_EQ(resp->outputs[0].shape, (std::vector<int64_t>{1, 1000}));
    EXPECT_EQ(resp->outputs[1].name, "topk_classes");
    top.push_back(resp->outputs[1].Span<int64_t>()[0]);
    EXPECT_GT(resp->latency_ms, 0);
    ++ok;
  }
  // The answer is computed from the request's own input: the same input gives the same class
  // in both encodings, another input another class.
  EXPECT_EQ(top[0], top[1]);
  {
    InferRequest other = req;
    other.inputs[0].data[0] = 7;
    kserve::HttpBody b = kserve::EncodeInferRequest(other, false, false);
    auto r = c.Post("/v2/models/cam/infer", b.body, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    auto resp = kserve::ParseInferResponse(r->body, std::nullopt);
    ASSERT_TRUE(resp.ok());
    EXPECT_NE(resp->outputs[1].Span<int64_t>()[0], top[0]);
    ++ok;
  }
  // Errors: {"error"} with the protocol's codes.
  auto bad = c.Post("/v2/models/cam/infer", "{\"inputs\": 3}", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("\"error\""), std::string::npos);
  kserve::HttpBody body = kserve::EncodeInferRequest(req, false, false);
  EXPECT_EQ(c.Post("/v2/models/zzz/infer", body.body, "application/json")->status, 404);
  req.inputs[0].shape = {1, 3, 8, 8};
  req.inputs[0].data.resize(3 * 8 * 8 * 4);
  EXPECT_EQ(c.Post("/v2/models/cam/infer", kserve::EncodeInferRequest(req, false, false).body, "application/json")->status,
            400);
  // The operator API still needs its token.
  EXPECT_EQ(c.Post("/replan", "", "application/json")->status, 401);

  // loadgen's REST client against the daemon: every request answered.
  auto transport = MakeRestTransport("127.0.0.1", (*d)->port(), true);
  LoadgenOptions lo;
  lo.models = {*ParseModelLoad("cam:rate=30"), *ParseModelLoad("nlp:closed=2")};
  lo.duration_s = 1.5;
  auto rep = RunLoad(*transport, lo);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  uint64_t loadgen_ok = 0;
  for (const ModelStats& m : rep->models) {
    EXPECT_GT(m.ok, 0u) << m.model << " " << m.first_error;
    EXPECT_EQ(m.errors, 0u) << m.model << " " << m.first_error;
    EXPECT_EQ(m.ok + m.refused, m.sent) << m.model;
    EXPECT_GT(m.p50_ms, 0) << m.model;
    loadgen_ok += m.ok;
  }
  (*d)->Stop();
  // No generator ran: the engine completed exactly the clients' requests.
  uint64_t completed = 0;
  for (const auto& [name, n] : (*d)->CompletedByTenant()) completed += n;
  EXPECT_EQ(completed, static_cast<uint64_t>(ok) + loadgen_ok);
}

// Issue 21: the controller plans from the demand that arrives; tenants added through the API,
// the learned demand and the per-tenant counters survive a restart; the same daemon answers
// the Open Inference Protocol over gRPC.
TEST(DaemonTest, ReplanBenchMeasuresQuietAgainstReplanningOnOneConfiguration) {
  std::string dir = TempDir("daemon-replan-bench");
  std::string text = DaemonConfigText(dir, kTraceCarbon);
  text.replace(text.find("interval_s = 0.4"), 16, "interval_s = 3600");  // no boundary decision during it
  text.replace(text.find("drain_ms = 1000\n"), 16, "drain_ms = 1000\nload = \"clients\"\n");
  auto d = MakeDaemon(text);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE((*d)->Start().ok());
  const StatusSnapshot before = (*d)->Snapshot();

  ReplanBenchOptions o;
  o.seconds = 0.6;
  o.warmup_s = 0;
  o.pairs = 2;
  std::vector<std::string> lines;
  o.progress = [&lines](const std::string& l) { lines.push_back(l); };
  StatusOr<ReplanBenchResult> r = RunReplanBench(**d, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(lines.size(), 4u);  // a line per phase
  ASSERT_EQ(r->quiet.size(), 2u);
  ASSERT_EQ(r->replanning.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(r->quiet[i].replanning);
    EXPECT_EQ(r->quiet[i].plans, 0);
    EXPECT_TRUE(r->replanning[i].replanning);
    EXPECT_GT(r->replanning[i].plans, 0) << r->replanning[i].plan_error;
    EXPECT_EQ(r->quiet[i].tenants.size(), 2u);
  }
  EXPECT_GT(r->plans, 1);
  EXPECT_GT(r->plan_ms_mean, 0);
  ASSERT_EQ(r->tenants.size(), 2u);
  for (const ReplanTenant& t : r->tenants) {
    ASSERT_EQ(t.ratios.size(), 2u) << t.name;  // both tenants served in every phase
    for (size_t i = 0; i < 2; ++i) EXPECT_DOUBLE_EQ(t.ratios[i], t.replanning_p95_ms[i] / t.quiet_p95_ms[i]);
    EXPECT_GT(t.ratio_median, 0);
    EXPECT_EQ(t.pass, t.ratio_median <= o.goal_ratio);
  }
  // Shadow plans apply nothing: the decisions in force are the ones before the bench.
  const StatusSnapshot after = (*d)->Snapshot();
  EXPECT_EQ(after.decisions_total, before.decisions_total);
  EXPECT_EQ(after.mode, before.mode);
  const nlohmann::json j = ToJson(*r);
  for (const char* k : {"configuration", "options", "plans", "plan_ms_mean", "tenants", "goal_ratio", "pass"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["tenants"][0]["pairs"].size(), 2u);
  EXPECT_NE(FormatReplanBench(*r).find("median ratio"), std::string::npos);

  o.pairs = 0;
  EXPECT_EQ(RunReplanBench(**d, o).status().code(), StatusCode::kInvalidArgument);
  (*d)->Stop();
  fs::remove_all(dir);
}

TEST(DaemonTest, ObservedDemandApiTenantsAndCountersSurviveARestart) {
  std::string dir = TempDir("daemon-restart");
  std::string text = DaemonConfigText(dir, kTraceCarbon);
  text.replace(text.find("drain_ms = 1000\n"), 16, "drain_ms = 1000\nload = \"clients\"\n");
#ifdef ECOMAP_HAVE_GRPC
  text.replace(text.find("[serve.controller]"), 18, "[serve.grpc]\nlisten = \"127.0.0.1:0\"\n[serve.controller]");
#endif
  int64_t cam_completed = 0;
  {
    auto d = MakeDaemon(text);
    ASSERT_TRUE(d.ok()) << d.status().message();
    ASSERT_TRUE((*d)->Start().ok());
    StatusOr<policy::TenantSpec> extra =
        ParseTenantRequest(R"({"name":"extra","variants":["mobilenet_v3_small"],"slo_ms":500,"rate_rps":7})");
    ASSERT_TRUE(extra.ok());
    ASSERT_TRUE((*d)->AddTenant(*extra).ok());
    StatusOr<policy::TenantSpec> gone =
        ParseTenantRequest(R"({"name":"gone","variants":["bert_tiny"],"slo_ms":500,"concurrency":1})");
    ASSERT_TRUE((*d)->AddTenant(*gone).ok());
    ASSERT_TRUE((*d)->RemoveTenant("gone").ok());
    // 2 s of 40 req/s on cam (declared 20): the plan follows what arrives.
    auto transport = MakeRestTransport("127.0.0.1", (*d)->port(), /*binary=*/true);
    LoadgenOptions lo;
    lo.models = {*ParseModelLoad("cam:rate=40")};
    lo.duration_s = 2;
    StatusOr<LoadgenReport> load = RunLoad(*transport, lo);
    ASSERT_TRUE(load.ok()) << load.status().message();
    ASSERT_GT(load->models[0].ok, 20u);
    ASSERT_TRUE((*d)->WaitForIntervals((*d)->intervals_this_run() + 2, std::chrono::seconds(20)));
#ifdef ECOMAP_HAVE_GRPC
    ASSERT_GT((*d)->grpc_port(), 0);
    GrpcInferenceClient grpc("127.0.0.1:" + std::to_string((*d)->grpc_port()));
    StatusOr<bool> live = grpc.Live();
    ASSERT_TRUE(live.ok()) << live.status().message();
    EXPECT_TRUE(*live);
    StatusOr<ModelMetadata> meta = grpc.ModelMetadataOf("extra");
    ASSERT_TRUE(meta.ok()) << meta.status().message();
    EXPECT_EQ(meta->versions, std::vector<std::string>{"mobilenet_v3_small"});
#endif
    StatusSnapshot s = (*d)->Snapshot();
    bool saw_cam = false;
    for (const TenantState& t : s.tenants) {
      if (t.name != "cam") continue;
      saw_cam = true;
      EXPECT_NE(t.demand_source.find("observed"), std::string::npos) << t.demand_source;
      EXPECT_NE(t.planned_rate_rps, 20.0);  // no longer the declared rate
      cam_completed = t.completed_total;
    }
    ASSERT_TRUE(saw_cam);
    EXPECT_GT(cam_completed, 0);
    (*d)->Stop();
  }
  auto d = MakeDaemon(text);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE((*d)->Start().ok());
  std::set<std::string> names;
  for (const auto& t : (*d)->Tenants()) names.insert(t["name"].get<std::string>());
  EXPECT_TRUE(names.count("extra")) << (*d)->Tenants().dump();  // added through the API: restored
  EXPECT_FALSE(names.count("gone"));                            // removed: stays removed
  StatusSnapshot s = (*d)->Snapshot();
  for (const TenantState& t : s.tenants) {
    if (t.name != "cam") continue;
    EXPECT_GE(t.completed_total, cam_completed);  // the counter continues
    EXPECT_NE(t.demand_source.find("observed"), std::string::npos) << "the learned demand was restored";
  }
  (*d)->Stop();
  std::filesystem::remove_all(dir);
}

TEST(DaemonTest, ApiServesStatusMetricsTenantsAndRejectsBadInput) {
  std::string dir = TempDir("daemon");
  int64_t first_run_intervals = 0;
  {
    auto d = MakeDaemon(DaemonConfigText(dir, kTraceCarbon));
    ASSERT_TRUE(d.ok()) << d.status().message();
    ASSERT_TRUE((*d)->Start().ok());
    ASSERT_GT((*d)->port(), 0);
    ASSERT_TRUE((*d)->WaitForIntervals(2, std::chrono::seconds(20)));
    httplib::Client c("127.0.0.1", (*d)->port());
    c.set_read_timeout(30, 0);

    nlohmann::json st = GetJson(c, "/status");
    ASSERT_TRUE(st.is_object());
    EXPECT_EQ(st["platform"], "host");
    EXPECT_EQ(st["controller"], "test");
    EXPECT_GE(st["interval"].get<int>(), 2);
    EXPECT_TRUE(st["carbon"]["ok"].get<bool>());
    EXPECT_EQ(st["carbon"]["source"], "trace:ES_2023_hourly.csv");
    EXPECT_FALSE(st["carbon"]["fallback"].get<bool>());
    ASSERT_EQ(st["tenants"].size(), 2u);
    EXPECT_EQ(st["tenants"][0]["name"], "cam");
    EXPECT_TRUE(st["tenants"][0]["measured"].get<bool>());
    EXPECT_GT(st["tenants"][0]["completed_total"].get<int>(), 0);
    EXPECT_GT(st["tenants"][1]["completed_total"].get<int>(), 0);
    EXPECT_GT(st["totals"]["energy_j"].get<double>(), 0);
    EXPECT_GT(st["threshold_w"].get<double>(), 0);

    auto m = c.Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 200);
    ExpectPrometheusText(m->body);
    EXPECT_NE(m->body.find("ecomap_tenant_latency_seconds{tenant=\"cam\",quantile=\"0.95\"}"), std::string::npos);
    EXPECT_NE(m->body.find("ecomap_carbon_intensity_grams_per_kwh{source=\"trace:ES_2023_hourly.csv\"}"), std::string::npos);

    httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
    const std::string good = R"({"name":"extra","variants":["resnet18"],"slo_ms":800,"rate_rps":5})";
    struct Bad {
      std::string body;
      httplib::Headers headers;
      int status;
    } bad[] = {
        {good, {}, 401},
        {good, {{"Authorization", "Bearer nope"}}, 403},
        {"{not json", auth, 400},
        {R"({"name":"x","variants":["resnet9000"],"slo_ms":100,"rate_rps":1})", auth, 404},
        {R"({"name":"x","family":"resnet","slo_ms":-100,"rate_rps":1})", auth, 400},
        {std::string(10000, ' '), auth, 413},
        {R"({"name":"cam","family":"resnet","slo_ms":100,"rate_rps":1})", auth, 409},
    };
    for (const Bad& b : bad) {
      auto r = c.Post("/tenants", b.headers, b.body, "application/json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, b.status) << b.body.substr(0, 80) << " -> " << r->body;
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.contains("error")) << r->body;
    }
    // Still serving.
    ASSERT_TRUE(GetJson(c, "/status").is_object());
    auto r404 = c.Get("/nope");
    ASSERT_TRUE(r404);
    EXPECT_EQ(r404->status, 404);
    auto rs = c.Get("/decisions?since=abc");
    ASSERT_TRUE(rs);
    EXPECT_EQ(rs->status, 400);

    // Add, see it run, remove.
    auto add = c.Post("/tenants", auth, good, "application/json");
    ASSERT_TRUE(add);
    ASSERT_EQ(add->status, 201) << add->body;
    auto added = nlohmann::json::parse(add->body);
    EXPECT_EQ(added["decision"]["trigger"], "api");
    EXPECT_TRUE(added["decision"]["applied"].get<bool>());
    int64_t before = (*d)->intervals_this_run();
    ASSERT_TRUE((*d)->WaitForIntervals(before + 2, std::chrono::seconds(20)));
    nlohmann::json tenants = GetJson(c, "/tenants");
    ASSERT_EQ(tenants.size(), 3u);
    EXPECT_EQ(tenants[2]["name"], "extra");
    EXPECT_EQ(tenants[2]["model"], "resnet18");
    EXPECT_TRUE(tenants[2]["measured"].get<bool>());
    EXPECT_GT((*d)->CompletedByTenant()["extra"], 0u);
    auto del = c.Delete("/tenants/extra", auth);
    ASSERT_TRUE(del);
    EXPECT_EQ(del->status, 200) << del->body;
    auto del2 = c.Delete("/tenants/extra", auth);
    ASSERT_TRUE(del2);
    EXPECT_EQ(del2->status, 404);
    EXPECT_EQ(GetJson(c, "/tenants").size(), 2u);
    auto rp = c.Post("/replan", auth, "", "application/json");
    ASSERT_TRUE(rp);
    EXPECT_EQ(rp->status, 200) << rp->body;

    nlohmann::json decisions = GetJson(c, "/decisions?since=0&limit=1000");
    std::set<std::string> triggers;
    for (const auto& x : decisions["decisions"]) triggers.insert(x["trigger"].get<std::string>());
    EXPECT_TRUE(triggers.count("start") && triggers.count("interval") && triggers.count("api") && triggers.count("replan"));
    int64_t last = decisions["next_since"].get<int64_t>();
    // Polling from next_since returns only what came after: nothing already seen. The loop keeps
    // running, so an interval boundary between the two GETs may add a newer decision.
    const nlohmann::json newer = GetJson(c, "/decisions?since=" + std::to_string(last));
    for (const auto& x : newer["decisions"]) {
      EXPECT_GT(x["id"].get<int64_t>(), last);
      EXPECT_EQ(x["trigger"], "interval");
    }
    (*d)->Stop();
    first_run_intervals = (*d)->history()->resume().next_interval;
    EXPECT_GE(first_run_intervals, 4);
  }
  // Restart: the history continues.
  {
    auto d = MakeDaemon(DaemonConfigText(dir, kTraceCarbon));
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE((*d)->Start().ok());
    EXPECT_EQ((*d)->history()->resume().runs, 1);
    ASSERT_TRUE((*d)->WaitForIntervals(1, std::chrono::seconds(20)));
    StatusSnapshot s = (*d)->Snapshot();
    EXPECT_GT(s.interval, first_run_intervals);
    auto decisions = (*d)->Decisions(0, 1000);
    ASSERT_TRUE(decisions.ok());
    std::set<std::string> triggers;
    for (const auto& x : (*decisions)["decisions"]) triggers.insert(x["trigger"].get<std::string>());
    EXPECT_TRUE(triggers.count("api")) << "the first run's API decisions are in the history";
    (*d)->Stop();
  }
  fs::remove_all(dir);
}

TEST(DaemonTest, CarbonProviderOutageFallsBackAndSaysSo) {
  carbon::testing::RecordedServer server;
  TimePoint hour = std::chrono::floor<std::chrono::hours>(SystemClock::Instance().Now());
  nlohmann::json latest = {{"zone", "ES"},
                           {"carbonIntensity", 321},
                           {"datetime", FormatIso8601(hour)},
                           {"updatedAt", FormatIso8601(hour)},
                           {"emissionFactorType", "lifecycle"},
                           {"isEstimated", false}};
  server.Script("/v3/carbon-intensity/latest", {{200, latest.dump()}});
  server.Script("/v3/carbon-intensity/forecast", {{404, R"({"error":"no forecast"})"}});
  std::string carbon =
      std::string("[serve.carbon]\nprovider = \"electricitymaps\"\ntrace = \"data/carbon/ES_2023_hourly.csv\"\n") +
      "[carbon.live]\nmax_attempts = 1\ntimeout_ms = 1000\ncache_latest_ttl_s = 0.001\nlive_cooldown_s = 0.001\n"
      "[carbon.electricitymaps]\ntoken = \"t\"\nzone = \"ES\"\nbase_url = \"" + server.base_url() + "\"\n";
  std::string dir = TempDir("carbon");
  auto d = MakeDaemon(DaemonConfigText(dir, carbon));
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE((*d)->Start().ok());
  ASSERT_TRUE((*d)->WaitForIntervals(1, std::chrono::seconds(20)));
  StatusSnapshot s = (*d)->Snapshot();
  EXPECT_EQ(s.carbon_source, "electricitymaps:ES");
  EXPECT_DOUBLE_EQ(s.intensity_g_per_kwh, 321);
  EXPECT_FALSE(s.carbon_fallback);

  server.Script("/v3/carbon-intensity/latest", {{500, R"({"error":"down"})"}});
  int64_t n = (*d)->intervals_this_run();
  ASSERT_TRUE((*d)->WaitForIntervals(n + 3, std::chrono::seconds(20)));
  s = (*d)->Snapshot();
  EXPECT_TRUE(s.carbon_fallback) << s.carbon_source;
  EXPECT_TRUE(s.carbon_stale);
  EXPECT_NE(s.carbon_source, "electricitymaps:ES");
  EXPECT_FALSE(s.carbon_note.empty());
  std::string metrics = (*d)->MetricsBody();
  EXPECT_NE(metrics.find("ecomap_carbon_fallback 1"), std::string::npos);
  EXPECT_NE(metrics.find("ecomap_carbon_reading_stale 1"), std::string::npos);
  // Decisions keep coming on the fallback reading.
  auto dec = (*d)->Decisions(0, 1000);
  ASSERT_TRUE(dec.ok());
  EXPECT_GE((*dec)["decisions"].size(), static_cast<size_t>(n + 3));
  nlohmann::json st = nlohmann::json::parse((*d)->StatusBody());
  EXPECT_TRUE(st["carbon"]["fallback"].get<bool>());
  (*d)->Stop();
  auto rows = (*d)->history()->RecentIntervals(100);
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  EXPECT_NE(rows->back().carbon_source, "electricitymaps:ES");
  EXPECT_TRUE(rows->back().carbon_stale);
  fs::remove_all(dir);
}

TEST(DaemonTest, PowerReadingFailureFallsBackToTheModelLabelled) {
  std::string dir = TempDir("power");
  auto host = platform::MakePlatform("host");
  ASSERT_TRUE(host.ok()) << host.status().message();
  platform::FaultyPlatform::Faults f;
  f.read_power_every = 1;  // every reading fails
  auto faulty = std::make_unique<platform::FaultyPlatform>(std::move(host).value(), f);
  auto d = MakeDaemon(DaemonConfigText(dir, kTraceCarbon), std::move(faulty));
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE((*d)->Start().ok());
  ASSERT_TRUE((*d)->WaitForIntervals(2, std::chrono::seconds(20)));
  StatusSnapshot s = (*d)->Snapshot();
  EXPECT_TRUE(s.power_fallback);
  EXPECT_EQ(s.power_source, "modelled");
  EXPECT_NE(s.power_note.find("host power model"), std::string::npos) << s.power_note;
  EXPECT_GT(s.power_w, 0);
  std::string metrics = (*d)->MetricsBody();
  EXPECT_NE(metrics.find("ecomap_power_fallback 1"), std::string::npos);
  EXPECT_NE(metrics.find("ecomap_power_watts{source=\"modelled\"}"), std::string::npos);
  (*d)->Stop();
  auto rows = (*d)->history()->RecentIntervals(10);
  ASSERT_TRUE(rows.ok());
  for (const auto& r : *rows) {
    EXPECT_TRUE(r.power_fallback);
    EXPECT_EQ(r.power_source, "modelled");
  }
  fs::remove_all(dir);
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

// power_knob = "cpu-share" on host: a decision's mode takes effect live on the daemon's own CPU
// share (here the affinity mechanism: the test process is not in a delegated cgroup), the
// interval line and /status say what is in force, and the share is given back at the end.
TEST(DaemonTest, CpuShareKnobAppliesEachDecisionsModeToTheDaemonItself) {
  const std::vector<int> before = AllowedCpus();
  auto host = platform::MakePlatform("host");
  ASSERT_TRUE(host.ok()) << host.status().message();
  const platform::PlatformInfo info = (*host)->info();
  if (info.modes.size() < 2 || before.size() < 2) GTEST_SKIP() << "needs a host with 2 CPUs (2 modes)";
  std::string dir = TempDir("knob");
  std::string text = DaemonConfigText(dir, kTraceCarbon);
  text.replace(text.find("name = \"test\""), 13, "name = \"test-modes\"");
  text.replace(text.find("drain_ms"), 0, "power_knob = \"cpu-share\"\n");
  std::ostringstream terminal;
  StatusOr<ServeConfig> c = ParseServeConfig(text, "test.toml", ECOMAP_SOURCE_DIR, NoEnv());
  ASSERT_TRUE(c.ok()) << c.status().message();
  DaemonDeps deps;
  deps.executors = std::make_shared<SpinFactory>();
  deps.make_controller = TestControllers();
  deps.terminal = &terminal;
  auto d = Daemon::Create(std::move(c).value(), std::move(deps));
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE((*d)->Start().ok());
  // Sample the mode and the process's CPUs until both modes were seen in force.
  std::set<size_t> cpu_counts_in_mode[2];
  std::set<std::string> knobs;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         (cpu_counts_in_mode[0].empty() || cpu_counts_in_mode[1].empty())) {
    StatusSnapshot s = (*d)->Snapshot();
    const size_t n = AllowedCpus().size();  // the main thread's own affinity, narrowed with the rest
    StatusSnapshot again = (*d)->Snapshot();
    if (s.mode_applied && again.mode == s.mode && s.mode >= 0 && s.mode < 2 && s.decisions_total == again.decisions_total) {
      cpu_counts_in_mode[s.mode].insert(n);
      knobs.insert(s.mode_knob);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  (*d)->Stop();
  ASSERT_FALSE(cpu_counts_in_mode[0].empty());
  ASSERT_FALSE(cpu_counts_in_mode[1].empty());
  EXPECT_EQ(*cpu_counts_in_mode[1].begin(), static_cast<size_t>(info.modes[1].online_cpu_cores));
  EXPECT_EQ(*cpu_counts_in_mode[0].rbegin(), static_cast<size_t>(info.modes[0].online_cpu_cores));
  bool described = false;
  for (const std::string& k : knobs) described |= k.find("cpu share") != std::string::npos;
  EXPECT_TRUE(described);
  EXPECT_NE(terminal.str().find("[cpu share"), std::string::npos) << terminal.str();
  d->reset();
  EXPECT_EQ(AllowedCpus(), before);  // the share given back
  fs::remove_all(dir);
}

TEST(DaemonTest, ReloadAppliesTenantChangesWithoutRestartingTheEngine) {
  std::string dir = TempDir("reload");
  auto d = MakeDaemon(DaemonConfigText(dir, kTraceCarbon));
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE((*d)->Start().ok());
  ASSERT_TRUE((*d)->WaitForIntervals(1, std::chrono::seconds(20)));
  uint64_t cam_before = (*d)->CompletedByTenant()["cam"];
  std::string text = DaemonConfigText(dir, kTraceCarbon);
  text = text.substr(0, text.find("[[serve.tenants]]\nname = \"nlp\"")) +
         "[[serve.tenants]]\nname = \"vis\"\nvariants = [\"resnet18\"]\nslo_ms = 900\nrate_rps = 3\n";
  auto c = ParseServeConfig(text, "test.toml", ECOMAP_SOURCE_DIR, NoEnv());
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto r = (*d)->Reload(*c);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "");
  auto tenants = (*d)->Tenants();
  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(tenants[1]["name"], "vis");
  ASSERT_TRUE((*d)->WaitForIntervals((*d)->intervals_this_run() + 1, std::chrono::seconds(20)));
  auto done = (*d)->CompletedByTenant();
  EXPECT_GE(done["cam"], cam_before) << "cam kept its cumulative count: the engine was not restarted";
  EXPECT_GT(done["vis"], 0u);
  (*d)->Stop();
  fs::remove_all(dir);
}

// ------------------------------------------------------------------------------------------
// The v2 endpoints alone over an engine (HttpServer + EngineBackend), and the protocol benchmark
// (`ecomap serve --bench-protocol`) with the spin executor.

TEST(EngineBackendTest, V2EndpointsOverAnEngine) {
  auto factory = std::make_shared<SpinFactory>();
  engine::Engine e(factory);
  engine::EngineSpec spec;
  auto t = engine::ParseTenantsSpec("mobilenet_v3_small@cpu0,name=cam,external=1,closed=2,slo=60000");
  ASSERT_TRUE(t.ok()) << t.status().message();
  spec.tenants = *t;
  ASSERT_TRUE(e.Start(spec).ok());
  EngineBackend backend(&e);
  ApiConfig api;
  HttpServer server(&backend, api);
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  httplib::Client c("127.0.0.1", server.port());
  auto ready = c.Get("/v2/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto status = c.Get("/status");  // the operator API belongs to the daemon only
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 404);
  auto meta = c.Get("/v2/models/nope");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->status, 404);
  auto transport = MakeRestTransport("127.0.0.1", server.port(), /*binary=*/true);
  auto md = transport->Metadata("cam");
  ASSERT_TRUE(md.ok()) << md.status().message();
  EXPECT_EQ(md->versions, std::vector<std::string>{"mobilenet_v3_small"});
  ASSERT_EQ(md->inputs.size(), 1u);
  InferRequest req;
  req.model = "cam";
  req.top_k = 3;
  req.inputs.push_back(engine::HostTensor::Zeros("input", engine::DataType::kFp32, md->inputs[0].shape));
  auto r = transport->Infer(req, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->version, "mobilenet_v3_small");
  ASSERT_EQ(r->outputs.size(), 3u);  // output, topk_classes, topk_scores
  EXPECT_EQ(r->outputs[0].name, "output");
  // The same request in process (the daemon's InferOnEngine) gives the same logits.
  auto direct = InferOnEngine(e, req, /*check_slo=*/true);
  ASSERT_TRUE(direct.ok()) << direct.status().message();
  EXPECT_EQ(direct->outputs[0].data, r->outputs[0].data);
  req.inputs.push_back(req.inputs[0]);
  EXPECT_EQ(InferOnEngine(e, req, true).status().code(), StatusCode::kInvalidArgument);
  // A chunked body (no Content-Length) is read whole, then split at the header's length.
  {
    InferRequest one;
    one.model = "cam";
    one.inputs.push_back(req.inputs[0]);
    kserve::HttpBody body = kserve::EncodeInferRequest(one, true, true);
    auto chunked = c.Post(
        "/v2/models/cam/infer", {{kserve::kHeaderLength, std::to_string(*body.json_length)}},
        [&body](size_t offset, httplib::DataSink& sink) {
          if (offset < body.body.size()) {
            sink.write(body.body.data() + offset, std::min<size_t>(100000, body.body.size() - offset));
          } else {
            sink.done();
          }
          return true;
        },
        body.content_type);
    ASSERT_TRUE(chunked);
    ASSERT_EQ(chunked->status, 200) << chunked->body.substr(0, 200);
    auto parsed = kserve::ParseInferResponse(
        chunked->body, std::stoul(chunked->get_header_value(kserve::kHeaderLength)));
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(parsed->outputs.at(0).data, direct->outputs[0].data);
  }
  // A body over max_infer_body_bytes is refused with 413 and a JSON error.
  ApiConfig small;
  small.max_infer_body_bytes = 100000;
  HttpServer limited(&backend, small);
  ASSERT_TRUE(limited.Start("127.0.0.1", 0).ok());
  kserve::HttpBody big = kserve::EncodeInferRequest(req, true, true);
  httplib::Client lc("127.0.0.1", limited.port());
  auto too_big = lc.Post("/v2/models/cam/infer", {{kserve::kHeaderLength, std::to_string(*big.json_length)}},
                         big.body, big.content_type);
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413) << too_big->body;
  EXPECT_NE(too_big->body.find("error"), std::string::npos) << too_big->body;
  // A wrong Inference-Header-Content-Length (past the body) is a 400; the server still serves.
  auto bad_len = lc.Post("/v2/models/cam/infer", {{kserve::kHeaderLength, "99999999"}}, "{}", "application/json");
  ASSERT_TRUE(bad_len);
  EXPECT_EQ(bad_len->status, 400) << bad_len->body;
  transport.reset();
  limited.Stop();
  server.Stop();
  e.Shutdown(Milliseconds(2000));
}

TEST(ProtocolBenchTest, BalancedStagesCoverEveryBlockOncePerUnit) {
  for (const char* name : {"resnet18", "mobilenet_v3_small", "bert_base"}) {
    const zoo::ModelInfo* m = zoo::FindModel(name);
    if (m == nullptr) continue;
    for (size_t n : {1u, 2u, 4u}) {
      std::vector<engine::UnitInfo> units;
      for (size_t i = 0; i < n; ++i) units.push_back({"cpu" + std::to_string(i), static_cast<int>(i)});
      auto st = BalancedStages(*m, units);
      ASSERT_EQ(st.size(), std::min(n, m->blocks.size())) << name;
      int at = 0;
      for (size_t i = 0; i < st.size(); ++i) {
        EXPECT_EQ(st[i].begin, at) << name;
        EXPECT_GT(st[i].end, st[i].begin) << name;
        EXPECT_EQ(st[i].unit, units[i].name);
        at = st[i].end;
      }
      EXPECT_EQ(at, static_cast<int>(m->blocks.size())) << name;
    }
  }
}

TEST(ProtocolBenchTest, BothSidesMeasuredSideBySide) {
  ProtocolBenchOptions o;
  o.saturation_model = "resnet18";
  o.latency_model = "mobilenet_v3_small";
  o.concurrency = 2;
  o.seconds = 0.4;
  o.warmup_s = 0.1;
  o.pairs = 2;
  std::vector<std::string> lines;
  o.progress = [&](const std::string& l) { lines.push_back(l); };
  auto r = RunProtocolBench(std::make_shared<SpinFactory>(), o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const ProtocolCase* c : {&r->saturation, &r->latency}) {
    ASSERT_EQ(c->in_process.size(), 2u);
    ASSERT_EQ(c->rest.size(), 2u);
    EXPECT_FALSE(c->pipeline.empty());
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_GT(c->in_process[i].ok, 0u) << c->model;
      EXPECT_GT(c->rest[i].ok, 0u) << c->model;
      EXPECT_EQ(c->in_process[i].errors + c->rest[i].errors, 0u) << c->rest[i].first_error;
      EXPECT_NEAR(c->throughput_ratios[i], c->rest[i].throughput_rps / c->in_process[i].throughput_rps, 1e-9);
    }
    EXPECT_GT(c->throughput_ratio, 0);
  }
  EXPECT_EQ(r->saturation.concurrency, 2);
  EXPECT_EQ(r->latency.concurrency, 1);
  EXPECT_EQ(lines.size(), 2u + 2 * 2 * 2);  // a header per case, a line per phase
  nlohmann::json j = ToJson(*r);
  EXPECT_EQ(j["throughput_ratio"].get<double>(), r->saturation.throughput_ratio);
  EXPECT_EQ(j["saturation"]["pairs"].size(), 2u);
  EXPECT_NE(FormatProtocolBench(*r).find("added p50 latency"), std::string::npos);
  EXPECT_EQ(RunProtocolBench(std::make_shared<SpinFactory>(), [] {
              ProtocolBenchOptions b;
              b.saturation_model = "no_such_model";
              return b;
            }()).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace ecomap::service
