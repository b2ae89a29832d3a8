#pragma once
// Configuration of the diffusion neutrino reconstruction (docs/ml-methods.md sections 1-7): a plain
// struct filled from YAML (configs/diffusion_*.yaml), validated once, stored with every trained
// model. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace nurec::ml {

// Fixed input layout of /reco/particles (data contract with src/detector).
inline constexpr int kNumSlots = 10;     // P
inline constexpr int kNumFeatures = 13;  // F of /reco/particles; the model may append more
inline constexpr int kNumTargets = 6;    // (px, py, pz) of the nu system of tau+, then tau-
inline constexpr int kNumChannels = 7;
namespace feat {
inline constexpr int logPt = 0, eta = 1, phi = 2, logE = 3, charge = 4;
inline constexpr int typeTrack = 5, typePi0 = 6, typeE = 7, typeMu = 8, typeJet = 9, typeMet = 10;
inline constexpr int px = 11, py = 12;
// Optional features appended by the model's input options (InputConfig, docs/ml-methods.md
// section 1): track impact parameters on the two tau-candidate slots, then the event activity on
// the MET slot, then the FastMTT solution, then the visible-frame geometry on the two
// tau-candidate slots. Their index depends on which options are on: use
// InputConfig's accessors.
}  // namespace feat

// Inputs beyond /reco/particles that a model reads (docs/ml-methods.md section 1). A model stores
// them with its config; models trained without the section read /reco/particles only.
struct InputConfig {
  // Per tau-candidate track (slots 0 and 2): d0 and z0 in units of 0.1 mm and their
  // significances d0/sigma_d0, z0/sigma_z0, each asinh-compressed (from /reco/track_ip).
  bool impactParameters = false;
  // On the MET slot: log(sum E_T / GeV) (from /reco/sum_et), which sets the MET resolution.
  bool activity = false;
  // The classical solution as a baseline to correct: FastMTT (reco/FastMtt.hpp, default settings)
  // run on the event while the inputs are built. On the tau-candidate slots (0 and 2) ln(1/x) of
  // that tau's visible momentum fraction x; on the MET slot ln(m_tautau / 100 GeV) and the
  // relative width sigma_m / m of its mass likelihood. All 0 where FastMTT fails.
  bool fastMtt = false;
  // Per tau-candidate track (slots 0 and 2), in the frame of its visible tau (the axes e1, e2 of
  // train.target_frame: visible): the track momentum transverse to the visible tau in GeV (nonzero
  // for rho candidates, whose track and visible directions differ), and with impact_parameters
  // the 3-D impact-parameter vector's components along e1, e2, asinh-compressed in units of
  // 0.1 mm. These are the sub-degree angles that set the tau direction (docs/ml-methods.md
  // section 1, "Visible-frame inputs"), at order-one scale instead of 1 % of an eta or phi.
  bool visibleFrame = false;

  static constexpr int kImpactParameterFeatures = 4;
  static constexpr int kFastMttFeatures = 3;
  int numVisibleFrameFeatures() const { return visibleFrame ? (impactParameters ? 4 : 2) : 0; }
  int numFeatures() const { return visibleFrameIndex() + numVisibleFrameFeatures(); }
  int impactParameterIndex() const { return kNumFeatures; }  // first of the four, if on
  int activityIndex() const {
    return kNumFeatures + (impactParameters ? kImpactParameterFeatures : 0);
  }
  int fastMttIndex() const { return activityIndex() + (activity ? 1 : 0); }  // first of three
  int visibleFrameIndex() const { return fastMttIndex() + (fastMtt ? kFastMttFeatures : 0); }
  // Whether optional feature f (>= kNumFeatures) lives on the MET slot (else on slots 0 and 2).
  bool onMetSlot(int f) const {
    return (activity && f == activityIndex()) ||
           (fastMtt && f > fastMttIndex() && f < visibleFrameIndex());
  }
};

// PET encoder of the point cloud (docs/ml-methods.md section 2).
struct EncoderConfig {
  int width = 64;  // D
  int heads = 4;   // H
  int layers = 4;  // L
  int knn = 5;     // k
  int mlpRatio = 2;
  int condDim = 64;  // Dc
  double layerScaleInit = 1e-5;
};

// Conditional residual-MLP head with adaptive LayerNorm (docs/ml-methods.md section 3).
struct HeadConfig {
  int width = 64;  // W
  int blocks = 3;
  int mlpRatio = 2;
  int timeFrequencies = 16;  // Fourier features of t, omega log-spaced in [1, 1000]
  int channelEmbedding = 8;
};

// Bounded cosine log-SNR schedule (docs/ml-methods.md section 4).
struct ScheduleConfig {
  double lambdaMin = -20;
  double lambdaMax = 20;
};

// Default sampler of the model (docs/ml-methods.md section 5); reconstruct options may override it.
struct SamplerConfig {
  std::string name = "ddim";  // "ddim" or "dpm++2m"
  int steps = 100;
  double eta = 1.0;  // DDIM only
  // How `reconstruct` makes one estimate from the K candidates unless --selection is given
  // (ml::SelectionRule names: median, medoid, random, tau-mass, mass-mode).
  std::string selection = "median";
};

// Training (docs/ml-methods.md sections 1, 4, 6).
struct TrainConfig {
  int epochs = 40;
  int batchSize = 256;
  double lrPeak = 3e-4;
  double lrMin = 0;
  int warmupSteps = 500;
  double weightDecay = 0.05;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double emaDecay = 0.999;
  double gradClip = 1.0;  // global-norm clipping threshold; <= 0 disables
  int patience = 8;       // early stopping: epochs without a better validation loss
  std::uint64_t seed = 1;
  // "augment": absolute phi, random rotation about z per example (default, as the published
  // study); "canonical": rotate every event so that the leading visible tau has phi = 0.
  std::string azimuth = "augment";
  // Frame of the regression targets (docs/ml-methods.md section 1, "Target frame"). "lab": the nu
  // momentum / |p_vis| in the (rotated) lab frame. "visible": per tau, the nu momentum transverse
  // to the visible tau in GeV and along it / |p_vis|, so that the transverse offset that sets the
  // tau direction (~1 GeV against ~40 GeV) is a quantity of order one for the network.
  std::string targetFrame = "lab";
  bool requireSignalRegion = false;  // train only on /reco/pass_sr events (else any channel)
  // "shared": one model for all channels with a channel embedding; "per_channel": one model per
  // channel in <out>/channel_<c>/ (the published study's setup), for comparison.
  std::string channelMode = "shared";
  std::vector<int> channels;   // restrict training to these channels (empty = all)
  std::int64_t maxEvents = 0;  // use at most this many selected events (0 = all)
  int validationModulus = 5;   // validation iff (event index % modulus) == modulus - 1
  // Steps with a non-finite loss or gradient norm are skipped (no update); after more than this
  // many in a run, training stops with an error (docs/reliability.md). 0: stop at the first.
  int maxSkippedSteps = 0;
};

struct DiffusionConfig {
  InputConfig inputs;
  EncoderConfig encoder;
  HeadConfig head;
  ScheduleConfig schedule;
  SamplerConfig sampler;
  TrainConfig train;

  // Throws ConfigError naming the offending key.
  void validate() const;
  // Parses YAML text (unknown keys are an error, so typos do not pass silently); `source` names
  // the file in error messages.
  static DiffusionConfig fromYaml(const std::string& text, const std::string& source);
  static DiffusionConfig fromFile(const std::string& path);
  std::string toYaml() const;
};

}  // namespace nurec::ml
