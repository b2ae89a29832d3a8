#pragma once
#include "nurec/core/FourVector.hpp"

namespace nurec {

// The rho polarimeter vector of tau -> pi+- pi0 nu (docs/physics.md section 6), tau- convention,
// from four-vectors already in the tau rest frame:
//   h = m [2(q.N) q - q^2 N] / [2(q.N)(q.P) - q^2 (N.P)],  q = p(pi+-) - p(pi0), N = p(nu),
//   P = (m, 0), m = the mass of pi+- + pi0 + nu
// (= m_tau for true kinematics, where |h| = 1 exactly; the reconstructed tau mass at reco level).
// Used by the generator (spin-correlated decays) and the spin analysis. Returns the zero vector for
// degenerate input (zero mass or denominator).
Vector3 rhoPolarimeter(const FourVector& chargedPionRest, const FourVector& neutralPionRest,
                       const FourVector& neutrinoRest);

}  // namespace nurec
