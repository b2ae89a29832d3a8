#include "nurec/quantum/Significance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/quantum/ToySampler.hpp"

namespace nurec::quantum {

void SignificanceConfig::validate() const {
  require(lumiInvFb > 0,
          fmt::format("significance: luminosity must be > 0 fb^-1, got {}", lumiInvFb));
  require(kFactor > 0, "significance: K-factor must be > 0");
  require(efficiency > 0 && efficiency <= 1, "significance: efficiency must be in (0, 1]");
  require(backgroundPerInvFb >= 0, "significance: background yield must be >= 0");
  require(signalPerInvFb >= 0, "significance: signal yield must be >= 0");
  require(pseudoExperiments >= 0 && pseudoExperiments <= 100000,
          "significance: pseudo-experiments in [0, 1e5]");
  for (double l : lumiScanInvFb) require(l > 0, "significance: luminosity scan values must be > 0");
  for (double l : toyLumiInvFb) require(l > 0, "significance: toy luminosities must be > 0");
  require(maxToySignal > 0, "significance: maxToySignal must be > 0");
}

LinearStatistics LinearStatistics::chooseFor(const SpinState& s) {
  LinearStatistics l;
  l.branch = bestWitnessBranch(s.c);
  l.signNn = s.c[kN][kN] >= 0 ? 1.0 : -1.0;
  // A Z has C_kk > 0; a spin-0 boson C_kk = -1: the settings follow both signs, so that the
  // statistic is positive for a violating state of either kind.
  l.signKk = s.c[kK][kK] >= 0 ? 1.0 : -1.0;
  l.phiRad = std::atan2(s.c[kN][kN], s.c[kK][kK]);
  return l;
}

double LinearStatistics::evaluate(const std::string& name, const SpinState& s) const {
  if (name == "entanglement_D") return entanglementWitness(s.c, branch);
  if (name == "bell_45") return bell45Fixed(s.c, signNn, signKk);
  if (name == "bell_opt") return bellOptFixed(s.c, phiRad);
  if (name == "m12") return horodeckiM12(s.c);
  throw ConfigError(fmt::format("significance: unknown statistic '{}'", name));
}

SpinVector LinearStatistics::gradient(const std::string& name) const {
  SpinVector g = SpinVector::Zero();
  const int kk = 6, rr = 10, nn = 14;
  if (name == "entanglement_D") {
    const Vec3 s = witnessSigns(branch);
    g(kk) = s[0];
    g(rr) = s[1];
    g(nn) = s[2];
  } else if (name == "bell_45") {
    g(kk) = std::sqrt(2.0) * signKk;
    g(nn) = std::sqrt(2.0) * signNn;
  } else if (name == "bell_opt") {
    g(kk) = 2 * std::cos(phiRad);
    g(nn) = 2 * std::sin(phiRad);
  } else {
    throw ConfigError(fmt::format("significance: '{}' is not a linear statistic", name));
  }
  return g;
}

double signalPerInvFb(double sumWeightsPb, const SignificanceConfig& cfg) {
  if (cfg.signalPerInvFb > 0) return cfg.signalPerInvFb;
  return sumWeightsPb * units::invFb * cfg.kFactor * cfg.efficiency;
}

SignificanceResult linearSignificance(const std::string& name, double value, double error,
                                      double nEffective, double sPerFb,
                                      const SignificanceConfig& cfg) {
  cfg.validate();
  SignificanceResult r;
  r.statistic = name;
  r.value = value;
  r.error = error;
  r.perEventSd = error * std::sqrt(std::max(nEffective, 0.0));
  const double bPerFb = cfg.backgroundPerInvFb;
  auto zAt = [&](double lumi) {
    const double s = sPerFb * lumi, b = bPerFb * lumi;
    if (!(r.perEventSd > 0) || !(s > 0)) return 0.0;
    return value * s / (r.perEventSd * std::sqrt(s + b));
  };
  r.zAtLumi = zAt(cfg.lumiInvFb);
  r.lumiFor5Sigma = (value > 0 && sPerFb > 0) ? 25 * r.perEventSd * r.perEventSd *
                                                    (sPerFb + bPerFb) / std::pow(value * sPerFb, 2)
                                              : std::numeric_limits<double>::infinity();
  for (double l : cfg.lumiScanInvFb) {
    SignificancePoint p;
    p.lumiInvFb = l;
    p.signal = sPerFb * l;
    p.background = bPerFb * l;
    p.z = zAt(l);
    r.scan.push_back(p);
  }
  return r;
}

void addCalibrationUncertainty(SignificanceResult& r, double cal, double sPerFb,
                               const SignificanceConfig& cfg) {
  r.calibrationError = cal;
  const double bPerFb = cfg.backgroundPerInvFb;
  auto statErr2 = [&](double lumi) {
    const double s = sPerFb * lumi, b = bPerFb * lumi;
    return s > 0 ? r.perEventSd * r.perEventSd * (s + b) / (s * s)
                 : std::numeric_limits<double>::infinity();
  };
  const double e2 = statErr2(cfg.lumiInvFb) + cal * cal;
  r.zAtLumiWithCalibration = e2 > 0 ? r.value / std::sqrt(e2) : 0;
  // 25 (stat^2(L) + cal^2) = T^2 with stat^2(L) = sigma1^2 (S + B)/(S^2 L).
  const double rest = r.value * r.value / 25 - cal * cal;
  r.lumiFor5SigmaWithCalibration =
      (r.value > 0 && rest > 0 && sPerFb > 0)
          ? r.perEventSd * r.perEventSd * (sPerFb + bPerFb) / (sPerFb * sPerFb * rest)
          : std::numeric_limits<double>::infinity();
}

SpinState physicalProjection(const SpinState& s) {
  const DensityMatrix rho = densityMatrix(s);
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix4cd> es(0.5 * (rho + rho.adjoint()));
  Eigen::Vector4d ev = es.eigenvalues().cwiseMax(0.0);
  if (!(ev.sum() > 0)) return SpinState{};
  ev /= ev.sum();
  const DensityMatrix p = es.eigenvectors() * ev.asDiagonal() * es.eigenvectors().adjoint();
  return spinStateOf(p);
}

namespace {

SpinState scaledC(const SpinState& s, double lambda) {
  SpinState out = s;
  for (auto& row : out.c)
    for (auto& v : row) v *= lambda;
  return out;
}

}  // namespace

SignificancePoint pseudoExperiments(const std::string& statistic, const LinearStatistics& lin,
                                    const SpinState& measured,
                                    const std::vector<AnalyserEvent>& events, double lumiInvFb,
                                    double sPerFb, const SignificanceConfig& cfg,
                                    const Calibration* calibration) {
  cfg.validate();
  if (events.empty())
    throw InputError("pseudo-experiments: no analysed events to take analysing powers from");
  SignificancePoint pt;
  pt.lumiInvFb = lumiInvFb;
  pt.signal = sPerFb * lumiInvFb;
  pt.background = cfg.backgroundPerInvFb * lumiInvFb;
  // Boundary state of the null hypothesis: C scaled so that the statistic is 0 (m12 = 1).
  const double value = lin.evaluate(statistic, measured);
  double lambda = 1;
  if (statistic == "m12")
    lambda = value > 0 ? 1 / std::sqrt(value) : 1;
  else if (statistic == "entanglement_D")
    lambda = 1 / (value + 1);
  else
    lambda = 2 / (value + 2);
  const SpinState nullState = scaledC(measured, lambda);
  auto rawLevel = [&](const SpinState& s) {
    if (!calibration || !calibration->valid()) return physicalProjection(s);
    return physicalProjection(
        fromVector(calibration->response() * toVector(s) + calibration->offset()));
  };
  const SpinState altRaw = rawLevel(measured), nullRaw = rawLevel(nullState);
  const int nToys = cfg.pseudoExperiments;
  std::vector<double> alt(nToys), nul(nToys);
  parallelFor(static_cast<std::size_t>(2 * nToys), cfg.threads, [&](std::size_t job) {
    const bool isNull = job % 2 == 1;
    const std::size_t toyIndex = job / 2;
    Rng rng(cfg.seed, job, streams::quantum);
    auto poisson = [&](double mean) {
      if (mean > 50)
        return static_cast<std::size_t>(
            std::max(0.0, std::round(rng.normal(mean, std::sqrt(mean)))));
      std::size_t k = 0;
      double p = std::exp(-mean), cdf = p, u = rng.uniform();
      while (u > cdf && k < 10000) {
        ++k;
        p *= mean / static_cast<double>(k);
        cdf += p;
      }
      return k;
    };
    const std::size_t ns = poisson(pt.signal), nb = poisson(pt.background);
    std::vector<AnalyserEvent> sample;
    sample.reserve(ns + nb);
    ToyConfig toy;
    toy.state = isNull ? nullRaw : altRaw;
    // W_max at |kappa| = 1 bounds W for every event's kappa pair.
    const double wMax = toyWMax(toy);
    for (std::size_t i = 0; i < ns + nb; ++i) {
      const AnalyserEvent& proto = events[rng.below(events.size())];
      if (i >= ns) toy.state = SpinState{};  // unpolarised background
      toy.tauPlus.kappa = proto.kappaPlus;
      toy.tauMinus.kappa = proto.kappaMinus;
      AnalyserEvent e = sampleToyEvent(toy, rng, wMax);
      sample.push_back(e);
    }
    double t = 0;
    try {
      SpinVector theta =
          toVector(estimateSpin(sample, std::vector<double>(sample.size(), 1.0), false).value);
      if (calibration && calibration->valid()) theta = calibration->apply(theta);
      t = lin.evaluate(statistic, fromVector(theta));
    } catch (const InputError&) {
      t = 0;
    }
    (isNull ? nul : alt)[toyIndex] = t;
  });
  const double mean = std::accumulate(nul.begin(), nul.end(), 0.0) / std::max(1, nToys);
  double v = 0;
  for (double x : nul) v += (x - mean) * (x - mean);
  pt.toyNullMean = mean;
  pt.toyNullSd = std::sqrt(v / std::max(1, nToys - 1));
  pt.toyMedian = alt.empty() ? 0.0 : nurec::median(alt);  // the one quantile definition
  // Gaussian tail of the null beyond the observed median of the alternative.
  pt.zToys = pt.toyNullSd > 0 ? (pt.toyMedian - pt.toyNullMean) / pt.toyNullSd : 0;
  return pt;
}

}  // namespace nurec::quantum
