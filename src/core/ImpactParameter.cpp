#include "nurec/core/ImpactParameter.hpp"

#include <cmath>

namespace nurec {

Perigee trackPerigee(const Vector3& originMm, const Vector3& direction, const Vector3& vertexMm) {
  const Vector3 delta = originMm - vertexMm;
  const double ut = direction.perp();
  const double cosPhi = direction.x / ut, sinPhi = direction.y / ut;
  // Transverse path from the origin to the point of closest approach, then z there.
  const double s = -(delta.x * cosPhi + delta.y * sinPhi);
  return {delta.y * cosPhi - delta.x * sinPhi, delta.z + s * direction.z / ut};
}

Vector3 impactParameterVector(const Perigee& perigee, const Vector3& direction) {
  const double ut = direction.perp();
  const double cosPhi = direction.x / ut, sinPhi = direction.y / ut;
  const Vector3 onTrack{-perigee.d0Mm * sinPhi, perigee.d0Mm * cosPhi, perigee.z0Mm};
  const Vector3 u = direction.unit();
  return onTrack - u * onTrack.dot(u);
}

double impactParameterResolution(double aMm, double bMmGeV, double ptGeV, double sinTheta) {
  const double msTerm = bMmGeV / (ptGeV * std::sqrt(std::max(sinTheta, 1e-6)));
  return std::hypot(aMm, msTerm);
}

}  // namespace nurec
