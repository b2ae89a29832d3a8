// MET variations and merging of re-reconstructed variations (quantum/Systematics.hpp).
#include <gtest/gtest.h>

#include <cmath>

#include "EventBuilder.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/quantum/Analysers.hpp"
#include "nurec/quantum/SpinMeasurement.hpp"
#include "nurec/quantum/Systematics.hpp"

namespace nurec::quantum {
namespace {

TEST(Systematics, MetVariationsAndMerge) {
  auto sample = testing::makeSample(2000, 0.1);
  auto met = sample.table.get<double>(io::ds::recoMet, {2});
  for (std::size_t i = 0; i < met.size(); i += 2) {
    met[i] = 30.0 + static_cast<double>(i % 7);
    met[i + 1] = -10.0;
  }
  sample.table.set(io::ds::recoMet, {2}, met);
  const auto vars = standardMetVariations();
  ASSERT_EQ(vars.size(), 4u);
  const io::EventTable up = applyMetVariation(sample.table, vars[0]);  // |MET| + 1 GeV
  EXPECT_FALSE(up.has(io::nuP4Name("smeared")));
  const auto metUp = up.get<double>(io::ds::recoMet, {2});
  for (std::size_t i = 0; i < met.size(); i += 2) {
    EXPECT_NEAR(std::hypot(metUp[i], metUp[i + 1]), std::hypot(met[i], met[i + 1]) + 1.0, 1e-9);
    EXPECT_NEAR(std::atan2(metUp[i + 1], metUp[i]), std::atan2(met[i + 1], met[i]), 1e-12);
  }
  const auto metScale = applyMetVariation(sample.table, vars[2]).get<double>(io::ds::recoMet, {2});
  EXPECT_NEAR(metScale[0], 1.03 * met[0], 1e-12);
  // A "re-reconstruction" with slightly different neutrinos, merged back as a variation.
  io::EventTable varied = up;
  auto nu = io::getNu(sample.table, "smeared");
  for (auto& p : nu.p4) p[0] = p[0] * 1.05;
  io::putNu(varied, "smeared", nu);
  mergeVariation(sample.table, varied, "smeared", "met_shift_up");
  EXPECT_TRUE(sample.table.has(io::nuP4Name("smeared_met_shift_up")));
  SpinConfig cfg;
  cfg.analysers.method = "smeared";
  cfg.bootstrap.replicas = 0;
  cfg.significance.pseudoExperiments = 0;
  const SpinReport rep = measureSpin(sample.table, cfg);
  bool found = false;
  for (const auto& s : rep.systematics)
    if (s.source == "met_shift_up") {
      found = true;
      EXPECT_TRUE(s.shift.count("C_nn"));
      EXPECT_NE(s.shift.at("C_kk"), 0.0);
    }
  EXPECT_TRUE(found);
  EXPECT_TRUE(rep.totalSystematic.count("concurrence"));
  // Different events are refused.
  io::EventTable other = testing::makeSample(2000, 0.1).table;
  auto tau = other.get<double>(io::ds::recoTauP4, {2, 4});
  tau[0] += 1;
  other.set(io::ds::recoTauP4, {2, 4}, tau);
  EXPECT_THROW(mergeVariation(sample.table, other, "smeared", "x"), InputError);
  EXPECT_THROW(mergeVariation(sample.table, testing::makeSample(10, 0.1).table, "smeared", "x"),
               InputError);
}

// Diffusion-style candidates /nu/<method>/candidates (N,K,2,3): the re-sampling spread is reported.
TEST(Systematics, CandidateResampling) {
  auto sample = testing::makeSample(3000, 0.1);
  const auto nu = io::getNu(sample.table, "smeared");
  const std::size_t n = sample.table.nEvents(), k = 4;
  std::vector<float> cand(n * k * 2 * 3);
  Rng rng(3, 0, streams::quantum);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < k; ++c)
      for (int t = 0; t < 2; ++t) {
        const Vector3 p = nu.p4[i][t].vec() * (1 + 0.1 * rng.normal());
        float* o = &cand[((i * k + c) * 2 + t) * 3];
        o[0] = static_cast<float>(p.x);
        o[1] = static_cast<float>(p.y);
        o[2] = static_cast<float>(p.z);
      }
  sample.table.set(io::nuCandidatesName("smeared"), {k, 2, 3}, cand);
  EXPECT_EQ(numCandidates(sample.table, "smeared"), 4);
  // Candidate 0 of event 0 as a massless four-vector.
  const auto c0 = candidateNeutrinos(sample.table, "smeared", 0, 1);
  EXPECT_NEAR(c0[0][1].px, cand[3], 1e-4);
  EXPECT_NEAR(c0[0][1].m(), 0, 1e-3);
  SpinConfig cfg;
  cfg.analysers.method = "smeared";
  cfg.bootstrap.replicas = 0;
  cfg.significance.pseudoExperiments = 0;
  cfg.candidateReplicas = 5;
  const SpinReport rep = measureSpin(sample.table, cfg);
  bool found = false;
  for (const auto& s : rep.systematics)
    if (s.source == "candidates") {
      found = true;
      EXPECT_GT(s.shift.at("C_nn"), 0);  // a spread, not zero
      EXPECT_LT(s.shift.at("C_nn"), 0.5);
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace nurec::quantum
