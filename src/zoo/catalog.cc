#include "zoo/catalog.h"

#include <cmath>
#include <set>
#include <sstream>

namespace ecomap::zoo {
namespace {

constexpr const char* kImagenetMetric = "ImageNet-1K top-1 (%)";
constexpr const char* kGlueMetric = "GLUE test score (average over tasks)";
constexpr const char* kImagenetTask = "imagenet-classification";
constexpr const char* kTextTask = "text-classification";

ModelInfo Vision(const char* name, const char* family, int64_t resolution, double acc1,
                 const char* source_file, const char* weights_enum, double gmacs) {
  ModelInfo m;
  m.name = name;
  m.family = family;
  m.task = kImagenetTask;
  m.input_shape = {1, 3, resolution, resolution};
  m.input_dtype = "float32";
  m.accuracy = acc1;
  m.accuracy_metric = kImagenetMetric;
  m.accuracy_source = std::string("torchvision torchvision/models/") + source_file + ", " +
                      weights_enum +
                      ".IMAGENET1K_V1 meta acc@1 (Debian python3-torchvision 0.14.1); GMACs: "
                      "the same entry's _ops (torchvision >= 0.15)";
  m.published_gmacs = gmacs;
  return m;
}

ModelInfo Bert(const char* name, int layers, int hidden, double glue) {
  ModelInfo m;
  m.name = name;
  m.family = "bert";
  m.task = kTextTask;
  m.input_shape = {1, 128};  // token ids, sequence length 128
  m.input_dtype = "int64";
  m.accuracy = glue;
  m.accuracy_metric = kGlueMetric;
  m.accuracy_source =
      "google-research/bert README, 'BERT miniatures' GLUE test-set scores of the L=" +
      std::to_string(layers) + "/H=" + std::to_string(hidden) +
      " model (Turc et al. 2019, Well-Read Students Learn Better, arXiv:1908.08962)";
  m.published_gmacs = 0;
  return m;
}

std::vector<ModelInfo> BuildSpecs() {
  return {
      Vision("resnet18", "resnet", 224, 69.758, "resnet.py", "ResNet18_Weights", 1.814),
      Vision("resnet34", "resnet", 224, 73.314, "resnet.py", "ResNet34_Weights", 3.664),
      Vision("resnet50", "resnet", 224, 76.130, "resnet.py", "ResNet50_Weights", 4.089),
      Vision("resnet101", "resnet", 224, 77.374, "resnet.py", "ResNet101_Weights", 7.801),
      Vision("resnet152", "resnet", 224, 78.312, "resnet.py", "ResNet152_Weights", 11.514),
      Vision("mobilenet_v3_small", "mobilenet", 224, 67.668, "mobilenetv3.py",
             "MobileNet_V3_Small_Weights", 0.057),
      Vision("mobilenet_v2", "mobilenet", 224, 71.878, "mobilenetv2.py", "MobileNet_V2_Weights",
             0.301),
      Vision("mobilenet_v3_large", "mobilenet", 224, 74.042, "mobilenetv3.py",
             "MobileNet_V3_Large_Weights", 0.217),
      // EfficientNet input resolutions are the crop sizes of the published weights' transforms.
      Vision("efficientnet_b0", "efficientnet", 224, 77.692, "efficientnet.py",
             "EfficientNet_B0_Weights", 0.386),
      Vision("efficientnet_b1", "efficientnet", 240, 78.642, "efficientnet.py",
             "EfficientNet_B1_Weights", 0.687),
      Vision("efficientnet_b2", "efficientnet", 288, 80.608, "efficientnet.py",
             "EfficientNet_B2_Weights", 1.088),
      Vision("efficientnet_b3", "efficientnet", 300, 82.008, "efficientnet.py",
             "EfficientNet_B3_Weights", 1.827),
      Vision("vgg11", "vgg", 224, 69.020, "vgg.py", "VGG11_Weights", 7.609),
      Vision("vgg16", "vgg", 224, 71.592, "vgg.py", "VGG16_Weights", 15.47),
      Bert("bert_tiny", 2, 128, 64.2),
      Bert("bert_mini", 4, 256, 65.8),
      Bert("bert_small", 4, 512, 71.2),
      Bert("bert_medium", 8, 512, 73.5),
  };
}

template <typename T>
Status Get(const nlohmann::json& j, const char* key, const std::string& where, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return InvalidArgument(where + ": missing field '" + key + "'");
  try {
    *out = it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(where + ": field '" + key + "' has the wrong type (" + e.what() + ")");
  }
  return Status::Ok();
}

}  // namespace

const std::vector<ModelInfo>& ModelSpecs() {
  static const std::vector<ModelInfo>* specs = new std::vector<ModelInfo>(BuildSpecs());
  return *specs;
}

const ModelInfo* FindModelSpec(const std::string& name) {
  for (const ModelInfo& m : ModelSpecs()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

nlohmann::json BlockToJson(const BlockDescriptor& b) {
  return nlohmann::json{{"name", b.name},
                        {"kind", BlockKindName(b.kind)},
                        {"flops", b.flops},
                        {"params", b.params},
                        {"input_bytes", b.input_bytes},
                        {"output_bytes", b.output_bytes},
                        {"elementwise_ops", b.elementwise_ops},
                        {"layers", b.layers},
                        {"dla_supported", b.dla_supported}};
}

nlohmann::json ModelInfoToJson(const ModelInfo& m) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const BlockDescriptor& b : m.blocks) blocks.push_back(BlockToJson(b));
  return nlohmann::json{{"name", m.name},
                        {"family", m.family},
                        {"task", m.task},
                        {"input_shape", m.input_shape},
                        {"input_dtype", m.input_dtype},
                        {"accuracy", m.accuracy},
                        {"accuracy_metric", m.accuracy_metric},
                        {"accuracy_source", m.accuracy_source},
                        {"published_gmacs", m.published_gmacs},
                        {"blocks", std::move(blocks)}};
}

StatusOr<ModelInfo> ModelInfoFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("model record is not a JSON object");
  ModelInfo m;
  ECOMAP_RETURN_IF_ERROR(Get(j, "name", "model", &m.name));
  const std::string where = "model '" + m.name + "'";
  ECOMAP_RETURN_IF_ERROR(Get(j, "family", where, &m.family));
  ECOMAP_RETURN_IF_ERROR(Get(j, "task", where, &m.task));
  ECOMAP_RETURN_IF_ERROR(Get(j, "input_shape", where, &m.input_shape));
  ECOMAP_RETURN_IF_ERROR(Get(j, "input_dtype", where, &m.input_dtype));
  ECOMAP_RETURN_IF_ERROR(Get(j, "accuracy", where, &m.accuracy));
  ECOMAP_RETURN_IF_ERROR(Get(j, "accuracy_metric", where, &m.accuracy_metric));
  ECOMAP_RETURN_IF_ERROR(Get(j, "accuracy_source", where, &m.accuracy_source));
  ECOMAP_RETURN_IF_ERROR(Get(j, "published_gmacs", where, &m.published_gmacs));
  if (m.input_dtype != "float32" && m.input_dtype != "int64") {
    return InvalidArgument(where + ": input_dtype '" + m.input_dtype +
                           "' is not one of float32, int64");
  }
  auto it = j.find("blocks");
  if (it == j.end() || !it->is_array() || it->empty()) {
    return InvalidArgument(where + ": 'blocks' must be a non-empty array");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& jb = (*it)[i];
    const std::string bwhere = where + " block " + std::to_string(i);
    if (!jb.is_object()) return InvalidArgument(bwhere + ": not a JSON object");
    BlockDescriptor b;
    std::string kind;
    ECOMAP_RETURN_IF_ERROR(Get(jb, "name", bwhere, &b.name));
    ECOMAP_RETURN_IF_ERROR(Get(jb, "kind", bwhere, &kind));
    StatusOr<BlockKind> k = ParseBlockKind(kind);
    if (!k.ok()) return k.status().WithContext(bwhere);
    b.kind = *k;
    ECOMAP_RETURN_IF_ERROR(Get(jb, "flops", bwhere, &b.flops));
    ECOMAP_RETURN_IF_ERROR(Get(jb, "params", bwhere, &b.params));
    ECOMAP_RETURN_IF_ERROR(Get(jb, "input_bytes", bwhere, &b.input_bytes));
    ECOMAP_RETURN_IF_ERROR(Get(jb, "output_bytes", bwhere, &b.output_bytes));
    ECOMAP_RETURN_IF_ERROR(Get(jb, "elementwise_ops", bwhere, &b.elementwise_ops));
    ECOMAP_RETURN_IF_ERROR(Get(jb, "dla_supported", bwhere, &b.dla_supported));
    if (jb.contains("layers")) ECOMAP_RETURN_IF_ERROR(Get(jb, "layers", bwhere, &b.layers));
    if (b.flops < 0 || b.params < 0 || b.input_bytes <= 0 || b.output_bytes <= 0 ||
        b.elementwise_ops < 0 || b.layers < 0 || !std::isfinite(b.flops)) {
      return InvalidArgument(bwhere + " ('" + b.name +
                             "'): figures must be >= 0 and activation bytes > 0");
    }
    m.blocks.push_back(std::move(b));
  }
  return m;
}

std::string CatalogToJson(const std::vector<ModelInfo>& models) {
  nlohmann::json j;
  j["format"] = "ecomap-zoo-catalog";
  j["version"] = 1;
  j["conventions"] = {
      {"generated_by", "ecomap zoo export (derived from the libtorch modules, batch 1)"},
      {"flops",
       "2 x multiply-accumulates of convolutions, linear layers and attention matmuls; "
       "torchvision's published GFLOPS (_ops) count MACs, so compare flops/2"},
      {"elementwise_ops",
       "one per element for batch/layer norm, activations, residual adds, SE scaling, "
       "softmax; kernel window per output element for pooling"},
      {"layers",
       "MAC-carrying layers of the block (convolutions, linear layers, attention matmuls), "
       "one GPU kernel each; optional, 0 or absent: unknown"},
      {"bytes", "activation bytes at batch 1 (float32, or int64 token ids entering a text model)"},
      {"dla_supported",
       "every op of the block is in TensorRT's DLA layer list (convolution, pooling, batch "
       "norm, ReLU/ReLU6/sigmoid/tanh, element-wise, fully connected); hardswish/hardsigmoid, "
       "GELU, attention, softmax, embeddings and layer norm fall back to the GPU"},
      {"accuracy", "published figure of the same architecture; see accuracy_source"}};
  nlohmann::json arr = nlohmann::json::array();
  for (const ModelInfo& m : models) arr.push_back(ModelInfoToJson(m));
  j["models"] = std::move(arr);
  return j.dump(1) + "\n";
}

StatusOr<std::vector<ModelInfo>> ParseCatalog(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("zoo catalogue is not valid JSON: ") + e.what());
  }
  if (!j.is_object() || j.value("format", "") != "ecomap-zoo-catalog") {
    return InvalidArgument("zoo catalogue: 'format' is not \"ecomap-zoo-catalog\"");
  }
  if (j.value("version", 0) != 1) {
    return InvalidArgument("zoo catalogue: unsupported version (this build reads version 1)");
  }
  auto it = j.find("models");
  if (it == j.end() || !it->is_array()) {
    return InvalidArgument("zoo catalogue: 'models' must be an array");
  }
  std::vector<ModelInfo> models;
  std::set<std::string> names;
  for (const nlohmann::json& jm : *it) {
    ECOMAP_ASSIGN_OR_RETURN(ModelInfo m, ModelInfoFromJson(jm));
    if (!names.insert(m.name).second) {
      return InvalidArgument("zoo catalogue: model '" + m.name + "' appears twice");
    }
    models.push_back(std::move(m));
  }
  return models;
}

Status CheckCatalogMatchesSpecs(const std::vector<ModelInfo>& catalog) {
  const std::string fix =
      "; regenerate it with `ecomap zoo export --out data/zoo/catalog.json` and rebuild";
  const std::vector<ModelInfo>& specs = ModelSpecs();
  if (catalog.size() != specs.size()) {
    return FailedPrecondition("zoo catalogue lists " + std::to_string(catalog.size()) +
                              " models, the specifications " + std::to_string(specs.size()) +
                              fix);
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    ModelInfo meta = catalog[i];
    meta.blocks.clear();
    if (!(meta == specs[i])) {
      return FailedPrecondition("zoo catalogue entry " + std::to_string(i) + " ('" +
                                catalog[i].name + "') differs from the specification of '" +
                                specs[i].name + "'" + fix);
    }
  }
  return Status::Ok();
}

}  // namespace ecomap::zoo
