#include "nurec/generator/Recoil.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/TauDecays.hpp"

namespace nurec::generator {

namespace {
constexpr double kPi = constants::pi;
constexpr double kMKLong = 0.497611, kMNeutron = 0.939565;
constexpr double kCF = 4.0 / 3.0;
// One-loop beta-function coefficient for 5 flavours: b0 = (33 - 2 nf) / (12 pi).
constexpr double kB0 = 23.0 / (12.0 * constants::pi);
// Emissions and clusters are kept within this rapidity (beyond the calorimeter's 4.9 anyway).
constexpr double kMaxClusterRapidity = 6.0;
// Minijet rapidities of the secondary scatters: flat within this range.
constexpr double kMpiMaxRapidity = 4.0;
// Secondary-scatter minijets above this pT are redrawn (the spectrum is a low-pT model).
constexpr double kMpiPtMaxGeV = 150.0;
// Beam-remnant cluster when there are no soft hadrons to carry the primordial kT.
constexpr double kRemnantRapidity = 5.5;
}  // namespace

void RecoilConfig::validate() const {
  require(std::isfinite(alphaSMz) && alphaSMz > 0 && alphaSMz < 0.5,
          "recoil: alpha_s must lie in (0, 0.5)");
  require(std::isfinite(pt0GeV) && pt0GeV >= 0, "recoil: pt0 must be >= 0 GeV");
  require(std::isfinite(ptMinGeV) && ptMinGeV > 0.1, "recoil: pt_min must be > 0.1 GeV");
  require(std::isfinite(startScale) && startScale > 0 && startScale <= 20,
          "recoil: start_scale must lie in (0, 20]");
  require(std::isfinite(primordialKtGeV) && primordialKtGeV >= 0 && primordialKtGeV <= 20,
          "recoil: primordial_kt must lie in [0, 20] GeV");
  // alpha_s must stay perturbative (< 1) down to the lowest scale the shower uses.
  const double mu2 = ptMinGeV * ptMinGeV + pt0GeV * pt0GeV;
  require(1 / alphaSMz + kB0 * std::log(mu2 / (constants::mZ * constants::mZ)) > 1,
          "recoil: alpha_s exceeds 1 at sqrt(pt_min^2 + pt0^2); raise pt_min or pt0");
  require(jetMassFractionMin > 0 && jetMassFractionMax >= jetMassFractionMin,
          "recoil: need 0 < jet_mass_fraction_min <= jet_mass_fraction_max");
  require(hadronsPerLogEnergy >= 0, "recoil: hadrons_per_log_energy must be >= 0");
  require(maxHadronsPerJet >= 2 && maxHadronsPerJet <= 64,
          "recoil: max_hadrons_per_jet must be in [2, 64]");
  require(std::isfinite(mpiMeanScatters) && mpiMeanScatters >= 0 && mpiMeanScatters <= 20,
          "recoil: mpi_mean_scatters must lie in [0, 20]");
  require(std::isfinite(mpiPtMinGeV) && mpiPtMinGeV > 0.5, "recoil: mpi_pt_min must be > 0.5 GeV");
  require(std::isfinite(ueMeanParticles) && ueMeanParticles >= 0 && ueMeanParticles <= 1000,
          "recoil: ue_mean_particles must be in [0, 1000]");
  require(std::isfinite(ueShapeK) && ueShapeK > 0, "recoil: ue_shape_k must be > 0");
  require(ueMaxParticles >= 0 && ueMaxParticles <= 2000,
          "recoil: ue_max_particles must be in [0, 2000]");
  require(std::isfinite(uePtMinGeV) && uePtMinGeV >= 0, "recoil: ue_pt_min must be >= 0 GeV");
  require(std::isfinite(uePtMeanGeV) && uePtMeanGeV > 0, "recoil: ue_pt_mean must be > 0 GeV");
  require(std::isfinite(ueMaxAbsEta) && ueMaxAbsEta > 0 && ueMaxAbsEta < 10,
          "recoil: ue_max_abs_eta must lie in (0, 10)");
}

double InitialState::pairPx() const {
  double s = primordialPx;
  for (const auto& e : emissions) s += e.px;
  return -s;
}

double InitialState::pairPy() const {
  double s = primordialPy;
  for (const auto& e : emissions) s += e.py;
  return -s;
}

double recoilHadronMass(int pdgId) {
  switch (std::abs(pdgId)) {
    case pdg::piPlus:
      return constants::mPiCharged;
    case pdg::piZero:
      return constants::mPiNeutral;
    case pdg::KLong:
      return kMKLong;
    case pdg::neutron:
      return kMNeutron;
    default:
      return 0.0;
  }
}

double sampleGamma(double shape, Rng& rng) {
  // Marsaglia & Tsang (2000); shape < 1 through Gamma(shape + 1) U^(1/shape).
  if (shape < 1) return sampleGamma(shape + 1, rng) * std::pow(rng.uniformPositive(), 1 / shape);
  const double d = shape - 1.0 / 3.0, c = 1 / std::sqrt(9 * d);
  while (true) {
    double x = 0, v = 0;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = rng.uniformPositive();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

RecoilModel::RecoilModel(const RecoilConfig& config) : config_(config) {
  config_.validate();
}

double RecoilModel::alphaS(double mu2) const {
  return 1 / (1 / config_.alphaSMz + kB0 * std::log(mu2 / (constants::mZ * constants::mZ)));
}

InitialState RecoilModel::sampleInitialState(double pairMassGeV, double pairRapidity, Rng& rng,
                                             InitialPartons partons) const {
  InitialState s;
  if (!config_.enabled) return s;
  // Leading-log emission density C alpha_s/pi (ln(Q^2/kT^2) - b) per unit ln kT^2 and incoming
  // leg pair: q qbar C = C_F, b = 3/2; g g C = C_A = 3, b = (11 C_A - 2 n_f)/(6 C_A) = 23/18
  // (docs/physics-validation.md "Recoil").
  const bool gluons = partons == InitialPartons::GluonGluon;
  const double colour = gluons ? 3.0 : kCF, b = gluons ? 23.0 / 18.0 : 1.5;
  const double q = config_.startScale * pairMassGeV, q2 = q * q;
  const double ptMin2 = config_.ptMinGeV * config_.ptMinGeV, pt02 = config_.pt0GeV * config_.pt0GeV;
  const double logRangeMax = std::log(q2 / ptMin2) - b;
  if (logRangeMax > 0) {
    // Veto algorithm in t = ln kT^2 with the constant overestimate g >= density per unit t.
    const double g = colour * alphaS(ptMin2 + pt02) / kPi * logRangeMax;
    const double tMin = std::log(ptMin2);
    double t = std::log(q2) - b;  // kT where ln(Q^2/kT^2) - b = 0
    while (true) {
      t += std::log(rng.uniformPositive()) / g;
      if (t < tMin) break;
      const double k2 = std::exp(t);
      const double density =
          colour * alphaS(k2 + pt02) / kPi * k2 / (k2 + pt02) * (std::log(q2 / k2) - b);
      if (rng.uniform() * g >= density) continue;
      const double kt = std::sqrt(k2), phi = 2 * kPi * rng.uniform();
      const double halfRange = std::log(q / kt) - b / 2;
      const double y = std::clamp(pairRapidity + rng.uniform(-halfRange, halfRange),
                                  -kMaxClusterRapidity, kMaxClusterRapidity);
      s.emissions.push_back({kt * std::cos(phi), kt * std::sin(phi), y});
    }
  }
  s.primordialPx = rng.normal(0, config_.primordialKtGeV);
  s.primordialPy = rng.normal(0, config_.primordialKtGeV);
  return s;
}

int RecoilModel::sampleHadronPdg(Rng& rng) const {
  const double u = rng.uniform();
  if (u < 0.30) return pdg::piPlus;
  if (u < 0.60) return -pdg::piPlus;
  if (u < 0.88) return pdg::piZero;
  if (u < 0.94) return pdg::KLong;
  return u < 0.97 ? pdg::neutron : -pdg::neutron;
}

void RecoilModel::fragmentCluster(const FourVector& cluster, const int* ids, int nHadrons, Rng& rng,
                                  std::vector<Particle>& out) const {
  // Isotropic decay of the cluster at rest: random momenta q_i (Gaussian), shifted to sum to zero,
  // scaled by lambda so that sum sqrt(m_i^2 + lambda^2 q_i^2) = M (bisection); then boosted.
  // The caller guarantees M > sum of the hadron masses.
  std::array<Vector3, 64> q{};
  const double mCluster = cluster.m();
  Vector3 mean;
  for (int i = 0; i < nHadrons; ++i) {
    q[i] = {rng.normal(), rng.normal(), rng.normal()};
    mean += q[i];
  }
  mean = mean / nHadrons;
  for (int i = 0; i < nHadrons; ++i) q[i] -= mean;
  auto energy = [&](double lambda) {
    double e = 0;
    for (int i = 0; i < nHadrons; ++i) {
      const double m = recoilHadronMass(ids[i]);
      e += std::sqrt(m * m + lambda * lambda * q[i].mag2());
    }
    return e;
  };
  double lo = 0, hi = 1;
  while (energy(hi) < mCluster) hi *= 2;
  for (int it = 0; it < 60; ++it) {
    const double mid = 0.5 * (lo + hi);
    (energy(mid) < mCluster ? lo : hi) = mid;
  }
  const double lambda = 0.5 * (lo + hi);
  const Vector3 beta = cluster.boostVector();
  for (int i = 0; i < nHadrons; ++i) {
    const FourVector p = FourVector::fromMomentumMass(q[i] * lambda, recoilHadronMass(ids[i]));
    out.push_back({p.boosted(beta), ids[i]});
  }
}

void RecoilModel::addCluster(double px, double py, double y, Rng& rng,
                             std::vector<Particle>& out) const {
  const double pt = std::hypot(px, py);
  const double massFraction = rng.uniform(config_.jetMassFractionMin, config_.jetMassFractionMax);
  const double e0 = pt * std::cosh(y);
  int nHad = 2 + samplePoisson(config_.hadronsPerLogEnergy * std::log(1 + e0 / 5.0), rng);
  nHad = std::min(nHad, config_.maxHadronsPerJet);
  std::array<int, 64> ids{};
  double sumMass = 0;
  for (int i = 0; i < nHad; ++i) {
    ids[i] = sampleHadronPdg(rng);
    sumMass += recoilHadronMass(ids[i]);
  }
  // Cluster mass: a fraction of pT, but always room for the hadrons (+0.3 GeV kinetic energy).
  const double mass = std::max(massFraction * pt, sumMass + 0.3);
  const double mt = std::sqrt(pt * pt + mass * mass);
  fragmentCluster(FourVector{px, py, mt * std::sinh(y), mt * std::cosh(y)}, ids.data(), nHad, rng,
                  out);
}

void RecoilModel::makeRecoil(const InitialState& initial, double pairRapidity, Rng& rng,
                             std::vector<Particle>& out) const {
  out.clear();
  if (!config_.enabled) return;
  (void)pairRapidity;  // the emissions carry their own rapidities
  // 1. Initial-state emissions: one cluster each.
  for (const auto& e : initial.emissions) addCluster(e.px, e.py, e.y, rng, out);
  // 2. Secondary scatters: back-to-back minijet pairs, dN/dpT^2 ~ 1/(pT^2 + p0^2)^2 above p0
  // (inverse CDF: pT^2 = p0^2 (2/U - 1)).
  const int nMpi = samplePoisson(config_.mpiMeanScatters, rng);
  const double p0 = config_.mpiPtMinGeV;
  for (int i = 0; i < nMpi; ++i) {
    double pt = 0;
    do {
      pt = p0 * std::sqrt(2 / rng.uniformPositive() - 1);
    } while (pt > kMpiPtMaxGeV);
    const double phi = 2 * kPi * rng.uniform();
    const double y1 = rng.uniform(-kMpiMaxRapidity, kMpiMaxRapidity);
    const double y2 = rng.uniform(-kMpiMaxRapidity, kMpiMaxRapidity);
    addCluster(pt * std::cos(phi), pt * std::sin(phi), y1, rng, out);
    addCluster(-pt * std::cos(phi), -pt * std::sin(phi), y2, rng, out);
  }
  // 3. Soft hadrons: negative-binomial multiplicity (Gamma-Poisson mixture) whose mean scales with
  // the number of interactions (1 + scatters); they carry the primordial kT of the beams.
  const double meanSoft = config_.ueMeanParticles * (1 + nMpi) / (1 + config_.mpiMeanScatters);
  const double lambda =
      meanSoft > 0 ? meanSoft * sampleGamma(config_.ueShapeK, rng) / config_.ueShapeK : 0.0;
  const int nSoft = std::min(samplePoisson(lambda, rng), config_.ueMaxParticles);
  const double targetX = initial.primordialPx, targetY = initial.primordialPy;
  if (nSoft < 2) {
    if (std::hypot(targetX, targetY) > 0) {
      const double y = rng.uniform() < 0.5 ? -kRemnantRapidity : kRemnantRapidity;
      addCluster(targetX, targetY, y, rng, out);
    }
    return;
  }
  struct Soft {
    double px, py, eta;
    int pdg;
  };
  std::vector<Soft> soft(static_cast<std::size_t>(nSoft));
  double sx = 0, sy = 0;
  for (auto& s : soft) {
    const double pt = config_.uePtMinGeV + rng.exponential(config_.uePtMeanGeV);
    const double phi = 2 * kPi * rng.uniform();
    s = {pt * std::cos(phi), pt * std::sin(phi),
         rng.uniform(-config_.ueMaxAbsEta, config_.ueMaxAbsEta), sampleHadronPdg(rng)};
    sx += s.px;
    sy += s.py;
  }
  const double shiftX = (targetX - sx) / nSoft, shiftY = (targetY - sy) / nSoft;
  for (const auto& s : soft) {
    const double px = s.px + shiftX, py = s.py + shiftY;
    const double pt = std::hypot(px, py);
    const Vector3 p{px, py, pt * std::sinh(s.eta)};
    out.push_back({FourVector::fromMomentumMass(p, recoilHadronMass(s.pdg)), s.pdg});
  }
}

}  // namespace nurec::generator
