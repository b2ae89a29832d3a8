// eval::resolutionByTrueMass on hand-made values: a method that returns its "training peak"
// whatever the event shows the pull in every bin; one that follows the event has no bias; bins
// without events are left out; per-event intervals cover the truth as often as they should; the
// numbers do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/eval/Evaluate.hpp"

using namespace nurec;
using namespace nurec::eval;

namespace {

constexpr double kPeakGeV = 90;
constexpr double kMassSmear = 0.02, kTauSmear = 0.05;

// 6000 events with true m_tautau flat in [60, 120) GeV and 200 at 50 GeV (outside the edges).
// "prior" reconstructs m = 90 GeV (1 + 2 %) for every event, "follows" m_true (1 + 2 %); both
// smear every tau component by 5 %.
EvaluationResult makeResult() {
  EvaluationResult r;
  r.methods = {"prior", "follows"};
  r.values.resize(2);
  for (int m = 0; m < 2; ++m) r.values[m].method = r.methods[m];
  for (std::size_t i = 0; i < 6200; ++i) {
    Rng rng(7, i, 3);
    QuantityValues truth{};
    for (int q = 0; q < kNumTauComponents; ++q) truth[q] = 10 + q;
    truth[kMassIndex] = i < 6000 ? rng.uniform(60, 120) : 50;
    r.rows.push_back(i);
    r.channel.push_back(0);
    r.truth.push_back(truth);
    for (int m = 0; m < 2; ++m) {
      QuantityValues reco{};
      for (int q = 0; q < kNumTauComponents; ++q)
        reco[q] = truth[q] * (1 + rng.normal(0, kTauSmear));
      const double centre = m == 0 ? kPeakGeV : truth[kMassIndex];
      reco[kMassIndex] = centre * (1 + rng.normal(0, kMassSmear));
      r.values[m].reco.push_back(reco);
      r.values[m].ok.push_back(1);
      // Per-event intervals of the width of the smearing around the estimate: calibrated
      // (68 % coverage) for "follows", around the peak (no coverage far from it) for "prior".
      const double halfWidth = 0.99446 * kMassSmear * centre;  // 16-84 % of a Gaussian
      r.values[m].massQuantiles.push_back(
          {reco[kMassIndex] - halfWidth, reco[kMassIndex], reco[kMassIndex] + halfWidth});
    }
  }
  return r;
}

EvaluateConfig binConfig(int threads) {
  EvaluateConfig c;
  c.trueMassEdgesGeV = {60, 70, 90, 120, 200};
  c.hwhm.bootstrapSamples = 20;
  c.threads = threads;
  return c;
}

}  // namespace

TEST(TrueMassBins, PriorPullShowsAndFollowingMethodHasNoBias) {
  const EvaluationResult r = makeResult();
  const auto bins = resolutionByTrueMass(r, binConfig(1), 1);
  ASSERT_EQ(bins.size(), 3u);  // 120-200 has no event; the 50 GeV events are outside
  std::size_t counted = 0;
  for (const auto& b : bins) {
    counted += b.events;
    ASSERT_EQ(b.methods.size(), 2u);
    const double centre = b.trueMassMedian;
    EXPECT_NEAR(centre, 0.5 * (b.lowGeV + b.highGeV), 0.05 * (b.highGeV - b.lowGeV));
    // prior: median of 90/m_true - 1 over the bin; follows: 0.
    const double expectedPull = kPeakGeV / centre - 1;
    const auto& prior = b.methods[0].mass;
    const auto& follows = b.methods[1].mass;
    EXPECT_NEAR(prior.medianBias, expectedPull, 0.02) << b.lowGeV;
    EXPECT_NEAR(follows.medianBias, 0, 3 * follows.medianBiasError + 1e-3) << b.lowGeV;
    EXPECT_GT(follows.medianBiasError, 0);
    EXPECT_NEAR(follows.hwhm, std::sqrt(2 * std::log(2.0)) * kMassSmear, 0.15 * kMassSmear);
    EXPECT_NEAR(b.methods[1].meanTauHwhm, std::sqrt(2 * std::log(2.0)) * kTauSmear,
                0.1 * kTauSmear);
    EXPECT_NEAR(b.methods[0].recoMassMedian, kPeakGeV, 1.0);
    EXPECT_LT(b.methods[1].recoMassQ16, b.methods[1].recoMassMedian);
    EXPECT_GT(b.methods[1].recoMassQ84, b.methods[1].recoMassMedian);
    EXPECT_EQ(b.methods[0].events, b.events);
  }
  EXPECT_EQ(counted, 6000u);
  for (const auto& b : bins) {
    EXPECT_NEAR(b.methods[1].massCoverage68, 0.68, 0.05) << b.lowGeV;
    EXPECT_EQ(b.methods[1].coverageEvents, b.events);
  }
  EXPECT_LT(bins[0].methods[0].massCoverage68, 0.01);    // 90 +- 2 % never holds a 60-70 GeV truth
  EXPECT_GT(bins[0].methods[0].mass.medianBias, 0.25);   // 60-70 GeV pulled up by ~38 %
  EXPECT_LT(bins[2].methods[0].mass.medianBias, -0.12);  // 90-120 GeV: 90/105 - 1 = -0.14
}

TEST(TrueMassBins, IndependentOfThreadCount) {
  const EvaluationResult r = makeResult();
  const auto a = resolutionByTrueMass(r, binConfig(1), 5);
  const auto b = resolutionByTrueMass(r, binConfig(2), 5);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    for (int m = 0; m < 2; ++m) {
      EXPECT_EQ(a[i].methods[m].mass.hwhmError, b[i].methods[m].mass.hwhmError);
      EXPECT_EQ(a[i].methods[m].mass.medianBiasError, b[i].methods[m].mass.medianBiasError);
    }
}

TEST(TrueMassBins, BadEdgesAreRefused) {
  EvaluateConfig c;
  c.trueMassEdgesGeV = {60};
  EXPECT_THROW(c.validate(), Error);
  c.trueMassEdgesGeV = {60, 90, 80};
  EXPECT_THROW(c.validate(), Error);
  c.trueMassEdgesGeV = {60, NAN};
  EXPECT_THROW(c.validate(), Error);
}

// eval::resolutionByTrueDecays: every third event has a tau in another decay mode, on which the
// "follows" method reconstructs m_tautau 10 % high (intervals included): the split shows the bias
// and the lost coverage on those events only; without decay modes there is no split.
TEST(TrueMassBins, DecayClassesShowWhereAMethodFails) {
  EvaluationResult r = makeResult();
  EXPECT_TRUE(resolutionByTrueDecays(r, binConfig(1), 9).empty());
  for (std::size_t s = 0; s < r.rows.size(); ++s) {
    const bool other = s % 3 == 0;
    r.otherDecayMode.push_back(other ? 1 : 0);
    if (!other) continue;
    r.values[1].reco[s][kMassIndex] *= 1.1;
    for (double& q : r.values[1].massQuantiles[s]) q *= 1.1;
  }
  const auto classes = resolutionByTrueDecays(r, binConfig(1), 9);
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0].key, "trained_modes");
  EXPECT_EQ(classes[1].key, "other_modes");
  EXPECT_EQ(classes[0].events, 4133u);
  EXPECT_EQ(classes[1].events, 2067u);
  const SubsetMethodResult &trained = classes[0].methods[1], &other = classes[1].methods[1];
  EXPECT_NEAR(trained.mass.medianBias, 0.0, 0.003);
  EXPECT_NEAR(other.mass.medianBias, 0.1, 0.005);
  EXPECT_NEAR(trained.massCoverage68, 0.68, 0.025);
  EXPECT_LT(other.massCoverage68, 0.01);
  const auto twoThreads = resolutionByTrueDecays(r, binConfig(2), 9);
  EXPECT_EQ(twoThreads[1].methods[1].mass.medianBiasError, other.mass.medianBiasError);
}
