#include "nurec/generator/TauDecays.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <complex>

#include "nurec/core/Error.hpp"
#include "nurec/core/Polarimeter.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::generator {

namespace {
using constants::mPiCharged;
using constants::mPiNeutral;
using constants::mTau;
constexpr double kPi = constants::pi;
constexpr double kMRho = constants::mRho;
constexpr double kGammaRho = constants::gammaRho;

// Two-body momentum of M -> m1 m2.
double twoBodyMomentum(double m, double m1, double m2) {
  const double a = (m * m - (m1 + m2) * (m1 + m2)) * (m * m - (m1 - m2) * (m1 - m2));
  return a > 0 ? std::sqrt(a) / (2 * m) : 0.0;
}

// Two orthonormal vectors perpendicular to a unit vector.
void perpendiculars(const Vector3& a, Vector3& e1, Vector3& e2) {
  const Vector3 trial = std::abs(a.x) < 0.6 ? Vector3{1, 0, 0} : Vector3{0, 1, 0};
  e1 = (trial - a * trial.dot(a)).unit();
  e2 = a.cross(e1);
}

int chargedPionPdg(int charge) {
  return charge > 0 ? pdg::piPlus : -pdg::piPlus;
}

// rho line shape pieces (docs/physics.md section 6).
double rhoK(double q2) {
  const double a = (q2 - (mPiCharged + mPiNeutral) * (mPiCharged + mPiNeutral)) *
                   (q2 - (mPiCharged - mPiNeutral) * (mPiCharged - mPiNeutral));
  return a > 0 ? std::sqrt(a) / (2 * std::sqrt(q2)) : 0.0;
}
}  // namespace

Vector3 randomDirection(Rng& rng) {
  const double c = 2 * rng.uniform() - 1;
  const double s = std::sqrt(std::max(0.0, 1 - c * c));
  const double phi = 2 * kPi * rng.uniform();
  return {s * std::cos(phi), s * std::sin(phi), c};
}

double TauDecayer::rhoMassWeight(double q2) const {
  // f(Q^2) = |F|^2 beta^3 (1 - Q^2/mtau^2)^2 (1 + 2 Q^2/mtau^2), divided by the Breit-Wigner
  // proposal 1/((Q^2 - m^2)^2 + m^2 G^2).
  const double mr2 = kMRho * kMRho;
  const double q = std::sqrt(q2);
  const double k = rhoK(q2), k0 = rhoK(mr2);
  const double width = kGammaRho * (kMRho / q) * std::pow(k / k0, 3);
  const double d = mr2 - q2;
  const double f2 = mr2 * mr2 / (d * d + mr2 * width * width);
  const double betaPi = 2 * k / q;
  const double t = q2 / (mTau * mTau);
  const double shape = f2 * betaPi * betaPi * betaPi * (1 - t) * (1 - t) * (1 + 2 * t);
  return shape * (d * d + mr2 * kGammaRho * kGammaRho) / (mr2 * mr2);
}

double TauDecayer::leptonMassWeight(double sA, double mLepton) const {
  // Flat 3-body phase space times the unpolarised V-A matrix element, as a density in
  // s_A = m^2(l, nu_tau): (mtau^2 - s_A)^2 (s_A - m_l^2)^2 / s_A.
  const double ml2 = mLepton * mLepton;
  const double a = mTau * mTau - sA, b = sA - ml2;
  return a * a * b * b / sA;
}

TauDecayer::TauDecayer() {
  // Maxima of the proposal weights, by a fine scan (+2 % margin; the functions are smooth).
  const double q2Lo = (mPiCharged + mPiNeutral) * (mPiCharged + mPiNeutral), q2Hi = mTau * mTau;
  for (int i = 1; i < 20000; ++i) {
    const double q2 = q2Lo + (q2Hi - q2Lo) * i / 20000.0;
    rhoWeightMax_ = std::max(rhoWeightMax_, rhoMassWeight(q2));
  }
  for (int i = 1; i < 20000; ++i) {
    for (int lep = 0; lep < 2; ++lep) {
      const double ml = lep ? constants::mMuon : constants::mElectron;
      const double sA = ml * ml + (mTau * mTau - ml * ml) * i / 20000.0;
      double& wmax = lep ? muonWeightMax_ : electronWeightMax_;
      wmax = std::max(wmax, leptonMassWeight(sA, ml));
    }
  }
  rhoWeightMax_ *= 1.02;
  electronWeightMax_ *= 1.02;
  muonWeightMax_ *= 1.02;
}

DecayMode TauDecayer::sampleMode(const std::array<double, 5>& fractions, Rng& rng) {
  double u = rng.uniform();
  int last = 0;
  for (int m = 0; m < 5; ++m) {
    if (fractions[m] <= 0) continue;
    last = m;
    if (u < fractions[m]) return static_cast<DecayMode>(m);
    u -= fractions[m];
  }
  return static_cast<DecayMode>(last);  // rounding
}

TauDecay TauDecayer::decay(DecayMode mode, int charge, Rng& rng) const {
  TauDecay d;
  d.mode = mode;
  switch (mode) {
    case DecayMode::Pi:
      decayPi(charge, rng, d);
      break;
    case DecayMode::Rho:
      decayRho(charge, rng, d);
      break;
    case DecayMode::Electron:
      decayLepton(false, charge, rng, d);
      break;
    case DecayMode::Muon:
      decayLepton(true, charge, rng, d);
      break;
    case DecayMode::Other:
      decayOther(charge, rng, d);
      break;
  }
  return d;
}

void TauDecayer::decayPi(int charge, Rng& rng, TauDecay& d) const {
  const double p = twoBodyMomentum(mTau, mPiCharged, 0);
  const Vector3 dir = randomDirection(rng);
  d.nVisible = 1;
  d.visible[0] = {FourVector::fromMomentumMass(dir * p, mPiCharged), chargedPionPdg(charge)};
  d.nNeutrinos = 1;
  d.neutrinos[0] = {FourVector::fromMomentumMass(-dir * p, 0),
                    charge > 0 ? -pdg::nuTau : pdg::nuTau};
  d.chargedPionIndex = 0;
  // H = unit(p_pi-) for tau-, -unit(p_pi+) for tau+.
  d.polarimeter = charge > 0 ? -dir : dir;
}

void TauDecayer::decayRho(int charge, Rng& rng, TauDecay& d) const {
  const double mr2 = kMRho * kMRho, mg = kMRho * kGammaRho;
  const double q2Lo = (mPiCharged + mPiNeutral) * (mPiCharged + mPiNeutral), q2Hi = mTau * mTau;
  const double uLo = std::atan((q2Lo - mr2) / mg), uHi = std::atan((q2Hi - mr2) / mg);
  // Q^2 from the line shape, Breit-Wigner proposal.
  double q2;
  do {
    q2 = mr2 + mg * std::tan(uLo + (uHi - uLo) * rng.uniform());
  } while (rng.uniform() * rhoWeightMax_ > rhoMassWeight(q2));
  const double mQ = std::sqrt(q2);
  // rho direction in the tau frame; nu opposite. In the rho frame the nu moves along -dRho.
  const Vector3 dRho = randomDirection(rng);
  const double pRho = (mTau * mTau - q2) / (2 * mTau);
  const FourVector rho = FourVector::fromMomentumMass(dRho * pRho, mQ);
  const FourVector nu = FourVector::fromMomentumMass(-dRho * pRho, 0);
  // pi+- angle in the rho frame by accept-reject on |M0|^2 = 2(q.N)(q.P) - q^2 (N.P), which is
  // convex in q.N (linear in the cosine), so its maximum is at cos = +-1.
  const double k = twoBodyMomentum(mQ, mPiCharged, mPiNeutral);
  const double e1 = std::sqrt(k * k + mPiCharged * mPiCharged);
  const double e2 = std::sqrt(k * k + mPiNeutral * mPiNeutral);
  const double delta = e1 - e2;
  const double qq = delta * delta - 4 * k * k;       // q^2
  const double eNu = (mTau * mTau - q2) / (2 * mQ);  // nu energy in the rho frame
  auto matrixElement = [&](double x) {               // x = cos(pi+-, nu) in the rho frame
    const double qN = eNu * (delta - 2 * k * x);
    const double qP = delta * mQ + qN;
    return 2 * qN * qP - qq * mQ * eNu;
  };
  const double mMax = std::max(matrixElement(1), matrixElement(-1));
  Vector3 e1v, e2v;
  const Vector3 eHat = -dRho;
  perpendiculars(eHat, e1v, e2v);
  double x;
  do {
    x = 2 * rng.uniform() - 1;
  } while (rng.uniform() * mMax > matrixElement(x));
  const double sx = std::sqrt(std::max(0.0, 1 - x * x));
  const double phi = 2 * kPi * rng.uniform();
  const Vector3 nHat = eHat * x + (e1v * std::cos(phi) + e2v * std::sin(phi)) * sx;
  const Vector3 beta = rho.boostVector();
  const FourVector piC = FourVector(nHat.x * k, nHat.y * k, nHat.z * k, e1).boosted(beta);
  const FourVector piN = FourVector(-nHat.x * k, -nHat.y * k, -nHat.z * k, e2).boosted(beta);
  d.nVisible = 2;
  d.visible[0] = {piC, chargedPionPdg(charge)};
  d.visible[1] = {piN, pdg::piZero};
  d.chargedPionIndex = 0;
  d.neutralPionIndex = 1;
  d.nNeutrinos = 1;
  d.neutrinos[0] = {nu, charge > 0 ? -pdg::nuTau : pdg::nuTau};
  const Vector3 h = rhoPolarimeter(piC, piN, nu);
  d.polarimeter = charge > 0 ? -h : h;
}

Vector3 TauDecayer::rhoPolarimeter(const FourVector& chargedPion, const FourVector& neutralPion,
                                   const FourVector& neutrino) {
  return nurec::rhoPolarimeter(chargedPion, neutralPion, neutrino);
}

void TauDecayer::decayLepton(bool muon, int charge, Rng& rng, TauDecay& d) const {
  const double ml = muon ? constants::mMuon : constants::mElectron;
  const double wMax = muon ? muonWeightMax_ : electronWeightMax_;
  const double ml2 = ml * ml;
  // s_A = m^2(l nu_tau) from phase space x unpolarised |M|^2 = (P.p_nubar)(p_l.p_nutau).
  double sA;
  do {
    sA = ml2 + (mTau * mTau - ml2) * rng.uniform();
  } while (rng.uniform() * wMax > leptonMassWeight(sA, ml));
  const double mA = std::sqrt(sA);
  // Partner (anti)neutrino recoils against the (l nu_tau) system; both isotropic.
  const Vector3 dPartner = randomDirection(rng);
  const double pPartner = (mTau * mTau - sA) / (2 * mTau);
  const FourVector partner = FourVector::fromMomentumMass(dPartner * pPartner, 0);
  const FourVector system = FourVector::fromMomentumMass(-dPartner * pPartner, mA);
  const double k = (sA - ml2) / (2 * mA);
  const Vector3 dl = randomDirection(rng);
  const FourVector lepton = FourVector::fromMomentumMass(dl * k, ml).boosted(system.boostVector());
  const FourVector nuTau = FourVector::fromMomentumMass(-dl * k, 0).boosted(system.boostVector());
  const int lepPdg = muon ? pdg::muon : pdg::electron;
  const int nuPdg = muon ? pdg::nuMu : pdg::nuE;
  // tau- -> l- nubar_l nu_tau ; tau+ -> l+ nu_l nubar_tau.
  d.nVisible = 1;
  d.visible[0] = {lepton, charge > 0 ? -lepPdg : lepPdg};
  d.nNeutrinos = 2;
  d.neutrinos[0] = {nuTau, charge > 0 ? -pdg::nuTau : pdg::nuTau};
  d.neutrinos[1] = {partner, charge > 0 ? nuPdg : -nuPdg};
  // H = unit(p_nubar_l) for tau-, -unit(p_nu_l) for tau+.
  d.polarimeter = charge > 0 ? -dPartner : dPartner;
}

void TauDecayer::decayOther(int charge, Rng& rng, TauDecay& d) const {
  // nu + three pions, flat 4-body phase space (GENBOD-style: sorted intermediate masses, weight =
  // product of two-body momenta, accept-reject). H = 0.
  const bool threeProng = rng.uniform() < kOtherThreeProngShare;
  const int piQ = chargedPionPdg(charge);
  const std::array<double, 4> mass = {0.0, mPiCharged, threeProng ? mPiCharged : mPiNeutral,
                                      threeProng ? mPiCharged : mPiNeutral};
  const std::array<int, 4> ids = {charge > 0 ? -pdg::nuTau : pdg::nuTau, piQ,
                                  threeProng ? -piQ : pdg::piZero, threeProng ? piQ : pdg::piZero};
  const double sumM = mass[0] + mass[1] + mass[2] + mass[3];
  const double tKin = mTau - sumM;
  // Upper bound of the weight: product of the two-body momenta at their largest mass ranges.
  double wMax = 1;
  {
    double emMin = mass[0], emMax = tKin + mass[0];
    for (int i = 1; i < 4; ++i) {
      emMin += mass[i];
      emMax += mass[i];
      wMax *= twoBodyMomentum(emMax, emMin - mass[i], mass[i]);
    }
  }
  std::array<double, 4> invMass{};  // invariant mass of particles 0..i
  double w;
  do {
    double r1 = rng.uniform(), r2 = rng.uniform();
    if (r1 > r2) std::swap(r1, r2);
    invMass[0] = mass[0];
    invMass[1] = mass[0] + mass[1] + r1 * tKin;
    invMass[2] = mass[0] + mass[1] + mass[2] + r2 * tKin;
    invMass[3] = mTau;
    w = 1;
    for (int i = 1; i < 4; ++i) w *= twoBodyMomentum(invMass[i], invMass[i - 1], mass[i]);
  } while (rng.uniform() * wMax > w);
  // Build momenta: start with particle 0 in the frame of system {0,1}, add particles outward.
  std::array<FourVector, 4> p;
  {
    const double k = twoBodyMomentum(invMass[1], mass[0], mass[1]);
    const Vector3 dir = randomDirection(rng);
    p[0] = FourVector::fromMomentumMass(dir * k, mass[0]);
    p[1] = FourVector::fromMomentumMass(-dir * k, mass[1]);
  }
  for (int i = 2; i < 4; ++i) {
    const double k = twoBodyMomentum(invMass[i], invMass[i - 1], mass[i]);
    const Vector3 dir = randomDirection(rng);
    const FourVector sub = FourVector::fromMomentumMass(dir * k, invMass[i - 1]);
    const Vector3 beta = sub.boostVector();
    for (int j = 0; j < i; ++j) p[j] = p[j].boosted(beta);
    p[i] = FourVector::fromMomentumMass(-dir * k, mass[i]);
  }
  d.nNeutrinos = 1;
  d.neutrinos[0] = {p[0], ids[0]};
  d.nVisible = 3;
  for (int i = 0; i < 3; ++i) d.visible[i] = {p[i + 1], ids[i + 1]};
  d.polarimeter = {};
}

double TauDecayer::correlationWeight(const SpinState& s, const Vector3& hp, const Vector3& hm) {
  const double a[3] = {hp.x, hp.y, hp.z}, b[3] = {hm.x, hm.y, hm.z};
  double w = 1;
  for (int i = 0; i < 3; ++i) {
    w += s.bPlus[i] * a[i] + s.bMinus[i] * b[i];
    for (int j = 0; j < 3; ++j) w += a[i] * s.c[i][j] * b[j];
  }
  return w;
}

double TauDecayer::maxCorrelationWeight(const SpinState& s) {
  // rho = 1/4 [1 + B+.sigma x 1 + 1 x B-.sigma + C_ij sigma_i x sigma_j], (k, r, n) -> (z, x, y).
  using M2 = Eigen::Matrix2cd;
  using M4 = Eigen::Matrix4cd;
  const std::complex<double> I(0, 1);
  M2 sig[3];
  sig[0] << 1, 0, 0, -1;  // k -> z
  sig[1] << 0, 1, 1, 0;   // r -> x
  sig[2] << 0, -I, I, 0;  // n -> y
  const M2 one = M2::Identity();
  auto kron = [](const M2& a, const M2& b) {
    M4 out;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) out.block<2, 2>(2 * i, 2 * j) = a(i, j) * b;
    return out;
  };
  M4 rho = M4::Identity();
  for (int i = 0; i < 3; ++i) {
    rho += s.bPlus[i] * kron(sig[i], one) + s.bMinus[i] * kron(one, sig[i]);
    for (int j = 0; j < 3; ++j) rho += s.c[i][j] * kron(sig[i], sig[j]);
  }
  rho *= 0.25;
  Eigen::SelfAdjointEigenSolver<M4> es(rho, Eigen::EigenvaluesOnly);
  const double lmax = es.eigenvalues().maxCoeff();
  return std::min(4.0, 4 * lmax * (1 + 1e-9));
}

int TauDecayer::decayPair(const SpinState& spin, const std::array<DecayMode, 2>& modes,
                          const Vector3& k, const Vector3& r, const Vector3& n, Rng& rng,
                          std::array<TauDecay, 2>& out) const {
  const bool anyPolarimeter = modes[0] != DecayMode::Other || modes[1] != DecayMode::Other;
  const double wMax = anyPolarimeter ? maxCorrelationWeight(spin) : 1.0;
  int trials = 0;
  constexpr int kMaxTrials = 1000000;
  while (true) {
    ++trials;
    out[0] = decay(modes[0], +1, rng);
    out[1] = decay(modes[1], -1, rng);
    if (!anyPolarimeter) return trials;
    const Vector3& hp = out[0].polarimeter;
    const Vector3& hm = out[1].polarimeter;
    const Vector3 hpc{hp.dot(k), hp.dot(r), hp.dot(n)}, hmc{hm.dot(k), hm.dot(r), hm.dot(n)};
    const double w = correlationWeight(spin, hpc, hmc);
    if (rng.uniform() * wMax <= w) return trials;
    if (trials >= kMaxTrials)
      throw Error("internal: tau-pair decay accept-reject does not converge");
  }
}

}  // namespace nurec::generator
