// Tests of the torch-free catalogue (also run in the sanitizer build, without libtorch).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "zoo/catalog.h"
#include "zoo/model.h"
#include "zoo/torchscript.h"

namespace ecomap::zoo {
namespace {

TEST(ZooCatalogTest, EmbeddedCatalogueParsesAndMatchesSpecs) {
  ASSERT_TRUE(CatalogStatus().ok()) << CatalogStatus().ToString();
  ASSERT_EQ(Models().size(), ModelSpecs().size());
  ASSERT_EQ(Models().size(), 18u);
  for (size_t i = 0; i < Models().size(); ++i) {
    EXPECT_EQ(Models()[i].name, ModelSpecs()[i].name);
    EXPECT_FALSE(Models()[i].blocks.empty()) << Models()[i].name;
  }
}

// The committed catalogue carries torchvision's parameter counts and MACs within 2% (this
// checks the data the sanitizer build and the torch-free parts see).
struct Reference {
  const char* name;
  const char* family;
  int64_t params;
  double gmacs;
  double accuracy;
  size_t blocks;
};

constexpr Reference kReferences[] = {
    {"resnet18", "resnet", 11689512, 1.814, 69.758, 7},
    {"resnet34", "resnet", 21797672, 3.664, 73.314, 7},
    {"resnet50", "resnet", 25557032, 4.089, 76.130, 7},
    {"resnet101", "resnet", 44549160, 7.801, 77.374, 7},
    {"resnet152", "resnet", 60192808, 11.514, 78.312, 7},
    {"mobilenet_v3_small", "mobilenet", 2542856, 0.057, 67.668, 15},
    {"mobilenet_v2", "mobilenet", 3504872, 0.301, 71.878, 21},
    {"mobilenet_v3_large", "mobilenet", 5483032, 0.217, 74.042, 19},
    {"efficientnet_b0", "efficientnet", 5288548, 0.386, 77.692, 11},
    {"efficientnet_b1", "efficientnet", 7794184, 0.687, 78.642, 11},
    {"efficientnet_b2", "efficientnet", 9109994, 1.088, 80.608, 11},
    {"efficientnet_b3", "efficientnet", 12233232, 1.827, 82.008, 11},
    {"vgg11", "vgg", 132863336, 7.609, 69.020, 9},
    {"vgg16", "vgg", 138357544, 15.47, 71.592, 9},
};

class CatalogueReferenceTest : public ::testing::TestWithParam<Reference> {};

TEST_P(CatalogueReferenceTest, MatchesTorchvision) {
  const Reference& r = GetParam();
  const ModelInfo* m = FindModel(r.name);
  ASSERT_NE(m, nullptr) << r.name;
  EXPECT_EQ(m->family, r.family);
  EXPECT_EQ(m->TotalParams(), r.params);
  EXPECT_NEAR(m->TotalFlops() / 2e9 / r.gmacs, 1.0, 0.02) << m->TotalFlops() / 2e9;
  EXPECT_DOUBLE_EQ(m->accuracy, r.accuracy);
  EXPECT_EQ(m->blocks.size(), r.blocks);
  EXPECT_EQ(m->task, "imagenet-classification");
  EXPECT_NE(m->accuracy_source.find("IMAGENET1K_V1"), std::string::npos);
  EXPECT_EQ(m->OutputBytes(), 4000);
}

INSTANTIATE_TEST_SUITE_P(Vision, CatalogueReferenceTest, ::testing::ValuesIn(kReferences),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ZooCatalogTest, BertFamily) {
  const std::vector<const ModelInfo*> bert = Family("bert");
  ASSERT_EQ(bert.size(), 4u);
  const char* names[] = {"bert_tiny", "bert_mini", "bert_small", "bert_medium"};
  const double glue[] = {64.2, 65.8, 71.2, 73.5};
  const size_t layers[] = {2, 4, 4, 8};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(bert[i]->name, names[i]);
    EXPECT_DOUBLE_EQ(bert[i]->accuracy, glue[i]);
    EXPECT_EQ(bert[i]->input_dtype, "int64");
    EXPECT_EQ(bert[i]->blocks.size(), layers[i] + 2);
    EXPECT_EQ(bert[i]->blocks.front().kind, BlockKind::kEmbedding);
    EXPECT_EQ(bert[i]->blocks[1].kind, BlockKind::kAttention);
    EXPECT_FALSE(bert[i]->blocks[1].dla_supported);
    EXPECT_NE(bert[i]->accuracy_source.find("arXiv:1908.08962"), std::string::npos);
  }
}

TEST(ZooCatalogTest, FamiliesAreQualityLadders) {
  EXPECT_EQ(Families(),
            (std::vector<std::string>{"resnet", "mobilenet", "efficientnet", "vgg", "bert"}));
  for (const std::string& f : Families()) {
    std::vector<const ModelInfo*> members = Family(f);
    ASSERT_GE(members.size(), 2u) << f;
    for (size_t i = 1; i < members.size(); ++i) {
      EXPECT_GT(members[i]->accuracy, members[i - 1]->accuracy) << f;
      EXPECT_EQ(members[i]->task, members[0]->task) << f;
    }
  }
  EXPECT_TRUE(Family("alexnet").empty());
}

TEST(ZooCatalogTest, LookupNamesKnownModels) {
  EXPECT_EQ(FindModel("nope"), nullptr);
  StatusOr<const ModelInfo*> m = LookupModel("resnet-50");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("'resnet-50'"), std::string::npos);
  EXPECT_NE(m.status().message().find("resnet50"), std::string::npos);
  EXPECT_NE(m.status().message().find("bert_tiny"), std::string::npos);
  StatusOr<const ModelInfo*> ok = LookupModel("vgg16");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->name, "vgg16");
}

TEST(ZooCatalogTest, BlockKindNamesRoundTrip) {
  for (BlockKind k : {BlockKind::kConv, BlockKind::kDepthwise, BlockKind::kLinear,
                      BlockKind::kAttention, BlockKind::kPool, BlockKind::kEmbedding,
                      BlockKind::kOther}) {
    StatusOr<BlockKind> parsed = ParseBlockKind(BlockKindName(k));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, k);
  }
  StatusOr<BlockKind> bad = ParseBlockKind("lstm");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'lstm'"), std::string::npos);
}

TEST(ZooCatalogTest, JsonRoundTrip) {
  std::string text = CatalogToJson(Models());
  StatusOr<std::vector<ModelInfo>> parsed = ParseCatalog(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(*parsed == Models());
  EXPECT_TRUE(CheckCatalogMatchesSpecs(*parsed).ok());
}

TEST(ZooCatalogTest, CheckCatalogMatchesSpecsFindsStaleEntries) {
  std::vector<ModelInfo> models = Models();
  models[3].accuracy += 1;
  Status s = CheckCatalogMatchesSpecs(models);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(models[3].name), std::string::npos);
  EXPECT_NE(s.message().find("ecomap zoo export"), std::string::npos);
  models.pop_back();
  EXPECT_FALSE(CheckCatalogMatchesSpecs(models).ok());
}

// Malformed catalogues are rejected with a message naming the problem.
TEST(ZooCatalogTest, ParseCatalogRejectsBadInput) {
  const std::string block =
      R"({"name":"b","kind":"conv","flops":1,"params":1,"input_bytes":4,"output_bytes":4,)"
      R"("elementwise_ops":0,"dla_supported":true})";
  auto model = [&](const std::string& name, const std::string& blocks) {
    return R"({"name":")" + name +
           R"(","family":"f","task":"t","input_shape":[1,3],"input_dtype":"float32",)"
           R"("accuracy":1,"accuracy_metric":"m","accuracy_source":"s","published_gmacs":0,)"
           R"("blocks":)" + blocks + "}";
  };
  auto catalog = [](const std::string& models) {
    return R"({"format":"ecomap-zoo-catalog","version":1,"models":[)" + models + "]}";
  };
  ASSERT_TRUE(ParseCatalog(catalog(model("a", "[" + block + "]"))).ok());

  struct Case {
    std::string text;
    std::string expect;
  };
  std::string negative = block;
  negative.replace(negative.find("\"params\":1"), 10, "\"params\":-1");
  // `layers` is optional (absent: 0, unknown); a negative count and a wrong type are refused.
  std::string with_layers = block;
  with_layers.replace(with_layers.find("\"dla_supported\""), 0, "\"layers\":3,");
  {
    auto parsed = ParseCatalog(catalog(model("a", "[" + with_layers + "]")));
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ((*parsed)[0].blocks[0].layers, 3);
    EXPECT_EQ((*ParseCatalog(catalog(model("a", "[" + block + "]"))))[0].blocks[0].layers, 0);
  }
  std::string negative_layers = with_layers;
  negative_layers.replace(negative_layers.find("\"layers\":3"), 10, "\"layers\":-3");
  std::string text_layers = with_layers;
  text_layers.replace(text_layers.find("\"layers\":3"), 10, "\"layers\":\"3\"");
  std::string bad_kind = block;
  bad_kind.replace(bad_kind.find("conv"), 4, "lstm");
  const Case cases[] = {
      {"{not json", "not valid JSON"},
      {R"({"format":"other","version":1,"models":[]})", "format"},
      {R"({"format":"ecomap-zoo-catalog","version":2,"models":[]})", "version"},
      {R"({"format":"ecomap-zoo-catalog","version":1})", "'models'"},
      {catalog(model("a", "[]")), "non-empty"},
      {catalog(model("a", "[" + negative + "]")), ">= 0"},
      {catalog(model("a", "[" + negative_layers + "]")), ">= 0"},
      {catalog(model("a", "[" + text_layers + "]")), "layers"},
      {catalog(model("a", "[" + bad_kind + "]")), "'lstm'"},
      {catalog(model("a", "[" + block + "]") + "," + model("a", "[" + block + "]")), "twice"},
      {catalog(R"({"name":"x"})"), "missing field 'family'"},
      {catalog(model("a", "[" + block + "]").replace(
           model("a", "").find("float32"), 7, "float64")), "input_dtype"},
  };
  for (const Case& c : cases) {
    StatusOr<std::vector<ModelInfo>> r = ParseCatalog(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << r.status().message() << " (expected '" << c.expect << "')";
  }
}

}  // namespace
}  // namespace ecomap::zoo

namespace ecomap::zoo {
namespace {

ModelInfo Own(const std::string& name, const std::string& family, double accuracy) {
  ModelInfo m;
  m.name = name;
  m.family = family;
  m.accuracy = accuracy;
  m.input_shape = {1, 3, 8, 8};
  BlockDescriptor b;
  b.name = "model";
  b.kind = BlockKind::kConv;
  b.flops = 1e6;
  m.blocks.push_back(b);
  return m;
}

// Registered models (the operator's own, measured elsewhere) join FindModel and Family.
TEST(RegisteredModels, JoinLookupsButNotTheCatalogue) {
  const size_t catalogue = Models().size();
  const size_t resnet_members = Family("resnet").size();
  StatusOr<const ModelInfo*> big = RegisterModel(Own("own_big", "ownfam", 90));
  ASSERT_TRUE(big.ok()) << big.status().message();
  StatusOr<const ModelInfo*> small = RegisterModel(Own("own_small", "ownfam", 60));
  ASSERT_TRUE(small.ok()) << small.status().message();
  EXPECT_EQ(FindModel("own_big"), *big);
  ASSERT_TRUE(LookupModel("own_small").ok());
  std::vector<const ModelInfo*> fam = Family("ownfam");
  ASSERT_EQ(fam.size(), 2u);
  EXPECT_EQ(fam[0]->name, "own_small");  // increasing accuracy
  EXPECT_EQ(fam[1]->name, "own_big");
  EXPECT_EQ(Families().back(), "ownfam");
  EXPECT_EQ(Models().size(), catalogue);
  EXPECT_NE(KnownModelNames().find("own_big"), std::string::npos);
  // Refused: a taken name, a built-in name, a built-in family, no blocks.
  EXPECT_EQ(RegisterModel(Own("own_big", "ownfam", 10)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RegisterModel(Own("resnet18", "ownfam", 10)).status().code(), StatusCode::kFailedPrecondition);
  StatusOr<const ModelInfo*> r = RegisterModel(Own("own_resnet", "resnet", 10));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("resnet-custom"), std::string::npos) << r.status().message();
  ModelInfo empty = Own("own_empty", "ownfam", 10);
  empty.blocks.clear();
  EXPECT_FALSE(RegisterModel(empty).ok());
  EXPECT_EQ(Family("resnet").size(), resnet_members);  // built-in families are unchanged
  EXPECT_EQ(FindModel("own_resnet"), nullptr);
}

TEST(TorchScriptSpecs, ValidateAndJsonRoundTrip) {
  TorchScriptSpec s;
  s.name = "door_s";
  s.family = "door";
  s.path = "models/door_s.pt";
  s.accuracy = 81.5;
  s.input_shape = {1, 3, 64, 64};
  s.split = SplitMode::kChildren;
  ASSERT_TRUE(ValidateTorchScriptSpec(s).ok());
  StatusOr<TorchScriptSpec> back = TorchScriptSpecFromJson(TorchScriptSpecToJson(s), "door");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, s);
  TorchScriptSpec bad = s;
  bad.input_shape = {1, 0, 4};
  EXPECT_NE(ValidateTorchScriptSpec(bad).message().find("dimension < 1"), std::string::npos);
  bad = s;
  bad.input_shape = {1, 1 << 20, 1 << 20};
  EXPECT_NE(ValidateTorchScriptSpec(bad).message().find("elements"), std::string::npos);
  bad = s;
  bad.name = "door s";
  EXPECT_FALSE(ValidateTorchScriptSpec(bad).ok());
  EXPECT_FALSE(ParseSplitMode("sometimes").ok());
}

}  // namespace
}  // namespace ecomap::zoo
