// Tests of the libtorch models and of the derivation of their descriptors.
//
// The reference figures are torchvision's own (torchvision/models/*.py: the num_params and
// _ops entries of each *_Weights enum), copied here independently of the catalogue so that a
// wrong architecture fails the test.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "zoo/catalog.h"
#include "zoo/derive.h"
#include "zoo/torch_models.h"

namespace ecomap::zoo {
namespace {

struct VisionReference {
  const char* name;
  int64_t params;  // torchvision num_params
  double gmacs;    // torchvision _ops ("GFLOPS", multiply-accumulates)
};

constexpr VisionReference kVision[] = {
    {"resnet18", 11689512, 1.814},          {"resnet34", 21797672, 3.664},
    {"resnet50", 25557032, 4.089},          {"resnet101", 44549160, 7.801},
    {"resnet152", 60192808, 11.514},        {"mobilenet_v2", 3504872, 0.301},
    {"mobilenet_v3_small", 2542856, 0.057}, {"mobilenet_v3_large", 5483032, 0.217},
    {"efficientnet_b0", 5288548, 0.386},    {"efficientnet_b1", 7794184, 0.687},
    {"efficientnet_b2", 9109994, 1.088},    {"efficientnet_b3", 12233232, 1.827},
    {"vgg11", 132863336, 7.609},            {"vgg16", 138357544, 15.47},
};

// Derives every model once for the whole suite (the expensive part: one forward per model).
const std::map<std::string, ModelInfo>& Derived() {
  static const std::map<std::string, ModelInfo>* derived = [] {
    auto* m = new std::map<std::string, ModelInfo>;
    StatusOr<std::vector<ModelInfo>> all = DeriveCatalog();
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    if (all.ok()) {
      for (ModelInfo& info : *all) (*m)[info.name] = std::move(info);
    }
    return m;
  }();
  return *derived;
}

class VisionModelTest : public ::testing::TestWithParam<VisionReference> {};

TEST_P(VisionModelTest, ParamsEqualTorchvisionAndMacsWithinTwoPercent) {
  const VisionReference& ref = GetParam();
  auto it = Derived().find(ref.name);
  ASSERT_NE(it, Derived().end()) << ref.name;
  const ModelInfo& info = it->second;
  EXPECT_EQ(info.TotalParams(), ref.params) << ref.name;
  const double gmacs = info.TotalFlops() / 2 / 1e9;
  EXPECT_NEAR(gmacs / ref.gmacs, 1.0, 0.02) << ref.name << ": derived " << gmacs << " GMACs";
  EXPECT_DOUBLE_EQ(info.published_gmacs, ref.gmacs) << ref.name;
  // Every block carries figures; the last block emits the 1000 ImageNet logits.
  for (const BlockDescriptor& b : info.blocks) {
    EXPECT_GT(b.input_bytes, 0) << ref.name << " " << b.name;
    EXPECT_GT(b.output_bytes, 0) << ref.name << " " << b.name;
  }
  EXPECT_EQ(info.OutputBytes(), 1000 * 4) << ref.name;
  EXPECT_EQ(info.blocks.front().input_bytes,
            3 * info.input_shape[2] * info.input_shape[3] * 4) << ref.name;
}

INSTANTIATE_TEST_SUITE_P(Torchvision, VisionModelTest, ::testing::ValuesIn(kVision),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ZooTorchTest, BlockChainsShapesAndStructure) {
  for (const auto& [name, info] : Derived()) {
    ASSERT_FALSE(info.blocks.empty()) << name;
    for (size_t i = 1; i < info.blocks.size(); ++i) {
      // Blocks chain: what one emits, the next consumes (a view may change, bytes do not).
      EXPECT_EQ(info.blocks[i - 1].output_bytes, info.blocks[i].input_bytes)
          << name << " block " << info.blocks[i].name;
    }
  }
  const ModelInfo& r18 = Derived().at("resnet18");
  std::vector<std::string> names;
  for (const auto& b : r18.blocks) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"stem", "layer1", "layer2", "layer3", "layer4",
                                             "avgpool", "fc"}));
  // stem: 3x224x224 in, 64x56x56 out (float32).
  EXPECT_EQ(r18.blocks[0].input_bytes, 3 * 224 * 224 * 4);
  EXPECT_EQ(r18.blocks[0].output_bytes, 64 * 56 * 56 * 4);
  EXPECT_EQ(r18.blocks[0].params, 64 * 3 * 7 * 7 + 2 * 64);
  EXPECT_EQ(r18.blocks[0].kind, BlockKind::kConv);
  EXPECT_EQ(r18.blocks[6].kind, BlockKind::kLinear);
  EXPECT_EQ(r18.blocks[6].flops, 2.0 * 512 * 1000);
  EXPECT_TRUE(r18.blocks[0].dla_supported);
  // MobileNetV3 uses hardswish, which DLAs do not run; MobileNetV2 (ReLU6) runs entirely.
  EXPECT_FALSE(Derived().at("mobilenet_v3_large").blocks[0].dla_supported);
  for (const auto& b : Derived().at("mobilenet_v2").blocks) EXPECT_TRUE(b.dla_supported) << b.name;
  EXPECT_EQ(Derived().at("mobilenet_v2").blocks[1].kind, BlockKind::kDepthwise);
}

TEST(ZooTorchTest, BertFamilySizes) {
  // Parameter counts of the BERT miniatures (encoder + pooler; Hugging Face reports the same
  // 4,385,920 for google/bert_uncased_L-2_H-128_A-2) plus a 2-class head.
  struct Ref { const char* name; int layers; int64_t hidden, ff; };
  for (const Ref& r : {Ref{"bert_tiny", 2, 128, 512}, Ref{"bert_mini", 4, 256, 1024},
                       Ref{"bert_small", 4, 512, 2048}, Ref{"bert_medium", 8, 512, 2048}}) {
    const ModelInfo& info = Derived().at(r.name);
    const int64_t h = r.hidden, f = r.ff;
    const int64_t embeddings = (30522 + 512 + 2) * h + 2 * h;
    const int64_t layer = 4 * h * h + 4 * h + 2 * h * f + f + h + 4 * h;
    const int64_t head = h * h + h + 2 * h + 2;
    EXPECT_EQ(info.TotalParams(), embeddings + r.layers * layer + head) << r.name;
    ASSERT_EQ(info.blocks.size(), static_cast<size_t>(r.layers + 2)) << r.name;
    EXPECT_EQ(info.blocks.front().kind, BlockKind::kEmbedding);
    EXPECT_EQ(info.blocks[1].kind, BlockKind::kAttention);
    EXPECT_FALSE(info.blocks[1].dla_supported);
    EXPECT_EQ(info.blocks.front().input_bytes, 128 * 8);        // int64 token ids
    EXPECT_EQ(info.blocks.front().output_bytes, 128 * h * 4);   // [S, 1, H] float32
    const double s = 128;
    EXPECT_DOUBLE_EQ(info.blocks[1].flops, 2 * (4 * s * h * h + 2 * s * s * h + 2 * s * h * f));
    EXPECT_EQ(info.OutputBytes(), 2 * 4);
  }
  EXPECT_EQ(Derived().at("bert_tiny").TotalParams() - (2 * 128 + 2), 4385920);
}

TEST(ZooTorchTest, FreshDerivationEqualsEmbeddedCatalogue) {
  ASSERT_TRUE(CatalogStatus().ok()) << CatalogStatus().ToString();
  for (const ModelInfo& spec : ModelSpecs()) {
    const ModelInfo* embedded = FindModel(spec.name);
    ASSERT_NE(embedded, nullptr) << spec.name;
    const ModelInfo& fresh = Derived().at(spec.name);
    ASSERT_EQ(fresh.blocks.size(), embedded->blocks.size()) << spec.name;
    for (size_t i = 0; i < fresh.blocks.size(); ++i) {
      EXPECT_EQ(fresh.blocks[i], embedded->blocks[i])
          << spec.name << " block " << fresh.blocks[i].name
          << " differs from data/zoo/catalog.json; re-run `ecomap zoo export --out "
             "data/zoo/catalog.json`";
    }
    EXPECT_TRUE(fresh == *embedded) << spec.name;
  }
}

// Forward over all blocks equals Forward over any split into two or three stages.
class SplitTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SplitTest, ForwardOverAnySplitEqualsWholeModel) {
  auto model = CreateTorchModel(GetParam(), /*seed=*/7);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  TorchModel& m = **model;
  const int n = m.num_blocks();
  ASSERT_GE(n, 3);
  at::Tensor x = m.MakeInput(1);
  at::Tensor whole = m.Forward(0, n, x);
  ASSERT_TRUE(whole.isfinite().all().item<bool>()) << GetParam();
  for (int cut = 1; cut < n; ++cut) {
    at::Tensor y = m.Forward(cut, n, m.Forward(0, cut, x));
    EXPECT_TRUE(at::equal(y, whole)) << GetParam() << " cut at " << cut;
  }
  at::Tensor y3 = m.Forward(2, n, m.Forward(1, 2, m.Forward(0, 1, x)));
  EXPECT_TRUE(at::equal(y3, whole)) << GetParam();

  // The same seed gives the same weights and inputs; another seed gives other weights.
  auto again = CreateTorchModel(GetParam(), 7);
  ASSERT_TRUE(again.ok());
  at::Tensor x2 = (*again)->MakeInput(1);
  EXPECT_TRUE(at::equal(x, x2));
  EXPECT_TRUE(at::equal((*again)->Forward(0, n, x), whole));
  auto other = CreateTorchModel(GetParam(), 8);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(at::equal((*other)->Forward(0, n, x), whole));
}

INSTANTIATE_TEST_SUITE_P(Models, SplitTest,
                         ::testing::Values("resnet18", "mobilenet_v2", "mobilenet_v3_small",
                                           "efficientnet_b0", "bert_tiny"));

TEST(ZooTorchTest, MakeInputShapes) {
  struct Case { const char* name; int64_t batch; std::vector<int64_t> shape; at::ScalarType type; };
  const Case cases[] = {
      {"resnet18", 1, {1, 3, 224, 224}, at::kFloat},
      {"resnet18", 4, {4, 3, 224, 224}, at::kFloat},
      {"efficientnet_b3", 2, {2, 3, 300, 300}, at::kFloat},
      {"bert_mini", 3, {3, 128}, at::kLong},
  };
  for (const Case& c : cases) {
    auto m = CreateTorchModel(c.name);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    at::Tensor x = (*m)->MakeInput(c.batch);
    EXPECT_EQ(x.sizes().vec(), c.shape) << c.name;
    EXPECT_EQ(x.scalar_type(), c.type) << c.name;
    if (c.type == at::kLong) {
      EXPECT_GE(x.min().item<int64_t>(), 0);
      EXPECT_LT(x.max().item<int64_t>(), 30522);
    }
    EXPECT_EQ((*m)->info().name, c.name);
  }
  auto bert = CreateTorchModel("bert_mini");
  ASSERT_TRUE(bert.ok());
  at::Tensor logits = (*bert)->Forward(0, (*bert)->num_blocks(), (*bert)->MakeInput(3));
  EXPECT_EQ(logits.sizes().vec(), (std::vector<int64_t>{3, 2}));
}

TEST(ZooTorchTest, UnknownModelIsNotFoundNamingKnownOnes) {
  for (const char* bad : {"resnet19", "", "RESNET18", "vgg19"}) {
    auto m = CreateTorchModel(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
    EXPECT_NE(m.status().message().find(std::string("'") + bad + "'"), std::string::npos);
    EXPECT_NE(m.status().message().find("resnet18, resnet34"), std::string::npos);
    EXPECT_NE(m.status().message().find("bert_medium"), std::string::npos);
    auto d = DeriveModelInfo(bad);
    EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  }
}

// Engine workers build and run models on their own threads: concurrent creation gives the same
// weights as creation alone (private generators), and concurrent forwards do not interfere.
TEST(ZooTorchTest, ConcurrentCreationIsDeterministic) {
  auto reference = CreateTorchModel("mobilenet_v3_small", 3);
  ASSERT_TRUE(reference.ok());
  at::Tensor x = (*reference)->MakeInput(1);
  const int n = (*reference)->num_blocks();
  at::Tensor expected = (*reference)->Forward(0, n, x);
  std::vector<at::Tensor> outputs(3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      at::set_num_threads(1);
      auto m = CreateTorchModel("mobilenet_v3_small", 3);
      if (m.ok()) outputs[t] = (*m)->Forward(0, n, x);
    });
  }
  for (auto& th : threads) th.join();
  for (const at::Tensor& y : outputs) {
    ASSERT_TRUE(y.defined());
    EXPECT_TRUE(at::equal(y, expected));
  }
}

TEST(ZooTorchTest, ForwardRejectsBadRanges) {
  auto m = CreateTorchModel("mobilenet_v3_small");
  ASSERT_TRUE(m.ok());
  at::Tensor x = (*m)->MakeInput(1);
  const int n = (*m)->num_blocks();
  EXPECT_THROW((*m)->Forward(0, 0, x), std::out_of_range);
  EXPECT_THROW((*m)->Forward(-1, 2, x), std::out_of_range);
  EXPECT_THROW((*m)->Forward(0, n + 1, x), std::out_of_range);
}

}  // namespace
}  // namespace ecomap::zoo
