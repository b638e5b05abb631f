#include "platform/sim/calibration.h"

#include <cstdint>
#include <map>
#include <tuple>
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
    ++cur_.layers;
    c_ = out_c;
    h_ = oh;
    w_ = ow;
  }
  // Convolution with bias (no BN) to an explicit output size (valid padding, Caffe nets).
  void ConvTo(int out_c, int k, int oh, int ow, int groups = 1) {
    const int64_t in_per_group = c_ / groups;
    cur_.flops += 2.0 * static_cast<double>(in_per_group) * k * k * out_c * oh * ow;
    cur_.params += in_per_group * k * k * out_c + out_c;
    ++cur_.layers;
    c_ = out_c;
    h_ = oh;
    w_ = ow;
  }
  void PoolTo(int oh, int ow) {
    h_ = oh;
    w_ = ow;
  }
  // GoogLeNet inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated
  // (convolutions with bias, "same" padding, stride 1).
  void Inception(int c1, int c3r, int c3, int c5r, int c5, int pool_proj) {
    const int64_t in = c_;
    const double hw = static_cast<double>(h_) * w_;
    auto conv = [&](int64_t cin, int cout, int k) {
      cur_.flops += 2.0 * static_cast<double>(cin) * k * k * cout * hw;
      cur_.params += cin * k * k * cout + cout;
      ++cur_.layers;
    };
    conv(in, c1, 1);
    conv(in, c3r, 1);
    conv(c3r, c3, 3);
    conv(in, c5r, 1);
    conv(c5r, c5, 5);
    conv(in, pool_proj, 1);
    c_ = c1 + c3 + c5 + pool_proj;
  }
  void MaxPool(int stride) {
    h_ = (h_ + stride - 1) / stride;
    w_ = (w_ + stride - 1) / stride;
  }
  void GlobalPool() { h_ = w_ = 1; }
  void Linear(int out) {
    cur_.flops += 2.0 * c_ * out;
    cur_.params += static_cast<int64_t>(c_) * out + out;
    ++cur_.layers;
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

// BVLC GoogLeNet (Szegedy et al. 2015), Caffe deploy network as HaX-CoNN ran it: 14 blocks
// (stem, 9 inception modules, pool, fc, softmax "prob", which a DLA does not run).
zoo::ModelInfo GoogLeNet() {
  NetBuilder b(3, 224, 224);
  b.Begin("stem", BlockKind::kConv);
  b.ConvTo(64, 7, 112, 112);
  b.PoolTo(56, 56);
  b.ConvTo(64, 1, 56, 56);
  b.ConvTo(192, 3, 56, 56);
  b.PoolTo(28, 28);
  b.End();
  struct Module {
    const char* name;
    int c1, c3r, c3, c5r, c5, pp;
    int pool_before;  // spatial size after a 3x3/2 max pool before the module (0: none)
  };
  const Module modules[] = {{"inception3a", 64, 96, 128, 16, 32, 32, 0},
                            {"inception3b", 128, 128, 192, 32, 96, 64, 0},
                            {"inception4a", 192, 96, 208, 16, 48, 64, 14},
                            {"inception4b", 160, 112, 224, 24, 64, 64, 0},
                            {"inception4c", 128, 128, 256, 24, 64, 64, 0},
                            {"inception4d", 112, 144, 288, 32, 64, 64, 0},
                            {"inception4e", 256, 160, 320, 32, 128, 128, 0},
                            {"inception5a", 256, 160, 320, 32, 128, 128, 7},
                            {"inception5b", 384, 192, 384, 48, 128, 128, 0}};
  for (const Module& m : modules) {
    b.Begin(m.name, BlockKind::kConv);
    if (m.pool_before > 0) b.PoolTo(m.pool_before, m.pool_before);
    b.Inception(m.c1, m.c3r, m.c3, m.c5r, m.c5, m.pp);
    b.End();
  }
  b.Begin("avgpool", BlockKind::kPool);
  b.GlobalPool();
  b.End();
  b.Begin("fc", BlockKind::kLinear);
  b.Linear(1000);
  b.End();
  b.Begin("prob", BlockKind::kOther);
  b.End();
  zoo::ModelInfo m;
  m.name = "hax-googlenet";
  m.family = "calibration";
  m.task = "imagenet-classification";
  m.input_shape = {1, 3, 224, 224};
  m.accuracy_source = "calibration network (BVLC GoogLeNet, as run by HaX-CoNN)";
  m.blocks = b.Take();
  m.blocks.back().dla_supported = false;  // softmax: TensorRT runs it on the GPU
  return m;
}

// BVLC AlexNet (Krizhevsky et al. 2012), Caffe deploy network (227x227, grouped conv2/4/5).
zoo::ModelInfo AlexNet() {
  NetBuilder b(3, 227, 227);
  b.Begin("conv1", BlockKind::kConv);
  b.ConvTo(96, 11, 55, 55);
  b.PoolTo(27, 27);
  b.End();
  b.Begin("conv2", BlockKind::kConv);
  b.ConvTo(256, 5, 27, 27, 2);
  b.PoolTo(13, 13);
  b.End();
  b.Begin("conv3-5", BlockKind::kConv);
  b.ConvTo(384, 3, 13, 13);
  b.ConvTo(384, 3, 13, 13, 2);
  b.ConvTo(256, 3, 13, 13, 2);
  b.PoolTo(6, 6);
  b.End();
  std::vector<BlockDescriptor> blocks = b.Take();
  blocks.back().output_bytes = 256 * 6 * 6 * 4;
  // The fully connected layers on the flattened 256x6x6 map.
  auto fc = [](const char* name, int64_t in, int64_t out) {
    BlockDescriptor d;
    d.name = name;
    d.kind = BlockKind::kLinear;
    d.flops = 2.0 * static_cast<double>(in) * static_cast<double>(out);
    d.params = in * out + out;
    d.input_bytes = in * 4;
    d.output_bytes = out * 4;
    d.layers = 1;
    return d;
  };
  blocks.push_back(fc("fc6", 256 * 6 * 6, 4096));
  blocks.push_back(fc("fc7", 4096, 4096));
  blocks.push_back(fc("fc8", 4096, 1000));
  BlockDescriptor prob;
  prob.name = "prob";
  prob.kind = BlockKind::kOther;
  prob.input_bytes = prob.output_bytes = 1000 * 4;
  prob.dla_supported = false;
  blocks.push_back(prob);
  zoo::ModelInfo m;
  m.name = "hax-alexnet";
  m.family = "calibration";
  m.task = "imagenet-classification";
  m.input_shape = {1, 3, 227, 227};
  m.accuracy_source = "calibration network (BVLC AlexNet, as run by HaX-CoNN)";
  m.blocks = std::move(blocks);
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
const zoo::ModelInfo& Googlenet() { return CalibrationModels()[2]; }
const zoo::ModelInfo& Alexnet() { return CalibrationModels()[3]; }

constexpr char kMlperf[] =
    "MLPerf Inference v1.0, closed, NVIDIA, Jetson AGX Xavier 32 GB (TensorRT 7.2.3, INT8), "
    "mlcommons/inference_results_v1.0 closed/NVIDIA/results/AGX_Xavier_TRT*/resnet50/SingleStream";
constexpr char kHaxConn[] =
    "HaX-CoNN artifact, Xavier AGX 32 GB (TensorRT 7.1.3, FP16, MAXN, trtexec GPU compute), "
    "ismetdagli/HaX-CoNN output_expected/";
constexpr char kTorch2trt[] =
    "torch2trt docs/benchmarks/jetson_xavier.md (TensorRT FP16, batch 1, GPU; power mode not "
    "stated, taken as MAXN), NVIDIA-AI-IOT/torch2trt";
constexpr char kBoardLog[] = "measured Xavier board log (REFERENCE.md, one board)";

// What each harness adds to (or leaves out of) the network's own time, in ms. trtexec's "GPU
// compute" leaves out the input copy and submission that the simulator counts per request;
// LoadGen's SingleStream latency and torch2trt's synchronised Python call add their own. The
// two additive offsets are fitted (one constant per harness, not per network); see the note.
constexpr double kLoadGenMs = 0.20;
constexpr double kTorch2trtMs = 0.45;

// The blocks [begin, end) of a calibration network as a network of its own.
zoo::ModelInfo Slice(const zoo::ModelInfo& m, int begin, int end) {
  zoo::ModelInfo s = m;
  s.name = m.name + "[" + std::to_string(begin) + ":" + std::to_string(end) + "]";
  s.blocks.assign(m.blocks.begin() + begin, m.blocks.begin() + end);
  return s;
}

// GoogLeNet's module boundaries: the nine cut points of the HaX-CoNN transition table.
const std::vector<int>& GooglenetCuts() {
  static const std::vector<int> cuts = {2, 3, 4, 5, 6, 7, 8, 9, 10};
  return cuts;
}

const std::vector<zoo::ModelInfo>& SliceModels() {
  static const std::vector<zoo::ModelInfo> slices = [] {
    std::vector<zoo::ModelInfo> v;
    const zoo::ModelInfo& g = Googlenet();
    const int n = static_cast<int>(g.blocks.size());
    for (int k : GooglenetCuts()) {
      v.push_back(Slice(g, 0, k));
      v.push_back(Slice(g, k, n));
    }
    return v;
  }();
  return slices;
}

ModelLookup WithSlices(ModelLookup inner) {
  return [inner](const std::string& name) -> const zoo::ModelInfo* {
    for (const zoo::ModelInfo& m : SliceModels()) {
      if (m.name == name) return &m;
    }
    return inner(name);
  };
}

sim::RunOptions CalibrationRun() {
  sim::RunOptions run;
  run.warmup_s = 0.3;
  run.window_s = 5;
  run.seed = 1;
  run.max_completions = 5000;
  return run;
}

// One request at a time (batch 1, SingleStream / trtexec) of `model` on one unit.
StatusOr<sim::RunResult> Alone(const XavierSim& sim, const std::string& model, int blocks, const std::string& unit,
                               int mode, std::map<std::string, double> clocks = {}) {
  Configuration c;
  c.power_mode = mode;
  c.frequency_mhz = std::move(clocks);
  TenantConfig t;
  t.name = "alone";
  t.model = model;
  t.stages = {Stage{0, blocks, unit}};
  t.concurrency = 1;
  c.tenants = {t};
  return sim.Simulate(c, CalibrationRun());
}

}  // namespace

const std::vector<zoo::ModelInfo>& CalibrationModels() {
  static const std::vector<zoo::ModelInfo> models = {ResNet50(), MobileNetV1(), GoogLeNet(), AlexNet()};
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
  // A checked figure: accepted within +-15% of the published one.
  auto figure = [&add](std::string target, std::string unit, double published, double simulated,
                       std::string source) {
    CalibrationRow r;
    r.target = std::move(target);
    r.unit = std::move(unit);
    r.published = published;
    r.modelled = simulated;
    r.low = published * 0.85;
    r.high = published * 1.15;
    r.source = std::move(source);
    add(r);
  };
  auto context = [&add](std::string target, std::string unit, double published, double simulated,
                        std::string source) {
    CalibrationRow r;
    r.target = std::move(target);
    r.unit = std::move(unit);
    r.published = published;
    r.modelled = simulated;
    r.checked = false;
    r.source = std::move(source);
    add(r);
  };

  // Idle floors (per-mode constants of the model: these rows check the wiring).
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

  XavierSimParams int8_params = sim.params();
  int8_params.precision = Precision::kInt8;
  XavierSimParams fp16_params = sim.params();
  fp16_params.precision = Precision::kFp16;
  PlatformOptions o;
  o.model_lookup = WithSlices(CalibrationLookup());
  const XavierSim int8(o, int8_params);
  const XavierSim fp16(o, fp16_params);
  const double request_ms = sim.params().request_overhead_ms;
  auto ms = [](double s) { return s * 1000.0; };

  // MLPerf v1.0 ResNet-50 v1.5 SingleStream: batch 1, one query outstanding, GPU, INT8.
  const int rn50_blocks = static_cast<int>(Resnet().blocks.size());
  {
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult maxp, Alone(int8, Resnet().name, rn50_blocks, "GPU", 0));
    figure("ResNet-50 v1.5 SingleStream mean latency, MaxP (MAXN), GPU INT8", "ms", 1.951,
           ms(maxp.tenants[0].mean_s) + kLoadGenMs, kMlperf);
    figure("ResNet-50 v1.5 SingleStream p90 latency, MaxP (MAXN), GPU INT8", "ms", 1.981,
           ms(maxp.tenants[0].p90_s) + kLoadGenMs, kMlperf);
    // MaxQ: nvpmodel mode 8 of the submission = 2 CPUs at 1190.4 MHz, GPU 675.75 MHz, DLA 1050 MHz,
    // EMC 1600 MHz: MODE_30W_2CORE (2 CPUs, DLA 1050, EMC 1600) with the CPU and GPU clocks lowered.
    const std::map<std::string, double> maxq = {{"CPU", 1190.4}, {"GPU", 675.75}};
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult q, Alone(int8, Resnet().name, rn50_blocks, "GPU", 6, maxq));
    figure("ResNet-50 v1.5 SingleStream mean latency, MaxQ (GPU 675.75 MHz), GPU INT8", "ms", 3.172,
           ms(q.tenants[0].mean_s) + kLoadGenMs, kMlperf);
    figure("ResNet-50 v1.5 SingleStream wall (AC) power, MaxQ, devkit", "W", 15.21, int8.WallPower(q.mean_power_w),
           kMlperf);
    // Offline: large batches on the GPU and both DLAs; the simulator runs batch 1. Context only.
    Configuration c;
    c.power_mode = 0;
    c.tenants = {SingleStage("gpu", Resnet(), "GPU", 8), SingleStage("dla0", Resnet(), "DLA0", 8),
                 SingleStage("dla1", Resnet(), "DLA1", 8)};
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult off, int8.Simulate(c, CalibrationRun()));
    double total = 0;
    for (const sim::TenantResult& t : off.tenants) total += t.throughput_rps;
    context("ResNet-50 v1.5 Offline throughput, MaxP, GPU+2 DLA (source batched, simulator batch 1)", "samples/s",
            2071.51, total, kMlperf);
  }

  // HaX-CoNN: GoogLeNet and AlexNet alone on the GPU and on DLA 0 (FP16, MAXN).
  const int g_blocks = static_cast<int>(Googlenet().blocks.size());
  const int a_blocks = static_cast<int>(Alexnet().blocks.size());
  {
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult gg, Alone(fp16, Googlenet().name, g_blocks, "GPU", 0));
    figure("GoogLeNet mean latency alone, GPU FP16, MAXN", "ms", 1.959, ms(gg.tenants[0].mean_s) - request_ms,
           kHaxConn);
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult gd, Alone(fp16, Googlenet().name, g_blocks, "DLA0", 0));
    figure("GoogLeNet mean latency alone, DLA FP16 (prob on the GPU), MAXN", "ms", 3.656,
           ms(gd.tenants[0].mean_s) - request_ms, kHaxConn);
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult ag, Alone(fp16, Alexnet().name, a_blocks, "GPU", 0));
    figure("AlexNet latency alone (sum of layer groups), GPU FP16, MAXN", "ms", 1.79,
           ms(ag.tenants[0].mean_s) - request_ms, kHaxConn);
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult ad, Alone(fp16, Alexnet().name, a_blocks, "DLA0", 0));
    figure("AlexNet latency alone (sum of layer groups), DLA FP16, MAXN", "ms", 4.41,
           ms(ad.tenants[0].mean_s) - request_ms, kHaxConn);
  }
  // HaX-CoNN transitions: the extra latency of handing GoogLeNet's activation from one unit to
  // the other at each module boundary, mean over the nine cuts. Simulated as the split
  // network's latency minus its two halves' latencies alone (each alone pays the per-request
  // overhead once more).
  for (const auto& [from, to, published] :
       {std::tuple<const char*, const char*, double>{"GPU", "DLA0", 0.0300}, {"DLA0", "GPU", 0.0553}}) {
    double sum = 0;
    const zoo::ModelInfo& g = Googlenet();
    for (int k : GooglenetCuts()) {
      const std::string head = Slice(g, 0, k).name, tail = Slice(g, k, g_blocks).name;
      Configuration c;
      c.power_mode = 0;
      TenantConfig t;
      t.name = "split";
      t.model = g.name;
      t.stages = {Stage{0, k, from}, Stage{k, g_blocks, to}};
      c.tenants = {t};
      ECOMAP_ASSIGN_OR_RETURN(sim::RunResult split, fp16.Simulate(c, CalibrationRun()));
      ECOMAP_ASSIGN_OR_RETURN(sim::RunResult h, Alone(fp16, head, k, from, 0));
      ECOMAP_ASSIGN_OR_RETURN(sim::RunResult tl, Alone(fp16, tail, g_blocks - k, to, 0));
      sum += ms(split.tenants[0].mean_s) - ms(h.tenants[0].mean_s) - ms(tl.tenants[0].mean_s) + request_ms;
    }
    figure(std::string("GoogLeNet transition cost starting on the ") + (std::string(from) == "GPU" ? "GPU" : "DLA") +
               ", mean of 9 cut points, FP16, MAXN",
           "ms", published, sum / static_cast<double>(GooglenetCuts().size()), kHaxConn);
  }
  // HaX-CoNN two networks at once: GoogLeNet on the DLA with ResNet-101 on the GPU (max of the
  // two concurrent means). Context: which network ran where is not stated for this column.
  {
    const zoo::ModelInfo* r101 = CalibrationLookup()("resnet101");
    if (r101 != nullptr) {
      Configuration c;
      c.power_mode = 0;
      c.tenants = {SingleStage("googlenet-dla", Googlenet(), "DLA0", 1), SingleStage("resnet101-gpu", *r101, "GPU", 1)};
      ECOMAP_ASSIGN_OR_RETURN(sim::RunResult pair, fp16.Simulate(c, CalibrationRun()));
      context("GoogLeNet (DLA) + ResNet-101 (GPU) at once, max of the two mean latencies, FP16, MAXN", "ms", 10.2,
              ms(std::max(pair.tenants[0].mean_s, pair.tenants[1].mean_s)) - request_ms, kHaxConn);
    }
  }

  // torch2trt: torchvision models alone on the GPU, FP16, batch 1 (the zoo's descriptors).
  const std::pair<const char*, double> t2t[] = {{"resnet18", 1.64},  {"resnet50", 3.37}, {"resnet101", 6.04},
                                                {"resnet152", 8.57}, {"vgg16", 7.46},    {"mobilenet_v2", 1.67}};
  for (const auto& [name, published] : t2t) {
    const zoo::ModelInfo* m = CalibrationLookup()(name);
    if (m == nullptr) continue;  // a zoo without the model (tests with a small catalogue)
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult r, Alone(fp16, name, static_cast<int>(m->blocks.size()), "GPU", 0));
    figure(std::string(name) + " mean latency alone, GPU FP16, batch 1", "ms", published,
           ms(r.tenants[0].mean_s) + kTorch2trtMs, kTorch2trt);
  }

  // Budgets and full load: plausibility, shown for context (not a +-15% figure).
  for (const PowerMode& m : sim.info().modes) {
    if (!m.budget) continue;
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult r, int8.Simulate(TypicalLoad(m.id), CalibrationRun()));
    context("typical load (3 DNNs on GPU+2 DLA) power, at most the budget of " + m.name, "W", m.budget->value(),
            r.mean_power_w, "nvpmodel mode budget (NVIDIA L4T power management guide)");
  }
  {
    ECOMAP_ASSIGN_OR_RETURN(sim::RunResult r, int8.Simulate(FullLoad(0), CalibrationRun()));
    context("full load (GPU+2 DLA+CPU busy) power, MAXN, well above 30 W", "W", 30, r.mean_power_w, kBoardLog);
  }
  return rows;
}

}  // namespace ecomap::platform
