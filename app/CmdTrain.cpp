// `nurec train`: trains the diffusion neutrino reconstruction (src/ml, docs/ml-methods.md).
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>

#include "app/Command.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/io/EventFile.hpp"

#ifdef NUREC_ML_AVAILABLE
#include "nurec/ml/Distributed.hpp"
#include "nurec/ml/TrainApi.hpp"
#include "nurec/ml/unfold/UnfoldApi.hpp"
#endif

namespace nurec::app {
namespace {

struct TrainArgs {
  std::string config, data, out;
  bool resume = false, force = false;
  int epochs = 0;
  std::uint64_t seed = 0;  // 0: train.seed of the run card
  bool noExport = false;
  double distTimeoutSeconds = 60;
  std::size_t shuffleBufferEvents = 262144;  // ml::kDefaultShuffleBufferEvents
  std::size_t chunkEvents = io::kDefaultChunkEvents;
};

#ifdef NUREC_ML_AVAILABLE
// A t tbar unfolding model (docs/ml-unfold.md): one process, the data read once.
int trainUnfoldModel(const TrainArgs& a) {
  if (ml::discoverDistributedEnv().worldSize > 1) {
    throw ConfigError("train: the unfolding models train in one process (no data-parallel run)");
  }
  OutputLock lock(a.out);
  ml::unfold::UnfoldConfig config = ml::unfold::UnfoldConfig::fromFile(a.config);
  if (a.seed != 0) config.train.seed = a.seed;
  ml::unfold::UnfoldTrainOptions o;
  o.outDir = a.out;
  o.resume = a.resume;
  o.force = a.force;
  o.threads = commonOptions().threads > 0 ? commonOptions().threads : 1;
  o.epochsOverride = a.epochs;
  o.progress = !commonOptions().quiet;
  o.chunkEvents = a.chunkEvents;
  const auto s = ml::unfold::trainUnfold(config, a.data, o);
  std::printf(
      "nurec train: %s, %zu training + %zu validation events, %d epochs (best %d, validation "
      "loss %.4f), %.1f min -> %s\n",
      ml::unfold::modelKindName(config.model).c_str(), s.trainEvents, s.valEvents, s.epochsRun,
      s.bestEpoch, s.bestValLoss, s.seconds / 60, a.out.c_str());
  return 0;
}
#endif

std::function<int()> setupTrain(CLI::App& cmd) {
  auto a = std::make_shared<TrainArgs>();
  cmd.footer(
      "Trains the conditional diffusion model that samples the neutrino momenta of both taus from\n"
      "the reconstructed objects (/reco/particles). Uses every event with a reconstructed "
      "channel;\n"
      "events with index % 5 == 4 are the validation set. After every epoch the model directory\n"
      "gets an atomic checkpoint (checkpoint.pt), the best EMA weights so far (model.pt +\n"
      "config.yaml) and train_log.csv; a killed run continues with --resume (bit-identical for\n"
      "the same --threads). At the end the model is exported to TorchScript (model_ts.pt).\n"
      "An --out that already holds a model is refused unless --resume (continue its checkpoint,\n"
      "same --data) or --force (remove the files nurec wrote there first). Non-finite losses\n"
      "stop the run with an error (train.max_skipped_steps allows skipping a few).\n"
      "On a shared machine use --threads 1: two intra-op threads with the other core busy\n"
      "can be 50x slower. Method, shipped model and measured numbers: docs/ml.md.\n"
      "Data-parallel: started N times by a launcher (mpirun -np N, srun, or the variables\n"
      "RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun sets them) the processes train one\n"
      "model together over Gloo: train.batch_size is the global batch (divisible by N), the\n"
      "result equals one process's up to float rounding, rank 0 writes --out, each rank uses one\n"
      "thread unless --threads is given, and --resume works with another N. MASTER_ADDR\n"
      "defaults to 127.0.0.1 (one machine); multi-node jobs must set it. docs/distributed.md.\n"
      "The data are read from disk in chunks (--chunk-events), never whole: the training events\n"
      "are shuffled within a buffer of --shuffle-buffer events (all ranks together); a training\n"
      "set that fits is held in memory and shuffled as a whole each epoch, a larger one is read\n"
      "again each epoch in windows of shuffled row blocks (docs/ml-methods.md section 1).\n"
      "A run card with a top-level `model:` (configs/ttbar_<model>.yaml: vld, cvld, ucvld, ldm,\n"
      "vdm, cvae, cinn) trains a t tbar unfolding model on the selected events of a t tbar file\n"
      "instead (one process; docs/ml-unfold.md).\n"
      "Example: nurec train --config configs/diffusion_ztautau.yaml --data events.h5 --out model/\n"
      "         mpirun -np 2 nurec train --config ... --data events.h5 --out model/");
  cmd.add_option(
         "--config", a->config,
         "YAML run card: configs/diffusion_*.yaml (tau pairs) or configs/ttbar_<model>.yaml "
         "(t tbar unfolding, docs/ml-unfold.md)")
      ->required();
  cmd.add_option("--data", a->data, "Event file from `nurec simulate` (needs /reco and /truth)")
      ->required();
  cmd.add_option("--out", a->out, "Model directory to write")->required();
  cmd.add_flag("--resume", a->resume, "Continue from <out>/checkpoint.pt (same --data)");
  cmd.add_flag("--force", a->force,
               "Replace the model in a non-empty --out (removes only files nurec wrote)");
  cmd.add_option("--epochs", a->epochs, "Override train.epochs of the config")
      ->check(CLI::Range(1, 100000));
  cmd.add_option("--seed", a->seed,
                 "Override train.seed of the config (initial weights, shuffling, noise; "
                 "recorded in <out>/config.yaml)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
  cmd.add_flag("--no-export", a->noExport, "Do not write the TorchScript export");
  cmd.add_option("--dist-timeout", a->distTimeoutSeconds,
                 "Data-parallel runs: seconds to wait for the other ranks (rendezvous and every "
                 "collective) before exiting with an error; a rank that exits is noticed at once "
                 "(default 60)")
      ->check(CLI::Range(1.0, 86400.0));
  cmd.add_option("--shuffle-buffer", a->shuffleBufferEvents,
                 "Training events held in memory and shuffled together, all ranks together "
                 "(at least train.batch_size; a window holds the events of one 512-row block at "
                 "least): a larger buffer shuffles better, a smaller one needs less memory "
                 "(about 1 kB per event)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40))
      ->capture_default_str();
  addThreadsOption(cmd);
  addChunkOption(cmd, a->chunkEvents);
  return [a] {
#ifdef NUREC_ML_AVAILABLE
    // Before the (long) reading of the data: a mistyped --out fails at once.
    checkOutputPath("--out", a->out, OutputKind::Directory, {a->data, a->config});
    if (ml::unfold::isUnfoldRunCardFile(a->config)) return trainUnfoldModel(*a);
    const ml::DistributedEnv dist = ml::discoverDistributedEnv();
    // Only rank 0 writes --out, so only rank 0 holds its lock (the others would wait for it).
    std::optional<OutputLock> lock;
    if (dist.isRoot()) lock.emplace(a->out);
    ml::DiffusionConfig config = ml::DiffusionConfig::fromFile(a->config);
    if (a->seed != 0) config.train.seed = a->seed;
    // Opened and checked here; read in chunks while training (docs/ml-methods.md section 1).
    const auto data = ml::fileSource(a->data);
    ml::TrainOptions o;
    o.outDir = a->out;
    o.resume = a->resume;
    o.force = a->force;
    o.threads = commonOptions().threads;
    o.epochsOverride = a->epochs;
    o.progress = !commonOptions().quiet;
    o.exportTorchScript = !a->noExport;
    o.dist = dist;
    o.distTimeoutSeconds = a->distTimeoutSeconds;
    o.shuffleBufferEvents = a->shuffleBufferEvents;
    o.chunkEvents = a->chunkEvents;
    const ml::TrainSummary s = ml::trainDiffusion(config, data, o);
    if (!dist.isRoot()) return 0;
    std::printf(
        "nurec train: %zu training + %zu validation events, %d epochs (best %d, validation loss "
        "%.4f)%s%s, %.0f samples/s, %.1f min -> %s\n",
        s.trainEvents, s.valEvents, s.epochsRun, s.bestEpoch, s.bestValLoss,
        s.earlyStopped ? ", early-stopped" : "",
        s.skippedSteps > 0 ? fmt::format(", {} non-finite steps skipped", s.skippedSteps).c_str()
                           : "",
        s.samplesPerSecond, s.seconds / 60, a->out.c_str());
    return 0;
#else
    std::fprintf(stderr, "nurec train: this build has no LibTorch (NUREC_WITH_TORCH=OFF)\n");
    return 1;
#endif
  };
}

const CommandRegistrar registrar({"train", "Train the diffusion neutrino reconstruction (LibTorch)",
                                  35, setupTrain});

}  // namespace
}  // namespace nurec::app
