// `nurec evaluate` on constructed tables: methods with known smearing give the HWHM, median bias,
// failure fraction and calibration they were built with; the report is written completely.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/eval/Evaluate.hpp"
#include "nurec/eval/Plot.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

using namespace nurec;
using namespace nurec::eval;

namespace {

const double kSqrt2Ln2 = std::sqrt(2 * std::log(2.0));
constexpr std::size_t kN = 5000;
constexpr std::size_t kK = 10;
constexpr double kCandidateSigma = 3.0;  // GeV, spread of the fake diffusion candidates

void put(std::vector<double>& v, const FourVector& p) {
  v.insert(v.end(), {p.px, p.py, p.pz, p.e});
}

// Truth + reco + fake methods:
//   smear5:   each reconstructed tau = (1 + d) x true tau, d ~ N(0, 0.05) per tau: every component
//             has relative residual d (HWHM sqrt(2 ln 2) 0.05), m_tautau ~ (d1 + d2)/2.
//   smear10:  d ~ N(0.02, 0.10), 20 % failures (status 1, half of them with NaN neutrinos).
//   perfect:  the true neutrinos.
//   diffusion: K candidates exchangeable with the truth (calibrated), p4 = their centre.
io::EventTable makeTable(std::uint64_t seed) {
  io::EventTable t(kN);
  std::vector<double> tau, vis, nuTrue, nu5, nu10, nuPerfect, nuDiff;
  std::vector<float> cand;
  std::vector<std::int8_t> channel, st0, st10;
  std::vector<std::uint8_t> sr;
  for (std::size_t i = 0; i < kN; ++i) {
    Rng rng(seed, i, 42);
    std::array<FourVector, 2> tt, vv;
    const double phi = rng.uniform(-constants::pi, constants::pi);
    for (int s = 0; s < 2; ++s) {
      const double pt = rng.uniform(20, 60), eta = rng.uniform(-2, 2);
      tt[s] = FourVector::fromPtEtaPhiM(pt, eta, phi + s * constants::pi + rng.normal(0, 0.3),
                                        constants::mTau);
      vv[s] = tt[s] * rng.uniform(0.2, 0.95);
      put(tau, tt[s]);
      put(vis, vv[s]);
      put(nuTrue, tt[s] - vv[s]);
      put(nuPerfect, tt[s] - vv[s]);
    }
    channel.push_back(static_cast<std::int8_t>(rng.below(7)));
    sr.push_back(rng.uniform() < 0.8 ? 1 : 0);
    st0.push_back(0);
    const bool fail = rng.uniform() < 0.2;
    st10.push_back(fail ? 1 : 0);
    for (int s = 0; s < 2; ++s) {
      put(nu5, tt[s] * (1 + rng.normal(0, 0.05)) - vv[s]);
      FourVector n10 = tt[s] * (1 + rng.normal(0.02, 0.10)) - vv[s];
      if (fail && i % 2 == 0) n10 = {NAN, NAN, NAN, NAN};
      put(nu10, n10);
    }
    // Candidates: centre c = truth + sigma e0, candidates c + sigma e_k: truth and candidates are
    // exchangeable given c.
    std::array<double, 6> centre{};
    for (int c = 0; c < 6; ++c) {
      const FourVector n = tt[c / 3] - vv[c / 3];
      const double v = c % 3 == 0 ? n.px : c % 3 == 1 ? n.py : n.pz;
      centre[c] = v + kCandidateSigma * rng.normal();
    }
    for (std::size_t k = 0; k < kK; ++k)
      for (int c = 0; c < 6; ++c)
        cand.push_back(static_cast<float>(centre[c] + kCandidateSigma * rng.normal()));
    for (int s = 0; s < 2; ++s) {
      const Vector3 p{centre[3 * s], centre[3 * s + 1], centre[3 * s + 2]};
      put(nuDiff, FourVector::fromMomentumMass(p, 0.0));
    }
  }
  t.set(io::ds::tauP4, {2, 4}, tau);
  t.set(io::ds::nuP4, {2, 4}, nuTrue);
  t.set(io::ds::recoTauP4, {2, 4}, vis);
  t.set(io::ds::recoChannel, {}, channel);
  t.set(io::ds::recoPassSr, {}, sr);
  t.set(io::nuP4Name("smear5"), {2, 4}, nu5);
  t.set(io::nuStatusName("smear5"), {}, st0);
  t.set(io::nuP4Name("smear10"), {2, 4}, nu10);
  t.set(io::nuStatusName("smear10"), {}, st10);
  t.set(io::nuP4Name("perfect"), {2, 4}, nuPerfect);
  t.set(io::nuStatusName("perfect"), {}, st0);
  t.set(io::nuP4Name("diffusion"), {2, 4}, nuDiff);
  t.set(io::nuStatusName("diffusion"), {}, st0);
  t.set(io::nuCandidatesName("diffusion"), {kK, 2, 3}, cand);
  return t;
}

EvaluateConfig fastConfig() {
  EvaluateConfig c;
  c.hwhm.bootstrapSamples = 10;
  c.plots = false;
  c.threads = 1;
  return c;
}

const MethodResult& method(const GroupResult& g, const std::string& name) {
  for (const auto& m : g.methods)
    if (m.method == name) return m;
  throw std::runtime_error("no method " + name);
}

}  // namespace

TEST(Evaluate, KnownSmearingIsRecovered) {
  const io::EventTable table = makeTable(1);
  const EvaluationResult r = evaluate(table, fastConfig());
  ASSERT_EQ(r.methods.front(), kVisibleMethod);
  ASSERT_EQ(r.methods.size(), 5u);
  EXPECT_NEAR(static_cast<double>(r.rows.size()), 0.8 * kN, 5 * std::sqrt(kN * 0.16));
  const GroupResult& all = r.groups.at(0);
  EXPECT_EQ(all.key, "all");
  // ~4000 events: HWHM spread ~3 % (docs/metrics.md), tolerance 10 %.
  const MethodResult& s5 = method(all, "smear5");
  EXPECT_EQ(s5.failed, 0u);
  for (int q = 0; q < kNumTauComponents; ++q) {
    EXPECT_NEAR(s5.quantities[q].resolution.hwhm / (kSqrt2Ln2 * 0.05), 1.0, 0.10) << quantityKey(q);
    EXPECT_NEAR(s5.quantities[q].resolution.medianBias, 0.0, 0.004) << quantityKey(q);
    EXPECT_GT(s5.quantities[q].resolution.hwhmError, 0.0);
  }
  // m = sqrt((1 + d1)(1 + d2)) m_true: residual ~ (d1 + d2)/2, sigma 0.05/sqrt 2.
  EXPECT_NEAR(s5.quantities[kMassIndex].resolution.hwhm / (kSqrt2Ln2 * 0.05 / std::sqrt(2.0)), 1.0,
              0.12);
  EXPECT_NEAR(s5.meanTauHwhm / (kSqrt2Ln2 * 0.05), 1.0, 0.06);

  const MethodResult& s10 = method(all, "smear10");
  EXPECT_NEAR(s10.failedFraction(), 0.2, 0.03);
  EXPECT_EQ(s10.quantities[0].resolution.entries, s10.events - s10.failed);
  EXPECT_NEAR(s10.quantities[3].resolution.hwhm / (kSqrt2Ln2 * 0.10), 1.0, 0.12);
  EXPECT_NEAR(s10.quantities[3].resolution.medianBias, 0.02, 0.01);
  // A wider resolution gives larger distances.
  EXPECT_GT(s10.tauSum.wasserstein1, s5.tauSum.wasserstein1);
  EXPECT_GT(s10.tauSum.kl128, s5.tauSum.kl128);

  const MethodResult& perfect = method(all, "perfect");
  for (int q = 0; q < kNumQuantities; ++q) {
    EXPECT_LT(perfect.quantities[q].resolution.hwhm, 1e-9);
    EXPECT_LT(perfect.quantities[q].distances.wasserstein1, 1e-9);
    // vis + (tau - vis) differs from tau by rounding, which can reorder ties: one step of 1/n.
    EXPECT_LE(perfect.quantities[q].distances.ks,
              1.0 / static_cast<double>(perfect.quantities[q].resolution.entries) + 1e-12);
  }
  // The visible-only baseline underestimates every energy: median bias clearly negative.
  const MethodResult& visible = method(all, kVisibleMethod);
  EXPECT_LT(visible.quantities[3].resolution.medianBias, -0.3);
  EXPECT_EQ(visible.failed, 0u);

  // Channels: seven groups, each with about 1/7 of the selected events.
  ASSERT_EQ(r.groups.size(), 8u);
  std::size_t sum = 0;
  for (std::size_t g = 1; g < r.groups.size(); ++g) sum += r.groups[g].events;
  EXPECT_EQ(sum, r.rows.size());
  EXPECT_EQ(r.groups[1].key, "pipi");

  // Calibrated candidates.
  ASSERT_EQ(r.calibration.size(), 1u);
  const CalibrationResult& cal = r.calibration[0];
  EXPECT_EQ(cal.k, kK);
  for (const auto& cc : cal.components) {
    EXPECT_NEAR(cc.coverageOuter, 9.0 / 11, 0.03);
    EXPECT_NEAR(cc.coverageInner, 7.0 / 11, 0.035);
    // CRPS of N(truth + e0 sigma, sigma^2) candidates: E over e0 of crps(N(0, sigma^2), -e0 sigma)
    // = sigma * (sqrt(2) - 1/sqrt(2)) * 2/sqrt(2 pi)... checked loosely: between 0.5 and 1 sigma.
    EXPECT_GT(cc.crps, 0.5 * kCandidateSigma);
    EXPECT_LT(cc.crps, 1.0 * kCandidateSigma);
    EXPECT_NEAR(cc.spread, kCandidateSigma / std::sqrt(M_PI), 0.1 * kCandidateSigma);
  }
  EXPECT_EQ(r.examplesMethod, "diffusion");
  EXPECT_EQ(r.examples.size(), 4u);
  EXPECT_EQ(r.examples[0].candidates.size(), kK);
}

TEST(Evaluate, IndependentOfThreadCount) {
  const io::EventTable table = makeTable(2);
  EvaluateConfig c1 = fastConfig(), c2 = fastConfig();
  c2.threads = 2;
  const EvaluationResult a = evaluate(table, c1), b = evaluate(table, c2);
  ASSERT_EQ(a.groups.size(), b.groups.size());
  for (std::size_t g = 0; g < a.groups.size(); ++g)
    for (std::size_t m = 0; m < a.methods.size(); ++m)
      for (int q = 0; q < kNumQuantities; ++q) {
        EXPECT_EQ(a.groups[g].methods[m].quantities[q].resolution.hwhmError,
                  b.groups[g].methods[m].quantities[q].resolution.hwhmError);
        EXPECT_EQ(a.groups[g].methods[m].quantities[q].distances.kl64,
                  b.groups[g].methods[m].quantities[q].distances.kl64);
      }
}

TEST(Evaluate, SelectionsAndMethodChoice) {
  const io::EventTable table = makeTable(3);
  EvaluateConfig c = fastConfig();
  c.selection = EventSelection::All;
  c.methods = {"smear5"};
  c.visibleBaseline = false;
  const EvaluationResult r = evaluate(table, c);
  EXPECT_EQ(r.rows.size(), kN);
  ASSERT_EQ(r.methods.size(), 1u);
  EXPECT_EQ(r.methods[0], "smear5");
  c.methods = {"nosuchmethod"};
  EXPECT_THROW(evaluate(table, c), ConfigError);
  EXPECT_THROW(selectionFromName("everything"), ConfigError);
}

TEST(Evaluate, MissingInputsAreClearErrors) {
  io::EventTable table = makeTable(4);
  table.erase(io::ds::recoPassSr);
  try {
    evaluate(table, fastConfig());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/reco/pass_sr"), std::string::npos) << e.what();
  }
  EvaluateConfig all = fastConfig();
  all.selection = EventSelection::All;
  EXPECT_NO_THROW(evaluate(table, all));
  table.erase(io::ds::tauP4);
  try {
    evaluate(table, all);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/truth/tau_p4"), std::string::npos) << e.what();
  }
}

// Issue 22.11: evaluate passed NaN /reco/met through; it checks the reco inputs as the
// reconstruction does.
TEST(Evaluate, InvalidRecoInputsAreRefused) {
  io::EventTable table = makeTable(4);
  std::vector<double> met(2 * table.nEvents(), 1.0);
  met[5] = std::numeric_limits<double>::quiet_NaN();
  table.set<double>(io::ds::recoMet, {2}, met);
  try {
    evaluate(table, fastConfig());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/reco/met"), std::string::npos) << e.what();
  }
  table = makeTable(4);
  std::vector<double> sumEt(table.nEvents(), 100.0);
  sumEt[3] = -1;
  table.set<double>(io::ds::recoSumEt, {}, sumEt);
  EXPECT_THROW(evaluate(table, fastConfig()), InputError);
}

// The split by true decay modes counts an event as "other" when either tau has DecayMode::Other;
// a decay mode outside 0-4 is refused as getTruth refuses it (it was counted as "other").
TEST(Evaluate, DecayClassesAndInvalidDecayModes) {
  io::EventTable table = makeTable(4);
  std::vector<std::int8_t> modes(2 * table.nEvents(), 1);
  for (std::size_t i = 0; i < table.nEvents(); i += 4) modes[2 * i + 1] = 4;
  table.set<std::int8_t>(io::ds::decayMode, {2}, modes);
  EvaluateConfig all = fastConfig();
  all.selection = EventSelection::All;
  const EvaluationResult res = evaluate(table, all);
  ASSERT_EQ(res.byTrueDecays.size(), 2u);
  EXPECT_EQ(res.byTrueDecays[1].key, "other_modes");
  EXPECT_EQ(res.byTrueDecays[1].events, (table.nEvents() + 3) / 4);
  EXPECT_EQ(res.byTrueDecays[0].events + res.byTrueDecays[1].events, table.nEvents());
  modes[7] = 9;
  table.set<std::int8_t>(io::ds::decayMode, {2}, modes);
  try {
    evaluate(table, all);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/truth/decay_mode has decay mode 9 in event 3"),
              std::string::npos)
        << e.what();
  }
}

// The full report from a file on disk: README, JSON with the documented keys, plots.
TEST(Evaluate, WritesTheReport) {
  TempDir dir;
  io::writeEventFile(dir.file("nu.h5"), makeTable(5));
  const io::EventTable table = io::readEventFile(dir.file("nu.h5"));
  EvaluateConfig c = fastConfig();
  c.plots = gnuplotAvailable();
  const std::string out = dir.file("report");
  evaluateToReport(table, c, out);
  std::ifstream md(out + "/README.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("smear10"), std::string::npos);
  EXPECT_NE(text.find("Calibration of the diffusion candidates"), std::string::npos);
  EXPECT_NE(text.find("nu.h5"), std::string::npos);
  EXPECT_NE(text.find("By true m_ττ"), std::string::npos);
  std::ifstream js(out + "/metrics.json");
  const nlohmann::json j = nlohmann::json::parse(js);
  EXPECT_EQ(j["schema"], "nurec-evaluate");
  EXPECT_EQ(j["groups"][0]["key"], "all");
  const auto& q = j["groups"][0]["methods"]["smear5"]["quantities"]["tau_plus_e"];
  for (const char* key : {"hwhm", "hwhm_error", "median_bias", "median_bias_error", "w1", "energy",
                          "ks", "kl64", "kl128", "kl256", "entries", "mode"})
    EXPECT_TRUE(q.contains(key)) << key;
  EXPECT_TRUE(j["groups"][0]["methods"]["smear5"].contains("distances_tau_sum"));
  EXPECT_EQ(j["calibration"]["diffusion"]["k"], kK);
  ASSERT_FALSE(j["by_true_mass"].empty());
  EXPECT_TRUE(j["by_true_mass"][0]["methods"]["smear5"]["mtautau"].contains("median_bias"));
  EXPECT_EQ(j["calibration"]["diffusion"]["components"]["nu_minus_pz"]["ranks"].size(), kK + 1);
  if (c.plots) {
    for (const auto& [stem, caption] : reportFigures(evaluate(table, c))) {
      EXPECT_TRUE(std::filesystem::exists(out + "/" + stem + ".png")) << stem;
      EXPECT_TRUE(std::filesystem::exists(out + "/" + stem + ".svg")) << stem;
      EXPECT_NE(text.find(stem + ".png"), std::string::npos) << stem;
    }
  }
}
