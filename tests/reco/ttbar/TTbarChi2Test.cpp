// The classical t tbar reconstruction (docs/ttbar.md "Classical reconstruction"): closure on a
// perfect detector, assignment efficiency and resolutions on the default detector, status codes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/reco/ttbar/TTbarChi2.hpp"

using namespace nurec;
using namespace nurec::reco::ttbar;
using detector::ttbar::TTbarDetector;
using detector::ttbar::TTbarDetectorConfig;
using detector::ttbar::TTbarRecoEvent;
using detector::ttbar::TTbarSelection;
using generator::ttbar::Parton;

namespace {
constexpr int idx(Parton p) {
  return static_cast<int>(p);
}

const generator::ttbar::TTbarSample& generated(bool recoil) {
  static generator::ttbar::TTbarSample with, without;
  generator::ttbar::TTbarSample& s = recoil ? with : without;
  if (s.events.empty()) {
    generator::ttbar::TTbarConfig c;
    c.seed = recoil ? 41 : 42;
    c.nEvents = recoil ? 10000 : 1500;
    c.recoil = recoil;
    s = generator::ttbar::generateTTbarEvents(c, 2);
  }
  return s;
}

// Half the 16-84 % interquantile range: the Gaussian sigma of the core, robust to tails.
double coreWidth(const std::vector<double>& x) {
  return 0.5 * (quantile(x, 0.84) - quantile(x, 0.16));
}

// Reco - truth per quantity: masses and pz in GeV, pT and m_tt relative.
struct Residuals {
  std::vector<double> topHadMass, topLepMass, wHadMass, topHadPt, topLepPt, nuPz, mtt;
  void print(const char* what) const {
    std::printf(
        "%s (%zu events), reco - truth, core sigma / median: m(t had) %.1f / %.1f GeV, "
        "m(t lep) %.1f / %.1f GeV, m(W had) %.1f / %.1f GeV, pT(t had) %.3f / %.3f, "
        "pT(t lep) %.3f / %.3f, pz(nu) %.1f / %.1f GeV, m(t tbar) %.3f / %.3f\n",
        what, mtt.size(), coreWidth(topHadMass), median(topHadMass), coreWidth(topLepMass),
        median(topLepMass), coreWidth(wHadMass), median(wHadMass), coreWidth(topHadPt),
        median(topHadPt), coreWidth(topLepPt), median(topLepPt), coreWidth(nuPz), median(nuPz),
        coreWidth(mtt), median(mtt));
  }
};

TTbarRecoEvent handMadeEvent() {
  TTbarRecoEvent ev;
  auto jet = [&](double pt, double eta, double phi, bool tag) {
    detector::ttbar::TTbarJet j;
    j.p4 = FourVector::fromPtEtaPhiM(pt, eta, phi, 0.0);
    j.bTagged = tag;
    ev.jets.push_back(j);
  };
  jet(120, 0.1, 0.0, true);
  jet(90, -0.5, 2.0, false);
  jet(70, 0.8, -2.0, true);
  jet(40, 1.2, 1.0, false);
  ev.leptons.push_back({FourVector::fromPtEtaPhiM(40, 0.2, -1.0, 0.0), -11});
  ev.metX = 30;
  ev.metY = -10;
  ev.selection = TTbarSelection::selected;
  return ev;
}
}  // namespace

// On a perfect detector (jets = partons, MET = pT(nu)) without ISR the chi2 finds the true
// assignment, and the hadronic side of the record is the truth.
TEST(TTbarChi2, PerfectInputRecoversTheTruthAssignment) {
  const auto& s = generated(false);
  const TTbarDetector det(detector::ttbar::perfectDetector());
  const TTbarChi2Reconstructor reco{TTbarChi2Config{}};
  double complete = 0, correct = 0, realPart = 0;
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const auto& truth = s.events[i];
    const TTbarRecoEvent ev = det.simulate(truth, i, 1);
    const TTbarChi2Result r = reco.reconstruct(ev);
    if (!reconstructed(r.status)) continue;
    realPart += r.status == TTbarRecoStatus::neutrinoRealPart;
    const TruthAssignment t = truthAssignment(ev, truth.leptonicTop, reco.config().maxJets);
    if (!t.complete()) continue;
    complete += 1;
    EXPECT_EQ(r.leptonicTop, truth.leptonicTop);
    if (!assignmentCorrect(r, t)) continue;
    correct += 1;
    const Parton hadTop = truth.leptonicTop ? Parton::antitop : Parton::top;
    const FourVector d = r.partons[idx(hadTop)] - truth.partons[idx(hadTop)];
    EXPECT_LT(std::abs(d.e) + std::abs(d.px) + std::abs(d.pz), 1e-6);
    EXPECT_NEAR(r.partons[idx(Parton::neutrino)].px, truth.partons[idx(Parton::neutrino)].px, 1e-9);
  }
  std::printf(
      "perfect detector: %.0f complete events, assignment efficiency %.4f, real-part "
      "neutrinos %.0f\n",
      complete, correct / complete, realPart);
  EXPECT_GT(complete, 300);
  EXPECT_GT(correct / complete, 0.90);
}

// The default detector: assignment efficiency and the resolutions quoted in docs/ttbar.md.
TEST(TTbarChi2, AssignmentEfficiencyAndResolutions) {
  const auto& s = generated(true);
  const TTbarDetector det{TTbarDetectorConfig{}};
  const TTbarChi2Reconstructor reco{TTbarChi2Config{}};
  double selected = 0, recoOk = 0, realPart = 0, complete = 0, correct = 0, correctComplete = 0;
  std::vector<double> mW, mTopHad, mTopLep;
  Residuals all, right;  // all reconstructed events; those with the correct assignment
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const auto& truth = s.events[i];
    const TTbarRecoEvent ev = det.simulate(truth, i, 7);
    if (!ev.selected()) continue;
    selected += 1;
    const TTbarChi2Result r = reco.reconstruct(ev);
    if (!reconstructed(r.status)) continue;
    recoOk += 1;
    realPart += r.status == TTbarRecoStatus::neutrinoRealPart;
    const TruthAssignment t = truthAssignment(ev, truth.leptonicTop, reco.config().maxJets);
    const bool ok = assignmentCorrect(r, t);
    correct += ok;
    if (t.complete()) {
      complete += 1;
      correctComplete += ok;
      // Masses of the truth-matched jets: what the chi2 resolutions describe.
      const FourVector w = ev.jets[t.quarkJet].p4 + ev.jets[t.antiquarkJet].p4;
      mW.push_back(w.m());
      mTopHad.push_back((w + ev.jets[t.bHadronicJet].p4).m());
      const FourVector nu = r.partons[idx(Parton::neutrino)];  // the chi2's root
      mTopLep.push_back((ev.jets[t.bLeptonicJet].p4 + ev.leptons[0].p4 + nu).m());
    }
    const Parton hadTop = r.leptonicTop ? Parton::antitop : Parton::top;
    const Parton lepTop = r.leptonicTop ? Parton::top : Parton::antitop;
    const Parton hadW = r.leptonicTop ? Parton::wMinus : Parton::wPlus;
    for (Residuals* res : {&all, ok ? &right : nullptr}) {
      if (!res) continue;
      res->topHadMass.push_back(r.partons[idx(hadTop)].m() - truth.partons[idx(hadTop)].m());
      res->topLepMass.push_back(r.partons[idx(lepTop)].m() - truth.partons[idx(lepTop)].m());
      res->wHadMass.push_back(r.partons[idx(hadW)].m() - truth.partons[idx(hadW)].m());
      res->topHadPt.push_back(r.partons[idx(hadTop)].pt() / truth.partons[idx(hadTop)].pt() - 1);
      res->topLepPt.push_back(r.partons[idx(lepTop)].pt() / truth.partons[idx(lepTop)].pt() - 1);
      res->nuPz.push_back(r.partons[idx(Parton::neutrino)].pz -
                          truth.partons[idx(Parton::neutrino)].pz);
      res->mtt.push_back(r.partons[idx(Parton::ttbar)].m() / truth.partons[idx(Parton::ttbar)].m() -
                         1);
    }
  }
  std::printf("selected %.0f of %zu; reconstructed %.0f (real-part neutrino %.3f)\n", selected,
              s.events.size(), recoOk, realPart / recoOk);
  std::printf(
      "truth quarks all among the leading 6 jets: %.4f; assignment efficiency: %.4f of "
      "reconstructed events, %.4f of those with all four\n",
      complete / recoOk, correct / recoOk, correctComplete / complete);
  std::printf(
      "truth-matched jets: m_qq' median %.1f core sigma %.1f; m_bqq' %.1f / %.1f; m_blnu "
      "%.1f / %.1f GeV\n",
      median(mW), coreWidth(mW), median(mTopHad), coreWidth(mTopHad), median(mTopLep),
      coreWidth(mTopLep));
  all.print("all reconstructed");
  right.print("correct assignment");
  // Variants for docs/ttbar.md: how many jets, one or both neutrino roots.
  for (const int jets : {4, 5, 6, 7})
    for (const bool both : {true, false}) {
      TTbarChi2Config c;
      c.maxJets = jets;
      c.bothNeutrinoRoots = both;
      const TTbarChi2Reconstructor variant(c);
      double n = 0, good = 0;
      for (std::size_t i = 0; i < s.events.size(); ++i) {
        const TTbarRecoEvent ev = det.simulate(s.events[i], i, 7);
        if (!ev.selected()) continue;
        const TTbarChi2Result r = variant.reconstruct(ev);
        n += 1;
        good += assignmentCorrect(r, truthAssignment(ev, s.events[i].leptonicTop, 20));
      }
      std::printf("max_jets %d, %s: assignment efficiency %.4f\n", jets,
                  both ? "both roots" : "smaller |pz|", good / n);
    }
  EXPECT_GT(recoOk, 0.99 * selected);
  EXPECT_GT(correctComplete / complete, 0.65);
  EXPECT_LT(correctComplete / complete, 0.95);
  EXPECT_LT(coreWidth(all.topHadPt), 0.40);
  EXPECT_LT(coreWidth(right.topHadPt), 0.15);
  EXPECT_LT(coreWidth(right.topHadMass), 20);
  EXPECT_LT(coreWidth(right.nuPz), 60);
  EXPECT_LT(coreWidth(all.mtt), 0.25);
  EXPECT_LT(coreWidth(right.mtt), 0.12);
  // The chi2 resolutions are those of the truth-matched jets (TTbarChi2Config).
  EXPECT_NEAR(coreWidth(mW), reco.config().hadronicWSigmaGeV, 2);
  EXPECT_NEAR(coreWidth(mTopHad), reco.config().hadronicTopSigmaGeV, 3);
  EXPECT_NEAR(coreWidth(mTopLep), reco.config().leptonicTopSigmaGeV, 4);
  EXPECT_NEAR(median(mW), 80, 8);
  EXPECT_NEAR(median(mTopHad), 172.5, 12);
}

TEST(TTbarChi2, RecordLayoutFollowsTheGenerator) {
  const TTbarChi2Reconstructor reco{TTbarChi2Config{}};
  const TTbarChi2Result r = reco.reconstruct(handMadeEvent());
  ASSERT_TRUE(reconstructed(r.status)) << statusName(r.status);
  const auto rec = r.record();
  for (int i = 0; i < generator::ttbar::kPartonCount; ++i) {
    EXPECT_DOUBLE_EQ(rec[5 * i + 1], r.partons[i].e);
    EXPECT_DOUBLE_EQ(rec[5 * i + 4], r.partons[i].pz);
    EXPECT_NEAR(rec[5 * i], r.partons[i].m(), 1e-12);
  }
  // e+ (PDG -11): the top decays leptonically; the two b-tagged jets are the b candidates.
  EXPECT_TRUE(r.leptonicTop);
  EXPECT_TRUE(r.bHadronicJet == 0 || r.bHadronicJet == 2);
  EXPECT_TRUE(r.bLeptonicJet == 0 || r.bLeptonicJet == 2);
  EXPECT_LT(r.quarkJet, r.antiquarkJet);
  const auto& P = r.partons;
  auto same = [](const FourVector& a, const FourVector& b) {
    return std::abs(a.e - b.e) + std::abs(a.px - b.px) + std::abs(a.py - b.py) +
               std::abs(a.pz - b.pz) <
           1e-9 * (1 + a.e);
  };
  EXPECT_TRUE(same(P[idx(Parton::top)],
                   P[idx(Parton::b)] + (P[idx(Parton::lepton)] + P[idx(Parton::neutrino)])));
  EXPECT_TRUE(same(P[idx(Parton::wMinus)], P[idx(Parton::quark)] + P[idx(Parton::antiquark)]));
  EXPECT_TRUE(same(P[idx(Parton::ttbar)], P[idx(Parton::top)] + P[idx(Parton::antitop)]));
  EXPECT_NEAR((P[idx(Parton::lepton)] + P[idx(Parton::neutrino)]).m(), constants::mW, 1e-6);
}

TEST(TTbarChi2, StatusCodes) {
  const TTbarChi2Reconstructor reco{TTbarChi2Config{}};
  TTbarRecoEvent ev = handMadeEvent();
  ev.selection = TTbarSelection::tooFewBTags;
  EXPECT_EQ(reco.reconstruct(ev).status, TTbarRecoStatus::notSelected);
  TTbarChi2Config loose;
  loose.requireSelection = false;
  const TTbarChi2Reconstructor any(loose);
  ev = handMadeEvent();
  ev.jets.pop_back();
  EXPECT_EQ(any.reconstruct(ev).status, TTbarRecoStatus::tooFewJets);
  const TTbarChi2Result none = any.reconstruct(ev);
  for (const double x : none.record()) EXPECT_EQ(x, 0.0);
  ev = handMadeEvent();
  ev.leptons.clear();
  EXPECT_EQ(any.reconstruct(ev).status, TTbarRecoStatus::noLepton);
  ev = handMadeEvent();
  ev.metX = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(reco.reconstruct(ev).status, TTbarRecoStatus::invalidInput);
  // m_T(l, MET) > m_W: no real root, the real part (docs/physics.md test point 26 kinematics).
  ev = handMadeEvent();
  ev.leptons[0].p4 = FourVector{40, 0, 10, std::sqrt(1700.0)};
  ev.metX = -50;
  ev.metY = 10;
  const TTbarChi2Result rp = reco.reconstruct(ev);
  EXPECT_EQ(rp.status, TTbarRecoStatus::neutrinoRealPart);
  EXPECT_NEAR(rp.neutrinoPz, 7.68995, 1e-4);
  // One tag among four jets: one b candidate must be it.
  ev = handMadeEvent();
  ev.jets[2].bTagged = false;
  const TTbarChi2Result one = any.reconstruct(ev);
  ASSERT_TRUE(reconstructed(one.status));
  EXPECT_TRUE(one.bHadronicJet == 0 || one.bLeptonicJet == 0);
}

TEST(TTbarChi2, InvalidConfigIsRejected) {
  TTbarChi2Config c;
  EXPECT_NO_THROW(c.validate());
  EXPECT_NE(c.toYaml().find("hadronic_w_sigma: 7\n"), std::string::npos);
  EXPECT_NE(c.toYaml().find("both_neutrino_roots: true\n"), std::string::npos);
  c.maxJets = 3;
  EXPECT_THROW(c.validate(), ConfigError);
  c = TTbarChi2Config{};
  c.hadronicWSigmaGeV = 0;
  EXPECT_THROW(TTbarChi2Reconstructor{c}, ConfigError);
  c = TTbarChi2Config{};
  c.topMassGeV = 50;
  EXPECT_THROW(c.validate(), ConfigError);
}
