// Neutrino pz from the W-mass constraint: docs/physics.md test points 25 and 26.
#include <gtest/gtest.h>

#include <cmath>

#include "nurec/reco/WNeutrino.hpp"

using namespace nurec;
using namespace nurec::reco;

namespace {
FourVector masslessLepton(double px, double py, double pz) {
  return {px, py, pz, std::sqrt(px * px + py * py + pz * pz)};
}
}  // namespace

TEST(WNeutrino, TestPoint25TwoRootsSmallerChosen) {
  const auto s = solveWNeutrinoPz(masslessLepton(40, 10, 30), -20, 25, 80.379);
  ASSERT_EQ(s.status, WNeutrinoSolution::Status::twoRoots);
  EXPECT_NEAR(s.chosenPz, -22.6698, 1e-4);
  EXPECT_NEAR(s.otherPz, 117.2719, 1e-4);
  // Both roots give m(l + nu) = m_W.
  for (const double pz : {s.chosenPz, s.otherPz}) {
    const FourVector nu{-20, 25, pz, std::sqrt(400 + 625 + pz * pz)};
    EXPECT_NEAR((masslessLepton(40, 10, 30) + nu).m(), 80.379, 1e-9);
  }
}

TEST(WNeutrino, TestPoint26NoRealRootUsesRealPart) {
  const auto s = solveWNeutrinoPz(masslessLepton(40, 0, 10), -50, 10, 80.379);
  ASSERT_EQ(s.status, WNeutrinoSolution::Status::realPart);
  EXPECT_NEAR(s.transverseMass, 89.8845, 1e-4);
  EXPECT_NEAR(s.chosenPz, 7.68995, 1e-4);
}

TEST(WNeutrino, ZeroLeptonPtOrNonFiniteIsInvalid) {
  EXPECT_EQ(solveWNeutrinoPz(masslessLepton(0, 0, 30), 10, 10).status,
            WNeutrinoSolution::Status::invalid);
  EXPECT_EQ(solveWNeutrinoPz(masslessLepton(10, 0, 30), std::nan(""), 10).status,
            WNeutrinoSolution::Status::invalid);
}
