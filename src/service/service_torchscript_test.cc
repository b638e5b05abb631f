// `ecomap serve` with tenants whose variants are the operator's own TorchScript files (made here
// from C++: modules defined from TorchScript source with child submodules, then save()): one in
// the config ([[serve.tenants.models]], a relative path), one added through the API's request
// parser and Daemon::AddTenant; the controller plans for them, the engine serves them; a missing
// and a malformed file are refused with the API's 404 / 400 while the daemon keeps running.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "engine/torch_executor.h"
#include "policy/controller.h"
#include "service/api.h"
#include "service/daemon.h"
#include "zoo/model.h"

namespace ecomap::service {
namespace {

namespace fs = std::filesystem;
using torch::jit::Module;

// conv -> relu -> pool -> flatten -> linear children of a top level whose forward chains them.
void SaveNet(const std::string& path, int channels) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  auto child = [&](const std::string& cls, const std::string& src) {
    Module m("__torch__." + cls, cu, true);
    m.define(src);
    return m;
  };
  Module conv("__torch__.Conv", cu, true);
  conv.register_parameter("weight", at::randn({channels, 3, 3, 3}) * 0.2, false);
  conv.register_parameter("bias", at::zeros({channels}), false);
  conv.define("def forward(self, x):\n  return torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1])\n");
  Module fc("__torch__.Linear", cu, true);
  fc.register_parameter("weight", at::randn({10, channels * 16 * 16}) * 0.02, false);
  fc.register_parameter("bias", at::zeros({10}), false);
  fc.define("def forward(self, x):\n  return torch.matmul(x, self.weight.t()) + self.bias\n");
  Module net("__torch__.Net", cu, true);
  net.register_module("conv", conv);
  net.register_module("relu", child("ReLU", "def forward(self, x):\n  return torch.relu(x)\n"));
  net.register_module("pool", child("Pool", "def forward(self, x):\n  return torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)\n"));
  net.register_module("flatten", child("Flatten", "def forward(self, x):\n  return torch.flatten(x, 1)\n"));
  net.register_module("fc", fc);
  net.define("def forward(self, x):\n  return self.fc.forward(self.flatten.forward(self.pool.forward(self.relu.forward(self.conv.forward(x)))))\n");
  net.save(path);
}

std::string Config(const std::string& dir) {
  return "[serve]\nplatform = \"host\"\ninterval_s = 1\ndata_dir = \"" + dir +
         "/data\"\ndrain_ms = 2000\n"
         "[serve.carbon]\nprovider = \"trace\"\ntrace = \"" + std::string(ECOMAP_SOURCE_DIR) +
         "/data/carbon/ES_2023_hourly.csv\"\nspeedup = 3600\nstart = \"2023-05-01T00:00:00Z\"\n"
         "[serve.controller]\nname = \"ecomap\"\nbudget_evals = 60\nprofile = \"" + std::string(ECOMAP_SOURCE_DIR) +
         "/data/profiles/host.jsonl\"\n"
         "[[serve.tenants]]\nname = \"door\"\nfamily = \"doorcam\"\nslo_ms = 500\nrate_rps = 4\n"
         "  [[serve.tenants.models]]\n  name = \"door_small\"\n  torchscript = \"models/small.pt\"\n"
         "  accuracy = 70\n  input_shape = [1, 3, 32, 32]\n"
         "  [[serve.tenants.models]]\n  name = \"door_large\"\n  torchscript = \"models/large.pt\"\n"
         "  accuracy = 80\n  input_shape = [1, 3, 32, 32]\n  split = \"children\"\n";
}

TEST(ServeTorchScriptTest, OwnModelsFromConfigAndApiArePlannedAndServed) {
  const std::string dir = fs::temp_directory_path() / ("ecomap-serve-ts-" + std::to_string(getpid()));
  fs::create_directories(dir + "/models");
  SaveNet(dir + "/models/small.pt", 4);
  SaveNet(dir + "/models/large.pt", 16);
  SaveNet(dir + "/models/api.pt", 8);
  const std::string path = dir + "/serve.toml";
  std::ofstream(path) << Config(dir);

  StatusOr<ServeConfig> c = LoadServeConfig(path, carbon::ProcessEnvironment());
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->tenants.size(), 1u);
  EXPECT_EQ(c->tenants[0].variants, (std::vector<std::string>{"door_small", "door_large"}));
  ASSERT_EQ(c->tenants[0].models.size(), 2u);
  EXPECT_EQ(c->tenants[0].models[1].path, (fs::path(dir) / "models/large.pt").lexically_normal().string());

  DaemonDeps deps;
  deps.executors = engine::MakeTorchExecutorFactory({.intra_op_threads = 1});
  deps.make_controller = [](const std::string& n, const policy::ControllerContext& ctx) {
    return policy::MakeController(n, ctx);
  };
  deps.terminal = &std::cout;
  deps.serve_api = false;
  auto d = Daemon::Create(std::move(c).value(), std::move(deps));
  ASSERT_TRUE(d.ok()) << d.status().message();
  // Registered at Create: split at the five children, measured.
  const zoo::ModelInfo* large = zoo::FindModel("door_large");
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(large->blocks.size(), 5u);
  EXPECT_EQ(large->family, "doorcam");
  EXPECT_GT(large->TotalFlops(), 0);
  ASSERT_EQ(zoo::Family("doorcam").size(), 2u);
  EXPECT_EQ(zoo::Family("doorcam")[0]->name, "door_small");

  Daemon& daemon = **d;
  ASSERT_TRUE(daemon.Start().ok());
  ASSERT_TRUE(daemon.WaitForIntervals(2, std::chrono::seconds(60)));
  EXPECT_GT(daemon.CompletedByTenant()["door"], 0u);

  // Through the API's parser: a second tenant with a model of its own.
  StatusOr<policy::TenantSpec> t = ParseTenantRequest(
      R"({"name": "gate", "family": "gatecam", "slo_ms": 500, "rate_rps": 4, "models": [{"name": "gate_net",
          "torchscript": ")" + dir + R"(/models/api.pt", "accuracy": 75, "input_shape": [1, 3, 32, 32]}]})");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->variants, (std::vector<std::string>{"gate_net"}));
  StatusOr<nlohmann::json> added = daemon.AddTenant(*t);
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ((*added)["added"]["models"][0]["name"], "gate_net");
  EXPECT_NE(zoo::FindModel("gate_net"), nullptr);
  const int64_t now = daemon.intervals_this_run();
  ASSERT_TRUE(daemon.WaitForIntervals(now + 2, std::chrono::seconds(60)));
  EXPECT_GT(daemon.CompletedByTenant()["gate"], 0u);

  // A missing file: 404; a file that is not TorchScript: 400; both name the file.
  StatusOr<policy::TenantSpec> missing = ParseTenantRequest(
      R"({"name": "m", "family": "mfam", "slo_ms": 500, "rate_rps": 1, "models": [{"name": "m_net",
          "torchscript": ")" + dir + R"(/models/none.pt", "accuracy": 75, "input_shape": [1, 3, 32, 32]}]})");
  ASSERT_TRUE(missing.ok()) << missing.status().message();
  StatusOr<nlohmann::json> r = daemon.AddTenant(*missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(HttpStatusFor(r.status()), 404);
  EXPECT_NE(r.status().message().find("none.pt"), std::string::npos) << r.status().message();
  std::ofstream(dir + "/models/bad.pt") << "not a model";
  StatusOr<policy::TenantSpec> bad = ParseTenantRequest(
      R"({"name": "b", "family": "bfam", "slo_ms": 500, "rate_rps": 1, "models": [{"name": "b_net",
          "torchscript": ")" + dir + R"(/models/bad.pt", "accuracy": 75, "input_shape": [1, 3, 32, 32]}]})");
  ASSERT_TRUE(bad.ok()) << bad.status().message();
  r = daemon.AddTenant(*bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(HttpStatusFor(r.status()), 400);
  EXPECT_NE(r.status().message().find("bad.pt"), std::string::npos) << r.status().message();
  EXPECT_EQ(daemon.Tenants().size(), 2u);

  daemon.Stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ecomap::service
