#pragma once
// Recoil model of the embedded generator (documented in docs/physics-validation.md):
//  * the tau pair gets a transverse momentum from a parametrised pT(Z) spectrum
//      dN/dpT ∝ pT / (pT^2 + pT0^2)^power      (peak pT0/sqrt(2 power - 1), tail pT^(1 - 2 power)),
//    sampled exactly by inverting its CDF, 1 - (pT0^2/(pT^2 + pT0^2))^(power-1), up to ptMax;
//  * the recoil transverse momentum -pT is carried by one or two recoil "jets", each a massive
//    cluster decayed isotropically in its rest frame into a handful of hadrons (pi+-, pi0 kept as
//    pdg 111, K_L / neutrons); the jets' four-momenta are conserved exactly;
//  * a little soft underlying-event activity (a Poisson number of soft hadrons), shifted so that
//    it carries no net transverse momentum. The whole final state balances in the transverse plane.
// This is a model, not a QCD calculation: the parameters were set by eye so that the pT(Z) peak
// sits near 4 GeV with a median near 8 GeV and a power-law tail, as measured Z spectra at 13 TeV.
#include <vector>

#include "core/Event.hpp"
#include "core/Random.hpp"

namespace nurec::generator {

struct RecoilConfig {
  bool enabled = true;
  double pt0GeV = 7.0;              // pT(Z) spectrum scale
  double power = 1.9;               // pT(Z) spectrum exponent (> 1)
  double ptMaxGeV = 300.0;          // upper limit of the pT(Z) spectrum
  double twoJetProbability = 0.35;  // probability that the recoil is shared by two jets
  double jetRapiditySpread = 1.8;   // SD of the jet rapidity around the pair rapidity
  double jetMassFractionMin = 0.08, jetMassFractionMax = 0.20;  // jet mass / jet pT
  double hadronsPerLogEnergy = 1.5;  // mean extra multiplicity per ln(1 + E/5 GeV)
  int maxHadronsPerJet = 12;
  double ueMeanParticles = 6.0;  // underlying event: Poisson mean
  double uePtMeanGeV = 0.5;      // soft-particle pT: 0.1 GeV + exponential with this mean
  double ueMaxAbsEta = 4.0;
  void validate() const;
};

class RecoilModel {
 public:
  explicit RecoilModel(const RecoilConfig& config);
  // Transverse momentum of the pair (GeV).
  double samplePairPt(Rng& rng) const;
  // Recoil particles balancing a pair of transverse momentum (pairPx, pairPy) at rapidity yPair.
  void makeRecoil(double pairPx, double pairPy, double pairRapidity, Rng& rng,
                  std::vector<Particle>& out) const;
  const RecoilConfig& config() const { return config_; }

 private:
  void fragmentCluster(const FourVector& cluster, const int* ids, int nHadrons, Rng& rng,
                       std::vector<Particle>& out) const;
  int sampleHadronPdg(Rng& rng) const;
  RecoilConfig config_;
};

// Mass of a hadron species of the recoil model.
double recoilHadronMass(int pdgId);
int samplePoisson(double mean, Rng& rng);

}  // namespace nurec::generator
