#pragma once
// Torch-free entry points of the ML library for the `nurec` command line (app/CmdTrain.cpp,
// app/CmdExportModel.cpp).
#include <cstdint>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/ml/Config.hpp"
#include "nurec/ml/Distributed.hpp"

namespace nurec::ml {

struct TrainOptions {
  std::string outDir;      // model directory (created): config.yaml, model.pt, checkpoint.pt
  bool resume = false;     // continue from outDir/checkpoint.pt (bit-exact for equal threads)
  bool force = false;      // replace the model nurec wrote in a non-empty outDir
  int threads = 0;         // intra-op threads (0 = all cores; 1 per rank when data-parallel)
  int epochsOverride = 0;  // > 0 replaces train.epochs of the config
  bool progress = true;    // progress bar on stderr
  bool exportTorchScript = true;  // write model_ts.pt (TorchScript) at the end
  int stopAfterEpochs = 0;        // > 0: return after this many epochs of this call (as if killed)
  // Data-parallel training (docs/distributed.md): this process's rank in a job of dist.worldSize
  // processes; a world size of 1 trains alone. The rendezvous and every collective give up after
  // distTimeoutSeconds, so that a dead rank ends the job with an error instead of a hang.
  DistributedEnv dist;
  double distTimeoutSeconds = 60;
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  double trainLoss = 0, valLoss = 0, lr = 0, seconds = 0;
};

struct TrainSummary {
  std::size_t trainEvents = 0, valEvents = 0;
  int epochsRun = 0;  // epochs completed in total (including those before a resume)
  int bestEpoch = 0;
  double bestValLoss = 0;
  bool earlyStopped = false;
  double seconds = 0;  // wall time of this call
  double samplesPerSecond = 0;
  std::int64_t skippedSteps = 0;  // steps skipped for a non-finite loss (train.max_skipped_steps)
  std::vector<EpochRecord> history;
};

// Trains on the events of `data` (events with a reconstructed channel; docs/ml-methods.md sections
// 1-6) and writes the model directory. Per-channel mode trains one model per channel into
// outDir/channel_<c>/ and returns the summary of the last one. Every failure is a nurec::Error
// (ConfigError for a refused directory or option, TrainingDiverged for non-finite losses, Error
// when a file cannot be written); a return means a model was written. With options.dist over
// several ranks every rank calls this with the same config and data: train.batch_size is the
// global batch (it must divide by the world size), rank 0 writes every file, and the result equals
// the single-process run of the same seed up to float rounding.
TrainSummary trainDiffusion(const DiffusionConfig& config, const io::EventTable& data,
                            const TrainOptions& options);

// Writes a TorchScript module (encoder + one head evaluation, EMA weights and normalisation
// constants inside) that Python loads with torch.jit.load (docs/ml-methods.md section 8). Creates
// missing parent directories; writes atomically.
void exportTorchScript(const std::string& modelDir, const std::string& outFile);

}  // namespace nurec::ml
