// Detector simulation on hand-built events: efficiencies and resolutions of docs/physics.md section
// 10, decay-mode confusion, MET closure, triggers, channels, point cloud, determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "TruthBuilder.hpp"
#include "common/SampleMean.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/io/Schema.hpp"

using namespace nurec;
using namespace nurec::detector;
using nurec::test::addLepton;
using nurec::test::addPi;
using nurec::test::addRho;
using nurec::test::addSpray;
using nurec::test::addTau;

namespace {

constexpr std::uint64_t kSeed = 20260101;

void setAll(StepEfficiency& e, double v) {
  e.centralLow = e.centralMid = e.centralHigh = v;
  e.forwardLow = e.forwardMid = e.forwardHigh = v;
}

// All efficiencies 1, all resolutions 0, no fakes, no MET noise.
DetectorConfig perfectDetector() {
  DetectorConfig c;
  setAll(c.pionTrackEfficiency, 1);
  setAll(c.electronTrackEfficiency, 1);
  setAll(c.muonTrackEfficiency, 1);
  c.pionTrackResolution = c.electronTrackResolution = c.muonTrackResolution = TrackResolution{};
  c.ecal = c.hcalBarrel = c.hcalEndcap = c.hcalForward = CaloResolution{};
  c.electronIdEffCentral = c.electronIdEffForward = c.muonIdEffCentral = c.muonIdEffForward = 1;
  c.tauIdEff1p0n = c.tauIdEff1pXn = c.tauElectronVetoEff = c.pi0ClusterEfficiency = 1;
  c.tauTrigger = c.electronTrigger = c.muonTrigger = TriggerTurnOn{};  // sharp, 100 %
  c.fakePi0Probability = 0;
  c.multiPi0ResolvedProbability = 0;
  c.metResolutionK = 0;
  return c;
}

// Binomial check: k successes out of n against p, within 4 sigma.
void expectFraction(int k, int n, double p, const char* what) {
  const double sigma = std::sqrt(p * (1 - p) / n);
  EXPECT_NEAR(static_cast<double>(k) / n, p, 4 * sigma + 1e-12) << what;
}

TruthEvent piRhoEvent() {
  TruthEvent ev;
  ev.weightPb = 0.5;
  addPi(ev, 0, 40, 0.2, 0.3);
  addRho(ev, 1, 25, 20, -0.4, 0.3 + constants::pi);
  return ev;
}

}  // namespace

TEST(Channels, AllPairsOfTypes) {
  using T = RecoTauType;
  EXPECT_EQ(channelOf(T::Pi, T::Pi), Channel::PiPi);
  EXPECT_EQ(channelOf(T::Electron, T::Pi), Channel::EPi);
  EXPECT_EQ(channelOf(T::Pi, T::Electron), Channel::EPi);
  EXPECT_EQ(channelOf(T::Pi, T::Muon), Channel::MuPi);
  EXPECT_EQ(channelOf(T::Rho, T::Pi), Channel::PiRho);
  EXPECT_EQ(channelOf(T::Pi, T::Rho), Channel::PiRho);
  EXPECT_EQ(channelOf(T::Rho, T::Electron), Channel::ERho);
  EXPECT_EQ(channelOf(T::Muon, T::Rho), Channel::MuRho);
  EXPECT_EQ(channelOf(T::Rho, T::Rho), Channel::RhoRho);
  EXPECT_EQ(channelOf(T::Electron, T::Muon), Channel::None);
  EXPECT_EQ(channelOf(T::Muon, T::Muon), Channel::None);
  EXPECT_EQ(channelOf(T::None, T::Pi), Channel::None);
}

// Sharp triggers: the thresholds of docs/physics.md section 10 as steps at 100 %.
DetectorConfig sharpTriggers() {
  DetectorConfig c;
  c.tauTrigger = c.electronTrigger = c.muonTrigger = TriggerTurnOn{};
  return c;
}

TEST(Triggers, ThresholdsOfPhysicsMdSection10) {
  const DetectorConfig c = sharpTriggers();
  auto passTrigger = [](const RecoEvent& r, const DetectorConfig& config) {
    return detector::passTrigger(r, config, TriggerDraws{});
  };
  auto event = [](RecoTauType a, double ptA, RecoTauType b, double ptB) {
    RecoEvent r;
    r.tauType = {a, b};
    r.tau[0] = test::ptEtaPhiM(ptA, 0.1, 0, 0.5);
    r.tau[1] = test::ptEtaPhiM(ptB, -0.1, 3, 0.5);
    return r;
  };
  using T = RecoTauType;
  EXPECT_TRUE(passTrigger(event(T::Pi, 36, T::Rho, 26), c));
  EXPECT_TRUE(passTrigger(event(T::Pi, 26, T::Rho, 36), c));
  EXPECT_FALSE(passTrigger(event(T::Pi, 34, T::Rho, 30), c));
  EXPECT_FALSE(passTrigger(event(T::Pi, 40, T::Rho, 24), c));
  EXPECT_TRUE(passTrigger(event(T::Electron, 18, T::Pi, 26), c));
  EXPECT_FALSE(passTrigger(event(T::Electron, 18, T::Pi, 24), c));
  EXPECT_FALSE(passTrigger(event(T::Electron, 16, T::Pi, 40), c));
  EXPECT_TRUE(passTrigger(event(T::Electron, 27, T::Pi, 21), c));
  EXPECT_TRUE(passTrigger(event(T::Muon, 15, T::Rho, 26), c));
  EXPECT_FALSE(passTrigger(event(T::Muon, 13, T::Rho, 40), c));
  EXPECT_TRUE(passTrigger(event(T::Muon, 27, T::Rho, 21), c));
  EXPECT_FALSE(passTrigger(event(T::Muon, 25, T::Rho, 24), c));
}

TEST(Triggers, TurnOnEfficienciesWithOneDrawPerObject) {
  const DetectorConfig c;
  RecoEvent r;
  r.tauType = {RecoTauType::Muon, RecoTauType::Rho};
  r.tau[0] = test::ptEtaPhiM(40, 0.5, 0, 0.105);  // barrel muon far above 26 GeV
  r.tau[1] = test::ptEtaPhiM(50, -0.3, 3, 0.8);
  // Single muon at its 0.70 plateau; mu14 + tau25 adds the events where the muon fired (same
  // draw) and the tau leg fired: the muon plateau bounds the total.
  int single = 0, any = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed, i, streams::detector);
    const TriggerDraws d{{rng.uniform(), rng.uniform()}};
    RecoEvent muonOnly = r;
    muonOnly.tauType[1] = RecoTauType::None;
    single += passTrigger(muonOnly, c, d) ? 1 : 0;
    any += passTrigger(r, c, d) ? 1 : 0;
  }
  expectFraction(single, n, 0.70, "single-muon plateau");
  expectFraction(any, n, 0.70, "mu OR mu+tau: the muon leg is needed either way");
  // Di-tau at 30 / 27 GeV: both legs on the turn-on, independent draws.
  RecoEvent tt;
  tt.tauType = {RecoTauType::Pi, RecoTauType::Rho};
  tt.tau[0] = test::ptEtaPhiM(40, 0.5, 0, 0.14);
  tt.tau[1] = test::ptEtaPhiM(29, -0.3, 3, 0.8);
  int pass = 0;
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed, i, streams::detector);
    pass += passTrigger(tt, c, TriggerDraws{{rng.uniform(), rng.uniform()}}) ? 1 : 0;
  }
  expectFraction(pass, n, c.tauTrigger(40, 35, 0.5) * c.tauTrigger(29, 25, 0.3), "di-tau legs");
}

TEST(Selection, SignalRegionNeedsChannelTriggerAcceptanceAndOppositeCharge) {
  const DetectorConfig c = sharpTriggers();
  auto applySelection = [](RecoEvent& r, const std::array<int, 2>& q, const DetectorConfig& cc) {
    detector::applySelection(r, q, cc, TriggerDraws{});
  };
  RecoEvent r;
  r.tauType = {RecoTauType::Electron, RecoTauType::Pi};
  r.tau[0] = test::ptEtaPhiM(30, 0.5, 0, 0);
  r.tau[1] = test::ptEtaPhiM(30, -0.5, 3, 0.14);
  applySelection(r, {+1, -1}, c);
  EXPECT_EQ(r.channel, Channel::EPi);
  EXPECT_TRUE(r.passTrigger);
  EXPECT_TRUE(r.passSr);
  applySelection(r, {+1, +1}, c);  // same sign
  EXPECT_TRUE(r.passTrigger);
  EXPECT_FALSE(r.passSr);
  r.tau[0] = test::ptEtaPhiM(30, 1.45, 0, 0);  // electron in the barrel-endcap crack
  applySelection(r, {+1, -1}, c);
  EXPECT_TRUE(r.passTrigger);
  EXPECT_FALSE(r.passSr);
  r.tau[0] = test::ptEtaPhiM(30, 2.48, 0, 0);  // beyond 2.47
  applySelection(r, {+1, -1}, c);
  EXPECT_FALSE(r.passSr);
  r.tauType = {RecoTauType::Electron, RecoTauType::Muon};  // e mu: no channel
  r.tau[0] = test::ptEtaPhiM(30, 0.5, 0, 0);
  applySelection(r, {+1, -1}, c);
  EXPECT_EQ(r.channel, Channel::None);
  EXPECT_TRUE(r.passTrigger);
  EXPECT_FALSE(r.passSr);
}

TEST(Detector, PerfectDetectorClosesMetOnTheNeutrinos) {
  const DetectorSimulation sim(perfectDetector());
  TruthEvent ev = piRhoEvent();
  addSpray(ev, 45, 1.0, -1.2);
  addSpray(ev, 8, -2.0, 2.0, 3);  // below the jet threshold: soft term
  ev.recoil.push_back({test::ptEtaPhiM(3, 0.5, 1, 0), pdg::nuMu});  // invisible
  Rng rng(kSeed, 0, streams::detector);
  const auto out = sim.simulate(ev, rng);
  // Every visible particle is measured exactly (as an object or in the soft term), the
  // neutrinos not at all: MET = -(sum of the visible transverse momenta).
  FourVector visible = ev.visible[0] + ev.visible[1];
  for (const auto& p : ev.recoil)
    if (!pdg::isNeutrino(p.pdgId)) visible += p.p4;
  EXPECT_NEAR(out.reco.metX, -visible.px, 1e-9);
  EXPECT_NEAR(out.reco.metY, -visible.py, 1e-9);
  EXPECT_NEAR(out.reco.sumEt, ev.visible[0].pt() + ev.visible[1].pt() + out.reco.jets[0].pt() + 8,
              0.05);
  EXPECT_EQ(out.reco.channel, Channel::PiRho);
  EXPECT_EQ(out.reco.tauType[0], RecoTauType::Pi);
  EXPECT_EQ(out.reco.tauType[1], RecoTauType::Rho);
  EXPECT_NEAR(out.reco.tau[1].e, ev.visible[1].e, 1e-9);
  ASSERT_EQ(out.reco.jets.size(), 1u);
  EXPECT_NEAR(out.reco.jets[0].pt(), 45, 0.5);
  EXPECT_TRUE(out.reco.passTrigger);  // 40 / 45
  EXPECT_TRUE(out.reco.passSr);
}

TEST(Detector, PionTrackingTagEfficiencyAndResolution) {
  const DetectorConfig c;
  const DetectorSimulation sim(c);
  TruthEvent ev;
  addPi(ev, 0, 40, 0.2, 0.3);
  addPi(ev, 1, 40, 0.8, 2.0);
  const int n = 20000;
  int found0 = 0, asRho = 0, found = 0;
  SampleMean ratio0, ratio1;
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed, i, streams::detector);
    const auto r = sim.simulate(ev, rng).reco;
    for (int t = 0; t < 2; ++t) {
      if (r.tauType[t] == RecoTauType::None) continue;
      ++found;
      if (t == 0) ++found0;
      if (r.tauType[t] == RecoTauType::Rho) {
        ++asRho;
        continue;
      }
      (t == 0 ? ratio0 : ratio1).add(r.charged[t].pt() / 40.0);
    }
  }
  // Tracking 0.95 (pT > 1, |eta| <= 1.5) x 1p0n identification 0.75 x electron veto 0.95.
  expectFraction(found0, n, 0.95 * 0.75 * 0.95, "pi reconstruction efficiency");
  // A fake pi0 (probability 0.08, its E_T always above 1.5 GeV here) turns a pi into a rho.
  expectFraction(asRho, found, c.fakePi0Probability, "pi -> rho confusion");
  // sigma(pT)/pT = sqrt(a^2 + (b pT)^2): (0.06, 1.3e-3) for |eta| <= 0.5, (0.10, 1.7e-3) to 1.5.
  const double s0 = std::hypot(0.06, 1.3e-3 * 40), s1 = std::hypot(0.10, 1.7e-3 * 40);
  EXPECT_NEAR(ratio0.mean(), 1.0, 4 * s0 / std::sqrt(ratio0.n));
  EXPECT_NEAR(ratio0.rms(), s0 * std::sqrt(1 + s0 * s0 / 2), 0.04 * s0);  // log-normal RMS
  EXPECT_NEAR(ratio1.rms(), s1 * std::sqrt(1 + s1 * s1 / 2), 0.04 * s1);
}

TEST(Detector, RhoClusterResolutionLostAndMergedPi0) {
  DetectorConfig c;
  c.tauIdEff1p0n = c.tauIdEff1pXn = c.tauElectronVetoEff = 1;
  setAll(c.pionTrackEfficiency, 1);
  DetectorConfig noFakes = c;
  noFakes.fakePi0Probability = 0;
  const DetectorSimulation sim(c), simNoFakes(noFakes);
  const int n = 10000;
  // (a) pi0 of 20 GeV: ECAL resolution 10.1 %/sqrt(E) (+) 0.17 %; found with efficiency 0.95.
  {
    TruthEvent ev;
    addRho(ev, 0, 25, 20, 0.1, 0.0);
    addRho(ev, 1, 25, 20, 0.1, 3.0);
    int rho = 0;
    SampleMean ratio;
    for (int i = 0; i < n; ++i) {
      Rng rng(kSeed, i, streams::detector);
      const auto r = simNoFakes.simulate(ev, rng).reco;
      if (r.tauType[0] == RecoTauType::Rho) {
        ++rho;
        ratio.add(r.neutral[0].e / ev.neutralPion[0].e);
      }
    }
    const double e = ev.neutralPion[0].e;
    const double sigma = std::sqrt(0.0017 * 0.0017 + 0.101 * 0.101 / e);
    expectFraction(rho, n, 0.95, "rho -> rho without fakes");
    EXPECT_NEAR(ratio.mean(), 1.0, 4 * sigma / std::sqrt(ratio.n));
    EXPECT_NEAR(ratio.rms(), sigma, 0.04 * sigma);
  }
  // (b) a soft pi0 (E_T 1 GeV < 1.5 GeV threshold) is lost: rho -> pi, unless a fake appears.
  {
    TruthEvent ev;
    addRho(ev, 0, 30, 1.0, 0.1, 0.0);
    addRho(ev, 1, 30, 1.0, 0.1, 3.0);
    int pi = 0, reco = 0;
    for (int i = 0; i < n; ++i) {
      Rng rng(kSeed, i, streams::detector);
      const auto r = sim.simulate(ev, rng).reco;
      if (r.tauType[0] != RecoTauType::None) ++reco;
      if (r.tauType[0] == RecoTauType::Pi) ++pi;
    }
    // E_T(pi0) = 1 GeV with sigma(E) ~ 0.1 GeV: essentially always below 1.5 GeV.
    expectFraction(pi, reco, 1 - c.fakePi0Probability, "soft pi0 lost");
  }
  // (c) pi 2pi0 ("other"): recognised as 1pXn (no channel) with probability 0.5, otherwise
  // both pi0s merge into ONE cluster -> reconstructed as rho.
  {
    TruthEvent ev;
    addRho(ev, 0, 25, 10, 0.1, 0.0);
    ev.tauProducts[0].push_back(
        {test::ptEtaPhiM(8, 0.12, 0.08, constants::mPiNeutral), pdg::piZero});
    addRho(ev, 1, 25, 10, 0.1, 3.0);
    ev.tauProducts[1].push_back(
        {test::ptEtaPhiM(8, 0.12, 3.08, constants::mPiNeutral), pdg::piZero});
    int rho = 0, none = 0;
    for (int i = 0; i < n; ++i) {
      Rng rng(kSeed, i, streams::detector);
      const auto r = sim.simulate(ev, rng).reco;
      rho += r.tauType[0] == RecoTauType::Rho ? 1 : 0;
      none += r.tauType[0] == RecoTauType::None ? 1 : 0;
    }
    expectFraction(none, n, c.multiPi0ResolvedProbability, "pi 2pi0 recognised as 1pXn");
    // The merged cluster is found (0.95) or replaced by a fake (0.05 x 0.08).
    expectFraction(
        rho, n,
        (1 - c.multiPi0ResolvedProbability) *
            (c.pi0ClusterEfficiency + (1 - c.pi0ClusterEfficiency) * c.fakePi0Probability),
        "pi 2pi0 reconstructed as rho");
  }
  {
    TruthEvent ev;
    addRho(ev, 0, 25, 10, 0.1, 0.0);
    ev.tauProducts[0].push_back(
        {test::ptEtaPhiM(8, 0.12, 0.08, constants::mPiNeutral), pdg::piZero});
    ev.decayMode[0] = DecayMode::Other;
    addPi(ev, 1, 30, -0.5, 3.0);
    Rng rng(kSeed, 7, streams::detector);
    const auto r = DetectorSimulation(perfectDetector()).simulate(ev, rng).reco;
    EXPECT_EQ(r.tauType[0], RecoTauType::Rho);
    EXPECT_NEAR(r.neutral[0].e, ev.tauProducts[0][1].p4.e + ev.tauProducts[0][2].p4.e, 1e-9);
  }
}

TEST(Detector, ElectronAndMuonEfficiencyResolutionIsolation) {
  const DetectorConfig c;
  const DetectorSimulation sim(c);
  TruthEvent ev;
  addLepton(ev, 0, pdg::electron, 40, 0.3, 0.0);
  addLepton(ev, 1, pdg::muon, 40, -0.3, 3.0);
  const int n = 20000;
  int nE = 0, nMu = 0;
  SampleMean eRatio, muRatio;
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed, i, streams::detector);
    const auto r = sim.simulate(ev, rng).reco;
    if (r.tauType[0] == RecoTauType::Electron) {
      ++nE;
      eRatio.add(r.tau[0].e / ev.visible[0].e);
    }
    if (r.tauType[1] == RecoTauType::Muon) {
      ++nMu;
      muRatio.add(r.tau[1].pt() / 40.0);
    }
    EXPECT_EQ(r.channel, Channel::None);  // e mu is not an analysis channel
  }
  expectFraction(nE, n, 0.95 * 0.80, "electron: tracking 0.95 x id 0.80");
  expectFraction(nMu, n, 0.99 * 0.96, "muon: tracking 0.99 x id 0.96");
  const double e = ev.visible[0].e;
  const double sCalo = std::sqrt(0.0017 * 0.0017 + 0.101 * 0.101 / e);
  const double sTrack = std::hypot(0.03, 1.3e-3 * 40);  // combined with the ECAL, 1/s^2 weights
  const double sE = 1 / std::sqrt(1 / (sCalo * sCalo) + 1 / (sTrack * sTrack));
  EXPECT_NEAR(eRatio.rms(), sE, 0.05 * sE);
  const double sMu = std::hypot(0.01, 1.0e-4 * 40);
  EXPECT_NEAR(muRatio.rms(), sMu * std::sqrt(1 + sMu * sMu / 2), 0.05 * sMu);

  // A 3 GeV pion 0.15 away from the electron: sum pT / pT = 0.075 > 0.06, not isolated.
  TruthEvent dirty = ev;
  dirty.recoil.push_back({test::ptEtaPhiM(3, 0.3, 0.15, constants::mPiCharged), pdg::piPlus});
  const DetectorSimulation perfect(perfectDetector());
  Rng rng(kSeed, 1, streams::detector);
  const auto r = perfect.simulate(dirty, rng).reco;
  EXPECT_EQ(r.tauType[0], RecoTauType::None);
  EXPECT_EQ(r.tauType[1], RecoTauType::Muon);  // the muon is far away
}

TEST(Detector, MetResolutionFollowsSumEt) {
  DetectorConfig c = perfectDetector();
  c.metResolutionK = 0.5;
  const DetectorSimulation sim(c);
  TruthEvent ev = piRhoEvent();
  addSpray(ev, 60, 1.5, -1.0);
  FourVector visible = ev.visible[0] + ev.visible[1];
  for (const auto& p : ev.recoil) visible += p.p4;
  SampleMean dx;
  double sumEt = 0;
  const int n = 8000;
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed, i, streams::detector);
    const auto r = sim.simulate(ev, rng).reco;
    dx.add(r.metX + visible.px);  // MET minus its value without noise
    sumEt = r.sumEt;
  }
  const double sigma = 0.5 * std::sqrt(sumEt);
  EXPECT_NEAR(sumEt, 40 + 45 + 60, 0.5);  // tau pi, tau rho (25 + 20), jet
  EXPECT_NEAR(dx.mean(), 0, 4 * sigma / std::sqrt(n));
  EXPECT_NEAR(dx.rms(), sigma, 0.04 * sigma);
}

TEST(Detector, JetsAreAntiKtOnTheRecoilPtOrderedAboveThreshold) {
  const DetectorSimulation sim(perfectDetector());
  TruthEvent ev = piRhoEvent();
  addSpray(ev, 30, 0.5, 1.0);
  addSpray(ev, 70, -1.0, -2.0);
  addSpray(ev, 15, 2.0, 2.5);  // below 20 GeV
  addSpray(ev, 50, 4.7, 0.0);  // beyond |eta| 4.5
  Rng rng(kSeed, 3, streams::detector);
  const auto r = sim.simulate(ev, rng).reco;
  ASSERT_EQ(r.jets.size(), 2u);
  EXPECT_NEAR(r.jets[0].pt(), 70, 0.5);
  EXPECT_NEAR(r.jets[1].pt(), 30, 0.5);
  EXPECT_NEAR(r.jets[0].eta(), -1.0, 0.05);
}

TEST(Detector, TauPlusAtIndexZeroByReconstructedCharge) {
  const DetectorSimulation sim(perfectDetector());
  TruthEvent ev;
  addPi(ev, 1, 40, 0.2, 0.3);  // tau- slot holds the pi- ...
  addPi(ev, 0, 50, 0.5, 2.0);
  std::swap(ev.tauProducts[0], ev.tauProducts[1]);  // ... now the pi+ (50 GeV) sits at index 1
  Rng rng(kSeed, 0, streams::detector);
  const auto r = sim.simulate(ev, rng).reco;
  EXPECT_NEAR(r.charged[0].pt(), 50, 1e-9);
  EXPECT_NEAR(r.charged[1].pt(), 40, 1e-9);
  EXPECT_TRUE(r.passSr);
}

TEST(Detector, SameSignPairsFailTheSrAndLoneNegativeCandidatesGoToIndexOne) {
  const DetectorSimulation sim(perfectDetector());
  // tau+ -> 3 prongs of which only the pi- is above the 1 GeV prong threshold.
  TruthEvent ev;
  addTau(ev, 0, DecayMode::Other,
         {{test::ptEtaPhiM(40, 0.1, 0.2, constants::mPiCharged), -pdg::piPlus},
          {test::ptEtaPhiM(0.5, 0.1, 0.25, constants::mPiCharged), pdg::piPlus},
          {test::ptEtaPhiM(0.6, 0.1, 0.15, constants::mPiCharged), pdg::piPlus}},
         10);
  addPi(ev, 1, 45, -0.3, 3.0);
  Rng rng(kSeed, 0, streams::detector);
  const auto out = sim.simulate(ev, rng);
  EXPECT_EQ(out.reco.channel, Channel::PiPi);
  EXPECT_TRUE(out.reco.passTrigger);
  EXPECT_FALSE(out.reco.passSr);
  EXPECT_EQ(out.cloud.features[0][feature::charge], -1.0F);
  EXPECT_EQ(out.cloud.features[2][feature::charge], -1.0F);
  // Only a negative candidate, found in the tau+ slot of the truth: it moves to index 1.
  TruthEvent lone;
  addPi(lone, 1, 45, -0.3, 3.0);
  std::swap(lone.tauProducts[0], lone.tauProducts[1]);
  Rng rng2(kSeed, 1, streams::detector);
  const auto r = sim.simulate(lone, rng2).reco;
  EXPECT_EQ(r.tauType[0], RecoTauType::None);
  EXPECT_EQ(r.tauType[1], RecoTauType::Pi);
}

TEST(PointCloud, LayoutOfDocsDetectorMd) {
  const DetectorSimulation sim(perfectDetector());
  TruthEvent ev = piRhoEvent();
  addSpray(ev, 45, 1.0, -1.2);
  Rng rng(kSeed, 0, streams::detector);
  const auto out = sim.simulate(ev, rng);
  const auto& m = out.cloud.mask;
  const std::array<std::uint8_t, kCloudSlots> expectedMask{1, 0, 1, 1, 1, 0, 0, 0, 0, 1};
  EXPECT_EQ(m, expectedMask);
  const auto& track = out.cloud.features[0];
  const auto& p = out.reco.charged[0];
  EXPECT_FLOAT_EQ(track[feature::logPt], static_cast<float>(std::log(p.pt())));
  EXPECT_FLOAT_EQ(track[feature::eta], static_cast<float>(p.eta()));
  EXPECT_FLOAT_EQ(track[feature::phi], static_cast<float>(p.phi()));
  EXPECT_FLOAT_EQ(track[feature::logE], static_cast<float>(std::log(p.e)));
  EXPECT_EQ(track[feature::charge], 1.0F);
  EXPECT_EQ(track[feature::typeOneHot + 0], 1.0F);
  EXPECT_FLOAT_EQ(track[feature::pxScaled], static_cast<float>(p.px / 50));
  EXPECT_EQ(out.cloud.features[2][feature::charge], -1.0F);
  EXPECT_EQ(out.cloud.features[3][feature::typeOneHot + 1], 1.0F);  // pi0 cluster of tau-
  EXPECT_EQ(out.cloud.features[3][feature::charge], 0.0F);
  EXPECT_EQ(out.cloud.features[4][feature::typeOneHot + 4], 1.0F);  // jet
  for (float x : out.cloud.features[1]) EXPECT_EQ(x, 0.0F);         // empty slot
  const auto& met = out.cloud.features[9];
  const double metPt = std::hypot(out.reco.metX, out.reco.metY);
  EXPECT_FLOAT_EQ(met[feature::logPt], static_cast<float>(std::log(metPt)));
  EXPECT_EQ(met[feature::eta], 0.0F);
  EXPECT_FLOAT_EQ(met[feature::phi], static_cast<float>(std::atan2(out.reco.metY, out.reco.metX)));
  EXPECT_FLOAT_EQ(met[feature::logE], static_cast<float>(std::log(metPt)));
  EXPECT_EQ(met[feature::typeOneHot + 5], 1.0F);
  EXPECT_FLOAT_EQ(met[feature::pyScaled], static_cast<float>(out.reco.metY / 50));
  // Electron and muon one-hot entries.
  RecoEvent lep;
  lep.tauType = {RecoTauType::Electron, RecoTauType::Muon};
  lep.tau[0] = test::ptEtaPhiM(30, 0, 0, 0);
  lep.tau[1] = test::ptEtaPhiM(30, 0, 2, 0);
  const auto cl = buildPointCloud(lep);
  EXPECT_EQ(cl.features[0][feature::typeOneHot + 2], 1.0F);
  EXPECT_EQ(cl.features[2][feature::typeOneHot + 3], 1.0F);
  EXPECT_EQ(cl.mask[9], 1);
}

TEST(SimulateDetector, IndependentOfThreadCountAndReproduciblePerEvent) {
  const int n = 3000;
  std::vector<TruthEvent> truth;
  for (int i = 0; i < n; ++i) {
    TruthEvent ev;
    ev.weightPb = 0.01;
    const double phi = 0.001 * i;
    if (i % 3 == 0)
      addPi(ev, 0, 30 + i % 20, 0.1, phi);
    else
      addLepton(ev, 0, i % 2 ? pdg::muon : pdg::electron, 25 + i % 30, -0.7, phi);
    addRho(ev, 1, 20 + i % 15, 15, 0.9, phi + 3.0);
    addSpray(ev, 10 + i % 50, 1.5, phi + 1.5);
    truth.push_back(ev);
  }
  io::EventTable one(n), two(n);
  io::putTruth(one, truth);
  io::putTruth(two, truth);
  const DetectorConfig c;
  simulateDetector(one, c, kSeed, 1);
  simulateDetector(two, c, kSeed, 2);
  for (const auto& [name, col] : one.columns()) {
    ASSERT_TRUE(two.has(name)) << name;
    EXPECT_TRUE(col.values == two.column(name).values) << name;
  }
  ASSERT_TRUE(one.has(io::ds::recoParticles));
  EXPECT_EQ(one.column(io::ds::recoParticles).rowShape, (std::vector<std::size_t>{10, 13}));
  EXPECT_EQ(one.column(io::ds::recoParticlesMask).rowShape, (std::vector<std::size_t>{10}));
  // Event 1234 alone, from its own stream.
  const DetectorSimulation sim(c);
  Rng rng(kSeed, 1234, streams::detector);
  const auto alone = sim.simulate(truth[1234], rng);
  const auto reco = io::getReco(one);
  EXPECT_EQ(reco[1234].tau, alone.reco.tau);
  EXPECT_EQ(reco[1234].metX, alone.reco.metX);
  EXPECT_EQ(reco[1234].channel, alone.reco.channel);
  const auto particles = one.get<float>(io::ds::recoParticles, {10, 13});
  EXPECT_EQ(particles[1234 * 130 + 9 * 13 + 0], alone.cloud.features[9][0]);
  // A different seed changes the smearing.
  io::EventTable other(n);
  io::putTruth(other, truth);
  simulateDetector(other, c, kSeed + 1, 1);
  EXPECT_FALSE(other.column(io::ds::recoMet).values == one.column(io::ds::recoMet).values);
}

// Pile-up overlay (docs/detector.md "Pile-up"): with every pile-up track removed by vertex
// association it changes neither the isolation nor the soft term, and the rho x area subtraction
// keeps the jet scale; kept tracks spoil the isolation and enter the MET.
TEST(Detector, PileupEntersJetsIsolationAndMet) {
  DetectorConfig clean = perfectDetector();
  DetectorConfig rejected = clean;
  rejected.pileupMeanInteractions = 40;
  rejected.pileupTrackRejection = 1;
  DetectorConfig kept = rejected;
  kept.pileupTrackRejection = 0;
  const DetectorSimulation simClean(clean), simRejected(rejected), simKept(kept);
  TruthEvent ev;
  addLepton(ev, 0, pdg::muon, 30, 0.3, 0.0);
  addRho(ev, 1, 25, 20, -0.4, 3.0);
  addSpray(ev, 60, 1.5, -1.5);
  const int n = 1500;
  int isoRejected = 0, isoKept = 0;
  SampleMean jetShift, metShiftRejected, metRmsKept;
  Rng rng0(kSeed, 0, streams::detector);
  const auto ref = simClean.simulate(ev, rng0).reco;
  for (int i = 0; i < n; ++i) {
    Rng a(kSeed, i, streams::detector), b(kSeed, i, streams::detector);
    const auto r = simRejected.simulate(ev, a).reco;
    const auto k = simKept.simulate(ev, b).reco;
    isoRejected += r.tauType[0] == RecoTauType::Muon ? 1 : 0;
    isoKept += k.tauType[0] == RecoTauType::Muon ? 1 : 0;
    if (!r.jets.empty()) jetShift.add(r.jets[0].pt() - 60);
    metRmsKept.add(k.metX - ref.metX);
  }
  EXPECT_EQ(isoRejected, n);  // only tracks enter the isolation
  // <mu> = 40 x 35 particles, 2/3 charged in |eta| < 2.5 of 5: ~0.4 kept tracks of ~0.85 GeV in a
  // dR = 0.2 cone, against 6 % of 30 GeV = 1.8 GeV: some muons fail.
  EXPECT_LT(isoKept, n * 0.98);
  EXPECT_GT(isoKept, n * 0.5);
  EXPECT_NEAR(jetShift.mean(), 0, 1.0);  // rho x area removes the pile-up on average
  EXPECT_GT(jetShift.rms(), 0.3);        // ... but not its fluctuations
  // Kept pile-up tracks in |eta| < 2.5 unbalance the soft term.
  EXPECT_GT(metRmsKept.rms(), 1.0);
  // The event without pile-up is not affected by the pile-up settings' mere presence.
  Rng c(kSeed, 0, streams::detector);
  const auto again = simClean.simulate(ev, c).reco;
  EXPECT_EQ(again.metX, ref.metX);
}
