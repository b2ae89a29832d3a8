#pragma once
// Expected significance of entanglement and Bell violation vs integrated luminosity
// (docs/physics.md sections 7, 8, 10).
//
// Yields: signal s(L) = sum(event weights [pb]) x 1000 L[fb^-1] x K x efficiency (or a fixed
// signalPerInvFb), background b(L) = backgroundPerInvFb x L, assumed spin-uncorrelated: it dilutes
// every C-linear statistic by s/(s+b) (equivalently: subtracted, with the error of s+b events).
// Linear statistics T (entanglement witness D, B_45 and B_opt at settings fixed from the measured
// state) with per-event SD sigma1 = sigma(T) sqrt(N_eff):
//     Z(L) = T s / (sigma1 sqrt(s + b)),    L(5 sigma) = 25 sigma1^2 (S + B)/(T S)^2  (per fb^-1
//     yields)
// Pseudo-experiments check the asymptotic formula where it is doubtful (small yields; the
// non-linear m12): toys from the measured state with the sample's analysing powers (ToySampler),
// Poisson yields, the null at the boundary state (T = 0, resp. m12 = 1), Z from the median of the
// alternative against the null distribution.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nurec/quantum/Calibration.hpp"
#include "nurec/quantum/Estimators.hpp"

namespace nurec::quantum {

struct SignificanceConfig {
  double lumiInvFb = 140;   // fb^-1 for the quoted significance
  double kFactor = 1.28;    // NNLO/LO normalisation of the LO signal weights (as nurec simulate)
  double efficiency = 1.0;  // extra efficiency on top of the sample's own selection
  // docs/physics.md section 10 (one analysis: 23.1 vs 4996.6 signal), combined; per channel shared
  // in proportion to the sum of weights.
  double backgroundPerInvFb = 23.1;
  double signalPerInvFb = 0;  // > 0: overrides the yield from the event weights
  std::vector<double> lumiScanInvFb = {1, 2, 5, 10, 20, 50, 100, 140, 300, 1000, 3000};
  int pseudoExperiments = 200;  // per luminosity point checked (0: none)
  // Luminosities checked with toys. Empty: the scan points with s <= maxToySignal, and the
  // 5 sigma luminosity of each statistic when its yield is below 10 maxToySignal.
  std::vector<double> toyLumiInvFb = {};
  double maxToySignal = 5000;
  bool toysPerChannel = false;  // toys for the combined result only by default
  std::uint64_t seed = 4242;
  int threads = 1;
  void validate() const;
};

struct SignificancePoint {
  double lumiInvFb = 0, signal = 0, background = 0, z = 0;
  double zToys = -1;  // -1: not run
  double toyMedian = 0, toyNullMean = 0, toyNullSd = 0;
};

struct SignificanceResult {
  std::string statistic;  // "entanglement_D", "bell_45", "bell_opt", "m12"
  std::string description;
  double value = 0, error = 0;  // on the analysed sample
  double perEventSd = 0;        // sigma1
  double zAtLumi = 0;           // at config.lumiInvFb
  double lumiFor5Sigma = 0;     // fb^-1 (inf when value <= 0)
  // With the calibration's own uncertainty (fixed, does not shrink with luminosity) added in
  // quadrature to the statistical error at each luminosity: Z = T / sqrt(sigma_stat(L)^2 + cal^2).
  double calibrationError = 0;
  double zAtLumiWithCalibration = 0;
  double lumiFor5SigmaWithCalibration = 0;  // inf when T/cal <= 5
  // Files with spin truth: Z at config.lumiInvFb of the statistic whose settings and value come
  // from the truth reference, with this measurement's statistical covariance: the expected
  // sensitivity at the true state, which the measured value's fluctuation does not move (for
  // comparing methods on the same events; docs/quantum.md "Significance"). NaN otherwise.
  double zExpectedAtReference = std::numeric_limits<double>::quiet_NaN();
  std::vector<SignificancePoint> scan;
};

// The fixed-settings linear statistics chosen from a (measured) state: witness branch, sign of
// C_nn for B_45 and the angle of B_opt; evaluate() gives their values for any state.
struct LinearStatistics {
  WitnessBranch branch = WitnessBranch::ZLike;
  double signNn = 1, signKk = 1;
  double phiRad = 0;
  static LinearStatistics chooseFor(const SpinState& s);
  double evaluate(const std::string& name,
                  const SpinState& s) const;           // the three linear statistics
  SpinVector gradient(const std::string& name) const;  // d T / d theta (linear)
};

// Signal events per fb^-1 from the analysed sample's event weights (pb).
double signalPerInvFb(double sumWeightsPb, const SignificanceConfig& cfg);

// Significance of one linear statistic with value T and per-event SD sigma1.
SignificanceResult linearSignificance(const std::string& name, double value, double error,
                                      double nEffective, double signalPerInvFb,
                                      const SignificanceConfig& cfg);

// Adds the calibration uncertainty cal (fixed) to a result of linearSignificance.
void addCalibrationUncertainty(SignificanceResult& r, double cal, double signalPerInvFb,
                               const SignificanceConfig& cfg);

// Pseudo-experiments for a statistic ("entanglement_D", "bell_45", "bell_opt" or "m12") at
// luminosity L. `measured` is the (calibrated) state; toys are generated at the level the analysers
// see, theta_raw = R theta + o when a calibration is given (else theta), with kappa pairs drawn
// from `events`, Poisson yields and unpolarised background; every toy estimate is calibrated like
// the data. The null is the boundary state (C scaled until the statistic is 0, resp. m12 = 1).
SignificancePoint pseudoExperiments(const std::string& statistic, const LinearStatistics& lin,
                                    const SpinState& measured,
                                    const std::vector<AnalyserEvent>& events, double lumiInvFb,
                                    double signalPerInvFb, const SignificanceConfig& cfg,
                                    const Calibration* calibration);

// Nearest physical state: clip negative eigenvalues of rho and renormalise.
SpinState physicalProjection(const SpinState& s);

}  // namespace nurec::quantum
