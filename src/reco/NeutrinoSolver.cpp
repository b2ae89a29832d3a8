#include "nurec/reco/NeutrinoSolver.hpp"

#include <cmath>

namespace nurec::reco {

bool invisiblePtFromMet(double metX, double metY, double phi1, double phi2, double& pt1,
                        double& pt2) {
  const double s12 = std::sin(phi1 - phi2);
  if (std::abs(s12) < 1e-12) return false;
  pt1 = (metY * std::cos(phi2) - metX * std::sin(phi2)) / s12;
  pt2 = -(metY * std::cos(phi1) - metX * std::sin(phi1)) / s12;  // sin(phi2 - phi1) = -s12
  return pt1 > 0 && pt2 > 0;
}

int solveInvisiblePz(const FourVector& vis, double visMass2, double pt, double phi, double invMass,
                     double tauMass, std::array<double, 2>& pz) {
  // docs/physics.md section 9:
  //   K = m_tau^2 - m_nu^2 - m_vis^2 + 2 pT (px cos phi + py sin phi),   ET2 = E^2 - pz^2
  //   disc = K^2 - 4 ET2 (pT^2 + m_nu^2),   pz_nu = [pz K +- E sqrt(disc)]/(2 ET2)
  const double k = tauMass * tauMass - invMass * invMass - visMass2 +
                   2 * pt * (vis.px * std::cos(phi) + vis.py * std::sin(phi));
  const double et2 = vis.e * vis.e - vis.pz * vis.pz;
  if (et2 <= 0) return 0;
  const double disc = k * k - 4 * et2 * (pt * pt + invMass * invMass);
  if (disc < 0) return 0;
  const double root = vis.e * std::sqrt(disc);
  int n = 0;
  for (const double sign : {+1.0, -1.0}) {
    const double z = (vis.pz * k + sign * root) / (2 * et2);
    // Squaring introduced spurious roots: keep those with E_vis E_nu = (K + 2 pz pz_nu)/2 > 0.
    if (k + 2 * vis.pz * z > 0) pz[n++] = z;
    if (disc == 0) break;
  }
  return n;
}

}  // namespace nurec::reco
