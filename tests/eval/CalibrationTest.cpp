// Rank histogram, coverage and CRPS (docs/ml-methods.md sections 7 and 10, test point 10).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/eval/Calibration.hpp"

using namespace nurec;
using namespace nurec::eval;

namespace {
constexpr std::size_t K = 10;
// n events; truth ~ N(0,1); candidates ~ N(shift, width^2) around the truth's distribution.
struct Ensemble {
  std::vector<double> truth, cand;
};
Ensemble ensemble(std::size_t n, double shift, double width, std::uint64_t seed) {
  Ensemble e;
  Rng rng(seed, 0, 55);
  for (std::size_t i = 0; i < n; ++i) {
    e.truth.push_back(rng.normal());
    for (std::size_t k = 0; k < K; ++k) e.cand.push_back(rng.normal(shift, width));
  }
  return e;
}
}  // namespace

TEST(Crps, GaussianClosedForm) {
  EXPECT_NEAR(crpsGaussian(0.3, 0.7, 1.1), 0.49327,
              5e-6);  // docs/ml-methods.md section 10, point 10
  // At the mean: s (2 phi(0) - 1/sqrt(pi)) = s (sqrt(2) - 1)/sqrt(pi).
  EXPECT_NEAR(crpsGaussian(0, 2, 0), 2 * (std::sqrt(2.0) - 1) / std::sqrt(M_PI), 1e-12);
  EXPECT_THROW(crpsGaussian(0, 0, 1), ConfigError);
}

TEST(Crps, EnsembleSmallExact) {
  EXPECT_DOUBLE_EQ(crpsEnsemble(std::vector<double>{0, 1}, 0.5), 0.0);
  EXPECT_DOUBLE_EQ(crpsEnsemble(std::vector<double>{2, 0}, 3), 1.0);
  // K = 3: (|1-0|+|2-0|+|4-0|)/3 - (2*(1+3+2))/(2*3*2) = 7/3 - 1.
  EXPECT_DOUBLE_EQ(crpsEnsemble(std::vector<double>{4, 1, 2}, 0), 7.0 / 3 - 1);
}

// The fair ensemble CRPS is unbiased for the CRPS of the distribution the candidates come from.
TEST(Crps, EnsembleConvergesToClosedForm) {
  Rng rng(1, 0, 56);
  std::vector<double> x(20000);
  for (auto& v : x) v = rng.normal(0.3, 0.7);
  EXPECT_NEAR(crpsEnsemble(x, 1.1), 0.49327, 0.01);
  // Averaged over many small ensembles (K = 10) too: unbiased, not just consistent.
  const Ensemble e = ensemble(20000, 0.0, 1.0, 2);
  std::vector<double> zeros(e.truth.size(), 0.0);
  CandidateSample s{e.cand, zeros, K};
  EXPECT_NEAR(meanCrps(s), crpsGaussian(0, 1, 0), 0.01);
}

// Spread: exact on small ensembles, sigma/sqrt(pi) for Gaussian candidates at any K (unbiased),
// and the CRPS is the mean distance to the truth minus it.
TEST(Crps, SpreadIsHalfTheMeanPairDistance) {
  EXPECT_DOUBLE_EQ(ensembleSpread(std::vector<double>{0, 1}), 0.5);
  // K = 3, pairs 3, 1, 2: (2 (3 + 1 + 2)) / (2 * 3 * 2) = 1.
  EXPECT_DOUBLE_EQ(ensembleSpread(std::vector<double>{4, 1, 2}), 1.0);
  EXPECT_DOUBLE_EQ(ensembleSpread(std::vector<double>{2, 2, 2}), 0.0);
  EXPECT_THROW(ensembleSpread(std::vector<double>{1}), ConfigError);
  const Ensemble e = ensemble(20000, 0.0, 1.0, 4);
  const CandidateSample s{e.cand, e.truth, K};
  EXPECT_NEAR(meanSpread(s), 1 / std::sqrt(M_PI), 0.005);
  // Twice as wide candidates: twice the spread, whatever the truth.
  const Ensemble wide = ensemble(20000, 0.0, 2.0, 5);
  EXPECT_NEAR(meanSpread({wide.cand, wide.truth, K}), 2 / std::sqrt(M_PI), 0.01);
  double meanDistance = 0;
  for (std::size_t i = 0; i < e.truth.size(); ++i)
    for (std::size_t k = 0; k < K; ++k) meanDistance += std::abs(e.cand[i * K + k] - e.truth[i]);
  meanDistance /= static_cast<double>(e.truth.size() * K);
  EXPECT_NEAR(meanCrps(s), meanDistance - meanSpread(s), 1e-9);
}

// Exchangeable truth: flat rank histogram, coverage (j - i)/(K + 1).
TEST(Calibration, CalibratedEnsemble) {
  const Ensemble e = ensemble(44000, 0.0, 1.0, 3);
  const CandidateSample s{e.cand, e.truth, K};
  const auto ranks = rankHistogram(s);
  ASSERT_EQ(ranks.size(), K + 1);
  const double expected = 44000.0 / 11;  // 4000, Poisson-like spread ~ 60
  for (std::size_t r = 0; r <= K; ++r)
    EXPECT_NEAR(ranks[r], expected, 5 * std::sqrt(expected)) << r;
  EXPECT_NEAR(coverage(s, 1, 10), 9.0 / 11, 0.01);
  EXPECT_NEAR(coverage(s, 2, 9), 7.0 / 11, 0.01);
}

// Too narrow candidates: U-shaped histogram and under-coverage; biased high: truth at low ranks.
TEST(Calibration, DetectsNarrowAndBiasedCandidates) {
  {
    const Ensemble e = ensemble(11000, 0.0, 0.5, 4);
    const CandidateSample s{e.cand, e.truth, K};
    const auto ranks = rankHistogram(s);
    EXPECT_GT(ranks[0], 2 * ranks[K / 2]);
    EXPECT_GT(ranks[K], 2 * ranks[K / 2]);
    EXPECT_LT(coverage(s, 1, 10), 0.7);
  }
  {
    const Ensemble e = ensemble(11000, 1.0, 1.0, 5);
    const CandidateSample s{e.cand, e.truth, K};
    const auto ranks = rankHistogram(s);
    EXPECT_GT(ranks[0], 3 * ranks[K]);
  }
}

TEST(Calibration, Validation) {
  std::vector<double> cand(10), truth(3);
  EXPECT_THROW(rankHistogram({cand, truth, K}), ConfigError);
  std::vector<double> cand2(30);
  EXPECT_THROW(coverage({cand2, truth, K}, 5, 5), ConfigError);
}
