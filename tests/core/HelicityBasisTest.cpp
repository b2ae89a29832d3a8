#include <gtest/gtest.h>

#include "nurec/core/HelicityBasis.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"

using namespace nurec;

namespace {
// A random tau pair: pair mass 60-120 GeV, some pT and rapidity, random decay angles.
std::pair<FourVector, FourVector> randomPair(Rng& rng) {
  const double m = rng.uniform(60, 120);
  const double pStar = std::sqrt(m * m / 4 - constants::mTau * constants::mTau);
  const double c = rng.uniform(-1, 1), s = std::sqrt(1 - c * c), phi = rng.uniform(-3, 3);
  const Vector3 dir{s * std::cos(phi), s * std::sin(phi), c};
  const FourVector tauMinus = FourVector::fromMomentumMass(dir * pStar, constants::mTau);
  const FourVector tauPlus = FourVector::fromMomentumMass(-dir * pStar, constants::mTau);
  const FourVector pair =
      FourVector::fromMomentumMass({rng.normal(0, 20), rng.normal(0, 20), rng.normal(0, 300)}, m);
  return {tauPlus.fromRestFrameOf(pair), tauMinus.fromRestFrameOf(pair)};
}
}  // namespace

TEST(HelicityBasis, OrthonormalAndRightHanded) {
  Rng rng(11, 0);
  for (int i = 0; i < 2000; ++i) {
    auto [tp, tm] = randomPair(rng);
    const HelicityBasis b(tp, tm);
    EXPECT_NEAR(b.k().mag(), 1, 1e-12);
    EXPECT_NEAR(b.r().mag(), 1, 1e-12);
    EXPECT_NEAR(b.n().mag(), 1, 1e-12);
    EXPECT_NEAR(b.k().dot(b.r()), 0, 1e-12);
    EXPECT_NEAR(b.k().dot(b.n()), 0, 1e-12);
    EXPECT_NEAR(b.r().dot(b.n()), 0, 1e-12);
    EXPECT_NEAR(b.k().cross(b.r()).dot(b.n()), 1, 1e-12);  // right-handed
  }
}

TEST(HelicityBasis, TausAreAtRestInTheirFramesAndBackToBackInThePairFrame) {
  Rng rng(12, 0);
  for (int i = 0; i < 500; ++i) {
    auto [tp, tm] = randomPair(rng);
    const HelicityBasis b(tp, tm);
    EXPECT_NEAR(b.toTauRestFrame(tp, 0).p(), 0, 1e-9);
    EXPECT_NEAR(b.toTauRestFrame(tm, 1).p(), 0, 1e-9);
    EXPECT_NEAR((b.tauPlusInPair().vec() + b.tauMinusInPair().vec()).mag(), 0, 1e-9);
    // k points along the tau- and against the tau+ in the pair frame.
    EXPECT_NEAR(b.tauMinusInPair().vec().unit().dot(b.k()), 1, 1e-12);
    EXPECT_NEAR(b.tauPlusInPair().vec().unit().dot(b.k()), -1, 1e-12);
    // lab -> tau rest -> lab round trip.
    const FourVector probe{1.0, -2.0, 3.0, 5.0};
    const FourVector back = b.fromTauRestFrame(b.toTauRestFrame(probe, 1), 1);
    EXPECT_NEAR(back.px, probe.px, 1e-9);
    EXPECT_NEAR(back.e, probe.e, 1e-9);
  }
}

TEST(HelicityBasis, CosThetaForPairAtRest) {
  // Pair at rest: tau- at polar angle theta w.r.t. +z gives cos(theta) = k.z.
  const double c = 0.3, s = std::sqrt(1 - c * c), p = 40;
  const FourVector tm = FourVector::fromMomentumMass({p * s, 0, p * c}, constants::mTau);
  const FourVector tp = FourVector::fromMomentumMass({-p * s, 0, -p * c}, constants::mTau);
  const HelicityBasis b(tp, tm);
  EXPECT_NEAR(b.cosTheta(), c, 1e-12);
  // r lies in the (k, z) plane on the side of +z; n = k x r along -y here.
  EXPECT_GT(b.r().z, 0);
  EXPECT_NEAR(b.n().y, -1, 1e-12);
}
