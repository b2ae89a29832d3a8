#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Random.hpp"
#include "nurec/reco/Mode.hpp"

using namespace nurec;
using namespace nurec::reco;

TEST(Mode, WeightedModeOfGaussian) {
  Rng rng(5, 0, 0);
  std::vector<double> v, w;
  for (int i = 0; i < 200000; ++i) {
    v.push_back(rng.normal(91.0, 10.0));
    w.push_back(1.0);
  }
  double mode = 0;
  std::vector<double> scratch;
  ASSERT_TRUE(weightedMode(v.data(), w.data(), v.size(), 1.0, 2, mode, scratch));
  EXPECT_NEAR(mode, 91.0, 1.0);
  // Weights move the mode: weight e^{(x-91)/10 * 2} shifts a unit Gaussian's mean by 2 sigma.
  for (std::size_t i = 0; i < v.size(); ++i) w[i] = std::exp(2 * (v[i] - 91) / 10);
  ASSERT_TRUE(weightedMode(v.data(), w.data(), v.size(), 1.0, 2, mode, scratch));
  EXPECT_NEAR(mode, 111.0, 2.0);
  std::fill(w.begin(), w.end(), 0.0);
  EXPECT_FALSE(weightedMode(v.data(), w.data(), v.size(), 1.0, 2, mode, scratch));
}
