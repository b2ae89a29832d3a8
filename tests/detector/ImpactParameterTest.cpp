// Measured track impact parameters (docs/detector.md "Impact parameters"): the smeared d0, z0 of
// simulated events against the truth, in units of their stated resolution (docs/physics.md test
// point 33).
#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/ImpactParameter.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/generator/ZTauTau.hpp"

namespace nurec::detector {
namespace {

// Smeared d0 and z0 against the truth (track from the true decay vertex, perigee relative to the
// true primary vertex): pulls of unit width, since the stated resolution includes the
// primary-vertex smearing. Before smearing the d0 has the lifetime spread, well above zero.
TEST(ImpactParameter, SmearedPullsHaveUnitWidth) {
  generator::ZTauTauConfig g;
  g.nEvents = 8000;
  g.seed = 5;
  g.pilotPoints = 5000;
  const auto sample = generator::generateZTauTauEvents(g, 0);
  const DetectorConfig card;
  const DetectorSimulation sim(card);
  double sumD0 = 0, sumZ0 = 0, sumAbsTrue = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < sample.events.size(); ++i) {
    const auto& truth = sample.events[i];
    Rng rng(9, i, streams::detector), vertexRng(9, i, streams::detectorVertex);
    const RecoEvent reco = sim.simulate(truth, rng, &vertexRng).reco;
    ASSERT_TRUE(reco.hasImpactParameters);
    // Slot 0 holds the positive candidate: the tau+ (truth index 0) when both decays are 1-prong
    // (a 3-prong decay that kept one track may carry the other charge).
    if (truth.decayMode[0] == DecayMode::Other || truth.decayMode[1] == DecayMode::Other) continue;
    for (int t = 0; t < 2; ++t) {
      if (reco.tauType[t] == RecoTauType::None) continue;
      const bool hadronic =
          reco.tauType[t] == RecoTauType::Pi || reco.tauType[t] == RecoTauType::Rho;
      const Vector3 u = (hadronic ? reco.charged[t] : reco.tau[t]).vec();
      const Perigee p = trackPerigee(truth.tauDecayVertex[t], u, truth.primaryVertex);
      const auto& ip = reco.trackIp[t];
      sumD0 += std::pow((ip.d0Mm - p.d0Mm) / ip.sigmaD0Mm, 2);
      sumZ0 += std::pow((ip.z0Mm - p.z0Mm) / ip.sigmaZ0Mm, 2);
      sumAbsTrue += std::abs(p.d0Mm);
      ++n;
    }
  }
  ASSERT_GT(n, 1500u);  // SE of the pull RMS 1/sqrt(2n) < 0.019
  EXPECT_NEAR(std::sqrt(sumD0 / n), 1.0, 0.05);
  EXPECT_NEAR(std::sqrt(sumZ0 / n), 1.0, 0.05);
  EXPECT_GT(sumAbsTrue / n, 0.02);  // mean |d0| of tau daughters: tens of um
}

TEST(ImpactParameter, NoPositionsNoImpactParameters) {
  generator::ZTauTauConfig g;
  g.nEvents = 20;
  g.pilotPoints = 5000;
  g.beamSpot.enabled = false;
  const auto sample = generator::generateZTauTauEvents(g, 1);
  const DetectorSimulation sim{DetectorConfig{}};
  Rng rng(1, 0, streams::detector), vertexRng(1, 0, streams::detectorVertex);
  EXPECT_FALSE(sim.simulate(sample.events[0], rng, &vertexRng).reco.hasImpactParameters);
}

}  // namespace
}  // namespace nurec::detector
