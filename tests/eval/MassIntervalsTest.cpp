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
  std::vector<IntervalEvent> events;  // quantiles only: one cell per mass bin
  std::vector<double> trueMass;
};
Sample makeSample(std::size_t n, std::uint64_t seed) {
  Sample s;
  Rng rng(seed, 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double median = rng.uniform(50, 250);
    const double trueWidth = 0.1 * median;
    const double claimed = median < 100 ? trueWidth / 2 : trueWidth * 1.5;
    s.events.push_back(IntervalEvent{{median - claimed, median, median + claimed}});
    s.trueMass.push_back(median + trueWidth * rng.normal());
  }
  return s;
}

double coverage(const Sample& s, const MassIntervalCalibration& c, double lo, double hi) {
  std::size_t n = 0, inside = 0;
  for (std::size_t i = 0; i < s.trueMass.size(); ++i) {
    if (s.events[i].quantiles[1] < lo || s.events[i].quantiles[1] >= hi) continue;
    const auto iv = c.interval(s.events[i]);
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
      fitMassIntervals(calibration.events, calibration.trueMass, config, "toy");
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
  MassIntervalCalibration c = fitMassIntervals(s.events, s.trueMass, config, "toy.h5");
  c.sampling = "sampler=ddim steps=100 eta=1 candidates=20";
  const MassIntervalCalibration back = MassIntervalCalibration::fromJson(c.toJson(), "m.json");
  EXPECT_EQ(back.scale, c.scale);
  EXPECT_EQ(back.events, c.events);
  EXPECT_EQ(back.medianMassEdgesGeV, c.medianMassEdgesGeV);
  EXPECT_EQ(back.source, "toy.h5");
  EXPECT_EQ(back.sampling, c.sampling);
  EXPECT_EQ(back.pairPtEdgesGeV, c.pairPtEdgesGeV);
  EXPECT_EQ(back.cellEvents, c.cellEvents);
  ASSERT_EQ(back.cellScale.size(), c.cellScale.size());
  for (std::size_t k = 0; k < c.cellScale.size(); ++k) {
    if (std::isnan(c.cellScale[k])) {
      EXPECT_TRUE(std::isnan(back.cellScale[k])) << k;  // written as null
    } else {
      EXPECT_DOUBLE_EQ(back.cellScale[k], c.cellScale[k]) << k;
    }
  }
  // Under- and overflow of the median use the edge bins.
  EXPECT_DOUBLE_EQ(c.interval(IntervalEvent{{10, 20, 30}})[1], 20 + c.scale[0] * 10);
  EXPECT_DOUBLE_EQ(c.interval(IntervalEvent{{390, 400, 410}})[0], 400 - c.scale[1] * 10);

  EXPECT_THROW(MassIntervalCalibration::fromJson("{", "m.json"), InputError);
  EXPECT_THROW(MassIntervalCalibration::fromJson(R"({"format": "other"})", "m.json"), InputError);
  std::string text = c.toJson();
  text.replace(text.find("\"format_version\": 3"), 19, "\"format_version\": 9");
  EXPECT_THROW(MassIntervalCalibration::fromJson(text, "m.json"), InputError);
  // Format 2 (no sampling record) is read with the settings unknown.
  text = c.toJson();
  text.replace(text.find("\"format_version\": 3"), 19, "\"format_version\": 2");
  EXPECT_EQ(MassIntervalCalibration::fromJson(text, "v2.json").sampling, "");
  // Format 1 (no cells) is still read: every event uses its mass bin's factor.
  text = c.toJson();
  text.replace(text.find("\"format_version\": 3"), 19, "\"format_version\": 1");
  const auto v1 = MassIntervalCalibration::fromJson(text, "v1.json");
  EXPECT_TRUE(v1.cellScale.empty());
  EXPECT_DOUBLE_EQ(v1.factor(IntervalEvent{{90, 95, 99}, true, 50}), c.scale[0]);
  // Cells that do not match the bins are refused.
  text = c.toJson();
  text.replace(text.find("\"pair_pt_edges_gev\": ["), 22, "\"pair_pt_edges_gev\": [5, ");
  EXPECT_THROW(MassIntervalCalibration::fromJson(text, "m.json"), InputError);
  // A bin with too few calibration events is an error naming the bin.
  config.medianMassEdgesGeV = {50, 100, 250, 400};
  try {
    fitMassIntervals(s.events, s.trueMass, config, "toy");
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[250, 400)"), std::string::npos) << e.what();
  }
  config.medianMassEdgesGeV = {100, 50};
  EXPECT_THROW(fitMassIntervals(s.events, s.trueMass, config, "toy"), ConfigError);
}

// The settings that shape the candidates' spread, from a reconstruction record, in a fixed order.
TEST(MassIntervals, SamplingSettingsOfAReconstructionRecord) {
  EXPECT_EQ(samplingSettings("model=models/m sampler=ddim steps=100 eta=1 candidates=20 "
                             "selection=mass-mode seed=4"),
            "sampler=ddim steps=100 eta=1 candidates=20");
  EXPECT_EQ(samplingSettings("candidates=100 seed=4 eta=0 steps=50 sampler=pndm model=x"),
            "sampler=pndm steps=50 eta=0 candidates=100");
  EXPECT_EQ(samplingSettings("model=x seed=4"), "");
  EXPECT_EQ(samplingSettings(""), "");
}

// Cells: hadron-hadron events whose intervals are 1.5 times too narrow, lepton-hadron events
// whose intervals are right, and a pT dependence only in the hadronic class. A fit per mass bin
// alone covers one class too little and the other too much; the cells recover each factor and
// 0.68 per cell on an independent sample. A cell with too few events uses its bin's factor.
TEST(MassIntervals, CellsByClassAndPairPt) {
  const auto make = [](std::size_t n, std::uint64_t seed) {
    std::vector<IntervalEvent> events;
    std::vector<double> truth;
    Rng rng(seed, 0, 0);
    for (std::size_t i = 0; i < n; ++i) {
      IntervalEvent e;
      e.hadronicPair = rng.uniform() < 0.3;
      e.pairPtGeV = rng.uniform(0, 60);
      const double median = rng.uniform(80, 120), width = 0.1 * median;
      const double tooNarrow = e.hadronicPair ? (e.pairPtGeV < 40 ? 1.5 : 2.0) : 1.0;
      e.quantiles = {median - width / tooNarrow, median, median + width / tooNarrow};
      events.push_back(e);
      truth.push_back(median + width * rng.normal());
    }
    return std::make_pair(events, truth);
  };
  MassIntervalFitConfig config;
  config.medianMassEdgesGeV = {80, 120};
  config.pairPtEdgesGeV = {20, 40};
  const auto [calEvents, calTruth] = make(60000, 5);
  const MassIntervalCalibration c = fitMassIntervals(calEvents, calTruth, config, "toy");
  ASSERT_EQ(c.cellScale.size(), 6u);
  for (int pt = 0; pt < 3; ++pt) {
    EXPECT_NEAR(c.cellScale[pt], 1.0, 0.04) << pt;                     // lepton-hadron
    EXPECT_NEAR(c.cellScale[3 + pt], pt < 2 ? 1.5 : 2.0, 0.08) << pt;  // hadron-hadron
  }
  const auto [testEvents, testTruth] = make(60000, 6);
  for (bool hadronic : {false, true}) {
    std::size_t n = 0, inside = 0, insideBinOnly = 0;
    for (std::size_t i = 0; i < testEvents.size(); ++i) {
      if (testEvents[i].hadronicPair != hadronic) continue;
      ++n;
      const auto iv = c.interval(testEvents[i]);
      inside += iv[0] <= testTruth[i] && testTruth[i] <= iv[1];
      const double s = c.scale[0], m = testEvents[i].quantiles[1];
      const double lo = m - s * (m - testEvents[i].quantiles[0]);
      const double hi = m + s * (testEvents[i].quantiles[2] - m);
      insideBinOnly += lo <= testTruth[i] && testTruth[i] <= hi;
    }
    EXPECT_NEAR(static_cast<double>(inside) / n, 0.68, 0.015) << hadronic;
    const double binOnly = static_cast<double>(insideBinOnly) / n;
    EXPECT_GT(std::abs(binOnly - 0.68), 0.04) << hadronic;  // what the cells correct
  }
  // Too few events (about 6,000) in each hadronic cell: they fall back to the bin's factor.
  config.minEventsPerBin = 7000;
  const MassIntervalCalibration sparse = fitMassIntervals(calEvents, calTruth, config, "toy");
  for (int k = 0; k < 6; ++k) EXPECT_EQ(std::isnan(sparse.cellScale[k]), k >= 3) << k;
  EXPECT_DOUBLE_EQ(sparse.factor(IntervalEvent{{90, 100, 110}, true, 50}), sparse.scale[0]);
  EXPECT_DOUBLE_EQ(sparse.factor(IntervalEvent{{90, 100, 110}, false, 50}), sparse.cellScale[2]);
}

}  // namespace
}  // namespace nurec::eval
