// The t tbar unfolding models (src/ml/unfold, docs/ml-unfold.md): run card, the samplers against
// the exact Gaussian denoiser, the coupling block's inverse and log-determinant, the learned
// schedule, the consistency loss, and for each of the seven models: training lowers the
// validation loss, samples have the right shape, depend only on (seed, row), and a killed run
// resumes bit-identically.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/unfold/UnfoldApi.hpp"
#include "nurec/ml/unfold/UnfoldConfig.hpp"
#include "nurec/ml/unfold/UnfoldData.hpp"
#include "nurec/ml/unfold/UnfoldNet.hpp"

using namespace nurec;
using namespace nurec::ml::unfold;
namespace fs = std::filesystem;

namespace {

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

UnfoldConfig tinyConfig(ModelKind kind) {
  UnfoldConfig c;
  c.model = kind;
  c.encoder.width = 16;
  c.encoder.heads = 2;
  c.encoder.layers = 1;
  c.latent.dim = 4;
  c.latent.width = 32;
  c.latent.blocks = 1;
  c.diffusion.width = 32;
  c.diffusion.blocks = 1;
  c.diffusion.timeFrequencies = 4;
  c.flow.blocks = 2;
  c.flow.width = 32;
  c.sampler.steps = 10;
  c.train.epochs = 4;
  c.train.vaeEpochs = 2;
  c.train.batchSize = 64;
  c.train.lr = 3e-3;
  c.train.warmupSteps = 10;
  c.train.emaDecay = 0.5;
  return c;
}

// A t tbar-shaped table whose parton record is a function of the inputs: parton j takes the
// momentum of slot j % 5 (times 50 GeV, the point-cloud scale) plus a fixed offset, with a fixed
// mass and E on shell, so a model can learn it and the consistency loss vanishes on the truth.
io::EventTable syntheticTTbar(std::size_t n, std::uint64_t seed) {
  io::EventTable t(n);
  t.setSource("synthetic t tbar");
  t.setAttribute(io::kProcessAttribute, std::string("ttbar-semilep"));
  std::vector<float> particles(n * kSlots * kFeatures, 0.0f);
  std::vector<std::uint8_t> mask(n * kSlots, 0), pass(n, 1);
  std::vector<double> met(n * 2), sumEt(n), partons(n * kRecordSize);
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(seed, i);
    const int slots = 5 + static_cast<int>(rng.below(3));
    for (int s = 0; s < slots; ++s) {
      float* f = &particles[(i * kSlots + s) * kFeatures];
      for (int k = 3; k < 6; ++k) f[k] = static_cast<float>(rng.normal());
      f[6] = static_cast<float>(std::sqrt(f[3] * f[3] + f[4] * f[4] + f[5] * f[5]) + 0.1);
      f[0] = static_cast<float>(std::log(50 * std::hypot(f[3], f[4]) + 1));
      f[8 + (s % 2)] = 1;
      mask[i * kSlots + s] = 1;
    }
    met[i * 2] = rng.normal(0, 20);
    met[i * 2 + 1] = rng.normal(0, 20);
    sumEt[i] = 300 + 100 * rng.uniform();
    if (i % 7 == 3) pass[i] = 0;
    for (int j = 0; j < kPartons; ++j) {
      const float* f = &particles[(i * kSlots + j % 5) * kFeatures];
      const double mass = 5.0 * j, px = 50 * f[3] + 10, py = 50 * f[4], pz = 50 * f[5] - 5 * j;
      double* p = &partons[i * kRecordSize + j * kComponents];
      p[0] = mass;
      p[1] = std::sqrt(mass * mass + px * px + py * py + pz * pz);
      p[2] = px;
      p[3] = py;
      p[4] = pz;
    }
  }
  t.set("/reco/particles", {std::size_t{kSlots}, std::size_t{kFeatures}}, std::move(particles));
  t.set("/reco/particles_mask", {std::size_t{kSlots}}, std::move(mask));
  t.set("/reco/met", {2}, std::move(met));
  t.set("/reco/sum_et", {}, std::move(sumEt));
  t.set("/reco/pass_sr", {}, std::move(pass));
  t.set("/truth/partons", {std::size_t{kPartons}, std::size_t{kComponents}}, std::move(partons));
  return t;
}

UnfoldTrainOptions quietOptions(const std::string& dir) {
  UnfoldTrainOptions o;
  o.outDir = dir;
  o.progress = false;
  o.threads = 1;
  return o;
}

std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The table with every event turned about the beam axis by its own angle (0.4 + 0.9 row): the
// point cloud's phi, px, py and the MET (the record is not an input and stays).
io::EventTable turnedAboutTheBeam(const io::EventTable& data) {
  io::EventTable t = data;
  auto particles = t.get<float>("/reco/particles", {kSlots, kFeatures});
  auto met = t.get<double>("/reco/met", {2});
  const auto mask = t.get<std::uint8_t>("/reco/particles_mask", {kSlots});
  for (std::size_t i = 0; i < t.nEvents(); ++i) {
    const double a = 0.4 + 0.9 * static_cast<double>(i), c = std::cos(a), s = std::sin(a);
    for (int slot = 0; slot < kSlots; ++slot) {
      if (!mask[i * kSlots + slot]) continue;
      float* f = &particles[(i * kSlots + slot) * kFeatures];
      const double x = f[3], y = f[4];
      f[3] = static_cast<float>(c * x - s * y);
      f[4] = static_cast<float>(s * x + c * y);
      f[2] = static_cast<float>(std::atan2(f[4], f[3]));
    }
    const double x = met[i * 2], y = met[i * 2 + 1];
    met[i * 2] = c * x - s * y;
    met[i * 2 + 1] = s * x + c * y;
  }
  t.set("/reco/particles", {std::size_t{kSlots}, std::size_t{kFeatures}}, std::move(particles));
  t.set("/reco/met", {2}, std::move(met));
  return t;
}

}  // namespace

TEST(UnfoldConfig, RoundTripsAndRefusesMistakes) {
  for (const auto& name : modelKindNames()) {
    UnfoldConfig c = tinyConfig(modelKindFromName(name));
    c.loss.consistency = 0.25;
    c.diffusion.learnedSchedule = false;
    c.target.wDaughters = "pt_ordered";
    c.sampler.decoder = "sample";
    c.train.azimuth = "canonical";
    const UnfoldConfig back = UnfoldConfig::fromYaml(c.toYaml(), "card");
    EXPECT_EQ(back.toYaml(), c.toYaml()) << name;
    EXPECT_TRUE(isUnfoldRunCard(c.toYaml()));
  }
  EXPECT_FALSE(isUnfoldRunCard("encoder:\n  width: 64\n"));
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("model: vlad\n", "c.yaml");
            }).find("model must be one of vld"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("model: vld\nlatent:\n  dims: 3\n", "c.yaml");
            }).find("c.yaml: latent: unknown key 'dims'"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("model: vld\nencoder:\n  width: 10\n  heads: 3\n", "c.yaml");
            }).find("multiple of encoder.heads"),
            std::string::npos);
  // ldm needs a VAE stage and a diffusion stage.
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("model: ldm\ntrain:\n  epochs: 3\n  vae_epochs: 3\n",
                                     "c.yaml");
            }).find("train.vae_epochs must be in [1, 2]"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("model: vdm\nsampler:\n  name: euler\n", "c");
            }).find("'pndm' or 'ddim'"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("model: vld\ntarget:\n  w_daughters: sorted\n", "c");
            }).find("target.w_daughters must be 'as_generated' or 'pt_ordered' (got 'sorted')"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("model: vld\ntrain:\n  azimuth: augment\n", "c");
            }).find("train.azimuth must be 'none' or 'canonical' (got 'augment')"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              UnfoldConfig::fromYaml("encoder:\n  width: 8\n", "c.yaml");
            }).find("needs a top-level 'model:'"),
            std::string::npos);
}

// The exact epsilon of x ~ N(mu, s^2) at log-SNR gamma: the sampler must map N(0, 1) at t = 1 to
// N(mu, s^2 + exp(gamma_0)) at t = 0 (docs/ml-unfold.md "Sampling"); PNDM gets there in fewer
// steps than DDIM.
TEST(UnfoldSampler, ExactGaussianDenoiserGivesTheDataDistribution) {
  const double mu = 1.5, s = 0.4, g0 = -8, g1 = 9;
  auto run = [&](int steps, bool pndm) {
    std::vector<double> gamma(steps + 1);
    for (int i = 0; i <= steps; ++i) gamma[i] = g1 + (g0 - g1) * i / steps;  // t_i = 1 - i/N
    const EpsFn eps = [&](const torch::Tensor& z, int i) {
      const double a = std::sqrt(1 / (1 + std::exp(gamma[i]))),
                   sg = std::sqrt(1 / (1 + std::exp(-gamma[i])));
      const torch::Tensor mean = mu + a * s * s * (z - a * mu) / (a * a * s * s + sg * sg);
      return (z - a * mean) / sg;
    };
    at::Generator gen = at::detail::createCPUGenerator(5);
    const torch::Tensor z1 = torch::randn({200000, 1}, gen, torch::kFloat64);
    const torch::Tensor x = sampleEpsilonOde(gamma, eps, z1, pndm) * std::sqrt(1 + std::exp(g0));
    return std::pair{x.mean().item<double>(), x.std().item<double>()};
  };
  const double target = std::sqrt(s * s + std::exp(g0));
  const auto [m50, s50] = run(50, true);
  EXPECT_NEAR(m50, mu, 0.01);
  EXPECT_NEAR(s50, target, 0.01);
  const auto [mP, sP] = run(8, true);
  const auto [mD, sD] = run(8, false);
  EXPECT_LT(std::abs(sP - target), std::abs(sD - target));
  EXPECT_NEAR(mP, mu, 0.02);
  EXPECT_NEAR(mD, mu, 0.02);
}

TEST(UnfoldNet, CouplingBlockInvertsAndItsLogDeterminantIsExact) {
  torch::manual_seed(3);
  CouplingBlock block(5, 3, 8, 2.0, 11);
  {
    // Leave the identity start so that the test sees a real coupling.
    torch::NoGradGuard guard;
    for (auto& p : block->parameters()) p.add_(0.3 * torch::randn_like(p));
  }
  const torch::Tensor x = torch::randn({4, 5}), c = torch::randn({4, 3});
  const auto [y, logDet] = block->forward(x, c);
  EXPECT_LT((block->inverse(y, c) - x).abs().max().item<double>(), 1e-5);
  for (int e = 0; e < 4; ++e) {
    const torch::Tensor xe = x[e].clone().requires_grad_(true);
    std::vector<torch::Tensor> rows;
    const torch::Tensor ye = block->forward(xe.unsqueeze(0), c[e].unsqueeze(0)).first.squeeze(0);
    for (int i = 0; i < 5; ++i) rows.push_back(torch::autograd::grad({ye[i]}, {xe}, {}, true)[0]);
    const double expected = std::get<1>(torch::slogdet(torch::stack(rows))).item<double>();
    EXPECT_NEAR(logDet[e].item<double>(), expected, 1e-4) << e;
  }
}

TEST(UnfoldNet, LearnedScheduleIsMonotoneBetweenItsEnds) {
  torch::manual_seed(4);
  LogSnrSchedule schedule(-7, 6, true);
  const torch::Tensor g = schedule->forward(torch::linspace(0, 1, 101));
  EXPECT_NEAR(g[0].item<double>(), -7, 1e-5);
  EXPECT_NEAR(g[100].item<double>(), 6, 1e-5);
  EXPECT_TRUE((g.narrow(0, 1, 100) > g.narrow(0, 0, 100)).all().item<bool>());
  EXPECT_EQ(schedule->shapeParameters().size(), 5u);
  LogSnrSchedule linear(-7, 6, false);
  EXPECT_NEAR(linear->forward(torch::tensor({0.5f}))[0].item<double>(), -0.5, 1e-6);
  EXPECT_TRUE(linear->shapeParameters().empty());
}

TEST(UnfoldNet, ConsistencyVanishesOnShellAndGrowsOffShell) {
  const io::EventTable t = syntheticTTbar(50, 1);
  const EventTensors e = selectedEvents(t, 0, true);
  UnfoldModel model(tinyConfig(ModelKind::Vdm));
  const torch::Tensor mean = e.partons.mean(0), std = e.partons.std(0).clamp_min(1.0);
  model->setNormalisation(mean, std);
  const torch::Tensor x = model->normalise(e.partons);
  EXPECT_LT(model->consistency(x).item<double>(), 1e-8);
  torch::Tensor off = e.partons.clone();
  off.select(1, 1) += 20.0;  // b energy 20 GeV too high
  EXPECT_GT(model->consistency(model->normalise(off)).item<double>(), 1e-4);
}

// docs/ml-unfold.md "Azimuth": the lepton frame puts slot 0 at phi = 0 and changes no invariant;
// the record turns back exactly.
TEST(UnfoldData, LeptonFrameTurnsTheLeptonToPhiZeroAndBack) {
  const EventTensors lab = selectedEvents(turnedAboutTheBeam(syntheticTTbar(300, 5)), 0, true);
  const FramedEvents framed = inLeptonFrame(lab);
  const EventTensors& e = framed.events;
  const auto pt = [](const torch::Tensor& p) {
    return torch::hypot(p.select(2, 3).to(torch::kFloat64), p.select(2, 4).to(torch::kFloat64));
  };
  EXPECT_LT(e.particles.select(1, 0).select(1, 4).abs().max().item<double>(), 1e-6);  // lepton py
  EXPECT_GT(e.particles.select(1, 0).select(1, 3).min().item<double>(), 0.0);         // px > 0
  EXPECT_LT(e.particles.select(1, 0).select(1, 2).abs().max().item<double>(), 1e-6);  // phi
  EXPECT_TRUE(torch::allclose(pt(e.particles), pt(lab.particles), 1e-5, 1e-6));
  // Azimuth of every present slot relative to the lepton's is kept; empty slots stay zero.
  const torch::Tensor phi = e.particles.select(2, 2).to(torch::kFloat64);
  const torch::Tensor labPhi =
      torch::atan2(lab.particles.select(2, 4), lab.particles.select(2, 3)).to(torch::kFloat64);
  const torch::Tensor shift =
      torch::remainder(labPhi - labPhi.select(1, 0).unsqueeze(1) - phi + M_PI, 2 * M_PI) - M_PI;
  EXPECT_LT((shift * lab.mask).abs().max().item<double>(), 1e-5);
  EXPECT_EQ((e.particles * (~lab.mask).unsqueeze(2)).abs().max().item<double>(), 0.0);
  for (int f : {0, 1, 5, 6, 7, 8, 9, 10, 11}) {
    EXPECT_TRUE(torch::equal(e.particles.select(2, f), lab.particles.select(2, f))) << f;
  }
  EXPECT_TRUE(torch::equal(e.mask, lab.mask));
  EXPECT_TRUE(torch::equal(e.global.select(1, 2), lab.global.select(1, 2)));  // sum E_T
  EXPECT_TRUE(torch::allclose(e.global.narrow(1, 0, 2).norm(2, 1),
                              lab.global.narrow(1, 0, 2).norm(2, 1), 1e-5, 1e-6));
  // The record: M, E, pz untouched, (px, py) turned; turning back gives the lab record.
  const torch::Tensor rec = e.partons.view({-1, kPartons, kComponents});
  const torch::Tensor labRec = lab.partons.view({-1, kPartons, kComponents});
  for (int c : {0, 1, 4}) EXPECT_TRUE(torch::equal(rec.select(2, c), labRec.select(2, c))) << c;
  EXPECT_GT((rec.select(2, 2) - labRec.select(2, 2)).abs().max().item<double>(), 10.0);
  EXPECT_TRUE(torch::allclose(rotateRecords(e.partons, -framed.delta), lab.partons, 1e-5, 1e-3));
  // (N, K, 55) records turn per event.
  const torch::Tensor twice = torch::stack({e.partons, e.partons}, 1);
  const torch::Tensor back = rotateRecords(twice, -framed.delta);
  EXPECT_TRUE(torch::allclose(back.select(1, 1), lab.partons, 1e-5, 1e-3));
}

// In the canonical frame the model sees no absolute azimuth, so turning an event about the beam
// turns its samples with it (same seed and rows: same noise); a lab-frame model does not do that.
TEST(UnfoldModels, CanonicalAzimuthSamplesTurnWithTheEvent) {
  const io::EventTable data = syntheticTTbar(600, 21);
  const io::EventTable turned = turnedAboutTheBeam(data);
  const auto pass = data.get<std::uint8_t>("/reco/pass_sr", {});
  for (const char* azimuth : {"canonical", "none"}) {
    SCOPED_TRACE(azimuth);
    TempDir dir;
    UnfoldConfig config = tinyConfig(ModelKind::Vld);
    config.train.epochs = 1;
    config.train.azimuth = azimuth;
    trainUnfold(config, data, quietOptions(dir.file("m")));
    UnfoldReconstructOptions o;
    o.modelDir = dir.file("m");
    o.methodName = "vld";
    o.seed = 3;
    o.threads = 1;
    o.decoder = "sample";
    io::EventTable a = data, b = turned;
    UnfoldReconstructor(o).reconstruct(a, false);
    UnfoldReconstructor(o).reconstruct(b, false);
    const auto pa = a.get<double>("/nu/vld/partons", {kPartons, kComponents});
    const auto pb = b.get<double>("/nu/vld/partons", {kPartons, kComponents});
    double worst = 0;
    for (std::size_t i = 0; i < data.nEvents(); ++i) {
      if (!pass[i]) continue;
      const double angle = 0.4 + 0.9 * static_cast<double>(i), c = std::cos(angle),
                   s = std::sin(angle);
      for (int j = 0; j < kPartons; ++j) {
        const double* x = &pa[i * kRecordSize + j * kComponents];
        const double* y = &pb[i * kRecordSize + j * kComponents];
        const double expected[5] = {x[0], x[1], c * x[2] - s * x[3], s * x[2] + c * x[3], x[4]};
        for (int k = 0; k < kComponents; ++k) worst = std::max(worst, std::abs(y[k] - expected[k]));
      }
    }
    if (std::string(azimuth) == "canonical") {
      EXPECT_LT(worst, 0.01);  // GeV: float rounding of the turned inputs (measured 2e-5)
    } else {
      EXPECT_GT(worst, 1.0);
    }
  }
}

// Every model trains on the synthetic events: the validation loss falls, samples are finite and
// shaped (events, K, 55), the same seed gives the same samples, and an event's samples do not
// depend on the batch it is in (one event alone vs all).
TEST(UnfoldModels, EachModelTrainsAndSamples) {
  const io::EventTable data = syntheticTTbar(1200, 7);
  for (const auto& name : modelKindNames()) {
    SCOPED_TRACE(name);
    TempDir dir;
    const UnfoldConfig config = tinyConfig(modelKindFromName(name));
    const UnfoldTrainSummary s = trainUnfold(config, data, quietOptions(dir.file("m")));
    ASSERT_EQ(s.history.size(), 4u);
    const std::size_t firstCompared = config.model == ModelKind::Ldm ? 2 : 0;  // stage 2 from 3
    EXPECT_LT(s.history.back().valLoss, s.history[firstCompared].valLoss);
    for (const auto& h : s.history) EXPECT_TRUE(std::isfinite(h.valLoss));
    EXPECT_EQ(s.trainEvents + s.valEvents, 1200u - 171u);  // rows 3, 10, ... are not selected

    UnfoldReconstructOptions o;
    o.modelDir = dir.file("m");
    o.methodName = name;
    o.samples = 3;
    o.seed = 9;
    o.threads = 1;
    io::EventTable a = data, b = data, single = data.selectRows({5});
    single.setFirstRow(5);
    UnfoldReconstructor(o).reconstruct(a, false);
    UnfoldReconstructor(o).reconstruct(b, false);
    UnfoldReconstructor(o).reconstruct(single, false);
    const auto pa = a.get<double>("/nu/" + name + "/partons", {kPartons, kComponents});
    const auto pb = b.get<double>("/nu/" + name + "/partons", {kPartons, kComponents});
    const auto ps = single.get<double>("/nu/" + name + "/partons", {kPartons, kComponents});
    const auto status = a.get<std::int8_t>("/nu/" + name + "/status", {});
    EXPECT_EQ(pa, pb);
    EXPECT_EQ(status[3], 2);
    EXPECT_EQ(status[5], 0);
    for (int k = 0; k < kRecordSize; ++k) {
      EXPECT_NEAR(ps[k], pa[5 * kRecordSize + k], 1e-3 * (1 + std::abs(pa[5 * kRecordSize + k])));
    }
    const auto samples = a.get<float>("/nu/" + name + "/samples", {3, kPartons, kComponents});
    EXPECT_EQ(samples.size(), 1200u * 3 * kRecordSize);
    EXPECT_NE(samples[5 * 3 * kRecordSize + 7], samples[5 * 3 * kRecordSize + kRecordSize + 7]);
  }
}

TEST(UnfoldModels, KilledRunResumesBitIdentically) {
  const io::EventTable data = syntheticTTbar(600, 8);
  for (const char* name : {"vld", "ldm"}) {
    SCOPED_TRACE(name);
    TempDir dir;
    const UnfoldConfig config = tinyConfig(modelKindFromName(name));
    trainUnfold(config, data, quietOptions(dir.file("straight")));
    UnfoldTrainOptions killed = quietOptions(dir.file("killed"));
    killed.stopAfterEpochs = 1;
    trainUnfold(config, data, killed);
    killed.stopAfterEpochs = 2;  // crosses ldm's stage boundary
    killed.resume = true;
    trainUnfold(config, data, killed);
    killed.stopAfterEpochs = 0;
    trainUnfold(config, data, killed);
    EXPECT_EQ(fileBytes(dir.file("straight/model.pt")), fileBytes(dir.file("killed/model.pt")));
    EXPECT_EQ(fileBytes(dir.file("straight/train_log.csv")).substr(0, 40),
              fileBytes(dir.file("killed/train_log.csv")).substr(0, 40));
  }
}

// target.w_daughters = pt_ordered (docs/ml-unfold.md "W daughters"): the model stores P(q harder |
// lepton charge) of its training events and its samples are labelled back reproducibly.
TEST(UnfoldModels, PtOrderedTargetsStoreTheLabelProbabilityAndSampleReproducibly) {
  io::EventTable data = syntheticTTbar(1200, 11);
  // Lepton charges, and a truth in which q is the harder daughter in 80 % of the l+ events and
  // 30 % of the l- events.
  auto particles = data.get<float>("/reco/particles", {kSlots, kFeatures});
  auto partons = data.get<double>("/truth/partons", {kPartons, kComponents});
  std::vector<std::size_t> trainRows;
  double expected[2] = {0, 0}, count[2] = {0, 0};
  for (std::size_t i = 0; i < data.nEvents(); ++i) {
    Rng rng(12, i);
    const bool plus = rng.uniform() < 0.5;
    particles[i * kSlots * kFeatures + kLeptonChargeFeature] = plus ? 1.0f : -1.0f;
    double* q = &partons[i * kRecordSize + 2 * kComponents];
    double* qbar = q + kComponents;
    const bool qHarder = std::hypot(q[2], q[3]) >= std::hypot(qbar[2], qbar[3]);
    if (qHarder != (rng.uniform() < (plus ? 0.8 : 0.3))) std::swap_ranges(q, q + kComponents, qbar);
    // Training rows: selected (i % 7 != 3) and not validation (i % 5 != 4).
    if (i % 7 != 3 && i % 5 != 4) {
      const bool harder = std::hypot(q[2], q[3]) >= std::hypot(qbar[2], qbar[3]);
      expected[plus] += harder;
      count[plus] += 1;
    }
  }
  data.set("/reco/particles", {std::size_t{kSlots}, std::size_t{kFeatures}}, particles);
  data.set("/truth/partons", {std::size_t{kPartons}, std::size_t{kComponents}}, partons);
  TempDir dir;
  UnfoldConfig config = tinyConfig(ModelKind::Vld);
  config.train.epochs = 2;
  config.target.wDaughters = "pt_ordered";
  trainUnfold(config, data, quietOptions(dir.file("m")));
  UnfoldModel model(config);
  ml::loadWeights(*model, dir.file("m/model.pt"));
  torch::Tensor stored;
  for (const auto& b : model->named_buffers()) {
    if (b.key() == "q_harder_probability") stored = b.value();
  }
  ASSERT_TRUE(stored.defined());
  EXPECT_NEAR(stored[0].item<double>(), expected[0] / count[0], 1e-6);
  EXPECT_NEAR(stored[1].item<double>(), expected[1] / count[1], 1e-6);
  EXPECT_NEAR(stored[1].item<double>(), 0.8, 0.05);

  UnfoldReconstructOptions o;
  o.modelDir = dir.file("m");
  o.methodName = "vld";
  o.samples = 4;
  o.seed = 3;
  o.threads = 1;
  io::EventTable a = data, b = data;
  UnfoldReconstructor(o).reconstruct(a, false);
  o.threads = 2;
  UnfoldReconstructor(o).reconstruct(b, false);
  EXPECT_EQ(a.get<float>("/nu/vld/samples", {4, kPartons, kComponents}),
            b.get<float>("/nu/vld/samples", {4, kPartons, kComponents}));
}

// sampler.decoder = sample (docs/ml-unfold.md "Sampling"): the same latent as with the mean, plus
// the decoder's Gaussian noise, so (sample - mean) / (sigma x parton std) is standard normal; the
// record's constants (the 11 fixed masses of the synthetic events) keep the mean.
TEST(UnfoldModels, DecoderSamplesAddTheDecodersGaussianToItsMean) {
  const io::EventTable data = syntheticTTbar(1200, 13);
  TempDir dir;
  UnfoldConfig config = tinyConfig(ModelKind::Vld);
  config.train.epochs = 1;
  trainUnfold(config, data, quietOptions(dir.file("m")));
  UnfoldModel model(config);
  ml::loadWeights(*model, dir.file("m/model.pt"));
  torch::Tensor logSigma, partonStd;
  for (const auto& p : model->named_parameters())
    if (p.key() == "decoder_log_sigma") logSigma = p.value();
  for (const auto& b : model->named_buffers())
    if (b.key() == "parton_std") partonStd = b.value();
  ASSERT_TRUE(logSigma.defined() && partonStd.defined());
  // Per component: sigma x parton std in GeV, or 0 for a constant of the record (std at its floor,
  // here the fixed masses), which keeps the mean.
  const std::vector<double> scale = [&] {
    const torch::Tensor s = (torch::exp(logSigma.clamp_min(std::log(0.01))) * partonStd *
                             (partonStd > kMinPartonStdGeV))
                                .to(torch::kFloat64)
                                .contiguous();
    return std::vector<double>(s.data_ptr<double>(), s.data_ptr<double>() + kRecordSize);
  }();

  UnfoldReconstructOptions o;
  o.modelDir = dir.file("m");
  o.methodName = "vld";
  o.seed = 4;
  o.threads = 1;
  io::EventTable mean = data, sample = data;
  UnfoldReconstructor(o).reconstruct(mean, false);
  o.decoder = "sample";
  UnfoldReconstructor(o).reconstruct(sample, false);
  const auto pm = mean.get<double>("/nu/vld/partons", {kPartons, kComponents});
  const auto ps = sample.get<double>("/nu/vld/partons", {kPartons, kComponents});
  const auto pass = data.get<std::uint8_t>("/reco/pass_sr", {});
  double sum = 0, sum2 = 0, n = 0;
  for (std::size_t i = 0; i < pass.size(); ++i) {
    if (!pass[i]) continue;
    for (int c = 0; c < kRecordSize; ++c) {
      if (scale[c] == 0) {
        EXPECT_EQ(ps[i * kRecordSize + c], pm[i * kRecordSize + c]) << c;
        continue;
      }
      const double z = (ps[i * kRecordSize + c] - pm[i * kRecordSize + c]) / scale[c];
      sum += z;
      sum2 += z * z;
      n += 1;
    }
  }
  // 1029 events x 44 varying components: the mean within 5 and the RMS within 3 standard errors.
  EXPECT_EQ(n, 1029 * 44);
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(std::sqrt(sum2 / n), 1.0, 3 * std::sqrt(0.5 / n) + 1e-3);
  o.decoder = "noisy";
  EXPECT_NE(errorOf([&] { UnfoldReconstructor r(o); }).find("--decoder must be 'mean' or 'sample'"),
            std::string::npos);
}

TEST(UnfoldModels, BadInputsAreClearErrors) {
  TempDir dir;
  io::EventTable z = syntheticTTbar(50, 2);
  z.setAttribute(io::kProcessAttribute, std::string("ztautau"));
  EXPECT_NE(errorOf([&] {
              trainUnfold(tinyConfig(ModelKind::Cvae), z, quietOptions(dir.file("a")));
            }).find("the unfolding models read t tbar files"),
            std::string::npos);
  io::EventTable none = syntheticTTbar(50, 2);
  none.set("/reco/pass_sr", {}, std::vector<std::uint8_t>(50, 0));
  EXPECT_NE(errorOf([&] {
              trainUnfold(tinyConfig(ModelKind::Cvae), none, quietOptions(dir.file("b")));
            }).find("no selected event"),
            std::string::npos);
  io::EventTable nan = syntheticTTbar(50, 2);
  auto met = nan.get<double>("/reco/met", {2});
  met[2 * 8] = std::nan("");  // row 8 is selected
  nan.set("/reco/met", {2}, met);
  const std::string nanError =
      errorOf([&] { trainUnfold(tinyConfig(ModelKind::Cvae), nan, quietOptions(dir.file("c"))); });
  EXPECT_NE(nanError.find("/reco/met"), std::string::npos) << nanError;
  // A model of another kind than the method, and a directory without a model.
  trainUnfold(tinyConfig(ModelKind::Cvae), syntheticTTbar(200, 3), quietOptions(dir.file("m")));
  UnfoldReconstructOptions o;
  o.modelDir = dir.file("m");
  o.methodName = "vld";
  EXPECT_NE(errorOf([&] { UnfoldReconstructor r(o); }).find("use --method cvae"),
            std::string::npos);
  o.modelDir = dir.path.string();
  EXPECT_NE(errorOf([&] { UnfoldReconstructor r(o); }).find("does not hold a trained model"),
            std::string::npos);
}
