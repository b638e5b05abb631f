#include "platform/sim/calibration.h"

#include <cstdint>
#include <string>
#include <utility>

namespace ecomap::platform {
namespace {

using zoo::BlockDescriptor;
using zoo::BlockKind;

// Builds a network block by block, tracking the activation shape (C, H, W) at batch 1.
class NetBuilder {
 public:
  NetBuilder(int c, int h, int w) : c_(c), h_(h), w_(w) {}

  void Begin(std::string name, BlockKind kind) {
    cur_ = BlockDescriptor{};
    cur_.name = std::move(name);
    cur_.kind = kind;
    cur_.input_bytes = Bytes();
    cur_.dla_supported = true;
  }
  // Convolution (+BN) with "same" padding; groups = in_c for depthwise.
  void Conv(int out_c, int k, int stride, int groups = 1) {
    int oh = (h_ + stride - 1) / stride;
    int ow = (w_ + stride - 1) / stride;
    const int64_t in_per_group = c_ / groups;  // exact: groups divides c_
    const double macs = static_cast<double>(in_per_group) * k * k * out_c * oh * ow;
    cur_.flops += 2.0 * macs;
    cur_.params += in_per_group * k * k * out_c + int64_t{2} * out_c;  // + BN
    c_ = out_c;
    h_ = oh;
    w_ = ow;
  }
  void MaxPool(int stride) {
    h_ = (h_ + stride - 1) / stride;
    w_ = (w_ + stride - 1) / stride;
  }
  void GlobalPool() { h_ = w_ = 1; }
  void Linear(int out) {
    cur_.flops += 2.0 * c_ * out;
    cur_.params += static_cast<int64_t>(c_) * out + out;
    c_ = out;
  }
  // Bottleneck (ResNet-50 v1.5: stride on the 3x3 convolution).
  void Bottleneck(int planes, int stride) {
    int in_c = c_, in_h = h_, in_w = w_;
    Conv(planes, 1, 1);
    Conv(planes, 3, stride);
    Conv(planes * 4, 1, 1);
    if (stride != 1 || in_c != planes * 4) {
      int oc = c_, oh = h_, ow = w_;
      c_ = in_c;
      h_ = in_h;
      w_ = in_w;
      Conv(planes * 4, 1, stride);
      c_ = oc;
      h_ = oh;
      w_ = ow;
    }
  }
  void End() {
    cur_.output_bytes = Bytes();
    blocks_.push_back(cur_);
  }
  std::vector<BlockDescriptor> Take() { return std::move(blocks_); }

 private:
  int64_t Bytes() const { return static_cast<int64_t>(c_) * h_ * w_ * 4; }
  int c_, h_, w_;
  BlockDescriptor cur_;
  std::vector<BlockDescriptor> blocks_;
};

zoo::ModelInfo ResNet50() {
  NetBuilder b(3, 224, 224);
  b.Begin("stem", BlockKind::kConv);
  b.Conv(64, 7, 2);
  b.MaxPool(2);
  b.End();
  const int planes[4] = {64, 128, 256, 512};
  const int counts[4] = {3, 4, 6, 3};
  for (int l = 0; l < 4; ++l) {
    b.Begin("layer" + std::to_string(l + 1), BlockKind::kConv);
    for (int i = 0; i < counts[l]; ++i) b.Bottleneck(planes[l], (i == 0 && l > 0) ? 2 : 1);
    b.End();
  }
  b.Begin("avgpool", BlockKind::kPool);
  b.GlobalPool();
  b.End();
  b.Begin("fc", BlockKind::kLinear);
  b.Linear(1000);
  b.End();
  zoo::ModelInfo m;
  m.name = "mlperf-resnet50-v1.5";
  m.family = "calibration";
  m.task = "imagenet-classification";
  m.input_shape = {1, 3, 224, 224};
  m.accuracy_source = "calibration network (MLPerf Inference ResNet-50 v1.5)";
  m.blocks = b.Take();
  return m;
}

zoo::ModelInfo MobileNetV1() {
  NetBuilder b(3, 224, 224);
  b.Begin("stem", BlockKind::kConv);
  b.Conv(32, 3, 2);
  b.End();
  // Depthwise-separable blocks (output channels, stride), MobileNet-v1 1.0 at 224x224.
  const std::pair<int, int> dw[13] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},  {512, 2}, {512, 1},
                                      {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  int channels = 32;
  for (int i = 0; i < 13; ++i) {
    b.Begin("dwsep" + std::to_string(i + 1), BlockKind::kDepthwise);
    b.Conv(channels, 3, dw[i].second, channels);  // depthwise 3x3
    b.Conv(dw[i].first, 1, 1);                    // pointwise 1x1
    channels = dw[i].first;
    b.End();
  }
  b.Begin("avgpool", BlockKind::kPool);
  b.GlobalPool();
  b.End();
  b.Begin("fc", BlockKind::kLinear);
  b.Linear(1001);
  b.End();
  zoo::ModelInfo m;
  m.name = "mlperf-mobilenet-v1";
  m.family = "calibration";
  m.task = "imagenet-classification";
  m.input_shape = {1, 3, 224, 224};
  m.accuracy_source = "calibration network (MLPerf Inference MobileNet-v1 1.0 224)";
  m.blocks = b.Take();
  return m;
}

TenantConfig SingleStage(std::string name, const zoo::ModelInfo& m, const std::string& unit,
                         int concurrency) {
  TenantConfig t;
  t.name = std::move(name);
  t.model = m.name;
  t.stages = {Stage{0, static_cast<int>(m.blocks.size()), unit}};
  t.arrival = ArrivalKind::kClosedLoop;
  t.concurrency = concurrency;
  return t;
}

const zoo::ModelInfo& Resnet() { return CalibrationModels()[0]; }
const zoo::ModelInfo& Mobilenet() { return CalibrationModels()[1]; }

constexpr char kMlperf[] =
    "MLPerf Inference v0.5, closed, NVIDIA Jetson AGX Xavier (TensorRT 6, INT8), "
    "mlcommons/inference_results_v0.5";
constexpr char kBoardLog[] = "measured Xavier board log (REFERENCE.md, one board)";

}  // namespace

const std::vector<zoo::ModelInfo>& CalibrationModels() {
  static const std::vector<zoo::ModelInfo> models = {ResNet50(), MobileNetV1()};
  return models;
}

ModelLookup CalibrationLookup() {
  ModelLookup zoo_lookup = DefaultModelLookup();
  return [zoo_lookup](const std::string& name) -> const zoo::ModelInfo* {
    for (const zoo::ModelInfo& m : CalibrationModels()) {
      if (m.name == name) return &m;
    }
    return zoo_lookup(name);
  };
}

Configuration TypicalLoad(int mode) {
  Configuration c;
  c.power_mode = mode;
  c.tenants = {SingleStage("resnet50-gpu", Resnet(), "GPU", 2),
               SingleStage("mobilenet-dla0", Mobilenet(), "DLA0", 2),
               SingleStage("resnet50-dla1", Resnet(), "DLA1", 2)};
  return c;
}

Configuration FullLoad(int mode) {
  Configuration c;
  c.power_mode = mode;
  c.tenants = {
      SingleStage("resnet50-gpu", Resnet(), "GPU", 4), SingleStage("resnet50-dla0", Resnet(), "DLA0", 4),
      SingleStage("resnet50-dla1", Resnet(), "DLA1", 4), SingleStage("resnet50-cpu", Resnet(), "CPU", 2)};
  return c;
}

StatusOr<std::vector<CalibrationRow>> RunCalibration(const XavierSim& sim) {
  std::vector<CalibrationRow> rows;
  auto add = [&rows](CalibrationRow r) {
    r.pass = !r.checked || (r.modelled >= r.low && r.modelled <= r.high);
    rows.push_back(std::move(r));
  };

  // Idle floors.
  const std::pair<int, double> idle_targets[] = {{1, 5.9}, {2, 6.0}, {3, 6.2}, {0, 8.3}};
  for (const auto& [mode, published] : idle_targets) {
    ECOMAP_ASSIGN_OR_RETURN(Watts idle, sim.IdlePower(mode));
    const PowerMode* m = sim.info().FindMode(mode);
    CalibrationRow r;
    r.target = "idle power, " + m->name;
    r.unit = "W";
    r.published = published;
    r.modelled = idle.value();
    r.low = mode == 0 ? 7.5 : 5.5;
    r.high = mode == 0 ? 9.0 : 6.5;
    r.source = kBoardLog;
    add(r);
  }

  // MLPerf SingleStream: batch 1, one request outstanding, GPU, MAXN.
  struct Latency {
    const zoo::ModelInfo* model;
    const char* label;
    double p50_ms, p90_ms;
  };
  const Latency latency_targets[] = {
      {&Resnet(), "ResNet-50 v1.5", 2.024, 2.038},
      {&Mobilenet(), "MobileNet-v1", 0.572, 0.585},
  };
  for (const Latency& t : latency_targets) {
    Configuration c;
    c.power_mode = 0;
    c.tenants = {SingleStage("single-stream", *t.model, "GPU", 1)};
    ECOMAP_ASSIGN_OR_RETURN(Performance p, sim.Predict(c));
    CalibrationRow r;
    r.target = std::string(t.label) + " SingleStream latency p50, MAXN, GPU INT8, batch 1";
    r.unit = "ms";
    r.published = t.p50_ms;
    r.modelled = p.tenants[0].latency_p50.value();
    r.low = t.p50_ms * 0.85;
    r.high = t.p50_ms * 1.15;
    r.source = kMlperf;
    add(r);
    CalibrationRow q = r;
    q.target = std::string(t.label) + " SingleStream latency p95 (source: p90), MAXN, GPU INT8";
    q.published = t.p90_ms;
    q.modelled = p.tenants[0].latency_p95.value();
    q.low = t.p90_ms * 0.85;
    q.high = t.p90_ms * 1.2;
    add(q);
  }

  // MLPerf Offline (GPU + 2 DLA, large batches): context only; the simulator models batch 1.
  {
    Configuration c;
    c.power_mode = 0;
    c.tenants = {SingleStage("gpu", Resnet(), "GPU", 8), SingleStage("dla0", Resnet(), "DLA0", 8),
                 SingleStage("dla1", Resnet(), "DLA1", 8)};
    ECOMAP_ASSIGN_OR_RETURN(Performance p, sim.Predict(c));
    double total = 0;
    for (const TenantPerformance& t : p.tenants) total += t.throughput_rps;
    CalibrationRow r;
    r.target = "ResNet-50 v1.5 Offline throughput, MAXN, GPU+2 DLA (source batched, model batch 1)";
    r.unit = "samples/s";
    r.published = 2158.93;
    r.modelled = total;
    r.checked = false;
    r.source = kMlperf;
    add(r);
  }

  // Budgets: a typical load stays within each capped mode's budget.
  for (const PowerMode& m : sim.info().modes) {
    if (!m.budget) continue;
    ECOMAP_ASSIGN_OR_RETURN(Performance p, sim.Predict(TypicalLoad(m.id)));
    CalibrationRow r;
    r.target = "typical load (3 DNNs on GPU+2 DLA) within budget, " + m.name;
    r.unit = "W";
    r.published = m.budget->value();
    r.modelled = p.power.value();
    r.low = 0;
    r.high = m.budget->value();
    r.source = "nvpmodel mode budget (NVIDIA L4T power management guide)";
    add(r);
  }
  // MAXN under full load draws well above 30 W.
  {
    ECOMAP_ASSIGN_OR_RETURN(Performance p, sim.Predict(FullLoad(0)));
    CalibrationRow r;
    r.target = "full load (GPU+2 DLA+CPU busy) power, MAXN";
    r.unit = "W";
    r.published = 30;
    r.modelled = p.power.value();
    r.low = 35;
    r.high = 60;
    r.source = kBoardLog;
    add(r);
  }
  return rows;
}

}  // namespace ecomap::platform
