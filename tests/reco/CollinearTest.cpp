// Collinear approximation: docs/physics.md section 9 and test point 23.
#include <gtest/gtest.h>

#include <limits>

#include "nurec/core/Error.hpp"
#include "nurec/reco/Collinear.hpp"
#include "nurec/reco/ConstructedEvents.hpp"

using namespace nurec;
using namespace nurec::reco;

TEST(Collinear, TestPoint23) {
  // vis1 = (30, 10, 20), vis2 = (-25, 5, -10) massless, MET = (-17.5, 14.166667)
  // -> x1 = 0.6, x2 = 0.4, m_vis = 62.0435, m_coll = 126.6457 (tolerance 1e-4).
  const FourVector v1 = FourVector::fromMomentumMass({30, 10, 20}, 0);
  const FourVector v2 = FourVector::fromMomentumMass({-25, 5, -10}, 0);
  const CollinearReconstructor reco(CollinearConfig{});
  const CollinearResult r = reco.solve(v1, v2, -17.5, 14.166667);
  ASSERT_EQ(r.status, RecoStatus::Ok);
  EXPECT_NEAR(r.x[0], 0.6, 1e-4);
  EXPECT_NEAR(r.x[1], 0.4, 1e-4);
  EXPECT_NEAR(r.mVisible, 62.0435, 1e-4);
  EXPECT_NEAR(r.mTauTau, 126.6457, 1e-4);
}

TEST(Collinear, ExactClosureOnCollinearEvents) {
  // Massless taus, massless visible part and neutrino along the tau, MET = the neutrinos: the
  // approximation holds exactly, so the true neutrinos come back to rounding.
  ConstructedEventsConfig c;
  c.collinearDecays = true;
  c.bosonMeanPtGeV = 30;
  const auto events = constructEvents(c, 2000, 7);
  const CollinearReconstructor reco(CollinearConfig{});
  int ok = 0;
  for (const auto& ev : events) {
    const CollinearResult r = reco.reconstruct(ev.reco);
    if (r.status == RecoStatus::BackToBack) continue;  // |sin dphi| < 0.05: flagged, not closed
    ASSERT_EQ(r.status, RecoStatus::Ok);
    ++ok;
    for (int t = 0; t < 2; ++t) {
      const FourVector& truth = ev.truth.neutrinos[t];
      const double scale = ev.truth.tau[t].e;
      EXPECT_NEAR(r.nu[t].px, truth.px, 1e-9 * scale);
      EXPECT_NEAR(r.nu[t].py, truth.py, 1e-9 * scale);
      EXPECT_NEAR(r.nu[t].pz, truth.pz, 1e-9 * scale);
      EXPECT_NEAR(r.nu[t].e, truth.e, 1e-9 * scale);
    }
    EXPECT_NEAR(r.mTauTau, ev.truth.boson.m(), 1e-8 * ev.truth.boson.m());
  }
  EXPECT_GT(ok, 1500);  // the rest are flagged back to back (~16 % at <pT(Z)> = 30 GeV)
}

TEST(Collinear, BackToBackIsFlagged) {
  // No boson recoil: the taus are exactly back to back in phi, D = 0.
  ConstructedEventsConfig c;
  c.collinearDecays = true;
  c.bosonMeanPtGeV = 0;
  const auto events = constructEvents(c, 100, 3);
  const CollinearReconstructor reco(CollinearConfig{});
  for (const auto& ev : events) EXPECT_EQ(reco.reconstruct(ev.reco).status, RecoStatus::BackToBack);
}

TEST(Collinear, UnphysicalXIsFlagged) {
  // MET pointing away from both visible taus: 1/x - 1 < 0 for both.
  const FourVector v1 = FourVector::fromMomentumMass({30, 0, 5}, 0);
  const FourVector v2 = FourVector::fromMomentumMass({0, 30, -5}, 0);
  const CollinearReconstructor reco(CollinearConfig{});
  EXPECT_EQ(reco.solve(v1, v2, -20, -20).status, RecoStatus::UnphysicalX);
  EXPECT_EQ(reco.solve(v1, v2, 20, 20).status, RecoStatus::Ok);
}

TEST(Collinear, BadInputGivesStatusNotCrash) {
  RecoEvent ev;
  ev.tau[0] = FourVector::fromMomentumMass({30, 0, 5}, 0);
  ev.tau[1] = FourVector::fromMomentumMass({0, 30, -5}, 0);
  ev.tauType = {RecoTauType::Pi, RecoTauType::Pi};
  ev.channel = Channel::PiPi;
  ev.metX = ev.metY = 10;
  const CollinearReconstructor reco(CollinearConfig{});
  EXPECT_EQ(reco.reconstruct(ev).status, RecoStatus::Ok);
  RecoEvent none = ev;
  none.channel = Channel::None;
  EXPECT_EQ(reco.reconstruct(none).status, RecoStatus::NotReconstructed);
  RecoEvent nan = ev;
  nan.tau[1].px = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(reco.reconstruct(nan).status, RecoStatus::InvalidInput);
  RecoEvent nanMet = ev;
  nanMet.metY = std::numeric_limits<double>::infinity();
  EXPECT_EQ(reco.reconstruct(nanMet).status, RecoStatus::InvalidInput);
}

TEST(Collinear, ConfigValidation) {
  CollinearConfig c;
  c.minAbsSinDeltaPhi = -0.1;
  EXPECT_THROW(CollinearReconstructor{c}, ConfigError);
}
