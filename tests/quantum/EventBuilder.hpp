#pragma once
// Constructed tau-pair events for the quantum tests: decay products are placed in the tau rest
// frames with chosen analyser directions (k, r, n components) and boosted lab-ward through the pair
// frame.
#include <cmath>

#include "core/Event.hpp"
#include "core/HelicityBasis.hpp"
#include "core/Random.hpp"
#include "core/Units.hpp"
#include "quantum/Observables.hpp"

namespace nurec::quantum::testing {

struct PairKinematics {
  FourVector tauPlus, tauMinus;
};

// Random production: m in [60, 120] GeV, random tau- direction in the pair frame, pair boosted with
// random pT (0-40 GeV) and rapidity (|y| < 2).
inline PairKinematics randomPair(Rng& rng) {
  const double m = rng.uniform(60, 120);
  const double p = std::sqrt(m * m / 4 - constants::mTau * constants::mTau);
  const double c = rng.uniform(-1, 1), phi = rng.uniform(0, 2 * constants::pi);
  const double s = std::sqrt(1 - c * c);
  const Vector3 dir{s * std::cos(phi), s * std::sin(phi), c};
  const FourVector minusPair = FourVector::fromMomentumMass(dir * p, constants::mTau);
  const FourVector plusPair = FourVector::fromMomentumMass(dir * -p, constants::mTau);
  const double pt = rng.uniform(0, 40), y = rng.uniform(-2, 2),
               phiPair = rng.uniform(0, 2 * constants::pi);
  const double mt = std::hypot(m, pt);
  const FourVector pair{pt * std::cos(phiPair), pt * std::sin(phiPair), mt * std::sinh(y),
                        mt * std::cosh(y)};
  return {plusPair.fromRestFrameOf(pair), minusPair.fromRestFrameOf(pair)};
}

// A particle of mass `mass` and rest-frame energy `energy` along the analyser direction x (k, r, n
// components) in the rest frame of tau t, returned in the lab.
inline FourVector placeInTauFrame(const HelicityBasis& basis, int t, const Vec3& x, double mass,
                                  double energy) {
  const Vector3 dir = basis.fromComponents({x[0], x[1], x[2]}).unit();
  const double p = std::sqrt(std::max(0.0, energy * energy - mass * mass));
  return basis.fromTauRestFrame(FourVector{dir.x * p, dir.y * p, dir.z * p, energy}, t);
}

// tau -> pi nu with the pion along x.
inline void addPionDecay(TruthEvent& ev, const HelicityBasis& basis, int t, const Vec3& x) {
  const double mt = constants::mTau, mp = constants::mPiCharged;
  const double e = (mt * mt + mp * mp) / (2 * mt);
  const FourVector pion = placeInTauFrame(basis, t, x, mp, e);
  ev.decayMode[t] = DecayMode::Pi;
  ev.chargedPion[t] = pion;
  ev.visible[t] = pion;
  ev.neutrinos[t] = ev.tau[t] - pion;
  ev.tauProducts[t] = {{pion, t == 0 ? pdg::piPlus : -pdg::piPlus}};
  ev.tauNeutrinos[t] = {{ev.neutrinos[t], t == 0 ? -pdg::nuTau : pdg::nuTau}};
}

inline TruthEvent pionPairEvent(const PairKinematics& kin, const Vec3& xPlus, const Vec3& xMinus) {
  TruthEvent ev;
  ev.weightPb = 1;
  ev.tau = {kin.tauPlus, kin.tauMinus};
  ev.boson = kin.tauPlus + kin.tauMinus;
  const HelicityBasis basis(kin.tauPlus, kin.tauMinus);
  addPionDecay(ev, basis, 0, xPlus);
  addPionDecay(ev, basis, 1, xMinus);
  return ev;
}

}  // namespace nurec::quantum::testing
