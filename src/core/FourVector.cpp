#include "nurec/core/FourVector.hpp"

#include "nurec/core/Units.hpp"

namespace nurec {

double wrapPhi(double phi) {
  constexpr double twoPi = 2 * constants::pi;
  phi = std::fmod(phi, twoPi);
  if (phi <= -constants::pi) phi += twoPi;
  if (phi > constants::pi) phi -= twoPi;
  return phi;
}

double deltaPhi(double phi1, double phi2) {
  return wrapPhi(phi1 - phi2);
}

double deltaR(const FourVector& a, const FourVector& b) {
  return std::hypot(a.eta() - b.eta(), deltaPhi(a.phi(), b.phi()));
}

}  // namespace nurec
