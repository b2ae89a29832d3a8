#pragma once
#include <array>
#include <cmath>

#include "nurec/core/Vector3.hpp"

namespace nurec {

// The one four-vector type of nurec: (px, py, pz, E) in GeV, metric (+,-,-,-), lab frame unless a
// name says otherwise. Boosts are pure (no rotation); docs/physics.md section 2 gives frame paths.
struct FourVector {
  double px = 0, py = 0, pz = 0, e = 0;

  constexpr FourVector() = default;
  constexpr FourVector(double px_, double py_, double pz_, double e_)
      : px(px_), py(py_), pz(pz_), e(e_) {}
  static FourVector fromMomentumMass(const Vector3& p, double mass) {
    return {p.x, p.y, p.z, std::sqrt(p.mag2() + mass * mass)};
  }
  static FourVector fromPtEtaPhiM(double pt, double eta, double phi, double mass) {
    const Vector3 p{pt * std::cos(phi), pt * std::sin(phi), pt * std::sinh(eta)};
    return fromMomentumMass(p, mass);
  }
  static FourVector fromArray(const double* a) { return {a[0], a[1], a[2], a[3]}; }
  std::array<double, 4> toArray() const { return {px, py, pz, e}; }

  constexpr Vector3 vec() const { return {px, py, pz}; }
  constexpr FourVector operator+(const FourVector& o) const {
    return {px + o.px, py + o.py, pz + o.pz, e + o.e};
  }
  constexpr FourVector operator-(const FourVector& o) const {
    return {px - o.px, py - o.py, pz - o.pz, e - o.e};
  }
  constexpr FourVector operator*(double a) const { return {a * px, a * py, a * pz, a * e}; }
  FourVector& operator+=(const FourVector& o) {
    px += o.px;
    py += o.py;
    pz += o.pz;
    e += o.e;
    return *this;
  }
  constexpr bool operator==(const FourVector&) const = default;

  // Minkowski product a.b = Ea Eb - pa.pb.
  constexpr double dot(const FourVector& o) const {
    return e * o.e - px * o.px - py * o.py - pz * o.pz;
  }
  constexpr double m2() const { return dot(*this); }
  // Mass; a spacelike vector (m2 < 0, from rounding) returns -sqrt(-m2), as ROOT does.
  double m() const {
    const double s = m2();
    return s >= 0 ? std::sqrt(s) : -std::sqrt(-s);
  }
  double p() const { return vec().mag(); }
  double pt() const { return std::hypot(px, py); }
  double phi() const { return (px == 0 && py == 0) ? 0.0 : std::atan2(py, px); }
  // Pseudorapidity; +-1e10 along the beam.
  double eta() const {
    const double pT = pt();
    if (pT == 0) return pz >= 0 ? 1e10 : -1e10;
    return std::asinh(pz / pT);
  }
  double rapidity() const { return 0.5 * std::log((e + pz) / (e - pz)); }
  double et() const {
    const double pT = pt();
    const double pp = p();
    return pp > 0 ? e * pT / pp : 0.0;
  }
  // Velocity of this system, beta = p/E.
  Vector3 boostVector() const { return vec() / e; }

  // Pure Lorentz boost by velocity beta (|beta| < 1): a particle at rest acquires velocity beta.
  FourVector boosted(const Vector3& beta) const {
    const double b2 = beta.mag2();
    if (b2 == 0) return *this;
    const double gamma = 1.0 / std::sqrt(1.0 - b2);
    const double bp = beta.dot(vec());
    const double gamma2 = (gamma - 1.0) / b2;
    const Vector3 p = vec() + beta * (gamma2 * bp + gamma * e);
    return {p.x, p.y, p.z, gamma * (e + bp)};
  }
  // This vector seen in the rest frame of `frame` (pure boost by -beta_frame).
  FourVector inRestFrameOf(const FourVector& frame) const { return boosted(-frame.boostVector()); }
  // Inverse of inRestFrameOf: a vector given in the rest frame of `frame`, taken back to the frame
  // in which `frame` was measured.
  FourVector fromRestFrameOf(const FourVector& frame) const { return boosted(frame.boostVector()); }
};

inline constexpr FourVector operator*(double a, const FourVector& v) {
  return v * a;
}

// Azimuthal difference wrapped to (-pi, pi].
double deltaPhi(double phi1, double phi2);
// sqrt(d_eta^2 + d_phi^2).
double deltaR(const FourVector& a, const FourVector& b);
// Angle to (-pi, pi].
double wrapPhi(double phi);

}  // namespace nurec
