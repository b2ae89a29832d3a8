#include "quantum/SpinMeasurement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/Progress.hpp"
#include "core/Units.hpp"
#include "io/EventFile.hpp"
#include "io/Schema.hpp"

namespace nurec::quantum {

namespace {

const std::vector<std::string> kLinearStatistics = {"entanglement_D", "bell_45", "bell_opt"};

std::vector<ParameterResult> rawParameters(const SpinMeasurementResult& m) {
  std::vector<ParameterResult> out;
  const SpinVector v = toVector(m.estimate.value), e = toVector(m.estimate.errorAnalytic),
                   b = toVector(m.errorBootstrap);
  for (int a = 0; a < kNumSpinParameters; ++a)
    out.push_back({spinParameterName(a), v(a), e(a), b(a), 0});
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

SpinVector numericGradient(double (*f)(const SpinState&), const SpinVector& theta) {
  SpinVector g;
  for (int a = 0; a < kNumSpinParameters; ++a) {
    const double h = 1e-5;
    SpinVector up = theta, dn = theta;
    up(a) += h;
    dn(a) -= h;
    g(a) = (f(fromVector(up)) - f(fromVector(dn))) / (2 * h);
  }
  return g;
}

double quadForm(const SpinVector& g, const SpinCovariance& c) {
  return std::sqrt(std::max(0.0, g.dot(c * g)));
}

// The K of physics.md section 5: (a_tau^2 - v_tau^2)/(a_tau^2 + v_tau^2) = 0.9887.
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

// The calibrations of one event subset: from an independent sample (File) or, for Self, two-fold:
// the even rows are calibrated with the response fitted on the odd rows and vice versa, so no
// event is calibrated with a response that has seen it (a response fitted on the measured events
// themselves absorbs their statistical fluctuation and closes by construction).
struct CalibrationSet {
  std::optional<Calibration> all, even, odd;
  bool twoFold = false;
  bool valid() const {
    return twoFold ? (even && even->valid() && odd && odd->valid()) : (all && all->valid());
  }
  const Calibration* any() const {
    if (!valid()) return nullptr;
    return twoFold ? &*even : &*all;
  }
};

CalibrationSet makeCalibrations(const CalibrationInput& in, const CalibrationConfig& cfg,
                                Channel ch, bool twoFold) {
  CalibrationSet cs;
  cs.twoFold = twoFold;
  if (twoFold) {
    cs.even.emplace(in, cfg, ch, RowSubset::Even);
    cs.odd.emplace(in, cfg, ch, RowSubset::Odd);
  } else {
    cs.all.emplace(in, cfg, ch, RowSubset::All);
  }
  return cs;
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

Measured measuredState(const std::vector<AnalyserEvent>& events, const CalibrationSet* cs,
                       const BootstrapConfig* boot = nullptr) {
  BootstrapConfig none;
  none.replicas = 0;
  const BootstrapConfig& b = boot ? *boot : none;
  Measured m;
  auto fill = [](const SpinMeasurementResult& r, Measured& out) {
    out.theta = toVector(r.estimate.value);
    out.cov = r.estimate.covariance;
    out.replicas = r.replicas;
    out.nEff = r.estimate.nEffective;
    out.sumW = r.estimate.sumWeights;
  };
  fill(measure(events, b), m);
  if (!cs || !cs->valid()) return m;
  if (!cs->twoFold) {
    const Calibration& c = *cs->all;
    m.calibCov = c.calibrationCovariance(m.theta);
    m.theta = c.apply(m.theta);
    m.cov = c.propagate(m.cov);
    for (auto& v : m.replicas) v = c.apply(v);
    m.calibrated = true;
    return m;
  }
  std::vector<AnalyserEvent> even, odd;
  for (const auto& e : events) (e.row % 2 == 0 ? even : odd).push_back(e);
  Measured me, mo;
  try {
    fill(measure(even, b), me);
    fill(measure(odd, b), mo);
  } catch (const InputError&) {
    return m;  // a half without usable events: leave uncalibrated
  }
  const Calibration& ce = *cs->even;  // fitted on even rows: calibrates the odd half
  const Calibration& co = *cs->odd;
  m.theta = 0.5 * (co.apply(me.theta) + ce.apply(mo.theta));
  m.cov = 0.25 * (co.propagate(me.cov) + ce.propagate(mo.cov));
  m.calibCov = 0.25 * (co.calibrationCovariance(me.theta) + ce.calibrationCovariance(mo.theta));
  m.replicas.clear();
  for (std::size_t r = 0; r < std::min(me.replicas.size(), mo.replicas.size()); ++r)
    m.replicas.push_back(0.5 * (co.apply(me.replicas[r]) + ce.apply(mo.replicas[r])));
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
    const double err = quadForm(lin.gradient(name), m.cov);
    SignificanceConfig sc = cfg.significance;
    sc.lumiScanInvFb.clear();
    q["Z_" + name] =
        linearSignificance(name, lin.evaluate(name, s), err, m.nEff, sPerFb, sc).zAtLumi;
  }
  return q;
}

SubsetReport analyseSubset(const std::string& name, const std::vector<AnalyserEvent>& events,
                           const SpinConfig& cfg, const CalibrationSet* cs,
                           const std::vector<SpinState>* production) {
  SubsetReport r;
  r.channel = name;
  if (production) {
    SpinVector ref = SpinVector::Zero();
    double w = 0;
    for (const auto& e : events) {
      const double g = e.weight * std::pow(e.kappaPlus * e.kappaMinus, 2);
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
    r.rawObservables.push_back(
        {o.name, o.value, o.errorAnalytic, o.errorBootstrap, o.bootstrapBias, 0});
  r.kinematic = kinematicApproach(events);
  SpinVector theta = toVector(m.estimate.value);
  SpinCovariance cov = m.estimate.covariance, calCov = SpinCovariance::Zero();
  std::vector<SpinVector> reps = m.replicas;
  const Calibration* cal = cs ? cs->any() : nullptr;
  const Measured mc = cal ? measuredState(events, cs, &cfg.bootstrap) : Measured{};
  if (cal && mc.calibrated) {
    r.isCalibrated = true;
    r.calibrationNeffFraction = cal->minEffectiveEventsFraction();
    calCov = mc.calibCov;
    theta = mc.theta;
    cov = mc.cov;
    reps = mc.replicas;
    std::vector<std::vector<double>> repVals(kNumSpinParameters);
    for (const auto& v : reps)
      for (int a = 0; a < kNumSpinParameters; ++a) repVals[a].push_back(v(a));
    for (int a = 0; a < kNumSpinParameters; ++a)
      r.calibrated.push_back({spinParameterName(a), theta(a), std::sqrt(std::max(0.0, cov(a, a))),
                              sdOf(repVals[a]), std::sqrt(std::max(0.0, calCov(a, a)))});
    for (const auto& d : observableDefinitions()) {
      ObservableSummary o;
      o.name = d.name;
      o.value = d.compute(fromVector(theta));
      const SpinVector g = numericGradient(d.compute, theta);
      o.stat = quadForm(g, cov);
      o.calibration = quadForm(g, calCov);
      std::vector<double> vals;
      double mean = 0;
      for (const auto& v : reps) {
        vals.push_back(d.compute(fromVector(v)));
        mean += vals.back() / static_cast<double>(reps.size());
      }
      o.statBootstrap = sdOf(vals);
      o.bootstrapBias = reps.empty() ? 0 : mean - o.value;
      r.calibratedObservables.push_back(o);
    }
  }
  if (cs && !r.isCalibrated) {
    r.calibrationFailed = true;
    return r;  // no significance from uncalibrated values when a calibration was requested
  }
  // Significance (statistical) of the calibrated (else raw) values.
  const SpinState s = fromVector(theta);
  const LinearStatistics lin = LinearStatistics::chooseFor(s);
  for (const auto& stat : kLinearStatistics) {
    const SpinVector g = lin.gradient(stat);
    auto res = linearSignificance(stat, lin.evaluate(stat, s), quadForm(g, cov), r.nEffective,
                                  r.signalPerInvFb, cfg.significance);
    res.description =
        stat == "entanglement_D"
            ? fmt::format(
                  "entanglement witness D = s.diag(C) - 1, branch signs ({:+.0f},{:+.0f},{:+.0f})",
                  witnessSigns(lin.branch)[0], witnessSigns(lin.branch)[1],
                  witnessSigns(lin.branch)[2])
        : stat == "bell_45" ? fmt::format("sqrt2 (C_kk {} C_nn) - 2", lin.signNn > 0 ? "+" : "-")
                            : fmt::format("2 (cos phi C_kk + sin phi C_nn) - 2, phi = {:.1f} deg",
                                          lin.phiRad * 180 / constants::pi);
    addCalibrationUncertainty(res, quadForm(g, calCov), r.signalPerInvFb, cfg.significance);
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
    auto res = linearSignificance("m12", m12 - 1, quadForm(g, cov), r.nEffective, r.signalPerInvFb,
                                  cfg.significance);
    res.description = "Horodecki m12 - 1 (bootstrap bias removed; asymptotic, see toys)";
    addCalibrationUncertainty(res, quadForm(g, calCov), r.signalPerInvFb, cfg.significance);
    r.significance.push_back(res);
  }
  // Pseudo-experiments at the small-yield luminosities.
  if (cfg.significance.pseudoExperiments > 0 &&
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
  const char* modes[] = {"none", "self", "file"};
  return fmt::format(
      "method: {}\nlepton_analyser: {}\nrho_analyser: {}\nrequire_signal_region: "
      "{}\nbootstrap_replicas: {}\n"
      "seed: {}\nlumi_fb: {}\nk_factor: {}\nefficiency: {}\nbackground_per_fb: {}\nsignal_per_fb: "
      "{}\n"
      "pseudo_experiments: {}\ncalibration: {}\ncalibration_file: '{}'\ncalibration_targets: {}\n"
      "calibration_mixing: {}\ncalibration_replicas: {}\ncalibration_model: {}\n"
      "tau_mass_constraint: {}\ncandidate_replicas: {}\n",
      c.analysers.method,
      c.analysers.lepton == LeptonAnalyser::Direction         ? "direction"
      : c.analysers.lepton == LeptonAnalyser::DirectionEnergy ? "energy"
                                                              : "neutrino",
      c.analysers.rho == RhoAnalyser::Polarimeter ? "polarimeter" : "visible",
      c.analysers.requireSignalRegion, c.bootstrap.replicas, c.bootstrap.seed,
      c.significance.lumiInvFb, c.significance.kFactor, c.significance.efficiency,
      c.significance.backgroundPerInvFb, c.significance.signalPerInvFb,
      c.significance.pseudoExperiments, modes[static_cast<int>(c.calibrationMode)],
      c.calibrationFile, c.calibration.targets, c.calibration.mixing,
      c.calibration.bootstrapReplicas,
      c.calibration.model == CalibrationConfig::Model::Full ? "full" : "diagonal",
      c.analysers.tauMassConstraint, c.candidateReplicas);
}

}  // namespace

void SpinConfig::validate() const {
  analysers.validate();
  bootstrap.validate();
  significance.validate();
  if (calibrationMode != CalibrationMode::None) calibration.validate();
  require(calibrationMode != CalibrationMode::File || !calibrationFile.empty(),
          "spin: calibration mode 'file' needs a calibration file");
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
  // Calibration input.
  std::optional<std::vector<SpinState>> production;
  if (table.has(io::ds::spinB) && table.has(io::ds::spinC)) production = productionStates(table);
  const std::vector<SpinState>* prod = production ? &*production : nullptr;
  std::optional<CalibrationInput> calIn;
  if (cfg.calibrationMode == CalibrationMode::Self) {
    calIn = prepareCalibration(table, cfg.analysers);
    rep.calibrationSource =
        "self, two-fold: even rows calibrated with the odd-row response and vice versa (" +
        table.source() + ")";
  } else if (cfg.calibrationMode == CalibrationMode::File) {
    const io::EventTable calTable = io::readEventFile(cfg.calibrationFile);
    calIn = prepareCalibration(calTable, cfg.analysers);
    rep.calibrationSource = cfg.calibrationFile;
  }
  // Steps: combined + 7 channels + systematics + closure.
  Progress progress("spin " + cfg.analysers.method, kNumChannels + 3, cfg.showProgress);
  const bool twoFold = cfg.calibrationMode == CalibrationMode::Self;
  std::optional<CalibrationSet> combinedCal;
  if (calIn) combinedCal = makeCalibrations(*calIn, cfg.calibration, Channel::None, twoFold);
  // Combined and per channel.
  rep.subsets.push_back(
      analyseSubset("combined", set.events, cfg, combinedCal ? &*combinedCal : nullptr, prod));
  progress.advance();
  for (int c = 0; c < kNumChannels; ++c) {
    progress.advance();
    const Channel ch = static_cast<Channel>(c);
    std::vector<AnalyserEvent> sub;
    for (const auto& e : set.events)
      if (e.channel == ch) sub.push_back(e);
    if (sub.size() < cfg.minChannelEvents) continue;
    std::optional<CalibrationSet> cal;
    if (calIn) cal = makeCalibrations(*calIn, cfg.calibration, ch, twoFold);
    // A fixed total signal yield (and the background) is shared among the channels in
    // proportion to their sum of weights.
    SpinConfig subCfg = cfg;
    double sumAll = 0, sumSub = 0;
    for (const auto& e : set.events) sumAll += e.weight;
    for (const auto& e : sub) sumSub += e.weight;
    if (sumAll > 0) {
      subCfg.significance.signalPerInvFb *= sumSub / sumAll;
      subCfg.significance.backgroundPerInvFb *= sumSub / sumAll;
    }
    rep.subsets.push_back(analyseSubset(channelName(ch), sub, subCfg, cal ? &*cal : nullptr, prod));
  }
  // Systematics on the combined result.
  const CalibrationSet* cal0 = combinedCal && combinedCal->valid() ? &*combinedCal : nullptr;
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
  if (cfg.candidateReplicas > 0 && cfg.analysers.method != "truth" &&
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
        s.shift[d.name] = quadForm(numericGradient(d.compute, nominal.theta), nominal.calibCov);
    rep.systematics.push_back(s);
  }
  progress.advance();
  // Total: per group (up/down pairs) the larger shift, summed in quadrature over groups.
  std::map<std::string, std::map<std::string, double>> groups;
  for (const auto& s : rep.systematics)
    for (const auto& [k, v] : s.shift) {
      double& g = groups[stripUpDown(s.source)][k];
      g = std::max(g, std::abs(v));
    }
  for (const auto& [g, m] : groups)
    for (const auto& [k, v] : m) rep.totalSystematic[k] = std::hypot(rep.totalSystematic[k], v);
  // Closure test on independent halves.
  if (calIn && cfg.calibrationMode == CalibrationMode::Self && cfg.closureTest) {
    CalibrationSet evenOnly;
    evenOnly.all.emplace(*calIn, cfg.calibration, Channel::None, RowSubset::Even);
    const Calibration& even = *evenOnly.all;
    std::vector<AnalyserEvent> odd;
    for (const auto& e : set.events)
      if (e.row % 2 == 1) odd.push_back(e);
    if (even.valid() && odd.size() > 100) {
      const Measured mo = measuredState(odd, &evenOnly);
      SpinVector truth = SpinVector::Zero();
      double w = 0;
      for (const auto& e : odd) {
        const double g = e.weight * std::pow(e.kappaPlus * e.kappaMinus, 2);
        truth += g * toVector(calIn->production[e.row]);
        w += g;
      }
      truth /= w;
      auto& c = rep.closure;
      c.done = true;
      c.nCalibration = even.nEvents();
      c.nTest = odd.size();
      for (int a = 0; a < kNumSpinParameters; ++a) {
        const double err = std::sqrt(std::max(0.0, mo.cov(a, a) + mo.calibCov(a, a)));
        c.calibrated.push_back({spinParameterName(a), mo.theta(a),
                                std::sqrt(std::max(0.0, mo.cov(a, a))), 0,
                                std::sqrt(std::max(0.0, mo.calibCov(a, a)))});
        c.truthValues.push_back(truth(a));
        const double pull = err > 0 ? (mo.theta(a) - truth(a)) / err : 0;
        c.pulls.push_back(pull);
        c.chi2 += pull * pull;
        ++c.ndf;
      }
    }
  }
  progress.advance();  // the closure step (done or skipped)
  progress.finish();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return rep;
}

// ---------------------------------------------------------------------------------------------
// Output

namespace {

using nlohmann::json;

json paramsJson(const std::vector<ParameterResult>& ps) {
  json j = json::object();
  for (const auto& p : ps)
    j[p.name] = {{"value", p.value},
                 {"stat", p.stat},
                 {"stat_bootstrap", p.statBootstrap},
                 {"calibration", p.calibration}};
  return j;
}

json obsJson(const std::vector<ObservableSummary>& os) {
  json j = json::object();
  for (const auto& o : os)
    j[o.name] = {{"value", o.value},
                 {"stat", o.stat},
                 {"stat_bootstrap", o.statBootstrap},
                 {"bootstrap_bias", o.bootstrapBias},
                 {"bias_corrected", o.value - o.bootstrapBias},
                 {"calibration", o.calibration}};
  return j;
}

double finiteOr(double v, double alt) {
  return std::isfinite(v) ? v : alt;
}

json subsetJson(const SubsetReport& s) {
  json j;
  j["channel"] = s.channel;
  j["events"] = s.nEvents;
  j["sum_weights_pb"] = s.sumWeightsPb;
  j["n_effective"] = s.nEffective;
  j["signal_per_fb"] = s.signalPerInvFb;
  j["raw"] = {{"parameters", paramsJson(s.raw)}, {"observables", obsJson(s.rawObservables)}};
  j["calibration_failed"] = s.calibrationFailed;
  j["calibrated"] = s.isCalibrated ? json{{"parameters", paramsJson(s.calibrated)},
                                          {"observables", obsJson(s.calibratedObservables)},
                                          {"min_effective_fraction", s.calibrationNeffFraction}}
                                   : json(nullptr);
  j["kinematic"] = {
      {"mean_sin2_over_1_plus_c2", s.kinematic.meanSin2Over1PlusC2},
      {"error", s.kinematic.error},
      {"k_factor_z", s.kinematic.kFactorZ},
      {"photon_like",
       {{"C_rr", s.kinematic.photonLike.c[1][1]}, {"C_nn", s.kinematic.photonLike.c[2][2]}}},
      {"z_like", {{"C_rr", s.kinematic.zLike.c[1][1]}, {"C_nn", s.kinematic.zLike.c[2][2]}}},
      {"concurrence_photon_like", s.kinematic.concurrencePhotonLike},
      {"concurrence_z_like", s.kinematic.concurrenceZLike}};
  json sig = json::array();
  for (const auto& r : s.significance) {
    json scan = json::array();
    for (const auto& p : r.scan) {
      json pj = {
          {"lumi_fb", p.lumiInvFb}, {"signal", p.signal}, {"background", p.background}, {"z", p.z}};
      if (p.zToys >= -0.5 || p.toyNullSd > 0)
        pj["toys"] = {{"z", p.zToys},
                      {"median", p.toyMedian},
                      {"null_mean", p.toyNullMean},
                      {"null_sd", p.toyNullSd}};
      scan.push_back(pj);
    }
    sig.push_back(
        {{"statistic", r.statistic},
         {"description", r.description},
         {"value", r.value},
         {"error", r.error},
         {"per_event_sd", r.perEventSd},
         {"z_at_lumi", r.zAtLumi},
         {"lumi_for_5sigma_fb", finiteOr(r.lumiFor5Sigma, -1)},
         {"calibration_error", r.calibrationError},
         {"z_at_lumi_with_calibration", r.zAtLumiWithCalibration},
         {"lumi_for_5sigma_with_calibration_fb", finiteOr(r.lumiFor5SigmaWithCalibration, -1)},
         {"scan", scan}});
  }
  j["significance"] = sig;
  if (s.hasReference) {
    json ref = json::object();
    for (int a = 0; a < kNumSpinParameters; ++a) ref[spinParameterName(a)] = s.reference[a];
    j["truth_reference"] = {{"parameters", ref}, {"observables", s.referenceObservables}};
  } else {
    j["truth_reference"] = nullptr;
  }
  return j;
}

const ParameterResult* findParam(const std::vector<ParameterResult>& v, const std::string& n) {
  for (const auto& p : v)
    if (p.name == n) return &p;
  return nullptr;
}
const ObservableSummary* findObs(const std::vector<ObservableSummary>& v, const std::string& n) {
  for (const auto& p : v)
    if (p.name == n) return &p;
  return nullptr;
}

}  // namespace

std::string spinReportMarkdown(const SpinReport& r) {
  std::string md = fmt::format("# nurec spin: {} (method {})\n\n", r.file, r.method);
  md += fmt::format(
      "{} events read, {} selected, {} analysed, {} reconstruction failures, {} without analysers. "
      "Calibration: {}. Luminosity for Z: see JSON config. Time {:.1f} s.\n\n",
      r.nInput, r.nSelected, r.nAnalysed, r.nFailed, r.nNoAnalyser,
      r.calibrationSource.empty() ? "none (raw estimates)" : r.calibrationSource, r.seconds);
  md +=
      "Values: calibrated when a calibration is available (else raw) ± stat (analytic) [± "
      "calibration]. 'truth ref.': the per-event analytic production states (/truth/spin_b, "
      "spin_c) averaged over the analysed events with the estimator's weights. Z and L5σ: "
      "statistical, in parentheses with the calibration uncertainty (which does not shrink with "
      "luminosity) added.\n\n";
  md +=
      "| channel | events | C_kk | C_rr | C_nn | B+_k | B-_k | concurrence (bias-corr.) | m12 | D "
      "| B_opt | "
      "Z_ent | Z_Bell(B_opt) | L5σ ent [fb⁻¹] | L5σ Bell [fb⁻¹] |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : r.subsets) {
    const auto& ps = s.isCalibrated ? s.calibrated : s.raw;
    const auto& os = s.isCalibrated ? s.calibratedObservables : s.rawObservables;
    auto pv = [&](const char* n) {
      const auto* p = findParam(ps, n);
      if (!p) return std::string("-");
      return s.isCalibrated
                 ? fmt::format("{:.3f} ± {:.3f} [{:.3f}]", p->value, p->stat, p->calibration)
                 : fmt::format("{:.3f} ± {:.3f}", p->value, p->stat);
    };
    auto ov = [&](const char* n) {
      const auto* o = findObs(os, n);
      return o ? fmt::format("{:.3f} ± {:.3f}", o->value, o->stat) : std::string("-");
    };
    const SignificanceResult* ent = nullptr;
    const SignificanceResult* bell = nullptr;
    for (const auto& x : s.significance) {
      if (x.statistic == "entanglement_D") ent = &x;
      if (x.statistic == "bell_opt") bell = &x;
    }
    auto fin = [](double v) {
      return std::isfinite(v) ? fmt::format("{:.3g}", v) : std::string("∞");
    };
    // Statistical only, and (in parentheses) with the calibration uncertainty.
    auto zz = [&](const SignificanceResult* x) {
      if (!x) return std::string("-");
      return s.isCalibrated ? fmt::format("{:.1f} ({:.1f})", x->zAtLumi, x->zAtLumiWithCalibration)
                            : fmt::format("{:.1f}", x->zAtLumi);
    };
    auto l5 = [&](const SignificanceResult* x) {
      if (!x) return std::string("-");
      return s.isCalibrated ? fmt::format("{} ({})", fin(x->lumiFor5Sigma),
                                          fin(x->lumiFor5SigmaWithCalibration))
                            : fin(x->lumiFor5Sigma);
    };
    md += fmt::format(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.calibrationFailed ? s.channel + " (raw: calibration failed)" : s.channel, s.nEvents,
        pv("C_kk"), pv("C_rr"), pv("C_nn"), pv("B+_k"), pv("B-_k"), ov("concurrence_unbiased"),
        ov("m12"), ov("entanglement_D"), ov("bell_opt"), zz(ent), zz(bell), l5(ent), l5(bell));
    if (s.hasReference) {
      auto rv = [&](const char* n) {
        for (int a = 0; a < kNumSpinParameters; ++a)
          if (spinParameterName(a) == n) return fmt::format("{:.4f}", s.reference[a]);
        return std::string("-");
      };
      auto ro = [&](const char* n) {
        return s.referenceObservables.count(n) ? fmt::format("{:.4f}", s.referenceObservables.at(n))
                                               : std::string("-");
      };
      md += fmt::format(
          "| {} (truth ref.) | | {} | {} | {} | {} | {} | {} | {} | {} | {} | | | | |\n", s.channel,
          rv("C_kk"), rv("C_rr"), rv("C_nn"), rv("B+_k"), rv("B-_k"), ro("concurrence_unbiased"),
          ro("m12"), ro("entanglement_D"), ro("bell_opt"));
    }
  }
  for (const auto& s : r.subsets)
    if (s.calibrationFailed) {
      md +=
          "\n'calibration failed': the response fitted for this subset is singular (some of the 15 "
          "parameters leave no trace in the method's analysers, e.g. a pion's direction is exactly "
          "+-k when the neutrinos are parallel to the visible products); raw values, no "
          "significance.\n";
      break;
    }
  // Calibrated (else raw) values against the truth reference, per subset.
  std::string cmp;
  for (const auto& s : r.subsets) {
    if (!s.hasReference) continue;
    const auto& ps = s.isCalibrated ? s.calibrated : s.raw;
    double chi2 = 0;
    int ndf = 0;
    for (int a = 0; a < kNumSpinParameters && a < static_cast<int>(ps.size()); ++a) {
      const double e2 = ps[a].stat * ps[a].stat + ps[a].calibration * ps[a].calibration;
      if (e2 > 0) {
        chi2 += std::pow(ps[a].value - s.reference[a], 2) / e2;
        ++ndf;
      }
    }
    cmp += fmt::format("{}{} {:.1f}/{}", cmp.empty() ? "" : ", ", s.channel, chi2, ndf);
  }
  if (!cmp.empty())
    md +=
        "\nAgreement of the 15 measured parameters with the truth reference (chi2/ndf, stat and "
        "calibration errors, correlations ignored): " +
        cmp + ".\n";
  if (!r.subsets.empty()) {
    const auto& k = r.subsets[0].kinematic;
    md += fmt::format(
        "\nKinematic approach (production angle only, combined): <S²/(1+c²)> = {:.4f} ± {:.4f}; "
        "photon-like C_nn = "
        "{:.4f}, Z-like C_nn = +K<S²/(1+c²)> = {:.4f} (K = {:.4f}).\n",
        k.meanSin2Over1PlusC2, k.error, k.photonLike.c[2][2], k.zLike.c[2][2], k.kFactorZ);
  }
  if (!r.systematics.empty()) {
    md +=
        "\n## Systematics (combined)\n\n| source | C_nn | concurrence (bias-corr.) | m12 | D | "
        "B_opt | Z_ent | "
        "Z_Bell |\n|---|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string& name, const std::map<std::string, double>& m) {
      auto g = [&](const char* k) {
        return m.count(k) ? fmt::format("{:+.4f}", m.at(k)) : std::string("-");
      };
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", name, g("C_nn"),
                        g("concurrence_unbiased"), g("m12"), g("entanglement_D"), g("bell_opt"),
                        g("Z_entanglement_D"), g("Z_bell_opt"));
    };
    for (const auto& s : r.systematics) row(s.source, s.shift);
    row("**total**", r.totalSystematic);
  }
  if (r.closure.done) {
    md += fmt::format(
        "\n## Closure test (calibration on {} even rows, measurement on {} odd rows)\n\n",
        r.closure.nCalibration, r.closure.nTest);
    md += "| parameter | calibrated | truth | pull |\n|---|---|---|---|\n";
    for (std::size_t a = 0; a < r.closure.calibrated.size(); ++a) {
      const auto& p = r.closure.calibrated[a];
      md += fmt::format("| {} | {:.4f} ± {:.4f} [{:.4f}] | {:.4f} | {:+.2f} |\n", p.name, p.value,
                        p.stat, p.calibration, r.closure.truthValues[a], r.closure.pulls[a]);
    }
    md += fmt::format("\nchi2/ndf = {:.1f}/{}\n", r.closure.chi2, r.closure.ndf);
  }
  return md;
}

void writeSpinReport(const SpinReport& r, const std::string& jsonPath) {
  json j;
  j["file"] = r.file;
  j["method"] = r.method;
  j["events"] = {{"input", r.nInput},
                 {"selected", r.nSelected},
                 {"analysed", r.nAnalysed},
                 {"failed", r.nFailed},
                 {"no_analyser", r.nNoAnalyser}};
  j["calibration_source"] = r.calibrationSource;
  j["config"] = r.configText;
  j["seconds"] = r.seconds;
  json subs = json::array();
  for (const auto& s : r.subsets) subs.push_back(subsetJson(s));
  j["subsets"] = subs;
  json sy = json::array();
  for (const auto& s : r.systematics) sy.push_back({{"source", s.source}, {"shift", s.shift}});
  j["systematics"] = sy;
  j["total_systematic"] = r.totalSystematic;
  if (r.closure.done) {
    json c;
    c["n_calibration"] = r.closure.nCalibration;
    c["n_test"] = r.closure.nTest;
    c["chi2"] = r.closure.chi2;
    c["ndf"] = r.closure.ndf;
    json ps = json::object();
    for (std::size_t a = 0; a < r.closure.calibrated.size(); ++a) {
      const auto& p = r.closure.calibrated[a];
      ps[p.name] = {{"calibrated", p.value},
                    {"stat", p.stat},
                    {"calibration", p.calibration},
                    {"truth", r.closure.truthValues[a]},
                    {"pull", r.closure.pulls[a]}};
    }
    c["parameters"] = ps;
    j["closure"] = c;
  } else {
    j["closure"] = nullptr;
  }
  writeTextFileAtomically(jsonPath, j.dump(2) + "\n");
  std::string base = jsonPath;
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json")
    base = base.substr(0, base.size() - 5);
  writeTextFileAtomically(base + ".md", spinReportMarkdown(r));
  std::string csv = "channel,statistic,lumi_fb,signal,background,z,z_toys\n";
  for (const auto& s : r.subsets)
    for (const auto& sig : s.significance)
      for (const auto& p : sig.scan)
        csv += fmt::format("{},{},{},{:.6g},{:.6g},{:.6g},{}\n", s.channel, sig.statistic,
                           p.lumiInvFb, p.signal, p.background, p.z,
                           p.zToys >= -0.5 ? fmt::format("{:.6g}", p.zToys) : std::string());
  writeTextFileAtomically(base + ".scan.csv", csv);
}

}  // namespace nurec::quantum
