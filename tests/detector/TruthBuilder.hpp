#pragma once
// Hand-built truth events for the detector tests (no generator needed).
#include <cmath>

#include "nurec/core/Event.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::test {

inline FourVector ptEtaPhiM(double pt, double eta, double phi, double m) {
  return FourVector::fromPtEtaPhiM(pt, eta, phi, m);
}

// Adds a tau decay to slot t of ev: visible products and one neutrino carrying `nuPt` along the
// visible direction; the tau four-momentum is their sum.
inline void addTau(TruthEvent& ev, int t, DecayMode mode, const std::vector<Particle>& visible,
                   double nuPt) {
  ev.decayMode[t] = mode;
  ev.tauProducts[t] = visible;
  FourVector vis;
  for (const auto& p : visible) vis += p.p4;
  ev.visible[t] = vis;
  const FourVector nu = ptEtaPhiM(nuPt, vis.eta(), vis.phi(), 0);
  ev.neutrinos[t] = nu;
  ev.tauNeutrinos[t] = {{nu, t == 0 ? -pdg::nuTau : pdg::nuTau}};
  ev.tau[t] = vis + nu;
  for (const auto& p : visible) {
    if (std::abs(p.pdgId) == pdg::piPlus) ev.chargedPion[t] = p.p4;
    if (p.pdgId == pdg::piZero) ev.neutralPion[t] = p.p4;
  }
}

// tau+ -> pi+ nu at (pt, eta, phi).
inline void addPi(TruthEvent& ev, int t, double pt, double eta, double phi, double nuPt = 10) {
  const int sign = t == 0 ? 1 : -1;
  addTau(ev, t, DecayMode::Pi,
         {{ptEtaPhiM(pt, eta, phi, constants::mPiCharged), sign * pdg::piPlus}}, nuPt);
}

// rho: a pi+- of pT ptPi and a pi0 of pT ptPi0 at the same (eta, phi + dPhi).
inline void addRho(TruthEvent& ev, int t, double ptPi, double ptPi0, double eta, double phi,
                   double nuPt = 10, double dPhi = 0.05) {
  const int sign = t == 0 ? 1 : -1;
  addTau(ev, t, DecayMode::Rho,
         {{ptEtaPhiM(ptPi, eta, phi, constants::mPiCharged), sign * pdg::piPlus},
          {ptEtaPhiM(ptPi0, eta, phi + dPhi, constants::mPiNeutral), pdg::piZero}},
         nuPt);
}

// Leptonic decay (pdg electron or muon) with two neutrinos.
inline void addLepton(TruthEvent& ev, int t, int flavour, double pt, double eta, double phi,
                      double nuPt = 10) {
  const int sign = t == 0 ? -1 : 1;  // e+ is -11
  const double m = flavour == pdg::electron ? constants::mElectron : constants::mMuon;
  addTau(ev, t, flavour == pdg::electron ? DecayMode::Electron : DecayMode::Muon,
         {{ptEtaPhiM(pt, eta, phi, m), sign * flavour}}, nuPt / 2);
  const FourVector nu2 = ptEtaPhiM(nuPt / 2, eta, phi, 0);
  ev.tauNeutrinos[t].push_back({nu2, -sign * (flavour + 1)});
  ev.neutrinos[t] += nu2;
  ev.tau[t] += nu2;
}

// A spray of `n` pions sharing pT `pt` around (eta, phi) (a jet-like recoil).
inline void addSpray(TruthEvent& ev, double pt, double eta, double phi, int n = 5) {
  for (int i = 0; i < n; ++i) {
    const double de = 0.03 * (i - n / 2), dp = 0.02 * ((i * 7) % n - n / 2);
    ev.recoil.push_back({ptEtaPhiM(pt / n, eta + de, phi + dp, constants::mPiCharged),
                         (i % 2 ? 1 : -1) * pdg::piPlus});
  }
}

}  // namespace nurec::test
