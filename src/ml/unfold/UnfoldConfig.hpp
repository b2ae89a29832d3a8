#pragma once
// Configuration of the t tbar unfolding models (docs/ml-unfold.md): the seven conditional
// generative models of the latent-diffusion study (VLD, C-VLD, UC-VLD, LDM, VDM, CVAE, CINN) are
// one struct with a `model` switch over shared parts, filled from YAML
// (configs/ttbar_<model>.yaml), validated once and stored with every trained model. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace nurec::ml::unfold {

// Data contract with src/detector/ttbar (docs/ttbar.md "Point cloud") and the parton record
// (docs/ttbar.md "Parton record").
inline constexpr int kSlots = 21;               // lepton + up to 20 jets
inline constexpr int kFeatures = 12;            // per slot
inline constexpr int kLeptonChargeFeature = 7;  // of slot 0 (the lepton): +-1
inline constexpr int kGlobalInputs = 3;         // MET_x/50, MET_y/50, log(sum E_T / 200 GeV)
inline constexpr int kPartons = 11;
inline constexpr int kComponents = 5;                       // (M, E, px, py, pz)
inline constexpr int kRecordSize = kPartons * kComponents;  // 55

// The seven models (docs/ml-unfold.md "The models"). Which parts each uses:
//   vld    conditional VAE encoder, unconditional decoder, latent diffusion, one joint ELBO
//   cvld   as vld with a conditional decoder
//   ucvld  as vld with unconditional encoder and decoder
//   ldm    unconditional VAE trained first (train.vae_epochs), then latent diffusion, VAE frozen
//   vdm    diffusion directly on the parton vector
//   cvae   conditional VAE with a conditional Gaussian prior
//   cinn   conditional invertible network (affine coupling blocks)
enum class ModelKind { Vld, Cvld, Ucvld, Ldm, Vdm, Cvae, Cinn };
ModelKind modelKindFromName(const std::string& name);  // ConfigError naming the valid names
std::string modelKindName(ModelKind kind);
std::vector<std::string> modelKindNames();  // all seven, in the order above
bool usesDiffusion(ModelKind kind);         // vld, cvld, ucvld, ldm, vdm
bool usesVae(ModelKind kind);               // vld, cvld, ucvld, ldm, cvae

// Transformer over the point cloud with the MET as an extra token, pooled to one vector
// (docs/ml-unfold.md "Detector encoder").
struct DetectorEncoderConfig {
  int width = 64;  // D, also the size of the pooled event vector
  int heads = 4;
  int layers = 3;
  int mlpRatio = 2;
};

// VAE blocks: the latent size and the residual MLPs of encoder and decoder.
struct LatentConfig {
  int dim = 16;
  int width = 128;
  int blocks = 2;
};

// Variational diffusion model (docs/ml-unfold.md "Diffusion"): epsilon-prediction in continuous
// time with the log-SNR schedule gamma(t) learned (monotone network) or linear.
struct DiffusionConfig {
  int width = 128;
  int blocks = 3;
  int timeFrequencies = 16;
  bool learnedSchedule = true;
  double gammaMin = -10;  // initial gamma(0) (= -log SNR at t = 0)
  double gammaMax = 10;   // initial gamma(1)
};

// Conditional invertible network (docs/ml-unfold.md "CINN").
struct FlowConfig {
  int blocks = 8;
  int width = 128;     // hidden width of each coupling subnet (two hidden layers)
  double clamp = 2.0;  // soft clamp of the log-scale
};

struct LossConfig {
  double consistency = 0.1;  // weight of the mass-consistency loss (docs/ml-unfold.md)
  double klWeight = 1.0;     // beta of the KL term (cvae, and the VAE stage of ldm)
};

// What the models learn of the parton record (docs/ml-unfold.md "W daughters"): the hadronic W's
// quark and antiquark as generated ("as_generated"), or as its harder and softer daughter
// ("pt_ordered"), labelled back at sampling (ml/unfold/WDaughterOrder.hpp).
struct TargetConfig {
  static inline const std::vector<std::string> kWDaughterNames{"as_generated", "pt_ordered"};
  std::string wDaughters = "as_generated";
  bool ptOrdered() const { return wDaughters == "pt_ordered"; }
};

struct SamplerConfig {
  // The accepted names, one list for the run card, `reconstruct --sampler/--decoder` and sampling.
  static inline const std::vector<std::string> kNames{"pndm", "ddim"};
  static inline const std::vector<std::string> kDecoderNames{"mean", "sample"};
  std::string name = "pndm";  // "pndm" (pseudo linear multistep) or "ddim" (eta = 0)
  int steps = 50;
  // VAE models: the record is the decoder's mean ("mean") or a draw from its Gaussian p(x | z)
  // ("sample"; docs/ml-unfold.md "Sampling").
  std::string decoder = "mean";
  bool decoderSamples() const { return decoder == "sample"; }
};

struct TrainConfig {
  int epochs = 20;
  int vaeEpochs = 5;  // ldm only: epochs of the VAE stage (the rest train the diffusion)
  int batchSize = 256;
  double lr = 1e-3;
  double lrMin = 0;
  int warmupSteps = 200;
  double weightDecay = 1e-4;
  double gradClip = 1.0;  // global-norm clipping; <= 0 disables
  double emaDecay = 0.999;
  std::uint64_t seed = 1;
  std::int64_t maxEvents = 0;  // at most this many selected events (0 = all)
  int validationModulus = 5;   // validation iff (file row % modulus) == modulus - 1
  // The azimuthal frame of inputs and record (docs/ml-unfold.md "Azimuth"): "none" = the lab
  // frame; "canonical" = every event rotated about the beam axis so that its lepton has phi = 0,
  // samples rotated back.
  static inline const std::vector<std::string> kAzimuthNames{"none", "canonical"};
  std::string azimuth = "none";
  bool canonicalAzimuth() const { return azimuth == "canonical"; }
};

struct UnfoldConfig {
  ModelKind model = ModelKind::Vld;
  DetectorEncoderConfig encoder;
  LatentConfig latent;
  DiffusionConfig diffusion;
  FlowConfig flow;
  LossConfig loss;
  TargetConfig target;
  SamplerConfig sampler;
  TrainConfig train;

  // Throws ConfigError naming the key, the valid range and the value found.
  void validate() const;
  // Unknown keys are an error; `source` names the file in messages.
  static UnfoldConfig fromYaml(const std::string& text, const std::string& source);
  static UnfoldConfig fromFile(const std::string& path);
  std::string toYaml() const;
};

// True when the YAML text is an unfolding run card (has a top-level `model:` key), so that
// `nurec train --config` can tell it from a tau-pair diffusion card without being told.
bool isUnfoldRunCard(const std::string& text);
// The same for a file; ConfigError when it cannot be read.
bool isUnfoldRunCardFile(const std::string& path);

}  // namespace nurec::ml::unfold
