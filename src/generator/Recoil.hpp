#pragma once
// Recoil model of the embedded generator (documented in docs/physics-validation.md "Recoil model"):
//
//  * Initial-state radiation as a small pT-ordered shower (the leading-log Sudakov form that
//    resummation and parton showers share): emissions off the incoming q qbar with the
//    soft-collinear density
//        dP = (C_F alpha_s(kT^2 + pT0^2) / pi) kT^2/(kT^2 + pT0^2) dkT^2/kT^2 dy,
//    flat in rapidity y within ln(Q/kT) - 3/4 of the pair rapidity (the -3/4 per side is the
//    non-soft -3/2 of the q -> q g splitting function), Q = startScale x m(tau tau), one-loop
//    running alpha_s, down to kT = ptMin. Sampled exactly with the veto algorithm. The pair pT is
//    minus the vector sum of the emissions and a Gaussian primordial kT; every emission becomes a
//    jet at its own rapidity, so jet multiplicity and rapidities follow from the same density.
//  * Each emission (and the beam-remnant balance) is a massive cluster decayed isotropically in its
//    rest frame into a handful of hadrons (pi+-, pi0 kept as pdg 111, K_L / neutrons).
//  * Underlying event, MPI-like: a Poisson number of secondary 2 -> 2 scatters (back-to-back
//    minijet pairs with dN/dpT^2 ~ 1/(pT^2 + pT0^2)^2 above mpiPtMin), plus soft hadrons whose
//    number is negative-binomial with a mean that grows with the number of scatters. The soft
//    hadrons absorb the primordial kT so that the whole final state balances in the transverse
//    plane.
// Parameters: alpha_s, pT0 and the primordial kT are Pythia 8 Monash values; startScale and the
// underlying-event levels are tuned to the Pythia 8.311 figures quoted in
// docs/physics-validation.md.
#include <vector>

#include "nurec/core/Event.hpp"
#include "nurec/core/Random.hpp"

namespace nurec::generator {

struct RecoilConfig {
  bool enabled = true;
  // --- initial-state shower ---
  double alphaSMz = 0.1365;      // alpha_s(m_Z) of the emissions (one-loop running, 5 flavours)
  double pt0GeV = 2.0;           // regularisation scale of the emission density
  double ptMinGeV = 1.0;         // shower cut-off
  double startScale = 2.5;       // Q / m(tau tau): upper end of the emission phase space
  double primordialKtGeV = 1.8;  // Gaussian width per transverse component
  // --- hadronisation of the emissions ---
  double jetMassFractionMin = 0.08, jetMassFractionMax = 0.20;  // cluster mass / cluster pT
  double hadronsPerLogEnergy = 1.5;  // mean extra multiplicity per ln(1 + E/5 GeV)
  int maxHadronsPerJet = 12;
  // --- underlying event ---
  double mpiMeanScatters = 1.0;  // Poisson mean of secondary scatters above mpiPtMin
  double mpiPtMinGeV = 3.0;      // minijet pT threshold; also the pT0 of their spectrum
  double ueMeanParticles = 65;   // mean soft-hadron multiplicity (for the mean scatter count)
  double ueShapeK = 2.5;         // negative-binomial k of the soft multiplicity
  int ueMaxParticles = 200;      // cap (storage: one row of /truth/recoil_p4 per particle)
  double uePtMinGeV = 0.4;       // soft-hadron pT: ue_pt_min + exponential(ue_pt_mean)
  double uePtMeanGeV = 1.7;
  double ueMaxAbsEta = 5.0;
  void validate() const;
};

// One initial-state emission: transverse momentum and rapidity (lab frame).
struct Emission {
  double px = 0, py = 0, y = 0;
};

// The initial-state part of an event: emissions and primordial kT; the pair pT is minus their sum.
struct InitialState {
  std::vector<Emission> emissions;
  double primordialPx = 0, primordialPy = 0;
  double pairPx() const;
  double pairPy() const;
};

class RecoilModel {
 public:
  explicit RecoilModel(const RecoilConfig& config);
  // Emissions of a pair of mass m at rapidity y (empty and no kT when disabled).
  // The incoming partons set the emission density (colour factor and non-log term).
  enum class InitialPartons { QuarkAntiquark, GluonGluon };
  InitialState sampleInitialState(double pairMassGeV, double pairRapidity, Rng& rng,
                                  InitialPartons partons = InitialPartons::QuarkAntiquark) const;
  // Hadrons of the emissions plus the underlying event; balances the pair in the transverse plane.
  void makeRecoil(const InitialState& initial, double pairRapidity, Rng& rng,
                  std::vector<Particle>& out) const;
  // alpha_s at scale mu^2 (one-loop, 5 flavours, from alphaSMz).
  double alphaS(double mu2) const;
  const RecoilConfig& config() const { return config_; }

 private:
  void addCluster(double px, double py, double y, Rng& rng, std::vector<Particle>& out) const;
  void fragmentCluster(const FourVector& cluster, const int* ids, int nHadrons, Rng& rng,
                       std::vector<Particle>& out) const;
  int sampleHadronPdg(Rng& rng) const;
  RecoilConfig config_;
};

// Mass of a hadron species of the recoil model.
double recoilHadronMass(int pdgId);
using nurec::samplePoisson;  // core/Random.hpp
// Gamma(shape k, scale 1) deviate (Marsaglia-Tsang).
double sampleGamma(double shape, Rng& rng);

}  // namespace nurec::generator
