#pragma once
// Constructed tau-pair events for the quantum tests: decay products are placed in the tau rest
// frames with chosen analyser directions (k, r, n components) and boosted lab-ward through the pair
// frame.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "nurec/core/Event.hpp"
#include "nurec/core/HelicityBasis.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/EventTable.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/Observables.hpp"
#include "nurec/quantum/ToySampler.hpp"

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

// Z-like massless pattern with a per-event C_rr = -C_nn = -0.95 S^2/(1 + c^2) and B_k = -0.15.
inline SpinState zLikeState(double c) {
  const double a = 0.95 * (1 - c * c) / (1 + c * c);
  SpinState s;
  s.bPlus = {-0.15, 0, 0};
  s.bMinus = {-0.15, 0, 0};
  s.c = {{{1, 0, 0}, {0, -a, 0}, {0, 0, a}}};
  return s;
}

struct Sample {
  io::EventTable table;
  std::vector<SpinState> states;
};

// A pi pi sample with per-event Z-like production states (C scaled by cScale: 0 = unpolarised
// spin correlations), neutrinos smeared by nuSmear (relative, per component) as method "smeared",
// and a selection on the pion energies (> 12 GeV). Independent samples for different seeds (file
// attribute "seed", as `nurec generate` writes it).
inline Sample makeSample(std::size_t n, double nuSmear, std::uint64_t seed = 31,
                         double cScale = 1) {
  std::vector<TruthEvent> truth(n);
  std::vector<RecoEvent> reco(n);
  io::NuEstimate nu;
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(seed, i, streams::quantum);
    const auto kin = randomPair(rng);
    const HelicityBasis basis(kin.tauPlus, kin.tauMinus);
    ToyConfig toy;
    toy.state = zLikeState(basis.cosTheta());
    for (auto& row : toy.state.c)
      for (auto& v : row) v *= cScale;
    const AnalyserEvent a = sampleToyEvent(toy, rng, toyWMax(toy));
    truth[i] = pionPairEvent(kin, a.xPlus, a.xMinus);
    truth[i].spin = toy.state;
    std::array<FourVector, 2> nuReco;
    for (int t = 0; t < 2; ++t) {
      const Vector3 p = truth[i].neutrinos[t].vec();
      const Vector3 smeared{p.x * (1 + nuSmear * rng.normal()), p.y * (1 + nuSmear * rng.normal()),
                            p.z * (1 + nuSmear * rng.normal())};
      nuReco[t] = FourVector::fromMomentumMass(smeared, 0);
      reco[i].tau[t] = reco[i].charged[t] = truth[i].chargedPion[t];
      reco[i].tauType[t] = RecoTauType::Pi;
    }
    reco[i].channel = Channel::PiPi;
    // A selection that depends on the decay (hence on the spin): both pion energies > 12 GeV.
    reco[i].passSr = truth[i].chargedPion[0].e > 12 && truth[i].chargedPion[1].e > 12;
    reco[i].passTrigger = reco[i].passSr;
    nu.p4.push_back(nuReco);
    nu.status.push_back(0);
  }
  Sample s{io::EventTable(n), {}};
  io::putTruth(s.table, truth);
  io::putReco(s.table, reco);
  io::putNu(s.table, "smeared", nu);
  s.table.setSource(fmt::format("constructed-{}", seed));
  s.table.setAttribute("seed", static_cast<std::int64_t>(seed));
  for (const auto& t : truth) s.states.push_back(t.spin);
  return s;
}

}  // namespace nurec::quantum::testing
