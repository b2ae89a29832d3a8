#pragma once
// Torch-free entry points of the ML library for the `nurec` command line (app/CmdTrain.cpp,
// app/CmdExportModel.cpp).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/ml/Config.hpp"
#include "nurec/ml/Distributed.hpp"

namespace nurec::ml {

// Training events held in memory at a time (all ranks together): the shuffle buffer of
// docs/ml-methods.md section 1 "Reading the training data". 2^18 events of the shipped model's
// inputs take about 0.2 GB; a training set that fits is shuffled as a whole each epoch.
inline constexpr std::size_t kDefaultShuffleBufferEvents = 262144;

// Where training reads its events: rows of an event file (read in row ranges, never whole), or a
// table already in memory (tests, Python).
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual std::size_t nEvents() const = 0;
  virtual const std::string& name() const = 0;  // the file, or "training data"
  virtual bool has(const std::string& dataset) const = 0;
  virtual std::vector<std::string> datasets() const = 0;
  // Rows [first, first + count) of the named datasets (each must exist), with the attributes.
  virtual io::EventTable read(std::size_t first, std::size_t count,
                              const std::vector<std::string>& datasets) const = 0;
};
// The table must outlive the source.
std::shared_ptr<const EventSource> tableSource(const io::EventTable& table);
// Opens the file (every check of io::EventFileReader) without reading its data.
std::shared_ptr<const EventSource> fileSource(const std::string& path);

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
  // Reading the data (docs/ml-methods.md section 1): training events shuffled together, all ranks
  // together (>= train.batch_size; a window holds one block of 512 rows at least), and rows read
  // from the file at a time.
  std::size_t shuffleBufferEvents = kDefaultShuffleBufferEvents;
  std::size_t chunkEvents = 16384;
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
// The same on the rows of an event source (an event file streamed from disk: memory is bounded
// by the shuffle buffer, docs/ml-methods.md section 1; with several ranks each reads only its
// own shard of the rows).
TrainSummary trainDiffusion(const DiffusionConfig& config,
                            const std::shared_ptr<const EventSource>& data,
                            const TrainOptions& options);

// Writes a TorchScript module (encoder + one head evaluation, EMA weights and normalisation
// constants inside) that Python loads with torch.jit.load (docs/ml-methods.md section 8). Creates
// missing parent directories; writes atomically.
void exportTorchScript(const std::string& modelDir, const std::string& outFile);

}  // namespace nurec::ml
