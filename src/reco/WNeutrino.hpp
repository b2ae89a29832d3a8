#pragma once
// Neutrino pz from the W-mass constraint in a leptonic W decay (docs/physics.md section 11):
// massless lepton, the MET taken as the neutrino transverse momentum,
//   mu = m_W^2/2 + pT_l . pT_nu,  disc = mu^2 - pT_l^2 pT_nu^2,
//   pz_nu = [mu pz_l +- E_l sqrt(disc)]/pT_l^2,
// and, when disc < 0 (m_T(l, nu) > m_W), the real part mu pz_l/pT_l^2.
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::reco {

struct WNeutrinoSolution {
  enum class Status {
    twoRoots,  // disc >= 0: both roots, `chosen` is the one with the smaller |pz|
    realPart,  // disc < 0: no real root, the real part of the complex pair is used
    invalid,   // lepton pT = 0 or a non-finite input: no solution
  };
  Status status = Status::invalid;
  double chosenPz = 0;        // GeV
  double otherPz = 0;         // the second root (equal to chosenPz for realPart)
  double transverseMass = 0;  // m_T(l, MET) [GeV]
};

// lepton: the charged lepton four-vector (its energy is taken as |p|, i.e. massless).
WNeutrinoSolution solveWNeutrinoPz(const FourVector& lepton, double metX, double metY,
                                   double wMass = constants::mW);

}  // namespace nurec::reco
