// Calibration by re-weighting (quantum/Calibration.hpp): a constructed pi pi sample with per-event
// production states, smeared neutrinos and a spin-dependent selection; closure on independent
// halves.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "EventBuilder.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/Calibration.hpp"
#include "nurec/quantum/ToySampler.hpp"

namespace nurec::quantum {
namespace {

using testing::makeSample;
using testing::Sample;

TEST(Calibration, ReweightingFormula) {
  AnalyserEvent e;
  e.xPlus = {1, 0, 0};
  e.xMinus = {1, 0, 0};
  e.kappaPlus = e.kappaMinus = 1;
  SpinState s;
  s.c = {{{0.5, 0, 0}, {0, 0, 0}, {0, 0, 0}}};
  s.bMinus = {0.2, 0, 0};
  EXPECT_NEAR(jointWeight(e, s), 1 + 0.2 - 0.5, 1e-15);
  for (const auto& t : randomTargetStates(50, 3))
    EXPECT_GT(minEigenvalue(densityMatrix(t)), -1e-12);
}

TEST(Calibration, ClosureOnIndependentHalves) {
  const Sample sample = makeSample(60000, 0.3);
  AnalyserConfig cfg;
  cfg.method = "smeared";
  const CalibrationInput in = prepareCalibration(sample.table, cfg);
  ASSERT_GT(in.reco.size(), 10000u);
  CalibrationConfig cal;
  cal.bootstrapReplicas = 8;
  cal.threads = 2;
  const Calibration calib(in, cal, Channel::None, RowSubset::Even);
  ASSERT_TRUE(calib.valid());
  EXPECT_GT(calib.minEffectiveEventsFraction(), 0.2);
  // Measurement on the odd half.
  std::vector<AnalyserEvent> odd;
  SpinVector truthAvg = SpinVector::Zero();
  double w = 0;
  for (const auto& e : in.reco)
    if (e.row % 2 == 1) {
      odd.push_back(e);
      truthAvg += toVector(sample.states[e.row]);
      w += 1;
    }
  truthAvg /= w;
  const SpinEstimate est = estimateSpin(odd);
  const SpinVector raw = toVector(est.value);
  const SpinVector cal1 = calib.apply(raw);
  const SpinCovariance cov = calib.propagate(est.covariance) + calib.calibrationCovariance(raw);
  // Without calibration C_rr, C_nn are diluted by the smeared neutrinos.
  const int rr = 6 + 4, nn = 6 + 8, kk = 6;
  EXPECT_GT(std::abs(raw(nn) - truthAvg(nn)) / std::sqrt(est.covariance(nn, nn)), 5.0);
  double chi2 = 0;
  for (int a = 0; a < kNumSpinParameters; ++a) {
    const double pull = (cal1(a) - truthAvg(a)) / std::sqrt(cov(a, a));
    EXPECT_LT(std::abs(pull), 4.0)
        << spinParameterName(a) << " cal " << cal1(a) << " true " << truthAvg(a);
    chi2 += pull * pull;
  }
  EXPECT_LT(chi2, 40.0);
  std::printf(
      "closure: C_kk raw %.4f cal %.4f +- %.4f true %.4f | C_nn raw %.4f cal %.4f +- %.4f true "
      "%.4f | chi2 %.1f\n",
      raw(kk), cal1(kk), std::sqrt(cov(kk, kk)), truthAvg(kk), raw(nn), cal1(nn),
      std::sqrt(cov(nn, nn)), truthAvg(nn), chi2);
  EXPECT_NEAR(cal1(kk), truthAvg(kk), 4 * std::sqrt(cov(kk, kk)));
  EXPECT_NEAR(cal1(rr), truthAvg(rr), 4 * std::sqrt(cov(rr, rr)));
}

TEST(Calibration, MissingSpinStateIsAnInputError) {
  Sample sample = makeSample(50, 0.1);
  sample.table.erase(io::ds::spinB);
  AnalyserConfig cfg;
  cfg.method = "smeared";
  EXPECT_THROW(prepareCalibration(sample.table, cfg), InputError);
  CalibrationConfig bad;
  bad.targets = 3;
  EXPECT_THROW(bad.validate(), ConfigError);
}

}  // namespace
}  // namespace nurec::quantum
