// MMC point solver, docs/physics.md section 9 and test point 24: at the true (phi1, phi2, m_nu) the
// true pz is among the solutions to 1e-6 GeV.
#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Units.hpp"
#include "nurec/reco/ConstructedEvents.hpp"
#include "nurec/reco/NeutrinoSolver.hpp"

using namespace nurec;
using namespace nurec::reco;

TEST(NeutrinoSolver, TestPoint24TruePzAmongSolutions) {
  ConstructedEventsConfig c;
  c.channel = -2;  // all decay modes, including leptonic (massive invisible system)
  const auto events = constructEvents(c, 1000, 11);
  double worst = 0;
  for (const auto& ev : events) {
    // The transverse momenta follow from the MET and the true azimuths.
    const FourVector& n1 = ev.truth.neutrinos[0];
    const FourVector& n2 = ev.truth.neutrinos[1];
    double pt1 = 0, pt2 = 0;
    ASSERT_TRUE(invisiblePtFromMet(n1.px + n2.px, n1.py + n2.py, n1.phi(), n2.phi(), pt1, pt2));
    EXPECT_NEAR(pt1, n1.pt(), 1e-9 * ev.truth.boson.e);
    EXPECT_NEAR(pt2, n2.pt(), 1e-9 * ev.truth.boson.e);
    for (int t = 0; t < 2; ++t) {
      const FourVector& vis = ev.truth.visible[t];
      const FourVector& nu = ev.truth.neutrinos[t];
      std::array<double, 2> pz{};
      const int n = solveInvisiblePz(vis, vis.m2(), nu.pt(), nu.phi(), std::max(0.0, nu.m()),
                                     constants::mTau, pz);
      ASSERT_GE(n, 1);
      double best = 1e300;
      for (int k = 0; k < n; ++k) best = std::min(best, std::abs(pz[k] - nu.pz));
      worst = std::max(worst, best);
    }
  }
  EXPECT_LT(worst, 1e-6);
}

TEST(NeutrinoSolver, NoSolutionBeyondKinematicLimit) {
  // An invisible pT far above what a tau of this visible momentum allows: negative discriminant.
  const FourVector vis = FourVector::fromMomentumMass({20, 0, 10}, constants::mPiCharged);
  std::array<double, 2> pz{};
  EXPECT_EQ(solveInvisiblePz(vis, vis.m2(), 50, constants::pi / 2, 0, constants::mTau, pz), 0);
}

TEST(NeutrinoSolver, PtFromMetRejectsNegative) {
  double a = 0, b = 0;
  // MET along -x, azimuths of both neutrinos in the +x half plane.
  EXPECT_FALSE(invisiblePtFromMet(-30, 0, 0.3, -0.3, a, b));
  EXPECT_FALSE(invisiblePtFromMet(10, 10, 0.5, 0.5, a, b));  // parallel: degenerate
}
