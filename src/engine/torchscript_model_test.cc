// An operator's own TorchScript models (engine/torchscript_model.h), made here from C++ (no
// Python): modules defined from TorchScript source with child submodules, saved with save(),
// then registered (loaded, split, measured), run stage by stage against the whole forward(),
// served in the engine, and malformed files refused with errors that name them.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "engine/engine.h"
#include "engine/torch_executor.h"
#include "engine/torchscript_model.h"
#include "zoo/model.h"

namespace ecomap::engine {
namespace {

namespace fs = std::filesystem;
using torch::jit::Module;

std::string TempDir() {
  static const std::string dir = [] {
    fs::path d = fs::temp_directory_path() / ("ecomap_torchscript_test_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d.string();
  }();
  return dir;
}

std::string TempPath(const std::string& file) { return (fs::path(TempDir()) / file).string(); }

Module Child(const std::shared_ptr<torch::jit::CompilationUnit>& cu, const std::string& cls, const std::string& src) {
  Module m("__torch__." + cls, cu, /*shouldMangle=*/true);
  m.define(src);
  return m;
}

// conv(3->8, 3x3, pad 1) -> relu -> maxpool 2 -> flatten -> linear(512 -> 10), as five children
// of a top-level module whose forward calls them in order; input [1, 3, 16, 16].
// `skip`: forward adds the conv's output to itself before the relu (no longer a chain).
Module MakeNet(bool skip) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  at::manual_seed(3);
  Module c("__torch__.Conv", cu, true);
  c.register_parameter("weight", at::randn({8, 3, 3, 3}) * 0.2, false);
  c.register_parameter("bias", at::randn({8}) * 0.1, false);
  c.define("def forward(self, x):\n  return torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1])\n");
  Module relu = Child(cu, "ReLU", "def forward(self, x):\n  return torch.relu(x)\n");
  Module pool = Child(cu, "Pool", "def forward(self, x):\n  return torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)\n");
  Module flat = Child(cu, "Flatten", "def forward(self, x):\n  return torch.flatten(x, 1)\n");
  Module fc("__torch__.Linear", cu, true);
  fc.register_parameter("weight", at::randn({10, 512}) * 0.05, false);
  fc.register_parameter("bias", at::randn({10}) * 0.1, false);
  fc.define("def forward(self, x):\n  return torch.matmul(x, self.weight.t()) + self.bias\n");
  Module net("__torch__.Net", cu, true);
  net.register_module("conv", c);
  net.register_module("relu", relu);
  net.register_module("pool", pool);
  net.register_module("flatten", flat);
  net.register_module("fc", fc);
  if (skip) {
    net.define(
        "def forward(self, x):\n  y = self.conv.forward(x)\n  return self.fc.forward(self.flatten.forward(self.pool.forward(self.relu.forward(y + y))))\n");
  } else {
    net.define("def forward(self, x):\n  return self.fc.forward(self.flatten.forward(self.pool.forward(self.relu.forward(self.conv.forward(x)))))\n");
  }
  net.eval();
  return net;
}

std::string SaveNet(const std::string& file, bool skip) {
  std::string path = TempPath(file);
  MakeNet(skip).save(path);
  return path;
}

zoo::TorchScriptSpec Spec(const std::string& name, const std::string& path) {
  zoo::TorchScriptSpec s;
  s.name = name;
  s.family = "tstest";
  s.path = path;
  s.accuracy = 71.5;
  s.input_shape = {1, 3, 16, 16};
  return s;
}

TEST(TorchScriptModel, SplitsAtChildrenAndStagesEqualTheWholeForward) {
  const std::string path = SaveNet("net.pt", false);
  StatusOr<TorchScriptRegistration> r = RegisterTorchScriptModel(Spec("ts_net", path));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->split) << r->split_note;
  ASSERT_EQ(r->blocks.size(), 5u);
  const char* names[] = {"conv", "relu", "pool", "flatten", "fc"};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(r->blocks[i].name, names[i]);
  // Measured descriptors: parameters and activation bytes are exact, times positive.
  EXPECT_EQ(r->blocks[0].params, 8 * 3 * 9 + 8);
  EXPECT_EQ(r->blocks[4].params, 512 * 10 + 10);
  EXPECT_EQ(r->blocks[0].input_bytes, 3 * 16 * 16 * 4);
  EXPECT_EQ(r->blocks[0].output_bytes, 8 * 16 * 16 * 4);
  EXPECT_EQ(r->blocks[2].output_bytes, 8 * 8 * 8 * 4);
  EXPECT_EQ(r->blocks[4].output_bytes, 10 * 4);
  EXPECT_GT(r->host_rate_flops_per_s, 1e8);
  const zoo::ModelInfo* info = zoo::FindModel("ts_net");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info, r->info);
  EXPECT_EQ(info->family, "tstest");
  EXPECT_DOUBLE_EQ(info->accuracy, 71.5);
  EXPECT_EQ(info->input_shape, (std::vector<int64_t>{1, 3, 16, 16}));
  ASSERT_EQ(info->blocks.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_GT(r->blocks[i].time_ms, 0);
    // effective FLOPs = measured seconds x the host's measured rate
    EXPECT_NEAR(info->blocks[i].flops, r->blocks[i].time_ms / 1e3 * r->host_rate_flops_per_s,
                1e-6 * info->blocks[i].flops);
    EXPECT_EQ(info->blocks[i].input_bytes, r->blocks[i].input_bytes);
  }
  ASSERT_EQ(zoo::Family("tstest").size(), 1u);
  std::printf("registration: %.3f s, whole forward %.3f ms, host rate %.3g FLOP/s, split diff %.3g\n",
              r->measure_seconds, r->whole_ms, r->host_rate_flops_per_s, r->split_max_abs_diff);
  for (const auto& b : r->blocks) {
    std::printf("  block %-8s %.4f ms  in %lld B  out %lld B  params %lld\n", b.name.c_str(), b.time_ms,
                static_cast<long long>(b.input_bytes), static_cast<long long>(b.output_bytes),
                static_cast<long long>(b.params));
  }

  // The factory runs it: stages [0, 2) and [2, 5) one after another == the file's forward().
  auto f = MakeTorchExecutorFactory();
  ASSERT_EQ(f->FindModel("ts_net"), info);
  auto head = f->CreateStage("ts_net", 0, 2, 1);
  auto tail = f->CreateStage("ts_net", 2, 5, 1);
  auto whole = f->CreateStage("ts_net", 0, 5, 1);
  ASSERT_TRUE(head.ok() && tail.ok() && whole.ok());
  Module loaded = torch::jit::load(path);
  loaded.eval();
  for (int trial = 0; trial < 3; ++trial) {
    at::Tensor x = at::randn({1, 3, 16, 16});
    at::Tensor expect;
    {
      torch::NoGradGuard ng;
      expect = loaded.forward({x}).toTensor();
    }
    Activation a = x, b = x;
    ASSERT_TRUE((*head)->Run(a).ok());
    EXPECT_EQ(std::any_cast<const at::Tensor&>(a).sizes(), (std::vector<int64_t>{1, 8, 16, 16}));
    ASSERT_TRUE((*tail)->Run(a).ok());
    ASSERT_TRUE((*whole)->Run(b).ok());
    const at::Tensor& ya = std::any_cast<const at::Tensor&>(a);
    const at::Tensor& yb = std::any_cast<const at::Tensor&>(b);
    EXPECT_TRUE(at::allclose(ya, expect, 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(yb, expect, 1e-5, 1e-6));
    std::printf("stages vs forward: max abs diff %.3g\n", (ya - expect).abs().max().item<double>());
  }
  EXPECT_FALSE(f->CreateStage("ts_net", 3, 6, 1).ok());
  Activation wrong = 3;
  EXPECT_FALSE((*head)->Run(wrong).ok());

  // Registering the same declaration and file again is the first registration.
  StatusOr<TorchScriptRegistration> again = RegisterTorchScriptModel(Spec("ts_net", path));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->info, info);
  // Another file under the same name is refused.
  const std::string other = SaveNet("other.pt", true);
  StatusOr<TorchScriptRegistration> clash = RegisterTorchScriptModel(Spec("ts_net", other));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(clash.status().message().find("another name"), std::string::npos) << clash.status().message();
}

TEST(TorchScriptModel, AForwardThatIsNotAChainRunsAsOneBlock) {
  const std::string path = SaveNet("skip.pt", true);
  StatusOr<TorchScriptRegistration> r = RegisterTorchScriptModel(Spec("ts_skip", path));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->split);
  EXPECT_NE(r->split_note.find("differ"), std::string::npos) << r->split_note;
  ASSERT_EQ(r->info->blocks.size(), 1u);
  EXPECT_EQ(r->info->blocks[0].params, 8 * 3 * 9 + 8 + 512 * 10 + 10);
  // The one stage is the whole forward().
  auto f = MakeTorchExecutorFactory();
  auto stage = f->CreateStage("ts_skip", 0, 1, 1);
  ASSERT_TRUE(stage.ok());
  at::Tensor x = at::randn({1, 3, 16, 16});
  Module loaded = torch::jit::load(path);
  at::Tensor expect = loaded.forward({x}).toTensor();
  Activation a = x;
  ASSERT_TRUE((*stage)->Run(a).ok());
  EXPECT_TRUE(at::allclose(std::any_cast<const at::Tensor&>(a), expect, 1e-5, 1e-6));

  // Declared split = "children" on it: refused, saying why and what to do.
  zoo::TorchScriptSpec s = Spec("ts_skip_children", path);
  s.split = zoo::SplitMode::kChildren;
  StatusOr<TorchScriptRegistration> bad = RegisterTorchScriptModel(s);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("split = \"none\""), std::string::npos) << bad.status().message();
  EXPECT_EQ(zoo::FindModel("ts_skip_children"), nullptr);
  // split = "none" on the chain model: one block.
  zoo::TorchScriptSpec n = Spec("ts_net_whole", SaveNet("net_whole.pt", false));
  n.split = zoo::SplitMode::kNone;
  StatusOr<TorchScriptRegistration> whole = RegisterTorchScriptModel(n);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_EQ(whole->info->blocks.size(), 1u);
}

TEST(TorchScriptModel, MalformedFilesAreClearErrorsNamingTheFile) {
  // Missing.
  {
    auto r = RegisterTorchScriptModel(Spec("ts_missing", TempPath("nope.pt")));
    ASSERT_FALSE(r.ok());
    std::printf("%s\n", r.status().message().c_str());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_NE(r.status().message().find("nope.pt"), std::string::npos) << r.status().message();
  }
  // Not a zip archive.
  {
    const std::string p = TempPath("garbage.pt");
    std::ofstream(p) << "this is not a TorchScript archive\n";
    auto r = RegisterTorchScriptModel(Spec("ts_garbage", p));
    ASSERT_FALSE(r.ok());
    std::printf("%s\n", r.status().message().c_str());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("garbage.pt"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("torch.jit.save"), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
  // Truncated: the first half of a good file.
  {
    const std::string good = SaveNet("good.pt", false);
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string p = TempPath("truncated.pt");
    std::ofstream(p, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    auto r = RegisterTorchScriptModel(Spec("ts_truncated", p));
    ASSERT_FALSE(r.ok());
    std::printf("%s\n", r.status().message().c_str());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("truncated.pt"), std::string::npos) << r.status().message();
  }
  // A module without forward().
  {
    Module m("__torch__.NoForward");
    m.define("def other(self, x):\n  return x\n");
    const std::string p = TempPath("noforward.pt");
    m.save(p);
    auto r = RegisterTorchScriptModel(Spec("ts_noforward", p));
    ASSERT_FALSE(r.ok());
    std::printf("%s\n", r.status().message().c_str());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("no forward()"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("noforward.pt"), std::string::npos) << r.status().message();
  }
  // A declared input the model cannot take.
  {
    zoo::TorchScriptSpec s = Spec("ts_badshape", SaveNet("net2.pt", false));
    s.input_shape = {1, 4, 16, 16};
    auto r = RegisterTorchScriptModel(s);
    ASSERT_FALSE(r.ok());
    std::printf("%s\n", r.status().message().c_str());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("input_shape"), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("TorchScript interpreter"), std::string::npos) << r.status().message();
  }
  // A forward that returns a tuple.
  {
    Module m("__torch__.Pair");
    m.define("def forward(self, x):\n  return (x, x)\n");
    const std::string p = TempPath("pair.pt");
    m.save(p);
    auto r = RegisterTorchScriptModel(Spec("ts_pair", p));
    ASSERT_FALSE(r.ok());
    std::printf("%s\n", r.status().message().c_str());
    EXPECT_NE(r.status().message().find("not a tensor"), std::string::npos) << r.status().message();
  }
  // A built-in family or model name.
  {
    zoo::TorchScriptSpec s = Spec("ts_in_resnet", SaveNet("net3.pt", false));
    s.family = "resnet";
    EXPECT_EQ(RegisterTorchScriptModel(s).status().code(), StatusCode::kInvalidArgument);
    zoo::TorchScriptSpec t = Spec("resnet18", s.path);
    EXPECT_EQ(RegisterTorchScriptModel(t).status().code(), StatusCode::kFailedPrecondition);
  }
  for (const char* n : {"ts_missing", "ts_garbage", "ts_truncated", "ts_noforward", "ts_badshape", "ts_pair",
                        "ts_in_resnet"}) {
    EXPECT_EQ(zoo::FindModel(n), nullptr) << n;
  }
}

// The engine serves a registered model as a two-stage pipeline across units.
TEST(TorchScriptModel, ServedInTheEngine) {
  const std::string path = SaveNet("served.pt", false);
  auto reg = RegisterTorchScriptModel(Spec("ts_served", path));
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  std::vector<UnitInfo> host = HostUnits();
  const std::string u0 = host[0].name, u1 = host[host.size() > 1 ? 1 : 0].name;
  auto factory = MakeTorchExecutorFactory();
  Engine engine(factory, EngineOptions{{}, true, /*record_requests=*/false, nullptr});
  auto spec = ParseTenantsSpec("ts_served@0-2:" + u0 + "|2-:" + u1 + ",closed=2,name=own", 1);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  ASSERT_TRUE(engine.Start(EngineSpec{{}, *spec}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EngineReport rep = engine.Report();
  ASSERT_EQ(rep.tenants.size(), 1u);
  EXPECT_GT(rep.tenants[0].completed, 10u);
  EXPECT_EQ(rep.tenants[0].dropped, 0u);
  engine.Shutdown(Milliseconds(2000));
}

}  // namespace
}  // namespace ecomap::engine
