#include "nurec/core/Statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace nurec;

// The weighted quantile is the inverse of the weighted empirical CDF: with equal weights the order
// statistic ceil(q n), zero weights never chosen, invalid weights NaN.
TEST(Statistics, WeightedQuantile) {
  const std::vector<double> v = {5, 1, 4, 2, 3};
  const std::vector<double> equal(5, 1.0);
  EXPECT_DOUBLE_EQ(weightedQuantile(v, equal, 0.5), 3);
  EXPECT_DOUBLE_EQ(weightedQuantile(v, equal, 0.2), 1);  // cumulative 1/5 reaches 0.2
  EXPECT_DOUBLE_EQ(weightedQuantile(v, equal, 0.21), 2);
  EXPECT_DOUBLE_EQ(weightedQuantile(v, equal, 0.0), 1);
  EXPECT_DOUBLE_EQ(weightedQuantile(v, equal, 1.0), 5);
  // All the weight on one value; the largest value has none, so q = 1 never returns it.
  const std::vector<double> one = {0, 0, 1, 0, 0};
  EXPECT_DOUBLE_EQ(weightedQuantile(v, one, 0.01), 4);
  EXPECT_DOUBLE_EQ(weightedQuantile(v, one, 1.0), 4);
  // Weight 3 on 1 and 1 on 5: the median is 1, the 80 % point 5.
  const std::vector<double> skew = {1, 3, 0, 0, 0};
  EXPECT_DOUBLE_EQ(weightedQuantile(v, skew, 0.5), 1);
  EXPECT_DOUBLE_EQ(weightedQuantile(v, skew, 0.8), 5);
  EXPECT_TRUE(std::isnan(weightedQuantile(v, std::vector<double>(5, 0.0), 0.5)));
  EXPECT_TRUE(std::isnan(weightedQuantile(v, std::vector<double>{1, 1, -1, 1, 1}, 0.5)));
  EXPECT_TRUE(std::isnan(weightedQuantile(v, std::vector<double>{1, 1, NAN, 1, 1}, 0.5)));
  EXPECT_TRUE(std::isnan(weightedQuantile(v, std::vector<double>{1, 1}, 0.5)));
  EXPECT_TRUE(std::isnan(weightedQuantile(std::vector<double>{}, std::vector<double>{}, 0.5)));
}
