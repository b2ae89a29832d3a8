#include "nurec/core/Polarimeter.hpp"

#include <cmath>

namespace nurec {

Vector3 rhoPolarimeter(const FourVector& chargedPionRest, const FourVector& neutralPionRest,
                       const FourVector& neutrinoRest) {
  const double tauMass = (chargedPionRest + neutralPionRest + neutrinoRest).m();
  if (!(tauMass > 0)) return {};
  const FourVector q = chargedPionRest - neutralPionRest;
  const FourVector& nu = neutrinoRest;
  const FourVector tauAtRest{0, 0, 0, tauMass};
  const double qN = q.dot(nu), q2 = q.m2();
  const double denominator = 2 * qN * q.dot(tauAtRest) - q2 * nu.dot(tauAtRest);
  if (!(std::abs(denominator) > 0)) return {};
  return (q.vec() * (2 * qN) - nu.vec() * q2) * (tauMass / denominator);
}

}  // namespace nurec
