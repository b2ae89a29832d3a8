#include "nurec/core/HelicityBasis.hpp"

#include <cmath>

#include "nurec/core/Error.hpp"

namespace nurec {

HelicityBasis::HelicityBasis(const FourVector& tauPlusLab, const FourVector& tauMinusLab)
    : pair_(tauPlusLab + tauMinusLab) {
  tauPlusPair_ = tauPlusLab.inRestFrameOf(pair_);
  tauMinusPair_ = tauMinusLab.inRestFrameOf(pair_);
  k_ = tauMinusPair_.vec().unit();
  const FourVector beamA{0, 0, 1, 1};
  const Vector3 p = beamA.inRestFrameOf(pair_).vec().unit();
  cosTheta_ = k_.dot(p);
  const Vector3 rRaw = p - k_ * cosTheta_;
  const double sinTheta = rRaw.mag();
  if (!(sinTheta > 1e-12)) {
    // Exactly collinear with the beam: r is undefined; pick any axis orthogonal to k.
    const Vector3 trial = std::abs(k_.x) < 0.9 ? Vector3{1, 0, 0} : Vector3{0, 1, 0};
    r_ = (trial - k_ * trial.dot(k_)).unit();
  } else {
    r_ = rRaw / sinTheta;
  }
  n_ = k_.cross(r_);
}

FourVector HelicityBasis::toTauRestFrame(const FourVector& lab, int tauIndex) const {
  const FourVector& tau = tauIndex == 0 ? tauPlusPair_ : tauMinusPair_;
  return toPairFrame(lab).inRestFrameOf(tau);
}

FourVector HelicityBasis::fromTauRestFrame(const FourVector& tauRest, int tauIndex) const {
  const FourVector& tau = tauIndex == 0 ? tauPlusPair_ : tauMinusPair_;
  return tauRest.fromRestFrameOf(tau).fromRestFrameOf(pair_);
}

}  // namespace nurec
