// Generator positions (docs/physics.md section 13): the beam spot, the exponential tau flight with
// mean gamma beta c tau along the tau momentum, and positions that leave the momenta untouched.
#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/ZTauTau.hpp"

namespace nurec::generator {
namespace {

ZTauTauConfig config(std::size_t n) {
  ZTauTauConfig c;
  c.nEvents = n;
  c.seed = 21;
  c.pilotPoints = 5000;
  return c;
}

TEST(Vertices, FlightLengthIsExponentialWithMeanGammaBetaCTau) {
  const auto sample = generateZTauTauEvents(config(20000), 0);
  double sumRatio = 0, sumRatio2 = 0, sumX = 0, sumX2 = 0, sumZ2 = 0;
  std::size_t n = 0;
  for (const auto& ev : sample.events) {
    ASSERT_TRUE(ev.hasVertices);
    sumX += ev.primaryVertex.x;
    sumX2 += ev.primaryVertex.x * ev.primaryVertex.x;
    sumZ2 += ev.primaryVertex.z * ev.primaryVertex.z;
    for (int t = 0; t < 2; ++t) {
      const Vector3 flight = ev.tauDecayVertex[t] - ev.primaryVertex;
      // Along the tau momentum.
      EXPECT_GT(flight.unit().dot(ev.tau[t].vec().unit()), 1 - 1e-9);
      const double lambda = ev.tau[t].p() / constants::mTau * constants::cTauTau;
      const double r = flight.mag() / lambda;  // Exp(1): mean 1, variance 1
      sumRatio += r;
      sumRatio2 += r * r;
      ++n;
    }
  }
  const double mean = sumRatio / n, var = sumRatio2 / n - mean * mean;
  EXPECT_NEAR(mean, 1.0, 4.0 / std::sqrt(n));
  EXPECT_NEAR(var, 1.0, 0.1);  // Var(Exp(1)) = 1; SD of the estimate ~ sqrt(8/n) = 0.014
  const double nEv = static_cast<double>(sample.events.size());
  const BeamSpotConfig beam;
  EXPECT_NEAR(sumX / nEv, 0.0, 4 * beam.sigmaTransverseMm / std::sqrt(nEv));
  EXPECT_NEAR(std::sqrt(sumX2 / nEv), beam.sigmaTransverseMm, 0.03 * beam.sigmaTransverseMm);
  EXPECT_NEAR(std::sqrt(sumZ2 / nEv), beam.sigmaLongitudinalMm, 0.03 * beam.sigmaLongitudinalMm);
}

TEST(Vertices, PositionsLeaveTheMomentaUnchanged) {
  ZTauTauConfig without = config(500);
  without.beamSpot.enabled = false;
  const auto a = generateZTauTauEvents(config(500), 1);
  const auto b = generateZTauTauEvents(without, 2);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_TRUE(a.events[i].hasVertices);
    EXPECT_FALSE(b.events[i].hasVertices);
    for (int t = 0; t < 2; ++t) {
      EXPECT_EQ(a.events[i].tau[t].px, b.events[i].tau[t].px);
      EXPECT_EQ(a.events[i].visible[t].pz, b.events[i].visible[t].pz);
    }
    EXPECT_EQ(a.events[i].recoil.size(), b.events[i].recoil.size());
  }
}

TEST(Vertices, BadBeamSpotIsAConfigError) {
  BeamSpotConfig c;
  c.sigmaLongitudinalMm = -1;
  EXPECT_THROW(c.validate(), ConfigError);
  EXPECT_THROW(zTauTauConfigFromYaml("beam_spot:\n  sigma_transverse_mm: .nan\n", "card"),
               ConfigError);
}

}  // namespace
}  // namespace nurec::generator
