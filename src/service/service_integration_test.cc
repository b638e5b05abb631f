// The must-show integration test of `ecomap serve`: the daemon with 2 real libtorch tenants
// (mobilenet_v3_small, bert_tiny) and the policy part's "ecomap" controller on the host
// platform: /status and /metrics over HTTP, a tenant added and removed through the API, SIGHUP
// (config reloaded, tenant changes applied without restarting the engine), SIGTERM (drain and
// stop), then a restart that finds the earlier history.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "engine/torch_executor.h"
#include "policy/controller.h"
#include "service/daemon.h"
#include "service/signals.h"

namespace ecomap::service {
namespace {

namespace fs = std::filesystem;

std::string Config(const std::string& data_dir, const std::string& second_tenant) {
  return "[serve]\nplatform = \"host\"\ninterval_s = 1\ndata_dir = \"" + data_dir +
         "\"\ndrain_ms = 2000\n"
         "[serve.api]\nlisten = \"127.0.0.1:0\"\ntoken = \"s3cret\"\n"
         "[serve.carbon]\nprovider = \"trace\"\ntrace = \"" + std::string(ECOMAP_SOURCE_DIR) +
         "/data/carbon/ES_2023_hourly.csv\"\nspeedup = 3600\nstart = \"2023-05-01T00:00:00Z\"\n"
         "[serve.controller]\nname = \"ecomap\"\nbudget_evals = 60\nprofile = \"" + std::string(ECOMAP_SOURCE_DIR) +
         "/data/profiles/host.jsonl\"\n"
         "[[serve.tenants]]\nname = \"cam\"\nvariants = [\"mobilenet_v3_small\"]\nslo_ms = 400\nrate_rps = 4\n" +
         second_tenant;
}

const char* kText = "[[serve.tenants]]\nname = \"text\"\nvariants = [\"bert_tiny\"]\nslo_ms = 400\nrate_rps = 4\n";
const char* kVision = "[[serve.tenants]]\nname = \"vis\"\nvariants = [\"resnet18\"]\nslo_ms = 900\nrate_rps = 2\n";

StatusOr<std::unique_ptr<Daemon>> Make(const std::string& path) {
  ECOMAP_ASSIGN_OR_RETURN(ServeConfig c, LoadServeConfig(path, carbon::ProcessEnvironment()));
  DaemonDeps deps;
  deps.executors = engine::MakeTorchExecutorFactory({.intra_op_threads = 1});
  deps.make_controller = [](const std::string& n, const policy::ControllerContext& ctx) {
    return policy::MakeController(n, ctx);
  };
  deps.terminal = &std::cout;
  return Daemon::Create(std::move(c), std::move(deps));
}

bool HasTenant(const nlohmann::json& tenants, const std::string& name) {
  for (const auto& t : tenants) {
    if (t["name"] == name) return true;
  }
  return false;
}

TEST(ServeIntegrationTest, TwoRealTenantsApiSignalsAndRestart) {
  BlockServeSignals();  // before any thread: the daemon's threads inherit the mask
  std::string dir = fs::temp_directory_path() / ("ecomap-serve-it-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = dir + "/serve.toml";
  std::ofstream(path) << Config(dir + "/data", kText);

  int64_t committed = 0;
  {
    auto d = Make(path);
    ASSERT_TRUE(d.ok()) << d.status().message();
    Status s = (*d)->Start();
    ASSERT_TRUE(s.ok()) << s.message();
    Daemon& daemon = **d;
    std::atomic<bool> helper_ok{false};
    std::string failure;
    std::thread helper([&] {
      auto fail = [&](const std::string& m) {
        failure = m;
        kill(getpid(), SIGTERM);
      };
      if (!daemon.WaitForIntervals(2, std::chrono::seconds(60))) return fail("no intervals");
      httplib::Client c("127.0.0.1", daemon.port());
      c.set_read_timeout(60, 0);
      auto st = c.Get("/status");
      if (!st || st->status != 200) return fail("GET /status failed");
      auto j = nlohmann::json::parse(st->body);
      if (j["tenants"].size() != 2) return fail("expected 2 tenants: " + st->body);
      for (const auto& t : j["tenants"]) {
        if (!t["measured"].get<bool>() || t["completed_total"].get<int>() <= 0) return fail("tenant did not run: " + st->body);
      }
      if (j["controller"] != "ecomap") return fail("controller: " + st->body);
      auto m = c.Get("/metrics");
      if (!m || m->body.find("ecomap_tenant_latency_seconds{tenant=\"text\",quantile=\"0.95\"}") == std::string::npos ||
          m->body.find("ecomap_power_watts{source=") == std::string::npos)
        return fail("metrics: " + (m ? m->body : std::string("none")));
      httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
      auto bad = c.Post("/tenants", auth, "{\"name\":", "application/json");
      if (!bad || bad->status != 400) return fail("malformed JSON not a 400");
      auto add = c.Post("/tenants", auth, R"({"name":"extra","variants":["resnet18"],"slo_ms":900,"rate_rps":2})",
                        "application/json");
      if (!add || add->status != 201) return fail("POST /tenants: " + (add ? add->body : std::string("none")));
      int64_t n = daemon.intervals_this_run();
      if (!daemon.WaitForIntervals(n + 2, std::chrono::seconds(60))) return fail("no intervals after add");
      if (daemon.CompletedByTenant()["extra"] == 0) return fail("the added tenant served nothing");
      auto del = c.Delete("/tenants/extra", auth);
      if (!del || del->status != 200) return fail("DELETE /tenants/extra");
      uint64_t cam_before = daemon.CompletedByTenant()["cam"];
      // SIGHUP with a changed file: "text" replaced by "vis".
      std::ofstream(path) << Config(dir + "/data", kVision);
      kill(getpid(), SIGHUP);
      for (int i = 0; i < 600 && !HasTenant(daemon.Tenants(), "vis"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!HasTenant(daemon.Tenants(), "vis") || HasTenant(daemon.Tenants(), "text")) return fail("SIGHUP not applied");
      n = daemon.intervals_this_run();
      if (!daemon.WaitForIntervals(n + 2, std::chrono::seconds(60))) return fail("no intervals after reload");
      auto done = daemon.CompletedByTenant();
      if (done["vis"] == 0) return fail("vis served nothing");
      if (done["cam"] < cam_before) return fail("cam's cumulative count went back: the engine restarted");
      auto after = c.Get("/status");
      if (!after || after->status != 200) return fail("not serving after reload");
      helper_ok = true;
      kill(getpid(), SIGTERM);
    });
    SignalLoopResult r = RunUntilSignal(daemon, [&] { return LoadServeConfig(path, carbon::ProcessEnvironment()); },
                                        std::chrono::seconds(170), &std::cerr);
    helper.join();
    EXPECT_TRUE(helper_ok) << failure;
    EXPECT_EQ(r.exit, ServeExit::kSignal);
    EXPECT_EQ(r.signal, SIGTERM);
    EXPECT_GE(r.reloads, 1);
    daemon.Stop();
    committed = daemon.history()->resume().next_interval;
    EXPECT_GE(committed, 6);
    auto decisions = daemon.Decisions(0, 1000);
    ASSERT_TRUE(decisions.ok());
    std::set<std::string> triggers;
    for (const auto& x : (*decisions)["decisions"]) triggers.insert(x["trigger"].get<std::string>());
    EXPECT_TRUE(triggers.count("api") && triggers.count("reload") && triggers.count("interval"));
  }
  // Restart: resumes from the history.
  {
    auto d = Make(path);
    ASSERT_TRUE(d.ok()) << d.status().message();
    ASSERT_TRUE((*d)->Start().ok());
    EXPECT_EQ((*d)->history()->resume().next_interval, committed);
    EXPECT_EQ((*d)->history()->resume().runs, 1);
    auto earlier = (*d)->history()->RecentIntervals(1000);
    ASSERT_TRUE(earlier.ok());
    EXPECT_GE(static_cast<int64_t>(earlier->size()), committed);
    EXPECT_GT((*d)->Snapshot().energy_j_total, 0);
    ASSERT_TRUE((*d)->WaitForIntervals(1, std::chrono::seconds(60)));
    EXPECT_EQ((*d)->Snapshot().interval, committed + 1);
    (*d)->Stop();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ecomap::service
