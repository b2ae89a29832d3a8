// Impact-parameter geometry (docs/physics.md section 13, test point 32).
#include "nurec/core/ImpactParameter.hpp"

#include <gtest/gtest.h>

namespace nurec {
namespace {

TEST(ImpactParameter, PerigeeOfConstructedLines) {
  // A track along +y through (0.1, 0, 0): the closest point is (0.1, 0), phi = 90 degrees, so
  // (x0, y0) = d0 (-sin phi, cos phi) gives d0 = -0.1.
  Perigee p = trackPerigee({0.1, 0, 0}, {0, 2, 0}, {0, 0, 0});
  EXPECT_NEAR(p.d0Mm, -0.1, 1e-15);
  EXPECT_NEAR(p.z0Mm, 0.0, 1e-15);
  // Along (1, 0, 1) through (0, 0.05, 1): phi = 0, d0 = +0.05, z0 = 1; relative to a vertex at
  // z = 0.25 the line's point at x = 0 has z = 1, so z0 = 0.75.
  p = trackPerigee({0.3, 0.05, 1.3}, {1, 0, 1}, {0, 0, 0.25});
  EXPECT_NEAR(p.d0Mm, 0.05, 1e-15);
  EXPECT_NEAR(p.z0Mm, 0.75, 1e-12);
  // The 3-D vector is perpendicular to the track and no longer than the transverse offset
  // combined with z0; brute force: the closest point of the line to the vertex.
  const Vector3 origin{0.02, -0.03, 0.4}, dir{0.3, 0.5, -0.2}, vertex{0.001, 0.002, 0.1};
  const Vector3 ip = impactParameterVector(trackPerigee(origin, dir, vertex), dir);
  const Vector3 u = dir.unit();
  const Vector3 closest = origin + u * (vertex - origin).dot(u) - vertex;
  EXPECT_NEAR(ip.dot(u), 0, 1e-15);
  EXPECT_NEAR((ip - closest).mag(), 0, 1e-12);
}

TEST(ImpactParameter, ResolutionForm) {
  EXPECT_NEAR(impactParameterResolution(0.010, 0.075, 1e6, 1.0), 0.010, 1e-9);
  EXPECT_NEAR(impactParameterResolution(0.0, 0.075, 5.0, 0.25), 0.075 / 5.0 / 0.5, 1e-15);
}

}  // namespace
}  // namespace nurec
