#include "nurec/generator/ttbar/TopPhysics.hpp"

#include <cmath>
#include <complex>
#include <vector>

namespace nurec::generator::ttbar {

namespace {
constexpr double kPi = constants::pi;

// ---- Gauss-Legendre nodes on [-1, 1] (Newton iteration on P_n) ----
struct GaussLegendre {
  std::vector<double> x, w;
  explicit GaussLegendre(int n) : x(n), w(n) {
    for (int i = 0; i < n; ++i) {
      double z = std::cos(kPi * (i + 0.75) / (n + 0.5));
      double dp = 0;
      for (int it = 0; it < 100; ++it) {
        double p0 = 1, p1 = z;
        for (int k = 2; k <= n; ++k) {
          const double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
          p0 = p1;
          p1 = p2;
        }
        dp = n * (z * p1 - p0) / (z * z - 1);
        const double dz = p1 / dp;
        z -= dz;
        if (std::abs(dz) < 1e-15) break;
      }
      x[i] = z;
      w[i] = 2 / ((1 - z * z) * dp * dp);
    }
  }
};

// ---- 4x4 Dirac algebra (Dirac representation, gamma^mu with upper index) ----
using Cx = std::complex<double>;
struct Dirac {
  Cx a[4][4]{};
};
Dirac operator*(const Dirac& x, const Dirac& y) {
  Dirac r;
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 4; ++k) {
      if (x.a[i][k] == Cx{}) continue;
      for (int j = 0; j < 4; ++j) r.a[i][j] += x.a[i][k] * y.a[k][j];
    }
  return r;
}
Dirac operator+(const Dirac& x, const Dirac& y) {
  Dirac r;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) r.a[i][j] = x.a[i][j] + y.a[i][j];
  return r;
}
Dirac operator*(Cx s, const Dirac& x) {
  Dirac r;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) r.a[i][j] = s * x.a[i][j];
  return r;
}
Cx traceOfProduct(const Dirac& x, const Dirac& y) {
  Cx t{};
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 4; ++k) t += x.a[i][k] * y.a[k][i];
  return t;
}

struct GammaMatrices {
  Dirac g[4], g5, one;
  GammaMatrices() {
    const Cx I{0, 1};
    for (int i = 0; i < 4; ++i) one.a[i][i] = 1;
    g[0].a[0][0] = g[0].a[1][1] = 1;
    g[0].a[2][2] = g[0].a[3][3] = -1;
    // gamma^i = [[0, sigma_i], [-sigma_i, 0]]
    const Cx sigma[3][2][2] = {{{0, 1}, {1, 0}}, {{0, -I}, {I, 0}}, {{1, 0}, {0, -1}}};
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          g[k + 1].a[i][j + 2] = sigma[k][i][j];
          g[k + 1].a[i + 2][j] = -sigma[k][i][j];
        }
    g5.a[0][2] = g5.a[1][3] = g5.a[2][0] = g5.a[3][1] = 1;
  }
  Dirac slash(const FourVector& p) const {
    return Cx{p.e} * g[0] + Cx{-p.px} * g[1] + Cx{-p.py} * g[2] + Cx{-p.pz} * g[3];
  }
  // gamma^0 M^dagger gamma^0
  Dirac bar(const Dirac& m) const {
    Dirac d;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) d.a[i][j] = std::conj(m.a[j][i]);
    return g[0] * d * g[0];
  }
};
const GammaMatrices& gammas() {
  static const GammaMatrices g;
  return g;
}
constexpr double kMetric[4] = {1, -1, -1, -1};

// Spin four-vector of a particle of momentum p whose rest-frame spin points along s (rest frame
// reached from the current frame by a pure boost).
FourVector spinVector(const FourVector& p, const Vector3& s) {
  const double m = p.m();
  const Vector3 pv = p.vec();
  const double ps = pv.dot(s);
  const Vector3 sv = s + pv * (ps / (m * (p.e + m)));
  return {sv.x, sv.y, sv.z, ps / m};
}
}  // namespace

double alphaS(double muGeV, double alphaSMz) {
  const double b0 = 23.0 / (12 * kPi);
  return alphaSMz / (1 + b0 * alphaSMz * std::log(muGeV * muGeV / (constants::mZ * constants::mZ)));
}

double widthWToLeptonNu() {
  return constants::fermiConstant * std::pow(top::mW, 3) / (6 * std::sqrt(2.0) * kPi);
}
double widthW() {
  // e, mu, tau + (ud, cs) x N_c (1 + alpha_s/pi)
  return widthWToLeptonNu() * (3 + 2 * 3 * (1 + top::alphaSWidth / kPi));
}
double branchingWToLeptonNu() {
  return widthWToLeptonNu() / widthW();
}
double branchingWToHadrons() {
  return widthWToLeptonNu() * 2 * 3 * (1 + top::alphaSWidth / kPi) / widthW();
}
double semileptonicFraction() {
  return 2 * (2 * branchingWToLeptonNu()) * branchingWToHadrons();
}
double widthTop() {
  const double x2 = top::mW * top::mW / (top::mTop * top::mTop);
  return constants::fermiConstant * std::pow(top::mTop, 3) / (8 * kPi * std::sqrt(2.0)) * (1 - x2) *
         (1 - x2) * (1 + 2 * x2);
}

namespace {
struct Mandelstam {
  double tau1, tau2, rho;
};
Mandelstam mandelstam(double s, double c, double m) {
  const double rho = 4 * m * m / s;
  const double beta = std::sqrt(1 - rho);
  const double t = m * m - 0.5 * s * (1 - beta * c);
  const double u = m * m - 0.5 * s * (1 + beta * c);
  return {(m * m - t) / s, (m * m - u) / s, rho};
}
}  // namespace

double dSigmaDtQQbar(double s, double c, double m, double as) {
  if (s <= 4 * m * m) return 0;
  const auto [t1, t2, rho] = mandelstam(s, c, m);
  return kPi * as * as / (s * s) * (4.0 / 9.0) * (t1 * t1 + t2 * t2 + rho / 2);
}
double dSigmaDtGG(double s, double c, double m, double as) {
  if (s <= 4 * m * m) return 0;
  const auto [t1, t2, rho] = mandelstam(s, c, m);
  return kPi * as * as / (s * s) * (1 / (6 * t1 * t2) - 3.0 / 8.0) *
         (t1 * t1 + t2 * t2 + rho - rho * rho / (4 * t1 * t2));
}
double sigmaQQbar(double s, double m, double as) {
  if (s <= 4 * m * m) return 0;
  const double rho = 4 * m * m / s, beta = std::sqrt(1 - rho);
  return 8 * kPi * as * as / (27 * s) * beta * (1 + rho / 2);
}
double sigmaGG(double s, double m, double as) {
  if (s <= 4 * m * m) return 0;
  const double rho = 4 * m * m / s, beta = std::sqrt(1 - rho);
  return kPi * as * as / (3 * s) *
         ((1 + rho + rho * rho / 16) * std::log((1 + beta) / (1 - beta)) -
          beta * (7.0 / 4 + 31 * rho / 16));
}

HadronicCrossSection hadronicCrossSection(double sqrtS, ScaleChoice scale, double alphaSMz,
                                          double m, double mttMinGeV, double mttMaxGeV) {
  // sigma = int dm dy dc (2/m) [xg xg dsig_gg/dc + sum_q (xq xqbar + xqbar xq) dsig_qq/dc],
  // with m = 2 m_t + u^2 (removes the beta ~ sqrt(m - 2 m_t) edge) and the integrand even in c.
  static const GaussLegendre gl(16);
  const Cteq5L pdf;
  const double S = sqrtS * sqrtS;
  // The window in u = sqrt(m_tt - 2 m_t); the fixed edges inside it keep the steep parts fine.
  const double uLo = std::sqrt(std::max(0.0, mttMinGeV - 2 * m));
  const double uHi = std::sqrt(std::max(0.0, std::min(sqrtS, mttMaxGeV) - 2 * m));
  std::vector<double> uEdges = {uLo};
  for (double e : {3.0, 6.0, 9.0, 12.0, 16.0, 20.0, 25.0, 30.0, 40.0, 55.0, 75.0})
    if (e > uLo && e < uHi) uEdges.push_back(e);
  uEdges.push_back(uHi);
  const std::vector<double> cEdges = {0, 0.5, 0.8, 0.95, 1.0};
  HadronicCrossSection out;
  auto segments = [&](const std::vector<double>& edges, auto&& body) {
    for (std::size_t k = 0; k + 1 < edges.size(); ++k) {
      const double lo = edges[k], hi = std::min(edges[k + 1], edges.back());
      if (hi <= lo) continue;
      for (std::size_t i = 0; i < gl.x.size(); ++i)
        body(0.5 * (lo + hi) + 0.5 * (hi - lo) * gl.x[i], 0.5 * (hi - lo) * gl.w[i]);
    }
  };
  segments(uEdges, [&](double u, double wu) {
    const double mhat = 2 * m + u * u;
    if (mhat >= sqrtS) return;
    const double s = mhat * mhat, tau = s / S;
    const double yMax = -0.5 * std::log(tau);
    const double beta = std::sqrt(1 - 4 * m * m / s);
    const double jac = 2 * u * wu * (2 / mhat) * units::gev2ToPb;
    for (int half = 0; half < 2; ++half) {
      segments({0.0, 1.0}, [&](double v, double wv) {
        const double y = (half == 0 ? -1 : 1) * yMax * v;
        const double wy = wv * yMax;
        const double x1 = std::sqrt(tau) * std::exp(y), x2 = std::sqrt(tau) * std::exp(-y);
        segments(cEdges, [&](double c, double wc) {
          double mu = m;
          if (scale == ScaleChoice::transverseMass) {
            const double pt = 0.5 * mhat * beta * std::sqrt(1 - c * c);
            mu = std::sqrt(m * m + pt * pt);
          }
          const double as = alphaS(mu, alphaSMz);
          const PartonDensities f1 = pdf(x1, mu), f2 = pdf(x2, mu);
          const double dtdc = 0.5 * s * beta;
          const double w = jac * wy * 2 * wc * dtdc;  // 2: c in [0, 1] only
          const double gg = f1.g * f2.g * dSigmaDtGG(s, c, m, as) * w;
          double qq = 0;
          for (int q = 1; q <= 5; ++q) qq += f1.xf(q) * f2.xf(-q) + f1.xf(-q) * f2.xf(q);
          qq *= dSigmaDtQQbar(s, c, m, as) * w;
          out.gluonGluonPb += gg;
          out.quarkAntiquarkPb += qq;
        });
      });
    }
  });
  out.totalPb = out.gluonGluonPb + out.quarkAntiquarkPb;
  return out;
}

HelicityFractions wHelicityFractions(double mt, double mw, double mb) {
  // In the W rest frame the top and b move along the same axis with momentum P; the V-A matrix
  // element (p_t.p_l)(p_b.p_nu) is (E_t + P c)(E_b - P c) in cos(theta*) = c, a quadratic whose
  // moments give F0 = 2 - 5<c^2> and F_R - F_L = 2<c>.
  const double et = (mt * mt + mw * mw - mb * mb) / (2 * mw);
  const double eb = (mt * mt - mw * mw - mb * mb) / (2 * mw);
  const double p2 = eb * eb - mb * mb;
  const double p = std::sqrt(std::max(p2, 0.0));
  const double norm = et * eb - p2 / 3;
  HelicityFractions f;
  f.longitudinal = (et * eb + p2) / (3 * et * eb - p2);
  const double rMinusL = (2.0 / 3.0) * p * (eb - et) / norm;
  f.right = 0.5 * (1 - f.longitudinal + rMinusL);
  f.left = 0.5 * (1 - f.longitudinal - rMinusL);
  return f;
}

HelicityAxes helicityAxes(const Vector3& topDirection) {
  HelicityAxes a;
  a.k = topDirection.unit();
  const Vector3 p{0, 0, 1};
  const double c = a.k.dot(p);
  Vector3 r = p - a.k * c;
  if (r.mag() < 1e-12) r = Vector3{1, 0, 0} - a.k * a.k.x;  // top along the beam: any normal
  a.r = r.unit();
  a.n = a.k.cross(a.r);
  return a;
}

SpinMatrix productionSpinCorrelation(InitialState initial, const FourVector& k1,
                                     const FourVector& k2, const FourVector& p1,
                                     const FourVector& p2, double* unpolarised) {
  const GammaMatrices& G = gammas();
  const double m1 = p1.m(), m2 = p2.m();
  const double mProp = 0.5 * (m1 + m2);
  const HelicityAxes axes = helicityAxes(p1.vec());
  const Vector3 basis[3] = {axes.k, axes.r, axes.n};
  // Left factors P1 (1, gamma5 s_i) and right factors P2 (1, gamma5 sbar_j): index 0 is the
  // unpolarised projector, 1..3 the spin-dependent parts along k, r, n.
  Dirac left[4], right[4];
  left[0] = G.slash(p1) + Cx{m1} * G.one;
  right[0] = G.slash(p2) + Cx{-m2} * G.one;
  for (int i = 0; i < 3; ++i) {
    left[i + 1] = left[0] * G.g5 * G.slash(spinVector(p1, basis[i]));
    right[i + 1] = right[0] * G.g5 * G.slash(spinVector(p2, basis[i]));
  }
  // T[a][b] = sum over the vector indices of Tr[left_a X right_b Xbar].
  double T[4][4] = {};
  auto accumulate = [&](const Dirac& X, double factor) {
    const Dirac Xbar = G.bar(X);
    Dirac U[4], V[4];
    for (int a = 0; a < 4; ++a) {
      U[a] = left[a] * X;
      V[a] = right[a] * Xbar;
    }
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b) T[a][b] += factor * traceOfProduct(U[a], V[b]).real();
  };
  if (initial == InitialState::gluonGluon) {
    const FourVector q1 = p1 - k1, q2 = p1 - k2;
    const Dirac s1 = G.slash(q1) + Cx{mProp} * G.one, s2 = G.slash(q2) + Cx{mProp} * G.one;
    const double d1 = q1.m2() - mProp * mProp, d2 = q2.m2() - mProp * mProp;
    for (int mu = 0; mu < 4; ++mu)
      for (int nu = 0; nu < 4; ++nu) {
        const Dirac X =
            Cx{1 / d1} * (G.g[mu] * s1 * G.g[nu]) + Cx{1 / d2} * (G.g[nu] * s2 * G.g[mu]);
        accumulate(X, kMetric[mu] * kMetric[nu]);
      }
  } else {
    // Light-quark tensor Tr[gamma^mu k1slash gamma^nu k2slash] contracted with the top current.
    const Dirac k1s = G.slash(k1), k2s = G.slash(k2);
    for (int mu = 0; mu < 4; ++mu)
      for (int nu = 0; nu < 4; ++nu) {
        const double L = traceOfProduct(G.g[mu] * k1s, G.g[nu] * k2s).real();
        if (L == 0) continue;
        // Tr[P1 G gamma^mu P2 G gamma^nu]: X = gamma^mu, and Xbar must be gamma^nu, so the pair
        // (mu, nu) enters through its own accumulation with X = gamma^mu, Xbar = gamma^nu.
        Dirac U[4], V[4];
        for (int a = 0; a < 4; ++a) {
          U[a] = left[a] * G.g[mu];
          V[a] = right[a] * G.g[nu];
        }
        for (int a = 0; a < 4; ++a)
          for (int b = 0; b < 4; ++b)
            T[a][b] += kMetric[mu] * kMetric[nu] * L * traceOfProduct(U[a], V[b]).real();
      }
  }
  SpinMatrix C{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) C[i][j] = T[i + 1][j + 1] / T[0][0];
  if (unpolarised) *unpolarised = T[0][0];
  return C;
}

}  // namespace nurec::generator::ttbar
