// `nurec train`: Lion + warm-up/cosine LR + EMA + clipping + early stopping, atomic per-epoch
// checkpoints and bit-exact resume (docs/ml-methods.md sections 1, 4, 6, 8).
#include <ATen/ATen.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/Random.hpp"
#include "core/Units.hpp"
#include "ml/Features.hpp"
#include "ml/Net.hpp"
#include "ml/Schedule.hpp"
#include "ml/TrainApi.hpp"
#include "nurec/Version.hpp"

namespace nurec::ml {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kCheckpointFormat = 1;

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

struct Tensors {
  torch::Tensor x, mask, channel, y;  // y in |p_vis| units (not normalised)
};

Tensors toTensors(const EventData& d, const std::vector<std::size_t>& idx) {
  const auto n = static_cast<std::int64_t>(idx.size());
  Tensors t;
  t.x = torch::empty({n, kNumSlots, kNumFeatures});
  t.mask = torch::empty({n, kNumSlots}, torch::kBool);
  t.channel = torch::empty({n}, torch::kInt64);
  t.y = torch::empty({n, kNumTargets});
  auto* xp = t.x.data_ptr<float>();
  auto* mp = t.mask.data_ptr<bool>();
  auto* cp = t.channel.data_ptr<std::int64_t>();
  auto* yp = t.y.data_ptr<float>();
  const std::size_t PF = kNumSlots * kNumFeatures;
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

struct TrainState {
  int epochsDone = 0;
  std::int64_t step = 0;
  double bestVal = std::numeric_limits<double>::infinity();
  int bestEpoch = 0;
  int badEpochs = 0;
  bool stopped = false;
  std::vector<EpochRecord> history;
};

void saveCheckpoint(const std::string& path, DiffusionNet& net, DiffusionNet& ema, Lion& lion,
                    const at::Generator& gen, const TrainState& st, const std::string& configText,
                    int threads, int batchSize) {
  torch::serialize::OutputArchive a;
  for (const auto& it : net->named_parameters(true)) a.write("model." + it.key(), it.value());
  for (const auto& it : net->named_buffers(true)) a.write("model." + it.key(), it.value(), true);
  for (const auto& it : ema->named_parameters(true)) a.write("ema." + it.key(), it.value());
  for (const auto& it : ema->named_buffers(true)) a.write("ema." + it.key(), it.value(), true);
  for (std::size_t i = 0; i < lion.momenta().size(); ++i) {
    a.write("lion." + std::to_string(i), lion.momenta()[i], true);
  }
  a.write("generator_state", gen.get_state(), true);
  a.write(
      "counters",
      torch::tensor({kCheckpointFormat, static_cast<std::int64_t>(st.epochsDone), st.step,
                     static_cast<std::int64_t>(st.bestEpoch),
                     static_cast<std::int64_t>(st.badEpochs), static_cast<std::int64_t>(st.stopped),
                     static_cast<std::int64_t>(threads), static_cast<std::int64_t>(batchSize)}),
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
  a.write("config", c10::IValue(configText));
  a.write("producer", c10::IValue(std::string(kProducer)));
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  a.save_to(tmp);
  fs::rename(tmp, path);  // atomic: a kill never leaves a half-written checkpoint
}

void loadCheckpoint(const std::string& path, DiffusionNet& net, DiffusionNet& ema, Lion& lion,
                    at::Generator& gen, TrainState& st, int threads, int batchSize) {
  torch::serialize::InputArchive a;
  try {
    a.load_from(path);
    torch::NoGradGuard ng;
    auto readInto = [&](const std::string& key, torch::Tensor dst, bool buffer) {
      torch::Tensor t;
      a.read(key, t, buffer);
      dst.copy_(t);
    };
    for (auto& it : net->named_parameters(true)) readInto("model." + it.key(), it.value(), false);
    for (auto& it : net->named_buffers(true)) readInto("model." + it.key(), it.value(), true);
    for (auto& it : ema->named_parameters(true)) readInto("ema." + it.key(), it.value(), false);
    for (auto& it : ema->named_buffers(true)) readInto("ema." + it.key(), it.value(), true);
    for (std::size_t i = 0; i < lion.momenta().size(); ++i) {
      readInto("lion." + std::to_string(i), lion.momenta()[i], true);
    }
    torch::Tensor gs;
    a.read("generator_state", gs, true);
    gen.set_state(gs);
    torch::Tensor c;
    a.read("counters", c, true);
    if (c[0].item<std::int64_t>() != kCheckpointFormat)
      throw InputError(path + ": unknown checkpoint format");
    st.epochsDone = static_cast<int>(c[1].item<std::int64_t>());
    st.step = c[2].item<std::int64_t>();
    st.bestEpoch = static_cast<int>(c[3].item<std::int64_t>());
    st.badEpochs = static_cast<int>(c[4].item<std::int64_t>());
    st.stopped = c[5].item<std::int64_t>() != 0;
    const int oldThreads = static_cast<int>(c[6].item<std::int64_t>());
    const int oldBatch = static_cast<int>(c[7].item<std::int64_t>());
    if (oldBatch != batchSize) {
      throw ConfigError(path + ": checkpoint was written with batch size " +
                        std::to_string(oldBatch) + ", the config now says " +
                        std::to_string(batchSize));
    }
    if (oldThreads != threads) {
      std::fprintf(stderr,
                   "nurec train: warning: checkpoint written with %d threads, resuming with %d: "
                   "the continuation is not bit-identical (docs/ml-methods.md section 8)\n",
                   oldThreads, threads);
    }
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

void writeLog(const std::string& dir, const TrainState& st) {
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

TrainSummary trainOne(const DiffusionConfig& config, const io::EventTable& data,
                      const TrainOptions& options) {
  const auto wall0 = std::chrono::steady_clock::now();
  const TrainConfig& tc = config.train;
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(at::get_num_threads());
  at::set_num_threads(threads);
  fs::create_directories(options.outDir);
  const std::string ckptPath = (fs::path(options.outDir) / "checkpoint.pt").string();
  if (!options.resume && fs::exists(ckptPath)) {
    throw ConfigError("output directory '" + options.outDir +
                      "' already holds a checkpoint: pass --resume to continue it, or choose "
                      "another --out");
  }
  const int epochs = options.epochsOverride > 0 ? options.epochsOverride : tc.epochs;

  // Data: events with a channel, split by table row (docs/ml-methods.md section 1).
  std::vector<std::size_t> rows = selectRows(data, tc.requireSignalRegion, tc.channels);
  if (tc.maxEvents > 0 && rows.size() > static_cast<std::size_t>(tc.maxEvents))
    rows.resize(tc.maxEvents);
  const EventData ed = buildEventData(data, rows, tc.azimuth == "canonical", true);
  std::vector<std::size_t> trainIdx, valIdx;
  for (std::size_t e = 0; e < ed.n; ++e) {
    const auto mod = static_cast<std::size_t>(tc.validationModulus);
    (ed.row[e] % mod == mod - 1 ? valIdx : trainIdx).push_back(e);
  }
  if (trainIdx.size() < static_cast<std::size_t>(tc.batchSize) || valIdx.empty()) {
    throw InputError((data.source().empty() ? std::string("training data") : data.source()) + ": " +
                     std::to_string(ed.n) + " selected events (" + std::to_string(trainIdx.size()) +
                     " for training) are too few for batch size " + std::to_string(tc.batchSize));
  }
  const NormStats norm = computeNormStats(ed, trainIdx);
  const Tensors train = toTensors(ed, trainIdx);
  const Tensors val = toTensors(ed, valIdx);
  const auto nTrain = static_cast<std::int64_t>(trainIdx.size());
  const auto nVal = static_cast<std::int64_t>(valIdx.size());
  const std::int64_t B = tc.batchSize;
  const std::int64_t stepsPerEpoch = nTrain / B;
  const std::int64_t totalSteps = stepsPerEpoch * epochs;

  // Model, EMA copy, optimiser; initialisation from the run seed.
  torch::manual_seed(tc.seed);
  DiffusionNet net = makeNet(config);
  net->setNormalisation(norm);
  DiffusionNet ema = makeNet(config);
  copyWeights(*ema, *net);
  for (auto& p : ema->parameters()) p.set_requires_grad(false);
  std::vector<torch::Tensor> params = net->parameters();
  Lion lion(params, tc.beta1, tc.beta2, tc.weightDecay);
  at::Generator gen = at::detail::createCPUGenerator(hashSeed(tc.seed, 0, streams::ml));
  const BoundedCosineSchedule schedule(config.schedule.lambdaMin, config.schedule.lambdaMax);
  const torch::Tensor yMean = net->yMean().clone(), yStd = net->yStd().clone();

  // Validation noise: t and epsilon of validation event i from a stream seeded by its row, the
  // same every epoch (docs/ml-methods.md section 6).
  torch::Tensor valT = torch::empty({nVal}), valEps = torch::empty({nVal, kNumTargets});
  for (std::int64_t i = 0; i < nVal; ++i) {
    Rng rng(tc.seed, ed.row[valIdx[i]], streams::ml);
    valT[i] = rng.uniform();
    for (int c = 0; c < kNumTargets; ++c) valEps[i][c] = rng.normal();
  }
  const torch::Tensor valY = (val.y - yMean) / yStd;
  auto [valA, valS] = alphaSigma(schedule, valT);
  const torch::Tensor valZ = valA.unsqueeze(1) * valY + valS.unsqueeze(1) * valEps;
  const torch::Tensor valV = valA.unsqueeze(1) * valEps - valS.unsqueeze(1) * valY;

  TrainState st;
  if (options.resume && fs::exists(ckptPath)) {
    loadCheckpoint(ckptPath, net, ema, lion, gen, st, threads, static_cast<int>(B));
    std::fprintf(stderr, "nurec train: resuming %s after epoch %d (step %lld)\n", ckptPath.c_str(),
                 st.epochsDone, static_cast<long long>(st.step));
  }
  const std::string configText = config.toYaml();
  writeTextFileAtomically((fs::path(options.outDir) / "config.yaml").string(), configText);

  auto validate = [&]() {
    torch::NoGradGuard ng;
    ema->eval();
    double sum = 0;
    for (std::int64_t b0 = 0; b0 < nVal; b0 += 1024) {
      const std::int64_t n = std::min<std::int64_t>(1024, nVal - b0);
      auto sl = [&](const torch::Tensor& t) { return t.narrow(0, b0, n); };
      const torch::Tensor v =
          ema->forward(sl(val.x), sl(val.mask), sl(val.channel), sl(valZ), sl(valT));
      sum += (v - sl(valV)).pow(2).sum().item<double>();
    }
    return sum / static_cast<double>(nVal * kNumTargets);
  };

  TrainSummary summary;
  summary.trainEvents = static_cast<std::size_t>(nTrain);
  summary.valEvents = static_cast<std::size_t>(nVal);
  std::int64_t samplesThisRun = 0;
  const int firstEpoch = st.epochsDone;
  const bool tty = isatty(STDERR_FILENO) != 0;
  for (int epoch = st.epochsDone; epoch < epochs && !st.stopped; ++epoch) {
    if (options.stopAfterEpochs > 0 && epoch - firstEpoch >= options.stopAfterEpochs) break;
    const auto t0 = std::chrono::steady_clock::now();
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
    double lr = 0;
    auto lastDraw = std::chrono::steady_clock::now();
    for (std::int64_t s = 0; s < stepsPerEpoch; ++s) {
      const torch::Tensor idx = perm.narrow(0, s * B, B);
      torch::Tensor xb = train.x.index_select(0, idx);
      const torch::Tensor mb = train.mask.index_select(0, idx);
      const torch::Tensor cb = train.channel.index_select(0, idx);
      torch::Tensor yb = train.y.index_select(0, idx);
      if (tc.azimuth == "augment") {
        const torch::Tensor delta = torch::empty({B}).uniform_(-constants::pi, constants::pi, gen);
        rotateBatch(xb, mb, yb, delta);
      }
      const torch::Tensor yn = (yb - yMean) / yStd;
      // Low-discrepancy t: t_i = (u + i/B) mod 1 (docs/ml-methods.md section 4).
      const torch::Tensor u = torch::empty({1}).uniform_(0, 1, gen);
      const torch::Tensor tb =
          torch::remainder(u + torch::arange(B, torch::kFloat32) / double(B), 1.0);
      const torch::Tensor eps = torch::randn({B, kNumTargets}, gen);
      auto [al, si] = alphaSigma(schedule, tb);
      const torch::Tensor z = al.unsqueeze(1) * yn + si.unsqueeze(1) * eps;
      const torch::Tensor vTarget = al.unsqueeze(1) * eps - si.unsqueeze(1) * yn;
      const torch::Tensor vhat = net->forward(xb, mb, cb, z, tb);
      const torch::Tensor loss = (vhat - vTarget).pow(2).mean();
      net->zero_grad();
      loss.backward();
      if (tc.gradClip > 0) clipGradNorm(params, tc.gradClip);
      lr = learningRate(st.step, tc.lrPeak, tc.lrMin, tc.warmupSteps, totalSteps);
      lion.step(lr);
      emaUpdate(*ema, *net, tc.emaDecay);
      ++st.step;
      samplesThisRun += B;
      lossSum += loss.item<double>();
      const auto now = std::chrono::steady_clock::now();
      if (options.progress && (now - lastDraw > std::chrono::milliseconds(tty ? 500 : 30000) ||
                               s + 1 == stepsPerEpoch)) {
        lastDraw = now;
        const double el = std::chrono::duration<double>(now - wall0).count();
        const double rate = samplesThisRun / std::max(el, 1e-9);
        const double remaining =
            double((epochs - epoch - 1) * stepsPerEpoch + (stepsPerEpoch - s - 1)) * B /
            std::max(rate, 1e-9);
        const int width = 24;
        const int filled = static_cast<int>(width * double(s + 1) / double(stepsPerEpoch));
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.resize(width, ' ');
        std::fprintf(stderr, "%sepoch %d/%d [%s] loss %.4f  %.0f samples/s  ETA %s%s",
                     tty ? "\r" : "", epoch + 1, epochs, bar.c_str(), lossSum / double(s + 1), rate,
                     formatDuration(remaining).c_str(), tty ? "   " : "\n");
        std::fflush(stderr);
      }
    }
    const double valLoss = validate();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EpochRecord rec{epoch + 1, lossSum / double(std::max<std::int64_t>(1, stepsPerEpoch)), valLoss,
                    lr, secs};
    st.history.push_back(rec);
    st.epochsDone = epoch + 1;
    const bool improved = valLoss < st.bestVal;
    if (improved) {
      st.bestVal = valLoss;
      st.bestEpoch = epoch + 1;
      st.badEpochs = 0;
      saveModelDir(ema, config, options.outDir);  // best EMA weights = the model
    } else if (++st.badEpochs >= tc.patience) {
      st.stopped = true;
    }
    saveCheckpoint(ckptPath, net, ema, lion, gen, st, configText, threads, static_cast<int>(B));
    writeLog(options.outDir, st);
    if (options.progress) {
      std::fprintf(stderr,
                   "%sepoch %d/%d: train loss %.4f, validation loss (EMA) %.4f%s, %.0f s%s\n",
                   tty ? "\r" : "", epoch + 1, epochs, rec.trainLoss, valLoss,
                   improved ? " (best)" : "", secs, st.stopped ? " - early stop" : "");
    }
  }
  summary.epochsRun = st.epochsDone;
  summary.bestEpoch = st.bestEpoch;
  summary.bestValLoss = st.bestVal;
  summary.earlyStopped = st.stopped;
  summary.history = st.history;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  summary.samplesPerSecond = samplesThisRun / std::max(summary.seconds, 1e-9);
  if (options.exportTorchScript && st.bestEpoch > 0 && (st.stopped || st.epochsDone >= epochs)) {
    exportTorchScript(options.outDir, (fs::path(options.outDir) / "model_ts.pt").string());
  }
  return summary;
}

}  // namespace

TrainSummary trainDiffusion(const DiffusionConfig& config, const io::EventTable& data,
                            const TrainOptions& options) {
  config.validate();
  if (config.train.channelMode == "shared") return trainOne(config, data, options);
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
    std::fprintf(stderr, "nurec train: per-channel model for channel %d -> %s\n", c,
                 o.outDir.c_str());
    last = trainOne(cc, data, o);
  }
  writeTextFileAtomically((fs::path(options.outDir) / "per_channel.yaml").string(),
                          config.toYaml());
  return last;
}

}  // namespace nurec::ml
