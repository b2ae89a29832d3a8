// Significance of entanglement and Bell violation (docs/physics.md section 8 numbers, pi pi, LHC
// state).
#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/quantum/Significance.hpp"
#include "nurec/quantum/ToySampler.hpp"

namespace nurec::quantum {
namespace {

SpinState lhcStatePhysical() {
  SpinState s;
  s.bPlus = {-0.1334, 0, 0};
  s.bMinus = {-0.1334, 0, 0};
  s.c = {{{0.99995, 0, 0}, {0, -0.4733, -0.0142}, {0, -0.0142, 0.4734}}};
  return physicalProjection(s);
}

TEST(Significance, PhysicalProjection) {
  const SpinState p = lhcStatePhysical();
  EXPECT_GT(minEigenvalue(densityMatrix(p)), -1e-12);
  EXPECT_NEAR(p.c[kN][kN], 0.4734, 1e-4);
}

// Section 8: D = 0.946 with per-event SD 4.82 (Z = 0.196 sqrt(N)); B_45: Z = 0.0148 sqrt(N);
// B_opt: per-event SD 5.58, Z = 0.0381 sqrt(N).
TEST(Significance, PerEventSpreadsAndZOfSection8) {
  ToyConfig cfg;
  cfg.state = lhcStatePhysical();
  cfg.nEvents = 200000;
  cfg.seed = 88;
  cfg.threads = 2;
  const auto events = sampleToy(cfg);
  const SpinEstimate est = estimateSpin(events);
  const LinearStatistics lin = LinearStatistics::chooseFor(est.value);
  EXPECT_EQ(lin.branch, WitnessBranch::ZLike);
  SignificanceConfig sig;
  sig.backgroundPerInvFb = 0;
  sig.signalPerInvFb = 1000;  // N = 1000 L
  sig.pseudoExperiments = 0;
  struct Expect {
    const char* name;
    double sd, zPerSqrtN;
  };
  for (const Expect& e : {Expect{"entanglement_D", 4.82, 0.196}, Expect{"bell_45", 5.63, 0.0148},
                          Expect{"bell_opt", 5.58, 0.0381}}) {
    const SpinVector g = lin.gradient(e.name);
    const double value = lin.evaluate(e.name, est.value);
    const double err = std::sqrt(g.dot(est.covariance * g));
    const auto r =
        linearSignificance(e.name, value, err, est.nEffective, signalPerInvFb(0, sig), sig);
    EXPECT_NEAR(r.perEventSd, e.sd, 0.02 * e.sd) << e.name;
    // Z at N = 1000 L with L = 140: Z / sqrt(N).
    EXPECT_NEAR(r.zAtLumi / std::sqrt(140e3), e.zPerSqrtN,
                4 * err / r.perEventSd + 0.002 * e.zPerSqrtN)
        << e.name;
    // L(5 sigma) reproduces Z = 5.
    if (value > 0) {
      SignificanceConfig at = sig;
      at.lumiInvFb = r.lumiFor5Sigma;
      EXPECT_NEAR(linearSignificance(e.name, value, err, est.nEffective, 1000, at).zAtLumi, 5.0,
                  1e-9);
    }
  }
  // Background dilutes: s = 5000, b = 23.1 per fb^-1 -> Z x 5000/sqrt(5023.1) / sqrt(5000).
  SignificanceConfig withB;
  withB.signalPerInvFb = 5000;
  const double gD = lin.evaluate("entanglement_D", est.value);
  const auto a = linearSignificance("entanglement_D", gD, 0.01, 1e4, 5000, withB);
  withB.backgroundPerInvFb = 0;
  const auto b = linearSignificance("entanglement_D", gD, 0.01, 1e4, 5000, withB);
  EXPECT_NEAR(a.zAtLumi / b.zAtLumi, std::sqrt(5000 / 5023.1), 1e-12);
}

// Pseudo-experiments agree with the asymptotic formula for the linear witness (N = 650 -> 5 sigma).
TEST(Significance, PseudoExperimentsMatchAsymptotics) {
  ToyConfig cfg;
  cfg.state = lhcStatePhysical();
  cfg.nEvents = 5000;
  cfg.seed = 9;
  const auto events = sampleToy(cfg);
  SignificanceConfig sig;
  sig.backgroundPerInvFb = 0;
  sig.pseudoExperiments = 300;
  sig.threads = 2;
  const LinearStatistics lin = LinearStatistics::chooseFor(cfg.state);
  const auto pt =
      pseudoExperiments("entanglement_D", lin, cfg.state, events, 1.0, 650, sig, nullptr);
  EXPECT_NEAR(pt.zToys, 5.0, 0.6);
  EXPECT_NEAR(pt.toyNullMean, 0, 3 * pt.toyNullSd / std::sqrt(300.0));
  // m12 at N = 2000: the null (m12 = 1 boundary state) is biased upward, more than at C = 0
  // (78.6/N): a naive m12 - 1 significance would be overstated; the toys include the bias.
  const auto m = pseudoExperiments("m12", lin, cfg.state, events, 1.0, 2000, sig, nullptr);
  EXPECT_GT(m.toyNullMean - 1, 78.6 / 2000);
  EXPECT_LT(m.toyNullMean - 1, 0.2);
  EXPECT_GT(m.zToys, 0);
}

TEST(Significance, BadConfig) {
  SignificanceConfig c;
  c.lumiInvFb = -1;
  EXPECT_THROW(c.validate(), ConfigError);
}

}  // namespace
}  // namespace nurec::quantum
