// The simulator meets every calibration target of docs/calibration-xavier.md, and the
// calibration networks have the published sizes of their architectures.
#include "platform/sim/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace ecomap::platform {
namespace {

TEST(Calibration, EveryCheckedTargetIsMetWithinFifteenPercent) {
  PlatformOptions o;
  o.model_lookup = CalibrationLookup();
  XavierSim sim(o);
  auto rows = RunCalibration(sim);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  int checked = 0, hax = 0, mlperf = 0, mlperf_power = 0;
  for (const CalibrationRow& r : *rows) {
    std::printf("%-95s %10.3f %10.3f %s\n", r.target.c_str(), r.published, r.modelled,
                r.checked ? (r.pass ? "ok" : "MISSED") : "context");
    if (!r.checked) continue;
    const bool idle = r.target.rfind("idle power", 0) == 0;
    if (!idle) {
      // A checked figure accepts at most +-15% around the published one.
      EXPECT_NEAR(r.low, 0.85 * r.published, 1e-9) << r.target;
      EXPECT_NEAR(r.high, 1.15 * r.published, 1e-9) << r.target;
      ++checked;
      hax += r.source.rfind("HaX-CoNN", 0) == 0;
      mlperf += r.source.rfind("MLPerf", 0) == 0;
      mlperf_power += r.source.rfind("MLPerf", 0) == 0 && r.unit == "W";
    }
    EXPECT_TRUE(r.pass) << r.target << ": simulated " << r.modelled << " " << r.unit << " outside [" << r.low
                        << ", " << r.high << "] (published " << r.published << ")";
  }
  EXPECT_GE(checked, 8);
  EXPECT_GE(hax, 3);
  EXPECT_GE(mlperf, 2);
  EXPECT_GE(mlperf_power, 1);
}

TEST(Calibration, NetworksHaveTheirPublishedSize) {
  const auto& models = CalibrationModels();
  ASSERT_EQ(models.size(), 4u);
  struct Case {
    std::string name;
    double gmacs;  // published multiply-accumulates
    int blocks;
    int layers;    // convolutions and fully connected layers
  };
  // ResNet-50: 4.09 GMACs (torchvision ResNet50_Weights._ops 4.09); MobileNet-v1 1.0 224:
  // 569 M mult-adds (Howard et al. 2017, Table 8).
  // GoogLeNet: 1.58 G multiply-adds counted layer by layer (Szegedy et al. 2015 give "1.5
  // billion" in round figures);
  // AlexNet (Caffe, grouped): 0.72 GMACs.
  // Layers: ResNet-50 53 convolutions + fc; MobileNet-v1 27 + fc; GoogLeNet 3 stem
  // convolutions + 9 x 6 + fc; AlexNet 5 + 3.
  const Case cases[] = {{"mlperf-resnet50-v1.5", 4.09, 7, 54},
                        {"mlperf-mobilenet-v1", 0.569, 16, 28},
                        {"hax-googlenet", 1.58, 13, 58},
                        {"hax-alexnet", 0.72, 7, 8}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(models[i].name, cases[i].name);
    EXPECT_EQ(static_cast<int>(models[i].blocks.size()), cases[i].blocks);
    EXPECT_NEAR(models[i].TotalFlops() / 2e9, cases[i].gmacs, cases[i].gmacs * 0.02) << cases[i].name;
    int layers = 0;
    for (const auto& b : models[i].blocks) layers += b.layers;
    EXPECT_EQ(layers, cases[i].layers) << cases[i].name;
  }
  // Conv weights + BN (weight, bias) + fc: exactly torchvision's resnet50 parameter count.
  EXPECT_EQ(models[0].TotalParams(), 25557032);
  for (const auto& m : models) {
    for (size_t b = 1; b < m.blocks.size(); ++b) {
      EXPECT_EQ(m.blocks[b].input_bytes, m.blocks[b - 1].output_bytes) << m.name << " block " << b;
    }
  }
}

TEST(Calibration, MatchesTheZooResnet50WhenPresent) {
  const zoo::ModelInfo* zoo_resnet = zoo::FindModel("resnet50");
  if (zoo_resnet == nullptr) GTEST_SKIP() << "zoo catalogue has no resnet50 in this build";
  const zoo::ModelInfo& mine = CalibrationModels()[0];
  EXPECT_NEAR(zoo_resnet->TotalFlops(), mine.TotalFlops(), mine.TotalFlops() * 0.03);
  EXPECT_EQ(zoo_resnet->TotalParams(), mine.TotalParams());
  // The same kernels per block (the GPU pays a launch per layer): 53 convolutions and the fc.
  ASSERT_EQ(zoo_resnet->blocks.size(), mine.blocks.size());
  int layers = 0;
  for (size_t b = 0; b < mine.blocks.size(); ++b) {
    EXPECT_EQ(zoo_resnet->blocks[b].layers, mine.blocks[b].layers) << mine.blocks[b].name;
    layers += mine.blocks[b].layers;
  }
  EXPECT_EQ(layers, 54);
}

}  // namespace
}  // namespace ecomap::platform
