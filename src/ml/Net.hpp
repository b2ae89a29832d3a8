#pragma once
// The diffusion network (docs/ml-methods.md sections 2-3) and its optimiser pieces (section 6),
// LibTorch. Only src/ml/ includes this header.
//
// All weights are flat, named parameters; the per-layer weights of the encoder and the head are
// stacked as (L, ...) tensors. The same layout is exported to TorchScript (ml/Export.cpp), whose
// forward is the op-for-op transcription of encode() + velocity() below.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nurec/ml/Config.hpp"
#include "nurec/ml/Features.hpp"

namespace nurec::ml {

// Counts the multiply-add FLOPs (2 per MAC) of Linear layers and attention products.
struct FlopCounter {
  std::int64_t embed = 0, edges = 0, layers = 0, pool = 0, head = 0;
  std::int64_t encoderTotal() const { return embed + edges + layers + pool; }
};

// kNN block of the encoder (docs/ml-methods.md section 2): for every slot the k' = min(k, P - 1)
// nearest other valid, non-MET slots in (eta, wrapped phi); returns (idx (B,P,k') int64, valid
// (B,P,k')).
std::pair<torch::Tensor, torch::Tensor> knnNeighbours(const torch::Tensor& x,
                                                      const torch::Tensor& mask, std::int64_t k);

class DiffusionNetImpl : public torch::nn::Module {
 public:
  // features: F of the input point cloud (InputConfig::numFeatures()).
  DiffusionNetImpl(int features, const EncoderConfig& enc, const HeadConfig& head);

  void setNormalisation(const NormStats& stats);

  // x (B,P,F) raw features, mask (B,P) bool, channel (B) int64 -> conditioning (B, W): the
  // event-only part W_c [c, e_ch] + b_c of the head's conditioning (docs/ml-methods.md section 3).
  torch::Tensor encode(const torch::Tensor& x, const torch::Tensor& mask,
                       const torch::Tensor& channel, FlopCounter* flops = nullptr);
  // Time embedding MLP_t(fourier(t)) for t (N) -> (N, W).
  torch::Tensor timeEmbedding(const torch::Tensor& t);
  // condBase (B,W), temb (B,W) or (1,W), z (B,K,6) normalised -> v-hat (B,K,6).
  torch::Tensor velocity(const torch::Tensor& condBase, const torch::Tensor& temb,
                         const torch::Tensor& z, FlopCounter* flops = nullptr);
  // Training form: one noisy target per event, t (B).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask,
                        const torch::Tensor& channel, const torch::Tensor& z,
                        const torch::Tensor& t);

  const EncoderConfig& encoderConfig() const { return enc_; }
  const HeadConfig& headConfig() const { return head_; }
  torch::Tensor yMean() const { return yMean_; }
  torch::Tensor yStd() const { return yStd_; }

 private:
  torch::Tensor lin(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                    std::int64_t* flops) const;
  torch::Tensor param(const std::string& name, std::vector<std::int64_t> shape, double bound);
  EncoderConfig enc_;
  HeadConfig head_;
  // buffers
  torch::Tensor xMean_, xStd_, yMean_, yStd_, freqs_;
};
TORCH_MODULE(DiffusionNet);

// Lion (docs/ml-methods.md section 6): c = b1 m + (1 - b1) g; theta -= lr (sign(c) + wd theta);
// m = b2 m + (1 - b2) g. One momentum tensor per parameter, in the order of `params`.
class Lion {
 public:
  Lion(std::vector<torch::Tensor> params, double beta1, double beta2, double weightDecay);
  void step(double lr);
  std::vector<torch::Tensor>& momenta() { return m_; }

 private:
  std::vector<torch::Tensor> params_, m_;
  double beta1_, beta2_, wd_;
};

// theta_ema <- d theta_ema + (1 - d) theta, for parameters; buffers are copied.
void emaUpdate(torch::nn::Module& ema, const torch::nn::Module& model, double decay);
// Copies parameters and buffers of src into dst (same architecture).
void copyWeights(torch::nn::Module& dst, const torch::nn::Module& src);
// Global-norm gradient clipping (returns the norm before clipping): if G > maxNorm every gradient
// is multiplied by maxNorm / (G + 1e-6).
double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm);

// LibTorch's intra-op thread count for the lifetime of the object; the previous count afterwards.
class IntraOpThreads {
 public:
  explicit IntraOpThreads(int threads);
  ~IntraOpThreads();
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int previous_;
};

// Builds a network with the configured architecture.
DiffusionNet makeNet(const DiffusionConfig& config);

}  // namespace nurec::ml

namespace nurec::ml {

// Writes a torch::serialize archive to `path` atomically (temp + rename, via memory): a failed
// write (full disk, file-size limit) is a nurec::Error naming the file and leaves no temporary.
void writeArchive(torch::serialize::OutputArchive& archive, const std::string& path);
// Reads `path`, verifies its zip container and CRCs (ml/Integrity.hpp) and loads it; InputError
// naming the file when it is missing, damaged or not an archive.
void readArchive(torch::serialize::InputArchive& archive, const std::string& path);
// SHA-256 over the names and bytes of all parameters and buffers, in registration order.
std::string weightsChecksum(const torch::nn::Module& net);
// The first line of a LibTorch error message (what_without_backtrace), for nurec errors.
std::string firstLineOf(const std::string& text);
inline constexpr const char* kWeightsChecksumKey = "weights_sha256";
// model.pt of any module: its parameters and buffers by name and their SHA-256, written
// atomically; loading refuses (InputError naming the file) a damaged file, a missing or misshapen
// tensor and a checksum that does not match.
void saveWeights(const torch::nn::Module& net, const std::string& path);
void loadWeights(torch::nn::Module& net, const std::string& path);

// Model directory (docs/ml-methods.md section 8): config.yaml (the full config) and model.pt (EMA
// weights and normalisation buffers and their SHA-256, torch::serialize archive). Both written
// atomically (temp + rename).
void saveModelDir(DiffusionNet& net, const DiffusionConfig& config, const std::string& dir);
struct LoadedModel {
  DiffusionConfig config;
  DiffusionNet net{nullptr};
};
// Throws InputError naming the directory/file when something is missing, damaged (zip CRC or
// weights SHA-256) or does not match.
LoadedModel loadModelDir(const std::string& dir);

}  // namespace nurec::ml
