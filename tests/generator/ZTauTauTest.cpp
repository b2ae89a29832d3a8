// The full generator: cross section, spin frames, correlations measured from the decays,
// generator-level cuts, determinism (docs/physics.md sections 2-6, 12).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "common/SampleMean.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/HelicityBasis.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/HardProcess.hpp"
#include "nurec/generator/TauDecays.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/Schema.hpp"

using namespace nurec;
using namespace nurec::generator;

namespace {

ZTauTauConfig smallConfig(std::size_t n, std::uint64_t seed = 7) {
  ZTauTauConfig c;
  c.nEvents = n;
  c.seed = seed;
  c.pilotPoints = 20000;
  return c;
}
}  // namespace

// docs/physics.md test point 8 with the generator's own Monte Carlo: sigma(66 < m < 116) = 1479.8
// pb. Tolerance: 4 MC standard deviations (from the trial weights) plus the rounding of the
// reference.
TEST(ZTauTau, CrossSection66To116) {
  ZTauTauConfig c = smallConfig(60000);
  c.massMinGeV = 66;
  c.massMaxGeV = 116;
  c.recoil.enabled = false;
  const GeneratedSample s = generateZTauTauEvents(c, 0);
  EXPECT_NEAR(s.summary.crossSectionPb, 1479.8, 4 * s.summary.crossSectionErrPb + 0.05);
  EXPECT_LT(s.summary.crossSectionErrPb / s.summary.crossSectionPb, 0.005);
  EXPECT_EQ(s.summary.overweightEvents, 0u);
  double sumW = 0;
  for (const auto& ev : s.events) sumW += ev.weightPb;
  EXPECT_NEAR(sumW, s.summary.crossSectionPb, 1e-9 * sumW);
  // Decay-mode fractions of the sample within 4 sigma of the PDG values.
  std::array<int, 5> count{};
  for (const auto& ev : s.events)
    for (int t = 0; t < 2; ++t) ++count[static_cast<int>(ev.decayMode[t])];
  const double nTau = 2.0 * s.events.size();
  for (int m = 0; m < 5; ++m) {
    const double p = kTauBranchingFractions[m];
    EXPECT_NEAR(count[m] / nTau, p, 4 * std::sqrt(p * (1 - p) / nTau)) << m;
  }
}

// Event structure: masses, momentum sums, charges, transverse balance with the recoil, and the
// analytic spin state equals the matrix element at the (m, y, cos theta) that core/HelicityBasis
// reconstructs from the lab taus.
TEST(ZTauTau, EventRecordAndSpinFrame) {
  const ZTauTauConfig c = smallConfig(3000);
  const GeneratedSample s = generateZTauTauEvents(c, 0);
  const DrellYanTauTau process(c.sqrtS);
  for (const auto& ev : s.events) {
    ASSERT_NEAR(ev.tau[0].m(), constants::mTau, 1e-6);
    ASSERT_NEAR(ev.tau[1].m(), constants::mTau, 1e-6);
    const FourVector pair = ev.tau[0] + ev.tau[1];
    ASSERT_NEAR((pair - ev.boson).p(), 0, 1e-6);
    ASSERT_GE(pair.m(), c.massMinGeV - 1e-9);
    ASSERT_LE(pair.m(), c.massMaxGeV + 1e-9);
    FourVector total;
    for (int t = 0; t < 2; ++t) {
      const FourVector sum = ev.visible[t] + ev.neutrinos[t];
      ASSERT_NEAR((sum - ev.tau[t]).p(), 0, 1e-6);
      ASSERT_NEAR(sum.e - ev.tau[t].e, 0, 1e-6);
      ASSERT_FALSE(ev.tauProducts[t].empty());
      ASSERT_FALSE(ev.tauNeutrinos[t].empty());
      if (ev.decayMode[t] == DecayMode::Pi || ev.decayMode[t] == DecayMode::Rho) {
        ASSERT_GT(ev.chargedPion[t].e, 0);
      }
      if (ev.decayMode[t] == DecayMode::Rho) {
        ASSERT_GT(ev.neutralPion[t].e, 0);
      }
      total += ev.tau[t];
    }
    for (const auto& p : ev.recoil) total += p.p4;
    ASSERT_NEAR(total.px, 0, 1e-6);  // the whole final state balances in the transverse plane
    ASSERT_NEAR(total.py, 0, 1e-6);
    EXPECT_EQ(ev.partonPdg[0], -ev.partonPdg[1]);
    const HelicityBasis basis(ev.tau[0], ev.tau[1]);
    const HadronicPoint hp = process.evaluate(pair.m(), pair.rapidity(), basis.cosTheta(), true);
    const SpinState ref = hp.spin.state();
    for (int i = 0; i < 3; ++i) {
      ASSERT_NEAR(ev.spin.bMinus[i], ref.bMinus[i], 1e-7);
      for (int j = 0; j < 3; ++j) ASSERT_NEAR(ev.spin.c[i][j], ref.c[i][j], 1e-7);
    }
    ASSERT_NEAR(ev.partonX[0], hp.x1, 1e-9);
  }
}

namespace {
// Analyser of one tau in its rest frame (lab -> pair -> tau), kappa = 1: the pi direction (mode 0)
// or the rho polarimeter (mode 1), in the tau- convention; components along (k, r, n).
Vector3 analyser(const TruthEvent& ev, const HelicityBasis& b, int t) {
  Vector3 x;
  if (ev.decayMode[t] == DecayMode::Pi) {
    x = b.toTauRestFrame(ev.chargedPion[t], t).vec().unit();
  } else {
    x = TauDecayer::rhoPolarimeter(b.toTauRestFrame(ev.chargedPion[t], t),
                                   b.toTauRestFrame(ev.neutralPion[t], t),
                                   b.toTauRestFrame(ev.neutrinos[t], t));
  }
  return b.components(x);
}
}  // namespace

// C_ij and B measured from the generated pi and rho decays (lab four-vectors only) agree with the
// per-event analytic C averaged over the same events (docs/physics.md section 6 estimators), within
// 4 statistical standard deviations. Also docs/physics.md test point 9 for the sample mean of the
// analytic state.
TEST(ZTauTau, MeasuredSpinCorrelationsMatchAnalytic) {
  ZTauTauConfig c = smallConfig(150000, 11);
  c.massMinGeV = 66;
  c.massMaxGeV = 116;
  c.allowedDecayModes = {true, true, false, false, false};  // pi and rho only
  const GeneratedSample s = generateZTauTauEvents(c, 0);
  std::array<std::array<SampleMean, 3>, 3> measured;
  std::array<SampleMean, 3> bPlus, bMinus;
  SpinState analytic;
  for (const auto& ev : s.events) {
    const HelicityBasis b(ev.tau[0], ev.tau[1]);
    const Vector3 xp = analyser(ev, b, 0), xm = analyser(ev, b, 1);
    const double a[3] = {xp.x, xp.y, xp.z}, m[3] = {xm.x, xm.y, xm.z};
    for (int i = 0; i < 3; ++i) {
      bPlus[i].add(-3 * a[i]);
      bMinus[i].add(3 * m[i]);
      analytic.bMinus[i] += ev.spin.bMinus[i] / s.events.size();
      for (int j = 0; j < 3; ++j) {
        measured[i][j].add(-9 * a[i] * m[j]);
        analytic.c[i][j] += ev.spin.c[i][j] / s.events.size();
      }
    }
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(bPlus[i].mean(), analytic.bMinus[i], 4 * bPlus[i].err()) << "B+ " << i;
    EXPECT_NEAR(bMinus[i].mean(), analytic.bMinus[i], 4 * bMinus[i].err()) << "B- " << i;
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(measured[i][j].mean(), analytic.c[i][j], 4 * measured[i][j].err())
          << "C " << i << j;
  }
  // The sample mean of the analytic state vs the luminosity-weighted LO state (docs/physics.md test
  // point 9); tolerance: 4 x the event-to-event spread / sqrt(N).
  std::array<SampleMean, 4> spread;  // B_k, C_rr, C_nn, C_rn
  for (const auto& ev : s.events) {
    spread[0].add(ev.spin.bMinus[0]);
    spread[1].add(ev.spin.c[1][1]);
    spread[2].add(ev.spin.c[2][2]);
    spread[3].add(ev.spin.c[1][2]);
  }
  EXPECT_NEAR(spread[0].mean(), -0.1334, 4 * spread[0].err() + 5e-4);
  EXPECT_NEAR(spread[1].mean(), -0.4733, 4 * spread[1].err() + 5e-4);
  EXPECT_NEAR(spread[2].mean(), +0.4734, 4 * spread[2].err() + 5e-4);
  EXPECT_NEAR(spread[3].mean(), -0.0142, 4 * spread[3].err() + 5e-4);
  // pi/rho only: sigma x BR^2.
  const double br = kTauBranchingFractions[0] + kTauBranchingFractions[1];
  EXPECT_NEAR(s.summary.branchingFactor, br * br, 1e-12);
}

// --no-tau-spin-correlations: C = 0 in the stored state and in the decays (the measured
// correlations vanish within 4 sigma, where the correlated sample has C_rr = -0.47), while the
// polarisation B stays that of the Z. The option is written to and read from the run card.
TEST(ZTauTau, UncorrelatedTauDecays) {
  ZTauTauConfig c = smallConfig(60000, 12);
  c.allowedDecayModes = {true, true, false, false, false};  // pi and rho only
  c.tauSpinCorrelations = false;
  const GeneratedSample s = generateZTauTauEvents(c, 0);
  std::array<std::array<SampleMean, 3>, 3> measured;
  SampleMean bMinusK, storedBk;
  for (const auto& ev : s.events) {
    for (const auto& row : ev.spin.c)
      for (double v : row) ASSERT_EQ(v, 0.0);
    const HelicityBasis b(ev.tau[0], ev.tau[1]);
    const Vector3 xp = analyser(ev, b, 0), xm = analyser(ev, b, 1);
    const double a[3] = {xp.x, xp.y, xp.z}, m[3] = {xm.x, xm.y, xm.z};
    bMinusK.add(3 * m[0]);
    storedBk.add(ev.spin.bMinus[0]);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) measured[i][j].add(-9 * a[i] * m[j]);
  }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(measured[i][j].mean(), 0.0, 4 * measured[i][j].err()) << "C " << i << j;
  EXPECT_LT(storedBk.mean(), -0.1);  // the Z's tau polarisation is kept
  EXPECT_NEAR(bMinusK.mean(), storedBk.mean(), 4 * bMinusK.err());
  const ZTauTauConfig back = zTauTauConfigFromYaml(c.toYaml(), "test");
  EXPECT_FALSE(back.tauSpinCorrelations);
  EXPECT_EQ(ZTauTauConfig{}.toYaml().find("tau_spin_correlations"), std::string::npos);
}

// Generator-level cuts: every event passes them and sigma x acceptance agrees with the fraction
// of an uncut sample that passes (binomial errors of both samples).
TEST(ZTauTau, GeneratorLevelCutsKeepTheCrossSection) {
  ZTauTauConfig cut = smallConfig(20000, 21);
  cut.minVisiblePtGeV = 15;
  cut.maxVisibleAbsEta = 2.7;
  const GeneratedSample a = generateZTauTauEvents(cut, 0);
  for (const auto& ev : a.events) {
    ASSERT_GE(ev.visible[0].pt(), 15);
    ASSERT_GE(ev.visible[1].pt(), 15);
    ASSERT_LE(std::abs(ev.visible[0].eta()), 2.7);
    ASSERT_LE(std::abs(ev.visible[1].eta()), 2.7);
  }
  ZTauTauConfig open = smallConfig(40000, 22);
  const GeneratedSample b = generateZTauTauEvents(open, 0);
  std::size_t pass = 0;
  for (const auto& ev : b.events) {
    pass += ev.visible[0].pt() > 15 && ev.visible[1].pt() > 15 &&
            std::abs(ev.visible[0].eta()) < 2.7 && std::abs(ev.visible[1].eta()) < 2.7;
  }
  const double eff = pass / double(b.events.size());
  const double effErr = std::sqrt(eff * (1 - eff) / b.events.size());
  const double sigmaOpen = b.summary.crossSectionPb * eff;
  const double errOpen =
      std::hypot(b.summary.crossSectionErrPb * eff, b.summary.crossSectionPb * effErr);
  EXPECT_NEAR(a.summary.crossSectionPb, sigmaOpen,
              4 * std::hypot(a.summary.crossSectionErrPb, errOpen));
  EXPECT_NEAR(a.summary.acceptance, eff, 4 * std::hypot(a.summary.acceptanceErr, effErr));
  EXPECT_LT(a.summary.acceptance, 0.9);
  EXPECT_GT(a.summary.acceptance, 0.05);
}

// Flat mass prior (docs/physics-validation.md "Flat mass prior"): the accepted m(tau tau) are
// uniform in the window, also under generator-level cuts (events rejected by the cuts are redrawn
// at the same m), and the weights still add up to the physical cross section in the window.
TEST(ZTauTau, FlatMassPriorIsFlatAndKeepsTheCrossSection) {
  constexpr double lo = 40, hi = 400;
  constexpr int bins = 9;
  const auto chi2Flat = [&](const GeneratedSample& s) {
    std::array<double, bins> count{};
    for (const auto& ev : s.events) {
      const double m = ev.boson.m();
      EXPECT_GE(m, lo - 1e-9);
      EXPECT_LE(m, hi + 1e-9);
      ++count[std::min(bins - 1, static_cast<int>((m - lo) / (hi - lo) * bins))];
    }
    const double expected = static_cast<double>(s.events.size()) / bins;
    double chi2 = 0;
    for (double c : count) chi2 += (c - expected) * (c - expected) / expected;
    return chi2;
  };
  ZTauTauConfig flat = smallConfig(18000, 31);
  flat.massMinGeV = lo;
  flat.massMaxGeV = hi;
  flat.massPrior = ZTauTauConfig::MassPrior::Flat;
  flat.recoil.enabled = false;
  const GeneratedSample f = generateZTauTauEvents(flat, 0);
  EXPECT_LT(chi2Flat(f), 26.1);  // 8 degrees of freedom: p = 0.001
  EXPECT_EQ(f.summary.overweightEvents, 0u);

  ZTauTauConfig physical = flat;
  physical.massPrior = ZTauTauConfig::MassPrior::Physical;
  physical.nEvents = 20000;
  const GeneratedSample p = generateZTauTauEvents(physical, 0);
  EXPECT_GT(chi2Flat(p), 1000);  // the Z peak
  EXPECT_NEAR(f.summary.crossSectionPb, p.summary.crossSectionPb,
              4 * std::hypot(f.summary.crossSectionErrPb, p.summary.crossSectionErrPb));
  double sumW = 0;
  for (const auto& ev : f.events) sumW += ev.weightPb;
  EXPECT_NEAR(sumW, f.summary.crossSectionPb, 1e-9 * sumW);

  ZTauTauConfig cut = flat;
  cut.nEvents = 9000;
  cut.minVisiblePtGeV = 10;  // at m = 40 GeV without recoil a tau has pT <= 20 GeV
  cut.maxVisibleAbsEta = 2.5;
  const GeneratedSample c = generateZTauTauEvents(cut, 0);
  EXPECT_LT(chi2Flat(c), 26.1);
  const auto yaml = cut.toYaml();
  EXPECT_NE(yaml.find("mass_prior: flat"), std::string::npos);
  EXPECT_EQ(zTauTauConfigFromYaml(yaml, "test").massPrior, ZTauTauConfig::MassPrior::Flat);
  EXPECT_THROW(zTauTauConfigFromYaml("mass_prior: steep\n", "test"), ConfigError);
}

// Log-flat mass prior (docs/physics-validation.md "Flat mass prior"): ln m of the accepted events
// is uniform in the window, also under generator-level cuts, and the weights (d sigma/dm divided
// by the prior density 1/(m ln(hi/lo))) still add up to the physical cross section.
TEST(ZTauTau, LogFlatMassPriorIsFlatInLogMassAndKeepsTheCrossSection) {
  constexpr double lo = 40, hi = 500;
  constexpr int bins = 9;
  const auto chi2LogFlat = [&](const GeneratedSample& s) {
    std::array<double, bins> count{};
    for (const auto& ev : s.events) {
      const double x = std::log(ev.boson.m() / lo) / std::log(hi / lo);
      EXPECT_GE(x, -1e-9);
      EXPECT_LE(x, 1 + 1e-9);
      ++count[std::clamp(static_cast<int>(x * bins), 0, bins - 1)];
    }
    const double expected = static_cast<double>(s.events.size()) / bins;
    double chi2 = 0;
    for (double c : count) chi2 += (c - expected) * (c - expected) / expected;
    return chi2;
  };
  ZTauTauConfig logFlat = smallConfig(18000, 37);
  logFlat.massMinGeV = lo;
  logFlat.massMaxGeV = hi;
  logFlat.massPrior = ZTauTauConfig::MassPrior::LogFlat;
  logFlat.recoil.enabled = false;
  const GeneratedSample g = generateZTauTauEvents(logFlat, 0);
  EXPECT_LT(chi2LogFlat(g), 26.1);  // 8 degrees of freedom: p = 0.001
  EXPECT_EQ(g.summary.overweightEvents, 0u);

  ZTauTauConfig flat = logFlat;
  flat.massPrior = ZTauTauConfig::MassPrior::Flat;
  const GeneratedSample f = generateZTauTauEvents(flat, 0);
  EXPECT_GT(chi2LogFlat(f), 1000);  // flat in m is not flat in ln m
  EXPECT_NEAR(g.summary.crossSectionPb, f.summary.crossSectionPb,
              4 * std::hypot(g.summary.crossSectionErrPb, f.summary.crossSectionErrPb));
  double sumW = 0;
  for (const auto& ev : g.events) sumW += ev.weightPb;
  EXPECT_NEAR(sumW, g.summary.crossSectionPb, 1e-9 * sumW);

  ZTauTauConfig cut = logFlat;
  cut.nEvents = 9000;
  cut.minVisiblePtGeV = 10;
  cut.maxVisibleAbsEta = 2.5;
  EXPECT_LT(chi2LogFlat(generateZTauTauEvents(cut, 0)), 26.1);
  EXPECT_EQ(zTauTauConfigFromYaml(cut.toYaml(), "test").massPrior,
            ZTauTauConfig::MassPrior::LogFlat);
}

// Event i depends only on Rng(seed, i, streams::generator): identical output for 1 and 2 threads,
// and any event regenerated alone.
TEST(ZTauTau, IndependentOfThreadCount) {
  const ZTauTauConfig c = smallConfig(3000, 5);
  const GeneratedSample one = generateZTauTauEvents(c, 1);
  const GeneratedSample two = generateZTauTauEvents(c, 2);
  ASSERT_EQ(one.events.size(), two.events.size());
  EXPECT_EQ(one.summary.crossSectionPb, two.summary.crossSectionPb);
  EXPECT_EQ(one.summary.hardTrials, two.summary.hardTrials);
  for (std::size_t i = 0; i < one.events.size(); ++i) {
    const auto& a = one.events[i];
    const auto& b = two.events[i];
    ASSERT_EQ(a.tau, b.tau);
    ASSERT_EQ(a.visible, b.visible);
    ASSERT_EQ(a.neutrinos, b.neutrinos);
    ASSERT_EQ(a.decayMode, b.decayMode);
    ASSERT_EQ(a.recoil.size(), b.recoil.size());
    for (std::size_t j = 0; j < a.recoil.size(); ++j) ASSERT_EQ(a.recoil[j].p4, b.recoil[j].p4);
    ASSERT_EQ(a.spin.c, b.spin.c);
  }
  const ZTauTauGenerator gen(c);
  EventCounters counters;
  const TruthEvent again = gen.generate(1234, counters);
  EXPECT_EQ(again.tau, one.events[1234].tau);
  EXPECT_EQ(again.tauProducts[1].size(), one.events[1234].tauProducts[1].size());
  // A different seed gives different events.
  const GeneratedSample other = generateZTauTauEvents(smallConfig(10, 6), 1);
  EXPECT_NE(other.events[0].tau, one.events[0].tau);
}

TEST(ZTauTau, TruthTableAttributes) {
  const ZTauTauConfig c = smallConfig(200, 3);
  const io::EventTable t = generateZTauTau(c, 1);
  EXPECT_EQ(t.nEvents(), 200u);
  EXPECT_EQ(t.numberAttribute("seed"), 3);
  EXPECT_EQ(t.numberAttribute("sqrt_s"), 13000);
  EXPECT_GT(t.numberAttribute("cross_section_pb"), 1000);
  EXPECT_GT(t.numberAttribute("cross_section_err_pb"), 0);
  EXPECT_EQ(t.stringAttribute("producer"), std::string(kProducer));
  EXPECT_NE(t.stringAttribute("config").find("mass_window: [60, 120]"), std::string::npos);
  const auto back = io::getTruth(t);
  ASSERT_EQ(back.size(), 200u);
  EXPECT_GT(back[0].weightPb, 0);
  EXPECT_FALSE(back[0].tauProducts[0].empty());
  EXPECT_NE(back[0].partonPdg[0], 0);
}

TEST(ZTauTau, InvalidConfigurationIsRejected) {
  auto bad = [](auto edit) {
    ZTauTauConfig c;
    edit(c);
    return c;
  };
  EXPECT_THROW(bad([](ZTauTauConfig& c) { c.massMinGeV = 130; }).validate(), ConfigError);
  EXPECT_THROW(bad([](ZTauTauConfig& c) { c.massMinGeV = 1; }).validate(), ConfigError);
  EXPECT_THROW(bad([](ZTauTauConfig& c) { c.nEvents = 0; }).validate(), ConfigError);
  EXPECT_THROW(bad([](ZTauTauConfig& c) { c.minVisiblePtGeV = -1; }).validate(), ConfigError);
  EXPECT_THROW(bad([](ZTauTauConfig& c) { c.recoil.alphaSMz = 0.6; }).validate(), ConfigError);
  EXPECT_THROW(bad([](ZTauTauConfig& c) { c.recoil.ptMinGeV = 0.05; }).validate(), ConfigError);
  EXPECT_THROW(bad([](ZTauTauConfig& c) { c.allowedDecayModes = {}; }).validate(), ConfigError);
  EXPECT_NO_THROW(ZTauTauConfig{}.validate());
  // Impossible cuts: a clear error, not a hang.
  ZTauTauConfig c = smallConfig(5);
  c.minVisiblePtGeV = 5000;
  c.maxAttemptsPerEvent = 200;
  EXPECT_THROW(generateZTauTauEvents(c, 1), ConfigError);
}

TEST(ZTauTau, ConfigYamlRoundTrip) {
  ZTauTauConfig c;
  c.seed = 42;
  c.nEvents = 1234;
  c.massMinGeV = 66;
  c.massMaxGeV = 116;
  c.minVisiblePtGeV = 15;
  c.maxVisibleAbsEta = 2.7;
  c.allowedDecayModes = {true, true, false, true, false};
  c.recoil.pt0GeV = 5.5;
  c.recoil.jetMassFractionMax = 0.25;
  c.recoil.startScale = 3.0;
  c.recoil.ueMaxParticles = 120;
  const ZTauTauConfig back = zTauTauConfigFromYaml(c.toYaml(), "test");
  EXPECT_EQ(back.toYaml(), c.toYaml());
  EXPECT_EQ(back.seed, 42u);
  EXPECT_EQ(back.allowedDecayModes, c.allowedDecayModes);
  EXPECT_EQ(back.recoil.pt0GeV, 5.5);
  EXPECT_EQ(back.recoil.startScale, 3.0);
  EXPECT_EQ(back.recoil.ueMaxParticles, 120);
  EXPECT_THROW(zTauTauConfigFromYaml("mass_windw: [60, 120]\n", "card.yaml"), ConfigError);
  EXPECT_THROW(zTauTauConfigFromYaml("recoil:\n  pt0: abc\n", "card.yaml"), ConfigError);
  EXPECT_THROW(zTauTauConfigFromYaml("mass_window: [120, 60]\n", "card.yaml"), ConfigError);
  EXPECT_THROW(zTauTauConfigFromYaml("a: [", "card.yaml"), ConfigError);
  try {
    zTauTauConfigFromYaml("cuts:\n  min_vis_pt: 3\n", "card.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("card.yaml: unknown key 'cuts.min_vis_pt'"),
              std::string::npos);
  }
}
