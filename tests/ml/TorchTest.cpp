// LibTorch tests of the diffusion reconstruction (docs/ml-methods.md section 10 points 3, 5, 7, 8,
// 9, 11), gradient checks on a tiny double model, a tiny end-to-end training run, bit-exact resume,
// TorchScript export (C++ and Python round trips) and reconstructDiffusion.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "SyntheticEvents.hpp"
#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/ml/Api.hpp"
#include "nurec/ml/Calibration.hpp"
#include "nurec/ml/Export.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/OnnxExport.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Sampler.hpp"
#include "nurec/ml/Schedule.hpp"
#include "nurec/ml/TrainApi.hpp"
#include "nurec/ml/Trainer.hpp"

using namespace nurec;
using namespace nurec::ml;
namespace fs = std::filesystem;

namespace {

torch::Tensor vec(std::vector<double> v) {
  return torch::tensor(v, torch::kFloat64);
}

void expectTensorNear(const torch::Tensor& a, std::vector<double> b, double tol) {
  ASSERT_EQ(a.numel(), static_cast<std::int64_t>(b.size()));
  for (std::size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(a[i].item<double>(), b[i], tol) << i;
}

// Options of the tiny training runs: one thread, no progress bar, into outDir.
enum class Export { Yes, No };
TrainOptions testOptions(const std::string& outDir, Export exportTorchScript = Export::Yes) {
  TrainOptions o;
  o.outDir = outDir;
  o.threads = 1;
  o.progress = false;
  o.exportTorchScript = exportTorchScript == Export::Yes;
  return o;
}

DiffusionConfig tinyConfig() {
  DiffusionConfig c;
  c.encoder.width = 16;
  c.encoder.heads = 2;
  c.encoder.layers = 1;
  c.encoder.knn = 3;
  c.encoder.condDim = 16;
  c.head.width = 32;
  c.head.blocks = 2;
  c.head.timeFrequencies = 8;
  c.train.batchSize = 64;
  c.train.epochs = 3;
  c.train.warmupSteps = 20;
  c.train.lrPeak = 1e-3;
  c.train.emaDecay = 0.9;
  c.sampler.steps = 20;
  return c;
}

// A random batch in the data contract, from the synthetic table.
struct Batch {
  torch::Tensor x, mask, channel;
};
Batch syntheticBatch(std::size_t n, std::uint64_t seed) {
  const io::EventTable t = nurec::ml::testing::makeSyntheticEvents(n, seed);
  const EventData d = buildEventData(t, selectRows(t, false, {}), false, true);
  const auto B = static_cast<std::int64_t>(n);
  Batch b;
  b.x = torch::from_blob(const_cast<float*>(d.x.data()), {B, kNumSlots, kNumFeatures}).clone();
  b.mask = torch::from_blob(const_cast<std::uint8_t*>(d.mask.data()), {B, kNumSlots}, torch::kUInt8)
               .to(torch::kBool);
  b.channel =
      torch::from_blob(const_cast<std::int64_t*>(d.channel.data()), {B}, torch::kInt64).clone();
  return b;
}

}  // namespace

// docs/ml-methods.md §10 test point 5.
TEST(Optimiser, LionReferenceStep) {
  torch::Tensor theta = vec({1, -2, 0.5, 0, 3}).set_requires_grad(true);
  Lion lion({theta}, 0.9, 0.99, 0.01);
  lion.momenta()[0].copy_(vec({0.1, 0.2, -0.3, 0, 0}));
  theta.mutable_grad() = vec({0.3, -0.1, 0, 2, 0});
  lion.step(0.1);
  expectTensorNear(theta.detach(), {0.899, -2.098, 0.5995, -0.1, 2.997}, 1e-12);
  expectTensorNear(lion.momenta()[0], {0.102, 0.197, -0.297, 0.02, 0}, 1e-12);
}

// docs/ml-methods.md §10 test point 7.
TEST(Optimiser, EmaTowardsConstant) {
  torch::nn::Linear model(1, 1), ema(1, 1);
  {
    torch::NoGradGuard ng;
    model->weight.fill_(1);
    model->bias.fill_(1);
    ema->weight.fill_(0);
    ema->bias.fill_(0);
  }
  model->to(torch::kFloat64);
  ema->to(torch::kFloat64);
  const std::map<int, double> expect = {
      {1, 0.001}, {10, 0.0099551198}, {100, 0.0952078529}, {1000, 0.6323045752}};
  for (int n = 1; n <= 1000; ++n) {
    emaUpdate(*ema, *model, 0.999);
    if (expect.count(n)) {
      EXPECT_NEAR(ema->weight.item<double>(), expect.at(n), 1e-10) << n;
    }
  }
}

// docs/ml-methods.md §10 test point 8.
TEST(Optimiser, GlobalNormClipping) {
  torch::Tensor a = torch::zeros({2}, torch::kFloat64).set_requires_grad(true);
  torch::Tensor b = torch::zeros({1}, torch::kFloat64).set_requires_grad(true);
  a.mutable_grad() = vec({3, 0});
  b.mutable_grad() = vec({4});
  EXPECT_NEAR(clipGradNorm({a, b}, 1.0), 5.0, 1e-12);
  expectTensorNear(a.grad(), {0.6, 0}, 1e-6);
  expectTensorNear(b.grad(), {0.8}, 1e-6);
  a.mutable_grad() = vec({0.3, 0});
  b.mutable_grad() = vec({0.4});
  clipGradNorm({a, b}, 1.0);
  expectTensorNear(a.grad(), {0.3, 0}, 0);
  expectTensorNear(b.grad(), {0.4}, 0);
}

// docs/ml-methods.md §10 test point 3 through the tensor sampling loop: n = 4e5 samples of the
// exact Gaussian denoiser.
TEST(Samplers, TensorLoopReproducesExactGaussianMoments) {
  const BoundedCosineSchedule s;
  const double mu = 1.5, sd = 0.4;
  const std::int64_t events = 4000, K = 100;
  std::vector<std::uint64_t> ids(events);
  for (std::int64_t i = 0; i < events; ++i) ids[i] = i;
  struct Case {
    SamplerKind kind;
    int steps;
    double eta;
  };
  for (const Case c : {Case{SamplerKind::Ddim, 100, 0.0}, Case{SamplerKind::Ddim, 100, 1.0},
                       Case{SamplerKind::DpmSolverPp2M, 25, 0.0}}) {
    const SamplerGrid grid = makeSamplerGrid(s, c.kind, c.steps, c.eta);
    const Moments exact = exactGaussianSamplerMoments(grid, mu, sd);
    const VelocityFn fn = [&](const torch::Tensor& z, int i) {
      const double a = grid.steps[i].alpha, sg = grid.steps[i].sigma;
      const double p = a * sd * sd / (a * a * sd * sd + sg * sg);
      const torch::Tensor xhat = mu + p * (z - a * mu);
      return (a * z - xhat) / sg;
    };
    const torch::Tensor x = sampleCandidates(grid, fn, ids, K, 1, 42, torch::kFloat64);
    const double n = double(events * K);
    const double mean = x.mean().item<double>(), var = x.var().item<double>();
    EXPECT_NEAR(mean, exact.mean, 4 * std::sqrt(exact.variance / n)) << c.steps << " " << c.eta;
    EXPECT_NEAR(var / exact.variance, 1.0, 0.01) << c.steps << " " << c.eta;
    // Per-event noise streams: an event's samples do not depend on the batch it is in.
    const torch::Tensor sub =
        sampleCandidates(grid, fn, {ids[17], ids[3]}, K, 1, 42, torch::kFloat64);
    EXPECT_TRUE(torch::equal(sub[0], x[17]));
    EXPECT_TRUE(torch::equal(sub[1], x[3]));
  }
}

// docs/ml-methods.md §10 test point 9: padding and permutation invariance, kNN periodicity, FLOP
// count.
TEST(Encoder, PaddingPermutationAndPeriodicity) {
  torch::manual_seed(1);
  DiffusionConfig cfg;
  cfg.encoder.layerScaleInit = 0.5;  // make the layers matter
  DiffusionNet net = makeNet(cfg);
  torch::NoGradGuard ng;
  Batch b = syntheticBatch(32, 5);
  const torch::Tensor ref = net->encode(b.x, b.mask, b.channel);
  // Garbage (including NaN) in padded slots: bitwise identical.
  torch::Tensor xg = b.x.clone();
  const torch::Tensor pad = b.mask.logical_not().unsqueeze(-1).expand_as(xg);
  xg.masked_scatter_(pad, torch::randn({pad.sum().item<std::int64_t>()}) * 100);
  xg.index_put_({0, 9 - 1, 0}, b.mask[0][8].item<bool>() ? xg[0][8][0] : torch::tensor(NAN));
  EXPECT_TRUE(torch::equal(net->encode(xg, b.mask, b.channel), ref));
  // Extra padding slots.
  const torch::Tensor xp = torch::cat({b.x, torch::zeros({32, 3, kNumFeatures})}, 1);
  const torch::Tensor mp = torch::cat({b.mask, torch::zeros({32, 3}, torch::kBool)}, 1);
  EXPECT_TRUE(torch::allclose(net->encode(xp, mp, b.channel), ref, 1e-5, 1e-6));
  // Permutation of the slots (objects keep their features and validity).
  const torch::Tensor perm = torch::tensor({9, 3, 7, 0, 5, 1, 8, 2, 6, 4}, torch::kInt64);
  const torch::Tensor xq = b.x.index_select(1, perm), mq = b.mask.index_select(1, perm);
  EXPECT_TRUE(torch::allclose(net->encode(xq, mq, b.channel), ref, 1e-4, 1e-5));
  // kNN unchanged under phi -> phi + 2 pi.
  torch::Tensor xs = b.x.clone();
  xs.select(2, feat::phi).add_(2 * M_PI);
  auto [i1, v1] = knnNeighbours(b.x, b.mask, 5);
  auto [i2, v2] = knnNeighbours(xs, b.mask, 5);
  EXPECT_TRUE(torch::equal(v1, v2));
  EXPECT_TRUE(torch::equal(i1.masked_select(v1), i2.masked_select(v2)));
  // FLOPs of one event with P = 10 (docs/ml-methods.md section 2 formula).
  for (auto [width, expected] : {std::pair<int, std::int64_t>{64, 4089344}, {128, 15420416}}) {
    DiffusionConfig c2;
    c2.encoder.width = width;
    c2.encoder.condDim = width;  // the section 2 numbers use Dc = D
    DiffusionNet n2 = makeNet(c2);
    FlopCounter fc;
    n2->encode(b.x.narrow(0, 0, 1), b.mask.narrow(0, 0, 1), b.channel.narrow(0, 0, 1), &fc);
    EXPECT_EQ(fc.encoderTotal(), expected) << width;
  }
}

// Gradients of the whole network against central finite differences, in double precision.
TEST(Network, GradientCheckTinyDoubleModel) {
  torch::manual_seed(3);
  DiffusionConfig cfg = tinyConfig();
  cfg.encoder.width = 8;
  cfg.encoder.condDim = 8;
  cfg.encoder.layers = 2;
  cfg.encoder.layerScaleInit = 1.0;
  cfg.head.width = 8;
  DiffusionNet net = makeNet(cfg);
  {
    torch::NoGradGuard ng;
    for (auto& p : net->parameters()) {
      if (p.abs().sum().item<double>() == 0) p.normal_(0, 0.3);  // zero-initialised branches
    }
  }
  net->to(torch::kFloat64);
  Batch b = syntheticBatch(6, 9);
  const torch::Tensor x = b.x.to(torch::kFloat64);
  const torch::Tensor z = torch::randn({6, kNumTargets}, torch::kFloat64);
  const torch::Tensor t = torch::rand({6}, torch::kFloat64);
  const torch::Tensor proj = torch::randn({6, kNumTargets}, torch::kFloat64);
  auto loss = [&] { return (net->forward(x, b.mask, b.channel, z, t) * proj).sum(); };
  net->zero_grad();
  loss().backward();
  const double h = 1e-6;
  double worst = 0;
  torch::NoGradGuard ng;
  for (auto& item : net->named_parameters()) {
    torch::Tensor p = item.value();
    const torch::Tensor g = p.grad().clone();
    const std::int64_t n = p.numel();
    for (std::int64_t j : {std::int64_t(0), n / 2, n - 1}) {
      torch::Tensor flat = p.view({-1});
      const double orig = flat[j].item<double>();
      flat[j] = orig + h;
      const double lp = loss().item<double>();
      flat[j] = orig - h;
      const double lm = loss().item<double>();
      flat[j] = orig;
      const double fd = (lp - lm) / (2 * h), ad = g.view({-1})[j].item<double>();
      const double rel = std::abs(fd - ad) / std::max({1.0, std::abs(fd), std::abs(ad)});
      worst = std::max(worst, rel);
      EXPECT_LT(rel, 1e-6) << item.key() << "[" << j << "] fd " << fd << " ad " << ad;
    }
  }
  // Directional derivative along a random direction of all parameters at once.
  std::vector<torch::Tensor> u, g;
  double dot = 0;
  for (auto& p : net->parameters()) {
    u.push_back(torch::randn_like(p));
    dot += (p.grad() * u.back()).sum().item<double>();
  }
  auto shift = [&](double s) {
    auto ps = net->parameters();
    for (std::size_t i = 0; i < ps.size(); ++i) ps[i].add_(u[i], s);
  };
  shift(h);
  const double lp = loss().item<double>();
  shift(-2 * h);
  const double lm = loss().item<double>();
  shift(h);
  EXPECT_LT(std::abs((lp - lm) / (2 * h) - dot) / std::max(1.0, std::abs(dot)), 1e-6);
}

namespace {
// One tiny training run shared by the tests below.
struct TinyRun {
  TempDir dir;
  io::EventTable table = nurec::ml::testing::makeSyntheticEvents(2500, 21);
  TrainSummary summary;
  TinyRun() {
    TrainOptions o = testOptions(dir.file("model"));
    DiffusionConfig c = tinyConfig();
    c.train.batchSize = 32;
    c.train.epochs = 6;
    summary = trainDiffusion(c, table, o);
  }
};
TinyRun& tinyRun() {
  static TinyRun run;
  return run;
}
// Reconstruction with the tiny model: K candidates, a few sampler steps, one thread, no progress.
DiffusionReconstructOptions tinyModelOptions(int candidates, int steps) {
  DiffusionReconstructOptions o;
  o.modelDir = tinyRun().dir.file("model");
  o.candidates = candidates;
  o.steps = steps;
  o.threads = 1;
  o.progress = false;
  return o;
}
}  // namespace

TEST(Training, TinyRunLowersTheLoss) {
  const TrainSummary& s = tinyRun().summary;
  for (const auto& h : s.history)
    std::printf("epoch %d train %.4f val %.4f lr %.2g\n", h.epoch, h.trainLoss, h.valLoss, h.lr);
  ASSERT_EQ(s.history.size(), 6u);
  EXPECT_EQ(s.trainEvents + s.valEvents, 2500u);
  EXPECT_EQ(s.valEvents, 500u);  // index % 5 == 4
  // v-hat = 0 at initialisation gives a loss of about 1 (unit-variance targets).
  EXPECT_LT(s.history.back().valLoss, 0.9);
  EXPECT_LT(s.history.back().valLoss, 0.95 * s.history.front().valLoss);
  for (const char* f :
       {"model.pt", "config.yaml", "checkpoint.pt", "train_log.csv", "model_ts.pt"}) {
    EXPECT_TRUE(fs::exists(fs::path(tinyRun().dir.file("model")) / f)) << f;
  }
  // A second run into the same directory without --resume is refused.
  TrainOptions o = testOptions(tinyRun().dir.file("model"));
  EXPECT_THROW(trainDiffusion(tinyConfig(), tinyRun().table, o), ConfigError);
}

TEST(Training, ResumeIsBitExact) {
  TempDir dir;
  const io::EventTable table = nurec::ml::testing::makeSyntheticEvents(800, 4);
  DiffusionConfig cfg = tinyConfig();
  cfg.train.epochs = 2;
  TrainOptions o = testOptions(dir.file("straight"), Export::No);
  trainDiffusion(cfg, table, o);
  o.outDir = dir.file("killed");
  o.stopAfterEpochs = 1;  // as if killed after the first epoch's checkpoint
  trainDiffusion(cfg, table, o);
  o.stopAfterEpochs = 0;
  o.resume = true;
  const TrainSummary s = trainDiffusion(cfg, table, o);
  EXPECT_EQ(s.epochsRun, 2);
  torch::serialize::InputArchive a, b;
  a.load_from(dir.file("straight") + "/checkpoint.pt");
  b.load_from(dir.file("killed") + "/checkpoint.pt");
  for (const auto& key : a.keys()) {
    torch::Tensor ta, tb;
    if (key == "history" || key == "config" || key == "producer" || key == "data_source" ||
        key == "data_sha256")
      continue;
    a.read(key, ta, true);
    b.read(key, tb, true);
    EXPECT_TRUE(torch::equal(ta, tb)) << key;
  }
  // The saved model reloads with identical weights.
  LoadedModel m1 = loadModelDir(dir.file("straight")), m2 = loadModelDir(dir.file("killed"));
  auto p1 = m1.net->named_parameters(), p2 = m2.net->named_parameters();
  for (const auto& it : p1) EXPECT_TRUE(torch::equal(it.value(), p2[it.key()])) << it.key();
}

// `nurec train --epochs N` ran the schedule over N epochs; the model's config.yaml said the card's
// train.epochs, so retraining from it did not reproduce the model.
TEST(Training, EpochsOverrideIsRecordedInTheModel) {
  TempDir dir;
  const io::EventTable table = nurec::ml::testing::makeSyntheticEvents(400, 5);
  DiffusionConfig cfg = tinyConfig();
  cfg.train.epochs = 3;
  TrainOptions o = testOptions(dir.file("m"), Export::No);
  o.epochsOverride = 1;
  EXPECT_EQ(trainDiffusion(cfg, table, o).epochsRun, 1);
  EXPECT_EQ(loadModelDir(dir.file("m")).config.train.epochs, 1);
}

// docs/ml-methods.md §10 test point 11: the TorchScript export reproduces the C++ outputs, in C++
// and in Python.
TEST(Export, TorchScriptRoundTrip) {
  const std::string modelDir = tinyRun().dir.file("model");
  LoadedModel lm = loadModelDir(modelDir);
  torch::NoGradGuard ng;
  Batch b = syntheticBatch(16, 77);
  const torch::Tensor z = torch::randn({16, 3, kNumTargets});
  const torch::Tensor t = torch::rand({16});
  const torch::Tensor cb = lm.net->encode(b.x, b.mask, b.channel);
  const torch::Tensor ref = lm.net->velocity(cb, lm.net->timeEmbedding(t), z);
  EXPECT_GT(ref.abs().max().item<double>(), 0.0);
  TempDir dir;
  const std::string ts = dir.file("model_ts.pt");
  exportTorchScript(modelDir, ts);
  torch::jit::Module m = torch::jit::load(ts);
  const torch::Tensor out = m.forward({b.x, b.mask, b.channel, z, t}).toTensor();
  EXPECT_TRUE(torch::equal(out, ref)) << (out - ref).abs().max().item<double>();
  // Golden inputs and outputs for Python (torch::pickle_save -> torch.load).
  c10::Dict<std::string, torch::Tensor> golden;
  golden.insert("x", b.x);
  golden.insert("mask", b.mask);
  golden.insert("channel", b.channel);
  golden.insert("z", z);
  golden.insert("t", t);
  golden.insert("v", ref);
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(golden));
  std::ofstream(dir.file("golden.pt"), std::ios::binary).write(bytes.data(), bytes.size());
  const std::string py = NUREC_PYTHON;
  if (!fs::exists(py) || std::system((py + " -c 'import torch' 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << py << " with torch is not available: Python round trip skipped";
  }
  const std::string cmd =
      py + " " NUREC_SOURCE_DIR "/tests/ml/check_export.py " + ts + " " + dir.file("golden.pt");
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// train.target_frame: visible (docs/ml-methods.md section 1, "Target frame"), with the azimuthal
// augmentation that must turn the inputs but not these targets. The toy neutrinos get a transverse
// part of +2 GeV (tau+) and -2 GeV (tau-) along the azimuthal axis e2 of their visible tau: a model
// that learnt the frame reproduces it (rotated targets or a wrong inverse give ~0). The model
// exports to TorchScript with its frame, and model.json of the ONNX export states the frame and the
// visible-frame decoder inputs (docs/onnx.md "Files"; a stand-in exporter writes the ONNX files,
// which tests/cli/onnx_export.sh checks in ONNX Runtime).
TEST(Training, VisibleTargetFrame) {
  auto withTransverseNeutrinos = [](io::EventTable t) {
    auto nu = t.get<double>(io::ds::nuP4, {2, 4});
    const auto vis = t.get<double>(io::ds::recoTauP4, {2, 4});
    for (std::size_t e = 0; e < t.nEvents(); ++e) {
      for (int k = 0; k < 2; ++k) {
        const double* v = &vis[e * 8 + 4 * k];
        const double pt = std::hypot(v[0], v[1]), kick = k == 0 ? 2.0 : -2.0;  // GeV
        nu[e * 8 + 4 * k] += kick * -v[1] / pt;
        nu[e * 8 + 4 * k + 1] += kick * v[0] / pt;
      }
    }
    t.set(io::ds::nuP4, {2, 4}, nu);
    return t;
  };
  TempDir dir;
  const io::EventTable table =
      withTransverseNeutrinos(nurec::ml::testing::makeSyntheticEvents(1500, 31));
  DiffusionConfig c = tinyConfig();
  c.train.targetFrame = "visible";
  c.train.azimuth = "augment";
  c.train.epochs = 4;
  const TrainSummary s = trainDiffusion(c, table, testOptions(dir.file("model")));
  EXPECT_LT(s.history.back().valLoss, 0.9 * s.history.front().valLoss);
  EXPECT_EQ(DiffusionConfig::fromFile(dir.file("model") + "/config.yaml").train.targetFrame,
            "visible");

  io::EventTable t = withTransverseNeutrinos(nurec::ml::testing::makeSyntheticEvents(40, 77));
  DiffusionReconstructOptions o;
  o.modelDir = dir.file("model");
  o.candidates = 8;
  o.threads = 1;
  o.progress = false;
  reconstructDiffusion(t, o);
  const auto st = t.get<std::int8_t>(io::nuStatusName("diffusion"), {});
  const auto p4 = t.get<double>(io::nuP4Name("diffusion"), {2, 4});
  const auto vis = t.get<double>(io::ds::recoTauP4, {2, 4});
  std::vector<double> e2[2];
  for (std::size_t e = 0; e < 40; ++e) {
    ASSERT_EQ(st[e], 0) << e;
    for (int k = 0; k < 2; ++k) {
      const auto y =
          targetFromNeutrino(TargetFrame::Visible, &p4[e * 8 + 4 * k], &vis[e * 8 + 4 * k]);
      e2[k].push_back(y[1]);
    }
  }
  EXPECT_GT(quantile(e2[0], 0.5), 1.0);
  EXPECT_LT(quantile(e2[1], 0.5), -1.0);

  LoadedModel lm = loadModelDir(dir.file("model"));
  const torch::jit::Module ts = buildTorchScript(lm.net, lm.config);
  EXPECT_EQ(ts.attr("target_frame").toStringRef(), "visible");
  OnnxExportOptions onnx;
  onnx.modelDir = dir.file("model");
  onnx.outDir = dir.file("onnx");
  onnx.python = "/bin/sh";
  onnx.script = dir.file("stub_export.sh");  // called as: script MODEL_TS.pt OUT_DIR --opset N
  std::ofstream(onnx.script) << "for f in encoder denoiser decoder; do echo stub > \"$2/$f.onnx\"; "
                                "done\n";
  exportOnnx(onnx);
  const nlohmann::json meta = nlohmann::json::parse(std::ifstream(dir.file("onnx/model.json")));
  EXPECT_EQ(meta.at("target_frame"), "visible");
  std::vector<std::string> decoderInputs;
  for (const auto& in : meta.at("files").at("decoder").at("inputs"))
    decoderInputs.push_back(in.at("name"));
  EXPECT_EQ(decoderInputs, (std::vector<std::string>{"z", "vis"}));
  EXPECT_EQ(meta.at("files").at("decoder").at("inputs").at(1).at("shape"),
            nlohmann::json({"batch", 2, 3}));
  EXPECT_TRUE(meta.at("inputs").contains("vis"));
  EXPECT_FALSE(meta.at("inputs").contains("vis_p"));
  EXPECT_EQ(meta.at("inputs").at("rotation"),
            "none; the decoder takes no rotation (visible target frame)");
}

// inputs.visible_frame (docs/ml-methods.md section 1, "Visible-frame inputs") reaches the network:
// on toy events whose neutrinos lean +-2 GeV along e2 of their visible tau, with the sign shown
// only by a 5 mrad tilt of the candidate's track from its visible tau (as a rho's track points away
// from the rho), the model with the option learns the sign and the same training without it does
// not; the model writes the option into its config and reconstructs with it.
TEST(Training, VisibleFrameInputsReachTheNetwork) {
  auto tiltedTracks = [](io::EventTable t, std::uint64_t seed) {
    auto nu = t.get<double>(io::ds::nuP4, {2, 4});
    auto particles = t.get<float>(io::ds::recoParticles, {kNumSlots, kNumFeatures});
    const auto vis = t.get<double>(io::ds::recoTauP4, {2, 4});
    std::vector<double> sign(t.nEvents() * 2);
    for (std::size_t e = 0; e < t.nEvents(); ++e) {
      Rng rng(seed, e, 0);
      for (int k = 0; k < 2; ++k) {
        const double* v = &vis[e * 8 + 4 * k];
        const double pt = std::hypot(v[0], v[1]), s = rng.uniform() < 0.5 ? -1.0 : 1.0;
        const double e2x = -v[1] / pt, e2y = v[0] / pt;  // z x u / |z x u|
        nu[e * 8 + 4 * k] += 2.0 * s * e2x;              // GeV
        nu[e * 8 + 4 * k + 1] += 2.0 * s * e2y;
        float* f = &particles[(e * kNumSlots + 2 * k) * kNumFeatures];
        const double trackPt = std::exp(double(f[feat::logPt])), eta = f[feat::eta];
        const double p = trackPt * std::cosh(eta), tilt = 0.005 * s * p;
        const double px = trackPt * std::cos(double(f[feat::phi])) + tilt * e2x;
        const double py = trackPt * std::sin(double(f[feat::phi])) + tilt * e2y;
        nurec::ml::testing::fillSlot(f, px, py, trackPt * std::sinh(eta), p, f[feat::charge], 0);
        sign[e * 2 + k] = s;
      }
    }
    t.set(io::ds::nuP4, {2, 4}, nu);
    t.set(io::ds::recoParticles, {kNumSlots, kNumFeatures}, particles);
    return std::make_pair(t, sign);
  };
  TempDir dir;
  const io::EventTable table =
      tiltedTracks(nurec::ml::testing::makeSyntheticEvents(2500, 41), 1).first;
  auto train = [&](bool visibleFrame, const std::string& name) {
    DiffusionConfig c = tinyConfig();
    c.train.targetFrame = "visible";
    c.train.batchSize = 32;
    c.train.epochs = 16;
    c.inputs.visibleFrame = visibleFrame;
    return trainDiffusion(c, table, testOptions(dir.file(name), Export::No)).history.back().valLoss;
  };
  const double without = train(false, "without"), with = train(true, "with");
  std::printf("validation loss without visible-frame inputs %.4f, with %.4f\n", without, with);
  EXPECT_TRUE(DiffusionConfig::fromFile(dir.file("with") + "/config.yaml").inputs.visibleFrame);

  auto [t, sign] = tiltedTracks(nurec::ml::testing::makeSyntheticEvents(60, 78), 2);
  auto leanAlongSign = [&](const std::string& name) {
    io::EventTable a = t;
    DiffusionReconstructOptions o;
    o.modelDir = dir.file(name);
    o.candidates = 8;
    o.threads = 1;
    o.progress = false;
    reconstructDiffusion(a, o);
    const auto p4 = a.get<double>(io::nuP4Name("diffusion"), {2, 4});
    const auto vis = a.get<double>(io::ds::recoTauP4, {2, 4});
    std::vector<double> lean;  // GeV, the nu's e2 component times the true sign
    for (std::size_t e = 0; e < a.nEvents(); ++e)
      for (int k = 0; k < 2; ++k)
        lean.push_back(sign[e * 2 + k] * targetFromNeutrino(TargetFrame::Visible,
                                                            &p4[e * 8 + 4 * k],
                                                            &vis[e * 8 + 4 * k])[1]);
    return quantile(lean, 0.5);
  };
  const double leanWith = leanAlongSign("with"), leanWithout = leanAlongSign("without");
  std::printf("median lean along the true sign: without %.2f GeV, with %.2f GeV\n", leanWithout,
              leanWith);
  EXPECT_GT(leanWith, 1.0);
  EXPECT_LT(leanWithout, 0.5);
  EXPECT_LT(with, without);
}

TEST(Reconstruct, WritesCandidatesIndependentOfBatching) {
  io::EventTable t = nurec::ml::testing::makeSyntheticEvents(40, 123);
  {  // one event without a channel
    auto ch = t.get<std::int8_t>(io::ds::recoChannel, {});
    ch[5] = -1;
    t.set(io::ds::recoChannel, {}, ch);
  }
  DiffusionReconstructOptions o = tinyModelOptions(4, 10);
  o.batchEvents = 64;
  io::EventTable a = t;
  reconstructDiffusion(a, o);
  o.batchEvents = 7;
  io::EventTable b = t;
  reconstructDiffusion(b, o);
  const auto ca = a.get<float>(io::nuCandidatesName("diffusion"), {4, 2, 3});
  const auto cb = b.get<float>(io::nuCandidatesName("diffusion"), {4, 2, 3});
  const auto st = a.get<std::int8_t>(io::nuStatusName("diffusion"), {});
  const auto p4 = a.get<double>(io::nuP4Name("diffusion"), {2, 4});
  for (std::size_t i = 0; i < ca.size(); ++i)
    EXPECT_NEAR(ca[i], cb[i], 1e-3 * (1 + std::abs(ca[i])));
  for (std::size_t e = 0; e < 40; ++e) EXPECT_EQ(st[e], e == 5 ? 1 : 0) << e;
  EXPECT_EQ(p4[5 * 8 + 3], 0.0);
  EXPECT_GT(p4[0 * 8 + 3], 0.0);
  // Per-event m_tautau quantiles over the candidates (docs/data-format.md): ordered, the median is
  // /nu/diffusion/mtautau, and the 84 % quantile is the m of a candidate or between two.
  const auto q = a.get<double>(io::nuMassQuantilesName("diffusion"), {3}, false);
  const auto mass = a.get<double>(io::nuMassName("diffusion"), {});
  const auto vis = a.get<double>(io::ds::recoTauP4, {2, 4});
  for (std::size_t e = 0; e < 40; ++e) {
    if (e == 5) {
      EXPECT_TRUE(std::isnan(q[e * 3])) << e;
      EXPECT_EQ(mass[e], 0.0);
      continue;
    }
    EXPECT_LE(q[e * 3], q[e * 3 + 1]) << e;
    EXPECT_LE(q[e * 3 + 1], q[e * 3 + 2]) << e;
    EXPECT_EQ(mass[e], q[e * 3 + 1]) << e;
    double mMax = 0;
    for (int k = 0; k < 4; ++k) {
      FourVector pair;
      for (int tau = 0; tau < 2; ++tau) {
        const float* n = &ca[((e * 4 + k) * 2 + tau) * 3];
        const double* v = &vis[(e * 2 + tau) * 4];
        pair += FourVector(
            v[0] + n[0], v[1] + n[1], v[2] + n[2],
            v[3] + std::sqrt(double(n[0]) * n[0] + double(n[1]) * n[1] + double(n[2]) * n[2]));
      }
      mMax = std::max(mMax, pair.m());
    }
    EXPECT_LE(q[e * 3 + 2], mMax * (1 + 1e-5)) << e;
  }
  EXPECT_NE(a.stringAttribute("reco_diffusion_config").find("candidates=4"), std::string::npos);
  o.modelDir = "/nonexistent/model";
  EXPECT_THROW(reconstructDiffusion(b, o), InputError);
  o.modelDir = tinyRun().dir.file("model");
  o.selection = "best";
  EXPECT_THROW(reconstructDiffusion(b, o), ConfigError);
}

// What a diffusion reconstruction stored, per event: the point (p4), the K candidates, the mass
// and its quantiles, and the visible taus; the tests below recompute the point from the candidates.
struct StoredDiffusion {
  StoredDiffusion(const io::EventTable& t, std::size_t k)
      : K(k),
        p4(t.get<double>(io::nuP4Name("diffusion"), {2, 4})),
        cands(t.get<float>(io::nuCandidatesName("diffusion"), {k, 2, 3})),
        mass(t.get<double>(io::nuMassName("diffusion"), {})),
        quantiles(t.get<double>(io::nuMassQuantilesName("diffusion"), {3}, false)),
        vis(t.get<double>(io::ds::recoTauP4, {2, 4})) {}
  std::vector<double> candidates(std::size_t e) const {  // float-rounded on disk
    return {cands.begin() + e * K * 6, cands.begin() + (e + 1) * K * 6};
  }
  std::array<double, 8> visible(std::size_t e) const {
    std::array<double, 8> v{};
    std::copy(&vis[e * 8], &vis[e * 8 + 8], v.begin());
    return v;
  }
  double pointMass(std::size_t e) const {  // visible taus + the stored neutrino systems
    FourVector pair;
    for (std::size_t j = e * 8; j < e * 8 + 8; j += 4)
      pair += FourVector(vis[j] + p4[j], vis[j + 1] + p4[j + 1], vis[j + 2] + p4[j + 2],
                         vis[j + 3] + p4[j + 3]);
    return pair.m();
  }
  void expectPoint(std::size_t e, const std::array<double, 6>& expected) const {
    for (int tau = 0; tau < 2; ++tau) {
      for (int j = 0; j < 3; ++j) {
        EXPECT_NEAR(p4[(e * 2 + tau) * 4 + j], expected[3 * tau + j],
                    1e-5 * (1 + std::abs(expected[3 * tau + j])))
            << e;
      }
    }
  }
  std::size_t K;
  std::vector<double> p4;
  std::vector<float> cands;
  std::vector<double> mass, quantiles, vis;
};

// A model whose config.yaml says `sampler: {selection: mass-mode}` is reconstructed with that rule
// unless --selection says otherwise; /nu/diffusion/mtautau is then the mass of the point estimate
// (not the candidates' median), and the point is the rule applied to the candidates (docs/ml.md
// "Mass-mode point estimate").
TEST(Reconstruct, ModelDefaultSelectionMassMode) {
  TempDir dir;
  const fs::path model = dir.file("model");
  fs::copy(tinyRun().dir.file("model"), model);
  DiffusionConfig c = DiffusionConfig::fromFile((model / "config.yaml").string());
  c.sampler.selection = "mass-mode";
  std::ofstream((model / "config.yaml").string()) << c.toYaml();

  const io::EventTable t = nurec::ml::testing::makeSyntheticEvents(30, 77);
  DiffusionReconstructOptions o;
  o.modelDir = model.string();
  o.candidates = 6;
  o.steps = 10;
  o.threads = 1;
  o.progress = false;
  io::EventTable a = t;
  reconstructDiffusion(a, o);
  EXPECT_NE(a.stringAttribute("reco_diffusion_config").find("selection=mass-mode"),
            std::string::npos);
  const StoredDiffusion stored(a, 6);
  int offMedian = 0;
  for (std::size_t e = 0; e < 30; ++e) {
    const double m = stored.pointMass(e);
    EXPECT_NEAR(stored.mass[e], m, 1e-9 * m) << e;
    const auto cands = stored.candidates(e);
    stored.expectPoint(
        e, selectCandidate(SelectionRule::MassMode, cands, cands, stored.visible(e), {}, 0.0));
    offMedian +=
        std::abs(stored.mass[e] - stored.quantiles[e * 3 + 1]) > 1e-6 * stored.quantiles[e * 3 + 1];
  }
  EXPECT_GT(offMedian, 0);  // the rule is in force: not the candidates' median mass
  // An explicit selection wins over the model's.
  o.selection = "median";
  io::EventTable b = t;
  reconstructDiffusion(b, o);
  EXPECT_NE(b.stringAttribute("reco_diffusion_config").find("selection=median"), std::string::npos);
  const auto massB = b.get<double>(io::nuMassName("diffusion"), {});
  const auto qB = b.get<double>(io::nuMassQuantilesName("diffusion"), {3}, false);
  for (std::size_t e = 0; e < 30; ++e) EXPECT_EQ(massB[e], qB[e * 3 + 1]) << e;
}

// A mass hypothesis (docs/ml.md "Mass hypothesis") replaces the selection: the point is the
// Breit-Wigner-weighted per-component median of the stored candidates, the mass its own, the
// quantiles weighted, the hypothesis recorded; --selection with it, or an impossible one, refused.
TEST(Reconstruct, MassHypothesisWeightsTheCandidates) {
  const io::EventTable t = nurec::ml::testing::makeSyntheticEvents(30, 78);
  DiffusionReconstructOptions o = tinyModelOptions(12, 10);
  o.massHypothesis = MassHypothesis{91.1876, 2.4952};
  io::EventTable a = t;
  reconstructDiffusion(a, o);
  EXPECT_NE(a.stringAttribute("reco_diffusion_config")
                .find("selection=weighted-median mass_hypothesis=91.1876,2.4952"),
            std::string::npos);
  const StoredDiffusion stored(a, 12);
  for (std::size_t e = 0; e < 30; ++e) {
    const auto cands = stored.candidates(e);
    const auto masses = candidatePairMasses(cands, stored.visible(e));
    const auto w = massHypothesisWeights(masses, o.massHypothesis);
    stored.expectPoint(e, weightedComponentMedian(cands, w));
    const double m = stored.pointMass(e);
    EXPECT_NEAR(stored.mass[e], m, 1e-9 * m) << e;
    const double q50 = stored.quantiles[e * 3 + 1];
    EXPECT_NEAR(q50, weightedQuantile(masses, w, 0.5), 1e-4 * q50) << e;
  }
  o.selection = "median";
  io::EventTable b = t;
  EXPECT_THROW(reconstructDiffusion(b, o), ConfigError);
  o.selection.clear();
  o.massHypothesis = MassHypothesis{91, -1};
  EXPECT_THROW(reconstructDiffusion(b, o), ConfigError);
}

// The optional inputs (docs/ml-methods.md section 1) reach the network: on events whose track d0
// encodes the neutrino fraction, the same training with impact-parameter inputs ends at a clearly
// lower validation loss than without; the model reconstructs files that have the datasets and
// refuses, naming the dataset, a file that does not.
TEST(Training, ImpactParameterInputsReachTheNetwork) {
  TempDir dir;
  io::EventTable t = nurec::ml::testing::makeSyntheticEvents(2500, 22);
  nurec::ml::testing::addImpactParametersAndActivity(t, 22);
  auto train = [&](bool withInputs, const std::string& name) {
    TrainOptions o = testOptions(dir.file(name));
    DiffusionConfig c = tinyConfig();
    c.train.batchSize = 32;
    c.train.epochs = 16;
    c.inputs.impactParameters = c.inputs.activity = withInputs;
    return trainDiffusion(c, t, o).history.back().valLoss;
  };
  const double without = train(false, "without"), with = train(true, "with");
  std::printf("validation loss without IP inputs %.4f, with %.4f\n", without, with);
  EXPECT_LT(with, 0.85 * without);  // measured: 0.39 vs 0.55 after 16 epochs

  DiffusionReconstructOptions o;
  o.modelDir = dir.file("with");
  o.candidates = 2;
  o.steps = 5;
  o.threads = 1;
  io::EventTable a = nurec::ml::testing::makeSyntheticEvents(30, 5);
  nurec::ml::testing::addImpactParametersAndActivity(a, 5);
  reconstructDiffusion(a, o);
  for (auto s : a.get<std::int8_t>(io::nuStatusName("diffusion"), {})) EXPECT_EQ(s, 0);
  io::EventTable b = nurec::ml::testing::makeSyntheticEvents(30, 5);
  try {
    reconstructDiffusion(b, o);
    FAIL() << "a file without /reco/track_ip was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/reco/track_ip"), std::string::npos) << e.what();
  }
}

// docs/design.md "Determinism": the same seed gives the same output whatever the thread count
// (batches run on one intra-op thread each, in parallel): bit-identical, not just close.
TEST(Reconstruct, BitIdenticalForAnyThreadCount) {
  const io::EventTable t = nurec::ml::testing::makeSyntheticEvents(60, 321);
  DiffusionReconstructOptions o = tinyModelOptions(3, 8);
  o.batchEvents = 16;
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    o.threads = threads;
    io::EventTable a = t;
    reconstructDiffusion(a, o);
    results.push_back(a.get<float>(io::nuCandidatesName("diffusion"), {3, 2, 3}));
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

TEST(Training, PerChannelModels) {
  TempDir dir;
  const io::EventTable table = nurec::ml::testing::makeSyntheticEvents(1400, 8);
  DiffusionConfig cfg = tinyConfig();
  cfg.train.channelMode = "per_channel";
  cfg.train.channels = {0, 3};
  cfg.train.epochs = 1;
  cfg.train.batchSize = 32;
  TrainOptions o = testOptions(dir.file("pc"), Export::No);
  trainDiffusion(cfg, table, o);
  EXPECT_TRUE(fs::exists(dir.file("pc") + "/channel_0/model.pt"));
  EXPECT_TRUE(fs::exists(dir.file("pc") + "/channel_3/model.pt"));
  EXPECT_FALSE(fs::exists(dir.file("pc") + "/channel_1"));
  io::EventTable t = table;
  DiffusionReconstructOptions r;
  r.modelDir = dir.file("pc");
  r.candidates = 2;
  r.steps = 5;
  r.threads = 1;
  reconstructDiffusion(t, r);
  const auto st = t.get<std::int8_t>(io::nuStatusName("diffusion"), {});
  const auto ch = t.get<std::int8_t>(io::ds::recoChannel, {});
  for (std::size_t i = 0; i < t.nEvents(); ++i) {
    EXPECT_EQ(st[i], (ch[i] == 0 || ch[i] == 3) ? 0 : 3) << i;  // 3: no model for the channel
  }
}

// The shipped model (models/ztautau_small): C++ weights and its TorchScript export agree exactly,
// and so does Python's torch.jit.load of the export on the same machine; the shipped golden
// input/output pair, written on another machine, agrees within float rounding (docs/ml.md
// "Network": kernels for other CPUs sum in another order; 1.4e-6 was seen between two CPU
// families). NUREC_UPDATE_GOLDEN=1 rewrites golden.pt (after retraining the model).
TEST(ShippedModel, GoldenRoundTrip) {
  const std::string dir = NUREC_SOURCE_DIR "/models/ztautau_small";
  if (!fs::exists(dir + "/model.pt")) GTEST_SKIP() << "no shipped model in " << dir;
  LoadedModel lm = loadModelDir(dir);
  torch::NoGradGuard ng;
  torch::manual_seed(5);
  Batch b = syntheticBatch(8, 2024);
  const torch::Tensor z = torch::randn({8, 2, kNumTargets});
  const torch::Tensor t = torch::rand({8});
  const torch::Tensor v =
      lm.net->velocity(lm.net->encode(b.x, b.mask, b.channel), lm.net->timeEmbedding(t), z);
  torch::jit::Module m = torch::jit::load(dir + "/model_ts.pt");
  EXPECT_TRUE(torch::equal(m.forward({b.x, b.mask, b.channel, z, t}).toTensor(), v));
  auto writeGolden = [&](const std::string& path) {
    c10::Dict<std::string, torch::Tensor> g;
    g.insert("x", b.x);
    g.insert("mask", b.mask);
    g.insert("channel", b.channel);
    g.insert("z", z);
    g.insert("t", t);
    g.insert("v", v);
    const std::vector<char> bytes = torch::pickle_save(c10::IValue(g));
    std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
  };
  const std::string golden = dir + "/golden.pt";
  const char* update = std::getenv("NUREC_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") writeGolden(golden);
  ASSERT_TRUE(fs::exists(golden)) << golden;
  std::ifstream in(golden, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  const auto g = torch::pickle_load(bytes).toGenericDict();
  EXPECT_TRUE(torch::equal(g.at("x").toTensor(), b.x));  // the inputs are exact on every machine
  const torch::Tensor shipped = g.at("v").toTensor();
  EXPECT_TRUE(torch::allclose(shipped, v, /*rtol=*/1e-5, /*atol=*/1e-5))
      << "max |golden - c++| = " << (shipped - v).abs().max().item<double>();
  const std::string py = NUREC_PYTHON;
  if (!fs::exists(py) || std::system((py + " -c 'import torch' 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << py << " with torch is not available: Python round trip skipped";
  }
  // Python against this machine's C++ outputs: exact.
  TempDir tmp;
  const std::string here = tmp.file("golden_here.pt");
  writeGolden(here);
  const std::string cmd =
      py + " " NUREC_SOURCE_DIR "/tests/ml/check_export.py " + dir + "/model_ts.pt " + here;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// ---- Reliability (docs/reliability.md; issues 20 and 22) ----

namespace {

bool anyTemporaryIn(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp") != std::string::npos) return true;
  }
  return false;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

void copyDir(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

// Flips `n` bytes in the middle of a file, as a damaged disk or transfer would.
void damage(const std::string& path, std::size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto size = static_cast<std::size_t>(fs::file_size(path));
  const std::size_t offset = size / 2;
  std::vector<char> buf(n);
  f.seekg(static_cast<std::streamoff>(offset));
  f.read(buf.data(), static_cast<std::streamsize>(n));
  for (char& c : buf) c = static_cast<char>(~c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(buf.data(), static_cast<std::streamsize>(n));
}

// A file-size limit for this process (as `ulimit -f`), with SIGXFSZ ignored so that writes fail
// with EFBIG as on a full disk; restored at the end of the scope.
struct FileSizeLimit {
  rlimit old{};
  void (*oldHandler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old);
    oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit r = old;
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, oldHandler);
  }
};

}  // namespace

// Issue 22.4: 256 flipped bytes inside model.pt (the zip CRC is bad) loaded, and `reconstruct`
// gave wrong neutrinos with exit 0.
TEST(Reliability, DamagedModelIsRefused) {
  TempDir dir;
  const std::string good = dir.file("good"), bad = dir.file("bad");
  copyDir(tinyRun().dir.file("model"), good);
  copyDir(good, bad);
  EXPECT_NO_THROW(loadModelDir(good));
  damage(bad + "/model.pt", 256);
  const std::string msg = errorOf([&] { loadModelDir(bad); });
  EXPECT_NE(msg.find(bad + "/model.pt: damaged"), std::string::npos) << msg;
  EXPECT_THROW(loadModelDir(bad), InputError);
  io::EventTable t = nurec::ml::testing::makeSyntheticEvents(10, 5);
  DiffusionReconstructOptions o;
  o.modelDir = bad;
  o.steps = 2;
  o.threads = 1;
  EXPECT_THROW(reconstructDiffusion(t, o), InputError);
  // Truncated (a copy cut short) and empty files.
  fs::resize_file(bad + "/model.pt", fs::file_size(good + "/model.pt") - 100);
  EXPECT_THROW(loadModelDir(bad), InputError);
  fs::resize_file(bad + "/model.pt", 0);
  EXPECT_THROW(loadModelDir(bad), InputError);
  // Weights changed inside a well-formed archive: the zip CRCs are fine, the SHA-256 recorded
  // at save time is not.
  {
    LoadedModel lm = loadModelDir(good);
    torch::serialize::OutputArchive a;
    const std::string recorded = weightsChecksum(*lm.net);
    torch::NoGradGuard ng;
    lm.net->named_parameters()["out_b"].add_(1e-3);
    for (const auto& it : lm.net->named_parameters(true)) a.write(it.key(), it.value());
    for (const auto& it : lm.net->named_buffers(true)) a.write(it.key(), it.value(), true);
    a.write(kWeightsChecksumKey, c10::IValue(recorded));
    writeArchive(a, bad + "/model.pt");
  }
  const std::string msg2 = errorOf([&] { loadModelDir(bad); });
  EXPECT_NE(msg2.find("SHA-256 of the weights does not match"), std::string::npos) << msg2;
  // The checkpoint is verified the same way.
  damage(good + "/checkpoint.pt", 256);
  const TrainingSet set = prepareTrainingSet(tinyConfig(), tinyRun().table);
  Trainer trainer(tinyConfig(), set, 1);
  const std::string msg3 =
      errorOf([&] { loadCheckpoint(good + "/checkpoint.pt", trainer, CheckpointMeta{}); });
  EXPECT_NE(msg3.find("checkpoint.pt: damaged"), std::string::npos) << msg3;
}

TEST(Reliability, ParameterCountMatchesTheNetwork) {
  DiffusionConfig withInputs = tinyConfig();
  withInputs.inputs.impactParameters = withInputs.inputs.activity = true;
  for (DiffusionConfig c :
       {tinyConfig(), withInputs, DiffusionConfig{},
        DiffusionConfig::fromFile(NUREC_SOURCE_DIR "/configs/diffusion_ztautau_large.yaml")}) {
    const DiffusionNet net = makeNet(c);
    std::int64_t n = 0;
    for (const auto& p : net->parameters()) n += p.numel();
    EXPECT_EQ(parameterCount(c), n);
  }
}

// Issue 22.6: a learning rate of 1e6 gave NaN losses, no model.pt and exit 0 with a normal
// summary.
TEST(Reliability, DivergingTrainingFails) {
  TempDir dir;
  const io::EventTable table = nurec::ml::testing::makeSyntheticEvents(600, 9);
  DiffusionConfig c = tinyConfig();
  c.train.lrPeak = 1e6;
  c.train.epochs = 2;
  c.train.batchSize = 32;
  TrainOptions o = testOptions(dir.file("model"));
  const std::string msg = errorOf([&] { trainDiffusion(c, table, o); });
  EXPECT_NE(msg.find("training diverged"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no model was written"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir.file("model") + "/model.pt"));
  EXPECT_THROW(trainDiffusion(c, table, o), TrainingDiverged);  // --out holds no model yet
}

// The skipped-step budget (train.max_skipped_steps), driven through the Trainer directly: a NaN
// weight makes every step non-finite; the EMA model stays finite because no update is applied.
TEST(Reliability, NonFiniteStepsAreSkippedWithinTheBudget) {
  const io::EventTable table = nurec::ml::testing::makeSyntheticEvents(600, 10);
  DiffusionConfig c = tinyConfig();
  c.train.batchSize = 32;
  const TrainingSet set = prepareTrainingSet(c, table);
  const std::int64_t stepsPerEpoch = set.nTrain / 32;
  {
    c.train.maxSkippedSteps = 0;
    Trainer t(c, set, 1);
    torch::NoGradGuard ng;
    t.net->named_parameters()["out_b"].fill_(std::nan(""));
    const std::string msg = errorOf([&] { t.runEpoch(false); });
    EXPECT_NE(msg.find("the loss is nan at epoch 1, step 1"), std::string::npos) << msg;
  }
  {
    c.train.maxSkippedSteps = static_cast<int>(stepsPerEpoch);
    Trainer t(c, set, 1);
    torch::NoGradGuard ng;
    t.net->named_parameters()["out_b"].fill_(std::nan(""));
    const Trainer::EpochResult r = t.runEpoch(false);
    EXPECT_EQ(t.state.skippedSteps, stepsPerEpoch);
    EXPECT_TRUE(std::isfinite(r.record.valLoss));
  }
}

// Issue 22.7 and 22.12: `train --out` into an existing model directory overwrote it; --resume
// without a checkpoint started afresh.
TEST(Reliability, OutputDirectoryRules) {
  TempDir dir;
  const std::string shipped = dir.file("shipped");
  fs::create_directories(shipped + "/channel_2");
  for (const char* f : {"config.yaml", "model.pt", "MODEL_CARD.md", "golden.pt", "train_log.csv",
                        "model_ts.pt", "model.pt.tmp12345", "channel_2/model.pt"}) {
    std::ofstream(shipped + "/" + f) << "x";
  }
  const std::string msg = errorOf([&] { prepareOutputDirectory(shipped, false, false); });
  EXPECT_NE(msg.find("already holds a model"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--force"), std::string::npos) << msg;
  EXPECT_THROW(prepareOutputDirectory(shipped, true, false), ConfigError);  // no checkpoint
  EXPECT_THROW(prepareOutputDirectory(shipped, true, true), ConfigError);
  // Someone else's file: nothing is removed, even with --force.
  std::ofstream(shipped + "/notes.txt") << "mine";
  const std::string foreign = errorOf([&] { prepareOutputDirectory(shipped, false, true); });
  EXPECT_NE(foreign.find("notes.txt"), std::string::npos) << foreign;
  EXPECT_TRUE(fs::exists(shipped + "/MODEL_CARD.md"));
  fs::remove(shipped + "/notes.txt");
  prepareOutputDirectory(shipped, false, true);
  EXPECT_TRUE(fs::is_empty(shipped));
  // Temporaries of a killed run alone do not make a directory taken; they are removed.
  std::ofstream(shipped + "/checkpoint.pt.tmp.999") << "x";
  std::ofstream(shipped + "/model.pt.tmp998") << "x";
  prepareOutputDirectory(shipped, false, false);
  EXPECT_TRUE(fs::is_empty(shipped));
  // Empty and new directories are fine; a file is not a directory.
  prepareOutputDirectory(shipped, false, false);
  prepareOutputDirectory(dir.file("new/deeper"), false, false);
  EXPECT_TRUE(fs::is_directory(dir.file("new/deeper")));
  std::ofstream(dir.file("file")) << "x";
  EXPECT_THROW(prepareOutputDirectory(dir.file("file"), false, true), ConfigError);
}

// Issue 22.7 end to end: --force replaces a model directory and removes the stale model card.
TEST(Reliability, ForceReplacesAModelDirectory) {
  TempDir dir;
  const std::string out = dir.file("model");
  copyDir(tinyRun().dir.file("model"), out);
  std::ofstream(out + "/MODEL_CARD.md") << "old card";
  std::ofstream(out + "/golden.pt") << "old golden";
  DiffusionConfig c = tinyConfig();
  c.train.epochs = 1;
  c.train.batchSize = 32;
  TrainOptions o = testOptions(out, Export::No);
  const io::EventTable table = nurec::ml::testing::makeSyntheticEvents(400, 12);
  EXPECT_THROW(trainDiffusion(c, table, o), ConfigError);
  o.force = true;
  const TrainSummary s = trainDiffusion(c, table, o);
  EXPECT_EQ(s.epochsRun, 1);
  EXPECT_FALSE(fs::exists(out + "/MODEL_CARD.md"));
  EXPECT_FALSE(fs::exists(out + "/golden.pt"));
  EXPECT_FALSE(fs::exists(out + "/model_ts.pt"));  // the old export is gone, no new one asked
  EXPECT_NO_THROW(loadModelDir(out));
}

// Issue 22.12: --resume with different --data continued silently.
TEST(Reliability, ResumeRefusesOtherData) {
  TempDir dir;
  DiffusionConfig c = tinyConfig();
  c.train.epochs = 2;
  c.train.batchSize = 32;
  TrainOptions o = testOptions(dir.file("model"), Export::No);
  o.stopAfterEpochs = 1;
  trainDiffusion(c, nurec::ml::testing::makeSyntheticEvents(400, 13), o);
  o.stopAfterEpochs = 0;
  o.resume = true;
  const std::string msg =
      errorOf([&] { trainDiffusion(c, nurec::ml::testing::makeSyntheticEvents(400, 14), o); });
  EXPECT_NE(msg.find("continues a run on other training data"), std::string::npos) << msg;
  EXPECT_EQ(trainDiffusion(c, nurec::ml::testing::makeSyntheticEvents(400, 13), o).epochsRun, 2);
}

// Issue 20: under a file-size limit `nurec train` aborted (134) with a LibTorch stack trace and
// left model.pt.tmpPID. Every model, checkpoint and export write fails with a nurec::Error naming
// the file, and no temporary stays behind.
TEST(Reliability, WritesSurviveAFileSizeLimit) {
  TempDir dir;
  LoadedModel lm = loadModelDir(tinyRun().dir.file("model"));
  const std::string out = dir.file("out");
  fs::create_directories(out);
  const auto modelBytes = fs::file_size(tinyRun().dir.file("model") + "/model.pt");
  std::string msgModel, msgExport, msgTrain;
  {
    FileSizeLimit limit(modelBytes / 2);
    msgModel = errorOf([&] { saveModelDir(lm.net, lm.config, out); });
    msgExport = errorOf([&] { exportTorchScript(tinyRun().dir.file("model"), out + "/ts.pt"); });
    DiffusionConfig c = tinyConfig();
    c.train.epochs = 1;
    c.train.batchSize = 32;
    TrainOptions o = testOptions(dir.file("train"));
    msgTrain =
        errorOf([&] { trainDiffusion(c, nurec::ml::testing::makeSyntheticEvents(400, 15), o); });
  }
  EXPECT_NE(msgModel.find("cannot write " + out + "/model.pt: write failed (File too large)"),
            std::string::npos)
      << msgModel;
  EXPECT_NE(msgExport.find("cannot write " + out + "/ts.pt"), std::string::npos) << msgExport;
  EXPECT_NE(msgTrain.find("cannot write"), std::string::npos) << msgTrain;
  EXPECT_FALSE(anyTemporaryIn(out));
  EXPECT_FALSE(anyTemporaryIn(dir.file("train")));
  EXPECT_FALSE(fs::exists(out + "/model.pt"));
  // Without the limit the same calls succeed.
  saveModelDir(lm.net, lm.config, out);
  EXPECT_NO_THROW(loadModelDir(out));
}

// Issue 22.12: export-model did not create missing folders.
TEST(Reliability, ExportCreatesMissingFolders) {
  TempDir dir;
  const std::string ts = dir.file("a/b/c/model_ts.pt");
  exportTorchScript(tinyRun().dir.file("model"), ts);
  EXPECT_TRUE(fs::exists(ts));
  EXPECT_NO_THROW(torch::jit::load(ts));
  EXPECT_THROW(exportTorchScript(tinyRun().dir.file("model"), dir.file("a")), ConfigError);
}

// Issues 22.9, 22.11, 22.12: reconstruct options and inputs are checked before any sampling.
TEST(Reliability, ReconstructRefusesBadOptionsAndInputs) {
  const io::EventTable good = nurec::ml::testing::makeSyntheticEvents(20, 16);
  DiffusionReconstructOptions o;
  o.modelDir = tinyRun().dir.file("model");
  o.steps = 3;
  o.threads = 1;
  auto refused = [&](DiffusionReconstructOptions opt, const io::EventTable& t) {
    io::EventTable copy = t;
    return errorOf([&] { reconstructDiffusion(copy, opt); });
  };
  DiffusionReconstructOptions bad = o;
  bad.eta = std::nan("");
  EXPECT_NE(refused(bad, good).find("--eta must be in [0, 1] (got nan)"), std::string::npos);
  bad = o;
  bad.steps = 100000000;
  EXPECT_NE(refused(bad, good).find("--steps must be in [0, 10000]"), std::string::npos);
  bad = o;
  bad.candidates = 100000;
  EXPECT_NE(refused(bad, good).find("--candidates must be in [1, 10000]"), std::string::npos);
  io::EventTable t = good;
  auto ch = t.get<std::int8_t>(io::ds::recoChannel, {});
  ch[2] = 100;
  t.set(io::ds::recoChannel, {}, ch);
  EXPECT_NE(refused(o, t).find("has channel 100"), std::string::npos);
  EXPECT_EQ(refused(o, good), "no error");
}
