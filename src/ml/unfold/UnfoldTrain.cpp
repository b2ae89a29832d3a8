// `nurec train` of the t tbar unfolding models (docs/ml-unfold.md "Training"): reading the
// selected events, the parton normalisation, the epoch loop with AdamW, EMA and the learned
// schedule's variance objective, checkpoints and the model directory.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Schedule.hpp"
#include "nurec/ml/Trainer.hpp"
#include "nurec/ml/unfold/UnfoldApi.hpp"
#include "nurec/ml/unfold/UnfoldData.hpp"
#include "nurec/ml/unfold/UnfoldNet.hpp"
#include "nurec/ml/unfold/WDaughterOrder.hpp"

namespace nurec::ml::unfold {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kValidationNoiseSeed = 0x5eedf00dULL;

struct Split {
  EventTensors train, val;
};

Split split(const EventTensors& all, int modulus) {
  std::vector<std::int64_t> tr, va;
  for (std::size_t i = 0; i < all.rows.size(); ++i) {
    (all.rows[i] % static_cast<std::size_t>(modulus) == static_cast<std::size_t>(modulus - 1) ? va
                                                                                              : tr)
        .push_back(static_cast<std::int64_t>(i));
  }
  require(!tr.empty() && !va.empty(), all.source + ": too few selected events to train (" +
                                          std::to_string(tr.size()) + " for training, " +
                                          std::to_string(va.size()) + " for validation)");
  return {all.select(tr), all.select(va)};
}

// One pass over `events` in batches: the mean loss (EMA model, fixed noise).
double validationLoss(UnfoldModel& model, const EventTensors& events, int batchSize, int stage) {
  at::Generator gen = at::detail::createCPUGenerator(kValidationNoiseSeed);
  double sum = 0;
  const auto n = events.size();
  for (std::int64_t first = 0; first < n; first += batchSize) {
    const auto count = std::min<std::int64_t>(batchSize, n - first);
    const Batch b =
        events.batch(first, count, model->normalise(events.partons.narrow(0, first, count)));
    sum += model->loss(b, gen, stage).total.item<double>() * static_cast<double>(count);
  }
  return sum / static_cast<double>(n);
}

struct Run {
  UnfoldModel model{nullptr}, ema{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimiser;
  at::Generator gen;
  int epochsDone = 0;
  std::int64_t step = 0;
  double bestVal = std::numeric_limits<double>::infinity();
  int bestEpoch = 0;
  std::vector<EpochRecord> history;
};

int stageOf(const UnfoldConfig& c, int epoch) {
  if (c.model != ModelKind::Ldm) return 0;
  return epoch <= c.train.vaeEpochs ? 1 : 2;
}

void saveCheckpoint(const std::string& path, Run& run, const UnfoldConfig& config,
                    std::int64_t nTrain, std::int64_t nVal) {
  torch::serialize::OutputArchive archive, model, ema, optimiser;
  run.model->save(model);
  run.ema->save(ema);
  run.optimiser->save(optimiser);
  archive.write("model", model);
  archive.write("ema", ema);
  archive.write("optimiser", optimiser);
  archive.write("generator", run.gen.get_state());
  archive.write("config", c10::IValue(config.toYaml()));
  archive.write("events", torch::tensor({nTrain, nVal}, torch::kInt64));
  archive.write("counters", torch::tensor({static_cast<std::int64_t>(run.epochsDone), run.step,
                                           static_cast<std::int64_t>(run.bestEpoch)},
                                          torch::kInt64));
  archive.write("best_val", torch::tensor({run.bestVal}, torch::kFloat64));
  std::vector<double> h;
  for (const auto& r : run.history)
    h.insert(h.end(), {double(r.epoch), r.trainLoss, r.valLoss, r.lr, r.seconds});
  archive.write(
      "history",
      torch::tensor(h, torch::kFloat64).view({static_cast<std::int64_t>(run.history.size()), 5}));
  writeArchive(archive, path);
}

void loadCheckpoint(const std::string& path, Run& run, const UnfoldConfig& config,
                    std::int64_t nTrain, std::int64_t nVal) {
  torch::serialize::InputArchive archive, model, ema, optimiser;
  readArchive(archive, path);
  try {
    c10::IValue text;
    archive.read("config", text);
    // Compared as parsed cards, so that a card written before a section existed still matches.
    if (!text.isString() ||
        UnfoldConfig::fromYaml(text.toStringRef(), path).toYaml() != config.toYaml()) {
      throw ConfigError("train --resume: " + path +
                        " was written with another run card; resume with the card of the run "
                        "(its config.yaml) or start anew with --force");
    }
    torch::Tensor events, counters, best, history, state;
    archive.read("events", events);
    if (events[0].item<std::int64_t>() != nTrain || events[1].item<std::int64_t>() != nVal) {
      throw ConfigError("train --resume: " + path + " was trained on other data (" +
                        std::to_string(events[0].item<std::int64_t>()) + " training events, now " +
                        std::to_string(nTrain) + ")");
    }
    archive.read("model", model);
    archive.read("ema", ema);
    archive.read("optimiser", optimiser);
    run.model->load(model);
    run.ema->load(ema);
    run.optimiser->load(optimiser);
    archive.read("generator", state);
    run.gen.set_state(state);
    archive.read("counters", counters);
    run.epochsDone = static_cast<int>(counters[0].item<std::int64_t>());
    run.step = counters[1].item<std::int64_t>();
    run.bestEpoch = static_cast<int>(counters[2].item<std::int64_t>());
    archive.read("best_val", best);
    run.bestVal = best[0].item<double>();
    archive.read("history", history);
    for (std::int64_t i = 0; i < history.size(0); ++i) {
      const auto r = history[i];
      run.history.push_back({static_cast<int>(r[0].item<double>()), r[1].item<double>(),
                             r[2].item<double>(), r[3].item<double>(), r[4].item<double>()});
    }
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot read the checkpoint (" + firstLineOf(e.what()) + ")");
  }
}

void saveModel(const std::string& dir, UnfoldModel& ema, const UnfoldConfig& config) {
  writeTextFileAtomically((fs::path(dir) / "config.yaml").string(), config.toYaml());
  saveWeights(*ema, (fs::path(dir) / "model.pt").string());
}

UnfoldTrainSummary train(const UnfoldConfig& configIn, const EventTensors& all,
                         const UnfoldTrainOptions& options) {
  UnfoldConfig config = configIn;
  if (options.epochsOverride > 0) config.train.epochs = options.epochsOverride;
  config.validate();
  const auto& tc = config.train;
  prepareOutputDirectory(options.outDir, options.resume, options.force);
  Split data = split(tc.canonicalAzimuth() ? inLeptonFrame(all).events : all, tc.validationModulus);
  torch::Tensor qHarderProbability;
  if (config.target.ptOrdered()) {
    // Measured before the reordering, on the training events only.
    qHarderProbability =
        quarkHarderProbability(data.train.partons, leptonCharge(data.train.particles));
    data.train.partons = orderWDaughtersByPt(data.train.partons);
    data.val.partons = orderWDaughtersByPt(data.val.partons);
  }
  const auto nTrain = data.train.size(), nVal = data.val.size();

  const IntraOpThreads intraOpThreads(std::max(1, options.threads));

  // Normalisation of the 55 components from the training events.
  const torch::Tensor y = data.train.partons.to(torch::kFloat64);
  const torch::Tensor mean = y.mean(0), std = y.std(0).clamp_min(kMinPartonStdGeV);

  Run run;
  torch::manual_seed(tc.seed);
  run.model = UnfoldModel(config);
  run.ema = UnfoldModel(config);
  run.model->setNormalisation(mean, std);
  if (qHarderProbability.defined()) run.model->setQuarkHarderProbability(qHarderProbability);
  copyWeights(*run.ema, *run.model);
  run.optimiser = std::make_unique<torch::optim::AdamW>(
      run.model->parameters(), torch::optim::AdamWOptions(tc.lr).weight_decay(tc.weightDecay));
  run.gen = at::detail::createCPUGenerator(tc.seed * 7919 + 17);
  const std::string checkpoint = (fs::path(options.outDir) / "checkpoint.pt").string();
  if (options.resume) loadCheckpoint(checkpoint, run, config, nTrain, nVal);

  const std::int64_t batchesPerEpoch = (nTrain + tc.batchSize - 1) / tc.batchSize;
  const std::int64_t totalSteps = batchesPerEpoch * tc.epochs;
  std::vector<torch::Tensor> params = run.model->parameters();
  const auto start = std::chrono::steady_clock::now();
  int epochsThisCall = 0;
  while (run.epochsDone < tc.epochs) {
    const int epoch = run.epochsDone + 1;
    const int stage = stageOf(config, epoch);
    if (stage == 2 && stageOf(config, epoch - 1) == 1) {
      // ldm: the diffusion learns the latents of the VAE it will decode with, the EMA one; its
      // validation loss is another quantity, so the best epoch restarts.
      copyWeights(*run.model, *run.ema);
      run.bestVal = std::numeric_limits<double>::infinity();
    }
    const auto epochStart = std::chrono::steady_clock::now();
    const torch::Tensor order = torch::randperm(nTrain, run.gen, torch::kInt64);
    Progress bar("train " + modelKindName(config.model) + " epoch " + std::to_string(epoch),
                 static_cast<std::size_t>(nTrain), options.progress);
    double lossSum = 0, lr = 0;
    for (std::int64_t b = 0; b < batchesPerEpoch; ++b) {
      const auto first = b * tc.batchSize;
      const auto count = std::min<std::int64_t>(tc.batchSize, nTrain - first);
      const torch::Tensor idx = order.narrow(0, first, count);
      const EventTensors part = data.train.select(idx);
      const Batch batch = part.batch(0, count, run.model->normalise(part.partons));
      for (auto& p : params) p.mutable_grad() = torch::Tensor();
      UnfoldModelImpl::Loss loss = run.model->loss(batch, run.gen, stage);
      const double value = loss.total.item<double>();
      if (!std::isfinite(value)) {
        throw Error("train: the loss is not finite at epoch " + std::to_string(epoch) + ", step " +
                    std::to_string(run.step) +
                    " (training diverged; lower train.lr or raise train.warmup_steps)");
      }
      // VDM: the shape of the learned schedule minimises the variance of the diffusion loss
      // (its mean does not depend on the shape); its ends follow the loss itself.
      const auto shape = run.model->scheduleShapeParameters();
      std::vector<torch::Tensor> shapeGrads;
      if (!shape.empty() && loss.diffusionPerEvent.defined()) {
        shapeGrads = torch::autograd::grad({loss.diffusionPerEvent.pow(2).mean()}, shape, {}, true,
                                           false, true);
      }
      loss.total.backward();
      for (std::size_t j = 0; j < shapeGrads.size(); ++j) shape[j].mutable_grad() = shapeGrads[j];
      if (tc.gradClip > 0) {
        std::vector<torch::Tensor> withGrad;
        for (auto& p : params) {
          if (p.grad().defined()) withGrad.push_back(p);
        }
        clipGradNorm(withGrad, tc.gradClip);
      }
      lr = learningRate(run.step, tc.lr, tc.lrMin, tc.warmupSteps, totalSteps);
      for (auto& group : run.optimiser->param_groups()) group.options().set_lr(lr);
      run.optimiser->step();
      emaUpdate(*run.ema, *run.model, tc.emaDecay);
      ++run.step;
      lossSum += value * static_cast<double>(count);
      bar.advance(static_cast<std::size_t>(count));
    }
    bar.finish();
    const double val = validationLoss(run.ema, data.val, tc.batchSize, stage);
    if (!std::isfinite(val)) {
      throw Error("train: the validation loss of epoch " + std::to_string(epoch) +
                  " is not finite (training diverged)");
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epochStart).count();
    run.history.push_back({epoch, lossSum / static_cast<double>(nTrain), val, lr, seconds});
    run.epochsDone = epoch;
    if (val < run.bestVal) {
      run.bestVal = val;
      run.bestEpoch = epoch;
      saveModel(options.outDir, run.ema, config);
    }
    saveCheckpoint(checkpoint, run, config, nTrain, nVal);
    TrainState log;
    log.history = run.history;
    writeTrainLog(options.outDir, log);
    if (options.progress) {
      std::fprintf(stderr, "epoch %d: train %.4f, validation %.4f%s (%.0f s)\n", epoch,
                   run.history.back().trainLoss, val, run.bestEpoch == epoch ? " *" : "", seconds);
    }
    if (options.stopAfterEpochs > 0 && ++epochsThisCall >= options.stopAfterEpochs) break;
  }
  UnfoldTrainSummary s;
  s.trainEvents = static_cast<std::size_t>(nTrain);
  s.valEvents = static_cast<std::size_t>(nVal);
  s.epochsRun = run.epochsDone;
  s.bestEpoch = run.bestEpoch;
  s.bestValLoss = run.bestVal;
  s.history = run.history;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace

UnfoldTrainSummary trainUnfold(const UnfoldConfig& config, const io::EventTable& data,
                               const UnfoldTrainOptions& options) {
  return train(config, selectedEvents(data, config.train.maxEvents, true), options);
}

UnfoldTrainSummary trainUnfold(const UnfoldConfig& config, const std::string& dataPath,
                               const UnfoldTrainOptions& options) {
  return train(config,
               readSelectedEvents(dataPath, config.train.maxEvents, true, options.chunkEvents),
               options);
}

}  // namespace nurec::ml::unfold
