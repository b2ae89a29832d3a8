#pragma once
// Torch-free entry points of the t tbar unfolding models (docs/ml-unfold.md) for the command line:
// `nurec train --config configs/ttbar_<model>.yaml` and `nurec reconstruct --method <model>`.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/ml/TrainApi.hpp"
#include "nurec/ml/unfold/UnfoldConfig.hpp"

namespace nurec::ml::unfold {

struct UnfoldTrainOptions {
  std::string outDir;      // model directory: config.yaml, model.pt, checkpoint.pt, train_log.csv
  bool resume = false;     // continue from outDir/checkpoint.pt (bit-identical for equal threads)
  bool force = false;      // replace the files nurec wrote in a non-empty outDir
  int threads = 1;         // intra-op threads
  int epochsOverride = 0;  // > 0 replaces train.epochs
  bool progress = true;
  std::size_t chunkEvents = 16384;  // rows read from the file at a time
  int stopAfterEpochs = 0;          // > 0: return after this many epochs of this call (tests)
};

struct UnfoldTrainSummary {
  std::size_t trainEvents = 0, valEvents = 0;
  int epochsRun = 0, bestEpoch = 0;
  double bestValLoss = 0;
  double seconds = 0;
  std::vector<EpochRecord> history;
};

// Trains on the selected events (/reco/pass_sr = 1) of a t tbar file (or table): the point cloud,
// the MET and sum E_T as inputs, /truth/partons as the target; file rows with row %
// train.validation_modulus == modulus - 1 validate. After every epoch an atomic checkpoint; the
// EMA weights of the best validation epoch are the model. Every failure is a nurec::Error naming
// what was wrong (InputError for the data, ConfigError for options, Error for non-finite losses).
UnfoldTrainSummary trainUnfold(const UnfoldConfig& config, const std::string& dataPath,
                               const UnfoldTrainOptions& options);
UnfoldTrainSummary trainUnfold(const UnfoldConfig& config, const io::EventTable& data,
                               const UnfoldTrainOptions& options);

struct UnfoldReconstructOptions {
  std::string modelDir;
  std::string methodName;  // writes /nu/<methodName>/...; must equal the model's kind
  int samples = 1;         // posterior samples per event; /nu/<m>/partons holds the first
  int steps = 0;           // diffusion sampler steps; 0 = the model's
  std::string sampler;     // "pndm" or "ddim"; "" = the model's
  std::string decoder;     // VAE models: "mean" or "sample"; "" = the model's sampler.decoder
  std::uint64_t seed = 1;  // per-event noise streams Rng(seed, file row, streams::ml)
  int threads = 0;         // 0 = all cores; batches run in parallel, one intra-op thread each
  int batchEvents = 512;
};

// Loads the model once; reconstruct(chunk) adds /nu/<m>/partons (N,11,5) f8 (the first sample,
// GeV, docs/data-format.md "t tbar"), /nu/<m>/status (0 ok, 2 not selected) and, with samples > 1,
// /nu/<m>/samples (N,K,11,5) f4. The output depends only on (seed, file row), not on chunks,
// batches or threads.
class UnfoldReconstructor {
 public:
  explicit UnfoldReconstructor(const UnfoldReconstructOptions& options);
  ~UnfoldReconstructor();
  UnfoldReconstructor(const UnfoldReconstructor&) = delete;
  UnfoldReconstructor& operator=(const UnfoldReconstructor&) = delete;
  void reconstruct(io::EventTable& chunk, bool progress);
  const UnfoldConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nurec::ml::unfold
