// Estimators on toy samples from known spin states: docs/physics.md sections 6, 8 and test points
// 17, 21, 22 (sign conventions for tau+ and tau-).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <tuple>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/quantum/Estimators.hpp"
#include "nurec/quantum/ToySampler.hpp"

namespace nurec::quantum {
namespace {

// A generic physical state with all 15 parameters non-zero and B+ != B- (random Ginibre rho).
SpinState genericState() {
  Rng rng(2024, 0, streams::quantum);
  Eigen::Matrix4cd g;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) g(i, j) = {rng.normal(), rng.normal()};
  // Mix with a Z-like Bell-diagonal state so that C is large.
  Eigen::Matrix4cd rho = g * g.adjoint();
  rho /= rho.trace().real();
  SpinState zlike;
  zlike.c = {{{1, 0, 0}, {0, -0.5, 0}, {0, 0, 0.5}}};
  return spinStateOf(0.4 * rho + 0.6 * densityMatrix(zlike));
}

SpinState diagonalState(double ck, double cr, double cn) {
  SpinState s;
  s.c = {{{ck, 0, 0}, {0, cr, 0}, {0, 0, cn}}};
  return s;
}

void expectRecovered(const SpinState& truth, const SpinEstimate& est, double nSigma) {
  const SpinVector t = toVector(truth), v = toVector(est.value), e = toVector(est.errorAnalytic);
  double chi2 = 0;
  for (int a = 0; a < kNumSpinParameters; ++a) {
    EXPECT_NEAR(v(a), t(a), nSigma * e(a)) << spinParameterName(a);
    chi2 += std::pow((v(a) - t(a)) / e(a), 2);
  }
  EXPECT_LT(chi2, 40.0);  // 15 dof: p(chi2 > 40) = 4e-4
}

// docs/physics.md test point 17: x+ has coefficient -B+, x- +B-, x+x- -C (pi pi, kappa = 1).
TEST(Estimators, PiPiToyRecoversStateAndSigns) {
  ToyConfig cfg;
  cfg.state = genericState();
  cfg.nEvents = 200000;
  cfg.seed = 17;
  const auto events = sampleToy(cfg);
  // Raw moments with their signs (E[x_i x_j] = delta_ij/3 on the sphere).
  Vec3 meanPlus{}, meanMinus{};
  double meanKN = 0;
  for (const auto& e : events) {
    for (int i = 0; i < 3; ++i) {
      meanPlus[i] += e.xPlus[i] / events.size();
      meanMinus[i] += e.xMinus[i] / events.size();
    }
    meanKN += e.xPlus[kK] * e.xMinus[kN] / events.size();
  }
  const double n = static_cast<double>(events.size());
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(meanPlus[i], -cfg.state.bPlus[i] / 3, 4 / std::sqrt(3 * n)) << i;
    EXPECT_NEAR(meanMinus[i], +cfg.state.bMinus[i] / 3, 4 / std::sqrt(3 * n)) << i;
  }
  EXPECT_NEAR(meanKN, -cfg.state.c[kK][kN] / 9, 4 / std::sqrt(9 * n));
  const SpinEstimate est = estimateSpin(events);
  EXPECT_EQ(est.nEvents, events.size());
  expectRecovered(cfg.state, est, 4.0);
  // Analytic (section 8) and sandwich errors agree.
  for (int a = 0; a < kNumSpinParameters; ++a)
    EXPECT_NEAR(std::sqrt(est.covariance(a, a)), toVector(est.errorAnalytic)(a),
                0.03 * toVector(est.errorAnalytic)(a))
        << spinParameterName(a);
}

// The tau+ convention: a state with only B+ (tau+ polarised along +k) puts pi+ preferentially
// along -k (alpha(pi+) = -1), and the estimator returns +B+.
TEST(Estimators, TauPlusSignConvention) {
  ToyConfig cfg;
  cfg.state.bPlus = {0.8, 0, 0};
  cfg.nEvents = 20000;
  cfg.seed = 3;
  const auto events = sampleToy(cfg);
  std::size_t backward = 0;
  for (const auto& e : events) backward += e.xPlus[kK] < 0;
  EXPECT_NEAR(static_cast<double>(backward) / events.size(), 0.5 + 0.8 / 4,
              0.015);  // (1 + B)/2 ... /2
  const SpinEstimate est = estimateSpin(events);
  EXPECT_NEAR(est.value.bPlus[kK], 0.8, 4 * est.errorAnalytic.bPlus[kK]);
  EXPECT_NEAR(est.value.bMinus[kK], 0.0, 4 * est.errorAnalytic.bMinus[kK]);
  // tau- polarised along +k: pi- along +k (alpha(pi-) = +1).
  cfg.state = SpinState{};
  cfg.state.bMinus = {0.8, 0, 0};
  const auto minus = sampleToy(cfg);
  std::size_t forward = 0;
  for (const auto& e : minus) forward += e.xMinus[kK] > 0;
  EXPECT_NEAR(static_cast<double>(forward) / minus.size(), 0.7, 0.015);
}

// Analysing powers below 1 and per-event (lepton x-dependent) kappa: still unbiased (section 6).
TEST(Estimators, WeightedAnalysersRecoverState) {
  ToyConfig cfg;
  cfg.state = genericState();
  cfg.tauPlus.leptonSpectrum = true;  // e.g. a leptonic tau+
  cfg.tauMinus.kappa = 0.451;         // rho visible direction
  cfg.nEvents = 100000;
  cfg.seed = 99;
  cfg.threads = 2;
  const auto events = sampleToy(cfg);
  const SpinEstimate est = estimateSpin(events);
  expectRecovered(cfg.state, est, 4.0);
  // Section 8: the C variance grows by 1/<kappa+^2 kappa-^2>.
  const double expected =
      std::sqrt((9 / est.meanW2 - std::pow(cfg.state.c[kN][kN], 2)) / events.size());
  EXPECT_NEAR(est.errorAnalytic.c[kN][kN], expected, 0.2 * expected);
  // Thread-count independence.
  cfg.threads = 1;
  const auto again = sampleToy(cfg);
  ASSERT_EQ(again.size(), events.size());
  for (std::size_t i = 0; i < events.size(); i += 997) {
    EXPECT_EQ(again[i].xPlus, events[i].xPlus);
    EXPECT_EQ(again[i].kappaPlus, events[i].kappaPlus);
  }
}

// docs/physics.md test point 22: per-event SD of -9 x+_n x-_n is sqrt(9 - C_nn^2) = 2.962 at C_nn =
// 0.473.
TEST(Estimators, PerEventSpreadOfCnn) {
  ToyConfig cfg;
  cfg.state = diagonalState(1, -0.473, 0.473);
  cfg.nEvents = 100000;
  cfg.seed = 22;
  const auto events = sampleToy(cfg);
  std::vector<double> v;
  for (const auto& e : events) v.push_back(-9 * e.xPlus[kN] * e.xMinus[kN]);
  const double n = static_cast<double>(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double m2 = 0, m4 = 0;
  for (double x : v) {
    m2 += (x - mean) * (x - mean) / n;
    m4 += std::pow(x - mean, 4) / n;
  }
  const double sd = std::sqrt(m2);
  const double sdError = std::sqrt((m4 - m2 * m2) / n) / (2 * sd);
  EXPECT_NEAR(sd, 2.962, 4 * sdError);
  EXPECT_NEAR(mean, 0.473, 4 * sd / std::sqrt(n));
  const SpinEstimate est = estimateSpin(events);
  EXPECT_NEAR(est.errorAnalytic.c[kN][kN] * std::sqrt(n), std::sqrt(9 - 0.473 * 0.473), 1e-2);
}

// docs/physics.md test point 21: null bias of m12 for pi pi at C = 0: E[m12] N = 78.6 +- 1.5.
TEST(Estimators, NullBiasOfM12) {
  const int toys = 10000;
  const std::size_t n = 100;
  double sum = 0, sum2 = 0;
  for (int t = 0; t < toys; ++t) {
    ToyConfig cfg;
    cfg.nEvents = n;
    cfg.seed = 1000 + t;
    const double m = horodeckiM12(estimateSpin(sampleToy(cfg)).value.c) * n;
    sum += m;
    sum2 += m * m;
  }
  const double mean = sum / toys;
  const double se = std::sqrt((sum2 / toys - mean * mean) / toys);
  EXPECT_LT(se, 0.45);
  EXPECT_NEAR(mean, 78.6, 1.5);
  std::printf("E[m12] N = %.2f +- %.2f (N = %zu, %d toys)\n", mean, se, n, toys);
}

// Section 8: for the Z-like (LHC 66-116) state E[m12] = 2.17 (N = 100), 1.37 (N = 1e3) vs 1.224.
TEST(Estimators, M12BiasForZLikeState) {
  SpinState s;
  s.bPlus = {-0.1334, 0, 0};
  s.bMinus = {-0.1334, 0, 0};
  s.c = {{{0.99995, 0, 0}, {0, -0.4733, -0.0142}, {0, -0.0142, 0.4734}}};
  // The 4-digit values leave rho at -1.25e-5: shift C_kk into the physical region.
  s.c[kK][kK] = 0.9999;
  for (const auto& [n, expected, toys] :
       {std::tuple{100, 2.17, 2000}, std::tuple{1000, 1.37, 400}}) {
    double sum = 0;
    for (int t = 0; t < toys; ++t) {
      ToyConfig cfg;
      cfg.state = s;
      cfg.nEvents = n;
      cfg.seed = 5000 + t;
      sum += horodeckiM12(estimateSpin(sampleToy(cfg)).value.c);
    }
    EXPECT_NEAR(sum / toys, expected, 0.03) << n;
  }
}

// The permutation null reproduces the same bias from a correlated sample (section 8).
TEST(Estimators, PermutationNullReproducesBias) {
  ToyConfig cfg;
  cfg.state = diagonalState(1, -0.47, 0.47);
  cfg.nEvents = 200;
  cfg.seed = 5;
  const auto events = sampleToy(cfg);
  const auto null = permutationNull(events, "m12", 1000, 77, 1);
  const double mean = std::accumulate(null.begin(), null.end(), 0.0) / null.size();
  EXPECT_NEAR(mean * 200, 78.6, 6.0);  // one sample, 1000 permutations
  EXPECT_GT(horodeckiM12(estimateSpin(events).value.c), 1.0);
}

// Bootstrap errors agree with the analytic ones; the bootstrap bias of m12 is positive.
TEST(Estimators, BootstrapMatchesAnalyticErrors) {
  ToyConfig cfg;
  cfg.state = diagonalState(1, -0.47, 0.47);
  cfg.nEvents = 5000;
  cfg.seed = 8;
  const auto events = sampleToy(cfg);
  BootstrapConfig boot;
  boot.replicas = 300;
  boot.threads = 2;
  const auto res = measure(events, boot);
  const SpinVector a = toVector(res.estimate.errorAnalytic), b = toVector(res.errorBootstrap);
  for (int k = 0; k < kNumSpinParameters; ++k)
    EXPECT_NEAR(b(k), a(k), 0.15 * a(k)) << spinParameterName(k);
  for (const auto& o : res.observables) {
    if (o.name == "concurrence_unbiased" || o.name == "entanglement_D" || o.name == "bell_opt") {
      EXPECT_NEAR(o.errorBootstrap, o.errorAnalytic, 0.2 * o.errorAnalytic) << o.name;
    }
    if (o.name == "m12") {
      EXPECT_GT(o.bootstrapBias, 0);
    }
  }
  // Deterministic: same seed, same result, any thread count.
  boot.threads = 1;
  const auto res1 = measure(events, boot);
  EXPECT_EQ(toVector(res1.errorBootstrap), b);
}

TEST(Estimators, NoAnalysersIsAnInputError) {
  std::vector<AnalyserEvent> events(3);
  EXPECT_THROW(estimateSpin(events), InputError);
  ToyConfig bad;
  bad.state.c = {{{2, 0, 0}, {0, 0, 0}, {0, 0, 0}}};
  EXPECT_THROW(sampleToy(bad), ConfigError);
}

// The posterior-mean estimator (docs/quantum.md "Estimators that use the diffusion posterior"):
// candidates that each keep the true analyser with probability q and are uniform otherwise. A
// single candidate per event and the average over K candidates have the same expectation
// (C diluted by q^2 for this model); the average has the smaller error.
TEST(Estimators, PosteriorMeanKeepsExpectationAndShrinksError) {
  ToyConfig cfg;
  cfg.state = diagonalState(1.0, -0.6, 0.6);
  cfg.nEvents = 60000;
  cfg.seed = 77;
  const auto truth = sampleToy(cfg);
  const double q = 0.6;
  const int nCand = 20;
  std::vector<AnalyserEvent> single, averaged;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    Rng rng(91, i, streams::quantum);
    AnalyserTerms sum;
    AnalyserEvent first;
    for (int k = 0; k < nCand; ++k) {
      AnalyserEvent c = truth[i];
      if (rng.uniform() > q) c.xPlus = randomUnitVector(rng);
      if (rng.uniform() > q) c.xMinus = randomUnitVector(rng);
      if (k == 0) first = c;
      const AnalyserTerms t = termsOf(c);
      for (int a = 0; a < 3; ++a) {
        sum.kxPlus[a] += t.kxPlus[a] / nCand;
        sum.kxMinus[a] += t.kxMinus[a] / nCand;
        for (int b = 0; b < 3; ++b) sum.kkxx[a][b] += t.kkxx[a][b] / nCand;
      }
      sum.k2Plus += t.k2Plus / nCand;
      sum.k2Minus += t.k2Minus / nCand;
      sum.w2 += t.w2 / nCand;
    }
    single.push_back(first);
    AnalyserEvent avg = truth[i];
    avg.xPlus = avg.xMinus = Vec3{};
    avg.averaged = sum;
    averaged.push_back(avg);
  }
  const SpinEstimate s1 = estimateSpin(single), sK = estimateSpin(averaged);
  for (int a : {6, 10, 14}) {  // C_kk, C_rr, C_nn
    const double expected = q * q * toVector(cfg.state)(a);
    const double e1 = std::sqrt(s1.covariance(a, a)), eK = std::sqrt(sK.covariance(a, a));
    EXPECT_NEAR(toVector(s1.value)(a), expected, 4 * e1) << spinParameterName(a);
    EXPECT_NEAR(toVector(sK.value)(a), expected, 4 * eK) << spinParameterName(a);
    EXPECT_LT(eK, 0.8 * e1) << spinParameterName(a);
    // The unit-vector formula does not hold for averaged terms: reported as n/a.
    EXPECT_TRUE(std::isnan(toVector(sK.errorAnalytic)(a)));
  }
  // Averaged terms of one candidate each are the single-candidate estimator, exactly.
  std::vector<AnalyserEvent> wrapped = single;
  for (auto& e : wrapped) e.averaged = termsOf(e);
  EXPECT_NEAR(toVector(estimateSpin(wrapped).value)(14), toVector(s1.value)(14), 1e-12);
  EXPECT_THROW(permutationNull(averaged, "concurrence", 2, 1, 1), ConfigError);
}

}  // namespace
}  // namespace nurec::quantum
