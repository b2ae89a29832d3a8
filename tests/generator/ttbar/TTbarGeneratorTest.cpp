// The t tbar generator against docs/physics.md section 11: cross section, W helicity fractions,
// lepton cos(theta*), spin correlations, record layout, determinism (docs/ttbar.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/generator/ttbar/TTbarGenerator.hpp"

using namespace nurec;
using namespace nurec::generator::ttbar;

namespace {
constexpr int idx(Parton p) {
  return static_cast<int>(p);
}

const TTbarSample& sample(bool spin) {
  static TTbarSample on, off;
  TTbarSample& s = spin ? on : off;
  if (s.events.empty()) {
    TTbarConfig c;
    c.seed = spin ? 11 : 12;
    c.nEvents = 60000;
    c.spinCorrelations = spin;
    s = generateTTbarEvents(c, 1);
  }
  return s;
}

// Helicity fractions from the moments of cos(theta*): F0 = 2 - 5<c^2>, F_R - F_L = 2<c>.
HelicityFractions fractionsFromMoments(double m1, double m2) {
  HelicityFractions f;
  f.longitudinal = 2 - 5 * m2;
  f.left = 0.5 * (1 - f.longitudinal - 2 * m1);
  f.right = 0.5 * (1 - f.longitudinal + 2 * m1);
  return f;
}

// The spin analysers in their top rest frames (lab -> t tbar frame -> top frame, pure boosts).
void analysers(const TTbarEvent& ev, Vector3& a, Vector3& b) {
  const auto& P = ev.partons;
  const FourVector tt = P[idx(Parton::ttbar)];
  const FourVector top = P[idx(Parton::top)].inRestFrameOf(tt);
  const FourVector antitop = P[idx(Parton::antitop)].inRestFrameOf(tt);
  const FourVector topAnalyser =
      ev.leptonicTop ? P[idx(Parton::lepton)] : P[idx(Parton::antiquark)];
  const FourVector antitopAnalyser =
      ev.leptonicTop ? P[idx(Parton::quark)] : P[idx(Parton::lepton)];
  a = topAnalyser.inRestFrameOf(tt).inRestFrameOf(top).vec().unit();
  b = antitopAnalyser.inRestFrameOf(tt).inRestFrameOf(antitop).vec().unit();
}
}  // namespace

TEST(TTbarGenerator, RecordIsConsistent) {
  const auto& s = sample(true);
  for (std::size_t i = 0; i < 200; ++i) {
    const TTbarEvent& ev = s.events[i];
    const auto& P = ev.partons;
    auto near = [](const FourVector& x, const FourVector& y) {
      return std::abs(x.e - y.e) < 1e-6 * (1 + x.e) && std::abs(x.px - y.px) < 1e-6 * (1 + x.e) &&
             std::abs(x.py - y.py) < 1e-6 * (1 + x.e) && std::abs(x.pz - y.pz) < 1e-6 * (1 + x.e);
    };
    EXPECT_TRUE(near(P[idx(Parton::top)], P[idx(Parton::b)] + P[idx(Parton::wPlus)]));
    EXPECT_TRUE(near(P[idx(Parton::antitop)], P[idx(Parton::bbar)] + P[idx(Parton::wMinus)]));
    const FourVector lnu = P[idx(Parton::lepton)] + P[idx(Parton::neutrino)];
    const FourVector qq = P[idx(Parton::quark)] + P[idx(Parton::antiquark)];
    EXPECT_TRUE(near(ev.leptonicTop ? P[idx(Parton::wPlus)] : P[idx(Parton::wMinus)], lnu));
    EXPECT_TRUE(near(ev.leptonicTop ? P[idx(Parton::wMinus)] : P[idx(Parton::wPlus)], qq));
    EXPECT_EQ(ev.leptonPdg < 0, ev.leptonicTop);  // l+ from t, l- from tbar
    EXPECT_TRUE(std::abs(ev.leptonPdg) == 11 || std::abs(ev.leptonPdg) == 13);
    EXPECT_NEAR(P[idx(Parton::b)].m(), 4.8, 1e-6);
    // The t tbar pT balances the initial-state emissions and the primordial kT.
    EXPECT_NEAR(P[idx(Parton::ttbar)].px, ev.isr.pairPx(), 1e-6 * (1 + P[idx(Parton::ttbar)].e));
    EXPECT_NEAR(P[idx(Parton::ttbar)].py, ev.isr.pairPy(), 1e-6 * (1 + P[idx(Parton::ttbar)].e));
    EXPECT_TRUE(near(P[idx(Parton::ttbar)], P[idx(Parton::top)] + P[idx(Parton::antitop)]));
    const auto r = ev.record();
    EXPECT_DOUBLE_EQ(r[5 * idx(Parton::top) + 1], P[idx(Parton::top)].e);
    EXPECT_NEAR(r[5 * idx(Parton::top)], P[idx(Parton::top)].m(), 1e-12);
  }
  // Both charge assignments and both lepton flavours, in equal shares.
  double lPlus = 0, mu = 0;
  for (const auto& ev : s.events) {
    lPlus += ev.leptonPdg < 0;
    mu += std::abs(ev.leptonPdg) == 13;
  }
  const double n = static_cast<double>(s.events.size());
  EXPECT_NEAR(lPlus / n, 0.5, 4 * 0.5 / std::sqrt(n));
  EXPECT_NEAR(mu / n, 0.5, 4 * 0.5 / std::sqrt(n));
}

// docs/physics.md section 11: sigma(CTEQ5L, mu = m_T) = 440 pb x 0.2926 = 128.7 pb for e/mu
// semileptonic; the Breit-Wigner top masses shift it slightly, so the test allows 5 %.
TEST(TTbarGenerator, SemileptonicCrossSection) {
  const auto& s = sample(true).summary;
  std::printf("sigma(semileptonic e/mu) = %.2f +- %.2f pb (inclusive %.1f pb), overweights %llu\n",
              s.crossSectionPb, s.crossSectionErrPb, s.inclusiveCrossSectionPb,
              static_cast<unsigned long long>(s.overweightEvents));
  EXPECT_NEAR(s.crossSectionPb / (440.0 * 0.2926), 1.0, 0.05);
  EXPECT_NEAR(s.branchingFactor, 0.2926, 1e-4);
  // On-shell tops: the Monte Carlo integral agrees with the quadrature of TopPhysics.
  TTbarConfig c;
  c.nEvents = 2000;
  c.breitWigner = false;
  const auto onShell = generateTTbarEvents(c, 1).summary;
  const auto quad = hadronicCrossSection(13000, ScaleChoice::transverseMass, c.alphaSMz);
  EXPECT_NEAR(onShell.inclusiveCrossSectionPb, quad.totalPb, 4 * onShell.inclusiveCrossSectionErrPb)
      << onShell.inclusiveCrossSectionPb << " +- " << onShell.inclusiveCrossSectionErrPb;
}

// The m_tt spectrum of the generator (on-shell tops: the sampling and unweighting alone) against
// bins of the quadrature d sigma / d m_tt; a chi2 over the bins, and the mean top pT and |y| and
// the spectrum printed for docs/ttbar.md "Validation".
TEST(TTbarGenerator, MassSpectrumFollowsTheQuadrature) {
  TTbarConfig c;
  c.nEvents = 20000;
  c.seed = 77;
  c.breitWigner = false;
  c.recoil = false;
  const auto s = generateTTbarEvents(c, 0);
  const std::vector<double> edges = {345, 400, 450, 500, 550, 600, 700, 800, 1000, 1300, 13000};
  const double total = hadronicCrossSection(13000, ScaleChoice::transverseMass, c.alphaSMz).totalPb;
  std::vector<double> counts(edges.size() - 1, 0.0);
  double sumPt = 0, sumAbsY = 0;
  for (const auto& ev : s.events) {
    const double m = ev.partons[static_cast<int>(Parton::ttbar)].m();
    for (std::size_t b = 0; b + 1 < edges.size(); ++b)
      if (m >= edges[b] && m < edges[b + 1]) counts[b] += 1;
    const FourVector& t = ev.partons[static_cast<int>(Parton::top)];
    sumPt += t.pt();
    sumAbsY += std::abs(t.rapidity());
  }
  const double n = static_cast<double>(s.events.size());
  double chi2 = 0;
  std::printf("m_tt bin [GeV]   generator   quadrature\n");
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    const double expected = hadronicCrossSection(13000, ScaleChoice::transverseMass, c.alphaSMz,
                                                 top::mTop, edges[b], edges[b + 1])
                                .totalPb /
                            total;
    const double observed = counts[b] / n;
    chi2 += (observed - expected) * (observed - expected) / (expected / n);
    std::printf("%5.0f-%5.0f      %.4f      %.4f\n", edges[b], edges[b + 1], observed, expected);
  }
  std::printf("chi2 = %.1f for %zu bins; <pT(t)> = %.1f GeV, <|y(t)|> = %.3f\n", chi2,
              counts.size(), sumPt / n, sumAbsY / n);
  // 10 bins (9 independent): chi2 above 27.9 has a probability below 0.001.
  EXPECT_LT(chi2, 27.9);
}

// W helicity fractions of the generated sample (both W, lepton and down-type quark as analyser)
// within 0.01 of 0.697 / 0.303 (Done-when of the t tbar issue), and cos(theta*) shape.
TEST(TTbarGenerator, WHelicityFractionsAndCosThetaStar) {
  const auto& s = sample(true);
  double m1 = 0, m2 = 0, n = 0;
  constexpr int kBins = 10;
  double hist[kBins] = {};
  for (const auto& ev : s.events) {
    const auto& P = ev.partons;
    const double cl =
        ev.leptonicTop
            ? cosThetaStar(P[idx(Parton::top)], P[idx(Parton::wPlus)], P[idx(Parton::lepton)])
            : cosThetaStar(P[idx(Parton::antitop)], P[idx(Parton::wMinus)], P[idx(Parton::lepton)]);
    const double cq =
        ev.leptonicTop
            ? cosThetaStar(P[idx(Parton::antitop)], P[idx(Parton::wMinus)], P[idx(Parton::quark)])
            : cosThetaStar(P[idx(Parton::top)], P[idx(Parton::wPlus)], P[idx(Parton::antiquark)]);
    for (const double c : {cl, cq}) {
      m1 += c;
      m2 += c * c;
      n += 1;
    }
    hist[std::min(kBins - 1, static_cast<int>((cl + 1) / 2 * kBins))] += 1;
  }
  const auto f = fractionsFromMoments(m1 / n, m2 / n);
  std::printf("generated: F0 = %.4f, F_L = %.4f, F_R = %.4f from %.0f W decays\n", f.longitudinal,
              f.left, f.right, n);
  EXPECT_NEAR(f.longitudinal, 0.697, 0.01);
  EXPECT_NEAR(f.left, 0.303, 0.01);
  // Lepton cos(theta*) histogram against (3/4)(1-c^2) F0 + (3/8)(1-c)^2 F_L + (3/8)(1+c)^2 F_R
  // with the analytic fractions at m_b = 4.8: chi2 over 10 bins.
  const auto ref = wHelicityFractions(top::mTop, top::mW, top::mB);
  auto cdf = [&](double c) {
    return 0.75 * ref.longitudinal * (c - c * c * c / 3) +
           0.375 * ref.left * (-(1 - c) * (1 - c) * (1 - c) / 3) +
           0.375 * ref.right * ((1 + c) * (1 + c) * (1 + c) / 3);
  };
  const double nl = static_cast<double>(s.events.size());
  double chi2 = 0;
  for (int i = 0; i < kBins; ++i) {
    const double lo = -1 + 2.0 * i / kBins, hi = lo + 2.0 / kBins;
    const double expected = nl * (cdf(hi) - cdf(lo));
    chi2 += (hist[i] - expected) * (hist[i] - expected) / expected;
  }
  std::printf("lepton cos(theta*) chi2 = %.1f / %d bins\n", chi2, kBins);
  EXPECT_LT(chi2, 30.0);  // 10 dof: p ~ 1e-3
}

// Spin correlations: C_ij = -9 <a_i b_j> with the analysers a (l+ or dbar, top frame) and b
// (l- or d, antitop frame), compared with the sample mean of the production matrix; and zero with
// the switch off.
TEST(TTbarGenerator, SpinCorrelationsFollowTheProductionState) {
  for (const bool spin : {true, false}) {
    const auto& s = sample(spin);
    double sum[3][3] = {}, sum2[3][3] = {}, prod[3][3] = {}, pol[3] = {};
    for (const auto& ev : s.events) {
      Vector3 a, b;
      analysers(ev, a, b);
      const FourVector top =
          ev.partons[idx(Parton::top)].inRestFrameOf(ev.partons[idx(Parton::ttbar)]);
      const HelicityAxes ax = helicityAxes(top.vec());
      const Vector3 e[3] = {ax.k, ax.r, ax.n};
      for (int i = 0; i < 3; ++i) {
        pol[i] += a.dot(e[i]);
        for (int j = 0; j < 3; ++j) {
          const double x = -9 * a.dot(e[i]) * b.dot(e[j]);
          sum[i][j] += x;
          sum2[i][j] += x * x;
          prod[i][j] += ev.productionC[i][j];
        }
      }
    }
    const double n = static_cast<double>(s.events.size());
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(pol[i] / n, 0.0, 4 * std::sqrt(1.0 / 3 / n));  // B = 0 at LO
      for (int j = 0; j < 3; ++j) {
        const double mean = sum[i][j] / n;
        const double err = std::sqrt((sum2[i][j] / n - mean * mean) / n);
        const double expected = spin ? prod[i][j] / n : 0.0;
        if (i == j)
          std::printf("spin %s: C_%c%c measured %.4f +- %.4f, production mean %.4f\n",
                      spin ? "on " : "off", "krn"[i], "krn"[j], mean, err, prod[i][j] / n);
        EXPECT_NEAR(mean, expected, 4 * err) << spin << " " << i << j;
      }
    }
  }
}

// The decay alone, many tops at rest: the helicity fractions of the V-A decay with on-shell W
// against the analytic m_b = 4.8 GeV values (statistical error ~0.001 on F0).
TEST(TTbarGenerator, TopDecayHelicityFractions) {
  TTbarConfig c;
  c.breitWigner = false;
  c.pilotPoints = 1000;
  const TTbarGenerator gen(c);
  Rng rng(3, 0, streams::generator);
  std::uint64_t overweights = 0;
  double m1 = 0, m2 = 0;
  const int n = 1000000;
  for (int i = 0; i < n; ++i) {
    const auto d = gen.decayTop(top::mTop, 0.0, rng, overweights);
    const double cs = cosThetaStar({0, 0, 0, top::mTop}, d.analyser + d.partner, d.analyser);
    m1 += cs;
    m2 += cs * cs;
  }
  const auto f = fractionsFromMoments(m1 / n, m2 / n);
  const auto ref = wHelicityFractions(top::mTop, top::mW, top::mB);
  EXPECT_NEAR(f.longitudinal, ref.longitudinal, 0.004);
  EXPECT_NEAR(f.left, ref.left, 0.003);
  EXPECT_NEAR(f.right, ref.right, 0.002);
  EXPECT_EQ(overweights, 0u);
}

TEST(TTbarGenerator, DeterministicAndThreadIndependent) {
  TTbarConfig c;
  c.nEvents = 200;
  c.seed = 5;
  const auto a = generateTTbarEvents(c, 1), b = generateTTbarEvents(c, 2);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i)
    EXPECT_EQ(a.events[i].record(), b.events[i].record());
  c.seed = 6;
  const auto d = generateTTbarEvents(c, 1);
  EXPECT_NE(a.events[0].record(), d.events[0].record());
}

// The recoil draws from its own stream: the hard process and decays of event i are the same with
// the recoil on and off (equal in the t tbar rest frame, same m_tt and rapidity), and the t tbar
// pT follows the emissions (docs/ttbar.md "Initial-state recoil").
TEST(TTbarGenerator, RecoilBoostsTheRecordAndKeepsTheHardProcess) {
  TTbarConfig c;
  c.nEvents = 2000;
  c.seed = 21;
  const auto on = generateTTbarEvents(c, 2);
  c.recoil = false;
  const auto off = generateTTbarEvents(c, 1);
  double sumPt = 0, emissions = 0, above25 = 0;
  std::vector<double> pts;
  for (std::size_t i = 0; i < on.events.size(); ++i) {
    const auto& a = on.events[i].partons;
    const auto& b = off.events[i].partons;
    EXPECT_TRUE(off.events[i].isr.emissions.empty());
    EXPECT_EQ(b[idx(Parton::ttbar)].pt(), 0.0);
    EXPECT_EQ(on.events[i].leptonPdg, off.events[i].leptonPdg);
    const FourVector ttA = a[idx(Parton::ttbar)], ttB = b[idx(Parton::ttbar)];
    EXPECT_NEAR(ttA.m(), ttB.m(), 1e-6 * ttB.e);
    EXPECT_NEAR(ttA.rapidity(), ttB.rapidity(), 1e-9);
    for (int k = 0; k < kPartonCount; ++k) {
      const FourVector x = a[k].inRestFrameOf(ttA), y = b[k].inRestFrameOf(ttB);
      EXPECT_NEAR(x.px, y.px, 1e-6 * ttB.e);
      EXPECT_NEAR(x.pz, y.pz, 1e-6 * ttB.e);
      EXPECT_NEAR(x.e, y.e, 1e-6 * ttB.e);
    }
    sumPt += ttA.pt();
    pts.push_back(ttA.pt());
    emissions += static_cast<double>(on.events[i].isr.emissions.size());
    for (const auto& e : on.events[i].isr.emissions) above25 += std::hypot(e.px, e.py) > 25;
  }
  const double n = static_cast<double>(on.events.size());
  std::sort(pts.begin(), pts.end());
  std::printf(
      "recoil: mean pT(ttbar) %.1f GeV, median %.1f GeV, %.2f emissions/event, %.2f above "
      "25 GeV\n",
      sumPt / n, pts[pts.size() / 2], emissions / n, above25 / n);
  EXPECT_GT(sumPt / n, 10.0);
  EXPECT_LT(sumPt / n, 150.0);
  // Same seed, same event, regardless of threads (the recoil has its own stream).
  c.recoil = true;
  const TTbarGenerator gen(c);
  TTbarCounters counters;
  EXPECT_EQ(gen.generate(7, counters).record(), on.events[7].record());
}

TEST(TTbarGenerator, InvalidConfigIsRejected) {
  TTbarConfig c;
  c.sqrtS = 300;
  EXPECT_THROW(c.validate(), ConfigError);
  c = TTbarConfig{};
  c.nEvents = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  c = TTbarConfig{};
  c.alphaSMz = -1;
  EXPECT_THROW(c.validate(), ConfigError);
  c = TTbarConfig{};
  c.isr.startScale = -1;
  EXPECT_THROW(c.validate(), ConfigError);
}
