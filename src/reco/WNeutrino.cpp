#include "nurec/reco/WNeutrino.hpp"

#include <cmath>

namespace nurec::reco {

WNeutrinoSolution solveWNeutrinoPz(const FourVector& lepton, double metX, double metY,
                                   double wMass) {
  WNeutrinoSolution out;
  const double ptl2 = lepton.px * lepton.px + lepton.py * lepton.py;
  if (!(ptl2 > 0) || !std::isfinite(ptl2) || !std::isfinite(lepton.pz) || !std::isfinite(metX) ||
      !std::isfinite(metY) || !(wMass > 0))
    return out;
  const double el = lepton.p();  // massless lepton
  const double ptl = std::sqrt(ptl2), met2 = metX * metX + metY * metY;
  const double dot = lepton.px * metX + lepton.py * metY;
  out.transverseMass = std::sqrt(std::max(0.0, 2 * (ptl * std::sqrt(met2) - dot)));
  const double mu = 0.5 * wMass * wMass + dot;
  const double disc = mu * mu - ptl2 * met2;
  if (disc < 0) {
    out.status = WNeutrinoSolution::Status::realPart;
    out.chosenPz = out.otherPz = mu * lepton.pz / ptl2;
    return out;
  }
  const double a = (mu * lepton.pz + el * std::sqrt(disc)) / ptl2;
  const double b = (mu * lepton.pz - el * std::sqrt(disc)) / ptl2;
  out.status = WNeutrinoSolution::Status::twoRoots;
  out.chosenPz = std::abs(a) <= std::abs(b) ? a : b;
  out.otherPz = std::abs(a) <= std::abs(b) ? b : a;
  return out;
}

}  // namespace nurec::reco
