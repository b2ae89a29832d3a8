// The t tbar evaluation (eval/TTbarEvaluate.hpp): distances vanish for a perfect reconstruction,
// a shift of one component shows in that component's W1 and bias only, failed events are left
// out of both distributions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/eval/TTbarEvaluate.hpp"

using namespace nurec;
using namespace nurec::eval;

namespace {

// reco = truth (+ shift), or with independentReco an independent draw of the same distribution
// (a perfect posterior sampler of an uninformative event).
io::EventTable sampleTable(std::size_t n, double shiftGeV, int shiftedComponent,
                           bool independentReco = false) {
  io::EventTable t(n);
  std::vector<double> truth(n * kTTbarRecordSize), reco(n * kTTbarRecordSize);
  Rng rng(5, 0, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (int c = 0; c < kTTbarRecordSize; ++c) {
      const double v = 100 * rng.normal() + c;
      truth[i * kTTbarRecordSize + c] = v;
      reco[i * kTTbarRecordSize + c] =
          (independentReco ? 100 * rng.normal() + c : v) + (c == shiftedComponent ? shiftGeV : 0);
    }
  t.set("/truth/partons", {11, 5}, truth);
  std::vector<std::int8_t> status(n, 0);
  status[0] = 5;  // a failure: its (zero) record must not enter
  std::fill(reco.begin(), reco.begin() + kTTbarRecordSize, 0.0);
  t.set(nuPartonsName("m"), {11, 5}, reco);
  t.set("/nu/m/status", {}, status);
  t.set("/reco/pass_sr", {}, std::vector<std::uint8_t>(n, 1));
  return t;
}

}  // namespace

TEST(TTbarEvaluate, ShiftShowsInItsComponentOnly) {
  TTbarEvaluateConfig config;
  config.hwhm.bootstrapSamples = 0;
  const int shifted = 5 * 8 + 4;  // t pz
  const auto result = evaluateTTbar(sampleTable(2000, 7.0, shifted), config);
  ASSERT_EQ(result.methods.size(), 1u);
  const auto& m = result.methods[0];
  EXPECT_EQ(m.eventsReconstructed, 1999u);
  for (int c = 0; c < kTTbarRecordSize; ++c) {
    if (c == shifted) {
      EXPECT_NEAR(m.distances[c].wasserstein1, 7.0, 1e-9);
      EXPECT_NEAR(m.resolution[c].medianBias, 7.0, 1e-9);
    } else {
      EXPECT_EQ(m.distances[c].wasserstein1, 0.0) << c;
    }
  }
  EXPECT_NEAR(m.sum.wasserstein1, 7.0, 1e-9);
  // Per parton: all of it in t (parton 8), nothing elsewhere.
  const auto perParton = perPartonSums(m.distances);
  for (int p = 0; p < kTTbarPartons; ++p)
    EXPECT_NEAR(perParton[p].wasserstein1, p == 8 ? 7.0 : 0.0, 1e-9) << p;
  EXPECT_NE(
      ttbarMarkdown(result).find("| m | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 7.0 |"),
      std::string::npos);
  const std::string json = ttbarJson(result);
  EXPECT_NE(json.find("\"distances_per_parton\""), std::string::npos);
  EXPECT_NE(json.find("\"t_pz\""), std::string::npos);
  EXPECT_NE(json.find("\"ttbar_M\""), std::string::npos);
}

TEST(TTbarEvaluate, MethodsFromDatasetNamesAndMissingMethod) {
  EXPECT_EQ(ttbarMethods({"/nu/b/partons", "/nu/a/partons", "/nu/a/status", "/truth/partons"}),
            (std::vector<std::string>{"a", "b"}));
  TTbarEvaluateConfig config;
  config.methods = {"absent"};
  EXPECT_THROW(evaluateTTbar(sampleTable(30, 0, 0), config), InputError);
}

// A method that samples the true distribution independently of the truth sits at the sampling-
// noise floor (summed over 55 components: the single sample's spread is about 7 %), and the
// floor is in the report and the JSON.
TEST(TTbarEvaluate, PerfectSamplerSitsAtTheNoiseFloor) {
  TTbarEvaluateConfig config;
  config.hwhm.bootstrapSamples = 0;
  const auto result = evaluateTTbar(sampleTable(4000, 0.0, 0, true), config);
  const double floorW1 = result.noiseFloor.sum.wasserstein1;
  EXPECT_GT(floorW1, 0.0);
  EXPECT_NEAR(result.methods[0].sum.wasserstein1 / floorW1, 1.0, 0.2);
  EXPECT_NEAR(result.methods[0].sum.ks / result.noiseFloor.sum.ks, 1.0, 0.2);
  // A 30 GeV shift of one component (same draws otherwise) adds about 30 GeV, ten times the
  // floor of that component.
  const auto shifted = evaluateTTbar(sampleTable(4000, 30.0, 7, true), config);
  EXPECT_EQ(shifted.noiseFloor.sum.wasserstein1, floorW1);
  EXPECT_NEAR(shifted.methods[0].sum.wasserstein1 - result.methods[0].sum.wasserstein1, 30.0, 4.0);
  EXPECT_GT(30.0, 10 * result.noiseFloor.distances[7].wasserstein1);
  EXPECT_NE(ttbarJson(result).find("\"sampling_noise_floor\""), std::string::npos);
  EXPECT_NE(ttbarMarkdown(result).find("sampling-noise floor"), std::string::npos);
}
