#include "nurec/ml/unfold/UnfoldNet.hpp"

#include <cmath>
#include <deque>
#include <numbers>

#include "nurec/core/Error.hpp"
#include "nurec/ml/unfold/WDaughterOrder.hpp"

namespace nurec::ml::unfold {

namespace {

const double kLog2Pi = std::log(2 * std::numbers::pi);
constexpr double kMassScaleGeV2 = 1e4;  // (100 GeV)^2, docs/ml-unfold.md "Consistency"
constexpr double kMinDecoderSigma = 0.01;

// The VLD family's latents have zero mean and unit variance across their components; the decoder
// reads them projected onto that sphere, so that a sampled latent's radial error is not decoded.
torch::Tensor onLatentSphere(const torch::Tensor& z) {
  return torch::layer_norm(z, {z.size(-1)});
}

bool isVld(ModelKind k) {
  return k == ModelKind::Vld || k == ModelKind::Cvld || k == ModelKind::Ucvld;
}

// Each event's next rows x cols normals from its own stream, stacked: (B rows, cols).
torch::Tensor eventNormals(const std::vector<UnfoldModelImpl::NoiseFn>& noise, std::int64_t rows,
                           std::int64_t cols) {
  std::vector<torch::Tensor> parts;
  parts.reserve(noise.size());
  for (const auto& n : noise) parts.push_back(n(rows * cols).view({rows, cols}));
  return torch::cat(parts, 0);
}

torch::Tensor gaussianNoise(at::Generator& gen, std::vector<std::int64_t> shape) {
  return torch::randn(shape, gen, torch::kFloat32);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
ResMlpImpl::ResMlpImpl(int in, int out, int width, int blocks, int condDim, bool zeroOutput) {
  input_ = register_module("input", torch::nn::Linear(in, width));
  for (int b = 0; b < blocks; ++b) {
    const std::string s = std::to_string(b);
    norms_.push_back(
        register_module("norm" + s, torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}))));
    fc1_.push_back(register_module("fc1_" + s, torch::nn::Linear(width, 2 * width)));
    fc2_.push_back(register_module("fc2_" + s, torch::nn::Linear(2 * width, width)));
    if (condDim > 0) {
      fcCond_.push_back(register_module("cond" + s, torch::nn::Linear(condDim, 2 * width)));
    }
  }
  output_ = register_module("output", torch::nn::Linear(width, out));
  if (zeroOutput) {
    torch::NoGradGuard guard;
    output_->weight.zero_();
    output_->bias.zero_();
  }
}

torch::Tensor ResMlpImpl::forward(const torch::Tensor& x, const torch::Tensor& cond) {
  require(fcCond_.empty() || cond.defined(), "ResMlp: a conditional block needs its condition");
  torch::Tensor h = input_(x);
  for (std::size_t b = 0; b < fc1_.size(); ++b) {
    torch::Tensor u = fc1_[b](norms_[b](h));
    if (!fcCond_.empty()) u = u + fcCond_[b](cond);
    h = h + fc2_[b](torch::silu(u));
  }
  return output_(h);
}

// ---------------------------------------------------------------------------------------------
DetectorEncoderImpl::DetectorEncoderImpl(const DetectorEncoderConfig& c) {
  embed_ = register_module("embed", torch::nn::Linear(kFeatures, c.width));
  globalEmbed_ = register_module("global_embed", torch::nn::Linear(kGlobalInputs, c.width));
  if (c.layers > 0) {
    const auto layer = torch::nn::TransformerEncoderLayerOptions(c.width, c.heads)
                           .dim_feedforward(c.mlpRatio * c.width)
                           .dropout(0.0)
                           .activation(torch::kGELU);
    transformer_ = register_module(
        "transformer",
        torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(layer, c.layers)));
  }
  pool_ = register_module("pool", torch::nn::Linear(2 * c.width, c.width));
}

torch::Tensor DetectorEncoderImpl::forward(const Batch& batch) {
  const auto B = batch.particles.size(0);
  // Token 0 is the MET (always present); slots follow. Padding mask: true = ignore.
  torch::Tensor tokens =
      torch::cat({globalEmbed_(batch.global).unsqueeze(1), embed_(batch.particles)}, 1);
  const torch::Tensor pad =
      torch::cat({torch::zeros({B, 1}, torch::kBool), batch.mask.logical_not()}, 1);
  if (transformer_) {
    tokens = transformer_->forward(tokens.transpose(0, 1), torch::Tensor(), pad).transpose(0, 1);
  }
  const torch::Tensor m = batch.mask.to(torch::kFloat32).unsqueeze(-1);
  const torch::Tensor slots = tokens.narrow(1, 1, kSlots);
  const torch::Tensor mean = (slots * m).sum(1) / m.sum(1).clamp_min(1.0);
  return pool_(torch::cat({mean, tokens.select(1, 0)}, -1));
}

// ---------------------------------------------------------------------------------------------
LogSnrScheduleImpl::LogSnrScheduleImpl(double gammaMin, double gammaMax, bool learned)
    : learned_(learned) {
  auto scalar = [](double v) { return torch::tensor({v}, torch::kFloat32); };
  if (!learned) {
    gamma0_ = register_buffer("gamma0", scalar(gammaMin));
    gamma1_ = register_buffer("gamma1", scalar(gammaMax));
    return;
  }
  gamma0_ = register_parameter("gamma0", scalar(gammaMin));
  gamma1_ = register_parameter("gamma1", scalar(gammaMax));
  constexpr int kHidden = 64;
  // softplus(0.5413) = 1: f starts close to linear.
  w1_ = register_parameter("w1", scalar(0.5413));
  b1_ = register_parameter("b1", scalar(0.0));
  w2_ = register_parameter("w2", torch::randn({kHidden}));
  b2_ = register_parameter("b2", torch::randn({kHidden}));
  w3_ = register_parameter("w3", torch::randn({kHidden}) - 2.0);
}

torch::Tensor LogSnrScheduleImpl::f(const torch::Tensor& t) {
  const torch::Tensor l1 = torch::softplus(w1_) * t + b1_;  // (N)
  const torch::Tensor hidden =
      torch::sigmoid(l1.unsqueeze(-1) * torch::softplus(w2_) + b2_);  // (N, H)
  return l1 + (hidden * torch::softplus(w3_)).sum(-1) / static_cast<double>(w2_.size(0));
}

torch::Tensor LogSnrScheduleImpl::forward(const torch::Tensor& t) {
  // Ends kept apart and finite whatever the optimiser does.
  const torch::Tensor g0 = gamma0_.clamp(-30.0, 29.0);
  const torch::Tensor g1 = torch::maximum(gamma1_.clamp(-29.0, 30.0), g0 + 1.0);
  if (!learned_) return g0 + (g1 - g0) * t;
  const torch::Tensor ends = f(torch::tensor({0.0f, 1.0f}));
  const torch::Tensor f0 = ends.select(0, 0), f1 = ends.select(0, 1);
  return g0 + (g1 - g0) * (f(t) - f0) / (f1 - f0);
}

std::vector<torch::Tensor> LogSnrScheduleImpl::shapeParameters() const {
  if (!learned_) return {};
  return {w1_, b1_, w2_, b2_, w3_};
}

// ---------------------------------------------------------------------------------------------
CouplingBlockImpl::CouplingBlockImpl(int dim, int condDim, int width, double clamp,
                                     std::uint64_t seed)
    : dim_(dim), split_(dim / 2), clamp_(clamp) {
  const int rest = dim - split_;
  subnet_ = register_module(
      "subnet", torch::nn::Sequential(torch::nn::Linear(split_ + condDim, width), torch::nn::SiLU(),
                                      torch::nn::Linear(width, width), torch::nn::SiLU(),
                                      torch::nn::Linear(width, 2 * rest)));
  {
    // The block starts as the identity (up to the rotation).
    torch::NoGradGuard guard;
    auto last = subnet_->ptr<torch::nn::LinearImpl>(4);
    last->weight.zero_();
    last->bias.zero_();
  }
  logScale_ = register_parameter("log_scale", torch::zeros({dim}));
  shift_ = register_parameter("shift", torch::zeros({dim}));
  // A fixed random rotation mixes the halves between blocks (its own seed: reproducible).
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const torch::Tensor q = std::get<0>(torch::linalg_qr(torch::randn({dim, dim}, gen)));
  rotation_ = register_buffer("rotation", q.contiguous());
}

std::pair<torch::Tensor, torch::Tensor> CouplingBlockImpl::scaleShift(const torch::Tensor& x1,
                                                                      const torch::Tensor& cond) {
  const torch::Tensor h = subnet_->forward(torch::cat({x1, cond}, -1));
  const auto parts = h.chunk(2, -1);
  // Soft clamp of the log-scale (All-in-One): |s| < clamp, smooth.
  const torch::Tensor s = clamp_ * (2.0 / std::numbers::pi) * torch::atan(parts[0] / clamp_);
  return {s, parts[1]};
}

std::pair<torch::Tensor, torch::Tensor> CouplingBlockImpl::forward(const torch::Tensor& x,
                                                                   const torch::Tensor& cond) {
  const torch::Tensor x1 = x.narrow(1, 0, split_), x2 = x.narrow(1, split_, dim_ - split_);
  const auto [s, t] = scaleShift(x1, cond);
  torch::Tensor y = torch::cat({x1, x2 * torch::exp(s) + t}, 1);
  torch::Tensor logDet = s.sum(1) + logScale_.sum();
  y = (y * torch::exp(logScale_) + shift_).matmul(rotation_.t());
  return {y, logDet};
}

torch::Tensor CouplingBlockImpl::inverse(const torch::Tensor& y, const torch::Tensor& cond) {
  const torch::Tensor u = (y.matmul(rotation_) - shift_) * torch::exp(-logScale_);
  const torch::Tensor u1 = u.narrow(1, 0, split_), u2 = u.narrow(1, split_, dim_ - split_);
  const auto [s, t] = scaleShift(u1, cond);
  return torch::cat({u1, (u2 - t) * torch::exp(-s)}, 1);
}

// ---------------------------------------------------------------------------------------------
UnfoldModelImpl::UnfoldModelImpl(const UnfoldConfig& config) : config_(config) {
  config_.validate();
  const ModelKind k = config_.model;
  const int D = config_.encoder.width;
  encoder_ = register_module("encoder", DetectorEncoder(config_.encoder));
  const auto& l = config_.latent;
  if (usesVae(k)) {
    const bool condEncoder = k == ModelKind::Vld || k == ModelKind::Cvld || k == ModelKind::Cvae;
    const bool condDecoder = k == ModelKind::Cvld || k == ModelKind::Cvae;
    // The VLD family's encoder is deterministic (its noise is the diffusion's own at t = 0);
    // ldm and cvae encode to a Gaussian (mean, log-variance).
    const int out = isVld(k) ? l.dim : 2 * l.dim;
    vaeEncoder_ = register_module(
        "vae_encoder", ResMlp(kRecordSize, out, l.width, l.blocks, condEncoder ? D : 0, !isVld(k)));
    vaeDecoder_ = register_module(
        "vae_decoder", ResMlp(l.dim, kRecordSize, l.width, l.blocks, condDecoder ? D : 0, false));
    decoderLogSigma_ = register_parameter("decoder_log_sigma", torch::full({kRecordSize}, -1.0));
  }
  if (k == ModelKind::Cvae) {
    prior_ = register_module("prior", ResMlp(D, 2 * l.dim, l.width, l.blocks, 0, true));
  }
  if (usesDiffusion(k)) {
    const auto& d = config_.diffusion;
    const int dim = latentDim();
    denoiser_ = register_module(
        "denoiser", ResMlp(dim, dim, d.width, d.blocks, D + 2 * d.timeFrequencies, false));
    schedule_ =
        register_module("schedule", LogSnrSchedule(d.gammaMin, d.gammaMax, d.learnedSchedule));
    freqs_ = register_buffer("time_frequencies",
                             torch::logspace(0.0, 3.0, d.timeFrequencies, 10.0, torch::kFloat32));
  }
  if (k == ModelKind::Cinn) {
    const auto& f = config_.flow;
    for (int b = 0; b < f.blocks; ++b) {
      const std::uint64_t seed = config_.train.seed * 1000003ULL + static_cast<std::uint64_t>(b);
      flow_.push_back(register_module("flow" + std::to_string(b),
                                      CouplingBlock(kRecordSize, D, f.width, f.clamp, seed)));
    }
  }
  mean_ = register_buffer("parton_mean", torch::zeros({kRecordSize}));
  std_ = register_buffer("parton_std", torch::ones({kRecordSize}));
  if (config_.target.ptOrdered()) {
    qHarderProbability_ =
        register_buffer("q_harder_probability", torch::full({2}, 0.5, torch::kFloat32));
  }
}

int UnfoldModelImpl::latentDim() const {
  return usesVae(config_.model) ? config_.latent.dim : kRecordSize;
}

void UnfoldModelImpl::setNormalisation(const torch::Tensor& mean, const torch::Tensor& std) {
  torch::NoGradGuard guard;
  mean_.copy_(mean.to(torch::kFloat32));
  std_.copy_(std.to(torch::kFloat32));
}

void UnfoldModelImpl::setQuarkHarderProbability(const torch::Tensor& probability) {
  require(qHarderProbability_.defined(),
          "the model was not configured with pt-ordered W daughters");
  torch::NoGradGuard guard;
  qHarderProbability_.copy_(probability.to(torch::kFloat32));
}

torch::Tensor UnfoldModelImpl::normalise(const torch::Tensor& partonsGeV) const {
  return (partonsGeV - mean_) / std_;
}

torch::Tensor UnfoldModelImpl::denormalise(const torch::Tensor& partons) const {
  return partons * std_ + mean_;
}

torch::Tensor UnfoldModelImpl::consistency(const torch::Tensor& partons) const {
  const torch::Tensor p = denormalise(partons).view({-1, kPartons, kComponents});
  const torch::Tensor M = p.select(2, 0), E = p.select(2, 1);
  const torch::Tensor p2 = p.narrow(2, 2, 3).pow(2).sum(2);
  const torch::Tensor r = (M * M.abs() - (E * E - p2)) / kMassScaleGeV2;
  return r.pow(2).mean();
}

std::vector<torch::Tensor> UnfoldModelImpl::scheduleShapeParameters() const {
  return schedule_ ? schedule_->shapeParameters() : std::vector<torch::Tensor>{};
}

torch::Tensor UnfoldModelImpl::timeEmbedding(const torch::Tensor& t) const {
  const torch::Tensor a = t.unsqueeze(-1) * freqs_;
  return torch::cat({torch::sin(a), torch::cos(a)}, -1);
}

torch::Tensor UnfoldModelImpl::denoise(const torch::Tensor& z, const torch::Tensor& t,
                                       const torch::Tensor& cond) {
  return denoiser_(z, torch::cat({cond, timeEmbedding(t)}, -1));
}

std::pair<torch::Tensor, torch::Tensor> UnfoldModelImpl::meanLogVar(const torch::Tensor& h) {
  const auto parts = h.chunk(2, -1);
  return {parts[0], parts[1].clamp(-12.0, 8.0)};
}

torch::Tensor UnfoldModelImpl::decode(const torch::Tensor& z, const torch::Tensor& cond) {
  const bool conditional = config_.model == ModelKind::Cvld || config_.model == ModelKind::Cvae;
  return vaeDecoder_(z, conditional ? cond : torch::Tensor());
}

torch::Tensor UnfoldModelImpl::decoderNll(const torch::Tensor& x, const torch::Tensor& mean) const {
  const torch::Tensor logSigma = decoderLogSigma_.clamp_min(std::log(kMinDecoderSigma));
  return (0.5 * ((x - mean) * torch::exp(-logSigma)).pow(2) + logSigma + 0.5 * kLog2Pi).sum(1);
}

UnfoldModelImpl::VdmTerms UnfoldModelImpl::vdm(const torch::Tensor& x0, const torch::Tensor& cond,
                                               at::Generator& gen) {
  const auto B = x0.size(0), d = x0.size(1);
  // Antithetic times: one uniform shifted by i/B, as in the VDM paper (lower loss variance).
  const torch::Tensor u = torch::rand({1}, gen);
  torch::Tensor t = (u + torch::arange(B, torch::kFloat32) / static_cast<double>(B)).fmod(1.0);
  t.requires_grad_(true);
  const torch::Tensor gamma = schedule_(t);
  const torch::Tensor dGamma = torch::autograd::grad({gamma.sum()}, {t}, {}, true, true)[0];
  const torch::Tensor eps = gaussianNoise(gen, {B, d});
  const torch::Tensor g = gamma.unsqueeze(-1);
  const torch::Tensor zt =
      torch::sqrt(torch::sigmoid(-g)) * x0 + torch::sqrt(torch::sigmoid(g)) * eps;
  const torch::Tensor epsHat = denoise(zt, t.detach(), cond);
  VdmTerms out;
  out.diffusion = 0.5 * dGamma * (eps - epsHat).pow(2).sum(1);
  // KL(q(z_1 | x) || N(0, 1)) with sigma_1^2 = sigmoid(gamma_1), alpha_1^2 = sigmoid(-gamma_1).
  const torch::Tensor g1 = schedule_(torch::ones({1}));
  out.prior =
      0.5 *
      (torch::sigmoid(g1) + torch::sigmoid(-g1) * x0.pow(2) - torch::log_sigmoid(g1) - 1.0).sum(1);
  // z_0 = alpha_0 x0 + sigma_0 e, and -log N(x0; z_0 / alpha_0, sigma_0^2 / alpha_0^2 =
  // exp(gamma_0)): the reconstruction term when x0 is the data itself.
  const torch::Tensor g0 = schedule_(torch::zeros({1}));
  const torch::Tensor eps0 = gaussianNoise(gen, {B, d});
  out.z0OverAlpha0 = x0 + torch::exp(0.5 * g0) * eps0;
  out.reconstruction = 0.5 * eps0.pow(2).sum(1) + 0.5 * static_cast<double>(d) * (kLog2Pi + g0);
  return out;
}

UnfoldModelImpl::Loss UnfoldModelImpl::loss(const Batch& batch, at::Generator& gen, int stage) {
  const ModelKind k = config_.model;
  const double wCons = config_.loss.consistency, beta = config_.loss.klWeight;
  const torch::Tensor c = encoder_(batch);
  const torch::Tensor& x = batch.partons;
  const auto B = x.size(0);
  Loss out;
  auto addVdm = [&](const VdmTerms& v) {
    out.parts["diffusion"] = v.diffusion.mean();
    out.parts["prior"] = v.prior.mean();
    out.parts["latent_reconstruction"] = v.reconstruction.mean();
    out.diffusionPerEvent = v.diffusion;
    return v.diffusion + v.prior + v.reconstruction;
  };
  auto encode = [&](const torch::Tensor& cond) {
    const auto [mu, logVar] = meanLogVar(vaeEncoder_(x, cond));
    const torch::Tensor z = mu + torch::exp(0.5 * logVar) * gaussianNoise(gen, {B, mu.size(1)});
    return std::tuple{mu, logVar, z};
  };
  switch (k) {
    case ModelKind::Vld:
    case ModelKind::Cvld:
    case ModelKind::Ucvld: {
      // One ELBO (docs/ml-unfold.md "VLD"): the encoder's latent, normalised to unit scale, is
      // the diffusion's data; the decoder reads z_0 / alpha_0 (projected back onto the latents'
      // sphere), so the diffusion's noise at t = 0 is the posterior noise of the VAE and gamma_0
      // trades reconstruction against prior.
      const torch::Tensor h = vaeEncoder_(x, k == ModelKind::Ucvld ? torch::Tensor() : c);
      const torch::Tensor latent = torch::layer_norm(h, {h.size(1)});
      const VdmTerms v = vdm(latent, c, gen);
      const torch::Tensor xHat = decode(onLatentSphere(v.z0OverAlpha0), c);
      const torch::Tensor recon = decoderNll(x, xHat);
      out.parts["diffusion"] = v.diffusion.mean();
      out.parts["prior"] = v.prior.mean();
      out.diffusionPerEvent = v.diffusion;
      out.parts["reconstruction"] = recon.mean();
      out.parts["consistency"] = consistency(xHat);
      out.total = (recon + v.diffusion + v.prior).mean() + wCons * out.parts["consistency"];
      break;
    }
    case ModelKind::Ldm: {
      if (stage <= 1) {
        const auto [mu, logVar, z] = encode(torch::Tensor());
        const torch::Tensor xHat = decode(z, c);
        const torch::Tensor recon = decoderNll(x, xHat);
        const torch::Tensor kl = 0.5 * (mu.pow(2) + torch::exp(logVar) - logVar - 1.0).sum(1);
        out.parts["reconstruction"] = recon.mean();
        out.parts["kl"] = kl.mean();
        out.parts["consistency"] = consistency(xHat);
        out.total = (recon + beta * kl).mean() + wCons * out.parts["consistency"];
      } else {
        torch::Tensor z;
        {
          torch::NoGradGuard frozen;  // the VAE of stage 1 is fixed
          z = std::get<2>(encode(torch::Tensor()));
        }
        out.total = addVdm(vdm(z, c, gen)).mean();
      }
      break;
    }
    case ModelKind::Vdm:
      out.total = addVdm(vdm(x, c, gen)).mean();
      break;
    case ModelKind::Cvae: {
      const auto [mu, logVar, z] = encode(c);
      const auto [muP, logVarP] = meanLogVar(prior_(c));
      const torch::Tensor xHat = decode(z, c);
      const torch::Tensor recon = decoderNll(x, xHat);
      const torch::Tensor kl =
          0.5 *
          (logVarP - logVar + (torch::exp(logVar) + (mu - muP).pow(2)) * torch::exp(-logVarP) - 1.0)
              .sum(1);
      out.parts["reconstruction"] = recon.mean();
      out.parts["kl"] = kl.mean();
      out.parts["consistency"] = consistency(xHat);
      out.total = (recon + beta * kl).mean() + wCons * out.parts["consistency"];
      break;
    }
    case ModelKind::Cinn: {
      torch::Tensor u = x, logDet = torch::zeros({B});
      for (auto& block : flow_) {
        auto [y, ld] = block->forward(u, c);
        u = y;
        logDet = logDet + ld;
      }
      const torch::Tensor nll =
          0.5 * u.pow(2).sum(1) + 0.5 * static_cast<double>(kRecordSize) * kLog2Pi - logDet;
      out.parts["nll"] = nll.mean();
      out.total = nll.mean();
      if (wCons > 0) {
        // Consistency of samples drawn through the inverse.
        torch::Tensor xs = gaussianNoise(gen, {B, kRecordSize});
        for (auto it = flow_.rbegin(); it != flow_.rend(); ++it) xs = (*it)->inverse(xs, c);
        out.parts["consistency"] = consistency(xs);
        out.total = out.total + wCons * out.parts["consistency"];
      }
      break;
    }
  }
  return out;
}

torch::Tensor UnfoldModelImpl::sampleDiffusion(const torch::Tensor& cond,
                                               const torch::Tensor& zStart, int steps,
                                               const std::string& sampler) {
  const int N = steps > 0 ? steps : config_.sampler.steps;
  const std::string name = sampler.empty() ? config_.sampler.name : sampler;
  requireOneOf(name, SamplerConfig::kNames, "unfolding sampler");
  const torch::Tensor grid = 1.0 - torch::arange(N + 1, torch::kFloat64) / static_cast<double>(N);
  const torch::Tensor gammaGrid = schedule_(grid.to(torch::kFloat32)).to(torch::kFloat64);
  std::vector<double> gamma(static_cast<std::size_t>(N + 1));
  for (int i = 0; i <= N; ++i) gamma[i] = gammaGrid[i].item<double>();
  const auto rows = zStart.size(0);
  const EpsFn eps = [&](const torch::Tensor& z, int i) {
    const torch::Tensor t = torch::full({rows}, grid[i].item<double>(), torch::kFloat32);
    return denoise(z, t, cond);
  };
  const torch::Tensor z0 = sampleEpsilonOde(gamma, eps, zStart, name == "pndm");
  // The mean of p(x | z_0): z_0 / alpha_0.
  return z0 / std::sqrt(1.0 / (1.0 + std::exp(gamma.back())));
}

torch::Tensor UnfoldModelImpl::decoderDraw(const torch::Tensor& mean,
                                           const std::vector<NoiseFn>& noise,
                                           std::int64_t K) const {
  // K x 55 more normals per event. The constants of the record keep the mean (noise there would
  // only smear a fixed mass).
  const torch::Tensor varies = (std_ > kMinPartonStdGeV).to(torch::kFloat32);
  const torch::Tensor sigma = torch::exp(decoderLogSigma_.clamp_min(std::log(kMinDecoderSigma)));
  return mean + varies * sigma * eventNormals(noise, K, kRecordSize);
}

torch::Tensor UnfoldModelImpl::sample(const Batch& batch, std::int64_t K,
                                      const std::vector<NoiseFn>& noise, int steps,
                                      const std::string& sampler) {
  torch::NoGradGuard guard;
  const auto B = batch.particles.size(0);
  require(static_cast<std::int64_t>(noise.size()) == B, "sample: one noise stream per event");
  const torch::Tensor c = encoder_(batch).repeat_interleave(K, 0);  // (B K, D)
  const int d = latentDim();
  const torch::Tensor z = eventNormals(noise, K, d);
  torch::Tensor x;
  switch (config_.model) {
    case ModelKind::Vld:
    case ModelKind::Cvld:
    case ModelKind::Ucvld:
      x = decode(onLatentSphere(sampleDiffusion(c, z, steps, sampler)), c);
      break;
    case ModelKind::Ldm:
      x = decode(sampleDiffusion(c, z, steps, sampler), c);
      break;
    case ModelKind::Vdm:
      x = sampleDiffusion(c, z, steps, sampler);
      break;
    case ModelKind::Cvae: {
      const auto [muP, logVarP] = meanLogVar(prior_(c));
      x = decode(muP + torch::exp(0.5 * logVarP) * z, c);
      break;
    }
    case ModelKind::Cinn:
      x = z;
      for (auto it = flow_.rbegin(); it != flow_.rend(); ++it) x = (*it)->inverse(x, c);
      break;
  }
  if (config_.sampler.decoderSamples() && usesVae(config_.model)) x = decoderDraw(x, noise, K);
  const torch::Tensor record = denormalise(x).view({B, K, kRecordSize});
  if (!config_.target.ptOrdered()) return record;
  // One more normal per candidate from the event's stream decides its W-daughter labels.
  const torch::Tensor uniform =
      0.5 * torch::erfc(-eventNormals(noise, K, 1).view({B, K}) / std::sqrt(2.0));
  return labelWDaughters(record, leptonCharge(batch.particles), qHarderProbability_, uniform);
}

// ---------------------------------------------------------------------------------------------
torch::Tensor sampleEpsilonOde(const std::vector<double>& gamma, const EpsFn& eps,
                               torch::Tensor zStart, bool pndm) {
  require(gamma.size() >= 2, "sampler: need at least one step");
  torch::Tensor z = std::move(zStart);
  std::deque<torch::Tensor> history;  // newest first
  for (std::size_t i = 0; i + 1 < gamma.size(); ++i) {
    history.push_front(eps(z, static_cast<int>(i)));
    if (history.size() > 4) history.pop_back();
    torch::Tensor e = history[0];
    if (pndm) {
      // Linear multistep (Adams-Bashforth) in epsilon, of the highest order the history allows.
      switch (history.size()) {
        case 2:
          e = (3 * history[0] - history[1]) / 2;
          break;
        case 3:
          e = (23 * history[0] - 16 * history[1] + 5 * history[2]) / 12;
          break;
        case 4:
          e = (55 * history[0] - 59 * history[1] + 37 * history[2] - 9 * history[3]) / 24;
          break;
        default:
          break;
      }
    }
    // The DDIM transfer from t_i to t_{i+1}: x-hat from (z, e), then back to the new noise level.
    const double aT = std::sqrt(1 / (1 + std::exp(gamma[i])));
    const double sT = std::sqrt(1 / (1 + std::exp(-gamma[i])));
    const double aS = std::sqrt(1 / (1 + std::exp(gamma[i + 1])));
    const double sS = std::sqrt(1 / (1 + std::exp(-gamma[i + 1])));
    z = (z - sT * e) * (aS / aT) + sS * e;
  }
  return z;
}

}  // namespace nurec::ml::unfold
