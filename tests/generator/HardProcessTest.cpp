// Hard process and PDFs against docs/physics.md section 12 (test points 1-12).
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <cmath>

#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/HardProcess.hpp"
#include "nurec/generator/Pdf.hpp"

using namespace nurec;
using namespace nurec::generator;

namespace {
struct TablePoint {
  int q;
  double m, c, dsig, bk, br, bn, ckk, crr, cnn, ckr, crn;
};
// docs/physics.md section 3 table (massive taus, running width, quark along +z).
const TablePoint kTable[] = {
    {2, 60, 0.0, 1.7641, +0.24024, +0.00608, +0.00085, 0.99412, +0.68235, -0.67647, -0.03985,
     -0.00552},
    {2, 60, 0.5, 1.0155, +0.42631, +0.01984, +0.00128, 0.99234, +0.88904, -0.88138, +0.01473,
     -0.00719},
    {2, 91.1876, 0.0, 281.11, -0.14932, -0.00029, +0.00350, 0.99998, -0.98408, +0.98410, +0.00389,
     -0.03444},
    {2, 91.1876, 0.5, 379.45, -0.63245, -0.00205, +0.00225, 0.99999, -0.54678, +0.54679, +0.00269,
     -0.01913},
    {2, 120, 0.0, 1.083, -0.42660, -0.00401, +0.00167, 0.99934, -0.24307, +0.24374, +0.02757,
     -0.02157},
    {2, 120, 0.5, 2.3619, -0.46609, -0.00410, +0.00066, 0.99977, -0.08359, +0.08382, +0.01540,
     -0.00742},
    {1, 60, 0.0, 0.7108, +0.51478, +0.00731, +0.00106, 0.99656, -0.01614, +0.01958, -0.04639,
     -0.01235},
    {1, 60, 0.5, 0.33117, +0.49315, +0.04192, +0.00197, 0.99446, -0.02598, +0.03151, -0.03226,
     -0.01989},
    {1, 91.1876, 0.0, 361.66, -0.14960, -0.00041, +0.00136, 0.99998, -0.98782, +0.98784, +0.00546,
     -0.02414},
    {1, 91.1876, 0.5, 502.69, -0.80742, -0.00207, +0.00085, 0.99999, -0.53300, +0.53301, +0.00355,
     -0.01303},
    {1, 120, 0.0, 0.99174, -0.45969, -0.00239, +0.00091, 0.99978, -0.74966, +0.74988, +0.01769,
     -0.02124},
    {1, 120, 0.5, 1.8321, -0.77598, -0.00431, +0.00043, 0.99991, -0.30435, +0.30444, +0.01003,
     -0.00862},
};

double trace(const SpinState& s) {
  return s.c[0][0] + s.c[1][1] + s.c[2][2];
}

// X-state concurrence T1 (docs/physics.md section 7; B+ = B-, so the B term vanishes).
double concurrence(const SpinState& s) {
  const double a = std::hypot(s.c[1][1] - s.c[2][2], s.c[1][2] + s.c[2][1]);
  const double db = s.bPlus[0] - s.bMinus[0];
  const double b = std::sqrt(std::max(0.0, (1 - s.c[0][0]) * (1 - s.c[0][0]) - db * db));
  return std::max(0.0, (a - b) / 2);
}

// Horodecki m12: sum of the two largest eigenvalues of C^T C.
double m12(const SpinState& s) {
  Eigen::Matrix3d c;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) c(i, j) = s.c[i][j];
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(c.transpose() * c);
  const auto ev = es.eigenvalues();  // ascending
  return ev(1) + ev(2);
}
}  // namespace

// docs/physics.md test point 1: tr C = 1 for any mass above threshold, angle, flavour and quark
// direction.
TEST(HardProcess, TraceOfCIsOne) {
  Rng rng(1, 0);
  for (int i = 0; i < 20000; ++i) {
    const double m = rng.uniform(2 * constants::mTau * 1.0001, 500);
    const double c = rng.uniform(-1, 1);
    const int q = 1 + static_cast<int>(rng.below(5));
    const bool along = rng.uniform() < 0.5;
    const SpinState s = spinNumerators(q, m * m, c, along).state();
    ASSERT_NEAR(trace(s), 1.0, 1e-12) << "q=" << q << " m=" << m << " c=" << c;
  }
}

// docs/physics.md test point 2: the section 3 table (1e-5 absolute on B, C; 1e-4 relative on
// dsigma/dc).
TEST(HardProcess, Section3Table) {
  for (const auto& t : kTable) {
    const SpinNumerators n = spinNumerators(t.q, t.m * t.m, t.c, true);
    const SpinState s = n.state();
    SCOPED_TRACE(testing::Message() << "q=" << t.q << " m=" << t.m << " c=" << t.c);
    EXPECT_NEAR(dSigmaDcosPb(t.m * t.m, n.a) / t.dsig, 1.0, 1e-4);
    EXPECT_NEAR(s.bMinus[0], t.bk, 1e-5);
    EXPECT_NEAR(s.bMinus[1], t.br, 1e-5);
    EXPECT_NEAR(s.bMinus[2], t.bn, 1e-5);
    EXPECT_EQ(s.bPlus, s.bMinus);
    EXPECT_NEAR(s.c[0][0], t.ckk, 1e-5);
    EXPECT_NEAR(s.c[1][1], t.crr, 1e-5);
    EXPECT_NEAR(s.c[2][2], t.cnn, 1e-5);
    EXPECT_NEAR(s.c[0][1], t.ckr, 1e-5);
    EXPECT_NEAR(s.c[1][0], t.ckr, 1e-5);
    EXPECT_NEAR(s.c[1][2], t.crn, 1e-5);
    EXPECT_NEAR(s.c[2][1], t.crn, 1e-5);
  }
}

// Flip rule for the quark from beam B: equals the +p formula at -c with r/n-odd components flipped.
TEST(HardProcess, QuarkFromBeamBFlipRule) {
  const double s = 91.1876 * 91.1876;
  const SpinState a = spinNumerators(2, s, -0.5, true).state();
  const SpinState b = spinNumerators(2, s, 0.5, false).state();
  EXPECT_NEAR(b.bMinus[0], a.bMinus[0], 1e-14);
  EXPECT_NEAR(b.bMinus[1], -a.bMinus[1], 1e-14);
  EXPECT_NEAR(b.bMinus[2], -a.bMinus[2], 1e-14);
  EXPECT_NEAR(b.c[0][1], -a.c[0][1], 1e-14);
  EXPECT_NEAR(b.c[0][2], -a.c[0][2], 1e-14);
  EXPECT_NEAR(b.c[1][2], a.c[1][2], 1e-14);
  EXPECT_NEAR(b.c[1][1], a.c[1][1], 1e-14);
}

// docs/physics.md test point 3: threshold u, m = 3.6, c = 0.5 and C -> p p^T as beta -> 0.
TEST(HardProcess, Threshold) {
  const SpinState s = spinNumerators(2, 3.6 * 3.6, 0.5, true).state();
  EXPECT_NEAR(s.c[0][0], 0.26199, 1e-5);
  EXPECT_NEAR(s.c[1][1], 0.74768, 1e-5);
  EXPECT_NEAR(s.c[2][2], -0.00967, 1e-5);
  EXPECT_NEAR(s.c[0][1], 0.43152, 1e-5);
  // p = (c, sin, 0) in (k, r, n): C -> p p^T.
  const double m = 2 * constants::mTau * (1 + 1e-9);
  const double c = 0.3, sn = std::sqrt(1 - c * c);
  const SpinState t = spinNumerators(1, m * m, c, true).state();
  const double p[3] = {c, sn, 0};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(t.c[i][j], p[i] * p[j], 1e-4);
}

// docs/physics.md test point 4: partonic sigma and A_FB at the pole (1e-4 relative), by
// Gauss-Legendre in c.
TEST(HardProcess, PartonicCrossSectionAtPole) {
  const double s = constants::mZ * constants::mZ;
  const int n = 2000;  // midpoint rule on a quadratic polynomial in c: exact to ~1e-7
  for (auto [q, sigmaRef, afbRef] :
       {std::tuple{2, 749.62, 0.0749}, std::tuple{1, 964.41, 0.1050}}) {
    double fwd = 0, bwd = 0;
    for (int i = 0; i < n; ++i) {
      const double c = -1 + (i + 0.5) * 2.0 / n;
      const double w = partonicDSigmaDcosPb(q, s, c) * 2.0 / n;
      (c > 0 ? fwd : bwd) += w;
    }
    EXPECT_NEAR((fwd + bwd) / sigmaRef, 1.0, 1e-4) << "q=" << q;
    EXPECT_NEAR((fwd - bwd) / (fwd + bwd), afbRef, 1e-4 * 5) << "q=" << q;  // quoted to 4 digits
  }
}

// docs/physics.md test point 5.
TEST(HardProcess, PoleAsymmetries) {
  EXPECT_NEAR(poleAsymmetry(15), 0.14955, 1e-5);
  EXPECT_NEAR(poleAsymmetry(2), 0.66862, 1e-5);
  EXPECT_NEAR(poleAsymmetry(1), 0.93573, 1e-5);
}

// docs/physics.md test point 6: CTEQ5L x f values at Q = m_Z (5e-4 relative).
TEST(Pdf, Cteq5LTable) {
  struct Row {
    double x, u, d, ubar, dbar, s, c, b, g;
  };
  const Row rows[] = {
      {1e-3, 1.5178, 1.4869, 1.441, 1.4536, 1.3155, 1.186, 0.8889, 36.885},
      {1e-2, 0.72495, 0.6382, 0.48478, 0.49435, 0.38698, 0.29806, 0.20077, 8.0663},
      {0.1, 0.5677, 0.343, 0.084959, 0.12116, 0.061218, 0.029321, 0.016754, 0.78705},
      {0.3, 0.35839, 0.13772, 0.011106, 0.013061, 0.0064528, 0.0022141, 0.001107, 0.075534},
  };
  const Cteq5L pdf;
  for (const auto& r : rows) {
    const PartonDensities f = pdf(r.x, constants::mZ);
    SCOPED_TRACE(testing::Message() << "x=" << r.x);
    EXPECT_NEAR(f.u / r.u, 1, 5e-4);
    EXPECT_NEAR(f.d / r.d, 1, 5e-4);
    EXPECT_NEAR(f.ubar / r.ubar, 1, 5e-4);
    EXPECT_NEAR(f.dbar / r.dbar, 1, 5e-4);
    EXPECT_NEAR(f.s / r.s, 1, 5e-4);
    EXPECT_NEAR(f.sbar / r.s, 1, 5e-4);
    EXPECT_NEAR(f.c / r.c, 1, 5e-4);
    EXPECT_NEAR(f.b / r.b, 1, 5e-4);
    EXPECT_NEAR(f.g / r.g, 1, 5e-4);
  }
}

// docs/physics.md test point 7: d3sigma/(dm dy dc) at m_Z, y = 0, c = 0.
TEST(HardProcess, PeakDifferentialCrossSection) {
  const DrellYanTauTau dy(13000);
  EXPECT_NEAR(dy.evaluate(constants::mZ, 0, 0, false).d3SigmaPbPerGeV / 18.779, 1, 1e-3);
}

namespace {
// Deterministic quadrature of d3sigma over (m, y, c), with optional |c| cut, and the
// luminosity-weighted spin numerators (docs/physics.md sections 4-5).
struct Integral {
  double sigma = 0;
  SpinNumerators spin;
};
constexpr double kGaussX[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563,
                               0.8611363115940526};
constexpr double kGaussW[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461,
                               0.3478548451374538};
Integral integrate(double mLo, double mHi, double cMax, int nm, int ny) {
  constexpr int nc = 4;
  const DrellYanTauTau dy(13000);
  Integral out;
  // Breit-Wigner substitution in m: m^2 = mZ^2 + mZ GZ tan(u).
  const double mz = constants::mZ, gz = constants::gammaZ;
  const double uLo = std::atan((mLo * mLo - mz * mz) / (mz * gz));
  const double uHi = std::atan((mHi * mHi - mz * mz) / (mz * gz));
  for (int i = 0; i < nm; ++i) {
    const double u = uLo + (i + 0.5) * (uHi - uLo) / nm;
    const double m2 = mz * mz + mz * gz * std::tan(u);
    const double m = std::sqrt(m2);
    const double dm = (uHi - uLo) / nm * mz * gz / std::pow(std::cos(u), 2) / (2 * m);
    const double yMax = std::log(13000 / m);
    for (int j = 0; j < ny; ++j) {
      const double y = -yMax + (j + 0.5) * 2 * yMax / ny;
      const double dy_ = 2 * yMax / ny;
      for (int k = 0; k < nc; ++k) {
        // 4-point Gauss-Legendre in c: exact for the polynomial (in c) numerators.
        const double c = cMax * kGaussX[k];
        const HadronicPoint hp = dy.evaluate(m, y, c, true);
        const double w = hp.d3SigmaPbPerGeV * dm * dy_ * cMax * kGaussW[k];
        out.sigma += w;
        // Numerators normalised so that a equals the point's weight.
        if (hp.spin.a > 0) out.spin += hp.spin.scaled(w / hp.spin.a);
      }
    }
  }
  return out;
}
}  // namespace

// docs/physics.md test points 8 and 9: sigma(66-116) and the inclusive spin state.
TEST(HardProcess, HadronicCrossSectionAndInclusiveSpin) {
  const Integral r = integrate(66, 116, 1.0, 200, 100);
  EXPECT_NEAR(r.sigma / 1479.8, 1, 3e-3);
  const SpinState s = r.spin.state();
  EXPECT_NEAR(s.bMinus[0], -0.1334, 5e-4);
  EXPECT_NEAR(s.c[0][0], 0.99995, 5e-4);
  EXPECT_NEAR(s.c[1][1], -0.4733, 5e-4);
  EXPECT_NEAR(s.c[2][2], +0.4734, 5e-4);
  EXPECT_NEAR(s.c[1][2], -0.0142, 5e-4);
  // Symmetric pp: B_r, B_n, C_kr, C_kn vanish.
  EXPECT_NEAR(s.bMinus[1], 0, 5e-4);
  EXPECT_NEAR(s.c[0][1], 0, 5e-4);
  EXPECT_NEAR(s.c[0][2], 0, 5e-4);
  EXPECT_NEAR(s.c[0][0] + s.c[1][1] + s.c[2][2], 1, 1e-12);
  // docs/physics.md test point 10: concurrence and m12 of this state.
  EXPECT_NEAR(concurrence(s), 0.4735, 5e-4);
  EXPECT_NEAR(m12(s), 1.2242, 5e-4);
}

// docs/physics.md test point 11: |cos theta| < 0.2: C_nn = 0.9218.
TEST(HardProcess, CentralCutInclusiveCnn) {
  const Integral r = integrate(66, 116, 0.2, 200, 100);
  EXPECT_NEAR(r.spin.state().c[2][2], 0.9218, 1e-3);
  EXPECT_NEAR(concurrence(r.spin.state()), 0.9221, 1e-3);
  EXPECT_NEAR(r.sigma, 224.9, 224.9 * 3e-3);
}

// docs/physics.md test point 12: C_nn(m) crosses zero at 68.5 GeV (spin averaged over y and c at
// fixed m).
TEST(HardProcess, CnnZeroCrossing) {
  const DrellYanTauTau dy(13000);
  auto cnn = [&](double m) {
    SpinNumerators acc;
    const double yMax = std::log(13000 / m);
    for (int j = 0; j < 100; ++j)
      for (int k = 0; k < 4; ++k) {
        const HadronicPoint hp =
            dy.evaluate(m, -yMax + (j + 0.5) * 2 * yMax / 100, kGaussX[k], true);
        acc += hp.spin.scaled(kGaussW[k]);
      }
    return acc.state().c[2][2];
  };
  double lo = 60, hi = 80;
  ASSERT_LT(cnn(lo), 0);
  ASSERT_GT(cnn(hi), 0);
  for (int it = 0; it < 30; ++it) {
    const double mid = 0.5 * (lo + hi);
    (cnn(mid) < 0 ? lo : hi) = mid;
  }
  EXPECT_NEAR(0.5 * (lo + hi), 68.5, 0.3);
}
