// The simulator meets every calibration target of docs/calibration-xavier.md, and the
// calibration networks have the published sizes of their architectures.
#include "platform/sim/calibration.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace ecomap::platform {
namespace {

TEST(Calibration, EveryCheckedTargetIsMet) {
  PlatformOptions o;
  o.model_lookup = CalibrationLookup();
  XavierSim sim(o);
  auto rows = RunCalibration(sim);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  int checked = 0;
  for (const CalibrationRow& r : *rows) {
    std::printf("%-95s %10.3f %10.3f %s\n", r.target.c_str(), r.published, r.modelled,
                r.checked ? (r.pass ? "ok" : "MISSED") : "context");
    if (!r.checked) continue;
    ++checked;
    EXPECT_TRUE(r.pass) << r.target << ": simulated " << r.modelled << " " << r.unit << " outside [" << r.low
                        << ", " << r.high << "] (published " << r.published << ")";
  }
  // 4 idle floors, 2 networks x (p50, p95), 6 capped modes, MAXN full load.
  EXPECT_EQ(checked, 4 + 4 + 6 + 1);
}

TEST(Calibration, NetworksHaveTheirPublishedSize) {
  const auto& models = CalibrationModels();
  ASSERT_EQ(models.size(), 2u);
  struct Case {
    std::string name;
    double gmacs;  // published multiply-accumulates
    int blocks;
  };
  // ResNet-50: 4.09 GMACs (torchvision ResNet50_Weights._ops 4.09); MobileNet-v1 1.0 224:
  // 569 M mult-adds (Howard et al. 2017, Table 8).
  const Case cases[] = {{"mlperf-resnet50-v1.5", 4.09, 7}, {"mlperf-mobilenet-v1", 0.569, 16}};
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(models[i].name, cases[i].name);
    EXPECT_EQ(static_cast<int>(models[i].blocks.size()), cases[i].blocks);
    EXPECT_NEAR(models[i].TotalFlops() / 2e9, cases[i].gmacs, cases[i].gmacs * 0.02) << cases[i].name;
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
}

}  // namespace
}  // namespace ecomap::platform
