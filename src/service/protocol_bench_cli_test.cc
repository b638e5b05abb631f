// `ecomap serve --bench-protocol` and `--bench-replan` end to end with tiny settings: runs the real program
// (ECOMAP_BINARY) on real libtorch models and checks that --json parses and carries the
// documented keys. A correctness check of the benchmark, not a timed assertion: exit 0 (goals
// met) and 3 (a goal missed) are both accepted; the figures must only be sane. The warm-up is
// the default 1 s: the model's first forwards (kernel set-up) must not fall in the short windows.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

// Runs `ecomap ARGS` with stdout captured in `out` and stderr in `progress`; its exit code, or
// -1 when it did not exit normally.
int RunEcomap(const std::string& args, std::string* out, std::string* progress) {
  const std::string err = "/tmp/bench_cli_test." + std::to_string(getpid()) + ".err";
  const std::string cmd = std::string(ECOMAP_BINARY) + " " + args + " 2>" + err;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  const int status = pclose(p);
  std::stringstream ss;
  ss << std::ifstream(err).rdbuf();
  *progress = ss.str();
  std::remove(err.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ProtocolBenchCli, JsonHasTheFigures) {
  std::string out, progress;
  const int code = RunEcomap("serve --bench-protocol --json --bench-seconds 0.5 --bench-warmup 1 --bench-pairs 1"
                             " --bench-concurrency 2 --bench-saturation-model mobilenet_v3_small"
                             " --bench-latency-model mobilenet_v3_small",
                             &out, &progress);
  ASSERT_TRUE(code == 0 || code == 3) << "exit " << code << "\n" << out << "\n" << progress;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out << "\n" << progress;
  for (const char* k : {"measured", "cores", "options", "saturation", "latency", "throughput_ratio", "added_p50_ms",
                        "cpu_throughput_ratio", "throughput_goal", "added_p50_goal_ms", "throughput_pass", "latency_pass", "pass"}) {
    EXPECT_TRUE(j.contains(k)) << k << "\n" << out;
  }
  EXPECT_EQ(j["pass"].get<bool>(), code == 0);
  for (const char* c : {"saturation", "latency"}) {
    const nlohmann::json& cs = j[c];
    for (const char* k : {"model", "concurrency", "pipeline", "in_process", "rest", "throughput_ratio", "added_p50_ms",
                          "cpu_ratio", "pairs"}) {
      EXPECT_TRUE(cs.contains(k)) << c << "." << k;
    }
    ASSERT_EQ(cs["pairs"].size(), 1u) << c;
    for (const char* side : {"in_process", "rest"}) {
      const nlohmann::json& ph = cs["pairs"][0][side];
      EXPECT_GT(ph["ok"].get<int>(), 0) << c << " " << side << "\n" << progress;
      EXPECT_EQ(ph["errors"].get<int>(), 0) << c << " " << side << ": " << ph["first_error"];
      EXPECT_GT(ph["throughput_rps"].get<double>(), 0) << c << " " << side;
      EXPECT_GT(ph["p50_ms"].get<double>(), 0) << c << " " << side;
      EXPECT_GE(ph["p95_ms"].get<double>(), ph["p50_ms"].get<double>()) << c << " " << side;
      for (const char* k : {"client", "engine", "other", "process"}) {
        EXPECT_TRUE(ph["cpu_ms_per_request"].contains(k)) << k;
      }
    }
    EXPECT_GT(cs["rest"]["throughput_rps"].get<double>(), 0) << c;
    EXPECT_GT(cs["in_process"]["throughput_rps"].get<double>(), 0) << c;
  }
  EXPECT_EQ(j["saturation"]["concurrency"].get<int>(), 2);
  EXPECT_EQ(j["latency"]["concurrency"].get<int>(), 1);
  EXPECT_NEAR(j["throughput_ratio"].get<double>(),
              j["saturation"]["rest"]["throughput_rps"].get<double>() /
                  j["saturation"]["in_process"]["throughput_rps"].get<double>(),
              1e-9);  // one pair: the median ratio is that pair's
}

// `ecomap serve --bench-replan` (service/replan_bench.h) on the demo's real libtorch tenants,
// tiny settings: stdout is the JSON only, re-plans ran beside the load, every tenant has one
// pair's ratio. Exit 0 and 3 (goal missed: a noisy machine) are both accepted.
TEST(ReplanBenchCli, JsonHasTheFigures) {
  std::string out, progress;
  const int code = RunEcomap("serve --bench-replan --json --bench-seconds 1.5 --bench-warmup 1 --bench-pairs 1", &out,
                             &progress);
  ASSERT_TRUE(code == 0 || code == 3) << "exit " << code << "\n" << out << "\n" << progress;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out << "\n" << progress;
  for (const char* k : {"configuration", "options", "plans", "plan_ms_mean", "tenants", "goal_ratio", "pass"}) {
    EXPECT_TRUE(j.contains(k)) << k << "\n" << out;
  }
  EXPECT_EQ(j["pass"].get<bool>(), code == 0);
  EXPECT_GT(j["plans"].get<int>(), 0) << progress;
  ASSERT_EQ(j["tenants"].size(), 2u);  // the demo's camera and text
  for (const nlohmann::json& t : j["tenants"]) {
    ASSERT_EQ(t["pairs"].size(), 1u) << t.dump();
    EXPECT_GT(t["quiet_p95_ms"].get<double>(), 0) << t.dump();
    EXPECT_NEAR(t["ratio"].get<double>(),
                t["replanning_p95_ms"].get<double>() / t["quiet_p95_ms"].get<double>(), 1e-9);
  }
}

// Bad flags are refused with the flag's name, before any model is built.
TEST(ProtocolBenchCli, BadFlags) {
  std::string out, err;
  EXPECT_NE(RunEcomap("serve --bench-protocol --bench-pairs 0", &out, &err), 0);
  EXPECT_NE(err.find("--bench-pairs"), std::string::npos) << err;
  err.clear();
  EXPECT_NE(RunEcomap("serve --bench-replan --demo", &out, &err), 0);
  EXPECT_NE(err.find("--bench-replan runs on its own"), std::string::npos) << err;
}

}  // namespace
