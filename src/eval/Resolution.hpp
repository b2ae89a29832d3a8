#pragma once
// Resolution of a reconstructed quantity from its (relative) residuals: the half width at half
// maximum (HWHM) of the residual distribution, the median bias, and bootstrap uncertainties.
// The one definition is in docs/metrics.md; keep both in step.
#include <cstdint>
#include <span>
#include <vector>

namespace nurec::eval {

struct HwhmConfig {
  // Gaussian smoothing width s = bandwidthFactor * sigmaCore * n^(-1/5) (docs/metrics.md), where
  // sigmaCore = min(IQR/1.349, pilot HWHM/sqrt(2 ln 2)).
  double bandwidthFactor = 0.5;
  // Fine histogram bins per smoothing width s (bin width h = s / binsPerBandwidth).
  int binsPerBandwidth = 4;
  // Histogram range: median +- rangeInRobustSigma * IQR/1.349.
  double rangeInRobustSigma = 8.0;
  // Fewer finite entries than this: no estimate (NaN).
  std::size_t minEntries = 20;
  // Bootstrap resamples for the uncertainties (0: none) and their seed.
  int bootstrapSamples = 50;
  std::uint64_t seed = 1;
  void validate() const;
};

// The peak of a distribution as found by halfWidthHalfMax.
struct PeakWidth {
  double hwhm = 0;   // (x_right - x_left) / 2; NaN if no estimate
  double mode = 0;   // position of the maximum of the smoothed histogram
  double xLeft = 0;  // half-maximum crossings (linear interpolation)
  double xRight = 0;
  double bandwidth = 0;  // smoothing width s used
  bool valid() const;
};

// HWHM of the distribution of `values` (non-finite entries are ignored). See docs/metrics.md:
// fine histogram, Gaussian smoothing, mode = maximum, half-maximum crossings walking outwards from
// the mode, linear interpolation between bin centres.
PeakWidth halfWidthHalfMax(std::span<const double> values, const HwhmConfig& config = {});

// Resolution summary of one residual sample.
struct ResolutionSummary {
  std::size_t entries = 0;  // finite values used
  double hwhm = 0, hwhmError = 0;
  double mode = 0;
  double medianBias = 0, medianBiasError = 0;
};
// HWHM, mode and median with bootstrap standard errors (config.bootstrapSamples resamples drawn
// from Rng(config.seed ^ streamSalt, resample index, streams::eval)).
ResolutionSummary summarizeResiduals(std::span<const double> values, const HwhmConfig& config = {},
                                     std::uint64_t streamSalt = 0);

// (reco - truth) / truth; NaN when truth == 0 or either value is not finite.
double relativeResidual(double reco, double truth);

}  // namespace nurec::eval
