// Recoil model (docs/physics-validation.md "Recoil model"): the veto algorithm reproduces the
// emission density it is built on, transverse balance, the pT(tau tau) spectrum against the
// Pythia 8.311 figures the model is tuned to, and the underlying-event multiplicity.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/SampleMean.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/Recoil.hpp"

using namespace nurec;
using namespace nurec::generator;

namespace {
constexpr std::uint64_t kSeed = 424242;
}

// The expected number of emissions with kT above k equals the integral of the emission density
// over ln kT^2 from k to the upper end (Poisson process in the evolution variable).
TEST(Recoil, VetoAlgorithmReproducesTheEmissionDensity) {
  RecoilConfig c;
  c.primordialKtGeV = 0;
  const RecoilModel model(c);
  const double m = 91.0, q = c.startScale * m;
  auto density = [&](double t) {  // per unit t = ln kT^2
    const double k2 = std::exp(t), pt02 = c.pt0GeV * c.pt0GeV;
    const double range = std::log(q * q / k2) - 1.5;
    return range > 0
               ? 4.0 / 3.0 * model.alphaS(k2 + pt02) / constants::pi * k2 / (k2 + pt02) * range
               : 0.0;
  };
  auto expected = [&](double kMin) {  // midpoint rule in t
    const double t0 = std::log(kMin * kMin), t1 = std::log(q * q) - 1.5;
    const int steps = 20000;
    double sum = 0;
    for (int i = 0; i < steps; ++i) sum += density(t0 + (i + 0.5) * (t1 - t0) / steps);
    return sum * (t1 - t0) / steps;
  };
  const int n = 40000;
  const std::vector<double> cuts{1.0, 5.0, 20.0, 50.0};
  std::vector<SampleMean> counts(cuts.size());
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed, static_cast<std::uint64_t>(i), streams::generator);
    const InitialState s = model.sampleInitialState(m, 0.3, rng);
    for (std::size_t k = 0; k < cuts.size(); ++k) {
      int above = 0;
      for (const auto& e : s.emissions) above += std::hypot(e.px, e.py) > cuts[k] ? 1 : 0;
      counts[k].add(above);
    }
    for (const auto& e : s.emissions) {
      // Rapidity within ln(Q/kT) - 3/4 of the pair.
      ASSERT_LE(std::abs(e.y - 0.3), std::log(q / std::hypot(e.px, e.py)) - 0.75 + 1e-12);
    }
    ASSERT_EQ(s.primordialPx, 0.0);
  }
  for (std::size_t k = 0; k < cuts.size(); ++k) {
    const double mu = expected(cuts[k]);
    EXPECT_NEAR(counts[k].mean(), mu, 4 * std::sqrt(mu / n) + 1e-3) << "kT > " << cuts[k];
  }
}

// pT(tau tau) of the default model over the generator's mass window (m from 60 to 120 GeV with
// the Z peak dominating; here m = m_Z): median and mean within 10 % of Pythia 8.311 (13, 20.7 GeV,
// docs/physics-validation.md). The full generator is checked in the same way by
// scripts/validate_generator.py on 10^6 events.
TEST(Recoil, PairPtSpectrumNearThePythiaFigures) {
  const RecoilModel model{RecoilConfig{}};
  const int n = 40000;
  std::vector<double> pt(n);
  SampleMean mean;
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed + 1, static_cast<std::uint64_t>(i), streams::generator);
    const InitialState s = model.sampleInitialState(constants::mZ, 0, rng);
    pt[i] = std::hypot(s.pairPx(), s.pairPy());
    mean.add(pt[i]);
  }
  std::nth_element(pt.begin(), pt.begin() + n / 2, pt.end());
  EXPECT_NEAR(pt[n / 2], 13.0, 1.3);
  EXPECT_NEAR(mean.mean(), 20.7, 2.07);
}

// The recoil balances the pair exactly; the soft multiplicity follows its negative-binomial mean
// and is capped; disabled means nothing at all.
TEST(Recoil, BalanceMultiplicityAndCap) {
  RecoilConfig c;
  c.mpiMeanScatters = 0;  // soft hadrons only, mean ueMeanParticles
  c.ueMaxParticles = 1000;
  const RecoilModel model(c);
  SampleMean soft;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    Rng rng(kSeed + 2, static_cast<std::uint64_t>(i), streams::generator);
    const InitialState s = model.sampleInitialState(80.0, -1.0, rng);
    std::vector<Particle> out;
    model.makeRecoil(s, -1.0, rng, out);
    double px = s.pairPx(), py = s.pairPy();
    for (const auto& p : out) {
      px += p.p4.px;
      py += p.p4.py;
      ASSERT_TRUE(std::isfinite(p.p4.e));
    }
    ASSERT_NEAR(px, 0, 1e-9);
    ASSERT_NEAR(py, 0, 1e-9);
    // Clusters of the emissions have >= 2 hadrons each; the rest is soft.
    soft.add(static_cast<double>(out.size()));
  }
  // Soft mean 65 plus 2-12 hadrons per emission: the total lies above the soft mean.
  EXPECT_GT(soft.mean(), c.ueMeanParticles);
  // Negative binomial k = 2.5: the variance exceeds the Poisson one by mean^2 / k.
  EXPECT_GT(soft.rms(), std::sqrt(c.ueMeanParticles + c.ueMeanParticles * c.ueMeanParticles / 5));

  RecoilConfig capped;
  capped.ueMaxParticles = 10;
  capped.mpiMeanScatters = 0;
  const RecoilModel cappedModel(capped);
  RecoilConfig off;
  off.enabled = false;
  const RecoilModel offModel(off);
  for (int i = 0; i < 200; ++i) {
    Rng rng(kSeed + 3, static_cast<std::uint64_t>(i), streams::generator);
    const InitialState s = cappedModel.sampleInitialState(91.0, 0.0, rng);
    std::vector<Particle> out;
    cappedModel.makeRecoil(s, 0.0, rng, out);
    int hadronsInClusters = 0;
    for (std::size_t e = 0; e < s.emissions.size(); ++e) hadronsInClusters += 2;
    ASSERT_LE(out.size(), static_cast<std::size_t>(10 + 12 * s.emissions.size() + 12));
    ASSERT_GE(out.size(), static_cast<std::size_t>(hadronsInClusters));
    const InitialState none = offModel.sampleInitialState(91.0, 0.0, rng);
    EXPECT_TRUE(none.emissions.empty());
    EXPECT_EQ(none.pairPx(), 0.0);
    offModel.makeRecoil(none, 0.0, rng, out);
    EXPECT_TRUE(out.empty());
  }
}

TEST(Recoil, GammaAndPoissonDeviates) {
  SampleMean g, p;
  for (int i = 0; i < 40000; ++i) {
    Rng rng(kSeed + 4, static_cast<std::uint64_t>(i), streams::generator);
    g.add(sampleGamma(2.5, rng));
    p.add(samplePoisson(300.0, rng));
  }
  EXPECT_NEAR(g.mean(), 2.5, 4 * std::sqrt(2.5 / 40000));
  EXPECT_NEAR(g.rms(), std::sqrt(2.5), 0.03);
  EXPECT_NEAR(p.mean(), 300, 4 * std::sqrt(300.0 / 40000));
  EXPECT_NEAR(p.rms(), std::sqrt(300.0), 0.4);
}
