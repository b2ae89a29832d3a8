#include <gtest/gtest.h>

#include "nurec/core/FourVector.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"

using namespace nurec;

namespace {
FourVector randomVector(Rng& rng, double mass) {
  return FourVector::fromMomentumMass({rng.normal(0, 40), rng.normal(0, 40), rng.normal(0, 200)},
                                      mass);
}
}  // namespace

TEST(FourVector, KinematicsOfKnownVector) {
  const auto v = FourVector::fromPtEtaPhiM(30.0, 1.2, -2.0, constants::mTau);
  EXPECT_NEAR(v.pt(), 30.0, 1e-12);
  EXPECT_NEAR(v.eta(), 1.2, 1e-12);
  EXPECT_NEAR(v.phi(), -2.0, 1e-12);
  EXPECT_NEAR(v.m(), constants::mTau, 1e-9);
  const FourVector massless{3, 4, 0, 5};
  EXPECT_DOUBLE_EQ(massless.m(), 0.0);
  EXPECT_DOUBLE_EQ(massless.rapidity(), 0.0);
}

TEST(FourVector, BoostRoundTripAndInvariantMass) {
  Rng rng(7, 0);
  for (int i = 0; i < 1000; ++i) {
    const FourVector a = randomVector(rng, 1.77686);
    const FourVector b = randomVector(rng, 0.13957);
    const FourVector frame = randomVector(rng, 91.0);
    const FourVector aRest = a.inRestFrameOf(frame);
    const FourVector back = aRest.fromRestFrameOf(frame);
    EXPECT_NEAR(back.px, a.px, 1e-9 * a.e);
    EXPECT_NEAR(back.py, a.py, 1e-9 * a.e);
    EXPECT_NEAR(back.pz, a.pz, 1e-9 * a.e);
    EXPECT_NEAR(back.e, a.e, 1e-9 * a.e);
    // Invariant mass of a pair is frame independent.
    const double mLab = (a + b).m();
    const double mRest = (a.inRestFrameOf(frame) + b.inRestFrameOf(frame)).m();
    EXPECT_NEAR(mRest, mLab, 1e-8 * (a + b).e);
    // A system in its own rest frame has zero momentum and E = m.
    const FourVector self = frame.inRestFrameOf(frame);
    EXPECT_NEAR(self.p(), 0.0, 1e-9 * frame.e);
    EXPECT_NEAR(self.e, frame.m(), 1e-9 * frame.e);
  }
}

TEST(FourVector, BoostOfParticleAtRestGivesVelocity) {
  const FourVector atRest{0, 0, 0, 2.0};
  const Vector3 beta{0.3, -0.4, 0.5};
  const FourVector moving = atRest.boosted(beta);
  EXPECT_NEAR(moving.boostVector().x, beta.x, 1e-14);
  EXPECT_NEAR(moving.boostVector().y, beta.y, 1e-14);
  EXPECT_NEAR(moving.boostVector().z, beta.z, 1e-14);
  EXPECT_NEAR(moving.m(), 2.0, 1e-12);
}

TEST(FourVector, PhiWrapping) {
  EXPECT_NEAR(wrapPhi(3 * constants::pi), constants::pi, 1e-12);
  EXPECT_NEAR(wrapPhi(-constants::pi), constants::pi, 1e-12);
  EXPECT_NEAR(deltaPhi(3.0, -3.0), 6.0 - 2 * constants::pi, 1e-12);
}
