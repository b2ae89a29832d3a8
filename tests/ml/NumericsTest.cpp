// Torch-free numerics of the diffusion reconstruction: docs/ml-methods.md section 10 test points 1,
// 3 (exact recursion), 4, 6, 10, plus config parsing, feature rotation and the selection rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "SyntheticEvents.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/ImpactParameter.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/ml/Calibration.hpp"
#include "nurec/ml/Config.hpp"
#include "nurec/ml/Features.hpp"
#include "nurec/ml/Integrity.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Schedule.hpp"
#include "nurec/reco/ConstructedEvents.hpp"
#include "nurec/reco/FastMtt.hpp"

using namespace nurec;
using namespace nurec::ml;

// docs/ml-methods.md §10 test point 1: bounded cosine schedule, lambda in [-20, 20].
TEST(Schedule, BoundaryAndReferenceValues) {
  const BoundedCosineSchedule s(-20, 20);
  EXPECT_NEAR(s.lambda(0.0), 20.0, 1e-12);
  EXPECT_NEAR(s.lambda(1.0), -20.0, 1e-12);
  EXPECT_NEAR(s.lambda(0.5), 0.0, 1e-12);
  EXPECT_NEAR(s.lambda(0.25), 1.762619, 1e-6);
  EXPECT_NEAR(s.sigma(0.0), 4.539993e-5, 1e-11);
  EXPECT_NEAR(s.alpha(1.0), 4.539993e-5, 1e-11);
  EXPECT_NEAR(s.alpha(0.5), 0.70710678, 1e-8);
  EXPECT_NEAR(s.sigma(0.5), 0.70710678, 1e-8);
  double prev = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= 1000; ++i) {
    const double t = i / 1000.0;
    const double a = s.alpha(t), sg = s.sigma(t);
    EXPECT_LT(std::abs(a * a + sg * sg - 1), 1e-15) << t;
    EXPECT_LT(std::abs(s.tOfLambda(s.lambda(t)) - t), 1e-15) << t;
    EXPECT_LT(s.lambda(t), prev) << "lambda must decrease strictly, t = " << t;
    prev = s.lambda(t);
  }
}

// docs/ml-methods.md §10 test point 2 (scalar form): z, v from x, eps and back; loss identities.
TEST(Schedule, VPredictionConversions) {
  const BoundedCosineSchedule s;
  Rng rng(3, 0);
  for (int i = 0; i < 200; ++i) {
    const double t = rng.uniform(), x = rng.normal(), eps = rng.normal();
    const double a = s.alpha(t), sg = s.sigma(t);
    const double z = a * x + sg * eps, v = a * eps - sg * x;
    EXPECT_NEAR(a * z - sg * v, x, 1e-12);
    EXPECT_NEAR(sg * z + a * v, eps, 1e-12);
    const double vh = v + rng.normal(0, 0.3);
    const double xh = a * z - sg * vh, eh = sg * z + a * vh;
    const double lv = (v - vh) * (v - vh);
    EXPECT_NEAR(lv, (eps - eh) * (eps - eh) / (a * a), 1e-9 * std::max(1.0, lv));
    EXPECT_NEAR(lv, (x - xh) * (x - xh) / (sg * sg), 1e-9 * std::max(1.0, lv));
  }
}

// docs/ml-methods.md §10 test point 3: exact Gaussian denoiser through the sampler coefficients
// (exact recursion).
TEST(Samplers, ExactGaussianRecursionMatchesReference) {
  const BoundedCosineSchedule s;
  const double mu = 1.5, sd = 0.4;
  struct Case {
    SamplerKind kind;
    int steps;
    double eta, variance;
  };
  const Case cases[] = {{SamplerKind::Ddim, 100, 0.0, 0.154377},
                        {SamplerKind::Ddim, 100, 1.0, 0.147011},
                        {SamplerKind::Ddim, 25, 0.0, 0.138634},
                        {SamplerKind::DpmSolverPp2M, 25, 0.0, 0.161461}};
  for (const auto& c : cases) {
    const Moments m =
        exactGaussianSamplerMoments(makeSamplerGrid(s, c.kind, c.steps, c.eta), mu, sd);
    EXPECT_NEAR(m.mean, mu, 1e-4) << c.steps;
    EXPECT_NEAR(m.variance, c.variance, 5e-7) << "steps " << c.steps << " eta " << c.eta;
  }
  // docs/ml-methods.md section 5 table, V/s^2 at N = 10 and 1000.
  EXPECT_NEAR(
      exactGaussianSamplerMoments(makeSamplerGrid(s, SamplerKind::Ddim, 10, 0), mu, sd).variance /
          (sd * sd),
      0.696, 5e-4);
  EXPECT_NEAR(
      exactGaussianSamplerMoments(makeSamplerGrid(s, SamplerKind::DpmSolverPp2M, 10, 0), mu, sd)
              .variance /
          (sd * sd),
      0.869, 5e-4);
  EXPECT_NEAR(
      exactGaussianSamplerMoments(makeSamplerGrid(s, SamplerKind::Ddim, 1000, 1), mu, sd).variance /
          (sd * sd),
      0.991, 5e-4);
}

// docs/ml-methods.md §10 test point 4: DDIM eta = 1 is the DDPM posterior; DDIM eta = 0 is
// first-order DPM-Solver++.
TEST(Samplers, OneStepIdentities) {
  const BoundedCosineSchedule s;
  const int n = 20;
  const SamplerGrid g1 = makeSamplerGrid(s, SamplerKind::Ddim, n, 1.0);
  const SamplerGrid g0 = makeSamplerGrid(s, SamplerKind::Ddim, n, 0.0);
  const SamplerGrid gd = makeSamplerGrid(s, SamplerKind::DpmSolverPp2M, n, 0.0);
  for (int i = 0; i < n; ++i) {
    const double tt = g1.steps[i].t, ts = tt - 1.0 / n;
    const double at = s.alpha(tt), st = s.sigma(tt), as = s.alpha(ts), ss = s.sigma(ts);
    // z_s = kz z_t + kx xhat + noise: convert from the v form, v = (alpha z - xhat)/sigma.
    const auto& q = g1.steps[i];
    const double kz = q.zCoef + q.vCoef * at / st, kx = -q.vCoef / st;
    const double ats = at / as, s2ts = st * st - ats * ats * ss * ss;
    // (1e-12: the conversion from the stored v-form coefficients loses a few digits at t = 1)
    EXPECT_NEAR(kz, ats * ss * ss / (st * st), 1e-12) << i;
    EXPECT_NEAR(kx, as * s2ts / (st * st), 1e-12) << i;
    EXPECT_NEAR(q.noiseCoef * q.noiseCoef, s2ts * ss * ss / (st * st), 1e-15) << i;
    // eta = 0 vs first-order DPM++ (its first step is first order).
    const auto& p = g0.steps[i];
    const double kz0 = p.zCoef + p.vCoef * at / st, kx0 = -p.vCoef / st;
    const double h = 0.5 * (s.lambda(ts) - s.lambda(tt));
    EXPECT_NEAR(kz0, ss / st, 1e-12);
    EXPECT_NEAR(kx0, -as * std::expm1(-h), 1e-12);
    if (i == 0 || i == n - 1) {
      EXPECT_NEAR(gd.steps[i].zCoef, kz0, 1e-12);
      EXPECT_NEAR(gd.steps[i].dCoef * gd.steps[i].w, kx0, 1e-12);
    }
  }
}

TEST(Samplers, MinimalVLoss) {
  // Expected v-loss of the exact denoiser, by Monte Carlo, equals s^2/(alpha^2 s^2 + sigma^2).
  const BoundedCosineSchedule s;
  const double mu = 1.5, sd = 0.4;
  Rng rng(5, 0);
  for (double t : {0.1, 0.5, 0.9}) {
    const double a = s.alpha(t), sg = s.sigma(t);
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      const double x = mu + sd * rng.normal(), eps = rng.normal();
      const double z = a * x + sg * eps, v = a * eps - sg * x;
      const double vh = exactGaussianVelocity(z, a, sg, mu, sd);
      sum += (v - vh) * (v - vh);
    }
    EXPECT_NEAR(sum / n, minimalVLoss(a, sg, sd), 0.01 * minimalVLoss(a, sg, sd)) << t;
  }
}

// docs/ml-methods.md §10 test point 6: warm-up + cosine learning rate.
TEST(Optimisation, LearningRateSchedule) {
  const double pk = 1.2e-4;
  auto lr = [&](std::int64_t s) { return learningRate(s, pk, 0.0, 1000, 10000); };
  EXPECT_NEAR(lr(0), 1.2e-7, 1e-15);
  EXPECT_NEAR(lr(499), 6.0e-5, 1e-15);
  EXPECT_NEAR(lr(999), 1.2e-4, 1e-15);
  EXPECT_NEAR(lr(1000), 1.2e-4, 1e-15);
  EXPECT_NEAR(lr(3250), 1.024264e-4, 1e-10);
  EXPECT_NEAR(lr(5500), 6.0e-5, 1e-12);
  EXPECT_NEAR(lr(7750), 1.757359e-5, 1e-10);
  EXPECT_NEAR(lr(10000), 0.0, 1e-15);
}

// docs/ml-methods.md §10 test point 10: calibration of exchangeable truth, and CRPS.
TEST(Calibration, ExchangeableTruthCoverageAndRanks) {
  const int K = 10, trials = 200000;
  int cover19 = 0, cover28 = 0;
  std::vector<int> hist(K + 1, 0);
  for (int i = 0; i < trials; ++i) {
    Rng rng(11, i);
    std::vector<double> x(K);
    for (auto& v : x) v = rng.normal();
    const double y = rng.normal();
    hist[rankOf(x, y)]++;
    std::sort(x.begin(), x.end());
    cover19 += (x[0] < y && y < x[9]);
    cover28 += (x[1] < y && y < x[8]);
  }
  const auto tol = [&](double p) { return 4 * std::sqrt(p * (1 - p) / trials); };
  EXPECT_NEAR(double(cover19) / trials, 9.0 / 11, tol(9.0 / 11));
  EXPECT_NEAR(double(cover28) / trials, 7.0 / 11, tol(7.0 / 11));
  for (int r = 0; r <= K; ++r) EXPECT_NEAR(double(hist[r]) / trials, 1.0 / 11, tol(1.0 / 11)) << r;
}

TEST(Calibration, Crps) {
  EXPECT_NEAR(crpsGaussian(0.3, 0.7, 1.1), 0.49327, 1e-5);
  // The unbiased ensemble CRPS converges to the Gaussian closed form.
  Rng rng(12, 0);
  double sum = 0;
  const int reps = 400;
  for (int r = 0; r < reps; ++r) {
    std::vector<double> x(50);
    for (auto& v : x) v = 0.3 + 0.7 * rng.normal();
    sum += crpsEnsemble(x, 1.1);
  }
  EXPECT_NEAR(sum / reps, 0.49327, 0.01);
}

TEST(Selection, Rules) {
  // 3 candidates; per-component median; medoid in scaled units; tau-mass rule.
  const std::vector<double> c = {1, 0, 0, 1, 0, 0,  //
                                 2, 0, 0, 2, 0, 0,  //
                                 9, 0, 0, 9, 0, 0};
  const std::array<double, 8> vis = {10, 0, 0, 10.2, -10, 0, 0, 10.2};
  const std::array<bool, 2> had{false, false};
  auto med = selectCandidate(SelectionRule::Median, c, c, vis, had, 0.0);
  EXPECT_DOUBLE_EQ(med[0], 2);
  auto medoid = selectCandidate(SelectionRule::Medoid, c, c, vis, had, 0.0);
  EXPECT_DOUBLE_EQ(medoid[0], 2);
  auto rnd = selectCandidate(SelectionRule::Random, c, c, vis, had, 0.99);
  EXPECT_DOUBLE_EQ(rnd[0], 9);
  // Collinear neutrinos: m_tau,reco = m_vis * sqrt(1 + r)... choose the candidate closest to m_tau.
  std::vector<double> m2(3);
  for (int k = 0; k < 3; ++k) m2[k] = tauMassReco(&vis[0], &c[k * 6]);
  int best = 0;
  for (int k = 1; k < 3; ++k) {
    if (std::abs(m2[k] - constants::mTau) < std::abs(m2[best] - constants::mTau)) best = k;
  }
  auto tm = selectCandidate(SelectionRule::TauMass, c, c, vis, had, 0.0);
  EXPECT_DOUBLE_EQ(tm[0], c[best * 6]);
  EXPECT_THROW(selectionRuleFromName("mode"), ConfigError);
}

// Mass mode: the per-component median of the densest half in m_tautau, not of all candidates. Five
// candidates, each neutrino collinear with its visible tau and scaled by f: the masses grow with f,
// three of them (f = 1, 1.1, 1.3) lie close together, two far above. The rule returns the middle
// one of the three (f = 1.1) whatever the order of the candidates; the plain median returns f
// = 1.3.
TEST(Selection, MassModeTakesTheDensestHalfInMass) {
  const std::array<double, 8> vis = {20, 0, 0, 20.1, -15, 0, 0, 15.1};
  const std::array<bool, 2> had{false, false};
  const std::vector<double> f = {9, 1.3, 1, 5, 1.1};
  std::vector<double> c;
  for (double s : f) c.insert(c.end(), {20 * s, 0, 0, -15 * s, 0, 0});
  const auto masses = candidatePairMasses(c, vis);
  ASSERT_EQ(masses.size(), f.size());
  for (std::size_t k = 0; k < f.size(); ++k) {
    // Collinear massless systems: m^2 = 2 (E1 E2 - p1.p2) of the two summed sides, up to m_vis.
    FourVector a(20 * (1 + f[k]), 0, 0, 20.1 + 20 * f[k]);
    FourVector b(-15 * (1 + f[k]), 0, 0, 15.1 + 15 * f[k]);
    EXPECT_NEAR(masses[k], (a + b).m(), 1e-9);
    if (k > 0) {
      EXPECT_EQ(masses[k] > masses[k - 1], f[k] > f[k - 1]);
    }
  }
  const auto mode = selectCandidate(SelectionRule::MassMode, c, c, vis, had, 0.0);
  EXPECT_DOUBLE_EQ(mode[0], 22);
  EXPECT_DOUBLE_EQ(mode[3], -16.5);
  EXPECT_DOUBLE_EQ(selectCandidate(SelectionRule::Median, c, c, vis, had, 0.0)[0], 26);
  std::vector<double> reversed;
  for (std::size_t k = f.size(); k-- > 0;)
    reversed.insert(reversed.end(), &c[6 * k], &c[6 * k + 6]);
  EXPECT_DOUBLE_EQ(selectCandidate(SelectionRule::MassMode, reversed, reversed, vis, had, 0.0)[0],
                   22);
  EXPECT_EQ(selectionRuleFromName("mass-mode"), SelectionRule::MassMode);
}

// Mass hypothesis (docs/ml.md "Mass hypothesis"): the Breit-Wigner weights in closed form, and the
// weighted median of candidates from a flat-prior posterior against the exact posterior median
// under the resonance prior. Toy: true m from a Breit-Wigner (M = 91.19, Gamma = 2.5 GeV), an
// observation x = m + N(0, 15 GeV); a flat-prior model's candidates are then N(x, 15 GeV) (K =
// 400), and the exact posterior is BW(m) N(x; m, 15) (numerical median on a 0.01 GeV grid). The
// weighted estimate must sit within 0.5 GeV of that median (median over 200 toys; about 0.2 GeV,
// with a few toys far off where the observation lies far from the pole and few candidates reach
// it), where the unweighted median misses by about 10 GeV.
TEST(Selection, MassHypothesisRecoversTheResonancePosterior) {
  const MassHypothesis h{91.19, 2.5};
  auto bw = [&](double m) {
    const double d = m * m - h.massGeV * h.massGeV;
    return m / (d * d + h.massGeV * h.massGeV * h.widthGeV * h.widthGeV);
  };
  const std::vector<double> masses = {h.massGeV, h.massGeV + h.widthGeV, 150, -1, NAN};
  const auto w = massHypothesisWeights(masses, h);
  EXPECT_NEAR(w[0] / w[1], bw(h.massGeV) / bw(h.massGeV + h.widthGeV), 1e-12);
  EXPECT_NEAR(w[0] / w[2], bw(h.massGeV) / bw(150), 1e-9);
  EXPECT_EQ(w[3], 0.0);
  EXPECT_EQ(w[4], 0.0);
  EXPECT_NEAR(w[0] + w[1] + w[2], 1.0, 1e-12);
  // A narrow width far from every candidate: the power-law tails of the Breit-Wigner decide.
  const MassHypothesis narrow{125, 0.004};
  const auto far = massHypothesisWeights({40, 60, 300}, narrow);
  auto bwNarrow = [&](double m) { return m / ((m * m - 125 * 125) * (m * m - 125 * 125)); };
  EXPECT_NEAR(far[1] / far[0], bwNarrow(60) / bwNarrow(40), 1e-6);
  EXPECT_NEAR(far[1] / far[2], bwNarrow(60) / bwNarrow(300), 1e-6);

  Rng rng(2024, 0, 0);
  const double sigma = 15;
  std::vector<double> miss, missFlat;
  const int toys = 200;
  for (int t = 0; t < toys; ++t) {
    // True mass: Breit-Wigner by inversion (non-relativistic form, enough for a toy truth),
    // within 20 widths of the pole.
    double mTrue = 0;
    do {
      mTrue = h.massGeV + 0.5 * h.widthGeV * std::tan(constants::pi * (rng.uniform() - 0.5));
    } while (std::abs(mTrue - h.massGeV) > 20 * h.widthGeV);
    const double x = mTrue + sigma * rng.normal();
    std::vector<double> cand(400);
    for (double& c : cand) c = x + sigma * rng.normal();
    const double estimate = weightedQuantile(cand, massHypothesisWeights(cand, h), 0.5);
    std::vector<double> grid, dens;
    double total = 0;
    for (double m = x - 6 * sigma; m < x + 6 * sigma; m += 0.01) {
      if (m <= 0) continue;
      const double z = (x - m) / sigma;
      grid.push_back(m);
      dens.push_back(total += bw(m) * std::exp(-0.5 * z * z));
    }
    ASSERT_FALSE(grid.empty());
    const auto at = std::lower_bound(dens.begin(), dens.end(), 0.5 * total) - dens.begin();
    const double exact = grid[std::min<std::size_t>(at, grid.size() - 1)];
    miss.push_back(std::abs(estimate - exact));
    missFlat.push_back(std::abs(median(cand) - exact));
  }
  EXPECT_LT(median(miss), 0.5);
  EXPECT_GT(median(missFlat), 5.0);

  // Six components: a narrow hypothesis at one candidate's pair mass returns that candidate.
  const std::array<double, 8> vis = {20, 0, 0, 20.1, -15, 0, 0, 15.1};
  std::vector<double> c;
  for (double f : {1.0, 1.3, 2.0, 3.0}) c.insert(c.end(), {20 * f, 1, 2, -15 * f, -1, 3});
  const auto pair = candidatePairMasses(c, vis);
  const auto point = weightedComponentMedian(c, massHypothesisWeights(pair, {pair[2], 0.01}));
  for (int j = 0; j < 6; ++j) EXPECT_DOUBLE_EQ(point[j], c[2 * 6 + j]);

  EXPECT_EQ(massHypothesisFromText("91.1876,2.4952").massGeV, 91.1876);
  EXPECT_EQ(massHypothesisFromText("125,0.004").widthGeV, 0.004);
  for (const char* bad :
       {"91", "91,", ",2", "91,x", "x,2", "0,2", "91,0", "91,-2", "2,91", "nan,1", "91,inf"}) {
    EXPECT_THROW(massHypothesisFromText(bad), ConfigError) << bad;
  }
  EXPECT_FALSE(MassHypothesis{}.enabled());
  EXPECT_NO_THROW(MassHypothesis{}.validate());
}

TEST(Config, ShippedConfigParsesAndRoundTrips) {
  const DiffusionConfig c =
      DiffusionConfig::fromFile(NUREC_SOURCE_DIR "/configs/diffusion_ztautau.yaml");
  const DiffusionConfig d = DiffusionConfig::fromYaml(c.toYaml(), "round trip");
  EXPECT_EQ(c.toYaml(), d.toYaml());
  EXPECT_THROW(DiffusionConfig::fromYaml("encoder: {widht: 3}\n", "typo"), ConfigError);
  EXPECT_THROW(DiffusionConfig::fromYaml("encoder: {width: 30, heads: 4}\n", "bad"), ConfigError);
  EXPECT_THROW(DiffusionConfig::fromYaml("sampler: {name: euler}\n", "bad"), ConfigError);
  EXPECT_EQ(c.sampler.selection, "median");  // a card without the key
  EXPECT_EQ(
      DiffusionConfig::fromYaml("sampler: {selection: mass-mode}\n", "mode").sampler.selection,
      "mass-mode");
  EXPECT_THROW(DiffusionConfig::fromYaml("sampler: {selection: mode}\n", "bad"), ConfigError);
  EXPECT_THROW(DiffusionConfig::fromYaml("train: [1, 2\n", "broken"), ConfigError);
}

TEST(Features, RotationAndCanonicalFrame) {
  const io::EventTable t = nurec::ml::testing::makeSyntheticEvents(50, 7);
  const auto rows = selectRows(t, false, {});
  ASSERT_EQ(rows.size(), 50u);
  const EventData lab = buildEventData(t, rows, false, true);
  const EventData can = buildEventData(t, rows, true, true);
  for (std::size_t e = 0; e < lab.n; ++e) {
    // Rotating the canonical event back reproduces the lab event.
    std::vector<float> x(can.x.begin() + e * 130, can.x.begin() + (e + 1) * 130);
    std::vector<float> y(can.target.begin() + e * 6, can.target.begin() + (e + 1) * 6);
    rotateEvent(x.data(), &can.mask[e * 10], y.data(), -can.rotation[e]);
    for (int i = 0; i < 130; ++i) EXPECT_NEAR(x[i], lab.x[e * 130 + i], 2e-5) << e << " " << i;
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(y[i], lab.target[e * 6 + i], 2e-5);
    // The leading visible tau points along +x: its neutrino (collinear in the toy) has py = 0.
    const int lead = std::hypot(lab.visP4[e * 8], lab.visP4[e * 8 + 1]) >=
                             std::hypot(lab.visP4[e * 8 + 4], lab.visP4[e * 8 + 5])
                         ? 0
                         : 1;
    EXPECT_NEAR(can.target[e * 6 + 3 * lead + 1], 0.0, 1e-5);
    EXPECT_GT(can.target[e * 6 + 3 * lead], 0.0);
  }
  EXPECT_NEAR(ml::wrapPhi(3 * constants::pi), constants::pi, 1e-12);
  EXPECT_NEAR(ml::wrapPhi(-constants::pi + 0.1), -constants::pi + 0.1, 1e-12);
}

// Visible-frame targets (docs/ml-methods.md section 1, "Target frame"): a hand-computed case, the
// exact inverse in both frames, and invariance under the canonical rotation.
TEST(Features, VisibleTargetFrame) {
  // Visible tau along +x: u = x, e2 = z x u = y, e1 = e2 x u = -z.
  const double vis[4] = {10, 0, 0, 10}, nu[3] = {5, 1, 2};
  const std::array<double, 3> y = targetFromNeutrino(TargetFrame::Visible, nu, vis);
  EXPECT_NEAR(y[0], -2.0, 1e-12);  // GeV
  EXPECT_NEAR(y[1], 1.0, 1e-12);   // GeV
  EXPECT_NEAR(y[2], 0.5, 1e-12);   // / |p_vis|

  // The toy's neutrinos are collinear with the visible taus: give them a transverse part.
  io::EventTable t = nurec::ml::testing::makeSyntheticEvents(50, 7);
  auto truthNu = t.get<double>(io::ds::nuP4, {2, 4});
  Rng kick(3, 0, 0);
  for (std::size_t i = 0; i < truthNu.size(); ++i)
    if (i % 4 != 3) truthNu[i] += kick.normal(0, 1.5);
  t.set(io::ds::nuP4, {2, 4}, truthNu);
  const auto rows = selectRows(t, false, {});
  for (TargetFrame frame : {TargetFrame::Lab, TargetFrame::Visible}) {
    const EventData lab = buildEventData(t, rows, false, true, {}, 1, frame);
    const EventData can = buildEventData(t, rows, true, true, {}, 1, frame);
    for (std::size_t e = 0; e < can.n; ++e) {
      for (int k = 0; k < 2; ++k) {
        double yk[3];
        for (int c = 0; c < 3; ++c) yk[c] = can.target[e * 6 + 3 * k + c];
        const std::array<double, 3> back =
            neutrinoFromTarget(frame, yk, &can.visP4[e * 8 + 4 * k], can.rotation[e]);
        for (int c = 0; c < 3; ++c) {
          EXPECT_NEAR(back[c], truthNu[rows[e] * 8 + 4 * k + c],
                      1e-5 * (1 + std::abs(truthNu[rows[e] * 8 + 4 * k + c])));
          // The visible frame turns with the event: the rotation leaves its targets unchanged.
          if (frame == TargetFrame::Visible) {
            EXPECT_NEAR(can.target[e * 6 + 3 * k + c], lab.target[e * 6 + 3 * k + c], 1e-6);
          }
        }
      }
    }
  }
  EXPECT_THROW(targetFrameFromName("beam"), ConfigError);
  EXPECT_THROW(DiffusionConfig::fromYaml("train: {target_frame: beam}\n", "bad"), ConfigError);
  const DiffusionConfig v = DiffusionConfig::fromYaml("train: {target_frame: visible}\n", "v");
  EXPECT_EQ(DiffusionConfig::fromYaml(v.toYaml(), "round trip").train.targetFrame, "visible");
  // The default is not written, so older model configs keep their text.
  EXPECT_EQ(DiffusionConfig{}.toYaml().find("target_frame"), std::string::npos);
}

// Visible-frame inputs (docs/ml-methods.md section 1, "Visible-frame inputs"): on toy events with
// a known geometry (a track tilted from its visible tau, a tau that leans from the visible
// direction and decays 2 mm from the primary vertex) the features are the track momentum and the
// impact-parameter vector along e1, e2; for a track along the visible tau (pi, lepton) the
// impact-parameter features point where the tau leans; the canonical rotation leaves them alone.
TEST(Features, VisibleFrameInputs) {
  io::EventTable t = nurec::ml::testing::makeSyntheticEvents(40, 11);
  nurec::ml::testing::addImpactParametersAndActivity(t, 5);
  const auto tau = t.get<double>(io::ds::recoTauP4, {2, 4});
  auto particles = t.get<float>(io::ds::recoParticles, {kNumSlots, kNumFeatures});
  auto trackIp = t.get<double>(io::ds::recoTrackIp, {2, 4});
  const std::size_t n = t.nEvents();
  std::vector<double> expected(n * 2 * 4), lean(n * 2 * 2);
  Rng rng(17, 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < 2; ++k) {
      const double* v = &tau[i * 8 + 4 * k];
      const Vector3 u = Vector3{v[0], v[1], v[2]}.unit();
      const Vector3 e2 = Vector3{-u.y, u.x, 0}.unit();
      const Vector3 e1 = e2.cross(u);
      // tau+ legs: track along the visible tau (pi-like); tau- legs: tilted by ~10 mrad (rho-like).
      const double a1 = k == 0 ? 0 : rng.normal(0, 0.01), a2 = k == 0 ? 0 : rng.normal(0, 0.01);
      const Vector3 dir = (u + e1 * a1 + e2 * a2).unit();
      const Vector3 track = dir * (0.6 * Vector3{v[0], v[1], v[2]}.mag());
      float* f = &particles[(i * kNumSlots + 2 * k) * kNumFeatures];
      nurec::ml::testing::fillSlot(f, track.x, track.y, track.z, track.mag(), k == 0 ? 1 : -1, 0);
      const double c1 = rng.normal(0, 0.02), c2 = rng.normal(0, 0.02);
      const Vector3 flight = (u + e1 * c1 + e2 * c2).unit();
      const Perigee pg = trackPerigee(flight * 2.0, dir, {0, 0, 0});
      trackIp[(i * 2 + k) * 4] = pg.d0Mm;
      trackIp[(i * 2 + k) * 4 + 1] = pg.z0Mm;
      const Vector3 d = (flight - dir * flight.dot(dir)) * 2.0;  // PCA - PV, mm
      double* x = &expected[(i * 2 + k) * 4];
      x[0] = track.dot(e1);
      x[1] = track.dot(e2);
      x[2] = std::asinh(d.dot(e1) / 0.1);
      x[3] = std::asinh(d.dot(e2) / 0.1);
      lean[(i * 2 + k) * 2] = c1;
      lean[(i * 2 + k) * 2 + 1] = c2;
    }
  }
  t.set(io::ds::recoParticles, {kNumSlots, kNumFeatures}, particles);
  t.set(io::ds::recoTrackIp, {2, 4}, trackIp);
  const DiffusionConfig c = DiffusionConfig::fromYaml(
      "inputs: {impact_parameters: true, visible_frame: true}\n", "visible frame inputs");
  ASSERT_TRUE(c.inputs.visibleFrame);
  EXPECT_EQ(c.inputs.numFeatures(), kNumFeatures + 8);
  EXPECT_EQ(c.inputs.visibleFrameIndex(), kNumFeatures + 4);
  EXPECT_FALSE(c.inputs.onMetSlot(kNumFeatures + 4));
  EXPECT_TRUE(DiffusionConfig::fromYaml(c.toYaml(), "round trip").inputs.visibleFrame);
  InputConfig momentaOnly;
  momentaOnly.visibleFrame = true;
  EXPECT_EQ(momentaOnly.numFeatures(), kNumFeatures + 2);
  EXPECT_EQ(DiffusionConfig{}.toYaml().find("visible_frame"), std::string::npos);

  const auto rows = selectRows(t, false, {});
  const int F = c.inputs.numFeatures(), i0 = c.inputs.visibleFrameIndex();
  for (bool canonical : {false, true}) {
    const EventData d = buildEventData(t, rows, canonical, false, c.inputs);
    for (std::size_t e = 0; e < d.n; ++e) {
      for (int k = 0; k < 2; ++k) {
        const float* f = &d.x[(e * kNumSlots + 2 * k) * F + i0];
        const double* x = &expected[(rows[e] * 2 + k) * 4];
        EXPECT_NEAR(f[0], x[0], 2e-4) << e << " " << k;  // GeV
        EXPECT_NEAR(f[1], x[1], 2e-4) << e << " " << k;
        EXPECT_NEAR(f[2], x[2], 2e-4) << e << " " << k;
        EXPECT_NEAR(f[3], x[3], 2e-4) << e << " " << k;
        if (k == 0) {
          EXPECT_NEAR(f[0], 0.0, 2e-4);
          EXPECT_EQ(f[2] > 0, lean[(rows[e] * 2) * 2] > 0) << e;
          EXPECT_EQ(f[3] > 0, lean[(rows[e] * 2) * 2 + 1] > 0) << e;
        }
      }
      // Nothing on the other slots.
      for (int p : {1, 3, 4, 9})
        for (int j = 0; j < 4; ++j) EXPECT_EQ(d.x[(e * kNumSlots + p) * F + i0 + j], 0.0f);
    }
  }
}

// The optional inputs (docs/ml-methods.md section 1): parsed, written back, and appended to the
// point cloud in the documented slots; the rotation to the canonical frame leaves them unchanged.
TEST(Config, InputsSectionRoundTrips) {
  const DiffusionConfig c =
      DiffusionConfig::fromYaml("inputs: {impact_parameters: true, activity: true}\n", "inputs");
  EXPECT_TRUE(c.inputs.impactParameters);
  EXPECT_TRUE(c.inputs.activity);
  EXPECT_EQ(c.inputs.numFeatures(), kNumFeatures + 5);
  EXPECT_EQ(c.inputs.activityIndex(), kNumFeatures + 4);
  const DiffusionConfig d = DiffusionConfig::fromYaml(c.toYaml(), "round trip");
  EXPECT_TRUE(d.inputs.impactParameters && d.inputs.activity);
  // Models written before the section existed read /reco/particles only.
  EXPECT_EQ(DiffusionConfig::fromYaml("encoder: {width: 64}\n", "old").inputs.numFeatures(),
            kNumFeatures);
  EXPECT_THROW(DiffusionConfig::fromYaml("inputs: {impact_parameter: true}\n", "typo"),
               ConfigError);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The FastMTT input (InputConfig::fastMtt): the features are FastMTT's own solution of the event
// (ln 1/x on the tau-candidate slots, ln(m/100 GeV) and sigma_m/m on the MET slot, 0 elsewhere),
// and on exactly collinear decays they carry the true visible momentum fractions.
TEST(Features, FastMttInputIsTheClassicalSolution) {
  reco::ConstructedEventsConfig cc;
  cc.collinearDecays = true;
  const auto events = reco::constructEvents(cc, 60, 41);
  io::EventTable t = reco::constructedTable(events);
  {  // a minimal point cloud: the two candidates and the MET token
    const std::size_t n = events.size();
    std::vector<float> particles(n * kNumSlots * kNumFeatures, 0.0f);
    std::vector<std::uint8_t> mask(n * kNumSlots, 0);
    for (std::size_t e = 0; e < n; ++e) {
      for (int p : {0, 2, kNumSlots - 1}) mask[e * kNumSlots + p] = 1;
      particles[(e * kNumSlots + kNumSlots - 1) * kNumFeatures + feat::typeMet] = 1.0f;
    }
    t.set(io::ds::recoParticles, {kNumSlots, kNumFeatures}, std::move(particles));
    t.set(io::ds::recoParticlesMask, {kNumSlots}, std::move(mask));
  }
  const auto rows = selectRows(t, false, {});
  ASSERT_GT(rows.size(), 40u);
  InputConfig inputs;
  inputs.fastMtt = true;
  const EventData d = buildEventData(t, rows, true, false, inputs);
  const int F = d.features(), i0 = inputs.fastMttIndex();
  ASSERT_EQ(F, kNumFeatures + 3);
  const reco::FastMttReconstructor fastMtt(reco::FastMttConfig{});
  std::vector<double> xError, xGuessError;
  for (std::size_t e = 0; e < d.n; ++e) {
    const auto fm = fastMtt.reconstruct(events[rows[e]].reco);
    ASSERT_EQ(fm.status, reco::RecoStatus::Ok) << e;
    for (int p = 0; p < kNumSlots; ++p) {
      const float* f = &d.x[(e * kNumSlots + p) * F + i0];
      EXPECT_FLOAT_EQ(f[0], p == 0 || p == 2 ? -std::log(fm.x[p / 2]) : 0.0) << e << " " << p;
      EXPECT_FLOAT_EQ(f[1], p == kNumSlots - 1 ? std::log(fm.mTauTau / 100) : 0.0) << e;
      EXPECT_FLOAT_EQ(f[2], p == kNumSlots - 1 ? fm.mTauTauSigma / fm.mTauTau : 0.0) << e;
    }
    for (int k = 0; k < 2; ++k) {
      const auto& truth = events[rows[e]].truth;
      const double xTrue = truth.visible[k].p() / truth.tau[k].p();
      xError.push_back(std::abs(std::exp(-d.x[(e * kNumSlots + 2 * k) * F + i0]) - xTrue));
      xGuessError.push_back(std::abs(0.525 - xTrue));  // the mean of x, uniform in (0.05, 1)
    }
  }
  // The median |x_FastMTT - x_true| (0.05 here) is well below that of a guess without the event.
  EXPECT_LT(median(xError), 0.35 * median(xGuessError));
  EXPECT_TRUE(inputs.onMetSlot(i0 + 1) && inputs.onMetSlot(i0 + 2) && !inputs.onMetSlot(i0));
  // Computed on several threads, and for a subset of rows, the features are the same.
  const EventData threaded = buildEventData(t, rows, true, false, inputs, 3);
  EXPECT_EQ(threaded.x, d.x);
  const std::vector<std::size_t> some(rows.begin() + 5, rows.begin() + 12);
  const EventData part = buildEventData(t, some, true, false, inputs, 2);
  ASSERT_EQ(part.n, some.size());
  for (std::size_t i = 0; i < part.x.size(); ++i) ASSERT_EQ(part.x[i], d.x[5 * kNumSlots * F + i]);
}

TEST(Features, OptionalInputsInTheirSlots) {
  io::EventTable t = nurec::ml::testing::makeSyntheticEvents(40, 3);
  const auto rows = selectRows(t, false, {});
  InputConfig inputs;
  inputs.impactParameters = inputs.activity = true;
  // Without the datasets: an error naming the missing one.
  try {
    buildEventData(t, rows, true, true, inputs);
    FAIL() << "missing /reco/track_ip accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/reco/track_ip"), std::string::npos) << e.what();
  }
  nurec::ml::testing::addImpactParametersAndActivity(t, 3);
  const EventData base = buildEventData(t, rows, true, true);
  const EventData d = buildEventData(t, rows, true, true, inputs);
  const int F = d.features(), F0 = kNumFeatures;
  ASSERT_EQ(F, F0 + 5);
  const auto ip = t.get<double>(io::ds::recoTrackIp, {2, 4});
  const auto sumEt = t.get<double>(io::ds::recoSumEt, {});
  for (std::size_t e = 0; e < d.n; ++e) {
    for (int p = 0; p < kNumSlots; ++p) {
      const float* f = &d.x[(e * kNumSlots + p) * F];
      // The 13 features of /reco/particles are unchanged (canonical rotation included).
      for (int j = 0; j < F0; ++j) EXPECT_EQ(f[j], base.x[(e * kNumSlots + p) * F0 + j]);
      const bool track = (p == 0 || p == 2) && d.mask[e * kNumSlots + p];
      const double* v = &ip[(rows[e] * 2 + p / 2) * 4];
      EXPECT_FLOAT_EQ(f[F0], track ? std::asinh(v[0] / 0.1) : 0.0);
      EXPECT_FLOAT_EQ(f[F0 + 1], track ? std::asinh(v[1] / 0.1) : 0.0);
      EXPECT_FLOAT_EQ(f[F0 + 2], track ? std::asinh(v[0] / v[2]) : 0.0);
      EXPECT_FLOAT_EQ(f[F0 + 3], track ? std::asinh(v[1] / v[3]) : 0.0);
      EXPECT_FLOAT_EQ(f[F0 + 4], p == kNumSlots - 1 ? std::log(sumEt[rows[e]] / 200) : 0.0);
    }
  }
  // Normalisation: the optional features keep 0 for "absent" (mean 0) and are scaled by their rms
  // over the slots that carry them.
  std::vector<std::size_t> all(d.n);
  for (std::size_t i = 0; i < d.n; ++i) all[i] = i;
  const NormStats s = computeNormStats(d, all);
  ASSERT_EQ(s.xStd.size(), static_cast<std::size_t>(F));
  double rms2 = 0;
  for (std::size_t e = 0; e < d.n; ++e) rms2 += std::pow(std::log(sumEt[rows[e]] / 200), 2) / d.n;
  EXPECT_NEAR(s.xStd[F0 + 4], std::sqrt(rms2), 1e-4);
  for (int j = F0; j < F; ++j) {
    EXPECT_EQ(s.xMean[j], 0.0f) << j;
    EXPECT_GT(s.xStd[j], 0.01f) << j;
  }
}

// Issue 22.12: an empty run card used to train the built-in defaults without a word.
TEST(Config, EmptyCardIsRefused) {
  for (const char* text : {"", "\n", "# only a comment\n"}) {
    try {
      DiffusionConfig::fromYaml(text, "empty.yaml");
      FAIL() << "accepted an empty card: '" << text << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("empty.yaml: the run card is empty"), std::string::npos)
          << e.what();
    }
  }
}

// The run card and `reconstruct --sampler` accept the same names: samplerKindFromName once took
// aliases ("dpm++", "dpmpp2m") that validate() refused.
TEST(Config, SamplerNamesAreOneListForCardAndOverride) {
  EXPECT_EQ(samplerKindFromName("ddim"), SamplerKind::Ddim);
  EXPECT_EQ(samplerKindFromName("dpm++2m"), SamplerKind::DpmSolverPp2M);
  for (const std::string alias : {"dpm++", "dpmpp2m", "DDIM", ""}) {
    EXPECT_THROW(samplerKindFromName(alias), ConfigError) << alias;
    EXPECT_THROW(DiffusionConfig::fromYaml("sampler: {name: '" + alias + "'}\n", "card.yaml"),
                 ConfigError)
        << alias;
  }
  try {
    samplerKindFromName("dpm++");
    FAIL() << "accepted an alias";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sampler must be 'ddim' or 'dpm++2m' (got 'dpm++')"),
              std::string::npos)
        << e.what();
  }
}

// Issue 22.9: `encoder.width: 100000` asked LibTorch for tens of GB; absurd sizes are refused
// while parsing, with the valid range.
TEST(Config, SizesOutsideTheValidRangeAreRefused) {
  auto message = [](const std::string& yaml) {
    try {
      DiffusionConfig::fromYaml(yaml, "card.yaml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("encoder: {width: 100000}\n").find("encoder.width must be in [1, 4096]"),
            std::string::npos);
  EXPECT_NE(message("head: {width: 100000}\n").find("head.width must be in [1, 4096]"),
            std::string::npos);
  EXPECT_NE(message("sampler: {steps: 100000000}\n").find("sampler.steps must be in [1, 10000]"),
            std::string::npos);
  EXPECT_NE(message("train: {batch_size: 10000000}\n").find("train.batch_size must be in"),
            std::string::npos);
  EXPECT_NE(message("train: {max_skipped_steps: -1}\n").find("train.max_skipped_steps"),
            std::string::npos);
  EXPECT_NE(message("train: {lr_peak: .nan}\n").find("lr_peak"), std::string::npos);
  DiffusionConfig c = DiffusionConfig::fromYaml("train: {max_skipped_steps: 3}\n", "ok");
  EXPECT_EQ(c.train.maxSkippedSteps, 3);
  EXPECT_EQ(DiffusionConfig::fromYaml(c.toYaml(), "round trip").train.maxSkippedSteps, 3);
}

// Issue 22.9: memory is estimated before allocating; a model that cannot fit is refused with the
// estimate, and the shipped configs fit a laptop.
TEST(Resources, MemoryEstimatesRefuseImpossibleRuns) {
  DiffusionConfig huge;
  huge.encoder.width = kMaxWidth;
  huge.encoder.heads = 64;
  huge.encoder.layers = kMaxDepth;
  huge.encoder.condDim = kMaxWidth;
  huge.head.width = kMaxWidth;
  huge.head.blocks = kMaxDepth;
  huge.train.batchSize = kMaxTrainBatch;
  huge.validate();
  EXPECT_GT(trainingMemoryBytes(huge, 100000), 1e12);
  EXPECT_THROW(requireMemory(trainingMemoryBytes(huge, 100000), 16e9, "training", "hint"),
               ConfigError);
  try {
    requireMemory(2.5e12, 16e9, "training this model", "use a smaller model");
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "training this model needs about 2.5e+03 GB of memory, but only 16 GB are "
                 "available; use a smaller model");
  }
  for (const char* card :
       {"diffusion_ztautau.yaml", "diffusion_ztautau_large.yaml", "diffusion_ztautau_tiny.yaml"}) {
    const DiffusionConfig c =
        DiffusionConfig::fromFile(std::string(NUREC_SOURCE_DIR "/configs/") + card);
    EXPECT_LT(trainingMemoryBytes(c, 200000), 4e9) << card;
    EXPECT_LT(reconstructionMemoryBytes(c, 200000, 10, 100, 512, 2), 4e9) << card;
  }
  // The outputs alone: 1e6 events x 10000 candidates x 6 floats = 240 GB.
  const DiffusionConfig c;
  EXPECT_GT(reconstructionMemoryBytes(c, 1000000, 10000, 100, 512, 2), 2.4e11);
  EXPECT_GT(availableMemoryBytes(), 1e6);
}

TEST(Integrity, Sha256AndCrc32ReferenceValues) {
  EXPECT_EQ(sha256Hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc", 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256Hex(two.data(), two.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 pieces;  // the same digest when fed in uneven pieces
  const std::string million(1000000, 'a');
  for (std::size_t i = 0; i < million.size(); i += 777)
    pieces.update(million.data() + i, std::min<std::size_t>(777, million.size() - i));
  EXPECT_EQ(pieces.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_THROW(verifyZipArchive("not a zip file at all, just text", "x.pt"), InputError);
  EXPECT_THROW(readFileBytes("/nonexistent/model.pt"), InputError);
}

// Issue 22.11: diffusion accepted channel values 100 / -100 and NaN MET that the other methods
// reject; the reco inputs are checked before features are built.
TEST(Features, InvalidRecoInputsAreRefused) {
  const io::EventTable good = nurec::ml::testing::makeSyntheticEvents(20, 3);
  EXPECT_NO_THROW(validateRecoInputs(good));
  auto expectRefused = [](const io::EventTable& t, const std::string& needle) {
    try {
      validateRecoInputs(t);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  for (int bad : {100, -100, 7, -2}) {
    io::EventTable t = good;
    auto ch = t.get<std::int8_t>(io::ds::recoChannel, {});
    ch[4] = static_cast<std::int8_t>(bad);
    t.set(io::ds::recoChannel, {}, ch);
    expectRefused(t, "/reco/channel has channel " + std::to_string(bad));
  }
  {
    io::EventTable t = good;
    std::vector<double> met(40, 1.0);
    met[2 * 6] = std::nan("");
    t.set(io::ds::recoMet, {2}, met);
    expectRefused(t, "/reco/met has a non-finite value (nan) in event 6");
  }
  {
    io::EventTable t = good;
    auto p = t.get<float>(io::ds::recoParticles, {10, 13});
    p[(3 * 10 + 9) * 13 + 0] = std::numeric_limits<float>::quiet_NaN();  // MET token log pT
    t.set(io::ds::recoParticles, {10, 13}, p);
    expectRefused(t, "/reco/particles has a non-finite value (nan) in event 3");
  }
  {
    io::EventTable t = good;
    t.set(io::ds::recoSumEt, {}, std::vector<double>(20, -5.0));
    expectRefused(t, "/reco/sum_et is negative");
  }
}
