#include "nurec/quantum/SpinMeasurement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>

#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/ShippedFiles.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/SpinInput.hpp"

namespace nurec::quantum {

namespace {

const std::vector<std::string> kLinearStatistics = {"entanglement_D", "bell_45", "bell_opt"};

// The first positive finite error of the candidates, else NaN ("n/a"): the section 8 formula
// degenerates (variance <= 0) for |C_ij| > 3 or |B_i| > sqrt(3), which only unphysical
// estimates reach, and a clipped observable has a zero delta-method gradient.
double firstPositive(std::initializer_list<double> candidates) {
  for (double e : candidates)
    if (std::isfinite(e) && e > 0) return e;
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<ParameterResult> rawParameters(const SpinMeasurementResult& m) {
  std::vector<ParameterResult> out;
  const SpinVector v = toVector(m.estimate.value), e = toVector(m.estimate.errorAnalytic),
                   b = toVector(m.errorBootstrap);
  const SpinCovariance& cov = m.estimate.covariance;
  for (int a = 0; a < kNumSpinParameters; ++a)
    out.push_back({spinParameterName(a), v(a),
                   firstPositive({e(a), std::sqrt(std::max(0.0, cov(a, a))), b(a)}), b(a), 0});
  return out;
}

double sdOf(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = 0;
  for (double x : v) m += x / static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// The K of docs/physics.md section 5: (a_tau^2 - v_tau^2)/(a_tau^2 + v_tau^2) = 0.9887.
double zKFactor() {
  const double v = -0.25 + constants::sin2ThetaW, a = -0.25;
  return (a * a - v * v) / (a * a + v * v);
}

KinematicCrossCheck kinematicApproach(const std::vector<AnalyserEvent>& events) {
  KinematicCrossCheck k;
  double sw = 0, sw2 = 0, s1 = 0, s2 = 0;
  for (const auto& e : events) {
    const double c = e.cosTheta, f = (1 - c * c) / (1 + c * c);
    sw += e.weight;
    sw2 += e.weight * e.weight;
    s1 += e.weight * f;
    s2 += e.weight * f * f;
  }
  if (!(sw > 0)) return k;
  const double mean = s1 / sw, var = std::max(0.0, s2 / sw - mean * mean);
  k.meanSin2Over1PlusC2 = mean;
  k.error = std::sqrt(var * sw2) / sw;
  k.kFactorZ = zKFactor();
  k.photonLike.c = {{{1, 0, 0}, {0, mean, 0}, {0, 0, -mean}}};
  k.zLike.c = {{{1, 0, 0}, {0, -k.kFactorZ * mean, 0}, {0, 0, k.kFactorZ * mean}}};
  k.concurrencePhotonLike = concurrenceXState(k.photonLike);
  k.concurrenceZLike = concurrenceXState(k.zLike);
  return k;
}

// A measured state with its stat covariance (calibrated if a calibration is given), and the
// bootstrap replicas when asked for.
struct Measured {
  SpinVector theta;
  SpinCovariance cov;
  SpinCovariance calibCov = SpinCovariance::Zero();
  std::vector<SpinVector> replicas;
  double nEff = 0, sumW = 0;
  bool calibrated = false;
};

Measured measuredState(const std::vector<AnalyserEvent>& events, const Calibration* cal,
                       const BootstrapConfig* boot = nullptr) {
  BootstrapConfig none;
  none.replicas = 0;
  const SpinMeasurementResult r = measure(events, boot ? *boot : none);
  Measured m;
  m.theta = toVector(r.estimate.value);
  m.cov = r.estimate.covariance;
  m.replicas = r.replicas;
  m.nEff = r.estimate.nEffective;
  m.sumW = r.estimate.sumWeights;
  if (!cal || !cal->valid()) return m;
  m.calibCov = cal->calibrationCovariance(m.theta);
  m.theta = cal->apply(m.theta);
  m.cov = cal->propagate(m.cov);
  for (auto& v : m.replicas) v = cal->apply(v);
  m.calibrated = true;
  return m;
}

std::map<std::string, double> keyQuantities(const Measured& m, const SpinConfig& cfg) {
  std::map<std::string, double> q;
  const SpinState s = fromVector(m.theta);
  for (const char* p : {"B+_k", "B-_k", "C_kk", "C_rr", "C_nn", "C_rn"}) {
    for (int a = 0; a < kNumSpinParameters; ++a)
      if (spinParameterName(a) == p) q[p] = m.theta(a);
  }
  for (const char* o :
       {"concurrence", "concurrence_unbiased", "m12", "entanglement_D", "bell_45", "bell_opt"})
    q[o] = observableValue(o, s);
  const LinearStatistics lin = LinearStatistics::chooseFor(s);
  const double sPerFb = signalPerInvFb(m.sumW, cfg.significance);
  for (const auto& name : kLinearStatistics) {
    const double err = deltaMethodError(lin.gradient(name), m.cov);
    SignificanceConfig sc = cfg.significance;
    sc.lumiScanInvFb.clear();
    q["Z_" + name] =
        linearSignificance(name, lin.evaluate(name, s), err, m.nEff, sPerFb, sc).zAtLumi;
  }
  return q;
}

// Only a calibrated result has a calibration uncertainty; uncalibrated ones carry NaN (JSON null,
// "-" in the table) rather than a copy of the statistical numbers.
void withCalibrationUncertainty(SignificanceResult& res, bool calibrated, double cal,
                                double signalPerInvFb, const SignificanceConfig& cfg) {
  if (calibrated) {
    addCalibrationUncertainty(res, cal, signalPerInvFb, cfg);
    return;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  res.calibrationError = res.zAtLumiWithCalibration = res.lumiFor5SigmaWithCalibration = nan;
}

// docs/quantum.md "Flags": what makes the shown (calibrated, else raw) result of a subset
// untrustworthy.
void flagSubset(SubsetReport& r, const SpinConfig& cfg) {
  const auto& ps = r.isCalibrated ? r.calibrated : r.raw;
  const auto& os = r.isCalibrated ? r.calibratedObservables : r.rawObservables;
  for (const char* n : {"C_kk", "C_rr", "C_nn"})
    for (const auto& p : ps)
      if (p.name == n && !(std::abs(p.value) <= cfg.maxAbsDiagonalC))
        r.flags.push_back(
            fmt::format("unphysical {} = {:.3g} (|C_ii| > {})", n, p.value, cfg.maxAbsDiagonalC));
  for (const auto& o : os)
    if (o.name == "concurrence_unbiased") {
      const double e = std::isfinite(o.stat) ? o.stat : 0;
      if (o.value < -cfg.concurrenceSigmas * e || o.value > 1 + cfg.concurrenceSigmas * e)
        r.flags.push_back(
            fmt::format("concurrence {:.3g} ± {:.2g} outside [0, 1] by more than {} σ", o.value, e,
                        cfg.concurrenceSigmas));
    }
  if (r.isCalibrated && !(r.responseConditionNumber <= cfg.maxConditionNumber))
    r.flags.push_back(fmt::format("ill-conditioned response: cond(R) = {:.3g} > {}",
                                  r.responseConditionNumber, cfg.maxConditionNumber));
  for (const auto& s : r.significance)
    if (s.zAtLumi < 0)
      r.flags.push_back(
          fmt::format("negative Z for {} (statistic {:.3g} < 0)", s.statistic, s.value));
}

SubsetReport analyseSubset(const std::string& name, const std::vector<AnalyserEvent>& events,
                           const SpinConfig& cfg, const Calibration* cal, bool calibrationRequested,
                           const std::vector<SpinState>* production) {
  SubsetReport r;
  r.channel = name;
  if (production) {
    SpinVector ref = SpinVector::Zero();
    double w = 0;
    for (const auto& e : events) {
      const double g = e.weight * termsOf(e).w2;
      ref += g * toVector((*production)[e.row]);
      w += g;
    }
    if (w > 0) {
      ref /= w;
      r.hasReference = true;
      r.reference.assign(ref.data(), ref.data() + kNumSpinParameters);
      for (const auto& d : observableDefinitions())
        r.referenceObservables[d.name] = d.compute(fromVector(ref));
    }
  }
  const SpinMeasurementResult m = measure(events, cfg.bootstrap);
  r.nEvents = m.estimate.nEvents;
  r.sumWeightsPb = m.estimate.sumWeights;
  r.nEffective = m.estimate.nEffective;
  r.signalPerInvFb = signalPerInvFb(r.sumWeightsPb, cfg.significance);
  r.raw = rawParameters(m);
  for (const auto& o : m.observables)
    r.rawObservables.push_back({o.name, o.value, firstPositive({o.errorAnalytic, o.errorBootstrap}),
                                o.errorBootstrap, o.bootstrapBias, 0});
  r.kinematic = kinematicApproach(events);
  SpinVector theta = toVector(m.estimate.value);
  SpinCovariance cov = m.estimate.covariance, calCov = SpinCovariance::Zero();
  std::vector<SpinVector> reps = m.replicas;
  if (cal && cal->valid()) {
    r.isCalibrated = true;
    r.calibrationNeffFraction = cal->minEffectiveEventsFraction();
    r.responseConditionNumber = cal->conditionNumber();
    calCov = cal->calibrationCovariance(theta);
    theta = cal->apply(theta);
    cov = cal->propagate(cov);
    for (auto& v : reps) v = cal->apply(v);
    std::vector<std::vector<double>> repVals(kNumSpinParameters);
    for (const auto& v : reps)
      for (int a = 0; a < kNumSpinParameters; ++a) repVals[a].push_back(v(a));
    for (int a = 0; a < kNumSpinParameters; ++a) {
      const double sd = sdOf(repVals[a]);
      r.calibrated.push_back({spinParameterName(a), theta(a),
                              firstPositive({std::sqrt(std::max(0.0, cov(a, a))), sd}), sd,
                              std::sqrt(std::max(0.0, calCov(a, a)))});
    }
    for (const auto& d : observableDefinitions()) {
      ObservableSummary o;
      o.name = d.name;
      o.value = d.compute(fromVector(theta));
      const SpinVector g = numericGradient(d.compute, theta);
      o.calibration = deltaMethodError(g, calCov);
      std::vector<double> vals;
      double mean = 0;
      for (const auto& v : reps) {
        vals.push_back(d.compute(fromVector(v)));
        mean += vals.back() / static_cast<double>(reps.size());
      }
      o.statBootstrap = sdOf(vals);
      o.stat = firstPositive({deltaMethodError(g, cov), o.statBootstrap});
      o.bootstrapBias = reps.empty() ? 0 : mean - o.value;
      r.calibratedObservables.push_back(o);
    }
  }
  if (calibrationRequested && !r.isCalibrated) {
    r.calibrationFailed = true;
    r.flags.push_back(
        "calibration failed: no valid response for this subset (raw values, no significance)");
    flagSubset(r, cfg);
    return r;  // no significance from uncalibrated values when a calibration was requested
  }
  // Significance (statistical) of the calibrated (else raw) values.
  const SpinState s = fromVector(theta);
  const LinearStatistics lin = LinearStatistics::chooseFor(s);
  // The truth reference's state and its statistics, for the expected significance.
  const SpinState ref =
      r.hasReference ? fromVector(Eigen::Map<const SpinVector>(r.reference.data())) : SpinState{};
  const LinearStatistics atRef = LinearStatistics::chooseFor(ref);
  for (const auto& stat : kLinearStatistics) {
    const SpinVector g = lin.gradient(stat);
    auto res = linearSignificance(stat, lin.evaluate(stat, s), deltaMethodError(g, cov),
                                  r.nEffective, r.signalPerInvFb, cfg.significance);
    res.description =
        stat == "entanglement_D"
            ? fmt::format(
                  "entanglement witness D = s.diag(C) - 1, branch signs ({:+.0f},{:+.0f},{:+.0f})",
                  witnessSigns(lin.branch)[0], witnessSigns(lin.branch)[1],
                  witnessSigns(lin.branch)[2])
        : stat == "bell_45" ? fmt::format("sqrt2 ({}C_kk {} C_nn) - 2", lin.signKk > 0 ? "" : "-",
                                          lin.signNn > 0 ? "+" : "-")
                            : fmt::format("2 (cos phi C_kk + sin phi C_nn) - 2, phi = {:.1f} deg",
                                          lin.phiRad * 180 / constants::pi);
    withCalibrationUncertainty(res, r.isCalibrated, deltaMethodError(g, calCov), r.signalPerInvFb,
                               cfg.significance);
    if (r.hasReference)
      res.zExpectedAtReference =
          linearSignificance(stat, atRef.evaluate(stat, ref),
                             deltaMethodError(atRef.gradient(stat), cov), r.nEffective,
                             r.signalPerInvFb, cfg.significance)
              .zAtLumi;
    r.significance.push_back(res);
  }
  {
    // m12: asymptotic with the bootstrap bias removed; toys below (they include the bias).
    double bias = 0;
    for (const auto& o : (r.isCalibrated ? r.calibratedObservables : r.rawObservables))
      if (o.name == "m12") bias = o.bootstrapBias;
    const double m12 = horodeckiM12(s.c) - bias;
    const SpinVector g =
        numericGradient([](const SpinState& x) { return horodeckiM12(x.c); }, theta);
    auto res = linearSignificance("m12", m12 - 1, deltaMethodError(g, cov), r.nEffective,
                                  r.signalPerInvFb, cfg.significance);
    res.description = "Horodecki m12 - 1 (bootstrap bias removed; asymptotic, see toys)";
    withCalibrationUncertainty(res, r.isCalibrated, deltaMethodError(g, calCov), r.signalPerInvFb,
                               cfg.significance);
    r.significance.push_back(res);
  }
  // Pseudo-experiments at the small-yield luminosities. The toys draw single unit analysers, which
  // do not describe candidate-averaged events: no toys for the posterior mean.
  if (cfg.significance.pseudoExperiments > 0 &&
      cfg.analysers.candidates == CandidateUse::Estimate &&
      (name == "combined" || cfg.significance.toysPerChannel)) {
    for (auto& res : r.significance) {
      std::vector<double> lumis = cfg.significance.toyLumiInvFb;
      if (lumis.empty()) {
        for (double l : cfg.significance.lumiScanInvFb)
          if (r.signalPerInvFb * l <= cfg.significance.maxToySignal) lumis.push_back(l);
        if (std::isfinite(res.lumiFor5Sigma) &&
            r.signalPerInvFb * res.lumiFor5Sigma <= 10 * cfg.significance.maxToySignal) {
          lumis.push_back(res.lumiFor5Sigma);
          SignificancePoint p5;
          p5.lumiInvFb = res.lumiFor5Sigma;
          p5.signal = r.signalPerInvFb * p5.lumiInvFb;
          p5.background = cfg.significance.backgroundPerInvFb * p5.lumiInvFb;
          p5.z = 5;
          res.scan.push_back(p5);
        }
      }
      std::sort(res.scan.begin(), res.scan.end(),
                [](const SignificancePoint& a, const SignificancePoint& b) {
                  return a.lumiInvFb < b.lumiInvFb;
                });
      for (double l : lumis) {
        const auto pt = pseudoExperiments(res.statistic, lin, s, events, l, r.signalPerInvFb,
                                          cfg.significance, r.isCalibrated ? cal : nullptr);
        for (auto& sp : res.scan)
          if (sp.lumiInvFb == l) {
            sp.zToys = pt.zToys;
            sp.toyMedian = pt.toyMedian;
            sp.toyNullMean = pt.toyNullMean;
            sp.toyNullSd = pt.toyNullSd;
          }
      }
    }
  }
  flagSubset(r, cfg);
  return r;
}

std::string stripUpDown(const std::string& s) {
  for (const char* suf : {"_up", "_down", "_Up", "_Down"}) {
    const std::string t = suf;
    if (s.size() > t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0)
      return s.substr(0, s.size() - t.size());
  }
  return s;
}

std::string configText(const SpinConfig& c) {
  const auto* resp = c.response.get();
  return fmt::format(
      "method: {}\nlepton_analyser: {}\nrho_analyser: {}\nrequire_signal_region: "
      "{}\nbootstrap_replicas: {}\n"
      "seed: {}\nlumi_fb: {}\nk_factor: {}\nefficiency: {}\nbackground_per_fb: {}\nsignal_per_fb: "
      "{}\npseudo_experiments: {}\ncalibration: {}\ncalibration_source: '{}'\n"
      "calibration_sample: '{}'\ncalibration_model: {}\nclosure_test: {}\n"
      "tau_mass_constraint: {}\ncandidate_replicas: {}\n",
      c.analysers.method,
      c.analysers.lepton == LeptonAnalyser::Direction         ? "direction"
      : c.analysers.lepton == LeptonAnalyser::DirectionEnergy ? "energy"
                                                              : "neutrino",
      c.analysers.rho == RhoAnalyser::Polarimeter ? "polarimeter" : "visible",
      c.analysers.requireSignalRegion, c.bootstrap.replicas, c.bootstrap.seed,
      c.significance.lumiInvFb, c.significance.kFactor, c.significance.efficiency,
      c.significance.backgroundPerInvFb, c.significance.signalPerInvFb,
      c.significance.pseudoExperiments,
      c.calibrationMode == CalibrationMode::Response ? "response" : "none", c.calibrationSource,
      resp ? resp->provenance.sampleFile : "", resp ? resp->provenance.calibrationModel : "-",
      c.closureTest, c.analysers.tauMassConstraint, c.candidateReplicas);
}

// Per-row reference of a subset's events (the g kappa+^2 kappa-^2 weighted production states).
SpinVector referenceOf(const std::vector<AnalyserEvent>& events,
                       const std::vector<SpinState>& production) {
  SpinVector truth = SpinVector::Zero();
  double w = 0;
  for (const auto& e : events) {
    const double g = e.weight * termsOf(e).w2;
    truth += g * toVector(production[e.row]);
    w += g;
  }
  return w > 0 ? SpinVector(truth / w) : truth;
}

// The closure diagnostic: response fitted on the input's even rows, applied to its odd rows.
ClosureReport closureTest(const io::EventTable& table, const AnalyserSet& set,
                          const SpinConfig& cfg) {
  ClosureReport c;
  const CalibrationInput calIn = prepareCalibration(table, cfg.analysers);
  const Calibration even(calIn, cfg.closureCalibration, Channel::None, RowSubset::Even);
  std::vector<AnalyserEvent> odd;
  for (const auto& e : set.events)
    if (e.row % 2 == 1) odd.push_back(e);
  if (!even.valid() || odd.size() <= 100) return c;
  const Measured mo = measuredState(odd, &even);
  const SpinVector truth = referenceOf(odd, calIn.production);
  c.done = true;
  c.nCalibration = even.nEvents();
  c.nTest = odd.size();
  for (int a = 0; a < kNumSpinParameters; ++a) {
    const double err = std::sqrt(std::max(0.0, mo.cov(a, a) + mo.calibCov(a, a)));
    c.calibrated.push_back({spinParameterName(a), mo.theta(a),
                            std::sqrt(std::max(0.0, mo.cov(a, a))), 0,
                            std::sqrt(std::max(0.0, mo.calibCov(a, a)))});
    c.truthValues.push_back(truth(a));
    const double pull =
        err > 0 ? (mo.theta(a) - truth(a)) / err : std::numeric_limits<double>::quiet_NaN();
    c.pulls.push_back(pull);
    if (std::isfinite(pull)) {
      c.chi2 += pull * pull;
      ++c.ndf;
    }
  }
  return c;
}

// Systematic shifts of the combined result (reconstruction variations, candidate re-sampling,
// calibration uncertainty) and their total.
void addSystematics(SpinReport& rep, const io::EventTable& table, const AnalyserSet& set,
                    const SpinConfig& cfg, const Calibration* cal0) {
  const Measured nominal = measuredState(set.events, cal0);
  const auto q0 = keyQuantities(nominal, cfg);
  std::vector<std::string> variations = cfg.variations;
  if (variations.empty() && cfg.autoVariations && cfg.analysers.method != "truth")
    for (const auto& m : io::nuMethods(table))
      if (m.rfind(cfg.analysers.method + "_", 0) == 0) variations.push_back(m);
  for (const auto& v : variations) {
    AnalyserConfig ac = cfg.analysers;
    ac.method = v;
    const auto vs = buildAnalysers(table, ac);
    if (vs.events.empty()) continue;
    const auto q = keyQuantities(measuredState(vs.events, cal0), cfg);
    SystematicShift s;
    s.source = v.substr(cfg.analysers.method.size() +
                        (v.rfind(cfg.analysers.method + "_", 0) == 0 ? 1 : 0));
    for (const auto& [k, val] : q) s.shift[k] = val - q0.at(k);
    rep.systematics.push_back(s);
  }
  // The posterior mean uses every candidate already: no re-sampling spread.
  if (cfg.candidateReplicas > 0 && cfg.analysers.method != "truth" &&
      cfg.analysers.candidates == CandidateUse::Estimate &&
      numCandidates(table, cfg.analysers.method) > 1) {
    std::map<std::string, std::vector<double>> vals;
    for (int r = 0; r < cfg.candidateReplicas; ++r) {
      AnalyserConfig ac = cfg.analysers;
      ac.neutrinoOverride =
          candidateNeutrinos(table, cfg.analysers.method, -1, cfg.bootstrap.seed + 1000 + r);
      const auto vs = buildAnalysers(table, ac);
      if (vs.events.empty()) continue;
      for (const auto& [k, val] : keyQuantities(measuredState(vs.events, cal0), cfg))
        vals[k].push_back(val);
    }
    SystematicShift s;
    s.source = "candidates";
    for (const auto& [k, v] : vals) s.shift[k] = sdOf(v);
    rep.systematics.push_back(s);
  }
  if (cal0) {
    SystematicShift s;
    s.source = "calibration";
    for (int a = 0; a < kNumSpinParameters; ++a)
      if (q0.count(spinParameterName(a)))
        s.shift[spinParameterName(a)] = std::sqrt(std::max(0.0, nominal.calibCov(a, a)));
    for (const auto& d : observableDefinitions())
      if (q0.count(d.name))
        s.shift[d.name] =
            deltaMethodError(numericGradient(d.compute, nominal.theta), nominal.calibCov);
    rep.systematics.push_back(s);
  }
  // Total: per group (up/down pairs) the larger shift, summed in quadrature over groups.
  std::map<std::string, std::map<std::string, double>> groups;
  for (const auto& s : rep.systematics)
    for (const auto& [k, v] : s.shift) {
      double& g = groups[stripUpDown(s.source)][k];
      g = std::max(g, std::abs(v));
    }
  for (const auto& [g, m] : groups)
    for (const auto& [k, v] : m) rep.totalSystematic[k] = std::hypot(rep.totalSystematic[k], v);
}

}  // namespace

void SpinConfig::validate() const {
  analysers.validate();
  bootstrap.validate();
  significance.validate();
  require(calibrationMode != CalibrationMode::Response || response != nullptr,
          "spin: calibration mode 'response' needs a response (nurec calibrate)");
  if (closureTest) closureCalibration.validate();
  require(maxAbsDiagonalC > 0 && concurrenceSigmas > 0 && maxConditionNumber > 1,
          "spin: flag thresholds must be positive (condition number > 1)");
  require(candidateReplicas >= 0 && candidateReplicas <= 10000,
          "spin: candidate replicas must be in [0, 1e4]");
}

SpinReport measureSpin(const io::EventTable& table, const SpinConfig& cfg) {
  cfg.validate();
  const auto start = std::chrono::steady_clock::now();
  SpinReport rep;
  rep.file = table.source();
  rep.method = cfg.analysers.method;
  rep.configText = configText(cfg);
  const AnalyserSet set = buildAnalysers(table, cfg.analysers);
  rep.nInput = set.nInput;
  rep.nSelected = set.nSelected;
  rep.nFailed = set.nFailed;
  rep.nNoAnalyser = set.nNoAnalyser;
  rep.nAnalysed = set.events.size();
  if (set.events.empty())
    throw InputError(fmt::format(
        "{}: no event with spin analysers for both taus (method {}: {} selected, {} failed, "
        "{} without analysers)",
        table.source(), cfg.analysers.method, set.nSelected, set.nFailed, set.nNoAnalyser));
  // The 15 parameters (B+, B-, C) have a 15 x 15 covariance that needs at least 16 events to be
  // non-singular; fewer gave numbers with zero or meaningless errors (docs/reliability.md).
  if (set.events.size() < kMinSpinEvents)
    throw InputError(
        fmt::format("{}: only {} event(s) with spin analysers for both taus (method {}); a spin "
                    "measurement needs at least {}",
                    table.source(), set.events.size(), cfg.analysers.method, kMinSpinEvents));
  // The truth reference, when the file carries its per-event spin state (not for HepMC3 input).
  rep.spinTruthKnown = spinTruthOf(table) == SpinTruth::Known;
  std::optional<std::vector<SpinState>> production;
  if (rep.spinTruthKnown) production = productionStates(table);
  const std::vector<SpinState>* prod = production ? &*production : nullptr;
  if (cfg.closureTest && !rep.spinTruthKnown)
    throw InputError(fmt::format(
        "{}: the closure test needs the per-event spin state (/truth/spin_b, spin_c), which this "
        "file does not carry",
        table.source()));
  const SpinResponse* response =
      cfg.calibrationMode == CalibrationMode::Response ? cfg.response.get() : nullptr;
  if (response) {
    rep.calibrationWarnings = checkSpinResponse(*response, table, cfg.analysers);
    rep.calibrationSource =
        cfg.calibrationSource.empty() ? response->provenance.sampleFile : cfg.calibrationSource;
  }
  // Steps: combined + 7 channels + systematics + closure.
  Progress progress("spin " + cfg.analysers.method, kNumChannels + 3, cfg.showProgress);
  rep.subsets.push_back(analyseSubset("combined", set.events, cfg,
                                      response ? response->find("combined") : nullptr,
                                      response != nullptr, prod));
  progress.advance();
  double sumAll = 0;
  for (const auto& e : set.events) sumAll += e.weight;
  for (int c = 0; c < kNumChannels; ++c) {
    progress.advance();
    const Channel ch = static_cast<Channel>(c);
    std::vector<AnalyserEvent> sub;
    double sumSub = 0;
    for (const auto& e : set.events)
      if (e.channel == ch) {
        sub.push_back(e);
        sumSub += e.weight;
      }
    if (sub.size() < cfg.minChannelEvents) continue;
    // A fixed total signal yield (and the background) is shared among the channels in
    // proportion to their sum of weights.
    SpinConfig subCfg = cfg;
    if (sumAll > 0) {
      subCfg.significance.signalPerInvFb *= sumSub / sumAll;
      subCfg.significance.backgroundPerInvFb *= sumSub / sumAll;
    }
    rep.subsets.push_back(analyseSubset(channelName(ch), sub, subCfg,
                                        response ? response->find(channelName(ch)) : nullptr,
                                        response != nullptr, prod));
  }
  // Channel combination of the statistical Z, without the flagged channels.
  for (std::size_t k = 1; k < rep.subsets.size(); ++k) {
    const auto& s = rep.subsets[k];
    if (!s.flags.empty()) {
      rep.channelsExcluded.push_back(s.channel);
      continue;
    }
    for (const auto& z : s.significance)
      if (z.statistic != "m12")
        rep.channelCombination[z.statistic] =
            std::hypot(rep.channelCombination[z.statistic], z.zAtLumi);
  }
  addSystematics(rep, table, set, cfg,
                 rep.subsets[0].isCalibrated ? response->find("combined") : nullptr);
  progress.advance();
  if (cfg.closureTest) rep.closure = closureTest(table, set, cfg);
  progress.advance();  // the closure step (done or skipped)
  progress.finish();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return rep;
}

namespace {

// Generator-level cuts recorded in the file (nonzero min_visible_pt, ...): they sculpt the
// analysers like a detector selection does.
bool hasGeneratorCuts(const io::EventTable& table) {
  std::istringstream in(generatorPhaseSpace(table));
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.rfind("m", 0) != 0) continue;  // min_/max_ cut lines
    if (std::strtod(line.c_str() + colon + 1, nullptr) != 0) return true;
  }
  return false;
}

}  // namespace

std::string resolveSpinCalibration(const std::string& choice, const io::EventTable& measured,
                                   const std::string& measuredPath, int threads, SpinConfig& c) {
  std::string source = choice;
  if (source == "self")
    throw ConfigError(
        "--calibration self no longer exists: a response fitted on the measured events "
        "reproduces their truth by construction. Use --calibration RESPONSE (from `nurec "
        "calibrate` on an independent sample), the shipped response (auto), or --closure-test "
        "for the even/odd diagnostic");
  if (source == "none") return "";
  if (source == "auto") {
    if (selectionOf(measured, c.analysers) != "signal region")
      return fmt::format(
          "{} has no detector selection (/reco/pass_sr): raw estimates, no calibration{}",
          measuredPath.empty() ? std::string("the input") : measuredPath,
          hasGeneratorCuts(measured)
              ? "; WARNING: its generator-level cuts sculpt the analysers, pass "
                "--calibration RESPONSE fitted on a sample with the same cuts"
              : " needed");
    source = "shipped";
  }
  if (source == "shipped") {
    source = shippedSpinResponse(c.analysers, &measured);
    if (!std::filesystem::exists(source))
      throw InputError(fmt::format(
          "no shipped spin response for method '{}' ({}): build one with `nurec calibrate "
          "SAMPLE.h5 --method {} --out response.json` on an independent sample and pass "
          "--calibration response.json, or --calibration none for raw estimates",
          c.analysers.method,
          shippedFileSearchText("data/spin-response/" +
                                std::filesystem::path(source).filename().string()),
          c.analysers.method));
  }
  if (!std::filesystem::exists(source))
    throw InputError(fmt::format("--calibration {}: no such file", source));
  if (!measuredPath.empty() && std::filesystem::exists(measuredPath) &&
      std::filesystem::equivalent(source, measuredPath))
    throw ConfigError(fmt::format(
        "--calibration {} is the measured file itself: a response fitted on the measured events "
        "reproduces their truth by construction; use an independent sample",
        source));
  c.calibrationMode = CalibrationMode::Response;
  c.calibrationSource = source;
  if (isSpinResponseFile(source)) {
    c.response = std::make_shared<SpinResponse>(readSpinResponse(source));
  } else {
    // An event sample: fit the response on it now (as `nurec calibrate` would).
    std::size_t eventsInFile = 0;
    const io::EventTable sample =
        readCalibrationSample(source, c.analysers.method, !c.analysers.requireSignalRegion,
                              io::kDefaultChunkEvents, &eventsInFile);
    CalibrationConfig fit;
    fit.threads = threads;
    SpinResponse response = buildSpinResponse(sample, c.analysers, fit, "", c.showProgress);
    response.provenance.sampleEvents = eventsInFile;
    c.response = std::make_shared<SpinResponse>(std::move(response));
  }
  return "";
}

}  // namespace nurec::quantum
