#pragma once
// The MMC point solver (docs/physics.md section 9): given the transverse momentum, azimuth and mass
// of the invisible system of one tau, the tau-mass constraint m(vis + nu) = m_tau fixes pz_nu up to
// a two-fold ambiguity.
#include <array>

#include "nurec/core/FourVector.hpp"

namespace nurec::reco {

// Transverse momenta of the two invisible systems from the MET and their azimuths (section 9):
//   pT1 = (MET_y cos phi2 - MET_x sin phi2)/sin(phi1 - phi2), pT2 likewise with 1 <-> 2.
// Returns false when sin(phi1 - phi2) vanishes or a pT is not positive.
bool invisiblePtFromMet(double metX, double metY, double phi1, double phi2, double& pt1,
                        double& pt2);

// Solutions pz of m(visible + invisible) = tauMass for an invisible system (pT, phi, mass).
// Writes up to two values to pz and returns how many were found (0 when the discriminant is
// negative or no root satisfies K + 2 pz_vis pz_nu > 0).
int solveInvisiblePz(const FourVector& visible, double visibleMass2, double pt, double phi,
                     double invisibleMass, double tauMass, std::array<double, 2>& pz);

// The invisible four-vector with the given (pT, phi, pz, mass).
inline FourVector invisibleFourVector(double pt, double cosPhi, double sinPhi, double pz,
                                      double mass) {
  const double px = pt * cosPhi, py = pt * sinPhi;
  return {px, py, pz, std::sqrt(pt * pt + pz * pz + mass * mass)};
}

}  // namespace nurec::reco
