// Analysers from event files (docs/physics.md sections 2, 6): constructed events with known
// analyser directions, truth and reconstruction paths, the rho polarimeter, leptons and the sign
// conventions.
#include <gtest/gtest.h>

#include <cmath>

#include "EventBuilder.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/Analysers.hpp"
#include "nurec/quantum/ToySampler.hpp"

namespace nurec::quantum {
namespace {

using testing::pionPairEvent;
using testing::randomPair;

io::EventTable truthTable(const std::vector<TruthEvent>& events) {
  io::EventTable table(events.size());
  io::putTruth(table, events);
  table.setSource("constructed");
  return table;
}

// Reco = truth for pi pi events (track = pion, neutrinos = true neutrinos).
void addPerfectReco(io::EventTable& table, const std::vector<TruthEvent>& truth,
                    const std::string& method) {
  std::vector<RecoEvent> reco(truth.size());
  io::NuEstimate nu;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    auto& r = reco[i];
    for (int t = 0; t < 2; ++t) {
      r.tau[t] = truth[i].visible[t];
      r.charged[t] = truth[i].chargedPion[t];
      r.neutral[t] = truth[i].neutralPion[t];
      const int mode = static_cast<int>(truth[i].decayMode[t]);
      r.tauType[t] = mode <= 3 ? static_cast<RecoTauType>(mode) : RecoTauType::None;
    }
    r.channel = channelOfModes(truth[i].decayMode[0], truth[i].decayMode[1]);
    r.passTrigger = r.passSr = true;
    nu.p4.push_back(truth[i].neutrinos);
    nu.status.push_back(0);
  }
  io::putReco(table, reco);
  io::putNu(table, method, nu);
}

TEST(Analysers, PionDirectionsRecoveredExactly) {
  Rng rng(1, 0, streams::quantum);
  std::vector<TruthEvent> events;
  std::vector<std::pair<Vec3, Vec3>> xs;
  for (int i = 0; i < 200; ++i) {
    const Vec3 a = randomUnitVector(rng), b = randomUnitVector(rng);
    events.push_back(pionPairEvent(randomPair(rng), a, b));
    xs.emplace_back(a, b);
  }
  auto table = truthTable(events);
  const auto set = buildAnalysers(table, AnalyserConfig{});
  ASSERT_EQ(set.events.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = set.events[i];
    EXPECT_EQ(e.channel, Channel::PiPi);
    EXPECT_EQ(e.kappaPlus, 1.0);
    EXPECT_EQ(e.kappaMinus, 1.0);
    for (int k = 0; k < 3; ++k) {
      EXPECT_NEAR(e.xPlus[k], xs[i].first[k], 1e-9);
      EXPECT_NEAR(e.xMinus[k], xs[i].second[k], 1e-9);
    }
  }
  // The reconstruction path with perfect neutrinos gives the same analysers.
  addPerfectReco(table, events, "perfect");
  AnalyserConfig cfg;
  cfg.method = "perfect";
  const auto reco = buildAnalysers(table, cfg);
  ASSERT_EQ(reco.events.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i)
    for (int k = 0; k < 3; ++k) {
      EXPECT_NEAR(reco.events[i].xPlus[k], xs[i].first[k], 1e-7);
      EXPECT_NEAR(reco.events[i].xMinus[k], xs[i].second[k], 1e-7);
    }
}

// A direct lab -> tau boost differs from lab -> pair -> tau by a Wigner rotation (section 2): the
// analysers must follow the two-step path. Check on a strongly boosted, non-collinear pair.
TEST(Analysers, TwoStepFramePath) {
  Rng rng(2, 0, streams::quantum);
  testing::PairKinematics kin = randomPair(rng);
  const Vec3 x{0, 1, 0};  // pi+ along r
  const TruthEvent ev = pionPairEvent(kin, x, {1, 0, 0});
  const HelicityBasis basis(ev.tau[0], ev.tau[1]);
  const TauAnalyser a = pionAnalyser(basis, 0, ev.chargedPion[0]);
  EXPECT_NEAR(a.x[kR], 1.0, 1e-9);
  const FourVector direct = ev.chargedPion[0].inRestFrameOf(ev.tau[0]);
  const Vector3 d = basis.components(direct.vec().unit());
  EXPECT_GT(std::abs(d.y - 1.0) + std::abs(d.x) + std::abs(d.z), 1e-6);  // not the same axes
}

// Toy analysers -> constructed events -> file columns -> analysers -> estimator: the state comes
// back.
TEST(Analysers, EndToEndEstimateFromConstructedEvents) {
  ToyConfig toy;
  toy.state.bPlus = {-0.15, 0.05, 0.02};
  toy.state.bMinus = {-0.15, -0.04, 0.03};
  toy.state.c = {{{0.95, 0.02, 0}, {0.02, -0.45, -0.05}, {0, -0.05, 0.45}}};
  toy.nEvents = 20000;
  toy.seed = 4;
  const auto analysers = sampleToy(toy);
  Rng rng(5, 0, streams::quantum);
  std::vector<TruthEvent> events;
  for (const auto& a : analysers)
    events.push_back(pionPairEvent(randomPair(rng), a.xPlus, a.xMinus));
  const auto set = buildAnalysers(truthTable(events), AnalyserConfig{});
  const SpinEstimate est = estimateSpin(set.events);
  const SpinVector t = toVector(toy.state), v = toVector(est.value),
                   e = toVector(est.errorAnalytic);
  for (int k = 0; k < kNumSpinParameters; ++k)
    EXPECT_NEAR(v(k), t(k), 4 * e(k)) << spinParameterName(k);
}

TEST(Analysers, RhoPolarimeterIsUnitForTrueKinematics) {
  Rng rng(6, 0, streams::quantum);
  const double mt = constants::mTau, mc = constants::mPiCharged, mn = constants::mPiNeutral;
  for (int i = 0; i < 500; ++i) {
    // rho of mass Q along u in the tau rest frame, pions back to back in the rho frame.
    const double q = rng.uniform(mc + mn + 0.01, mt - 0.01);
    const Vec3 u = randomUnitVector(rng), w = randomUnitVector(rng);
    const double pRho = (mt * mt - q * q) / (2 * mt);
    const FourVector rho = FourVector::fromMomentumMass(Vector3{u[0], u[1], u[2]} * pRho, q);
    const double ps =
        std::sqrt((q * q - std::pow(mc + mn, 2)) * (q * q - std::pow(mc - mn, 2))) / (2 * q);
    const FourVector piC =
        FourVector::fromMomentumMass(Vector3{w[0], w[1], w[2]} * ps, mc).fromRestFrameOf(rho);
    const FourVector piN =
        FourVector::fromMomentumMass(Vector3{w[0], w[1], w[2]} * -ps, mn).fromRestFrameOf(rho);
    const FourVector nu{-rho.px, -rho.py, -rho.pz, pRho};
    const Vector3 h = rhoPolarimeter(piC, piN, nu);
    EXPECT_NEAR(h.mag(), 1.0, 1e-9) << i;
  }
}

TEST(Analysers, LeptonAnalysingPower) {
  Rng rng(7, 0, streams::quantum);
  const testing::PairKinematics kin = randomPair(rng);
  const HelicityBasis basis(kin.tauPlus, kin.tauMinus);
  for (double x : {0.1, 0.5, 0.9}) {
    const FourVector lep =
        testing::placeInTauFrame(basis, 1, {0, 0, 1}, 0, x * constants::mTau / 2);
    const TauAnalyser a = leptonAnalyser(basis, 1, lep, true);
    EXPECT_NEAR(a.kappa, -(2 * x - 1) / (3 - 2 * x), 1e-9);
    EXPECT_NEAR(a.x[kN], 1.0, 1e-9);
    EXPECT_NEAR(leptonAnalyser(basis, 1, lep, false).kappa, -1.0 / 3.0, 1e-15);
  }
  EXPECT_NEAR(leptonKappa(0.9), -0.6667, 1e-4);  // docs/physics.md test point 19
}

TEST(Analysers, ChannelsAndRhoVisibleKappa) {
  EXPECT_EQ(channelOfModes(DecayMode::Electron, DecayMode::Pi), Channel::EPi);
  EXPECT_EQ(channelOfModes(DecayMode::Rho, DecayMode::Muon), Channel::MuRho);
  EXPECT_EQ(channelOfModes(DecayMode::Rho, DecayMode::Pi), Channel::PiRho);
  EXPECT_EQ(channelOfModes(DecayMode::Electron, DecayMode::Muon), Channel::None);
  EXPECT_EQ(channelOfModes(DecayMode::Other, DecayMode::Pi), Channel::None);
  Rng rng(8, 0, streams::quantum);
  const testing::PairKinematics kin = randomPair(rng);
  const HelicityBasis basis(kin.tauPlus, kin.tauMinus);
  const double mt = constants::mTau, m = constants::mRho;
  const FourVector vis =
      testing::placeInTauFrame(basis, 0, {1, 0, 0}, m, (mt * mt + m * m) / (2 * mt));
  EXPECT_NEAR(rhoVisibleAnalyser(basis, 0, vis).kappa, 0.4485, 1e-3);  // section 6 at m_rho
}

TEST(Analysers, SelectionFailuresAndErrors) {
  Rng rng(9, 0, streams::quantum);
  std::vector<TruthEvent> events;
  for (int i = 0; i < 10; ++i)
    events.push_back(pionPairEvent(randomPair(rng), {1, 0, 0}, {0, 1, 0}));
  events[3].decayMode[0] = DecayMode::Other;
  auto table = truthTable(events);
  addPerfectReco(table, events, "perfect");
  // status != 0 and pass_sr = 0 rows are not used.
  auto nu = io::getNu(table, "perfect");
  nu.status[5] = 2;
  io::putNu(table, "perfect", nu);
  auto sr = table.get<std::uint8_t>(io::ds::recoPassSr, {});
  sr[7] = 0;
  table.set(io::ds::recoPassSr, {}, sr);
  AnalyserConfig cfg;
  cfg.method = "perfect";
  const auto set = buildAnalysers(table, cfg);
  EXPECT_EQ(set.nInput, 10u);
  EXPECT_EQ(set.nSelected, 9u);
  EXPECT_EQ(set.nFailed, 1u);
  EXPECT_EQ(set.nNoAnalyser, 1u);  // row 3: its reco channel is None
  EXPECT_EQ(set.events.size(), 7u);
  cfg.method = "mmc";
  EXPECT_THROW(buildAnalysers(table, cfg), InputError);
  cfg.method = "perfect";
  cfg.lepton = LeptonAnalyser::Neutrino;
  EXPECT_THROW(buildAnalysers(table, cfg), ConfigError);
  io::EventTable empty(3);
  EXPECT_THROW(buildAnalysers(empty, AnalyserConfig{}), InputError);
}

// Posterior mean (docs/quantum.md "Estimators that use the diffusion posterior"): candidates equal
// to the true neutrinos give the single-candidate terms; a non-finite candidate is skipped; a file
// without candidates is an error naming the dataset.
TEST(Analysers, PosteriorMeanAveragesCandidateTerms) {
  Rng rng(11, 0, streams::quantum);
  std::vector<TruthEvent> events;
  for (int i = 0; i < 50; ++i)
    events.push_back(pionPairEvent(randomPair(rng), randomUnitVector(rng), randomUnitVector(rng)));
  auto table = truthTable(events);
  addPerfectReco(table, events, "diffusion");
  AnalyserConfig cfg;
  cfg.method = "diffusion";
  cfg.candidates = CandidateUse::PosteriorMean;
  EXPECT_THROW(buildAnalysers(table, cfg), InputError);
  const int nCand = 3;
  std::vector<float> cand;
  for (const auto& ev : events)
    for (int k = 0; k < nCand; ++k)
      for (int t = 0; t < 2; ++t) {
        const bool poison = (k == 1 && t == 0);  // one unusable candidate per event
        for (double c : {ev.neutrinos[t].px, ev.neutrinos[t].py, ev.neutrinos[t].pz})
          cand.push_back(poison ? NAN : static_cast<float>(c));
      }
  table.set<float>("/nu/diffusion/candidates", {nCand, 2, 3}, cand);
  const auto post = buildAnalysers(table, cfg);
  cfg.candidates = CandidateUse::Estimate;
  const auto single = buildAnalysers(table, cfg);
  ASSERT_EQ(post.events.size(), events.size());
  ASSERT_EQ(single.events.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    ASSERT_TRUE(post.events[i].averaged.has_value());
    const AnalyserTerms a = *post.events[i].averaged, b = termsOf(single.events[i]);
    for (int r = 0; r < 3; ++r) {
      EXPECT_NEAR(a.kxPlus[r], b.kxPlus[r], 1e-5);
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(a.kkxx[r][c], b.kkxx[r][c], 1e-5);
    }
    EXPECT_NEAR(a.w2, 1.0, 1e-12);
  }
}

// `--candidates auto` (the default of spin and calibrate): the posterior mean where the file has
// several candidates per event for the method, the point estimate otherwise.
TEST(Analysers, CandidateUseAutoFollowsTheFile) {
  io::EventTable t(4);
  EXPECT_EQ(resolveCandidateUse("auto", t, "diffusion"), CandidateUse::Estimate);  // none
  t.set(io::nuCandidatesName("diffusion"), {1, 2, 3}, std::vector<float>(4 * 6, 0.0f));
  EXPECT_EQ(resolveCandidateUse("auto", t, "diffusion"), CandidateUse::Estimate);  // K = 1
  t.set(io::nuCandidatesName("diffusion"), {5, 2, 3}, std::vector<float>(4 * 30, 0.0f));
  EXPECT_EQ(resolveCandidateUse("auto", t, "diffusion"), CandidateUse::PosteriorMean);
  EXPECT_EQ(resolveCandidateUse("auto", t, "truth"), CandidateUse::Estimate);
  EXPECT_EQ(resolveCandidateUse("auto", t, "fastmtt"), CandidateUse::Estimate);
  EXPECT_EQ(resolveCandidateUse("estimate", t, "diffusion"), CandidateUse::Estimate);
  EXPECT_EQ(resolveCandidateUse("posterior-mean", t, "diffusion"), CandidateUse::PosteriorMean);
  EXPECT_THROW(resolveCandidateUse("median", t, "diffusion"), ConfigError);
}

}  // namespace
}  // namespace nurec::quantum
