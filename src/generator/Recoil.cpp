#include "generator/Recoil.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/Error.hpp"
#include "core/Units.hpp"
#include "generator/TauDecays.hpp"

namespace nurec::generator {

namespace {
constexpr double kPi = constants::pi;
constexpr double kMKLong = 0.497611, kMNeutron = 0.939565;
}  // namespace

void RecoilConfig::validate() const {
  require(pt0GeV > 0, "recoil: pt0 must be > 0 GeV");
  require(power > 1, "recoil: power must be > 1 (normalisable pT spectrum)");
  require(ptMaxGeV > 0, "recoil: pt_max must be > 0 GeV");
  require(twoJetProbability >= 0 && twoJetProbability <= 1,
          "recoil: two_jet_probability must be in [0, 1]");
  require(jetRapiditySpread >= 0, "recoil: jet_rapidity_spread must be >= 0");
  require(jetMassFractionMin > 0 && jetMassFractionMax >= jetMassFractionMin,
          "recoil: need 0 < jet_mass_fraction_min <= jet_mass_fraction_max");
  require(hadronsPerLogEnergy >= 0, "recoil: hadrons_per_log_energy must be >= 0");
  require(maxHadronsPerJet >= 2 && maxHadronsPerJet <= 64,
          "recoil: max_hadrons_per_jet must be in [2, 64]");
  require(ueMeanParticles >= 0 && ueMeanParticles <= 100,
          "recoil: ue_mean_particles must be in [0, 100]");
  require(uePtMeanGeV > 0, "recoil: ue_pt_mean must be > 0 GeV");
  require(ueMaxAbsEta > 0, "recoil: ue_max_abs_eta must be > 0");
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

int samplePoisson(double mean, Rng& rng) {
  // Knuth's product method; means here are small (< 30).
  const double limit = std::exp(-mean);
  int n = 0;
  double p = rng.uniform();
  while (p > limit && n < 1000) {
    ++n;
    p *= rng.uniform();
  }
  return n;
}

RecoilModel::RecoilModel(const RecoilConfig& config) : config_(config) {
  config_.validate();
}

double RecoilModel::samplePairPt(Rng& rng) const {
  if (!config_.enabled) return 0.0;
  const double p0 = config_.pt0GeV, a = config_.power - 1;
  // Inverse CDF: pT = p0 sqrt(u^(-1/a) - 1), restricted to pT < ptMax by drawing u above F(ptMax).
  const double uMin = std::pow(p0 * p0 / (config_.ptMaxGeV * config_.ptMaxGeV + p0 * p0), a);
  const double u = uMin + (1 - uMin) * rng.uniformPositive();
  return p0 * std::sqrt(std::max(0.0, std::pow(u, -1 / a) - 1));
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

void RecoilModel::makeRecoil(double pairPx, double pairPy, double pairRapidity, Rng& rng,
                             std::vector<Particle>& out) const {
  out.clear();
  if (!config_.enabled) return;
  // Jets: transverse momenta summing to minus the pair pT.
  const double rx = -pairPx, ry = -pairPy;
  std::array<std::array<double, 2>, 2> jetPt{};
  int nJets = 1;
  jetPt[0] = {rx, ry};
  const double rMag = std::hypot(rx, ry);
  if (rng.uniform() < config_.twoJetProbability) {
    nJets = 2;
    const double pt2 = rng.exponential(0.4 * rMag + 3.0);
    const double phi2 = 2 * kPi * rng.uniform();
    jetPt[1] = {pt2 * std::cos(phi2), pt2 * std::sin(phi2)};
    jetPt[0] = {rx - jetPt[1][0], ry - jetPt[1][1]};
  }
  for (int j = 0; j < nJets; ++j) {
    const double pt = std::hypot(jetPt[j][0], jetPt[j][1]);
    const double y = std::clamp(pairRapidity + rng.normal(0, config_.jetRapiditySpread), -4.5, 4.5);
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
    const FourVector jet{jetPt[j][0], jetPt[j][1], mt * std::sinh(y), mt * std::cosh(y)};
    fragmentCluster(jet, ids.data(), nHad, rng, out);
  }
  // Underlying event: soft hadrons with zero net transverse momentum.
  const int nUe = samplePoisson(config_.ueMeanParticles, rng);
  if (nUe >= 2) {
    std::array<std::array<double, 4>, 100> ue{};  // px, py, eta, pdg
    double sx = 0, sy = 0;
    const int n = std::min(nUe, 100);
    for (int i = 0; i < n; ++i) {
      const double pt = 0.1 + rng.exponential(config_.uePtMeanGeV);
      const double phi = 2 * kPi * rng.uniform();
      ue[i] = {pt * std::cos(phi), pt * std::sin(phi),
               rng.uniform(-config_.ueMaxAbsEta, config_.ueMaxAbsEta),
               static_cast<double>(sampleHadronPdg(rng))};
      sx += ue[i][0];
      sy += ue[i][1];
    }
    for (int i = 0; i < n; ++i) {
      const double px = ue[i][0] - sx / n, py = ue[i][1] - sy / n;
      const int id = static_cast<int>(ue[i][3]);
      const double pt = std::hypot(px, py);
      const Vector3 p{px, py, pt * std::sinh(ue[i][2])};
      out.push_back({FourVector::fromMomentumMass(p, recoilHadronMass(id)), id});
    }
  }
}

}  // namespace nurec::generator
