// The calibration as `nurec spin` applies it (quantum/SpinResponse.hpp): pulls of unit width for
// a response from an independent sample, no closure by construction, response files, refusals,
// unknown spin truth, errors that are never a silent zero, and flags (docs/quantum.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "EventBuilder.hpp"
#include "common/TempDir.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/ShippedFiles.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/SpinMeasurement.hpp"
#include "nurec/quantum/SpinResponse.hpp"

namespace nurec::quantum {
namespace {

using testing::makeSample;

SpinConfig quickConfig(const std::string& method) {
  SpinConfig cfg;
  cfg.analysers.method = method;
  cfg.bootstrap.replicas = 0;
  cfg.significance.pseudoExperiments = 0;
  cfg.candidateReplicas = 0;
  return cfg;
}

CalibrationConfig quickFit() {
  CalibrationConfig fit;
  fit.bootstrapReplicas = 10;
  fit.threads = 2;
  return fit;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rows r with r % k == part: an independent subset of the sample.
io::EventTable subset(const io::EventTable& t, std::size_t k, std::size_t part) {
  std::vector<std::size_t> rows;
  for (std::size_t i = part; i < t.nEvents(); i += k) rows.push_back(i);
  io::EventTable s = t.selectRows(rows);
  s.setSource(fmt::format("{}[{} mod {}]", t.source(), part, k));
  return s;
}

struct Chi2 {
  double chi2 = 0;
  int ndf = 0;
  void add(double value, double reference, double error) {
    ASSERT_TRUE(std::isfinite(error) && error > 0);
    chi2 += std::pow((value - reference) / error, 2);
    ++ndf;
  }
  double perNdf() const { return chi2 / std::max(ndf, 1); }
};

// The issue-12 requirement: on truth samples, calibrated minus reference over independent subsets
// and all 15 parameters scatters as the quoted (stat + calibration) errors say. The old default
// (two-fold self-calibration averaged with its mirror) is reproduced alongside: it sits on the
// reference far closer than its errors (chi2/ndf ~ 0.05) and fails the same criterion.
TEST(SpinCalibration, IndependentResponsePullsHaveUnitWidthSelfClosureDoesNot) {
  const auto calib = makeSample(60000, 0.3, 101);
  const auto meas = makeSample(80000, 0.3, 102);
  SpinConfig cfg = quickConfig("smeared");
  cfg.calibrationMode = CalibrationMode::Response;
  cfg.response = std::make_shared<SpinResponse>(
      buildSpinResponse(calib.table, cfg.analysers, quickFit(), "", false));
  Chi2 independent, selfClosure;
  for (std::size_t part = 0; part < 4; ++part) {
    const io::EventTable t = subset(meas.table, 4, part);
    const SpinReport rep = measureSpin(t, cfg);
    const SubsetReport& s = rep.subsets.at(0);
    ASSERT_TRUE(s.isCalibrated && s.hasReference);
    for (int a = 0; a < kNumSpinParameters; ++a)
      independent.add(s.calibrated[a].value, s.reference[a],
                      std::hypot(s.calibrated[a].stat, s.calibrated[a].calibration));
    // The removed two-fold self-calibration on the same subset.
    const CalibrationInput in = prepareCalibration(t, cfg.analysers);
    const Calibration even(in, quickFit(), Channel::None, RowSubset::Even);
    const Calibration odd(in, quickFit(), Channel::None, RowSubset::Odd);
    std::vector<AnalyserEvent> evens, odds;
    for (const auto& e : in.reco) (e.row % 2 == 0 ? evens : odds).push_back(e);
    const SpinEstimate ee = estimateSpin(evens), eo = estimateSpin(odds);
    const SpinVector avg = 0.5 * (odd.apply(toVector(ee.value)) + even.apply(toVector(eo.value)));
    const SpinCovariance cov =
        0.25 * (odd.propagate(ee.covariance) + even.propagate(eo.covariance));
    for (int a = 0; a < kNumSpinParameters; ++a)
      selfClosure.add(avg(a), s.reference[a], std::sqrt(cov(a, a)));
  }
  std::printf(
      "pulls over 4 subsets x 15 parameters: independent response chi2/ndf = %.1f/%d, "
      "two-fold self-calibration %.1f/%d\n",
      independent.chi2, independent.ndf, selfClosure.chi2, selfClosure.ndf);
  EXPECT_GT(independent.perNdf(), 0.5);
  EXPECT_LT(independent.perNdf(), 2.0);
  EXPECT_LT(selfClosure.perNdf(), 0.5);  // what the test above rejects
}

// Where the selection is trivial (truth analysers, every event), the response is the identity
// within its errors: calibrated equals raw within the statistical errors.
TEST(SpinCalibration, TrivialSelectionCalibratedEqualsRaw) {
  const auto calib = makeSample(40000, 0.0, 201);
  const auto meas = makeSample(20000, 0.0, 202);
  SpinConfig cfg = quickConfig("truth");
  cfg.analysers.requireSignalRegion = false;
  cfg.calibrationMode = CalibrationMode::Response;
  cfg.response = std::make_shared<SpinResponse>(
      buildSpinResponse(calib.table, cfg.analysers, quickFit(), "", false));
  EXPECT_EQ(cfg.response->provenance.selection, "all events");
  const SubsetReport s = measureSpin(meas.table, cfg).subsets.at(0);
  ASSERT_TRUE(s.isCalibrated);
  for (int a = 0; a < kNumSpinParameters; ++a)
    EXPECT_NEAR(s.calibrated[a].value, s.raw[a].value, 2 * s.raw[a].stat) << spinParameterName(a);
}

// `nurec calibrate` reads only the signal-region rows (app/SpinInput.hpp): the response must be
// the one fitted on the whole sample, bit for bit, apart from the event count it records.
TEST(SpinCalibration, SignalRegionRowsAloneGiveTheSameResponse) {
  const auto calib = makeSample(12000, 0.2, 401);
  AnalyserConfig ac;
  ac.method = "smeared";
  const auto pass = calib.table.get<std::uint8_t>(io::ds::recoPassSr, {});
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < pass.size(); ++i)
    if (pass[i]) rows.push_back(i);
  ASSERT_GT(rows.size(), 1000u);
  ASSERT_LT(rows.size(), pass.size());  // the selection removes events
  io::EventTable selected = calib.table.selectRows(rows);
  selected.setSource(calib.table.source());
  const SpinResponse whole = buildSpinResponse(calib.table, ac, quickFit(), "", false);
  SpinResponse part = buildSpinResponse(selected, ac, quickFit(), "", false);
  EXPECT_EQ(part.provenance.sampleEvents, rows.size());
  part.provenance.sampleEvents = whole.provenance.sampleEvents;
  TempDir dir;
  writeSpinResponse(whole, dir.file("whole.json"));
  writeSpinResponse(part, dir.file("part.json"));
  EXPECT_EQ(readText(dir.file("whole.json")), readText(dir.file("part.json")));
}

TEST(SpinCalibration, ResponseFileRoundTripAndRefusals) {
  const auto calib = makeSample(20000, 0.2, 301);
  const auto meas = makeSample(5000, 0.2, 302);
  AnalyserConfig ac;
  ac.method = "smeared";
  const SpinResponse r = buildSpinResponse(calib.table, ac, quickFit(), "model X", false);
  TempDir dir;
  writeSpinResponse(r, dir.file("r.json"));
  EXPECT_TRUE(isSpinResponseFile(dir.file("r.json")));
  const SpinResponse back = readSpinResponse(dir.file("r.json"));
  EXPECT_EQ(back.provenance.analysers, r.provenance.analysers);
  EXPECT_EQ(back.provenance.generatorSeed, 301);
  EXPECT_EQ(back.provenance.model, "model X");
  // The provenance-only reader (used to pick a shipped response) gives the same provenance.
  const ResponseProvenance p = readSpinResponseProvenance(dir.file("r.json"));
  EXPECT_EQ(p.analysers, back.provenance.analysers);
  EXPECT_EQ(p.model, "model X");
  EXPECT_EQ(p.sampleAnalysed, back.provenance.sampleAnalysed);
  EXPECT_EQ(p.createdBy, back.provenance.createdBy);
  ASSERT_TRUE(back.find("combined") && r.find("combined"));
  const SpinVector raw = toVector(estimateSpin(buildAnalysers(meas.table, ac).events).value);
  const SpinVector a = r.find("combined")->apply(raw), b = back.find("combined")->apply(raw);
  EXPECT_LT((a - b).cwiseAbs().maxCoeff(), 1e-4);
  const SpinCovariance ca = r.find("combined")->calibrationCovariance(raw);
  const SpinCovariance cb = back.find("combined")->calibrationCovariance(raw);
  EXPECT_NEAR(std::sqrt(ca(14, 14)), std::sqrt(cb(14, 14)), 1e-3 * std::sqrt(ca(14, 14)));
  EXPECT_NEAR(r.find("combined")->conditionNumber(), back.find("combined")->conditionNumber(),
              1e-3 * r.find("combined")->conditionNumber());
  // Applies to an independent sample; refused on its own sample, for other analysers or another
  // selection.
  EXPECT_TRUE(checkSpinResponse(back, meas.table, ac).empty());
  EXPECT_THROW(checkSpinResponse(back, calib.table, ac), InputError);
  AnalyserConfig other = ac;
  other.lepton = LeptonAnalyser::Direction;
  EXPECT_THROW(checkSpinResponse(back, meas.table, other), ConfigError);
  other = ac;
  other.requireSignalRegion = false;
  EXPECT_THROW(checkSpinResponse(back, meas.table, other), ConfigError);
  // A different detector card is a warning, not a refusal.
  io::EventTable carded = meas.table;
  carded.setAttribute("detector_config", std::string("met: {}\n"));
  EXPECT_EQ(checkSpinResponse(back, carded, ac).size(), 1u);
  // A file reconstructed with another model than the response's is a warning naming both; the
  // same weights in another folder are not.
  io::EventTable remodelled = meas.table;
  SpinResponse withModel = back;
  withModel.provenance.model = "models/a (model.pt FNV-1a 0123456789abcdef)";
  remodelled.setAttribute(io::nuModelAttribute("smeared"),
                          std::string("/elsewhere/a (model.pt FNV-1a 0123456789abcdef)"));
  EXPECT_TRUE(checkSpinResponse(withModel, remodelled, ac).empty());
  remodelled.setAttribute(io::nuModelAttribute("smeared"),
                          std::string("models/b (model.pt FNV-1a fedcba9876543210)"));
  const auto w = checkSpinResponse(withModel, remodelled, ac);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("models/b"), std::string::npos) << w[0];
  // Not a response file.
  writeTextFileAtomically(dir.file("bad.json"), "{\"schema\": \"something-else\"}");
  EXPECT_THROW(readSpinResponse(dir.file("bad.json")), InputError);
  EXPECT_THROW(readSpinResponseProvenance(dir.file("bad.json")), InputError);
  writeTextFileAtomically(dir.file("truncated.json"), readText(dir.file("r.json")).substr(0, 400));
  EXPECT_THROW(readSpinResponseProvenance(dir.file("truncated.json")), InputError);
}

// `--calibration auto/shipped` takes the response fitted for the weights that reconstructed the
// measured file (its nu_<method>_model checksum), from data/spin-response/ or one of its folders,
// and the default response for any other or no recorded model.
TEST(SpinCalibration, ShippedResponseFollowsTheReconstructingModel) {
  const auto calib = makeSample(8000, 0.2, 311);
  const auto meas = makeSample(2000, 0.2, 312);
  AnalyserConfig ac;
  ac.method = "smeared";
  TempDir data;
  const std::filesystem::path root = data.path / "data" / "spin-response";
  std::filesystem::create_directories(root / "model_a");
  std::filesystem::create_directories(root / "model_b");
  const auto write = [&](const std::filesystem::path& file, const std::string& model) {
    writeSpinResponse(buildSpinResponse(calib.table, ac, quickFit(), model, false), file.string());
  };
  write(root / "smeared.json", "models/default (model.pt FNV-1a 1111111111111111)");
  write(root / "model_a" / "smeared.json", "models/a (model.pt FNV-1a aaaaaaaaaaaaaaaa)");
  write(root / "model_b" / "smeared.json", "models/b (model.pt FNV-1a bbbbbbbbbbbbbbbb)");
  // A damaged file of that name (its folder sorts first) is passed over, not an error.
  std::filesystem::create_directories(root / "a_damaged");
  writeTextFileAtomically((root / "a_damaged" / "smeared.json").string(), "{}");
  // Restored however the test ends (an ASSERT returns early), so later tests see the real tree.
  struct DataDirOverride {
    bool wasSet = std::getenv("NUREC_DATA_DIR") != nullptr;
    std::string saved = wasSet ? std::getenv("NUREC_DATA_DIR") : "";
    explicit DataDirOverride(const std::string& dir) { ::setenv("NUREC_DATA_DIR", dir.c_str(), 1); }
    ~DataDirOverride() {
      if (wasSet) {
        ::setenv("NUREC_DATA_DIR", saved.c_str(), 1);
      } else {
        ::unsetenv("NUREC_DATA_DIR");
      }
    }
  } dataDir(data.path.string());

  io::EventTable t = meas.table;
  const auto lookup = [&](const std::string& model) {
    t.setAttribute(io::nuModelAttribute("smeared"), model);
    return shippedSpinResponse(ac, &t);
  };
  EXPECT_EQ(shippedSpinResponse(ac), (root / "smeared.json").string());
  EXPECT_EQ(shippedSpinResponse(ac, &meas.table), (root / "smeared.json").string());  // no model
  // The same weights in any folder find their response; unknown weights get the default.
  EXPECT_EQ(lookup("/tmp/copy (model.pt FNV-1a bbbbbbbbbbbbbbbb)"),
            (root / "model_b" / "smeared.json").string());
  EXPECT_EQ(lookup("models/a (model.pt FNV-1a aaaaaaaaaaaaaaaa)"),
            (root / "model_a" / "smeared.json").string());
  EXPECT_EQ(lookup("models/default (model.pt FNV-1a 1111111111111111)"),
            (root / "smeared.json").string());
  EXPECT_EQ(lookup("models/c (model.pt FNV-1a cccccccccccccccc)"),
            (root / "smeared.json").string());
  EXPECT_EQ(lookup("models/b"), (root / "smeared.json").string());  // no checksum recorded
  // The estimator picks the file name: no posterior-mean response anywhere, so the default
  // name (that the caller reports as missing).
  AnalyserConfig pm = ac;
  pm.candidates = CandidateUse::PosteriorMean;
  t.setAttribute(io::nuModelAttribute("smeared"),
                 std::string("models/b (model.pt FNV-1a bbbbbbbbbbbbbbbb)"));
  EXPECT_EQ(shippedSpinResponse(pm, &t),
            shippedFile("data/spin-response/smeared-posterior-mean.json"));
  // `nurec spin --calibration shipped` uses it, and the model check then has nothing to warn.
  SpinConfig sc;
  sc.analysers = ac;
  EXPECT_EQ(resolveSpinCalibration("shipped", t, "", 1, sc), "");
  EXPECT_EQ(sc.calibrationSource, (root / "model_b" / "smeared.json").string());
  ASSERT_TRUE(sc.response);
  EXPECT_TRUE(checkSpinResponse(*sc.response, t, ac).empty());
}

// HepMC3 input carries no spin state: putTruth leaves the datasets out and marks the file;
// old files with all-zero spin datasets read as unknown too; spin then has no truth reference.
TEST(SpinCalibration, UnknownSpinTruthIsNeverZeros) {
  const auto sample = makeSample(3000, 0.1, 401);
  io::EventTable t(sample.table.nEvents());
  io::putTruth(t, io::getTruth(sample.table), io::SpinTruthContent::Unknown);
  EXPECT_FALSE(t.has(io::ds::spinB));
  EXPECT_FALSE(t.has(io::ds::spinC));
  EXPECT_EQ(t.stringAttribute(io::kSpinTruthAttribute), io::kSpinTruthUnknown);
  EXPECT_EQ(spinTruthOf(t), SpinTruth::Unknown);
  EXPECT_EQ(spinTruthOf(sample.table), SpinTruth::Known);
  SpinConfig cfg = quickConfig("truth");
  cfg.analysers.requireSignalRegion = false;
  const SpinReport rep = measureSpin(t, cfg);
  EXPECT_FALSE(rep.spinTruthKnown);
  EXPECT_FALSE(rep.subsets.at(0).hasReference);
  for (const auto& z : rep.subsets.at(0).significance)
    EXPECT_TRUE(std::isnan(z.zExpectedAtReference)) << z.statistic;  // no truth, no expectation
  EXPECT_NE(spinReportJson(rep).find("\"spin_truth\": \"unknown\""), std::string::npos);
  EXPECT_THROW(buildSpinResponse(t, cfg.analysers, quickFit(), "", false), InputError);
  cfg.closureTest = true;
  EXPECT_THROW(measureSpin(t, cfg), InputError);
  // Files written before the fix: zeros.
  io::EventTable zeros = sample.table;
  const std::size_t n = zeros.nEvents();
  zeros.set(io::ds::spinB, {2, 3}, std::vector<double>(6 * n, 0.0));
  zeros.set(io::ds::spinC, {3, 3}, std::vector<double>(9 * n, 0.0));
  EXPECT_EQ(spinTruthOf(zeros), SpinTruth::Unknown);
  cfg.closureTest = false;
  EXPECT_FALSE(measureSpin(zeros, cfg).subsets.at(0).hasReference);
}

// Pions exactly along +-k with x+_k x-_k = -1 in 68 % of the events: raw C_kk = 3.24, where the
// section 8 variance 9 - C^2 < 0 degenerates. The error comes from the observed (sandwich)
// variance instead of printing 0.000, and the result is flagged and kept out of the channel
// combination.
TEST(SpinCalibration, DegenerateAnalyticErrorIsNeverZeroAndAbsurdValuesAreFlagged) {
  const std::size_t n = 4000;
  std::vector<TruthEvent> truth(n);
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(7, i, streams::quantum);
    const auto kin = testing::randomPair(rng);
    const double sPlus = rng.uniform() < 0.5 ? 1 : -1;
    const double product = rng.uniform() < 0.68 ? -1 : 1;
    truth[i] = testing::pionPairEvent(kin, {sPlus, 0, 0}, {sPlus * product, 0, 0});
  }
  io::EventTable t(n);
  io::putTruth(t, truth, io::SpinTruthContent::Unknown);
  t.setSource("degenerate");
  SpinConfig cfg = quickConfig("truth");
  cfg.bootstrap.replicas = 20;
  const SpinReport rep = measureSpin(t, cfg);
  ASSERT_GE(rep.subsets.size(), 2u);  // combined and pipi
  const SubsetReport& s = rep.subsets[0];
  const ParameterResult* ckk = nullptr;
  for (const auto& p : s.raw)
    if (p.name == "C_kk") ckk = &p;
  ASSERT_NE(ckk, nullptr);
  EXPECT_NEAR(ckk->value, 3.24, 0.2);
  EXPECT_TRUE(std::isfinite(ckk->stat) && ckk->stat > 0.01) << ckk->stat;
  const std::string md = spinReportMarkdown(rep);
  EXPECT_EQ(md.find("± 0.000 "), std::string::npos) << md;
  EXPECT_EQ(md.find("± 0.000|"), std::string::npos);
  bool flagged = false;
  for (const auto& f : s.flags) flagged |= f.find("unphysical C_kk") != std::string::npos;
  EXPECT_TRUE(flagged);
  EXPECT_FALSE(rep.subsets[1].flags.empty());
  EXPECT_EQ(rep.channelsExcluded, std::vector<std::string>{"pipi"});
  EXPECT_TRUE(rep.channelCombination.empty());
  EXPECT_NE(spinSummaryLine(rep, 140, "x.json").find("FLAGGED: unphysical C_kk"),
            std::string::npos);
  EXPECT_NE(spinReportJson(rep).find("unphysical C_kk"), std::string::npos);
  EXPECT_EQ(formatValueError(0.5, 0), "0.500 ± n/a");
  EXPECT_EQ(formatValueError(0.5, 0.0002), "0.50000 ± 0.00020");
  EXPECT_EQ(formatValueError(0.5, std::nan("")), "0.500 ± n/a");
}

// A sample without spin correlations: the entanglement witness is negative, so is its Z, which is
// flagged (not printed as a bare -237) and kept out of the channel combination.
TEST(SpinCalibration, NegativeSignificanceIsFlagged) {
  const auto sample = makeSample(8000, 0.0, 501, 0.0);
  SpinConfig cfg = quickConfig("truth");
  cfg.analysers.requireSignalRegion = false;
  const SpinReport rep = measureSpin(sample.table, cfg);
  const SubsetReport& s = rep.subsets.at(0);
  bool negD = false;
  for (const auto& sig : s.significance)
    if (sig.statistic == "entanglement_D") {
      EXPECT_LT(sig.zAtLumi, 0);
      EXPECT_TRUE(std::isnan(sig.zAtLumiWithCalibration));  // not calibrated: no "incl. cal."
    }
  for (const auto& f : s.flags)
    negD |= f.find("negative Z for entanglement_D") != std::string::npos;
  EXPECT_TRUE(negD);
  EXPECT_EQ(rep.channelsExcluded, std::vector<std::string>{"pipi"});
  EXPECT_NE(spinReportMarkdown(rep).find("⚠ "), std::string::npos);
}

// Issue 22 item 5: a file without /weight is an error for every method (it used to count each
// event as 1 pb for reconstructions and fail only for --method truth).
TEST(SpinCalibration, MissingWeightIsAnErrorForEveryMethod) {
  auto sample = makeSample(500, 0.1, 601);
  sample.table.erase(io::ds::weight);
  for (const char* method : {"truth", "smeared"}) {
    try {
      measureSpin(sample.table, quickConfig(method));
      ADD_FAILURE() << method << ": no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("/weight"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace nurec::quantum
