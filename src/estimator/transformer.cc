// The only translation unit of the estimator that includes <torch/torch.h>.
#include "estimator/transformer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "estimator/features.h"
#include "estimator/model_file.h"

namespace ecomap::estimator {
namespace {

constexpr int kTenantHead = kTenantOutputs + 1;  // + saturation logit
constexpr int kTargets = kTenantOutputs + 1;     // + power
constexpr double kSaturationWeight = 0.2;
constexpr double kFeatureClamp = 8.0;
constexpr double kHuberDelta = 0.25;  // in target standard deviations
constexpr double kMinFeatureStd = 0.02;  // constant features in training stay near 0

// One pre-norm encoder layer, batch first ([B,S,D]): x += MHA(LN(x)); x += FFN(LN(x)).
// Written out (instead of torch::nn::TransformerEncoderLayer, which in libtorch 1.13 is
// sequence-first and builds its masks per call) so that one fused QKV projection, an additive
// padding mask prepared once per batch and no transposes keep batched inference cheap.
struct EncoderLayerImpl : torch::nn::Module {
  EncoderLayerImpl(int d, int heads, int ff) : heads(heads), head_dim(d / heads) {
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    qkv = register_module("qkv", torch::nn::Linear(d, 3 * d));
    proj = register_module("proj", torch::nn::Linear(d, d));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    ff1 = register_module("ff1", torch::nn::Linear(d, ff));
    ff2 = register_module("ff2", torch::nn::Linear(ff, d));
  }
  // x [B,S,D]; mask [B,1,1,S] additive (0 or -1e9 for padding), undefined when nothing is padded.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    const int64_t B = x.size(0), S = x.size(1), D = x.size(2);
    torch::Tensor q = qkv->forward(norm1->forward(x)).view({B, S, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
    torch::Tensor att = torch::matmul(q[0], q[1].transpose(-2, -1)).mul_(1.0 / std::sqrt(static_cast<double>(head_dim)));
    if (mask.defined()) att.add_(mask);
    att = torch::softmax(att, -1);
    torch::Tensor o = torch::matmul(att, q[2]).permute({0, 2, 1, 3}).reshape({B, S, D});
    torch::Tensor h = x + proj->forward(o);
    return h + ff2->forward(torch::relu(ff1->forward(norm2->forward(h))));
  }
  int64_t heads, head_dim;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, ff1{nullptr}, ff2{nullptr};
};
TORCH_MODULE(EncoderLayer);

struct NetImpl : torch::nn::Module {
  NetImpl(int features, const TransformerConfig& c) {
    embed = register_module("embed", torch::nn::Linear(features, c.d_model));
    layers = register_module("layers", torch::nn::ModuleList());
    for (int l = 0; l < c.layers; ++l) layers->push_back(EncoderLayer(c.d_model, c.heads, c.ff_dim));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
    tenant_head = register_module("tenant_head", torch::nn::Sequential(torch::nn::Linear(2 * c.d_model, c.d_model),
                                                                       torch::nn::ReLU(),
                                                                       torch::nn::Linear(c.d_model, kTenantHead)));
    power_head = register_module("power_head", torch::nn::Sequential(torch::nn::Linear(c.d_model, c.d_model),
                                                                     torch::nn::ReLU(), torch::nn::Linear(c.d_model, 1)));
  }

  // x [B,S,F] normalised; padding [B,S] bool (or undefined: none); pool [B,T,S]; global_pool [B,S].
  // Returns tenant outputs [B,T,4] and power [B].
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& padding,
                                                   const torch::Tensor& pool, const torch::Tensor& global_pool) {
    torch::Tensor mask;
    if (padding.defined() && padding.any().item<bool>()) {
      mask = padding.to(torch::kFloat32).mul(-1e9f).view({x.size(0), 1, 1, x.size(1)});
    }
    torch::Tensor h = embed->forward(x);                                // [B,S,D]
    for (const auto& layer : *layers) h = layer->as<EncoderLayer>()->forward(h, mask);
    h = norm->forward(h);
    torch::Tensor tenants = torch::bmm(pool, h);                   // [B,T,D]
    torch::Tensor global = torch::bmm(global_pool.unsqueeze(1), h);  // [B,1,D]
    torch::Tensor tin = torch::cat({tenants, global.expand({-1, tenants.size(1), -1})}, 2);
    torch::Tensor tout = tenant_head->forward(tin);                // [B,T,4]
    torch::Tensor pout = power_head->forward(global.squeeze(1)).squeeze(1);  // [B]
    return {tout, pout};
  }

  // Not "in": TorchScript archives cannot load a submodule named after a Python keyword.
  torch::nn::Linear embed{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Sequential tenant_head{nullptr}, power_head{nullptr};
};
TORCH_MODULE(Net);

// Huber loss of normalised residuals: quadratic below kHuberDelta, linear above, so that the
// fit follows relative (MAPE-like) errors and a few extreme configurations near saturation do
// not dominate the gradient.
torch::Tensor Huber(const torch::Tensor& e) {
  torch::Tensor a = e.abs();
  return torch::where(a < kHuberDelta, 0.5 * e * e / kHuberDelta, a - 0.5 * kHuberDelta);
}

// |predicted / measured - 1| from the log ratio (clamped so that a wild start cannot overflow).
torch::Tensor Relative(const torch::Tensor& log_ratio) {
  return (log_ratio.clamp(-6.0, 4.0).exp() - 1.0).abs();
}

// A featurised set of configurations as tensors.
struct Tensors {
  torch::Tensor x, padding, pool, global_pool, tenant_valid, base, base_power;
};

Tensors ToTensors(TokenBatch& b) {
  const int64_t B = b.batch, S = b.max_tokens, T = b.max_tenants, F = b.features;
  Tensors t;
  t.x = torch::from_blob(b.x.data(), {B, S, F}, torch::kFloat32);
  t.padding = torch::from_blob(b.padding.data(), {B, S}, torch::kUInt8).to(torch::kBool);
  t.pool = torch::from_blob(b.pool.data(), {B, T, S}, torch::kFloat32);
  t.global_pool = torch::from_blob(b.global_pool.data(), {B, S}, torch::kFloat32);
  t.tenant_valid = torch::from_blob(b.tenant_valid.data(), {B, T}, torch::kUInt8).to(torch::kBool);
  t.base = torch::from_blob(b.base.data(), {B, T, kTenantOutputs}, torch::kFloat32);
  t.base_power = torch::from_blob(b.base_power.data(), {B}, torch::kFloat32);
  return t;
}

std::vector<double> TensorToVector(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<const platform::Configuration*> ConfigsOf(const std::vector<const platform::Sample*>& samples) {
  std::vector<const platform::Configuration*> out(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) out[i] = &samples[i]->config;
  return out;
}

nlohmann::json ConfigToJson(const TransformerConfig& c) {
  return {{"d_model", c.d_model}, {"heads", c.heads}, {"layers", c.layers}, {"ff_dim", c.ff_dim}, {"members", c.members}};
}

}  // namespace

struct TransformerPredictor::Impl {
  Impl(platform::PlatformInfo i, AnalyticModel a, TransformerConfig c)
      : info(std::move(i)), analytic(std::move(a)), featurizer(analytic), config(c) {
    for (int m = 0; m < std::max(1, c.members); ++m) {
      nets.push_back(Net(featurizer.num_features(), c));
      nets.back()->eval();
    }
  }
  platform::PlatformInfo info;
  AnalyticModel analytic;
  Featurizer featurizer;
  TransformerConfig config;
  std::vector<Net> nets;  // the ensemble's members (one unless config.members > 1)
  torch::Tensor feature_mean, feature_inv_std;      // [F]
  torch::Tensor target_mean, target_std;            // [kTargets]
  std::vector<double> target_mean_v, target_std_v;
  nlohmann::json training = nlohmann::json::object();
  std::optional<ConformalCalibration> conformal;
  int intra_op_threads = 1;

  void SetNormalisation(const std::vector<double>& fm, const std::vector<double>& fs,
                        const std::vector<double>& tm, const std::vector<double>& ts) {
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    feature_mean = torch::tensor(fm, f64).to(torch::kFloat32);
    feature_inv_std = (1.0 / torch::tensor(fs, f64)).to(torch::kFloat32);
    target_mean = torch::tensor(tm, f64).to(torch::kFloat32);
    target_std = torch::tensor(ts, f64).to(torch::kFloat32);
    target_mean_v = tm;
    target_std_v = ts;
  }

  // Normalised features: clamped, so that a feature far outside its training range (e.g. a unit
  // never used in training) cannot blow up the embedding.
  torch::Tensor Normalise(const Tensors& t) const {
    return ((t.x - feature_mean) * feature_inv_std).clamp_(-kFeatureClamp, kFeatureClamp);
  }
  // One member's normalised outputs: tenant [B,T,kTenantHead] and power [B].
  std::pair<torch::Tensor, torch::Tensor> ForwardMember(size_t m, const Tensors& t) {
    return nets[m]->forward(Normalise(t), t.padding, t.pool, t.global_pool);
  }
  // The ensemble's: the mean of its members' normalised outputs (a geometric mean of their
  // predictions, and the mean saturation logit).
  std::pair<torch::Tensor, torch::Tensor> Forward(const Tensors& t) {
    if (nets.size() == 1) return ForwardMember(0, t);
    torch::Tensor x = Normalise(t), tout, pout;
    for (Net& net : nets) {
      auto [to, po] = net->forward(x, t.padding, t.pool, t.global_pool);
      tout = tout.defined() ? tout.add_(to) : to;
      pout = pout.defined() ? pout.add_(po) : po;
    }
    const double k = static_cast<double>(nets.size());
    return {tout.div_(k), pout.div_(k)};
  }
};

TransformerPredictor::TransformerPredictor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TransformerPredictor::~TransformerPredictor() = default;

const AnalyticModel& TransformerPredictor::analytic() const { return impl_->analytic; }
const platform::PlatformInfo& TransformerPredictor::info() const { return impl_->info; }
const TransformerConfig& TransformerPredictor::config() const { return impl_->config; }
const nlohmann::json& TransformerPredictor::training_record() const { return impl_->training; }
const std::optional<ConformalCalibration>& TransformerPredictor::conformal() const { return impl_->conformal; }
void TransformerPredictor::set_conformal(std::optional<ConformalCalibration> c) { impl_->conformal = std::move(c); }
std::optional<double> TransformerPredictor::P95BoundFactor(double confidence) const {
  if (!impl_->conformal) return std::nullopt;
  return impl_->conformal->BoundFactor(confidence);
}
void TransformerPredictor::set_intra_op_threads(int n) { impl_->intra_op_threads = std::max(1, n); }
int64_t TransformerPredictor::num_parameters() const {
  int64_t n = 0;
  for (const Net& net : impl_->nets) {
    for (const torch::Tensor& p : net->parameters()) n += p.numel();
  }
  return n;
}

StatusOr<std::unique_ptr<TransformerPredictor>> TransformerPredictor::Train(
    const platform::PlatformInfo& info, const std::vector<const platform::Sample*>& train,
    const std::vector<const platform::Sample*>& holdout, const TransformerConfig& config,
    const TrainOptions& options) {
  if (train.size() < 16) {
    return InvalidArgument("train: only " + std::to_string(train.size()) +
                           " training samples; the estimator needs at least 16 (profile more)");
  }
  if (config.members < 1 || config.members > kMaxMembers) {
    return InvalidArgument("train: an ensemble of " + std::to_string(config.members) + " members; give 1 to " +
                           std::to_string(kMaxMembers));
  }
  if (config.d_model % config.heads != 0) {
    return InvalidArgument("train: d_model " + std::to_string(config.d_model) + " is not a multiple of heads " +
                           std::to_string(config.heads));
  }
  ECOMAP_ASSIGN_OR_RETURN(AnalyticModel analytic, AnalyticModel::Fit(info, train));
  auto impl = std::make_unique<Impl>(info, std::move(analytic), config);
  try {
    at::set_num_threads(std::max(1, options.threads));

    // Featurise the training set once.
    TokenBatch tb;
    ECOMAP_RETURN_IF_ERROR(impl->featurizer.Build(ConfigsOf(train), &tb).WithContext("train"));
    Tensors tt = ToTensors(tb);
    const int64_t N = tb.batch, T = tb.max_tenants;
    // Targets: log of the measured outputs, and masks.
    std::vector<float> y(static_cast<size_t>(N * T * kTenantOutputs), 0.0f), ypow(static_cast<size_t>(N), 0.0f);
    std::vector<uint8_t> lat_ok(static_cast<size_t>(N * T), 0), sat(static_cast<size_t>(N * T), 0);
    for (int64_t s = 0; s < N; ++s) {
      const platform::Performance& r = train[static_cast<size_t>(s)]->result;
      ypow[static_cast<size_t>(s)] = static_cast<float>(std::log(std::max(r.power.value(), 1e-3)));
      for (size_t i = 0; i < r.tenants.size(); ++i) {
        const platform::TenantPerformance& tp = r.tenants[i];
        const size_t k = static_cast<size_t>(s * T) + i;
        y[k * kTenantOutputs + 0] = static_cast<float>(std::log(std::max(tp.latency_p50.value(), 1e-6)));
        y[k * kTenantOutputs + 1] = static_cast<float>(std::log(std::max(tp.latency_p95.value(), 1e-6)));
        y[k * kTenantOutputs + 2] = static_cast<float>(std::log(std::max(tp.throughput_rps, 1e-6)));
        lat_ok[k] = !tp.saturated && tp.latency_p50.value() > 0;
        sat[k] = tp.saturated;
      }
    }
    torch::Tensor target = torch::from_blob(y.data(), {N, T, kTenantOutputs}, torch::kFloat32);
    torch::Tensor target_power = torch::from_blob(ypow.data(), {N}, torch::kFloat32);
    torch::Tensor lat_mask = torch::from_blob(lat_ok.data(), {N, T}, torch::kUInt8).to(torch::kFloat32);
    torch::Tensor sat_t = torch::from_blob(sat.data(), {N, T}, torch::kUInt8).to(torch::kFloat32);
    torch::Tensor valid = tt.tenant_valid.to(torch::kFloat32);

    // Normalisation: features over real tokens; residual targets over valid tenants.
    torch::Tensor real = tt.padding.logical_not().reshape({-1});
    torch::Tensor xs = tt.x.reshape({-1, tb.features}).index({real}).to(torch::kFloat64);
    torch::Tensor fmean = xs.mean(0), fstd = xs.std(0).clamp_min(kMinFeatureStd);
    torch::Tensor resid = (target - tt.base);
    std::vector<double> tm(kTargets), ts(kTargets);
    for (int k = 0; k < kTenantOutputs; ++k) {
      torch::Tensor m = (k < 2 ? lat_mask : valid).to(torch::kBool);
      torch::Tensor v = resid.select(2, k).index({m}).to(torch::kFloat64);
      tm[k] = v.numel() > 0 ? v.mean().item<double>() : 0.0;
      ts[k] = v.numel() > 1 ? std::max(v.std().item<double>(), 1e-3) : 1.0;
    }
    torch::Tensor pres = (target_power - tt.base_power).to(torch::kFloat64);
    tm[kTenantOutputs] = pres.mean().item<double>();
    ts[kTenantOutputs] = std::max(pres.std().item<double>(), 1e-3);
    impl->SetNormalisation(TensorToVector(fmean), TensorToVector(fstd), tm, ts);
    torch::Tensor tmean3 = impl->target_mean.slice(0, 0, kTenantOutputs), tstd3 = impl->target_std.slice(0, 0, kTenantOutputs);
    torch::Tensor norm_target = (target - tt.base - tmean3) / tstd3;
    torch::Tensor norm_power = (target_power - tt.base_power - tm[kTenantOutputs]) / ts[kTenantOutputs];

    // Hold-out tensors.
    TokenBatch hb;
    Tensors ht;
    if (!holdout.empty()) {
      ECOMAP_RETURN_IF_ERROR(impl->featurizer.Build(ConfigsOf(holdout), &hb).WithContext("hold-out"));
      ht = ToTensors(hb);
    }

    // One member's held-out MAPE of p95, throughput and power, into `rep` (nothing without a hold-out).
    auto score_holdout = [&](size_t member, EpochReport* rep) {
      if (holdout.empty()) return;
      torch::NoGradGuard no_grad;
      auto [tout, pout] = impl->ForwardMember(member, ht);
      torch::Tensor logs = ht.base + tmean3 + tout.slice(2, 0, kTenantOutputs) * tstd3;
      torch::Tensor lp = ht.base_power + tm[kTenantOutputs] + pout * ts[kTenantOutputs];
      auto acc = logs.exp().contiguous();
      auto pw = lp.exp().contiguous();
      const float* a = acc.data_ptr<float>();
      const float* p = pw.data_ptr<float>();
      double e95 = 0, ethr = 0, epow = 0;
      int64_t n95 = 0, nthr = 0;
      for (size_t s = 0; s < holdout.size(); ++s) {
        const platform::Performance& r = holdout[s]->result;
        if (r.power.value() > 0) epow += std::abs(p[s] - r.power.value()) / r.power.value();
        for (size_t i = 0; i < r.tenants.size(); ++i) {
          const float* o = a + (s * static_cast<size_t>(hb.max_tenants) + i) * kTenantOutputs;
          const platform::TenantPerformance& tp = r.tenants[i];
          if (!tp.saturated && tp.latency_p95.value() > 0) {
            e95 += std::abs(std::max(o[1], o[0]) - tp.latency_p95.value()) / tp.latency_p95.value();
            ++n95;
          }
          if (tp.throughput_rps > 0) {
            ethr += std::abs(o[2] - tp.throughput_rps) / tp.throughput_rps;
            ++nthr;
          }
        }
      }
      rep->holdout_p95_mape = n95 ? 100.0 * e95 / static_cast<double>(n95) : 0.0;
      rep->holdout_throughput_mape = nthr ? 100.0 * ethr / static_cast<double>(nthr) : 0.0;
      rep->holdout_power_mape = 100.0 * epow / static_cast<double>(holdout.size());
    };

    // Each member of the ensemble trains on the same data from its own seed (initialisation and
    // minibatch order: options.seed + member), within its share of the time budget.
    const double member_budget_s = options.time_limit_s / static_cast<double>(impl->nets.size());
    const auto run_start = std::chrono::steady_clock::now();
    for (size_t member = 0; member < impl->nets.size(); ++member) {
      const uint64_t seed = options.seed + member;
      torch::manual_seed(seed);
      impl->nets[member] = Net(impl->featurizer.num_features(), config);
      Net& net = impl->nets[member];
      torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(options.learning_rate));
      std::mt19937_64 rng(seed);
      // Minibatches are drawn from buckets of equal token count (samples shuffled inside their
      // bucket, minibatches shuffled across buckets) and cut to that count: no padding tokens.
      // Built afresh for each member, so that member k trains exactly as one network from seed + k.
      const int64_t bs = std::max(8, options.batch_size);
      std::map<int, std::vector<int64_t>> buckets;
      for (int64_t s = 0; s < N; ++s) {
        int tokens = 0;
        for (const platform::TenantConfig& t : train[static_cast<size_t>(s)]->config.tenants) {
          tokens += static_cast<int>(t.stages.size());
        }
        buckets[tokens].push_back(s);
      }
      struct Minibatch {
        int tokens;
        std::vector<int64_t> idx;
      };
      std::vector<Minibatch> minibatches;
      auto make_minibatches = [&] {
        minibatches.clear();
        for (auto& [tokens, members] : buckets) {
          std::shuffle(members.begin(), members.end(), rng);
          for (size_t b0 = 0; b0 < members.size(); b0 += static_cast<size_t>(bs)) {
            const size_t b1 = std::min(members.size(), b0 + static_cast<size_t>(bs));
            minibatches.push_back({tokens, std::vector<int64_t>(members.begin() + static_cast<std::ptrdiff_t>(b0),
                                                                members.begin() + static_cast<std::ptrdiff_t>(b1))});
          }
        }
        std::shuffle(minibatches.begin(), minibatches.end(), rng);
      };
      make_minibatches();
      const int64_t steps_per_epoch = static_cast<int64_t>(minibatches.size());
      const int64_t total_steps = steps_per_epoch * std::max(1, options.epochs);
      int64_t step = 0;
      const auto start = std::chrono::steady_clock::now();
      bool out_of_time = false;
      for (int epoch = 1; epoch <= options.epochs && !out_of_time; ++epoch) {
        net->train();
        if (epoch > 1) make_minibatches();
        double loss_sum = 0;
        int64_t steps_done = 0;
        for (Minibatch& batch : minibatches) {
          torch::Tensor idx = torch::from_blob(batch.idx.data(), {static_cast<int64_t>(batch.idx.size())}, torch::kInt64);
          Tensors mb;
          mb.x = tt.x.index_select(0, idx).slice(1, 0, batch.tokens);
          mb.pool = tt.pool.index_select(0, idx).slice(2, 0, batch.tokens);
          mb.global_pool = tt.global_pool.index_select(0, idx).slice(1, 0, batch.tokens);
          double frac = static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, total_steps - 1));
          if (member_budget_s > 0) {
            const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            frac = std::max(frac, el / member_budget_s);
            if (frac >= 1.0) {
              out_of_time = true;
              break;
            }
          }
          const double lr = options.final_learning_rate +
                            0.5 * (options.learning_rate - options.final_learning_rate) * (1.0 + std::cos(M_PI * std::min(frac, 1.0)));
          for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
          auto [tout, pout] = impl->ForwardMember(member, mb);
          torch::Tensor nt = norm_target.index_select(0, idx);
          torch::Tensor lm = lat_mask.index_select(0, idx), vm = valid.index_select(0, idx);
          torch::Tensor err = options.loss == TrainLoss::kRelative
                                  ? Relative((tout.slice(2, 0, kTenantOutputs) - nt) * tstd3)
                                  : Huber(tout.slice(2, 0, kTenantOutputs) - nt);
          torch::Tensor lat_loss = ((err.select(2, 0) + err.select(2, 1)) * lm).sum() / lm.sum().clamp_min(1.0);
          torch::Tensor thr_loss = (err.select(2, 2) * vm).sum() / vm.sum().clamp_min(1.0);
          torch::Tensor pow_loss = Huber(pout - norm_power.index_select(0, idx)).mean();
          torch::Tensor sat_loss =
              (torch::binary_cross_entropy_with_logits(tout.select(2, kTenantOutputs), sat_t.index_select(0, idx),
                                                       {}, {}, at::Reduction::None) * vm).sum() / vm.sum().clamp_min(1.0);
          torch::Tensor loss = lat_loss + thr_loss + pow_loss + kSaturationWeight * sat_loss;
          opt.zero_grad();
          loss.backward();
          torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
          opt.step();
          loss_sum += loss.item<double>();
          ++step;
          ++steps_done;
        }
        EpochReport rep;
        rep.epoch = epoch;
        rep.epochs = options.epochs;
        rep.member = static_cast<int>(member) + 1;
        rep.members = static_cast<int>(impl->nets.size());
        rep.train_loss = loss_sum / static_cast<double>(std::max<int64_t>(1, steps_done));
        net->eval();
        score_holdout(member, &rep);
        rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
        if (options.progress) options.progress(rep);
      }
      net->eval();
    }
  } catch (const std::exception& e) {
    return Internal(std::string("train: libtorch failed: ") + e.what());
  }
  return std::unique_ptr<TransformerPredictor>(new TransformerPredictor(std::move(impl)));
}

Status TransformerPredictor::Save(const std::string& path, const nlohmann::json& training) const {
  ModelFile f;
  f.format = kTransformerFormat;
  f.version = kTransformerVersion;
  nlohmann::json platform_json = impl_->info;
  f.meta["platform"] = platform_json;
  f.meta["config"] = ConfigToJson(impl_->config);
  f.meta["features"] = impl_->featurizer.num_features();
  f.meta["feature_mean"] = TensorToVector(impl_->feature_mean);
  std::vector<double> inv = TensorToVector(impl_->feature_inv_std);
  for (double& v : inv) v = 1.0 / v;
  f.meta["feature_std"] = inv;
  f.meta["target_mean"] = impl_->target_mean_v;
  f.meta["target_std"] = impl_->target_std_v;
  f.meta["analytic"] = impl_->analytic.ToJson();
  f.meta["training"] = training.is_null() ? impl_->training : training;
  if (impl_->conformal) f.meta["conformal"] = impl_->conformal->ToJson();
  try {
    // One member: its parameters at the archive's top level (as before ensembles). Several:
    // member k's in the sub-archive "member<k>".
    torch::serialize::OutputArchive archive;
    if (impl_->nets.size() == 1) {
      impl_->nets[0]->save(archive);
    } else {
      for (size_t k = 0; k < impl_->nets.size(); ++k) {
        torch::serialize::OutputArchive sub;
        impl_->nets[k]->save(sub);
        archive.write("member" + std::to_string(k), sub);
      }
    }
    std::ostringstream out;
    archive.save_to(out);
    f.weights = out.str();
  } catch (const std::exception& e) {
    return Internal(std::string("save: libtorch could not serialise the weights: ") + e.what());
  }
  return WriteModelFile(path, f);
}

StatusOr<std::unique_ptr<TransformerPredictor>> TransformerPredictor::Load(const std::string& path,
                                                                           platform::ModelLookup lookup) {
  ECOMAP_ASSIGN_OR_RETURN(ModelFile f, ReadModelFile(path, kTransformerFormat, kTransformerVersion));
  const nlohmann::json& m = f.meta;
  TransformerConfig config;
  std::vector<double> fm, fs, tm, ts;
  int features = 0;
  platform::PlatformInfo info;
  try {
    ECOMAP_ASSIGN_OR_RETURN(info, platform::PlatformInfoFromJson(m.at("platform")));
    const nlohmann::json& c = m.at("config");
    config.d_model = c.at("d_model").get<int>();
    config.heads = c.at("heads").get<int>();
    config.layers = c.at("layers").get<int>();
    config.ff_dim = c.at("ff_dim").get<int>();
    config.members = c.value("members", 1);  // files from before ensembles: one network
    features = m.at("features").get<int>();
    fm = m.at("feature_mean").get<std::vector<double>>();
    fs = m.at("feature_std").get<std::vector<double>>();
    tm = m.at("target_mean").get<std::vector<double>>();
    ts = m.at("target_std").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(path + ": meta: " + e.what());
  }
  if (config.d_model <= 0 || config.heads <= 0 || config.layers <= 0 || config.ff_dim <= 0 ||
      config.d_model % config.heads != 0 || config.d_model > 4096 || config.layers > 64 || config.ff_dim > 65536 ||
      config.members <= 0 || config.members > kMaxMembers) {
    return DataLoss(path + ": meta.config has impossible sizes");
  }
  auto analytic = AnalyticModel::FromJson(m.at("analytic"), info, lookup);
  if (!analytic.ok()) return DataLoss(path + ": " + analytic.status().message());
  auto impl = std::make_unique<Impl>(info, std::move(*analytic), config);
  const int nf = impl->featurizer.num_features();
  if (features != nf || static_cast<int>(fm.size()) != nf || static_cast<int>(fs.size()) != nf ||
      tm.size() != static_cast<size_t>(kTargets) || ts.size() != static_cast<size_t>(kTargets)) {
    return FailedPrecondition(path + ": the model uses " + std::to_string(features) + " features; this build computes " +
                              std::to_string(nf) + " for its platform: retrain it with `ecomap estimator train`");
  }
  impl->SetNormalisation(fm, fs, tm, ts);
  if (m.contains("training")) impl->training = m.at("training");
  if (m.contains("conformal")) {  // absent in files from before calibration: no bound
    auto c = ConformalCalibration::FromJson(m.at("conformal"));
    if (!c.ok()) return DataLoss(path + ": meta." + c.status().message());
    impl->conformal = std::move(*c);
  }
  try {
    torch::serialize::InputArchive archive;
    std::istringstream in(f.weights);
    archive.load_from(in);
    if (impl->nets.size() == 1) {
      impl->nets[0]->load(archive);
    } else {
      for (size_t k = 0; k < impl->nets.size(); ++k) {
        torch::serialize::InputArchive sub;
        if (!archive.try_read("member" + std::to_string(k), sub)) {
          return DataLoss(path + ": the weights block has no member" + std::to_string(k) + " of the " +
                          std::to_string(impl->nets.size()) + " that meta.config.members names");
        }
        impl->nets[k]->load(sub);
      }
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what.size() > 300) what = what.substr(0, 300) + "...";
    return DataLoss(path + ": the weights block cannot be read by libtorch (" + what + ")");
  }
  for (Net& net : impl->nets) net->eval();
  return std::unique_ptr<TransformerPredictor>(new TransformerPredictor(std::move(impl)));
}

StatusOr<std::vector<platform::Performance>> TransformerPredictor::PredictBatch(
    const std::vector<platform::Configuration>& configs) const {
  std::vector<platform::Performance> out(configs.size());
  if (configs.empty()) return out;
  if (at::get_num_threads() != impl_->intra_op_threads) at::set_num_threads(impl_->intra_op_threads);
  // Buckets of equal token count (a token per stage): no padding tokens, so no attention mask
  // and no wasted work; chunks bound the memory of very large batches.
  constexpr size_t kChunk = 512;
  std::map<size_t, std::vector<size_t>> buckets;
  for (size_t c = 0; c < configs.size(); ++c) {
    size_t tokens = 0;
    for (const platform::TenantConfig& t : configs[c].tenants) tokens += t.stages.size();
    buckets[tokens].push_back(c);
  }
  std::vector<const platform::Configuration*> ptrs;
  std::vector<size_t> index;
  TokenBatch b;
  const platform::PlatformInfo& info = impl_->info;
  for (const auto& [tokens, members] : buckets) {
    for (size_t m0 = 0; m0 < members.size(); m0 += kChunk) {
      const size_t m1 = std::min(members.size(), m0 + kChunk);
      ptrs.clear();
      index.assign(members.begin() + static_cast<std::ptrdiff_t>(m0),
                   members.begin() + static_cast<std::ptrdiff_t>(m1));
      for (size_t c : index) ptrs.push_back(&configs[c]);
      Status s = impl_->featurizer.Build(ptrs, &b);
      if (!s.ok()) {
        // Name the first invalid configuration of the whole batch by its index there.
        ConfigView view;
        AnalyticEstimate e;
        for (size_t c = 0; c < configs.size(); ++c) {
          Status cs = impl_->analytic.Estimate(configs[c], &view, &e);
          if (!cs.ok()) return cs.WithContext("configuration " + std::to_string(c));
        }
        return s;
      }
      torch::Tensor logs, lp, sat;
      try {
        c10::InferenceMode guard;
        Tensors t = ToTensors(b);
        auto [tout, pout] = impl_->Forward(t);
        logs = (t.base + impl_->target_mean.slice(0, 0, kTenantOutputs) +
                tout.slice(2, 0, kTenantOutputs) * impl_->target_std.slice(0, 0, kTenantOutputs))
                   .exp()
                   .contiguous();
        lp =
            (t.base_power + impl_->target_mean_v[kTenantOutputs] + pout * impl_->target_std_v[kTenantOutputs])
                .exp()
                .contiguous();
        sat = tout.select(2, kTenantOutputs).contiguous();
      } catch (const std::exception& e) {
        return Internal(std::string("transformer: libtorch failed: ") + e.what());
      }
      const float* a = logs.data_ptr<float>();
      const float* p = lp.data_ptr<float>();
      const float* sl = sat.data_ptr<float>();
      for (size_t k = 0; k < index.size(); ++k) {
        const size_t c = index[k];
        platform::Performance& perf = out[c];
        perf.provenance = platform::Provenance::kModelled;
        perf.power = Watts(p[k]);
        const size_t nt = configs[c].tenants.size();
        perf.tenants.resize(nt);
        for (size_t i = 0; i < nt; ++i) {
          const size_t ti = k * static_cast<size_t>(b.max_tenants) + i;
          const float* o = a + ti * kTenantOutputs;
          platform::TenantPerformance& tp = perf.tenants[i];
          tp.name = TenantName(configs[c].tenants[i], i);
          tp.latency_p50 = Milliseconds(o[0]);
          tp.latency_p95 = Milliseconds(std::max(o[0], o[1]));
          tp.throughput_rps = o[2];
          tp.saturated = configs[c].tenants[i].arrival == platform::ArrivalKind::kOpenLoop && sl[ti] > 0.0f;
        }
        const AnalyticEstimate& e = b.analytic[k];
        for (size_t u = 0; u < info.units.size(); ++u) {
          perf.unit_utilisation[info.units[u].id] = std::clamp(e.utilisation[u], 0.0, 1.0);
        }
      }
    }
  }
  return out;
}

}  // namespace ecomap::estimator
