// The t tbar detector (docs/ttbar.md "Detector"): jet response in known limits, efficiencies,
// determinism, the selection cutflow of a generated sample and the point cloud layout.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/detector/ttbar/TTbarDetector.hpp"

using namespace nurec;
using namespace nurec::detector::ttbar;
using generator::ttbar::Parton;
using generator::ttbar::TTbarEvent;

namespace {
constexpr int idx(Parton p) {
  return static_cast<int>(p);
}

// A hand-made event: four quarks at eta 0, 90 degrees apart, pT `ptJet`; the lepton at eta 1;
// the neutrino balances them (no ISR), so a perfect detector measures MET = pT(nu).
TTbarEvent syntheticEvent(double ptJet = 100, int quarkPdg = 1, int leptonPdg = -13) {
  TTbarEvent ev;
  auto& P = ev.partons;
  P[idx(Parton::b)] = FourVector::fromPtEtaPhiM(ptJet, 0.0, 0.0, 4.8);
  P[idx(Parton::bbar)] = FourVector::fromPtEtaPhiM(ptJet, 0.0, constants::pi / 2, 4.8);
  P[idx(Parton::quark)] = FourVector::fromPtEtaPhiM(ptJet, 0.0, constants::pi, 0.0);
  P[idx(Parton::antiquark)] = FourVector::fromPtEtaPhiM(ptJet, 0.0, -constants::pi / 2, 0.0);
  P[idx(Parton::lepton)] = FourVector::fromPtEtaPhiM(60, 1.0, constants::pi / 4, 0.10566);
  FourVector sum;
  for (int i = 0; i < 5; ++i) sum += P[i];
  P[idx(Parton::neutrino)] = FourVector::fromMomentumMass({-sum.px, -sum.py, 20.0}, 0.0);
  ev.quarkPdg = quarkPdg;
  ev.antiquarkPdg = -2;
  ev.leptonPdg = leptonPdg;
  ev.leptonicTop = leptonPdg < 0;
  return ev;
}

const TTbarJet* jetOf(const TTbarRecoEvent& r, Parton p) {
  for (const auto& j : r.jets)
    if (j.truthParton == idx(p)) return &j;
  return nullptr;
}

const generator::ttbar::TTbarSample& generated() {
  static const generator::ttbar::TTbarSample s = [] {
    generator::ttbar::TTbarConfig c;
    c.seed = 31;
    c.nEvents = 4000;
    return generator::ttbar::generateTTbarEvents(c, 2);
  }();
  return s;
}
}  // namespace

// Light jets at 100 GeV: mean response 1 (the calibration undoes the mean out-of-cone loss) and a
// width of the calorimeter term (+) the loss spread mu/(1 - mu); b jets lower by the neutrinos of
// semileptonic decays, 0.40 x 0.15 / 0.94 = 0.064.
TEST(TTbarDetector, JetResponseMeanAndWidth) {
  const TTbarDetectorConfig config;
  const TTbarDetector det(config);
  const TTbarEvent ev = syntheticEvent(100);
  std::vector<double> light, b, dEta;
  for (std::size_t i = 0; i < 20000; ++i) {
    const TTbarRecoEvent r = det.simulate(ev, i, 5);
    if (const TTbarJet* j = jetOf(r, Parton::quark)) {
      light.push_back(j->p4.e / ev.partons[idx(Parton::quark)].e);
      dEta.push_back(j->p4.eta());
    }
    if (const TTbarJet* j = jetOf(r, Parton::b))
      b.push_back(j->p4.e / ev.partons[idx(Parton::b)].e);
  }
  const double mu = config.outOfConeMeanFraction;
  const double calo = det.jetEnergyResolution(100, 0);
  const double expectedWidth = std::hypot(calo, mu / (1 - mu));
  std::printf("light response %.4f, width %.4f (expected %.4f); b response %.4f; sigma(eta) %.4f\n",
              meanOf(light), standardDeviationOf(light), expectedWidth, meanOf(b),
              standardDeviationOf(dEta));
  EXPECT_NEAR(meanOf(light), 1.0, 0.005);
  EXPECT_NEAR(standardDeviationOf(light), expectedWidth, 0.05 * expectedWidth);
  const double bLoss =
      config.bSemileptonicProbability * 0.5 * config.bNeutrinoMaxFraction / (1 - mu);
  EXPECT_NEAR(meanOf(b), 1.0 - bLoss, 0.006);
  EXPECT_NEAR(standardDeviationOf(dEta), std::hypot(config.jetAngleConstant, 1.0 / 100), 0.002);
  EXPECT_NEAR(calo, std::sqrt(0.0302 * 0.0302 + 0.5205 * 0.5205 / 100 + 0.0159 * 0.0159), 1e-12);
}

// A perfect detector returns the partons as jets and the neutrino pT as MET.
TEST(TTbarDetector, PerfectDetectorReturnsThePartons) {
  const TTbarDetector det(perfectDetector());
  const TTbarEvent ev = syntheticEvent(80);
  const TTbarRecoEvent r = det.simulate(ev, 0, 1);
  ASSERT_EQ(r.jets.size(), 4u);
  ASSERT_EQ(r.leptons.size(), 1u);
  EXPECT_EQ(r.selection, TTbarSelection::selected);
  EXPECT_EQ(r.bTagCount(), 2);
  for (const Parton p : {Parton::b, Parton::bbar, Parton::quark, Parton::antiquark}) {
    const TTbarJet* j = jetOf(r, p);
    ASSERT_NE(j, nullptr);
    EXPECT_NEAR(j->p4.e, ev.partons[idx(p)].e, 1e-9);
    EXPECT_NEAR(j->p4.px, ev.partons[idx(p)].px, 1e-9);
    EXPECT_NEAR(j->p4.m(), ev.partons[idx(p)].m(), 1e-6);
    EXPECT_EQ(j->bTagged, p == Parton::b || p == Parton::bbar);
  }
  EXPECT_NEAR(r.metX, ev.partons[idx(Parton::neutrino)].px, 1e-9);
  EXPECT_NEAR(r.metY, ev.partons[idx(Parton::neutrino)].py, 1e-9);
  EXPECT_EQ(r.leptons[0].charge(), +1);
  EXPECT_TRUE(r.leptons[0].isMuon());
  // Two partons closer than R = 0.4 make one jet, labelled by the more energetic one.
  TTbarEvent close = ev;
  close.partons[idx(Parton::quark)] = FourVector::fromPtEtaPhiM(50, 0.2, 0.1, 0.0);
  const TTbarRecoEvent m = det.simulate(close, 0, 1);
  EXPECT_EQ(m.jets.size(), 3u);
  EXPECT_EQ(jetOf(m, Parton::quark), nullptr);
  ASSERT_NE(jetOf(m, Parton::b), nullptr);
  EXPECT_NEAR(jetOf(m, Parton::b)->p4.e,
              (ev.partons[idx(Parton::b)] + close.partons[idx(Parton::quark)]).e, 1e-9);
  EXPECT_EQ(m.selection, TTbarSelection::tooFewJets);
}

// Efficiencies: b-tag (the Delphes shape at 100 GeV), charm and light mistag, lepton efficiency.
TEST(TTbarDetector, TaggingAndLeptonEfficiencies) {
  TTbarDetectorConfig config;
  const TTbarDetector det(config);
  EXPECT_NEAR(config.bTag(30, 0), 0.80 * std::tanh(0.09) * 30 / (1 + 0.086 * 30), 1e-12);
  EXPECT_NEAR(config.bTag(100, 2.0), 0.9 * config.bTag(100, 0.0), 1e-12);
  for (const int leptonPdg : {-13, 11}) {
    const TTbarEvent ev = syntheticEvent(100, 4, leptonPdg);  // q is a c quark
    double nB = 0, tagB = 0, nC = 0, tagC = 0, nL = 0, tagL = 0, lep = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
      const TTbarRecoEvent r = det.simulate(ev, static_cast<std::size_t>(i), 9);
      for (const auto& j : r.jets) {
        if (j.truthFlavour == 5) nB += 1, tagB += j.bTagged;
        if (j.truthFlavour == 4) nC += 1, tagC += j.bTagged;
        if (j.truthFlavour == 2) nL += 1, tagL += j.bTagged;
      }
      lep += r.leptons.size();
    }
    const double effB = tagB / nB, effC = tagC / nC, effL = tagL / nL;
    const double pB = config.bTag(100, 0);  // the response moves pT a little; 0.01 allows it
    std::printf("lepton %d: eff(b) %.4f (shape at 100 GeV %.4f), c %.4f, light %.4f, lepton %.4f\n",
                leptonPdg, effB, pB, effC, effL, lep / n);
    EXPECT_NEAR(effB, pB, 0.01);
    EXPECT_NEAR(effC, 0.10, 4 * std::sqrt(0.09 / nC));
    EXPECT_NEAR(effL, 0.01, 4 * std::sqrt(0.0099 / nL));
    // The lepton is at |eta| = 1 (central) and far from the jets.
    const double expected = leptonPdg == -13 ? 0.95 : 0.76;
    EXPECT_NEAR(lep / n, expected, 4 * std::sqrt(expected * (1 - expected) / n));
  }
}

TEST(TTbarDetector, DeterministicPerEventIndex) {
  const TTbarDetector det{TTbarDetectorConfig{}};
  const auto& s = generated();
  for (std::size_t i = 0; i < 50; ++i) {
    const TTbarRecoEvent a = det.simulate(s.events[i], i, 3);
    Rng rng(3, i, kTTbarDetectorStream);
    const TTbarRecoEvent b = det.simulate(s.events[i], rng);
    ASSERT_EQ(a.jets.size(), b.jets.size());
    for (std::size_t k = 0; k < a.jets.size(); ++k) {
      EXPECT_EQ(a.jets[k].p4, b.jets[k].p4);
      EXPECT_EQ(a.jets[k].bTagged, b.jets[k].bTagged);
    }
    EXPECT_EQ(a.metX, b.metX);
    EXPECT_EQ(a.selection, b.selection);
  }
  // A sample in one go with 1 and 2 threads, and in two chunks: the same events.
  const std::vector<TTbarEvent> head(s.events.begin(), s.events.begin() + 300);
  const auto one = simulateEvents(det, head, 3, 1), two = simulateEvents(det, head, 3, 2);
  const std::vector<TTbarEvent> tail(head.begin() + 100, head.end());
  const auto chunk = simulateEvents(det, tail, 3, 2, 100);
  for (std::size_t i = 0; i < head.size(); ++i) {
    ASSERT_EQ(one[i].jets.size(), two[i].jets.size());
    EXPECT_EQ(one[i].metX, two[i].metX);
    EXPECT_EQ(pointCloud(one[i]).features, pointCloud(two[i]).features);
    if (i >= 100) {
      EXPECT_EQ(pointCloud(one[i]).features, pointCloud(chunk[i - 100]).features);
    }
  }
  const TTbarRecoEvent x = det.simulate(s.events[0], 0, 3), y = det.simulate(s.events[0], 0, 4);
  EXPECT_NE(x.metX, y.metX);
  const TTbarRecoEvent z = det.simulate(s.events[0], 1, 3);
  EXPECT_NE(x.metX, z.metX);
}

// The study's selection on a generated sample (ISR on): the cutflow, the selection efficiency
// quoted in docs/ttbar.md, chunked cutflows adding up, truth labels and MET resolution.
TEST(TTbarDetector, SelectionCutflowOnGeneratedSample) {
  const TTbarDetector det{TTbarDetectorConfig{}};
  const auto& s = generated();
  TTbarCutflow all, first, second;
  double isrJets = 0, jets = 0, selectedJets = 0;
  double nFlavour[3] = {}, tagged[3] = {};  // b, c, light (u, d, s, g) among kept jets
  std::vector<double> metDx;
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const TTbarRecoEvent r = det.simulate(s.events[i], i, 17);
    all.add(r);
    (i < s.events.size() / 2 ? first : second).add(r);
    for (const auto& j : r.jets) {
      jets += 1;
      isrJets += j.truthParton == kNoParton;
      const int k = j.truthFlavour == 5 ? 0 : (j.truthFlavour == 4 ? 1 : 2);
      nFlavour[k] += 1;
      tagged[k] += j.bTagged;
      EXPECT_GT(j.p4.pt(), 25);
      EXPECT_LT(std::abs(j.p4.eta()), 2.5);
    }
    for (std::size_t k = 1; k < r.jets.size(); ++k)
      EXPECT_GE(r.jets[k - 1].p4.pt(), r.jets[k].p4.pt());
    if (r.selected()) {
      selectedJets += static_cast<double>(r.jets.size());
      metDx.push_back(r.metX - s.events[i].partons[idx(Parton::neutrino)].px);
    }
  }
  first += second;
  EXPECT_EQ(first.events, all.events);
  EXPECT_EQ(first.oneLepton, all.oneLepton);
  EXPECT_EQ(first.fourJets, all.fourJets);
  EXPECT_EQ(first.twoBTags, all.twoBTags);
  EXPECT_EQ(first.muons + first.electrons, all.twoBTags);
  std::printf("%s", all.format().c_str());
  std::printf(
      "selection efficiency %.4f; ISR share of kept jets %.3f; jets per selected event "
      "%.2f; MET_x - pT_x(nu): mean %.2f, sd %.2f GeV\n",
      all.efficiency(), isrJets / jets, selectedJets / all.twoBTags, meanOf(metDx),
      standardDeviationOf(metDx));
  // docs/ttbar.md "Selection": 0.146 for this sample (binomial sd 0.006).
  EXPECT_NEAR(all.efficiency(), 0.146, 0.025);
  std::printf("b-tag rate of kept jets: b %.3f, c %.3f, light %.4f\n", tagged[0] / nFlavour[0],
              tagged[1] / nFlavour[1], tagged[2] / nFlavour[2]);
  EXPECT_NEAR(tagged[0] / nFlavour[0], 0.66, 0.04);
  EXPECT_NEAR(tagged[1] / nFlavour[1], 0.10, 0.03);
  EXPECT_NEAR(tagged[2] / nFlavour[2], 0.01, 0.006);
  EXPECT_GT(all.oneLepton, all.fourJets);
  EXPECT_GT(all.muons, all.electrons);  // muons are found more often (0.95 vs 0.76)
  EXPECT_GT(isrJets, 0);
  EXPECT_NEAR(meanOf(metDx), 0.0, 2.0);
  EXPECT_LT(standardDeviationOf(metDx), 40.0);
}

// 12 features per slot: lepton in slot 0, jets from slot 1 in pT order, mask, MET apart.
TEST(TTbarDetector, PointCloudLayout) {
  const TTbarDetector det(perfectDetector());
  const TTbarEvent ev = syntheticEvent(80, 1, 11);
  const TTbarRecoEvent r = det.simulate(ev, 0, 1);
  const TTbarPointCloud c = pointCloud(r);
  EXPECT_EQ(c.mask[0], 1);
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(c.mask[i], 1);
  for (int i = 5; i < kCloudSlots; ++i) {
    EXPECT_EQ(c.mask[i], 0);
    for (const float f : c.features[i]) EXPECT_EQ(f, 0.0f);
  }
  const auto& l = c.features[0];
  EXPECT_FLOAT_EQ(l[feature::isElectron], 1);
  EXPECT_FLOAT_EQ(l[feature::isMuon], 0);
  EXPECT_FLOAT_EQ(l[feature::charge], -1);  // PDG 11 is e-
  EXPECT_FLOAT_EQ(l[feature::logPt], static_cast<float>(std::log(r.leptons[0].p4.pt())));
  EXPECT_FLOAT_EQ(l[feature::energy], static_cast<float>(r.leptons[0].p4.e / 50));
  int tagged = 0;
  for (int i = 1; i <= 4; ++i) {
    const auto& j = c.features[i];
    EXPECT_FLOAT_EQ(j[feature::isBTaggedJet] + j[feature::isUntaggedJet], 1);
    EXPECT_FLOAT_EQ(j[feature::isElectron] + j[feature::isMuon] + j[feature::charge], 0);
    EXPECT_FLOAT_EQ(j[feature::px], static_cast<float>(r.jets[i - 1].p4.px / 50));
    EXPECT_FLOAT_EQ(j[feature::eta], static_cast<float>(r.jets[i - 1].p4.eta()));
    tagged += j[feature::isBTaggedJet] == 1;
  }
  EXPECT_EQ(tagged, 2);
  EXPECT_FLOAT_EQ(c.metX, static_cast<float>(r.metX));
  // At most 20 jets.
  TTbarRecoEvent many = r;
  many.jets.assign(30, r.jets[0]);
  const TTbarPointCloud cm = pointCloud(many);
  for (int i = 0; i < kCloudSlots; ++i) EXPECT_EQ(cm.mask[i], 1);
}

TEST(TTbarDetector, InvalidConfigIsRejected) {
  TTbarDetectorConfig c;
  EXPECT_NO_THROW(c.validate());
  EXPECT_NE(c.toYaml().find("charm_mistag: 0.1"), std::string::npos);
  c.lightMistag = 1.5;
  EXPECT_THROW(c.validate(), ConfigError);
  c = TTbarDetectorConfig{};
  c.jetBarrel.stochastic = -1;
  EXPECT_THROW(TTbarDetector{c}, ConfigError);
  c = TTbarDetectorConfig{};
  c.maxJets = 2;
  EXPECT_THROW(c.validate(), ConfigError);
  c = TTbarDetectorConfig{};
  c.outOfConeMeanFraction = 0.7;
  EXPECT_THROW(c.validate(), ConfigError);
  EXPECT_NO_THROW(perfectDetector().validate());
}

// The card in YAML: toYaml reads back exactly; partial cards change only their keys; unknown keys
// and bad values name the key.
TEST(TTbarDetector, YamlCardRoundTrip) {
  TTbarDetectorConfig c;
  c.lightMistag = 0.004;
  c.maxJets = 12;
  c.muonTrack.bPerGeV[2] = 4e-4;
  c.jetEndcap.stochastic = 0.75;
  const TTbarDetectorConfig back = ttbarDetectorConfigFromYaml(c.toYaml());
  EXPECT_EQ(back.toYaml(), c.toYaml());
  EXPECT_EQ(back.maxJets, 12);
  EXPECT_EQ(back.muonTrack.bPerGeV[2], 4e-4);
  EXPECT_EQ(back.jetEndcap.stochastic, 0.75);
  const TTbarDetectorConfig partial =
      ttbarDetectorConfigFromYaml("b_tag:\n  light_mistag: 0.02\n  b:\n    norm: 0.7\n");
  EXPECT_EQ(partial.lightMistag, 0.02);
  EXPECT_EQ(partial.bTag.norm, 0.7);
  EXPECT_EQ(partial.charmMistag, TTbarDetectorConfig{}.charmMistag);
  EXPECT_EQ(ttbarDetectorConfigFromYaml("").toYaml(), TTbarDetectorConfig{}.toYaml());
  auto message = [](const std::string& yaml) {
    try {
      ttbarDetectorConfigFromYaml(yaml, "card.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("jets:\n  ptmin: 3\n").find("unknown key 'jets.ptmin'"), std::string::npos);
  EXPECT_NE(message("jets:\n  pt_min: abc\n").find("'jets.pt_min'"), std::string::npos);
  EXPECT_NE(message("b_tag:\n  light_mistag: 2\n").find("card.yaml"), std::string::npos);
  EXPECT_NE(message("jets: [1, 2\n").find("not valid YAML"), std::string::npos);
}
