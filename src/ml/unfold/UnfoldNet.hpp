#pragma once
// The seven t tbar unfolding models as one LibTorch module built from shared parts
// (docs/ml-unfold.md): a transformer detector encoder, residual MLPs for the VAE encoder, decoder,
// conditional prior and the diffusion denoiser, the variational-diffusion loss with a learned
// log-SNR schedule, and conditional affine coupling blocks. ModelKind decides which parts exist
// and which loss is trained. Only src/ml/ includes this header.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nurec/ml/unfold/UnfoldConfig.hpp"

namespace nurec::ml::unfold {

// The parton normalisation's smallest width: components that vary less in the training events
// (the masses of the b quarks, light quarks, leptons and neutrinos) are constants of the record.
inline constexpr double kMinPartonStdGeV = 1.0;

// A batch of events: the detector inputs and (training) the normalised parton vector.
struct Batch {
  torch::Tensor particles;  // (B, 21, 12) float
  torch::Tensor mask;       // (B, 21) bool, true = slot present
  torch::Tensor global;     // (B, 3): MET_x/50, MET_y/50, log(sum E_T / 200 GeV)
  torch::Tensor partons;    // (B, 55) normalised; undefined when sampling
};

// x -> out through `blocks` residual blocks h += W2 silu(W1 LN(h) + Wc cond); cond may be absent
// (condDim = 0).
class ResMlpImpl : public torch::nn::Module {
 public:
  ResMlpImpl(int in, int out, int width, int blocks, int condDim, bool zeroOutput);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cond = {});

 private:
  torch::nn::Linear input_{nullptr}, output_{nullptr};
  std::vector<torch::nn::LayerNorm> norms_;
  std::vector<torch::nn::Linear> fc1_, fc2_, fcCond_;
};
TORCH_MODULE(ResMlp);

// Point cloud + MET token -> transformer -> masked mean of the slots and the MET token -> (B, D).
class DetectorEncoderImpl : public torch::nn::Module {
 public:
  explicit DetectorEncoderImpl(const DetectorEncoderConfig& config);
  torch::Tensor forward(const Batch& batch);

 private:
  torch::nn::Linear embed_{nullptr}, globalEmbed_{nullptr}, pool_{nullptr};
  torch::nn::TransformerEncoder transformer_{nullptr};
};
TORCH_MODULE(DetectorEncoder);

// gamma(t) = -log SNR(t), monotone in t. Learned (VDM): gamma0 + (gamma1 - gamma0) (f(t) -
// f(0)) / (f(1) - f(0)) with f a monotone network (positive weights); else linear between the
// configured ends, which are then fixed.
class LogSnrScheduleImpl : public torch::nn::Module {
 public:
  LogSnrScheduleImpl(double gammaMin, double gammaMax, bool learned);
  torch::Tensor forward(const torch::Tensor& t);
  // Parameters of the shape of gamma between its ends (trained on the variance of the loss).
  std::vector<torch::Tensor> shapeParameters() const;
  bool learned() const { return learned_; }

 private:
  torch::Tensor f(const torch::Tensor& t);
  bool learned_;
  torch::Tensor gamma0_, gamma1_, w1_, b1_, w2_, b2_, w3_;
};
TORCH_MODULE(LogSnrSchedule);

// Conditional affine coupling block in the All-in-One form: soft-clamped affine coupling of the
// second half given the first half and the condition, a global affine map, a fixed rotation.
class CouplingBlockImpl : public torch::nn::Module {
 public:
  CouplingBlockImpl(int dim, int condDim, int width, double clamp, std::uint64_t seed);
  // x -> (y, log|det dy/dx| per event)
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x,
                                                  const torch::Tensor& cond);
  torch::Tensor inverse(const torch::Tensor& y, const torch::Tensor& cond);

 private:
  std::pair<torch::Tensor, torch::Tensor> scaleShift(const torch::Tensor& x1,
                                                     const torch::Tensor& cond);
  int dim_, split_;
  double clamp_;
  torch::nn::Sequential subnet_{nullptr};
  torch::Tensor logScale_, shift_, rotation_;
};
TORCH_MODULE(CouplingBlock);

class UnfoldModelImpl : public torch::nn::Module {
 public:
  explicit UnfoldModelImpl(const UnfoldConfig& config);

  // Parton normalisation (55 means and widths in GeV), stored with the weights.
  void setNormalisation(const torch::Tensor& mean, const torch::Tensor& std);
  torch::Tensor normalise(const torch::Tensor& partonsGeV) const;
  torch::Tensor denormalise(const torch::Tensor& partons) const;
  // target.w_daughters = pt_ordered: P(the harder W daughter is q | lepton charge -1, +1) from
  // the training events, stored with the weights (ml/unfold/WDaughterOrder.hpp).
  void setQuarkHarderProbability(const torch::Tensor& probability);

  struct Loss {
    torch::Tensor total;                         // scalar, what is minimised
    std::map<std::string, torch::Tensor> parts;  // scalars, for the log
    torch::Tensor diffusionPerEvent;             // (B) or undefined: the learned schedule's
  };                                             // shape is trained on its variance
  // stage: 0 for every model except ldm, whose stage 1 trains the VAE and stage 2 the diffusion.
  Loss loss(const Batch& batch, at::Generator& gen, int stage);

  // K samples per event (B, K, 55) in GeV, in generator order. noise(b) gives event b's standard
  // normals in order (per-event streams, so a sample does not depend on the batch). steps/sampler:
  // 0/"" = the model's defaults.
  using NoiseFn = std::function<torch::Tensor(std::int64_t count)>;
  torch::Tensor sample(const Batch& batch, std::int64_t K, const std::vector<NoiseFn>& noise,
                       int steps, const std::string& sampler);

  // Mass-consistency loss of normalised parton vectors (docs/ml-unfold.md): per parton
  // ((M|M| - (E^2 - p^2)) / (100 GeV)^2)^2, averaged.
  torch::Tensor consistency(const torch::Tensor& partons) const;

  std::vector<torch::Tensor> scheduleShapeParameters() const;
  const UnfoldConfig& config() const { return config_; }
  int latentDim() const;  // dimension the diffusion or flow works in

 private:
  // The VDM loss terms of x0 (B, d) given the condition (docs/ml-unfold.md "Diffusion").
  struct VdmTerms {
    torch::Tensor diffusion, prior, reconstruction;  // (B) each
    torch::Tensor z0OverAlpha0;                      // (B, d): x0 with the noise of t = 0
  };
  VdmTerms vdm(const torch::Tensor& x0, const torch::Tensor& cond, at::Generator& gen);
  torch::Tensor denoise(const torch::Tensor& z, const torch::Tensor& t, const torch::Tensor& cond);
  torch::Tensor timeEmbedding(const torch::Tensor& t) const;
  // Reparameterised sample and the Gaussian's parameters of an encoder output (B, 2d).
  static std::pair<torch::Tensor, torch::Tensor> meanLogVar(const torch::Tensor& h);
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& cond);
  torch::Tensor decoderNll(const torch::Tensor& x, const torch::Tensor& mean) const;
  // A draw from the decoder's Gaussian around its (normalised) mean, (B K, 55), the noise taken
  // from each event's stream (sampler.decoder = sample).
  torch::Tensor decoderDraw(const torch::Tensor& mean, const std::vector<NoiseFn>& noise,
                            std::int64_t K) const;
  torch::Tensor sampleDiffusion(const torch::Tensor& cond, const torch::Tensor& zStart, int steps,
                                const std::string& sampler);

  UnfoldConfig config_;
  DetectorEncoder encoder_{nullptr};
  ResMlp vaeEncoder_{nullptr}, vaeDecoder_{nullptr}, prior_{nullptr}, denoiser_{nullptr};
  LogSnrSchedule schedule_{nullptr};
  std::vector<CouplingBlock> flow_;
  torch::Tensor decoderLogSigma_;
  torch::Tensor mean_, std_, freqs_;  // buffers
  torch::Tensor qHarderProbability_;  // buffer with target.w_daughters = pt_ordered
};
TORCH_MODULE(UnfoldModel);

// PNDM in its pseudo-linear-multistep form with a lower-order start (docs/ml-unfold.md
// "Sampling"), or DDIM (eta = 0), on the grid t_i = 1 - i/N of the given log-SNR values
// gamma[i] = gamma(t_i), i = 0..N, for an epsilon-predicting network eps(z, i). Returns z at t=0.
using EpsFn = std::function<torch::Tensor(const torch::Tensor& z, int step)>;
torch::Tensor sampleEpsilonOde(const std::vector<double>& gamma, const EpsFn& eps,
                               torch::Tensor zStart, bool pndm);

}  // namespace nurec::ml::unfold
