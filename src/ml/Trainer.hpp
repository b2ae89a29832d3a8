#pragma once
// The parts of `nurec train` (ml/Trainer.cpp, docs/ml-methods.md sections 1, 4, 6, 8), with
// computing and writing kept apart so that each is testable: TrainingSet and Trainer touch no
// files; saveCheckpoint / loadCheckpoint / writeTrainLog / prepareOutputDirectory do only I/O. Only
// src/ml and tests/ml include this header (LibTorch types).
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/io/EventTable.hpp"
#include "nurec/ml/Communicator.hpp"
#include "nurec/ml/Config.hpp"
#include "nurec/ml/Features.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/TrainApi.hpp"

namespace nurec::ml {

// Training diverged: more non-finite losses or gradients than train.max_skipped_steps, or a
// non-finite validation loss.
class TrainingDiverged : public Error {
 public:
  using Error::Error;
};

struct TrainTensors {
  torch::Tensor x, mask, channel, y;  // y in |p_vis| units (not normalised)
};

// Events of one rank in memory, with their file rows (index() finds an event by its row).
struct LocalEvents {
  TrainTensors t;
  std::vector<std::size_t> rows;
  std::int64_t size() const { return static_cast<std::int64_t>(rows.size()); }
  std::int64_t index(std::size_t row) const;  // -1 when absent
};

// How training reads its data (docs/ml-methods.md section 1 "Reading the training data").
struct DataOptions {
  std::size_t shuffleBufferEvents = kDefaultShuffleBufferEvents;
  std::size_t chunkEvents = 16384;
};

// Everything training needs from the events (docs/ml-methods.md section 1): the selection and the
// train/validation split (by file row), the normalisation, and the fixed validation noise (section
// 6). The features are computed from the rows as they are read: held in memory when the training
// events fit in the shuffle buffer (read once), and otherwise read again each epoch, window by
// window (Trainer). With several ranks every rank reads the selection columns of the whole file
// (/reco/channel, /reco/pass_sr) and the features of its own shard of the rows only
// (docs/distributed.md "What is computed where").
struct TrainingSet {
  NormStats norm;
  std::int64_t nTrain = 0, nVal = 0;  // all ranks
  std::string source;                 // the event file (or "training data")
  std::string dataSha256;       // of the selected inputs, targets and rows: --resume checks it
  std::string selectionSha256;  // of the selected rows: the ranks compare it

  // Reading (internal to ml/Trainer.cpp).
  DiffusionConfig config;
  std::shared_ptr<const EventSource> events;
  DataOptions data;
  int rank = 0, ranks = 1;
  std::size_t ownFirst = 0, ownEnd = 0;  // this rank's rows [ownFirst, ownEnd), whole row blocks
  std::vector<std::size_t> trainRows;    // every rank's, increasing
  std::vector<std::size_t> valRows;      // this rank's, increasing
  bool trainResident = false;            // all training events fit in the shuffle buffer
  LocalEvents train;                     // this rank's training events when resident
  bool valResident = false;
  LocalEvents val;  // this rank's validation events when resident, with their fixed noise:
  torch::Tensor valT, valZ, valV;  // per validation event: t, noisy target, v target
  bool owns(std::size_t row) const { return row >= ownFirst && row < ownEnd; }
};

// Selects the events, checks the reco inputs and that the run fits in memory, computes the
// normalisation in one pass over the rows and keeps what fits. Throws InputError / ConfigError
// naming the data and what is wrong. comm: data-parallel ranks (each reads its shard).
TrainingSet prepareTrainingSet(const DiffusionConfig& config,
                               const std::shared_ptr<const EventSource>& events,
                               const DataOptions& data, Communicator* comm = nullptr);
TrainingSet prepareTrainingSet(const DiffusionConfig& config, const io::EventTable& data);

struct TrainState {
  int epochsDone = 0;
  std::int64_t step = 0;
  double bestVal = std::numeric_limits<double>::infinity();
  int bestEpoch = 0;
  int badEpochs = 0;
  bool stopped = false;
  std::int64_t skippedSteps = 0;  // non-finite steps skipped so far (train.max_skipped_steps)
  std::vector<EpochRecord> history;
};

// Model, EMA copy, Lion optimiser and the training random stream, initialised from the run seed.
//
// Data-parallel (comm != nullptr, docs/distributed.md): every rank builds the same epoch order
// of all training events and draws the same random numbers for the whole global batch of
// train.batch_size rows, and computes the rows of it whose events lie in its shard of the file.
// Its loss is the sum of squared errors of those rows / (B x targets), so the all-reduced (summed)
// gradients are exactly the gradient of the global-batch mean loss; clipping, the finiteness
// check, Lion and EMA then run on identical numbers on every rank, which therefore take identical
// decisions.
class Trainer {
 public:
  Trainer(const DiffusionConfig& config, const TrainingSet& set, int epochs,
          Communicator* comm = nullptr);

  struct EpochResult {
    EpochRecord record;
    bool improved = false;  // new best validation loss: the EMA weights are the model
  };
  // Trains epoch state.epochsDone + 1 and validates it; updates state (history, best, early
  // stop). Throws TrainingDiverged when the loss or the validation loss is not finite beyond
  // train.max_skipped_steps skipped steps. progress: a progress line on stderr.
  EpochResult runEpoch(bool progress);
  // Mean squared v error of the EMA model on the validation set with its fixed noise (each rank
  // evaluates a contiguous share of the validation events; the sum is all-reduced).
  double validationLoss();
  // Data-parallel: overwrites the weights, EMA, Lion momenta, random stream and counters of every
  // rank with rank 0's (after initialisation or rank 0's loading of a checkpoint), as
  // DistributedDataParallel broadcasts the initial weights. No-op when alone.
  void synchronise();

  const DiffusionConfig& config() const { return config_; }
  int epochs() const { return epochs_; }

  DiffusionNet net{nullptr}, ema{nullptr};
  std::vector<torch::Tensor> params;
  Lion lion;
  at::Generator gen;
  TrainState state;
  std::int64_t samplesThisRun = 0;

 private:
  const DiffusionConfig config_;
  const TrainingSet& set_;
  int epochs_;
  Communicator* comm_;
  torch::Tensor yMean_, yStd_;
  std::chrono::steady_clock::time_point wallStart_;
  // The events of the current window of a streamed epoch, and the validation noise of a part of
  // the validation events.
  LocalEvents window_;
};

// Identity of a run stored in its checkpoint; a resume must match it.
struct CheckpointMeta {
  int threads = 1;
  int batchSize = 0;
  std::string configText;
  std::string dataSource, dataSha256;
  std::int64_t dataEvents = 0;  // training + validation events
};

// Atomic checkpoint (model, EMA, Lion, generator, counters, history, run identity); a failed write
// is a nurec::Error naming the file and leaves no temporary.
void saveCheckpoint(const std::string& path, Trainer& trainer, const CheckpointMeta& meta);
// Restores a checkpoint written by saveCheckpoint. Refuses (ConfigError) a checkpoint of other
// training data or another batch size; InputError when the file is damaged.
void loadCheckpoint(const std::string& path, Trainer& trainer, const CheckpointMeta& expected);
// train_log.csv of the history (atomic).
void writeTrainLog(const std::string& dir, const TrainState& state);

// Files `nurec train` writes into a model directory (and tools write beside them).
bool isModelDirectoryFile(const std::string& name);
// Makes `dir` ready for a run: created when missing; an existing non-empty directory is refused
// unless resume (it must then hold a checkpoint) or force (the files nurec wrote are removed;
// other files are refused). Throws ConfigError saying what to do.
void prepareOutputDirectory(const std::string& dir, bool resume, bool force);

}  // namespace nurec::ml
