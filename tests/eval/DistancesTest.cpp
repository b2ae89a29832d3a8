// 1-D distribution distances against closed forms (docs/metrics.md).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/eval/Distances.hpp"

using namespace nurec;
using namespace nurec::eval;

namespace {
std::vector<double> gaussian(std::size_t n, double mean, double sigma, std::uint64_t seed) {
  Rng rng(seed, 0, 77);
  std::vector<double> v(n);
  for (auto& x : v) x = rng.normal(mean, sigma);
  return v;
}
// Energy distance sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|) for N(0,1) vs N(mu,1).
double energyGaussians(double mu) {
  const double exy = 2 / std::sqrt(constants::pi) * std::exp(-mu * mu / 4) +
                     mu * (2 * normalCdf(mu / std::sqrt(2.0)) - 1);
  return std::sqrt(2 * exy - 4 / std::sqrt(constants::pi));
}
}  // namespace

TEST(Distances, SmallExactCase) {
  const std::vector<double> a = {0, 1}, b = {0.5, 1.5};
  const CdfDistances d = cdfDistances(a, b);
  EXPECT_DOUBLE_EQ(d.wasserstein1, 0.5);
  EXPECT_DOUBLE_EQ(d.ks, 0.5);
  EXPECT_DOUBLE_EQ(d.energy, std::sqrt(0.5));
  // Unequal sizes and ties: a = {0, 0, 1}, b = {1}: F - G = 2/3 on [0, 1).
  const CdfDistances t = cdfDistances(std::vector<double>{0, 0, 1}, std::vector<double>{1});
  EXPECT_DOUBLE_EQ(t.wasserstein1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(t.ks, 2.0 / 3);
}

TEST(Distances, IdenticalSamplesGiveZero) {
  const auto a = gaussian(5000, 1, 2, 1);
  std::vector<double> b(a.rbegin(), a.rend());  // same values, other order
  const DistributionDistances d = distributionDistances(a, b);
  EXPECT_EQ(d.wasserstein1, 0);
  EXPECT_EQ(d.energy, 0);
  EXPECT_EQ(d.ks, 0);
  EXPECT_EQ(d.kl64, 0);
  EXPECT_EQ(d.kl128, 0);
  EXPECT_EQ(d.kl256, 0);
}

// N(0,1) vs N(mu,1): W1 = |mu|, KS = 2 Phi(|mu|/2) - 1, energy distance closed form above.
// Sample noise at n = 2e5 per side: W1 ~ 0.003, KS ~ 0.003, energy ~ 0.5 %.
TEST(Distances, TwoGaussians) {
  const auto a = gaussian(200000, 0, 1, 2);
  for (double mu : {0.3, 1.0, -2.0}) {
    const auto b = gaussian(200000, mu, 1, 3);
    const CdfDistances d = cdfDistances(a, b);
    EXPECT_NEAR(d.wasserstein1, std::abs(mu), 0.015) << mu;
    EXPECT_NEAR(d.ks, 2 * normalCdf(std::abs(mu) / 2) - 1, 0.01) << mu;
    EXPECT_NEAR(d.energy / energyGaussians(std::abs(mu)), 1.0, 0.03) << mu;
    // Symmetric in its arguments.
    EXPECT_DOUBLE_EQ(cdfDistances(b, a).wasserstein1, d.wasserstein1);
  }
}

// W1 between N(0,1) and N(0, s^2) is |1 - s| sqrt(2/pi) (quantile coupling).
TEST(Distances, WassersteinOfScaleChange) {
  const auto a = gaussian(200000, 0, 1, 4), b = gaussian(200000, 0, 1.5, 5);
  EXPECT_NEAR(cdfDistances(a, b).wasserstein1, 0.5 * std::sqrt(2 / constants::pi), 0.01);
}

// KL(N(0,1) || N(0.5, 1.2^2)) = ln(1.2) + (1 + 0.25)/(2 * 1.44) - 1/2 = 0.116349; binned
// estimates converge to it as the bins shrink (binning bias < 1 % here, sample bias ~ B/2N).
TEST(Distances, KlOfTwoGaussians) {
  const auto p = gaussian(400000, 0, 1, 6), q = gaussian(400000, 0.5, 1.2, 7);
  const double exact = std::log(1.2) + 1.25 / (2 * 1.44) - 0.5;
  for (int bins : {64, 128, 256}) {
    EXPECT_NEAR(klDivergenceBinned(p, q, bins), exact, 0.006) << bins;
  }
  // KL is not symmetric: KL(Q || P) = ln(1/1.2) + (1.44 + 0.25)/2 - 1/2 = 0.162679.
  EXPECT_NEAR(klDivergenceBinned(q, p, 128), -std::log(1.2) + 1.69 / 2 - 0.5, 0.008);
}

// A reconstructed sample that misses a region the truth populates stays finite (half-event rule).
TEST(Distances, KlEmptyBinsStayFinite) {
  std::vector<double> truth, reco;
  for (int i = 0; i < 1000; ++i)
    truth.push_back(i % 2 == 0 ? 0.1 * (i % 10) : 5.0 + 0.1 * (i % 10));
  for (int i = 0; i < 1000; ++i) reco.push_back(0.1 * (i % 10));
  const double kl = klDivergenceBinned(truth, reco, 64);
  EXPECT_TRUE(std::isfinite(kl));
  EXPECT_GT(kl, 1.0);  // half the truth sits where reco has (almost) nothing
  EXPECT_THROW(klDivergenceBinned(truth, reco, 1), ConfigError);
}

TEST(Distances, SumsComponents) {
  DistributionDistances a{1, 2, 3, 4, 5, 6}, b{0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
  a += b;
  EXPECT_DOUBLE_EQ(a.wasserstein1, 1.5);
  EXPECT_DOUBLE_EQ(a.kl256, 6.5);
}

TEST(Distances, EmptySampleGivesNaN) {
  const std::vector<double> empty, one = {1.0};
  EXPECT_TRUE(std::isnan(cdfDistances(empty, one).wasserstein1));
  EXPECT_TRUE(std::isnan(klDivergenceBinned(one, empty, 64)));
}

// The floor estimated from one sample (split in halves, scaled to N vs N) against the mean
// distance of two independent N-samples of the same distribution, averaged over repetitions:
// the scaling laws of docs/metrics.md "Sampling-noise floor". Tolerances: the repetition
// averages' own spread is about 4 % (W1, energy, KS) and 6 % (KL) of the mean.
TEST(Distances, SamplingNoiseFloorMatchesIndependentSamples) {
  constexpr int kRepetitions = 60;
  constexpr std::size_t kN = 3000;
  DistributionDistances floorMean, independentMean;
  for (int r = 0; r < kRepetitions; ++r) {
    const auto truth = gaussian(kN, 0, 1, 1000 + r);
    const auto other = gaussian(kN, 0, 1, 5000 + r);
    floorMean += samplingNoiseFloor(truth);
    independentMean += distributionDistances(truth, other);
  }
  EXPECT_NEAR(floorMean.wasserstein1 / independentMean.wasserstein1, 1.0, 0.10);
  EXPECT_NEAR(floorMean.energy / independentMean.energy, 1.0, 0.10);
  EXPECT_NEAR(floorMean.ks / independentMean.ks, 1.0, 0.10);
  EXPECT_NEAR(floorMean.kl64 / independentMean.kl64, 1.0, 0.15);
  // A real difference stands far above the floor: N(0,1) vs N(0.2,1), W1 = 0.2.
  EXPECT_LT(samplingNoiseFloor(gaussian(kN, 0, 1, 9)).wasserstein1, 0.2 / 5);
  EXPECT_TRUE(std::isnan(samplingNoiseFloor(std::vector<double>{1.0, 2.0}).wasserstein1));
}
