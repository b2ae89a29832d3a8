// `nurec train`: Lion + warm-up/cosine LR + EMA + clipping + early stopping, atomic per-epoch
// checkpoints and bit-exact resume (docs/ml-methods.md sections 1, 4, 6, 8). Computing
// (prepareTrainingSet, Trainer) and writing (checkpoint, model directory, log) are separate
// (ml/Trainer.hpp).
#include "nurec/ml/Trainer.hpp"

#include <ATen/ATen.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <regex>
#include <sstream>

#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/ml/Integrity.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Schedule.hpp"

namespace nurec::ml {

namespace fs = std::filesystem;

namespace {

// 2: adds the skipped-step counter and the identity of the training data (format 1 still loads).
constexpr std::int64_t kCheckpointFormat = 2;

// Rotates a batch about z by delta (B): phi and (px, py) of valid slots, (px, py) of both targets.
void rotateBatch(torch::Tensor& x, const torch::Tensor& mask, torch::Tensor& y,
                 const torch::Tensor& delta) {
  const double pi = constants::pi;
  const torch::Tensor c = torch::cos(delta).unsqueeze(1), s = torch::sin(delta).unsqueeze(1);
  const torch::Tensor mf = mask.to(x.scalar_type());
  torch::Tensor phi = x.select(2, feat::phi);
  const torch::Tensor newPhi = (torch::remainder(phi + delta.unsqueeze(1) + pi, 2 * pi) - pi) * mf;
  const torch::Tensor px = x.select(2, feat::px).clone(), py = x.select(2, feat::py).clone();
  x.select(2, feat::phi).copy_(newPhi);
  x.select(2, feat::px).copy_(c * px - s * py);
  x.select(2, feat::py).copy_(s * px + c * py);
  for (int k = 0; k < 2; ++k) {
    const torch::Tensor yx = y.select(1, 3 * k).clone(), yy = y.select(1, 3 * k + 1).clone();
    y.select(1, 3 * k).copy_(c.squeeze(1) * yx - s.squeeze(1) * yy);
    y.select(1, 3 * k + 1).copy_(s.squeeze(1) * yx + c.squeeze(1) * yy);
  }
}

TrainTensors toTensors(const EventData& d, const std::vector<std::size_t>& idx) {
  const auto n = static_cast<std::int64_t>(idx.size());
  TrainTensors t;
  t.x = torch::empty({n, kNumSlots, d.features()});
  t.mask = torch::empty({n, kNumSlots}, torch::kBool);
  t.channel = torch::empty({n}, torch::kInt64);
  t.y = torch::empty({n, kNumTargets});
  auto* xp = t.x.data_ptr<float>();
  auto* mp = t.mask.data_ptr<bool>();
  auto* cp = t.channel.data_ptr<std::int64_t>();
  auto* yp = t.y.data_ptr<float>();
  const std::size_t PF = static_cast<std::size_t>(kNumSlots) * d.features();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t e = idx[i];
    std::copy_n(&d.x[e * PF], PF, xp + i * PF);
    for (int p = 0; p < kNumSlots; ++p) mp[i * kNumSlots + p] = d.mask[e * kNumSlots + p] != 0;
    cp[i] = d.channel[e];
    std::copy_n(&d.target[e * kNumTargets], kNumTargets, yp + i * kNumTargets);
  }
  return t;
}

// alpha, sigma of the bounded cosine schedule for a tensor of t, computed in double.
std::pair<torch::Tensor, torch::Tensor> alphaSigma(const BoundedCosineSchedule& s,
                                                   const torch::Tensor& t) {
  const torch::Tensor td = t.to(torch::kFloat64);
  const torch::Tensor lam = -2.0 * torch::log(torch::tan(td * s.angleScale() + s.angleOffset()));
  return {torch::sqrt(torch::sigmoid(lam)).to(t.scalar_type()),
          torch::sqrt(torch::sigmoid(-lam)).to(t.scalar_type())};
}

std::string formatDuration(double s) {
  char b[32];
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%dh%02dm", int(s / 3600), int(std::fmod(s, 3600) / 60));
  else if (s >= 60)
    std::snprintf(b, sizeof b, "%dm%02ds", int(s / 60), int(std::fmod(s, 60)));
  else
    std::snprintf(b, sizeof b, "%.0fs", s);
  return b;
}

template <class T>
void hashVector(Sha256& sha, const std::vector<T>& v) {
  sha.update(v.data(), v.size() * sizeof(T));
}

std::string describeValue(double v) {
  if (std::isnan(v)) return "nan";
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

TrainingSet prepareTrainingSet(const DiffusionConfig& config, const io::EventTable& data) {
  const TrainConfig& tc = config.train;
  TrainingSet set;
  set.source = data.source().empty() ? std::string("training data") : data.source();
  // Data: events with a channel, split by table row (docs/ml-methods.md section 1).
  validateRecoInputs(data);
  std::vector<std::size_t> rows = selectRows(data, tc.requireSignalRegion, tc.channels);
  if (tc.maxEvents > 0 && rows.size() > static_cast<std::size_t>(tc.maxEvents))
    rows.resize(tc.maxEvents);
  requireMemory(trainingMemoryBytes(config, rows.size()), availableMemoryBytes(),
                "training this model on " + std::to_string(rows.size()) + " events",
                "use a smaller model (encoder/head width, layers) or train.batch_size, or limit "
                "train.max_events");
  const EventData ed = buildEventData(data, rows, tc.azimuth == "canonical", true, config.inputs);
  std::vector<std::size_t> trainIdx, valIdx;
  for (std::size_t e = 0; e < ed.n; ++e) {
    const auto mod = static_cast<std::size_t>(tc.validationModulus);
    (ed.row[e] % mod == mod - 1 ? valIdx : trainIdx).push_back(e);
  }
  if (trainIdx.size() < static_cast<std::size_t>(tc.batchSize) || valIdx.empty()) {
    throw InputError(set.source + ": " + std::to_string(ed.n) + " selected events (" +
                     std::to_string(trainIdx.size()) +
                     " for training) are too few for batch size " + std::to_string(tc.batchSize));
  }
  Sha256 sha;
  hashVector(sha, ed.x);
  hashVector(sha, ed.mask);
  hashVector(sha, ed.channel);
  hashVector(sha, ed.target);
  hashVector(sha, ed.row);
  set.dataSha256 = sha.hexDigest();
  set.norm = computeNormStats(ed, trainIdx);
  set.train = toTensors(ed, trainIdx);
  set.val = toTensors(ed, valIdx);
  set.nTrain = static_cast<std::int64_t>(trainIdx.size());
  set.nVal = static_cast<std::int64_t>(valIdx.size());
  // Validation noise: t and epsilon of validation event i from a stream seeded by its row, the
  // same every epoch (docs/ml-methods.md section 6).
  const std::int64_t nVal = set.nVal;
  set.valT = torch::empty({nVal});
  torch::Tensor valEps = torch::empty({nVal, kNumTargets});
  for (std::int64_t i = 0; i < nVal; ++i) {
    Rng rng(tc.seed, ed.row[valIdx[i]], streams::ml);
    set.valT[i] = rng.uniform();
    for (int c = 0; c < kNumTargets; ++c) valEps[i][c] = rng.normal();
  }
  const torch::Tensor yMean =
      torch::from_blob(const_cast<float*>(set.norm.yMean.data()), {kNumTargets}).clone();
  const torch::Tensor yStd =
      torch::from_blob(const_cast<float*>(set.norm.yStd.data()), {kNumTargets}).clone();
  const BoundedCosineSchedule schedule(config.schedule.lambdaMin, config.schedule.lambdaMax);
  const torch::Tensor valY = (set.val.y - yMean) / yStd;
  auto [valA, valS] = alphaSigma(schedule, set.valT);
  set.valZ = valA.unsqueeze(1) * valY + valS.unsqueeze(1) * valEps;
  set.valV = valA.unsqueeze(1) * valEps - valS.unsqueeze(1) * valY;
  return set;
}

namespace {
DiffusionNet initialisedNet(const DiffusionConfig& config, const NormStats& norm) {
  torch::manual_seed(config.train.seed);  // initialisation from the run seed
  DiffusionNet net = makeNet(config);
  net->setNormalisation(norm);
  return net;
}
DiffusionNet emaCopy(const DiffusionConfig& config, DiffusionNet& net) {
  DiffusionNet ema = makeNet(config);
  copyWeights(*ema, *net);
  for (auto& p : ema->parameters()) p.set_requires_grad(false);
  return ema;
}
}  // namespace

Trainer::Trainer(const DiffusionConfig& config, const TrainingSet& set, int epochs,
                 Communicator* comm)
    : net(initialisedNet(config, set.norm)),
      ema(emaCopy(config, net)),
      params(net->parameters()),
      lion(params, config.train.beta1, config.train.beta2, config.train.weightDecay),
      gen(at::detail::createCPUGenerator(hashSeed(config.train.seed, 0, streams::ml))),
      config_(config),
      set_(set),
      epochs_(epochs),
      comm_(comm),
      yMean_(net->yMean().clone()),
      yStd_(net->yStd().clone()),
      wallStart_(std::chrono::steady_clock::now()) {
  if (comm_ != nullptr) {
    // Defined (zero) gradients from the start: every rank sends every gradient to the all-reduce.
    for (auto& p : params) p.mutable_grad() = torch::zeros_like(p);
  }
}

void Trainer::synchronise() {
  if (comm_ == nullptr) return;
  std::vector<torch::Tensor> weights;
  for (auto* m : {&net, &ema}) {
    for (const auto& p : (*m)->parameters()) weights.push_back(p);
    for (const auto& b : (*m)->buffers()) weights.push_back(b);
  }
  for (const auto& m : lion.momenta()) weights.push_back(m);
  comm_->broadcastFromRoot(weights, "broadcast of the weights from rank 0");
  torch::Tensor genState = gen.get_state();
  comm_->broadcastFromRoot({genState}, "broadcast of the random stream from rank 0");
  gen.set_state(genState);
  const torch::Tensor counters = torch::tensor(
      {double(state.epochsDone), double(state.step), double(state.bestEpoch),
       double(state.badEpochs), double(state.stopped), double(state.skippedSteps), state.bestVal},
      torch::kFloat64);
  comm_->broadcastFromRoot({counters}, "broadcast of the training state from rank 0");
  const auto c = counters.accessor<double, 1>();
  state.epochsDone = static_cast<int>(c[0]);
  state.step = static_cast<std::int64_t>(c[1]);
  state.bestEpoch = static_cast<int>(c[2]);
  state.badEpochs = static_cast<int>(c[3]);
  state.stopped = c[4] != 0;
  state.skippedSteps = static_cast<std::int64_t>(c[5]);
  state.bestVal = c[6];
}

double Trainer::validationLoss() {
  torch::NoGradGuard ng;
  ema->eval();
  double sum = 0;
  const std::int64_t nVal = set_.nVal;
  const std::int64_t ranks = comm_ ? comm_->worldSize() : 1, rank = comm_ ? comm_->rank() : 0;
  const std::int64_t end = nVal * (rank + 1) / ranks;
  for (std::int64_t b0 = nVal * rank / ranks; b0 < end; b0 += 1024) {
    const std::int64_t n = std::min<std::int64_t>(1024, end - b0);
    auto sl = [&](const torch::Tensor& t) { return t.narrow(0, b0, n); };
    const torch::Tensor v = ema->forward(sl(set_.val.x), sl(set_.val.mask), sl(set_.val.channel),
                                         sl(set_.valZ), sl(set_.valT));
    sum += (v - sl(set_.valV)).pow(2).sum().item<double>();
  }
  if (comm_ != nullptr) {
    const torch::Tensor total = torch::tensor({sum}, torch::kFloat64);
    comm_->allreduceSum({total}, "all-reduce of the validation loss");
    sum = total.item<double>();
  }
  return sum / static_cast<double>(nVal * kNumTargets);
}

Trainer::EpochResult Trainer::runEpoch(bool progress) {
  const TrainConfig& tc = config_.train;
  const int epoch = state.epochsDone;
  const std::int64_t nTrain = set_.nTrain;
  const std::int64_t B = tc.batchSize;
  const std::int64_t stepsPerEpoch = nTrain / B;
  const std::int64_t totalSteps = stepsPerEpoch * epochs_;
  const BoundedCosineSchedule schedule(config_.schedule.lambdaMin, config_.schedule.lambdaMax);
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  // This rank's rows of every global batch (all of them when alone); only rank 0 talks.
  const std::int64_t ranks = comm_ ? comm_->worldSize() : 1, rank = comm_ ? comm_->rank() : 0;
  const std::int64_t rowBegin = B * rank / ranks, rows = B / ranks;
  const bool talk = rank == 0;
  progress = progress && talk;
  net->train();
  // Data order of this epoch: Fisher-Yates from a stream seeded by (seed, epoch).
  std::vector<std::int64_t> order(nTrain);
  for (std::int64_t i = 0; i < nTrain; ++i) order[i] = i;
  Rng orng(tc.seed, static_cast<std::uint64_t>(epoch), streams::ml + 100);
  for (std::int64_t i = nTrain - 1; i > 0; --i) {
    std::swap(order[i],
              order[static_cast<std::int64_t>(orng.below(static_cast<std::uint64_t>(i + 1)))]);
  }
  const torch::Tensor perm = torch::from_blob(order.data(), {nTrain}, torch::kInt64).clone();
  double lossSum = 0;
  std::int64_t goodSteps = 0;
  double lr = 0;
  auto lastDraw = std::chrono::steady_clock::now();
  for (std::int64_t s = 0; s < stepsPerEpoch; ++s) {
    // The random numbers are drawn for all B rows on every rank (the stream advances alike), and
    // each rank takes its slice: N ranks compute exactly the single-process batch.
    const torch::Tensor idx = perm.narrow(0, s * B + rowBegin, rows);
    torch::Tensor xb = set_.train.x.index_select(0, idx);
    const torch::Tensor mb = set_.train.mask.index_select(0, idx);
    const torch::Tensor cb = set_.train.channel.index_select(0, idx);
    torch::Tensor yb = set_.train.y.index_select(0, idx);
    if (tc.azimuth == "augment") {
      const torch::Tensor delta = torch::empty({B}).uniform_(-constants::pi, constants::pi, gen);
      rotateBatch(xb, mb, yb, delta.narrow(0, rowBegin, rows));
    }
    const torch::Tensor yn = (yb - yMean_) / yStd_;
    // Low-discrepancy t: t_i = (u + i/B) mod 1 (docs/ml-methods.md section 4).
    const torch::Tensor u = torch::empty({1}).uniform_(0, 1, gen);
    const torch::Tensor tb =
        torch::remainder(u + torch::arange(B, torch::kFloat32) / double(B), 1.0)
            .narrow(0, rowBegin, rows);
    const torch::Tensor eps = torch::randn({B, kNumTargets}, gen).narrow(0, rowBegin, rows);
    auto [al, si] = alphaSigma(schedule, tb);
    const torch::Tensor z = al.unsqueeze(1) * yn + si.unsqueeze(1) * eps;
    const torch::Tensor vTarget = al.unsqueeze(1) * eps - si.unsqueeze(1) * yn;
    const torch::Tensor vhat = net->forward(xb, mb, cb, z, tb);
    // Alone: the mean over the batch. Data-parallel: this rank's share of the global-batch mean,
    // so that the sum over ranks is the global mean.
    const torch::Tensor loss = comm_ ? (vhat - vTarget).pow(2).sum() / double(B * kNumTargets)
                                     : (vhat - vTarget).pow(2).mean();
    lr = learningRate(state.step, tc.lrPeak, tc.lrMin, tc.warmupSteps, totalSteps);
    double lossValue = loss.item<double>();
    double gradNorm = 0;
    if (comm_ != nullptr) {
      // Every rank joins the all-reduce, whatever its own loss: a non-finite loss of one rank makes
      // the summed loss non-finite, and all ranks skip the step together.
      net->zero_grad();
      if (std::isfinite(lossValue)) loss.backward();
      std::vector<torch::Tensor> sums;
      for (const auto& p : params) sums.push_back(p.grad());
      const torch::Tensor lossSlot = loss.detach().reshape({1}).clone();
      sums.push_back(lossSlot);  // rides in the last gradient bucket
      comm_->allreduceSum(sums, "all-reduce of the gradients");
      lossValue = lossSlot.item<double>();
      if (std::isfinite(lossValue)) gradNorm = clipGradNorm(params, std::max(tc.gradClip, 0.0));
    } else if (std::isfinite(lossValue)) {
      net->zero_grad();
      loss.backward();
      // Clips only when train.grad_clip > 0; the norm is needed for the finiteness check anyway.
      gradNorm = clipGradNorm(params, tc.gradClip > 0 ? tc.gradClip : 0.0);
    }
    if (!std::isfinite(lossValue) || !std::isfinite(gradNorm)) {
      // A diverging run must not end as a success (docs/reliability.md): skip the update, and
      // stop once more than train.max_skipped_steps steps were skipped.
      ++state.skippedSteps;
      ++state.step;
      const std::string what = !std::isfinite(lossValue)
                                   ? "the loss is " + describeValue(lossValue)
                                   : "the gradient norm is " + describeValue(gradNorm);
      if (state.skippedSteps > tc.maxSkippedSteps) {
        throw TrainingDiverged(
            "training diverged: " + what + " at epoch " + std::to_string(epoch + 1) + ", step " +
            std::to_string(s + 1) + " of " + std::to_string(stepsPerEpoch) + " (learning rate " +
            describeValue(lr) + ", " + std::to_string(state.skippedSteps) +
            " non-finite step(s), train.max_skipped_steps = " + std::to_string(tc.maxSkippedSteps) +
            "); lower train.lr_peak or enable "
            "train.grad_clip");
      }
      if (talk)
        std::fprintf(stderr,
                     "%snurec train: warning: %s at epoch %d, step %lld: step skipped (%lld of "
                     "at most %d)\n",
                     tty ? "\n" : "", what.c_str(), epoch + 1, static_cast<long long>(s + 1),
                     static_cast<long long>(state.skippedSteps), tc.maxSkippedSteps);
      continue;
    }
    lion.step(lr);
    emaUpdate(*ema, *net, tc.emaDecay);
    ++state.step;
    samplesThisRun += B;
    ++goodSteps;
    lossSum += lossValue;
    const auto now = std::chrono::steady_clock::now();
    if (progress &&
        (now - lastDraw > std::chrono::milliseconds(tty ? 500 : 30000) || s + 1 == stepsPerEpoch)) {
      lastDraw = now;
      const double el = std::chrono::duration<double>(now - wallStart_).count();
      const double rate = samplesThisRun / std::max(el, 1e-9);
      const double remaining =
          double((epochs_ - epoch - 1) * stepsPerEpoch + (stepsPerEpoch - s - 1)) * B /
          std::max(rate, 1e-9);
      const int width = 24;
      const int filled = static_cast<int>(width * double(s + 1) / double(stepsPerEpoch));
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(width, ' ');
      std::fprintf(stderr, "%sepoch %d/%d [%s] loss %.4f  %.0f samples/s  ETA %s%s",
                   tty ? "\r" : "", epoch + 1, epochs_, bar.c_str(),
                   lossSum / double(std::max<std::int64_t>(1, goodSteps)), rate,
                   formatDuration(remaining).c_str(), tty ? "   " : "\n");
      std::fflush(stderr);
    }
  }
  const double valLoss = validationLoss();
  if (!std::isfinite(valLoss)) {
    throw TrainingDiverged("training diverged: the validation loss of epoch " +
                           std::to_string(epoch + 1) + " is " + describeValue(valLoss) +
                           "; lower train.lr_peak or enable train.grad_clip");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EpochResult r;
  r.record = EpochRecord{epoch + 1, lossSum / double(std::max<std::int64_t>(1, goodSteps)), valLoss,
                         lr, secs};
  state.history.push_back(r.record);
  state.epochsDone = epoch + 1;
  r.improved = valLoss < state.bestVal;
  if (r.improved) {
    state.bestVal = valLoss;
    state.bestEpoch = epoch + 1;
    state.badEpochs = 0;
  } else if (++state.badEpochs >= tc.patience) {
    state.stopped = true;
  }
  return r;
}

void saveCheckpoint(const std::string& path, Trainer& trainer, const CheckpointMeta& meta) {
  const TrainState& st = trainer.state;
  torch::serialize::OutputArchive a;
  for (const auto& it : trainer.net->named_parameters(true))
    a.write("model." + it.key(), it.value());
  for (const auto& it : trainer.net->named_buffers(true))
    a.write("model." + it.key(), it.value(), true);
  for (const auto& it : trainer.ema->named_parameters(true)) a.write("ema." + it.key(), it.value());
  for (const auto& it : trainer.ema->named_buffers(true))
    a.write("ema." + it.key(), it.value(), true);
  for (std::size_t i = 0; i < trainer.lion.momenta().size(); ++i) {
    a.write("lion." + std::to_string(i), trainer.lion.momenta()[i], true);
  }
  a.write("generator_state", trainer.gen.get_state(), true);
  a.write("counters",
          torch::tensor(
              {kCheckpointFormat, static_cast<std::int64_t>(st.epochsDone), st.step,
               static_cast<std::int64_t>(st.bestEpoch), static_cast<std::int64_t>(st.badEpochs),
               static_cast<std::int64_t>(st.stopped), static_cast<std::int64_t>(meta.threads),
               static_cast<std::int64_t>(meta.batchSize), st.skippedSteps, meta.dataEvents}),
          true);
  a.write("best_val", torch::tensor({st.bestVal}, torch::kFloat64), true);
  torch::Tensor hist =
      torch::zeros({static_cast<std::int64_t>(st.history.size()), 5}, torch::kFloat64);
  for (std::size_t i = 0; i < st.history.size(); ++i) {
    const auto& h = st.history[i];
    const double row[5] = {double(h.epoch), h.trainLoss, h.valLoss, h.lr, h.seconds};
    for (int c = 0; c < 5; ++c) hist[i][c] = row[c];
  }
  a.write("history", hist, true);
  a.write("config", c10::IValue(meta.configText));
  a.write("producer", c10::IValue(std::string(kProducer)));
  a.write("data_source", c10::IValue(meta.dataSource));
  a.write("data_sha256", c10::IValue(meta.dataSha256));
  writeArchive(a, path);  // atomic: a kill or a full disk never leaves a half-written checkpoint
}

void loadCheckpoint(const std::string& path, Trainer& trainer, const CheckpointMeta& expected) {
  TrainState& st = trainer.state;
  torch::serialize::InputArchive a;
  readArchive(a, path);
  try {
    torch::Tensor c;
    a.read("counters", c, true);
    const std::int64_t format = c[0].item<std::int64_t>();
    if (format < 1 || format > kCheckpointFormat || c.size(0) < (format >= 2 ? 10 : 8)) {
      throw InputError(path + ": unknown checkpoint format " + std::to_string(format));
    }
    // The run identity first: a checkpoint of other data must not be continued (docs/ml-methods.md
    // section 8).
    c10::IValue source, sha;
    if (a.try_read("data_sha256", sha) && a.try_read("data_source", source)) {
      if (sha.toStringRef() != expected.dataSha256) {
        throw ConfigError(
            path + " continues a run on other training data (" + source.toStringRef() + ", " +
            std::to_string(c[9].item<std::int64_t>()) + " events) than --data " +
            expected.dataSource + " (" + std::to_string(expected.dataEvents) +
            " events, or a different selection): resume with the data it was started on, or "
            "train into a new --out");
      }
    } else {
      std::fprintf(stderr,
                   "nurec train: warning: %s does not record its training data (older "
                   "checkpoint); cannot check that --data is the same\n",
                   path.c_str());
    }
    const int oldThreads = static_cast<int>(c[6].item<std::int64_t>());
    const int oldBatch = static_cast<int>(c[7].item<std::int64_t>());
    if (oldBatch != expected.batchSize) {
      throw ConfigError(path + ": checkpoint was written with batch size " +
                        std::to_string(oldBatch) + ", the config now says " +
                        std::to_string(expected.batchSize));
    }
    if (oldThreads != expected.threads) {
      std::fprintf(stderr,
                   "nurec train: warning: checkpoint written with %d threads, resuming with %d: "
                   "the continuation is not bit-identical (docs/ml-methods.md section 8)\n",
                   oldThreads, expected.threads);
    }
    torch::NoGradGuard ng;
    auto readInto = [&](const std::string& key, torch::Tensor dst, bool buffer) {
      torch::Tensor t;
      a.read(key, t, buffer);
      if (t.sizes() != dst.sizes()) {
        throw ConfigError(path + ": '" + key +
                          "' has another shape than the model of the config (was the "
                          "architecture changed since the run started?)");
      }
      dst.copy_(t);
    };
    for (auto& it : trainer.net->named_parameters(true))
      readInto("model." + it.key(), it.value(), false);
    for (auto& it : trainer.net->named_buffers(true))
      readInto("model." + it.key(), it.value(), true);
    for (auto& it : trainer.ema->named_parameters(true))
      readInto("ema." + it.key(), it.value(), false);
    for (auto& it : trainer.ema->named_buffers(true)) readInto("ema." + it.key(), it.value(), true);
    for (std::size_t i = 0; i < trainer.lion.momenta().size(); ++i) {
      readInto("lion." + std::to_string(i), trainer.lion.momenta()[i], true);
    }
    torch::Tensor gs;
    a.read("generator_state", gs, true);
    trainer.gen.set_state(gs);
    st.epochsDone = static_cast<int>(c[1].item<std::int64_t>());
    st.step = c[2].item<std::int64_t>();
    st.bestEpoch = static_cast<int>(c[3].item<std::int64_t>());
    st.badEpochs = static_cast<int>(c[4].item<std::int64_t>());
    st.stopped = c[5].item<std::int64_t>() != 0;
    st.skippedSteps = format >= 2 ? c[8].item<std::int64_t>() : 0;
    torch::Tensor bv;
    a.read("best_val", bv, true);
    st.bestVal = bv[0].item<double>();
    torch::Tensor hist;
    a.read("history", hist, true);
    st.history.clear();
    for (std::int64_t i = 0; i < hist.size(0); ++i) {
      EpochRecord r;
      r.epoch = static_cast<int>(hist[i][0].item<double>());
      r.trainLoss = hist[i][1].item<double>();
      r.valLoss = hist[i][2].item<double>();
      r.lr = hist[i][3].item<double>();
      r.seconds = hist[i][4].item<double>();
      st.history.push_back(r);
    }
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot read the checkpoint (" +
                     std::string(e.what_without_backtrace()) + ")");
  }
}

void writeTrainLog(const std::string& dir, const TrainState& st) {
  std::ostringstream os;
  os << "epoch,train_loss,val_loss_ema,lr,seconds\n";
  for (const auto& h : st.history) {
    char line[160];
    std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6g,%.1f\n", h.epoch, h.trainLoss, h.valLoss,
                  h.lr, h.seconds);
    os << line;
  }
  writeTextFileAtomically((fs::path(dir) / "train_log.csv").string(), os.str());
}

bool isModelDirectoryFile(const std::string& name) {
  // What `nurec train` writes, what the model card and golden-file tooling add beside it
  // (models/<name>/), and temporaries of interrupted writes (<file>.tmp...).
  static const std::regex known(
      R"((config\.yaml|model\.pt|checkpoint\.pt|train_log\.csv|model_ts\.pt|per_channel\.yaml|)"
      R"(MODEL_CARD\.md|golden\.pt)(\.tmp\.?[0-9]+)?)");
  return std::regex_match(name, known);
}

void prepareOutputDirectory(const std::string& dir, bool resume, bool force) {
  require(!dir.empty(), "train: --out must name a directory");
  require(!(resume && force),
          "train: --resume continues the run in --out and --force replaces "
          "it; give one of them");
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw ConfigError("train: --out '" + dir + "' exists and is not a directory");
  }
  if (fs::is_directory(status)) {
    // Temporaries of earlier killed runs (<file>.tmp<pid>) are debris, never a model: removed
    // so that they neither accumulate nor make the directory look taken.
    std::vector<fs::path> dirs{dir};
    for (int c = 0; c < kNumChannels; ++c)
      dirs.push_back(fs::path(dir) / ("channel_" + std::to_string(c)));
    for (const auto& d : dirs) {
      if (!fs::is_directory(d, ec)) continue;
      std::vector<fs::path> stale;
      for (const auto& entry : fs::directory_iterator(d)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && isModelDirectoryFile(name) &&
            name.find(".tmp") != std::string::npos) {
          stale.push_back(entry.path());
        }
      }
      for (const auto& p : stale) fs::remove(p, ec);
    }
  }
  if (resume) {
    bool checkpoint = fs::exists(fs::path(dir) / "checkpoint.pt");
    for (int c = 0; c < kNumChannels; ++c) {
      checkpoint = checkpoint ||
                   fs::exists(fs::path(dir) / ("channel_" + std::to_string(c)) / "checkpoint.pt");
    }
    if (!checkpoint) {
      throw ConfigError("train --resume: '" + dir +
                        "' holds no checkpoint.pt to continue; drop --resume to start a new run");
    }
    return;
  }
  if (!fs::exists(status)) {
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError("train: cannot create --out '" + dir + "': " + ec.message());
    return;
  }
  // What a --force run removes: the files nurec wrote, also inside channel_<c>/ of per-channel
  // runs. Anything else makes the directory someone else's, and nothing is removed.
  std::vector<fs::path> ours;
  std::vector<std::string> foreign;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && std::regex_match(name, std::regex("channel_[0-6]"))) {
      for (const auto& inner : fs::directory_iterator(entry.path())) {
        const std::string n = inner.path().filename().string();
        if (!inner.is_regular_file() || !isModelDirectoryFile(n)) foreign.push_back(name + "/" + n);
      }
      ours.push_back(entry.path());
    } else if (entry.is_regular_file() && isModelDirectoryFile(name)) {
      ours.push_back(entry.path());
    } else {
      foreign.push_back(name);
    }
  }
  if (ours.empty() && foreign.empty()) return;
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + v[i];
    return v.size() > 5 ? s + ", ..." : s;
  };
  if (!foreign.empty()) {
    throw ConfigError("train: --out '" + dir + "' holds files that nurec did not write (" +
                      list(foreign) + "); choose an empty or new directory");
  }
  std::vector<std::string> names;
  for (const auto& p : ours) names.push_back(p.filename().string());
  if (!force) {
    throw ConfigError("train: --out '" + dir + "' already holds a model (" + list(names) +
                      "); pass --resume to continue its checkpoint, --force to replace it, or "
                      "choose another --out");
  }
  for (const auto& p : ours) {
    fs::remove_all(p, ec);
    if (ec) throw Error("train --force: cannot remove " + p.string() + ": " + ec.message());
  }
  std::fprintf(stderr, "nurec train: --force: removed %zu file(s) of the earlier model in %s\n",
               ours.size(), dir.c_str());
}

namespace {

// Files are written by rank 0 alone; the other ranks learn whether it succeeded (ml/Communicator).
void onRoot(Communicator* comm, const std::string& what, const std::function<void()>& fn) {
  if (comm != nullptr) {
    comm->runOnRoot(what, fn);
  } else {
    fn();
  }
}

// Every rank must train the same run: the same selected data and config (a rank given another
// file or card would silently train something else, or wait forever at a collective).
void requireSameRunOnAllRanks(Communicator& comm, const TrainingSet& set,
                              const DiffusionConfig& config, int epochs) {
  Sha256 sha;
  const std::string identity = set.dataSha256 + config.toYaml() + std::to_string(epochs);
  sha.update(identity.data(), identity.size());
  const std::string digest = sha.hexDigest();
  const torch::Tensor mine =
      torch::from_blob(const_cast<char*>(digest.data()), {static_cast<std::int64_t>(digest.size())},
                       torch::kUInt8)
          .clone();
  const torch::Tensor root = mine.clone();
  comm.broadcastFromRoot({root}, "comparison of the training data and config of the ranks");
  const torch::Tensor differ = torch::tensor({torch::equal(mine, root) ? 0 : 1}, torch::kInt32);
  comm.allreduceSum({differ}, "comparison of the training data and config of the ranks");
  if (differ.item<int>() != 0) {
    throw ConfigError("train: rank " + std::to_string(comm.rank()) + " of " +
                      std::to_string(comm.worldSize()) + ": " + std::to_string(differ.item<int>()) +
                      " rank(s) read other training data (" + set.source +
                      ") or another config than rank 0: every rank needs the same --data, "
                      "--config, --seed and --epochs");
  }
}

TrainSummary trainOne(const DiffusionConfig& config, const io::EventTable& data,
                      const TrainOptions& options, Communicator* comm) {
  const auto wall0 = std::chrono::steady_clock::now();
  const TrainConfig& tc = config.train;
  const bool root = comm == nullptr || comm->isRoot();
  // Data-parallel ranks share the cores: one intra-op thread each unless --threads says otherwise.
  const int threads = options.threads > 0 ? options.threads
                      : comm != nullptr   ? 1
                                          : static_cast<int>(at::get_num_threads());
  at::set_num_threads(threads);
  const std::string ckptPath = (fs::path(options.outDir) / "checkpoint.pt").string();
  onRoot(comm, "preparing " + options.outDir, [&] {
    fs::create_directories(options.outDir);
    if (!options.resume && fs::exists(ckptPath)) {
      throw ConfigError("output directory '" + options.outDir +
                        "' already holds a checkpoint: pass --resume to continue it, or choose "
                        "another --out");
    }
  });
  const int epochs = options.epochsOverride > 0 ? options.epochsOverride : tc.epochs;

  // Computing: data, model, optimiser (no files).
  const TrainingSet set = prepareTrainingSet(config, data);
  if (comm != nullptr) requireSameRunOnAllRanks(*comm, set, config, epochs);
  Trainer trainer(config, set, epochs, comm);
  CheckpointMeta meta;
  meta.threads = threads;
  meta.batchSize = tc.batchSize;
  meta.configText = config.toYaml();
  meta.dataSource = set.source;
  meta.dataSha256 = set.dataSha256;
  meta.dataEvents = set.nTrain + set.nVal;
  TrainState& st = trainer.state;
  // The checkpoint is read by rank 0 (--out need not be on a shared disk) and broadcast.
  bool resumeCheckpoint = options.resume && fs::exists(ckptPath);
  if (comm != nullptr) resumeCheckpoint = comm->broadcastFlag(resumeCheckpoint, "--resume");
  if (resumeCheckpoint) {
    onRoot(comm, "reading " + ckptPath, [&] {
      loadCheckpoint(ckptPath, trainer, meta);
      std::fprintf(stderr, "nurec train: resuming %s after epoch %d (step %lld)\n",
                   ckptPath.c_str(), st.epochsDone, static_cast<long long>(st.step));
    });
  }
  trainer.synchronise();

  TrainSummary summary;
  summary.trainEvents = static_cast<std::size_t>(set.nTrain);
  summary.valEvents = static_cast<std::size_t>(set.nVal);
  const int firstEpoch = st.epochsDone;
  const bool tty = isatty(STDERR_FILENO) != 0;
  bool interrupted = false;
  for (int epoch = st.epochsDone; epoch < epochs && !st.stopped; ++epoch) {
    if (options.stopAfterEpochs > 0 && epoch - firstEpoch >= options.stopAfterEpochs) {
      interrupted = true;
      break;
    }
    Trainer::EpochResult r;
    try {
      r = trainer.runEpoch(options.progress);
    } catch (const TrainingDiverged& e) {
      const std::string kept =
          st.bestEpoch > 0 ? "; " + options.outDir + " keeps the model of epoch " +
                                 std::to_string(st.bestEpoch) + " and the checkpoint of epoch " +
                                 std::to_string(st.epochsDone)
                           : "; no model was written";
      throw TrainingDiverged(std::string(e.what()) + kept);
    }
    // Writing: best EMA weights = the model, checkpoint, log.
    onRoot(comm, "writing the checkpoint of epoch " + std::to_string(epoch + 1), [&] {
      if (r.improved) saveModelDir(trainer.ema, config, options.outDir);
      saveCheckpoint(ckptPath, trainer, meta);
      writeTrainLog(options.outDir, st);
    });
    if (options.progress && root) {
      std::fprintf(
          stderr, "%sepoch %d/%d: train loss %.4f, validation loss (EMA) %.4f%s, %.0f s%s\n",
          tty ? "\r" : "", epoch + 1, epochs, r.record.trainLoss, r.record.valLoss,
          r.improved ? " (best)" : "", r.record.seconds, st.stopped ? " - early stop" : "");
    }
  }
  // A run that ends without a model is a failure, never a summary with exit 0.
  if (!interrupted &&
      (st.bestEpoch == 0 || (root && !fs::exists(fs::path(options.outDir) / "model.pt")))) {
    throw Error("train: no model was written to " + options.outDir +
                " (no epoch reached a finite validation loss)");
  }
  if (st.skippedSteps > 0 && root) {
    std::fprintf(stderr, "nurec train: warning: %lld step(s) with a non-finite loss were skipped\n",
                 static_cast<long long>(st.skippedSteps));
  }
  summary.epochsRun = st.epochsDone;
  summary.bestEpoch = st.bestEpoch;
  summary.bestValLoss = st.bestVal;
  summary.earlyStopped = st.stopped;
  summary.history = st.history;
  summary.skippedSteps = st.skippedSteps;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  summary.samplesPerSecond = trainer.samplesThisRun / std::max(summary.seconds, 1e-9);
  if (options.exportTorchScript && st.bestEpoch > 0 && (st.stopped || st.epochsDone >= epochs)) {
    onRoot(comm, "exporting TorchScript", [&] {
      exportTorchScript(options.outDir, (fs::path(options.outDir) / "model_ts.pt").string());
    });
  }
  return summary;
}

TrainSummary trainAll(const DiffusionConfig& config, const io::EventTable& data,
                      const TrainOptions& options) {
  config.validate();
  if (options.epochsOverride > kMaxEpochs) {
    throw ConfigError("train: --epochs must be in [1, " + std::to_string(kMaxEpochs) + "]");
  }
  std::unique_ptr<Communicator> comm;
  if (options.dist.distributed()) {
    const int ranks = options.dist.worldSize;
    if (config.train.batchSize % ranks != 0) {
      throw ConfigError("train: train.batch_size " + std::to_string(config.train.batchSize) +
                        " is not divisible by the " + std::to_string(ranks) +
                        " ranks: it is the global batch, split evenly over the ranks "
                        "(docs/distributed.md); choose a multiple of " +
                        std::to_string(ranks));
    }
    require(std::isfinite(options.distTimeoutSeconds) && options.distTimeoutSeconds >= 1 &&
                options.distTimeoutSeconds <= 86400,
            "train: --dist-timeout must be in [1, 86400] seconds");
    comm = std::make_unique<Communicator>(options.dist,
                                          std::chrono::milliseconds(static_cast<std::int64_t>(
                                              std::llround(options.distTimeoutSeconds * 1000))));
    if (comm->isRoot()) {
      std::fprintf(stderr, "train: data-parallel over %s\n", options.dist.describe().c_str());
    }
  }
  onRoot(comm.get(), "preparing " + options.outDir,
         [&] { prepareOutputDirectory(options.outDir, options.resume, options.force); });
  if (config.train.channelMode == "shared") return trainOne(config, data, options, comm.get());
  TrainSummary last;
  std::vector<int> channels = config.train.channels;
  if (channels.empty()) {
    for (int c = 0; c < kNumChannels; ++c) channels.push_back(c);
  }
  for (int c : channels) {
    DiffusionConfig cc = config;
    cc.train.channelMode = "shared";
    cc.train.channels = {c};
    TrainOptions o = options;
    o.outDir = (fs::path(options.outDir) / ("channel_" + std::to_string(c))).string();
    // Channels not started before the interruption start now.
    o.resume = options.resume && fs::exists(fs::path(o.outDir) / "checkpoint.pt");
    if (comm) o.resume = comm->broadcastFlag(o.resume, "--resume of channel " + std::to_string(c));
    if (!comm || comm->isRoot()) {
      std::fprintf(stderr, "nurec train: per-channel model for channel %d -> %s\n", c,
                   o.outDir.c_str());
    }
    last = trainOne(cc, data, o, comm.get());
  }
  onRoot(comm.get(), "writing per_channel.yaml", [&] {
    writeTextFileAtomically((fs::path(options.outDir) / "per_channel.yaml").string(),
                            config.toYaml());
  });
  return last;
}

}  // namespace

TrainSummary trainDiffusion(const DiffusionConfig& config, const io::EventTable& data,
                            const TrainOptions& options) {
  // The ML boundary: LibTorch errors and allocation failures become nurec errors with one line of
  // text instead of a stack trace (docs/reliability.md).
  try {
    return trainAll(config, data, options);
  } catch (const c10::Error& e) {
    throw Error("train: LibTorch error: " + firstLineOf(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    throw Error("train: out of memory; use a smaller model, train.batch_size or train.max_events");
  }
}

}  // namespace nurec::ml
