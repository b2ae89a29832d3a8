// DetectorConfig: defaults = docs/physics.md section 10 and the ATLAS-like efficiencies of
// docs/detector.md, YAML card round trip, clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/detector/DetectorConfig.hpp"

using namespace nurec;
using namespace nurec::detector;

TEST(DetectorConfig, DefaultsAreTheAtlasCardValues) {
  const DetectorConfig c;
  EXPECT_NO_THROW(c.validate());
  // Tracking efficiency step functions (docs/physics.md section 10).
  EXPECT_EQ(c.pionTrackEfficiency(0.05, 0.0), 0.0);
  EXPECT_EQ(c.pionTrackEfficiency(0.5, 1.0), 0.70);
  EXPECT_EQ(c.pionTrackEfficiency(5, 1.0), 0.95);
  EXPECT_EQ(c.pionTrackEfficiency(5, 2.0), 0.85);
  EXPECT_EQ(c.pionTrackEfficiency(5, 2.6), 0.0);
  EXPECT_EQ(c.electronTrackEfficiency(50, 0.5), 0.95);
  EXPECT_EQ(c.electronTrackEfficiency(150, 0.5), 0.99);
  EXPECT_EQ(c.electronTrackEfficiency(150, 2.0), 0.90);
  EXPECT_EQ(c.muonTrackEfficiency(0.5, 2.0), 0.70);
  EXPECT_EQ(c.muonTrackEfficiency(30, 2.0), 0.98);
  // sigma(pT)/pT = sqrt(a^2 + (b pT)^2).
  EXPECT_NEAR(c.pionTrackResolution.relative(100, 0.2), std::hypot(0.06, 0.13), 1e-12);
  EXPECT_NEAR(c.pionTrackResolution.relative(100, 2.0), std::hypot(0.25, 0.31), 1e-12);
  EXPECT_NEAR(c.muonTrackResolution.relative(100, 1.0), std::hypot(0.015, 0.015), 1e-12);
  // ECAL 10.1 %/sqrt(E) (+) 0.17 %; HCAL barrel with the 1.59 GeV noise term.
  EXPECT_NEAR(c.ecal.sigma(100), std::sqrt(0.17 * 0.17 + 0.101 * 0.101 * 100), 1e-12);
  EXPECT_NEAR(c.hcalBarrel.sigma(50),
              std::sqrt(std::pow(0.0302 * 50, 2) + 0.5205 * 0.5205 * 50 + 1.59 * 1.59), 1e-12);
  EXPECT_EQ(c.jetRadius, 0.4);
  EXPECT_EQ(c.jetPtMinGeV, 20);
  EXPECT_EQ(c.metResolutionK, 0.5);
  EXPECT_EQ(c.diTauLeadPtGeV, 35);
  EXPECT_EQ(c.singleMuonPtGeV, 26);
  EXPECT_EQ(c.electronEtaMax, 2.47);
  // ATLAS-like analysis efficiencies (docs/detector.md "Efficiencies of the default card").
  EXPECT_EQ(c.tauIdEff1p0n, 0.75);
  EXPECT_EQ(c.tauIdEff1pXn, 0.75);
  EXPECT_EQ(c.electronIdEffCentral, 0.80);
  EXPECT_EQ(c.muonIdEffCentral, 0.96);
  EXPECT_EQ(c.pileupMeanInteractions, 0);
}

TEST(DetectorConfig, TriggerTurnOnIsAnErfWithPlateauAndStepLimit) {
  const DetectorConfig c;
  // Tau leg: 50 % of the 0.90 plateau at threshold + 3 GeV, width 3 GeV.
  EXPECT_NEAR(c.tauTrigger(28, 25, 0.3), 0.45, 1e-12);
  EXPECT_NEAR(c.tauTrigger(31, 25, 0.3), 0.90 * 0.5 * (1 + std::erf(1 / std::sqrt(2.0))), 1e-12);
  EXPECT_NEAR(c.tauTrigger(80, 25, 0.3), 0.90, 1e-9);
  EXPECT_LT(c.tauTrigger(20, 25, 0.3), 0.01);
  // Muon leg: barrel (|eta| <= 1.05) and endcap plateaus.
  EXPECT_NEAR(c.muonTrigger(60, 26, 0.5), 0.70, 1e-9);
  EXPECT_NEAR(c.muonTrigger(60, 26, 1.5), 0.88, 1e-9);
  // Monotonic in pT, and in the threshold (the nesting the single per-object draw relies on).
  for (double pt = 10; pt < 60; pt += 0.5) {
    EXPECT_LE(c.electronTrigger(pt, 26, 0.1), c.electronTrigger(pt + 0.5, 26, 0.1));
    EXPECT_LE(c.electronTrigger(pt, 26, 0.1), c.electronTrigger(pt, 17, 0.1));
  }
  // Width 0: a step at threshold + offset.
  const TriggerTurnOn step{2, 0, 1, 1, 2.5};
  EXPECT_EQ(step(27.1, 25, 0), 1.0);
  EXPECT_EQ(step(26.9, 25, 0), 0.0);
}

TEST(DetectorConfig, YamlRoundTripAndShippedCard) {
  DetectorConfig c;
  c.metResolutionK = 0.7;
  c.requireOppositeCharge = false;
  c.pionTrackResolution.a[2] = 0.3;
  c.muonTrigger.plateauForward = 0.8;
  c.pileupMeanInteractions = 20;
  const DetectorConfig back = detectorConfigFromYaml(c.toYaml(), "test");
  EXPECT_EQ(back.toYaml(), c.toYaml());
  EXPECT_EQ(back.metResolutionK, 0.7);
  EXPECT_FALSE(back.requireOppositeCharge);
  EXPECT_EQ(back.pionTrackResolution.a[2], 0.3);
  EXPECT_EQ(back.muonTrigger.plateauForward, 0.8);
  EXPECT_EQ(back.pileupMeanInteractions, 20);
  // The shipped card holds exactly the defaults.
  const DetectorConfig card =
      loadDetectorConfig(std::string(NUREC_SOURCE_DIR) + "/configs/detector_atlas.yaml");
  EXPECT_EQ(card.toYaml(), DetectorConfig{}.toYaml());
  // A partial card changes only what it names.
  const DetectorConfig partial = detectorConfigFromYaml("jets:\n  pt_min_gev: 30\n", "partial");
  EXPECT_EQ(partial.jetPtMinGeV, 30);
  EXPECT_EQ(partial.jetRadius, 0.4);
  // The pile-up card changes <mu> only.
  const DetectorConfig pileup =
      loadDetectorConfig(std::string(NUREC_SOURCE_DIR) + "/configs/detector_atlas_pileup.yaml");
  DetectorConfig expected;
  expected.pileupMeanInteractions = 34;
  EXPECT_EQ(pileup.toYaml(), expected.toYaml());
}

// The what-it-would-take vertexing card divides every vertexing resolution by 5 and changes
// nothing else (docs/reco.md "Five times better vertexing").
TEST(DetectorConfig, VertexingTimesFiveCardDividesEveryVertexingResolution) {
  DetectorConfig card = loadDetectorConfig(std::string(NUREC_SOURCE_DIR) +
                                           "/configs/variations/detector_vertexing_x5.yaml");
  const DetectorConfig defaults;
  double* changed[] = {&card.primaryVertexSigmaTransverseMm,
                       &card.primaryVertexSigmaLongitudinalMm,
                       &card.d0ResolutionAMm,
                       &card.d0ResolutionBMmGeV,
                       &card.z0ResolutionAMm,
                       &card.z0ResolutionBMmGeV};
  const double nominal[] = {defaults.primaryVertexSigmaTransverseMm,
                            defaults.primaryVertexSigmaLongitudinalMm,
                            defaults.d0ResolutionAMm,
                            defaults.d0ResolutionBMmGeV,
                            defaults.z0ResolutionAMm,
                            defaults.z0ResolutionBMmGeV};
  for (int i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(*changed[i] * 5, nominal[i]) << "vertexing resolution " << i;
    *changed[i] = nominal[i];
  }
  EXPECT_EQ(card.toYaml(), defaults.toYaml());  // nothing else changed
}

TEST(DetectorConfig, ClearErrors) {
  auto message = [](const std::string& yaml) {
    try {
      detectorConfigFromYaml(yaml, "card.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("jets:\n  ptmin: 30\n").find("unknown key 'jets.ptmin'"), std::string::npos);
  EXPECT_NE(message("jets:\n  pt_min_gev: fast\n").find("expected a number"), std::string::npos);
  EXPECT_NE(message("taus:\n  id_eff_1p0n: 1.5\n").find("[0, 1]"), std::string::npos);
  EXPECT_NE(message("triggers:\n  tau_turn_on:\n    plateau_central: 2\n")
                .find("triggers.tau_turn_on: plateaus"),
            std::string::npos);
  EXPECT_NE(message("pileup:\n  mean_interactions: -1\n").find("pileup.mean_interactions"),
            std::string::npos);
  EXPECT_NE(message("jets: [1, 2\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(message("triggers:\n  ditau_lead_pt_gev: 20\n").find("ditau_lead_pt_gev"),
            std::string::npos);
  EXPECT_THROW(loadDetectorConfig("/nonexistent/card.yaml"), ConfigError);
  DetectorConfig bad;
  bad.ecal.stochastic = -0.1;
  EXPECT_THROW(bad.validate(), ConfigError);
  bad = DetectorConfig{};
  bad.jetRadius = std::nan("");
  EXPECT_THROW(bad.validate(), ConfigError);
}
