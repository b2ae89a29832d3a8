#pragma once
#include "nurec/core/FourVector.hpp"

namespace nurec {

// The helicity basis {k, r, n} of a tau pair (docs/physics.md section 2), defined in the pair rest
// frame and used unchanged in both tau rest frames:
//   k = unit(tau- momentum in the pair frame)
//   p = unit(+z beam direction boosted into the pair frame),  c = cos(theta) = k.p
//   r = (p - c k)/sin(theta),  n = k x r    (right-handed)
// Frames are always reached lab -> pair (one pure boost along the pair momentum) -> tau (pure boost
// along +k for tau-, -k for tau+); a direct lab -> tau boost differs by a Wigner rotation.
class HelicityBasis {
 public:
  // tauPlus, tauMinus: the two tau four-momenta in the lab.
  HelicityBasis(const FourVector& tauPlusLab, const FourVector& tauMinusLab);

  const Vector3& k() const { return k_; }
  const Vector3& r() const { return r_; }
  const Vector3& n() const { return n_; }
  double cosTheta() const { return cosTheta_; }
  const FourVector& pairLab() const { return pair_; }
  const FourVector& tauMinusInPair() const { return tauMinusPair_; }
  const FourVector& tauPlusInPair() const { return tauPlusPair_; }

  // A lab four-vector in the pair rest frame.
  FourVector toPairFrame(const FourVector& lab) const { return lab.inRestFrameOf(pair_); }
  // A lab four-vector in the rest frame of the tau+ (tauIndex 0) or tau- (1), by lab -> pair ->
  // tau.
  FourVector toTauRestFrame(const FourVector& lab, int tauIndex) const;
  // A four-vector given in the rest frame of tau (index 0 = tau+, 1 = tau-) back to the lab.
  FourVector fromTauRestFrame(const FourVector& tauRest, int tauIndex) const;
  // Components (along k, r, n) of a 3-vector.
  Vector3 components(const Vector3& v) const { return {v.dot(k_), v.dot(r_), v.dot(n_)}; }
  // The vector with components (a_k, a_r, a_n).
  Vector3 fromComponents(const Vector3& a) const { return k_ * a.x + r_ * a.y + n_ * a.z; }

 private:
  FourVector pair_, tauPlusPair_, tauMinusPair_;
  Vector3 k_, r_, n_;
  double cosTheta_ = 0;
};

}  // namespace nurec
