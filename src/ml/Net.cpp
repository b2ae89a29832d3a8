#include "nurec/ml/Net.hpp"

#include <cmath>
#include <limits>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::ml {

namespace {
using torch::indexing::Slice;
constexpr double kLayerNormEps = 1e-5;
}  // namespace

torch::Tensor DiffusionNetImpl::param(const std::string& name, std::vector<std::int64_t> shape,
                                      double bound) {
  torch::Tensor t = torch::empty(shape);
  if (bound > 0) {
    t.uniform_(-bound, bound);
  } else {
    t.zero_();
  }
  return register_parameter(name, t);
}

DiffusionNetImpl::DiffusionNetImpl(int features, const EncoderConfig& enc, const HeadConfig& head)
    : enc_(enc), head_(head) {
  const std::int64_t F = features, D = enc.width, L = enc.layers, R = enc.mlpRatio;
  const std::int64_t Dc = enc.condDim, W = head.width, NB = head.blocks, RW = head.mlpRatio;
  const std::int64_t E = head.channelEmbedding, NF = head.timeFrequencies;
  auto bound = [](std::int64_t fanIn) { return 1.0 / std::sqrt(static_cast<double>(fanIn)); };
  // Encoder (docs/ml-methods.md section 2).
  param("emb_w1", {2 * D, F}, bound(F));
  param("emb_b1", {2 * D}, bound(F));
  param("emb_w2", {D, 2 * D}, bound(2 * D));
  param("emb_b2", {D}, bound(2 * D));
  param("edge_w1", {2 * D, 2 * F}, bound(2 * F));
  param("edge_b1", {2 * D}, bound(2 * F));
  param("edge_w2", {D, 2 * D}, bound(2 * D));
  param("edge_b2", {D}, bound(2 * D));
  register_parameter("ln1_w", torch::ones({L, D}));
  register_parameter("ln1_b", torch::zeros({L, D}));
  param("qkv_w", {L, 3 * D, D}, bound(D));
  param("qkv_b", {L, 3 * D}, bound(D));
  param("o_w", {L, D, D}, bound(D));
  param("o_b", {L, D}, bound(D));
  register_parameter("gamma1", torch::full({L, D}, enc.layerScaleInit));
  register_parameter("ln2_w", torch::ones({L, D}));
  register_parameter("ln2_b", torch::zeros({L, D}));
  param("mlp_w1", {L, R * D, D}, bound(D));
  param("mlp_b1", {L, R * D}, bound(D));
  param("mlp_w2", {L, D, R * D}, bound(R * D));
  param("mlp_b2", {L, D}, bound(R * D));
  register_parameter("gamma2", torch::full({L, D}, enc.layerScaleInit));
  register_parameter("lnf_w", torch::ones({D}));
  register_parameter("lnf_b", torch::zeros({D}));
  param("pool_w", {Dc, 2 * D}, bound(2 * D));
  param("pool_b", {Dc}, bound(2 * D));
  // Head (docs/ml-methods.md section 3).
  register_parameter("ch_emb", torch::randn({kNumChannels, E}));
  param("t_w1", {W, 2 * NF}, bound(2 * NF));
  param("t_b1", {W}, bound(2 * NF));
  param("t_w2", {W, W}, bound(W));
  param("t_b2", {W}, bound(W));
  param("c_w", {W, Dc + E}, bound(Dc + E));
  param("c_b", {W}, bound(Dc + E));
  param("z_w", {W, kNumTargets}, bound(kNumTargets));
  param("z_b", {W}, bound(kNumTargets));
  param("film_w", {NB, 2 * W, W}, bound(W));
  param("film_b", {NB, 2 * W}, bound(W));
  param("blk_w1", {NB, RW * W, W}, bound(W));
  param("blk_b1", {NB, RW * W}, bound(W));
  param("blk_w2", {NB, W, RW * W}, 0);  // residual branches start at zero
  param("blk_b2", {NB, W}, 0);
  param("out_w", {kNumTargets, W}, 0);  // v-hat = 0 at start
  param("out_b", {kNumTargets}, 0);
  // Buffers: normalisation constants and Fourier frequencies (log-spaced in [1, 1000]).
  xMean_ = register_buffer("x_mean", torch::zeros({F}));
  xStd_ = register_buffer("x_std", torch::ones({F}));
  yMean_ = register_buffer("y_mean", torch::zeros({kNumTargets}));
  yStd_ = register_buffer("y_std", torch::ones({kNumTargets}));
  freqs_ = register_buffer("freqs", torch::logspace(0.0, 3.0, NF, 10.0));
}

void DiffusionNetImpl::setNormalisation(const NormStats& s) {
  torch::NoGradGuard ng;
  auto opts = xMean_.options();
  const auto F = static_cast<std::int64_t>(s.xMean.size());
  require(F == xMean_.size(0) && s.xStd.size() == s.xMean.size(),
          "normalisation constants for " + std::to_string(F) + " features, the network reads " +
              std::to_string(xMean_.size(0)));
  xMean_.copy_(torch::from_blob(const_cast<float*>(s.xMean.data()), {F}).to(opts));
  xStd_.copy_(torch::from_blob(const_cast<float*>(s.xStd.data()), {F}).to(opts));
  yMean_.copy_(torch::from_blob(const_cast<float*>(s.yMean.data()), {kNumTargets}).to(opts));
  yStd_.copy_(torch::from_blob(const_cast<float*>(s.yStd.data()), {kNumTargets}).to(opts));
}

torch::Tensor DiffusionNetImpl::lin(const torch::Tensor& x, const torch::Tensor& w,
                                    const torch::Tensor& b, std::int64_t* flops) const {
  if (flops) *flops += 2 * (x.numel() / w.size(1)) * w.size(1) * w.size(0);
  return torch::linear(x, w, b);
}

std::pair<torch::Tensor, torch::Tensor> knnNeighbours(const torch::Tensor& x,
                                                      const torch::Tensor& mask, std::int64_t k) {
  const std::int64_t P = x.size(1);
  const double inf = std::numeric_limits<double>::infinity();
  const double pi = constants::pi;
  // Distances among valid non-MET slots; self, padded and MET keys get d = +inf.
  const torch::Tensor eta =
      torch::where(mask, x.select(2, feat::eta), torch::zeros({}, x.options()));
  const torch::Tensor phi =
      torch::where(mask, x.select(2, feat::phi), torch::zeros({}, x.options()));
  const torch::Tensor deta = eta.unsqueeze(2) - eta.unsqueeze(1);
  const torch::Tensor dphi =
      torch::remainder(phi.unsqueeze(2) - phi.unsqueeze(1) + pi, 2 * pi) - pi;
  const torch::Tensor isMet = mask.logical_and(x.select(2, feat::typeMet) > 0.5);
  const torch::Tensor badKey = mask.logical_not().logical_or(isMet);  // (B,P)
  torch::Tensor d = (deta * deta + dphi * dphi).masked_fill(badKey.unsqueeze(1), inf);
  d = d.masked_fill(torch::eye(P, torch::TensorOptions().dtype(torch::kBool)).unsqueeze(0), inf);
  const std::int64_t kk = std::min<std::int64_t>(k, P - 1);
  auto [dk, idx] = torch::topk(d, kk, -1, /*largest=*/false, /*sorted=*/true);
  const torch::Tensor valid = torch::isfinite(dk).logical_and(mask.unsqueeze(2));
  return {idx, valid};
}

torch::Tensor DiffusionNetImpl::encode(const torch::Tensor& x, const torch::Tensor& mask,
                                       const torch::Tensor& channel, FlopCounter* fc) {
  const auto& p = named_parameters(false);
  const std::int64_t B = x.size(0), P = x.size(1), F = x.size(2);
  const std::int64_t D = enc_.width, H = enc_.heads, dh = D / H;
  std::int64_t* fEmbed = fc ? &fc->embed : nullptr;
  std::int64_t* fEdges = fc ? &fc->edges : nullptr;
  std::int64_t* fLayers = fc ? &fc->layers : nullptr;
  std::int64_t* fPool = fc ? &fc->pool : nullptr;
  const double inf = std::numeric_limits<double>::infinity();

  const torch::Tensor m3 = mask.unsqueeze(-1);      // (B,P,1) bool
  const torch::Tensor mf = m3.to(x.scalar_type());  // (B,P,1)
  // Normalised inputs; padded slots exactly 0 whatever they contain (docs/ml-methods.md section 1).
  const torch::Tensor xn = torch::where(m3, (x - xMean_) / xStd_, torch::zeros_like(x));
  torch::Tensor h0 = torch::gelu(lin(torch::gelu(lin(xn, p["emb_w1"], p["emb_b1"], fEmbed)),
                                     p["emb_w2"], p["emb_b2"], fEmbed)) *
                     mf;
  auto [idx, valid] = knnNeighbours(x, mask, enc_.knn);  // (B,P,kk)
  const std::int64_t kk = idx.size(2);
  const torch::Tensor offsets = (torch::arange(B, idx.options()) * P).view({B, 1, 1});
  const torch::Tensor xj =
      xn.reshape({B * P, F}).index_select(0, (idx + offsets).reshape({-1})).view({B, P, kk, F});
  const torch::Tensor xi = xn.unsqueeze(2).expand({B, P, kk, F});
  const torch::Tensor e = torch::gelu(
      lin(torch::gelu(lin(torch::cat({xi, xj - xi}, -1), p["edge_w1"], p["edge_b1"], fEdges)),
          p["edge_w2"], p["edge_b2"], fEdges));
  const torch::Tensor vf = valid.to(x.scalar_type()).unsqueeze(-1);
  const torch::Tensor local = (e * vf).sum(2) / vf.sum(2).clamp_min(1.0);
  torch::Tensor h = (h0 + local) * mf;
  const torch::Tensor skip = h;
  // Transformer layers: pre-LN, masked keys, LayerScale (docs/ml-methods.md section 2).
  const torch::Tensor keyMask = mask.logical_not().view({B, 1, 1, P});
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  for (std::int64_t l = 0; l < enc_.layers; ++l) {
    const torch::Tensor u = torch::layer_norm(h, {D}, p["ln1_w"][l], p["ln1_b"][l], kLayerNormEps);
    const torch::Tensor qkv = lin(u, p["qkv_w"][l], p["qkv_b"][l], fLayers)
                                  .view({B, P, 3, H, dh})
                                  .permute({2, 0, 3, 1, 4});
    const torch::Tensor q = qkv[0], k = qkv[1], v = qkv[2];
    torch::Tensor s = torch::matmul(q, k.transpose(-2, -1)) * scale;
    if (fLayers) *fLayers += 4 * B * H * P * P * dh;
    s = s.masked_fill(keyMask, -inf);
    const torch::Tensor a =
        torch::matmul(torch::softmax(s, -1), v).transpose(1, 2).reshape({B, P, D});
    h = h + p["gamma1"][l] * lin(a, p["o_w"][l], p["o_b"][l], fLayers);
    const torch::Tensor u2 = torch::layer_norm(h, {D}, p["ln2_w"][l], p["ln2_b"][l], kLayerNormEps);
    h = h + p["gamma2"][l] * lin(torch::gelu(lin(u2, p["mlp_w1"][l], p["mlp_b1"][l], fLayers)),
                                 p["mlp_w2"][l], p["mlp_b2"][l], fLayers);
    h = h * mf;
  }
  h = torch::layer_norm(h + skip, {D}, p["lnf_w"], p["lnf_b"], kLayerNormEps) * mf;
  const torch::Tensor mean = h.sum(1) / mf.sum(1);
  const torch::Tensor mx = h.masked_fill(m3.logical_not(), -inf).amax(1);
  const torch::Tensor c = lin(torch::cat({mean, mx}, -1), p["pool_w"], p["pool_b"], fPool);
  const torch::Tensor ech = p["ch_emb"].index_select(0, channel);
  return lin(torch::cat({c, ech}, -1), p["c_w"], p["c_b"], fc ? &fc->head : nullptr);
}

torch::Tensor DiffusionNetImpl::timeEmbedding(const torch::Tensor& t) {
  const auto& p = named_parameters(false);
  const torch::Tensor ang = t.unsqueeze(1) * freqs_.to(t.scalar_type()).unsqueeze(0);
  const torch::Tensor f = torch::cat({torch::sin(ang), torch::cos(ang)}, 1);
  return lin(torch::gelu(lin(f, p["t_w1"], p["t_b1"], nullptr)), p["t_w2"], p["t_b2"], nullptr);
}

torch::Tensor DiffusionNetImpl::velocity(const torch::Tensor& condBase, const torch::Tensor& temb,
                                         const torch::Tensor& z, FlopCounter* fc) {
  const auto& p = named_parameters(false);
  const std::int64_t W = head_.width;
  std::int64_t* fh = fc ? &fc->head : nullptr;
  const torch::Tensor cond = torch::gelu(condBase + temb);  // (B, W), per event and step
  torch::Tensor h = lin(z, p["z_w"], p["z_b"], fh);         // (B, K, W)
  for (std::int64_t i = 0; i < head_.blocks; ++i) {
    const torch::Tensor film = lin(cond, p["film_w"][i], p["film_b"][i], fh).unsqueeze(1);
    const torch::Tensor sc = film.narrow(2, 0, W), sh = film.narrow(2, W, W);
    const torch::Tensor u = torch::layer_norm(h, {W}, {}, {}, kLayerNormEps) * (sc + 1.0) + sh;
    h = h + lin(torch::gelu(lin(u, p["blk_w1"][i], p["blk_b1"][i], fh)), p["blk_w2"][i],
                p["blk_b2"][i], fh);
  }
  return lin(h, p["out_w"], p["out_b"], fh);
}

torch::Tensor DiffusionNetImpl::forward(const torch::Tensor& x, const torch::Tensor& mask,
                                        const torch::Tensor& channel, const torch::Tensor& z,
                                        const torch::Tensor& t) {
  const torch::Tensor condBase = encode(x, mask, channel);
  return velocity(condBase, timeEmbedding(t), z.unsqueeze(1)).squeeze(1);
}

DiffusionNet makeNet(const DiffusionConfig& config) {
  return DiffusionNet(config.inputs.numFeatures(), config.encoder, config.head);
}

Lion::Lion(std::vector<torch::Tensor> params, double beta1, double beta2, double weightDecay)
    : params_(std::move(params)), beta1_(beta1), beta2_(beta2), wd_(weightDecay) {
  for (const auto& p : params_) m_.push_back(torch::zeros_like(p));
}

void Lion::step(double lr) {
  torch::NoGradGuard ng;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    const torch::Tensor g = p.grad();
    if (!g.defined()) continue;
    const torch::Tensor c = m_[i] * beta1_ + g * (1 - beta1_);
    p.mul_(1 - lr * wd_);  // decoupled weight decay, identical to -lr wd theta (docs/ml-methods.md
                           // section 6)
    p.add_(torch::sign(c), -lr);
    m_[i].mul_(beta2_).add_(g, 1 - beta2_);
  }
}

void emaUpdate(torch::nn::Module& ema, const torch::nn::Module& model, double decay) {
  torch::NoGradGuard ng;
  const auto src = model.named_parameters(true);
  auto dst = ema.named_parameters(true);
  for (const auto& item : src) dst[item.key()].mul_(decay).add_(item.value(), 1 - decay);
  const auto srcB = model.named_buffers(true);
  auto dstB = ema.named_buffers(true);
  for (const auto& item : srcB) dstB[item.key()].copy_(item.value());
}

void copyWeights(torch::nn::Module& dst, const torch::nn::Module& src) {
  torch::NoGradGuard ng;
  auto dp = dst.named_parameters(true);
  for (const auto& item : src.named_parameters(true)) dp[item.key()].copy_(item.value());
  auto db = dst.named_buffers(true);
  for (const auto& item : src.named_buffers(true)) db[item.key()].copy_(item.value());
}

double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm) {
  torch::NoGradGuard ng;
  double sum2 = 0;
  for (const auto& p : params) {
    if (p.grad().defined()) sum2 += p.grad().to(torch::kFloat64).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(sum2);
  if (maxNorm > 0 && norm > maxNorm) {
    const double f = maxNorm / (norm + 1e-6);
    for (const auto& p : params) {
      if (p.grad().defined()) p.grad().mul_(f);
    }
  }
  return norm;
}

}  // namespace nurec::ml

#include <filesystem>
#include <sstream>

#include "nurec/ml/Integrity.hpp"

namespace nurec::ml {

namespace fs = std::filesystem;

std::string firstLineOf(const std::string& text) {
  const std::string line = text.substr(0, text.find('\n'));
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

void writeArchive(torch::serialize::OutputArchive& archive, const std::string& path) {
  // Serialised in memory first: LibTorch's file writer aborts the process (a throw from a
  // destructor) when the disk is full, and leaves its temporary behind.
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw Error("cannot serialise " + path + " (" + e.what_without_backtrace() + ")");
  }
  writeTextFileAtomically(path, bytes.str());
}

void readArchive(torch::serialize::InputArchive& archive, const std::string& path) {
  const std::string bytes = readFileBytes(path);
  verifyZipArchive(bytes, path);
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot read the archive (" +
                     std::string(e.what_without_backtrace()) + ")");
  }
}

std::string weightsChecksum(const torch::nn::Module& net) {
  Sha256 sha;
  auto add = [&](const std::string& key, const torch::Tensor& value) {
    const torch::Tensor t = value.detach().contiguous();
    sha.update(key.data(), key.size() + 1);  // with the terminating zero as a separator
    sha.update(t.data_ptr(), t.numel() * t.element_size());
  };
  for (const auto& item : net.named_parameters(true)) add(item.key(), item.value());
  for (const auto& item : net.named_buffers(true)) add(item.key(), item.value());
  return sha.hexDigest();
}

IntraOpThreads::IntraOpThreads(int threads) : previous_(at::get_num_threads()) {
  at::set_num_threads(threads);
}

IntraOpThreads::~IntraOpThreads() {
  at::set_num_threads(previous_);
}

void saveWeights(const torch::nn::Module& net, const std::string& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& item : net.named_parameters(true)) archive.write(item.key(), item.value());
  for (const auto& item : net.named_buffers(true)) archive.write(item.key(), item.value(), true);
  // SHA-256 of the weights, checked on load on top of the zip CRCs (docs/reliability.md).
  archive.write(kWeightsChecksumKey, c10::IValue(weightsChecksum(net)));
  writeArchive(archive, path);
}

void loadWeights(torch::nn::Module& net, const std::string& path) {
  torch::serialize::InputArchive archive;
  readArchive(archive, path);
  try {
    torch::NoGradGuard ng;
    for (auto& item : net.named_parameters(true)) {
      torch::Tensor t;
      archive.read(item.key(), t);
      if (t.sizes() != item.value().sizes()) {
        throw InputError(path + ": parameter '" + item.key() +
                         "' has a shape that does not match config.yaml");
      }
      item.value().copy_(t);
    }
    for (auto& item : net.named_buffers(true)) {
      torch::Tensor t;
      archive.read(item.key(), t, true);
      if (t.sizes() != item.value().sizes()) {
        throw InputError(path + ": buffer '" + item.key() +
                         "' has a shape that does not match config.yaml");
      }
      item.value().copy_(t);
    }
    c10::IValue recorded;
    if (archive.try_read(kWeightsChecksumKey, recorded)) {
      if (!recorded.isString() || recorded.toStringRef() != weightsChecksum(net)) {
        throw InputError(path +
                         ": damaged file: the SHA-256 of the weights does not match the one "
                         "recorded when the model was saved");
      }
    }
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot read the model weights (" +
                     std::string(e.what_without_backtrace()) + ")");
  }
}

void saveModelDir(DiffusionNet& net, const DiffusionConfig& config, const std::string& dir) {
  fs::create_directories(dir);
  writeTextFileAtomically((fs::path(dir) / "config.yaml").string(), config.toYaml());
  saveWeights(*net, (fs::path(dir) / "model.pt").string());
}

LoadedModel loadModelDir(const std::string& dir) {
  const fs::path cfgPath = fs::path(dir) / "config.yaml";
  const fs::path modelPath = fs::path(dir) / "model.pt";
  if (!fs::exists(cfgPath) || !fs::exists(modelPath)) {
    throw InputError("model directory '" + dir +
                     "' does not hold a trained model (expected config.yaml and model.pt, "
                     "written by `nurec train`)");
  }
  LoadedModel m;
  m.config = DiffusionConfig::fromFile(cfgPath.string());
  m.net = makeNet(m.config);
  loadWeights(*m.net, modelPath.string());
  m.net->eval();
  return m;
}

}  // namespace nurec::ml
