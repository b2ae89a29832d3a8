// Calibrated per-event mass intervals (eval/MassIntervals.hpp, docs/ml.md "Calibrated mass
// intervals").
#include "nurec/eval/MassIntervals.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"

namespace nurec::eval {
namespace {

// Events whose true mass scatters about the median with width trueWidth x m, and whose claimed
// intervals are Gaussian 16-84 % quantiles of width claimedWidth x m (claimed too narrow below
// 100 GeV by a factor 2, too wide above by 1.5); medians uniform in 50-250 GeV.
struct Sample {
  std::vector<std::array<double, 3>> quantiles;
  std::vector<double> trueMass;
};
Sample makeSample(std::size_t n, std::uint64_t seed) {
  Sample s;
  Rng rng(seed, 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double median = rng.uniform(50, 250);
    const double trueWidth = 0.1 * median;
    const double claimed = median < 100 ? trueWidth / 2 : trueWidth * 1.5;
    s.quantiles.push_back({median - claimed, median, median + claimed});
    s.trueMass.push_back(median + trueWidth * rng.normal());
  }
  return s;
}

double coverage(const Sample& s, const MassIntervalCalibration& c, double lo, double hi) {
  std::size_t n = 0, inside = 0;
  for (std::size_t i = 0; i < s.trueMass.size(); ++i) {
    if (s.quantiles[i][1] < lo || s.quantiles[i][1] >= hi) continue;
    const auto iv = c.interval(s.quantiles[i]);
    ++n;
    inside += iv[0] <= s.trueMass[i] && s.trueMass[i] <= iv[1];
  }
  return static_cast<double>(inside) / static_cast<double>(n);
}

TEST(MassIntervals, FitOnOneSampleCoversSixtyEightPercentOfAnother) {
  MassIntervalFitConfig config;
  config.medianMassEdgesGeV = {50, 75, 100, 150, 200, 250};
  const Sample calibration = makeSample(40000, 1), test = makeSample(40000, 2);
  const MassIntervalCalibration c =
      fitMassIntervals(calibration.quantiles, calibration.trueMass, config, "toy");
  ASSERT_EQ(c.scale.size(), 5u);
  // Gaussian truth: the needed factor is the ratio of the true to the claimed width.
  EXPECT_NEAR(c.scale[0], 2.0, 0.08);
  EXPECT_NEAR(c.scale[1], 2.0, 0.08);
  for (std::size_t b = 2; b < 5; ++b) EXPECT_NEAR(c.scale[b], 1 / 1.5, 0.03);
  EXPECT_NEAR(c.rawCoverage[0], 0.383, 0.02);  // +-0.5 sigma
  EXPECT_NEAR(c.rawCoverage[3], 0.866, 0.02);  // +-1.5 sigma
  // Applied to an independent sample: 0.68 in every bin (binomial error ~0.005-0.007).
  for (std::size_t b = 0; b < 5; ++b)
    EXPECT_NEAR(coverage(test, c, config.medianMassEdgesGeV[b], config.medianMassEdgesGeV[b + 1]),
                0.68, 0.025)
        << "bin " << b;
}

TEST(MassIntervals, JsonRoundTripAndRefusals) {
  MassIntervalFitConfig config;
  config.medianMassEdgesGeV = {50, 100, 250};
  const Sample s = makeSample(2000, 3);
  const MassIntervalCalibration c = fitMassIntervals(s.quantiles, s.trueMass, config, "toy.h5");
  const MassIntervalCalibration back = MassIntervalCalibration::fromJson(c.toJson(), "m.json");
  EXPECT_EQ(back.scale, c.scale);
  EXPECT_EQ(back.events, c.events);
  EXPECT_EQ(back.medianMassEdgesGeV, c.medianMassEdgesGeV);
  EXPECT_EQ(back.source, "toy.h5");
  // Under- and overflow of the median use the edge bins.
  EXPECT_DOUBLE_EQ(c.interval({10, 20, 30})[1], 20 + c.scale[0] * 10);
  EXPECT_DOUBLE_EQ(c.interval({390, 400, 410})[0], 400 - c.scale[1] * 10);

  EXPECT_THROW(MassIntervalCalibration::fromJson("{", "m.json"), InputError);
  EXPECT_THROW(MassIntervalCalibration::fromJson(R"({"format": "other"})", "m.json"), InputError);
  std::string text = c.toJson();
  text.replace(text.find("\"format_version\": 1"), 19, "\"format_version\": 9");
  EXPECT_THROW(MassIntervalCalibration::fromJson(text, "m.json"), InputError);
  // A bin with too few calibration events is an error naming the bin.
  config.medianMassEdgesGeV = {50, 100, 250, 400};
  try {
    fitMassIntervals(s.quantiles, s.trueMass, config, "toy");
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[250, 400)"), std::string::npos) << e.what();
  }
  config.medianMassEdgesGeV = {100, 50};
  EXPECT_THROW(fitMassIntervals(s.quantiles, s.trueMass, config, "toy"), ConfigError);
}

}  // namespace
}  // namespace nurec::eval
