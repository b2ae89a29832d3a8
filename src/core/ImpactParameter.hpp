#pragma once
// Track impact parameters (docs/physics.md section 13, docs/detector.md). A track from a tau decay
// is a straight line from the decay vertex along the charged particle's momentum: over the few mm
// of a tau flight the helix sagitta in a 2 T field is below a nanometre for pT > 1 GeV, so the
// straight line is exact for our purpose. Perigee convention as in ATLAS: the point of closest
// approach in the transverse plane is (x0, y0) = d0 (-sin phi, cos phi) relative to the vertex,
// with phi the track azimuth; z0 is the track's z there, relative to the vertex.
#include "nurec/core/Vector3.hpp"

namespace nurec {

struct Perigee {
  double d0Mm = 0;
  double z0Mm = 0;
};

// Impact parameters of the line through `originMm` along `direction` (any length > 0, not along
// the beam) relative to `vertexMm`.
Perigee trackPerigee(const Vector3& originMm, const Vector3& direction, const Vector3& vertexMm);

// The 3-D impact-parameter vector of a track with perigee (d0, z0) and direction: the point of
// the line closest to the vertex, minus the vertex [mm]. Perpendicular to the direction.
Vector3 impactParameterVector(const Perigee& perigee, const Vector3& direction);

// Resolution a (+) b / (pT sqrt(sin theta)) [mm] for a [mm], b [mm GeV], pT [GeV].
double impactParameterResolution(double aMm, double bMmGeV, double ptGeV, double sinTheta);

}  // namespace nurec
