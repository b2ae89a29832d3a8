#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Random.hpp"

using namespace nurec;

TEST(Random, StreamsAreReproducibleAndDistinct) {
  Rng a(42, 17), b(42, 17), c(42, 18), d(43, 17), e(42, 17, streams::detector);
  bool allSame = true;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.nextU64();
    EXPECT_EQ(x, b.nextU64());
    const auto yc = c.nextU64(), yd = d.nextU64(), ye = e.nextU64();
    allSame = allSame && (x == yc || x == yd || x == ye);
  }
  EXPECT_FALSE(allSame);
}

TEST(Random, UniformAndNormalMoments) {
  Rng rng(1, 2);
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    su2 += u * u;
    const double g = rng.normal();
    sn += g;
    sn2 += g * g;
  }
  // Uniform: mean 1/2 (SD of mean 0.29/sqrt(n) = 6.5e-4), variance 1/12; normal: 0 and 1.
  EXPECT_NEAR(su / n, 0.5, 5 * 6.5e-4);
  EXPECT_NEAR(su2 / n - std::pow(su / n, 2), 1.0 / 12, 2e-3);
  EXPECT_NEAR(sn / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(sn2 / n, 1.0, 5 * std::sqrt(2.0 / n));
}
