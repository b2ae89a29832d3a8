#include "nurec/generator/HardProcess.hpp"

#include <cmath>
#include <complex>

#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::generator {

namespace {
using cplx = std::complex<double>;
constexpr double kPi = constants::pi;
constexpr double kSw2 = constants::sin2ThetaW;
constexpr double kCw2 = 1.0 - kSw2;
// Tau couplings of section 3: current ubar gamma^mu (V - A gamma5) v with v_tau, a_tau.
constexpr double kVTau = -0.25 + kSw2;
constexpr double kATau = -0.25;
constexpr double kQTau = -1.0;
}  // namespace

SpinNumerators& SpinNumerators::operator+=(const SpinNumerators& o) {
  a += o.a;
  for (int i = 0; i < 3; ++i) {
    aB[i] += o.aB[i];
    for (int j = 0; j < 3; ++j) aC[i][j] += o.aC[i][j];
  }
  return *this;
}

SpinNumerators SpinNumerators::scaled(double f) const {
  SpinNumerators s;
  s.a = a * f;
  for (int i = 0; i < 3; ++i) {
    s.aB[i] = aB[i] * f;
    for (int j = 0; j < 3; ++j) s.aC[i][j] = aC[i][j] * f;
  }
  return s;
}

SpinState SpinNumerators::state() const {
  SpinState st;
  if (!(a > 0)) return st;
  for (int i = 0; i < 3; ++i) {
    st.bPlus[i] = st.bMinus[i] = aB[i] / a;
    for (int j = 0; j < 3; ++j) st.c[i][j] = aC[i][j] / a;
  }
  return st;
}

QuarkCouplings quarkCouplings(int flavour) {
  const bool upType = flavour == 2 || flavour == 4;
  if (flavour < 1 || flavour > 5) throw Error("internal: quark flavour out of range");
  const double q = upType ? 2.0 / 3.0 : -1.0 / 3.0;
  const double t3 = upType ? 0.5 : -0.5;
  return {q, t3 - q * kSw2, -q * kSw2};
}

double poleAsymmetry(int pdg) {
  double gv, ga;
  if (pdg == 15) {
    gv = kVTau;
    ga = kATau;
  } else {
    const auto qc = quarkCouplings(pdg);
    gv = 0.5 * (qc.gLeft + qc.gRight);
    ga = 0.5 * (qc.gLeft - qc.gRight);
  }
  return 2 * gv * ga / (gv * gv + ga * ga);
}

SpinNumerators spinNumerators(int flavour, double sHat, double cosTheta, bool quarkAlongP) {
  const auto qc = quarkCouplings(flavour);
  const double e2 = 4 * kPi * constants::alphaEmMz;
  const double mZ2 = constants::mZ * constants::mZ;
  // Running width propagator P_Z(s) = 1/(s - mZ^2 + i s GammaZ/mZ).
  const cplx pZ = 1.0 / cplx(sHat - mZ2, sHat * constants::gammaZ / constants::mZ);
  const double beta2 = 1.0 - 4 * constants::mTau * constants::mTau / sHat;
  const double beta = std::sqrt(std::max(beta2, 0.0));
  const double mu = std::sqrt(std::max(1.0 - beta2, 0.0));
  const double c = quarkAlongP ? cosTheta : -cosTheta;
  const double s2 = std::max(0.0, 1.0 - c * c);
  const double sn = std::sqrt(s2);
  SpinNumerators out;
  for (int lam : {-1, +1}) {
    const double g = lam < 0 ? qc.gLeft : qc.gRight;
    const cplx v = e2 * (qc.charge * kQTau / sHat + g * kVTau * pZ / (kSw2 * kCw2));
    const cplx ax = e2 * g * kATau * pZ / (kSw2 * kCw2);
    const double v2 = std::norm(v), a2 = std::norm(ax);
    const cplx va = v * std::conj(ax);
    const double re = va.real(), im = va.imag();
    const double l = lam;
    const double a = v2 * (2 - beta2 * s2) + a2 * beta2 * (1 + c * c) - 4 * l * beta * c * re;
    out.a += a;
    out.aB[0] += 2 * l * c * (v2 + beta2 * a2) - 2 * beta * (1 + c * c) * re;
    out.aB[1] += 2 * l * mu * sn * v2 - 2 * beta * mu * sn * c * re;
    out.aB[2] += -2 * l * beta * mu * sn * im;
    out.aC[0][0] +=
        v2 * (2 * c * c + beta2 * s2) + a2 * beta2 * (1 + c * c) - 4 * l * beta * c * re;
    out.aC[1][1] += (2 - beta2) * s2 * v2 - beta2 * s2 * a2;
    out.aC[2][2] += -beta2 * s2 * (v2 - a2);
    const double kr = 2 * mu * sn * c * v2 - 2 * l * beta * mu * sn * re;
    const double kn = -2 * beta * mu * sn * c * im;
    const double rn = -2 * beta * s2 * im;
    out.aC[0][1] += kr;
    out.aC[1][0] += kr;
    out.aC[0][2] += kn;
    out.aC[2][0] += kn;
    out.aC[1][2] += rn;
    out.aC[2][1] += rn;
  }
  if (!quarkAlongP) {
    // Flip rule: every component with exactly one r or n index changes sign.
    out.aB[1] = -out.aB[1];
    out.aB[2] = -out.aB[2];
    for (int j : {1, 2}) {
      out.aC[0][j] = -out.aC[0][j];
      out.aC[j][0] = -out.aC[j][0];
    }
  }
  return out;
}

double dSigmaDcosPb(double sHat, double a) {
  const double beta = std::sqrt(std::max(0.0, 1.0 - 4 * constants::mTau * constants::mTau / sHat));
  return beta * sHat / (192 * kPi) * a * units::gev2ToPb;
}

double partonicDSigmaDcosPb(int flavour, double sHat, double cosTheta) {
  return dSigmaDcosPb(sHat, spinNumerators(flavour, sHat, cosTheta, true).a);
}

HadronicPoint DrellYanTauTau::evaluate(double mGeV, double rapidity, double cosTheta,
                                       bool withSpin) const {
  HadronicPoint hp;
  const double tau = mGeV / sqrtS_;
  hp.x1 = tau * std::exp(rapidity);
  hp.x2 = tau * std::exp(-rapidity);
  if (!(hp.x1 < 1.0 && hp.x2 < 1.0) || mGeV <= 2 * constants::mTau) return hp;
  const PartonDensities f1 = pdf_(hp.x1, mGeV);
  const PartonDensities f2 = pdf_(hp.x2, mGeV);
  const double sHat = mGeV * mGeV;
  const double jac = 2.0 / mGeV;
  for (int q = 1; q <= 5; ++q) {
    const double lumA = f1.xf(q) * f2.xf(-q);  // quark from beam A (along +p)
    const double lumB = f1.xf(-q) * f2.xf(q);  // quark from beam B
    const SpinNumerators nA = spinNumerators(q, sHat, cosTheta, true);
    const SpinNumerators nB = spinNumerators(q, sHat, cosTheta, false);
    const double wA = jac * lumA * dSigmaDcosPb(sHat, nA.a);
    const double wB = jac * lumB * dSigmaDcosPb(sHat, nB.a);
    hp.termPbPerGeV[q - 1] = {wA, wB};
    hp.d3SigmaPbPerGeV += wA + wB;
    if (withSpin) {
      hp.spin += nA.scaled(lumA);
      hp.spin += nB.scaled(lumB);
    }
  }
  return hp;
}

// ---------------------------------------------------------------------------------------------
// g g -> H -> tau tau (docs/physics.md section 14)

double alphaSLo(double muGeV) {
  constexpr double alphaSMz = 0.127;  // CTEQ5L (LO fit)
  constexpr double b0 = (33.0 - 2.0 * 5) / (12 * constants::pi);
  return alphaSMz / (1 + b0 * alphaSMz * std::log(muGeV * muGeV / (constants::mZ * constants::mZ)));
}

GluonFusionHiggs::GluonFusionHiggs(double sqrtSGeV, double massGeV)
    : sqrtS_(sqrtSGeV), mass_(massGeV) {
  if (!(massGeV > 2 * constants::mTau) || !(sqrtSGeV > massGeV))
    throw ConfigError("g g -> H: the H mass must lie between 2 m_tau and sqrt(s)");
  const double as = alphaSLo(massGeV);  // renormalisation and factorisation scale m_H
  sigma0Pb_ =
      constants::fermiConstant * as * as / (288 * std::sqrt(2.0) * constants::pi) * units::gev2ToPb;
}

std::array<double, 2> GluonFusionHiggs::partonX(double rapidity) const {
  const double sqrtTau = mass_ / sqrtS_;
  return {sqrtTau * std::exp(rapidity), sqrtTau * std::exp(-rapidity)};
}

double GluonFusionHiggs::d2SigmaPb(double rapidity) const {
  const auto [x1, x2] = partonX(rapidity);
  if (!(x1 < 1 && x2 < 1)) return 0;
  // d sigma/dy = sigma_0 tau g(x1) g(x2) = sigma_0 [x1 g(x1)] [x2 g(x2)]; isotropic in cos theta.
  const double lumi = pdf_(x1, mass_).g * pdf_(x2, mass_).g;
  return sigma0Pb_ * lumi * kHiggsTauTauBranching / 2;
}

SpinState scalarSpinState(double cpMixingAngle) {
  // The pair is cos(phi) |T0> + i sin(phi) |S> (the triplet with zero spin along k, 3P0, CP-even,
  // and the singlet 1S0, CP-odd): C_ij = <sigma+_i sigma-_j> in that state.
  SpinState s;
  const double c2 = std::cos(2 * cpMixingAngle), s2 = std::sin(2 * cpMixingAngle);
  s.c = {{{-1, 0, 0}, {0, c2, s2}, {0, -s2, c2}}};
  return s;
}

}  // namespace nurec::generator
