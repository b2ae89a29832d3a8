#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Polarimeter.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"

using namespace nurec;

namespace {
Vector3 randomDirection(Rng& rng) {
  const double c = rng.uniform(-1, 1), s = std::sqrt(1 - c * c), phi = rng.uniform(-3.14, 3.14);
  return {s * std::cos(phi), s * std::sin(phi), c};
}
}  // namespace

// docs/physics.md section 6: |h| = 1 exactly for true tau -> pi+- pi0 nu kinematics, any rho mass.
TEST(Polarimeter, UnitLengthForTrueRhoDecays) {
  Rng rng(5, 0);
  for (int i = 0; i < 1000; ++i) {
    const double mRho = rng.uniform(0.3, 1.6);
    const double pStar = (constants::mTau * constants::mTau - mRho * mRho) / (2 * constants::mTau);
    const Vector3 dir = randomDirection(rng);
    const FourVector rho = FourVector::fromMomentumMass(dir * pStar, mRho);
    const FourVector nu = FourVector::fromMomentumMass(-dir * pStar, 0.0);
    const double e1 = (mRho * mRho + constants::mPiCharged * constants::mPiCharged -
                       constants::mPiNeutral * constants::mPiNeutral) /
                      (2 * mRho);
    const double k = std::sqrt(e1 * e1 - constants::mPiCharged * constants::mPiCharged);
    const Vector3 d2 = randomDirection(rng);
    const FourVector piC =
        FourVector::fromMomentumMass(d2 * k, constants::mPiCharged).fromRestFrameOf(rho);
    const FourVector piN =
        FourVector::fromMomentumMass(-d2 * k, constants::mPiNeutral).fromRestFrameOf(rho);
    const Vector3 h = rhoPolarimeter(piC, piN, nu);
    EXPECT_NEAR(h.mag(), 1.0, 1e-9) << "event " << i;
  }
}

TEST(Polarimeter, DegenerateInputGivesZero) {
  EXPECT_EQ(rhoPolarimeter({}, {}, {}).mag(), 0.0);
}
