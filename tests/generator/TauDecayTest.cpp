// Tau decays with spin against docs/physics.md sections 1 and 6 (test points 18-20, 30).
#include <gtest/gtest.h>

#include <cmath>

#include "common/SampleMean.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/TauDecays.hpp"

using namespace nurec;
using namespace nurec::generator;

namespace {

const Vector3 kK{0, 0, 1}, kR{1, 0, 0}, kN{0, 1, 0};

// Spin state with one tau fully polarised along +k, the other unpolarised: rho = 1/2 1 x |up><up|.
SpinState polarised(int tauIndex) {
  SpinState s;
  (tauIndex == 0 ? s.bPlus : s.bMinus)[0] = 1.0;
  return s;
}

FourVector sumOf(const TauDecay& d) {
  FourVector s;
  for (int i = 0; i < d.nVisible; ++i) s += d.visible[i].p4;
  for (int i = 0; i < d.nNeutrinos; ++i) s += d.neutrinos[i].p4;
  return s;
}
FourVector visibleOf(const TauDecay& d) {
  FourVector s;
  for (int i = 0; i < d.nVisible; ++i) s += d.visible[i].p4;
  return s;
}
}  // namespace

// docs/physics.md test point 20 and 30: the channel table and c tau.
TEST(TauDecays, BranchingFractionTable) {
  const auto& br = kTauBranchingFractions;
  EXPECT_DOUBLE_EQ(br[0], 0.1082);
  EXPECT_DOUBLE_EQ(br[1], 0.2549);
  EXPECT_DOUBLE_EQ(br[2], 0.1782);
  EXPECT_DOUBLE_EQ(br[3], 0.1739);
  EXPECT_NEAR(br[4], 0.2848, 1e-12);
  const double pairSum = br[0] * br[0] + 2 * br[0] * (br[2] + br[3] + br[1]) +
                         2 * br[1] * (br[2] + br[3]) + br[1] * br[1];
  EXPECT_NEAR(pairSum, 0.3875, 5e-5);  // quoted to 4 digits
  EXPECT_DOUBLE_EQ(constants::cTauTau, 0.08703);
}

TEST(TauDecays, SampledModeFractionsMatchPdg) {
  const TauDecayer dec;
  Rng rng(3, 0);
  const int n = 400000;
  std::array<int, 5> count{};
  for (int i = 0; i < n; ++i) ++count[static_cast<int>(dec.sampleMode(rng))];
  for (int m = 0; m < 5; ++m) {
    const double p = kTauBranchingFractions[m];
    const double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(count[m] / double(n), p, 4 * sigma) << decayModeName(static_cast<DecayMode>(m));
  }
}

// Four-momentum conservation in the rest frame, charges, polarimeter normalisation.
TEST(TauDecays, KinematicsAndPolarimeters) {
  const TauDecayer dec;
  Rng rng(4, 0);
  for (int mode = 0; mode < 5; ++mode)
    for (int charge : {-1, +1})
      for (int i = 0; i < 3000; ++i) {
        const TauDecay d = dec.decay(static_cast<DecayMode>(mode), charge, rng);
        const FourVector s = sumOf(d);
        ASSERT_NEAR(s.px, 0, 1e-9);
        ASSERT_NEAR(s.py, 0, 1e-9);
        ASSERT_NEAR(s.pz, 0, 1e-9);
        ASSERT_NEAR(s.e, constants::mTau, 1e-9);
        for (int j = 0; j < d.nNeutrinos; ++j) ASSERT_NEAR(d.neutrinos[j].p4.m2(), 0, 1e-9);
        // Visible charge = tau charge (pi+ 211, e+ -11, mu+ -13).
        int q = 0;
        for (int j = 0; j < d.nVisible; ++j) {
          const int id = d.visible[j].pdgId;
          if (std::abs(id) == 211) q += id > 0 ? 1 : -1;
          if (std::abs(id) == 11 || std::abs(id) == 13) q += id > 0 ? -1 : 1;
        }
        ASSERT_EQ(q, charge);
        const double hMag = d.polarimeter.mag();
        if (mode == 4)
          ASSERT_EQ(hMag, 0);
        else
          ASSERT_NEAR(hMag, 1, 1e-9) << "mode " << mode;  // |h| = 1 exactly for rho too
      }
}

// docs/physics.md test point 18 (and 19 integrated): analysing powers from fully polarised taus,
// via the correlated accept-reject of decayPair with a pure polarised state; kappa = 3 <x_k> for
// tau-, alpha(tau+) = -kappa. Tolerance: 4 statistical standard deviations.
TEST(TauDecays, AnalysingPowersFromPolarisedTaus) {
  const TauDecayer dec;
  Rng rng(5, 0);
  const int n = 150000;
  struct Case {
    DecayMode mode;
    const char* name;
    double kappa;
    int analyser;  // 0 charged/lepton direction, 1 polarimeter, 2 visible direction, 3 pi0
                   // direction
  };
  const Case cases[] = {{DecayMode::Pi, "pi", 1.0, 0},
                        {DecayMode::Rho, "rho polarimeter", 1.0, 1},
                        {DecayMode::Rho, "rho visible", 0.451, 2},
                        {DecayMode::Rho, "rho pi+-", -0.012, 0},
                        {DecayMode::Rho, "rho pi0", -0.023, 3},
                        {DecayMode::Electron, "e", -1.0 / 3, 0},
                        {DecayMode::Muon, "mu", -1.0 / 3, 0},
                        {DecayMode::Other, "other", 0.0, 2}};
  for (int tau : {0, 1}) {
    const SpinState spin = polarised(tau);
    for (const auto& c : cases) {
      SampleMean m;
      std::array<DecayMode, 2> modes{DecayMode::Pi, DecayMode::Pi};
      modes[tau] = c.mode;
      std::array<TauDecay, 2> out;
      for (int i = 0; i < n; ++i) {
        dec.decayPair(spin, modes, kK, kR, kN, rng, out);
        const TauDecay& d = out[tau];
        Vector3 x;
        if (c.analyser == 0) x = d.visible[0].p4.vec().unit();
        if (c.analyser == 1) x = (tau == 0 ? -1.0 : 1.0) * d.polarimeter;  // h itself
        if (c.analyser == 2) x = visibleOf(d).vec().unit();
        if (c.analyser == 3) x = d.visible[1].p4.vec().unit();
        m.add(3 * x.dot(kK));
      }
      const double expected = tau == 1 ? c.kappa : -c.kappa;  // alpha+ = -kappa
      EXPECT_NEAR(m.mean(), expected, 4 * m.err() + 1e-3) << c.name << (tau ? " tau-" : " tau+");
    }
  }
}

// The visible-rho analysing power at fixed m(pi pi0): (m_tau^2 - 2m^2)/(m_tau^2 + 2m^2) = 0.4485
// at m_rho, and the line-shape mean m = 0.774 GeV.
TEST(TauDecays, RhoLineShapeAndVisibleAnalysingPower) {
  const double mt2 = constants::mTau * constants::mTau, m2 = constants::mRho * constants::mRho;
  EXPECT_NEAR((mt2 - 2 * m2) / (mt2 + 2 * m2), 0.4485, 1e-4);
  const TauDecayer dec;
  Rng rng(6, 0);
  SampleMean mass, alphaBin;
  for (int i = 0; i < 300000; ++i) {
    const TauDecay d = dec.decay(DecayMode::Rho, -1, rng);
    const FourVector vis = visibleOf(d);
    mass.add(vis.m());
    // Unpolarised estimator of the visible-direction analysing power: kappa = <x.H>.
    if (std::abs(vis.m() - constants::mRho) < 0.01)
      alphaBin.add(vis.vec().unit().dot(d.polarimeter));
  }
  EXPECT_NEAR(mass.mean(), 0.774, 4 * mass.err() + 5e-4);
  EXPECT_NEAR(alphaBin.mean(), 0.4485, 4 * alphaBin.err() + 2e-3);  // bin of +-10 MeV
}

// docs/physics.md test point 19: lepton spectrum x^2 (3 - 2x) (unpolarised moments <x> = 0.7, <x^2>
// = 8/15) and the analysing power at x = 0.9: -(2x-1)/(3-2x) = -0.6667 (narrow bin, formula
// averaged over it).
TEST(TauDecays, MichelSpectrumAndAnalysingPowerAtHighX) {
  const TauDecayer dec;
  Rng rng(7, 0);
  SampleMean x1, x2, bin;
  const SpinState spin = polarised(1);
  std::array<TauDecay, 2> out;
  for (int i = 0; i < 400000; ++i) {
    dec.decayPair(spin, {DecayMode::Pi, DecayMode::Electron}, kK, kR, kN, rng, out);
    const FourVector& l = out[1].visible[0].p4;
    const double x = 2 * l.e / constants::mTau;
    const double cosT = l.vec().unit().dot(kK);
    // Polarised along k: the cos-odd term drops out of the x moments.
    x1.add(x);
    x2.add(x * x);
    if (x > 0.88 && x < 0.92) bin.add(3 * cosT);
  }
  EXPECT_NEAR(x1.mean(), 0.7, 4 * x1.err());
  EXPECT_NEAR(x2.mean(), 8.0 / 15, 4 * x2.err());
  // Bin average of -(2x-1)/(3-2x) weighted with x^2 (3-2x): ratio of integrals of x^2 (2x-1) and
  // x^2 (3-2x).
  double num = 0, den = 0;
  for (int i = 0; i < 1000; ++i) {
    const double x = 0.88 + 0.04 * (i + 0.5) / 1000;
    num += x * x * (2 * x - 1);
    den += x * x * (3 - 2 * x);
  }
  EXPECT_NEAR(-num / den, -0.6667, 0.01);  // the bin average is close to the x = 0.9 value
  EXPECT_NEAR(bin.mean(), -num / den, 4 * bin.err());
}

// The correlated accept-reject samples Tr[rho (D+ x D-)]: pi pi with a Z-like X state, where
// W = 1 - B+.x+ + B-.x- - x+.C.x- (docs/physics.md test point 17's joint coefficients).
TEST(TauDecays, PiPiJointDistributionCoefficients) {
  const TauDecayer dec;
  Rng rng(8, 0);
  SpinState s;
  s.bPlus = s.bMinus = {-0.15, 0.0, 0.0};
  s.c = {{{1.0, 0.0, 0.0}, {0.0, -0.6, -0.03}, {0.0, -0.03, 0.6}}};
  std::array<TauDecay, 2> out;
  const int n = 300000;
  std::array<std::array<SampleMean, 3>, 3> cij;
  std::array<SampleMean, 3> bp, bm;
  for (int i = 0; i < n; ++i) {
    dec.decayPair(s, {DecayMode::Pi, DecayMode::Pi}, kK, kR, kN, rng, out);
    const Vector3 xp = out[0].visible[0].p4.vec().unit(), xm = out[1].visible[0].p4.vec().unit();
    const double a[3] = {xp.dot(kK), xp.dot(kR), xp.dot(kN)},
                 b[3] = {xm.dot(kK), xm.dot(kR), xm.dot(kN)};
    for (int p = 0; p < 3; ++p) {
      bp[p].add(-3 * a[p]);
      bm[p].add(3 * b[p]);
      for (int q = 0; q < 3; ++q) cij[p][q].add(-9 * a[p] * b[q]);
    }
  }
  for (int p = 0; p < 3; ++p) {
    EXPECT_NEAR(bp[p].mean(), s.bPlus[p], 4 * bp[p].err());
    EXPECT_NEAR(bm[p].mean(), s.bMinus[p], 4 * bm[p].err());
    for (int q = 0; q < 3; ++q)
      EXPECT_NEAR(cij[p][q].mean(), s.c[p][q], 4 * cij[p][q].err()) << p << q;
  }
}

TEST(TauDecays, MaxCorrelationWeightIsFourLambdaMax) {
  // Pure triplet Phi+-like state C = diag(1, 1, -1): lambda_max = 1 -> W_max = 4.
  SpinState pure;
  pure.c = {{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}}};
  EXPECT_NEAR(TauDecayer::maxCorrelationWeight(pure), 4, 1e-6);
  SpinState mixed;
  mixed.c = {{{1, 0, 0}, {0, -0.5, 0}, {0, 0, 0.5}}};  // Bell-diagonal, lambda = 3/4
  EXPECT_NEAR(TauDecayer::maxCorrelationWeight(mixed), 3, 1e-6);
  EXPECT_NEAR(TauDecayer::maxCorrelationWeight(SpinState{}), 1, 1e-6);
}

// docs/physics.md test point 18 at higher precision with the unpolarised estimator: for |M|^2 =
// |M0|^2 (1 + H.s), the analysing power of an analyser x is kappa = <x.H> over unpolarised decays
// (tau- convention). Tolerance: 4 statistical standard deviations of 1e6 decays (about 2e-3).
TEST(TauDecays, AnalysingPowersUnpolarisedEstimator) {
  const TauDecayer dec;
  Rng rng(9, 0);
  const int n = 1000000;
  SampleMean rhoVisible, rhoCharged, rhoNeutral, electron, muon;
  for (int i = 0; i < n; ++i) {
    const TauDecay r = dec.decay(DecayMode::Rho, -1, rng);
    rhoVisible.add(visibleOf(r).vec().unit().dot(r.polarimeter));
    rhoCharged.add(r.visible[0].p4.vec().unit().dot(r.polarimeter));
    rhoNeutral.add(r.visible[1].p4.vec().unit().dot(r.polarimeter));
    const TauDecay e = dec.decay(DecayMode::Electron, -1, rng);
    electron.add(e.visible[0].p4.vec().unit().dot(e.polarimeter));
    const TauDecay mu = dec.decay(DecayMode::Muon, +1, rng);
    muon.add(-mu.visible[0].p4.vec().unit().dot(mu.polarimeter));  // tau+: H = -h
  }
  EXPECT_NEAR(rhoVisible.mean(), 0.451,
              4 * rhoVisible.err() + 5e-4);  // reference quoted to 3 digits
  EXPECT_NEAR(rhoCharged.mean(), -0.012, 4 * rhoCharged.err() + 5e-4);
  EXPECT_NEAR(rhoNeutral.mean(), -0.023, 4 * rhoNeutral.err() + 5e-4);
  EXPECT_NEAR(electron.mean(), -1.0 / 3, 4 * electron.err());
  // The muon mass changes the lepton-direction analysing power only at O(m_mu^2/m_tau^2).
  EXPECT_NEAR(muon.mean(), -1.0 / 3, 4 * muon.err() + 0.01);
}
