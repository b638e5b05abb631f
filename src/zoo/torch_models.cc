// The real DNNs in the libtorch C++ front end, and the derivation of their block descriptors.
//
// Architectures follow torchvision 0.14 (torchvision/models/{resnet,mobilenetv2,mobilenetv3,
// efficientnet,vgg}.py) layer for layer, so parameter counts equal torchvision's; the text
// family follows BERT (Devlin et al.) at the sizes of Google's BERT miniatures. Every layer's
// forward goes through one of the helpers below (Conv, Bn, Act, Fc, ...), which also do the
// op accounting when a derivation is running on the thread (one pointer test otherwise).
//
// This is the only translation unit that includes <torch/torch.h>.
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "zoo/catalog.h"
#include "zoo/derive.h"
#include "zoo/torch_models.h"

namespace ecomap::zoo {
namespace {

namespace nn = torch::nn;

// ----------------------------------------------------------------------------------------
// Op accounting. While a derivation runs on this thread, t_tally points at the tally of the
// block being derived; the helpers add their MACs, element-wise ops and DLA capability.

struct OpTally {
  double macs = 0;
  double elementwise = 0;
  int layers = 0;  // MAC-carrying operations counted
  bool dla = true;
};
thread_local OpTally* t_tally = nullptr;

// `layers`: how many MAC-carrying operations (GPU kernels) the MACs come from.
void CountMacs(double macs, int layers = 1) {
  if (t_tally != nullptr) {
    t_tally->macs += macs;
    t_tally->layers += layers;
  }
}
void CountElementwise(double ops) {
  if (t_tally != nullptr) t_tally->elementwise += ops;
}
void CountNotDla() {
  if (t_tally != nullptr) t_tally->dla = false;
}

// Convolution: MACs = output elements x (input channels / groups) x kernel area.
at::Tensor Conv(nn::Conv2d& conv, const at::Tensor& x) {
  at::Tensor y = conv->forward(x);
  const at::Tensor& w = conv->weight;  // [out, in/groups, kh, kw]
  CountMacs(static_cast<double>(y.numel()) * w.size(1) * w.size(2) * w.size(3));
  return y;
}

// Fully connected: MACs = output elements x input features.
at::Tensor Fc(nn::Linear& fc, const at::Tensor& x) {
  at::Tensor y = fc->forward(x);
  CountMacs(static_cast<double>(y.numel()) * fc->weight.size(1));
  return y;
}

at::Tensor Bn(nn::BatchNorm2d& bn, const at::Tensor& x) {
  CountElementwise(static_cast<double>(x.numel()));
  return bn->forward(x);
}

enum class Act { kNone, kReLU, kReLU6, kHardswish, kHardsigmoid, kSiLU, kSigmoid, kTanh };

// Applies the activation in place (x must be a fresh intermediate, never a block input).
at::Tensor Activate(Act act, at::Tensor x) {
  if (act == Act::kNone) return x;
  CountElementwise(static_cast<double>(x.numel()));
  switch (act) {
    case Act::kReLU: return x.relu_();
    case Act::kReLU6: return x.clamp_(0, 6);  // DLA: clipped ReLU
    case Act::kHardswish: CountNotDla(); return at::hardswish_(x);
    case Act::kHardsigmoid: CountNotDla(); return at::hardsigmoid_(x);
    case Act::kSiLU: return at::silu_(x);     // DLA: sigmoid + element-wise product
    case Act::kSigmoid: return x.sigmoid_();
    case Act::kTanh: return x.tanh_();
    case Act::kNone: break;
  }
  return x;
}

// a += b in place (a must be a fresh intermediate, never a block input), like torchvision's
// `out += identity`.
at::Tensor AddInPlace(at::Tensor a, const at::Tensor& b) {
  CountElementwise(static_cast<double>(a.numel()));
  return a.add_(b);
}

at::Tensor MaxPool(const at::Tensor& x, int64_t k, int64_t s, int64_t p) {
  at::Tensor y = at::max_pool2d(x, {k, k}, {s, s}, {p, p});
  CountElementwise(static_cast<double>(y.numel()) * k * k);
  return y;
}

// Global average pooling to 1x1, flattened to [N, C].
at::Tensor GlobalAvgPool(const at::Tensor& x) {
  CountElementwise(static_cast<double>(x.numel()));
  return at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
}

// ----------------------------------------------------------------------------------------
// Building blocks. A Unit is a module with a forward; blocks are units.

class Unit : public nn::Module {
 public:
  virtual at::Tensor Run(const at::Tensor& x) = 0;
};
using UnitPtr = std::shared_ptr<Unit>;

class Seq : public Unit {
 public:
  void Add(const std::string& name, UnitPtr unit) {
    units_.push_back(register_module(name, std::move(unit)));
  }
  at::Tensor Run(const at::Tensor& x) override {
    at::Tensor h = x;
    for (auto& u : units_) h = u->Run(h);
    return h;
  }

 private:
  std::vector<UnitPtr> units_;
};

// Conv2d (+ BatchNorm2d) (+ activation), torchvision's Conv2dNormActivation.
class ConvBnAct : public Unit {
 public:
  ConvBnAct(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups, Act act,
            double bn_eps, bool with_bn = true)
      : act_(act), with_bn_(with_bn) {
    conv_ = register_module("0", nn::Conv2d(nn::Conv2dOptions(in, out, k)
                                                .stride(stride)
                                                .padding((k - 1) / 2)
                                                .groups(groups)
                                                .bias(!with_bn)));
    if (with_bn) bn_ = register_module("1", nn::BatchNorm2d(nn::BatchNorm2dOptions(out).eps(bn_eps)));
  }
  at::Tensor Run(const at::Tensor& x) override {
    at::Tensor y = Conv(conv_, x);
    if (with_bn_) y = Bn(bn_, y);
    return Activate(act_, std::move(y));
  }

 private:
  nn::Conv2d conv_{nullptr};
  nn::BatchNorm2d bn_{nullptr};
  Act act_;
  bool with_bn_;
};

class MaxPoolUnit : public Unit {
 public:
  MaxPoolUnit(int64_t k, int64_t s, int64_t p) : k_(k), s_(s), p_(p) {}
  at::Tensor Run(const at::Tensor& x) override { return MaxPool(x, k_, s_, p_); }

 private:
  int64_t k_, s_, p_;
};

class GlobalPoolUnit : public Unit {
 public:
  at::Tensor Run(const at::Tensor& x) override { return GlobalAvgPool(x); }
};

// Linear (+ activation); dropout is the identity in eval mode.
class FcUnit : public Unit {
 public:
  FcUnit(int64_t in, int64_t out, Act act) : act_(act) {
    fc_ = register_module("fc", nn::Linear(in, out));
  }
  at::Tensor Run(const at::Tensor& x) override { return Activate(act_, Fc(fc_, x)); }

 private:
  nn::Linear fc_{nullptr};
  Act act_;
};

// ---- ResNet (torchvision resnet.py; ResNet V1.5: stride on the 3x3 of the bottleneck).

constexpr double kBnEps = 1e-5;

class Downsample : public Unit {
 public:
  Downsample(int64_t in, int64_t out, int64_t stride) {
    body_ = register_module("0", std::make_shared<ConvBnAct>(in, out, 1, stride, 1, Act::kNone,
                                                             kBnEps));
  }
  at::Tensor Run(const at::Tensor& x) override { return body_->Run(x); }

 private:
  std::shared_ptr<ConvBnAct> body_;
};

class ResidualUnit : public Unit {
 public:
  // body: the residual branch; downsample may be null (identity shortcut).
  at::Tensor Run(const at::Tensor& x) override {
    at::Tensor identity = downsample_ ? downsample_->Run(x) : x;
    at::Tensor y = body_->Run(x);
    y = AddInPlace(std::move(y), identity);
    return Activate(Act::kReLU, std::move(y));
  }

 protected:
  std::shared_ptr<Seq> body_;
  std::shared_ptr<Downsample> downsample_;
};

class BasicBlock : public ResidualUnit {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t in, int64_t planes, int64_t stride) {
    body_ = register_module("body", std::make_shared<Seq>());
    body_->Add("conv1", std::make_shared<ConvBnAct>(in, planes, 3, stride, 1, Act::kReLU, kBnEps));
    body_->Add("conv2", std::make_shared<ConvBnAct>(planes, planes, 3, 1, 1, Act::kNone, kBnEps));
    if (stride != 1 || in != planes) {
      downsample_ = register_module("downsample", std::make_shared<Downsample>(in, planes, stride));
    }
  }
};

class Bottleneck : public ResidualUnit {
 public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t in, int64_t planes, int64_t stride) {
    const int64_t out = planes * kExpansion;
    body_ = register_module("body", std::make_shared<Seq>());
    body_->Add("conv1", std::make_shared<ConvBnAct>(in, planes, 1, 1, 1, Act::kReLU, kBnEps));
    body_->Add("conv2",
               std::make_shared<ConvBnAct>(planes, planes, 3, stride, 1, Act::kReLU, kBnEps));
    body_->Add("conv3", std::make_shared<ConvBnAct>(planes, out, 1, 1, 1, Act::kNone, kBnEps));
    if (stride != 1 || in != out) {
      downsample_ = register_module("downsample", std::make_shared<Downsample>(in, out, stride));
    }
  }
};

// A named block of a model with its kind.
struct NamedBlock {
  std::string name;
  BlockKind kind;
  UnitPtr unit;
};

struct Architecture {
  std::vector<NamedBlock> blocks;
  double linear_init_std = 0.01;  // std of the normal init of 2-D weights
};

template <typename BlockT>
std::shared_ptr<Seq> ResNetLayer(int64_t* in, int64_t planes, int64_t n, int64_t stride) {
  auto layer = std::make_shared<Seq>();
  for (int64_t i = 0; i < n; ++i) {
    layer->Add(std::to_string(i), std::make_shared<BlockT>(*in, planes, i == 0 ? stride : 1));
    *in = planes * BlockT::kExpansion;
  }
  return layer;
}

template <typename BlockT>
Architecture ResNet(std::array<int64_t, 4> layers) {
  Architecture a;
  auto stem = std::make_shared<Seq>();
  stem->Add("conv1", std::make_shared<ConvBnAct>(3, 64, 7, 2, 1, Act::kReLU, kBnEps));
  stem->Add("maxpool", std::make_shared<MaxPoolUnit>(3, 2, 1));
  a.blocks.push_back({"stem", BlockKind::kConv, stem});
  int64_t in = 64;
  const int64_t planes[4] = {64, 128, 256, 512};
  for (int i = 0; i < 4; ++i) {
    a.blocks.push_back({"layer" + std::to_string(i + 1), BlockKind::kConv,
                        ResNetLayer<BlockT>(&in, planes[i], layers[i], i == 0 ? 1 : 2)});
  }
  a.blocks.push_back({"avgpool", BlockKind::kPool, std::make_shared<GlobalPoolUnit>()});
  a.blocks.push_back({"fc", BlockKind::kLinear, std::make_shared<FcUnit>(in, 1000, Act::kNone)});
  return a;
}

// ---- MobileNetV2 (torchvision mobilenetv2.py).

int64_t MakeDivisible(double v, int64_t divisor = 8) {
  int64_t new_v = std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (new_v < 0.9 * v) new_v += divisor;
  return new_v;
}

class InvertedResidualV2 : public Unit {
 public:
  InvertedResidualV2(int64_t in, int64_t out, int64_t stride, int64_t expand) {
    const int64_t hidden = static_cast<int64_t>(std::lround(static_cast<double>(in) * expand));
    use_res_ = stride == 1 && in == out;
    body_ = register_module("conv", std::make_shared<Seq>());
    if (expand != 1) {
      body_->Add("0", std::make_shared<ConvBnAct>(in, hidden, 1, 1, 1, Act::kReLU6, kBnEps));
    }
    body_->Add("1", std::make_shared<ConvBnAct>(hidden, hidden, 3, stride, hidden, Act::kReLU6,
                                                kBnEps));
    body_->Add("2", std::make_shared<ConvBnAct>(hidden, out, 1, 1, 1, Act::kNone, kBnEps));
  }
  at::Tensor Run(const at::Tensor& x) override {
    at::Tensor y = body_->Run(x);
    return use_res_ ? AddInPlace(std::move(y), x) : y;
  }

 private:
  std::shared_ptr<Seq> body_;
  bool use_res_;
};

Architecture MobileNetV2() {
  Architecture a;
  int64_t in = 32;
  a.blocks.push_back({"features.0", BlockKind::kConv,
                      std::make_shared<ConvBnAct>(3, in, 3, 2, 1, Act::kReLU6, kBnEps)});
  const int64_t settings[7][4] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                  {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
  int index = 1;
  for (const auto& s : settings) {
    for (int64_t i = 0; i < s[2]; ++i) {
      a.blocks.push_back({"features." + std::to_string(index++), BlockKind::kDepthwise,
                          std::make_shared<InvertedResidualV2>(in, s[1], i == 0 ? s[3] : 1, s[0])});
      in = s[1];
    }
  }
  a.blocks.push_back({"features." + std::to_string(index), BlockKind::kConv,
                      std::make_shared<ConvBnAct>(in, 1280, 1, 1, 1, Act::kReLU6, kBnEps)});
  a.blocks.push_back({"avgpool", BlockKind::kPool, std::make_shared<GlobalPoolUnit>()});
  a.blocks.push_back({"classifier", BlockKind::kLinear,
                      std::make_shared<FcUnit>(1280, 1000, Act::kNone)});
  return a;
}

// ---- Squeeze-and-excitation (torchvision ops.misc.SqueezeExcitation).

class SqueezeExcitation : public Unit {
 public:
  SqueezeExcitation(int64_t channels, int64_t squeeze, Act inner, Act scale)
      : inner_(inner), scale_(scale) {
    fc1_ = register_module("fc1", nn::Conv2d(nn::Conv2dOptions(channels, squeeze, 1)));
    fc2_ = register_module("fc2", nn::Conv2d(nn::Conv2dOptions(squeeze, channels, 1)));
  }
  at::Tensor Run(const at::Tensor& x) override {
    CountElementwise(static_cast<double>(x.numel()));  // average pooling
    at::Tensor s = at::adaptive_avg_pool2d(x, {1, 1});
    s = Activate(inner_, Conv(fc1_, s));
    s = Activate(scale_, Conv(fc2_, s));
    CountElementwise(static_cast<double>(x.numel()));  // scaling
    return x * s;
  }

 private:
  nn::Conv2d fc1_{nullptr}, fc2_{nullptr};
  Act inner_, scale_;
};

// ---- MobileNetV3 (torchvision mobilenetv3.py; BatchNorm eps 0.001).

constexpr double kBnEpsV3 = 0.001;

struct V3Config {
  int64_t in, kernel, expanded, out;
  bool se, hardswish;
  int64_t stride;
};

class InvertedResidualV3 : public Unit {
 public:
  explicit InvertedResidualV3(const V3Config& c) {
    use_res_ = c.stride == 1 && c.in == c.out;
    const Act act = c.hardswish ? Act::kHardswish : Act::kReLU;
    body_ = register_module("block", std::make_shared<Seq>());
    if (c.expanded != c.in) {
      body_->Add("0", std::make_shared<ConvBnAct>(c.in, c.expanded, 1, 1, 1, act, kBnEpsV3));
    }
    body_->Add("1", std::make_shared<ConvBnAct>(c.expanded, c.expanded, c.kernel, c.stride,
                                                c.expanded, act, kBnEpsV3));
    if (c.se) {
      body_->Add("2", std::make_shared<SqueezeExcitation>(c.expanded, MakeDivisible(c.expanded / 4),
                                                          Act::kReLU, Act::kHardsigmoid));
    }
    body_->Add("3", std::make_shared<ConvBnAct>(c.expanded, c.out, 1, 1, 1, Act::kNone, kBnEpsV3));
  }
  at::Tensor Run(const at::Tensor& x) override {
    at::Tensor y = body_->Run(x);
    return use_res_ ? AddInPlace(std::move(y), x) : y;
  }

 private:
  std::shared_ptr<Seq> body_;
  bool use_res_;
};

Architecture MobileNetV3(bool large) {
  // in, kernel, expanded, out, SE, hardswish, stride (torchvision _mobilenet_v3_conf).
  const std::vector<V3Config> large_cfg = {
      {16, 3, 16, 16, false, false, 1},    {16, 3, 64, 24, false, false, 2},
      {24, 3, 72, 24, false, false, 1},    {24, 5, 72, 40, true, false, 2},
      {40, 5, 120, 40, true, false, 1},    {40, 5, 120, 40, true, false, 1},
      {40, 3, 240, 80, false, true, 2},    {80, 3, 200, 80, false, true, 1},
      {80, 3, 184, 80, false, true, 1},    {80, 3, 184, 80, false, true, 1},
      {80, 3, 480, 112, true, true, 1},    {112, 3, 672, 112, true, true, 1},
      {112, 5, 672, 160, true, true, 2},   {160, 5, 960, 160, true, true, 1},
      {160, 5, 960, 160, true, true, 1}};
  const std::vector<V3Config> small_cfg = {
      {16, 3, 16, 16, true, false, 2},   {16, 3, 72, 24, false, false, 2},
      {24, 3, 88, 24, false, false, 1},  {24, 5, 96, 40, true, true, 2},
      {40, 5, 240, 40, true, true, 1},   {40, 5, 240, 40, true, true, 1},
      {40, 5, 120, 48, true, true, 1},   {48, 5, 144, 48, true, true, 1},
      {48, 5, 288, 96, true, true, 2},   {96, 5, 576, 96, true, true, 1},
      {96, 5, 576, 96, true, true, 1}};
  const std::vector<V3Config>& cfg = large ? large_cfg : small_cfg;
  const int64_t last_channel = large ? 1280 : 1024;
  Architecture a;
  a.blocks.push_back({"features.0", BlockKind::kConv,
                      std::make_shared<ConvBnAct>(3, 16, 3, 2, 1, Act::kHardswish, kBnEpsV3)});
  int index = 1;
  for (const V3Config& c : cfg) {
    a.blocks.push_back({"features." + std::to_string(index++), BlockKind::kDepthwise,
                        std::make_shared<InvertedResidualV3>(c)});
  }
  const int64_t last_in = cfg.back().out;
  const int64_t last_out = 6 * last_in;
  a.blocks.push_back({"features." + std::to_string(index), BlockKind::kConv,
                      std::make_shared<ConvBnAct>(last_in, last_out, 1, 1, 1, Act::kHardswish,
                                                  kBnEpsV3)});
  a.blocks.push_back({"avgpool", BlockKind::kPool, std::make_shared<GlobalPoolUnit>()});
  auto classifier = std::make_shared<Seq>();
  classifier->Add("0", std::make_shared<FcUnit>(last_out, last_channel, Act::kHardswish));
  classifier->Add("3", std::make_shared<FcUnit>(last_channel, 1000, Act::kNone));
  a.blocks.push_back({"classifier", BlockKind::kLinear, classifier});
  return a;
}

// ---- EfficientNet B0..B3 (torchvision efficientnet.py; stochastic depth is the identity in
// eval mode; BatchNorm eps 1e-5).

class MBConv : public Unit {
 public:
  MBConv(int64_t in, int64_t out, int64_t kernel, int64_t stride, double expand_ratio) {
    use_res_ = stride == 1 && in == out;
    const int64_t expanded = MakeDivisible(static_cast<double>(in) * expand_ratio);
    body_ = register_module("block", std::make_shared<Seq>());
    if (expanded != in) {
      body_->Add("0", std::make_shared<ConvBnAct>(in, expanded, 1, 1, 1, Act::kSiLU, kBnEps));
    }
    body_->Add("1", std::make_shared<ConvBnAct>(expanded, expanded, kernel, stride, expanded,
                                                Act::kSiLU, kBnEps));
    body_->Add("2", std::make_shared<SqueezeExcitation>(expanded, std::max<int64_t>(1, in / 4),
                                                        Act::kSiLU, Act::kSigmoid));
    body_->Add("3", std::make_shared<ConvBnAct>(expanded, out, 1, 1, 1, Act::kNone, kBnEps));
  }
  at::Tensor Run(const at::Tensor& x) override {
    at::Tensor y = body_->Run(x);
    return use_res_ ? AddInPlace(std::move(y), x) : y;
  }

 private:
  std::shared_ptr<Seq> body_;
  bool use_res_;
};

Architecture EfficientNet(double width_mult, double depth_mult) {
  // expand_ratio, kernel, stride, in, out, layers (torchvision _efficientnet_conf).
  const double settings[7][6] = {{1, 3, 1, 32, 16, 1},   {6, 3, 2, 16, 24, 2},
                                 {6, 5, 2, 24, 40, 2},   {6, 3, 2, 40, 80, 3},
                                 {6, 5, 1, 80, 112, 3},  {6, 5, 2, 112, 192, 4},
                                 {6, 3, 1, 192, 320, 1}};
  auto channels = [&](double c) { return MakeDivisible(c * width_mult); };
  Architecture a;
  const int64_t first = channels(settings[0][3]);
  a.blocks.push_back({"features.0", BlockKind::kConv,
                      std::make_shared<ConvBnAct>(3, first, 3, 2, 1, Act::kSiLU, kBnEps)});
  int64_t in = first;
  for (int s = 0; s < 7; ++s) {
    const auto& c = settings[s];
    const int64_t out = channels(c[4]);
    const int64_t layers = static_cast<int64_t>(std::ceil(c[5] * depth_mult));
    auto stage = std::make_shared<Seq>();
    for (int64_t i = 0; i < layers; ++i) {
      stage->Add(std::to_string(i),
                 std::make_shared<MBConv>(in, out, static_cast<int64_t>(c[1]),
                                          i == 0 ? static_cast<int64_t>(c[2]) : 1, c[0]));
      in = out;
    }
    a.blocks.push_back({"features." + std::to_string(s + 1), BlockKind::kDepthwise, stage});
  }
  const int64_t last = 4 * in;
  a.blocks.push_back({"features.8", BlockKind::kConv,
                      std::make_shared<ConvBnAct>(in, last, 1, 1, 1, Act::kSiLU, kBnEps)});
  a.blocks.push_back({"avgpool", BlockKind::kPool, std::make_shared<GlobalPoolUnit>()});
  a.blocks.push_back({"classifier", BlockKind::kLinear,
                      std::make_shared<FcUnit>(last, 1000, Act::kNone)});
  return a;
}

// ---- VGG (torchvision vgg.py, without batch norm).

class AdaptivePool7 : public Unit {
 public:
  at::Tensor Run(const at::Tensor& x) override {
    CountElementwise(static_cast<double>(x.numel()));
    return at::adaptive_avg_pool2d(x, {7, 7}).flatten(1);
  }
};

Architecture Vgg(const std::vector<std::vector<int64_t>>& stages) {
  Architecture a;
  int64_t in = 3;
  for (size_t s = 0; s < stages.size(); ++s) {
    auto stage = std::make_shared<Seq>();
    int i = 0;
    for (int64_t out : stages[s]) {
      stage->Add("conv" + std::to_string(i++),
                 std::make_shared<ConvBnAct>(in, out, 3, 1, 1, Act::kReLU, 0, /*with_bn=*/false));
      in = out;
    }
    stage->Add("pool", std::make_shared<MaxPoolUnit>(2, 2, 0));
    a.blocks.push_back({"stage" + std::to_string(s + 1), BlockKind::kConv, stage});
  }
  a.blocks.push_back({"avgpool", BlockKind::kPool, std::make_shared<AdaptivePool7>()});
  a.blocks.push_back({"fc6", BlockKind::kLinear, std::make_shared<FcUnit>(in * 49, 4096, Act::kReLU)});
  a.blocks.push_back({"fc7", BlockKind::kLinear, std::make_shared<FcUnit>(4096, 4096, Act::kReLU)});
  a.blocks.push_back({"fc8", BlockKind::kLinear, std::make_shared<FcUnit>(4096, 1000, Act::kNone)});
  return a;
}

// ---- BERT-style text encoder. Between blocks the hidden states are [S, N, H] (sequence
// first), the layout of libtorch 1.13's TransformerEncoderLayer (no batch_first); the model
// input is token ids [N, S] (int64) and the output class logits [N, 2].

struct BertConfig {
  int64_t layers, hidden, heads, intermediate;
  int64_t vocab = 30522, max_positions = 512, type_vocab = 2, seq_len = 128, classes = 2;
};

class BertEmbeddings : public Unit {
 public:
  explicit BertEmbeddings(const BertConfig& c) {
    word_ = register_module("word_embeddings", nn::Embedding(c.vocab, c.hidden));
    position_ = register_module("position_embeddings", nn::Embedding(c.max_positions, c.hidden));
    type_ = register_module("token_type_embeddings", nn::Embedding(c.type_vocab, c.hidden));
    norm_ = register_module(
        "LayerNorm", nn::LayerNorm(nn::LayerNormOptions({c.hidden}).eps(1e-12)));
  }
  at::Tensor Run(const at::Tensor& ids) override {
    CountNotDla();
    const int64_t seq = ids.size(1);
    at::Tensor positions = at::arange(seq, ids.options().dtype(at::kLong)).unsqueeze(0);
    at::Tensor types = at::zeros_like(ids);
    at::Tensor e = word_->forward(ids) + position_->forward(positions) + type_->forward(types);
    CountElementwise(3.0 * static_cast<double>(e.numel()));  // two adds and the layer norm
    return norm_->forward(e).transpose(0, 1).contiguous();
  }

 private:
  nn::Embedding word_{nullptr}, position_{nullptr}, type_{nullptr};
  nn::LayerNorm norm_{nullptr};
};

class BertLayer : public Unit {
 public:
  explicit BertLayer(const BertConfig& c) : hidden_(c.hidden), heads_(c.heads), ff_(c.intermediate) {
    layer_ = register_module(
        "layer", nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(c.hidden, c.heads)
                                                 .dim_feedforward(c.intermediate)
                                                 .dropout(0.1)
                                                 .activation(torch::kGELU)));
  }
  at::Tensor Run(const at::Tensor& x) override {  // x: [S, N, H]
    CountNotDla();
    const double s = static_cast<double>(x.size(0)), n = static_cast<double>(x.size(1));
    const double h = static_cast<double>(hidden_), f = static_cast<double>(ff_);
    // Q, K, V and output projections; Q K^T and attention x V; the two feed-forward layers.
    CountMacs(n * (4 * s * h * h + 2 * s * s * h + 2 * s * h * f), /*layers=*/8);
    // softmax over heads x S x S; two residual adds and two layer norms; GELU.
    CountElementwise(n * (static_cast<double>(heads_) * s * s + 4 * s * h + s * f));
    return layer_->forward(x);
  }

 private:
  nn::TransformerEncoderLayer layer_{nullptr};
  int64_t hidden_, heads_, ff_;
};

class BertPoolerClassifier : public Unit {
 public:
  explicit BertPoolerClassifier(const BertConfig& c) {
    pooler_ = register_module("pooler", nn::Linear(c.hidden, c.hidden));
    classifier_ = register_module("classifier", nn::Linear(c.hidden, c.classes));
  }
  at::Tensor Run(const at::Tensor& x) override {  // x: [S, N, H] -> logits [N, classes]
    CountNotDla();  // gathers the first token across the sequence axis
    at::Tensor first = x.select(0, 0);
    at::Tensor pooled = Activate(Act::kTanh, Fc(pooler_, first));
    return Fc(classifier_, pooled);
  }

 private:
  nn::Linear pooler_{nullptr}, classifier_{nullptr};
};

Architecture Bert(const BertConfig& c) {
  Architecture a;
  a.linear_init_std = 0.02;
  a.blocks.push_back({"embeddings", BlockKind::kEmbedding, std::make_shared<BertEmbeddings>(c)});
  for (int64_t i = 0; i < c.layers; ++i) {
    a.blocks.push_back({"encoder.layer." + std::to_string(i), BlockKind::kAttention,
                        std::make_shared<BertLayer>(c)});
  }
  a.blocks.push_back({"pooler_classifier", BlockKind::kLinear,
                      std::make_shared<BertPoolerClassifier>(c)});
  return a;
}

StatusOr<Architecture> BuildArchitecture(const std::string& name) {
  if (name == "resnet18") return ResNet<BasicBlock>({2, 2, 2, 2});
  if (name == "resnet34") return ResNet<BasicBlock>({3, 4, 6, 3});
  if (name == "resnet50") return ResNet<Bottleneck>({3, 4, 6, 3});
  if (name == "resnet101") return ResNet<Bottleneck>({3, 4, 23, 3});
  if (name == "resnet152") return ResNet<Bottleneck>({3, 8, 36, 3});
  if (name == "mobilenet_v2") return MobileNetV2();
  if (name == "mobilenet_v3_small") return MobileNetV3(false);
  if (name == "mobilenet_v3_large") return MobileNetV3(true);
  if (name == "efficientnet_b0") return EfficientNet(1.0, 1.0);
  if (name == "efficientnet_b1") return EfficientNet(1.0, 1.1);
  if (name == "efficientnet_b2") return EfficientNet(1.1, 1.2);
  if (name == "efficientnet_b3") return EfficientNet(1.2, 1.4);
  if (name == "vgg11") return Vgg({{64}, {128}, {256, 256}, {512, 512}, {512, 512}});
  if (name == "vgg16") {
    return Vgg({{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}});
  }
  if (name == "bert_tiny") return Bert({2, 128, 2, 512});
  if (name == "bert_mini") return Bert({4, 256, 4, 1024});
  if (name == "bert_small") return Bert({4, 512, 8, 2048});
  if (name == "bert_medium") return Bert({8, 512, 8, 2048});
  return NotFound("unknown model '" + name + "'; known models: " + KnownModelNames());
}

// Deterministic initialisation from a private generator (torchvision's scheme): convolution
// weights Kaiming-normal (fan_out, ReLU gain), 2-D weights (linear, embedding, attention
// projections) normal(0, std), 1-D weights (batch/layer norm) one, biases zero.
void Initialise(nn::Module& root, uint64_t seed, double linear_std) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& item : root.named_parameters(/*recurse=*/true)) {
    at::Tensor& p = item.value();
    const std::string& key = item.key();
    const bool is_bias = key.size() >= 4 && key.compare(key.size() - 4, 4, "bias") == 0;
    if (is_bias) {
      p.zero_();
    } else if (p.dim() == 4) {
      const double fan_out = static_cast<double>(p.size(0) * p.size(2) * p.size(3));
      p.normal_(0.0, std::sqrt(2.0 / fan_out), gen);
    } else if (p.dim() == 2) {
      p.normal_(0.0, linear_std, gen);
    } else {
      p.fill_(1.0);
    }
  }
}

// ----------------------------------------------------------------------------------------

class ZooTorchModel final : public TorchModel {
 public:
  ZooTorchModel(ModelInfo info, Architecture arch, uint64_t seed, bool initialise)
      : info_(std::move(info)),
        root_(std::make_shared<nn::Module>("Model")),
        input_gen_(at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x9e3779b97f4a7c15ULL)) {
    for (NamedBlock& b : arch.blocks) {
      // Module names may not contain '.'.
      std::string key = b.name;
      std::replace(key.begin(), key.end(), '.', '_');
      root_->register_module(key, b.unit);
      blocks_.push_back(std::move(b));
    }
    if (initialise) Initialise(*root_, seed, arch.linear_init_std);
    root_->eval();
  }

  const ModelInfo& info() const override { return info_; }

  at::Tensor Forward(int begin, int end, const at::Tensor& x) override {
    if (begin < 0 || begin >= end || end > static_cast<int>(blocks_.size())) {
      throw std::out_of_range("TorchModel::Forward(" + std::to_string(begin) + ", " +
                              std::to_string(end) + "): " + info_.name + " has blocks [0, " +
                              std::to_string(blocks_.size()) + ")");
    }
    c10::InferenceMode guard;
    at::Tensor h = x;
    for (int i = begin; i < end; ++i) h = blocks_[i].unit->Run(h);
    return h;
  }

  at::Tensor MakeInput(int64_t batch) const override {
    c10::InferenceMode guard;
    std::vector<int64_t> shape = info_.input_shape;
    shape[0] = batch;
    if (info_.input_dtype == "int64") {
      return at::randint(0, kVocab, shape, input_gen_, at::TensorOptions().dtype(at::kLong));
    }
    return at::randn(shape, input_gen_, at::TensorOptions().dtype(at::kFloat));
  }

  // The block descriptors, by a batch-1 forward with op accounting.
  std::vector<BlockDescriptor> DeriveBlocks() {
    c10::InferenceMode guard;
    std::vector<BlockDescriptor> out;
    at::Tensor x = MakeInput(1);
    for (NamedBlock& b : blocks_) {
      OpTally tally;
      t_tally = &tally;
      at::Tensor y;
      try {
        y = b.unit->Run(x);
      } catch (...) {
        t_tally = nullptr;
        throw;
      }
      t_tally = nullptr;
      BlockDescriptor d;
      d.name = b.name;
      d.kind = b.kind;
      d.flops = 2.0 * tally.macs;
      d.elementwise_ops = tally.elementwise;
      d.layers = tally.layers;
      d.dla_supported = tally.dla;
      d.input_bytes = static_cast<int64_t>(x.nbytes());
      d.output_bytes = static_cast<int64_t>(y.nbytes());
      for (const at::Tensor& p : b.unit->parameters()) d.params += p.numel();
      out.push_back(std::move(d));
      x = y;
    }
    return out;
  }

  void set_blocks(std::vector<BlockDescriptor> blocks) { info_.blocks = std::move(blocks); }

 private:
  static constexpr int64_t kVocab = 30522;
  ModelInfo info_;
  std::shared_ptr<nn::Module> root_;
  std::vector<NamedBlock> blocks_;
  mutable at::Generator input_gen_;
};

// `initialise` false keeps libtorch's default initialisation (enough for a derivation, which
// only needs shapes, and twice as fast for the large models).
StatusOr<std::unique_ptr<ZooTorchModel>> Build(const std::string& name, uint64_t seed,
                                               bool initialise = true) {
  const ModelInfo* spec = FindModelSpec(name);
  if (spec == nullptr) {
    return NotFound("unknown model '" + name + "'; known models: " + KnownModelNames());
  }
  try {
    ECOMAP_ASSIGN_OR_RETURN(Architecture arch, BuildArchitecture(name));
    return std::make_unique<ZooTorchModel>(*spec, std::move(arch), seed, initialise);
  } catch (const std::exception& e) {
    return Internal("building model '" + name + "' failed in libtorch: " + e.what());
  }
}

}  // namespace

StatusOr<std::unique_ptr<TorchModel>> CreateTorchModel(const std::string& name, uint64_t seed) {
  ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<ZooTorchModel> model, Build(name, seed));
  if (const ModelInfo* catalogued = FindModel(name)) {
    model->set_blocks(catalogued->blocks);
  } else {
    // No embedded catalogue (first build before `ecomap zoo export`): derive the blocks now.
    try {
      model->set_blocks(model->DeriveBlocks());
    } catch (const std::exception& e) {
      return Internal("deriving the blocks of '" + name + "' failed in libtorch: " + e.what());
    }
  }
  return std::unique_ptr<TorchModel>(std::move(model));
}

StatusOr<ModelInfo> DeriveModelInfo(const std::string& name) {
  ECOMAP_ASSIGN_OR_RETURN(std::unique_ptr<ZooTorchModel> model, Build(name, /*seed=*/0, /*initialise=*/false));
  try {
    ModelInfo info = *FindModelSpec(name);
    info.blocks = model->DeriveBlocks();
    return info;
  } catch (const std::exception& e) {
    return Internal("deriving the blocks of '" + name + "' failed in libtorch: " + e.what());
  }
}

StatusOr<std::vector<ModelInfo>> DeriveCatalog() {
  std::vector<ModelInfo> out;
  for (const ModelInfo& spec : ModelSpecs()) {
    ECOMAP_ASSIGN_OR_RETURN(ModelInfo info, DeriveModelInfo(spec.name));
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace ecomap::zoo
