#include "nurec/eval/Resolution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Statistics.hpp"

namespace nurec::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kIqrToSigma = 1.0 / 1.3489795003921634;  // IQR of N(0,1) = 1.349
const double kHwhmToSigma = 1.0 / std::sqrt(2.0 * std::log(2.0));
constexpr std::size_t kMaxBins = 200000;

// One pass: fine histogram of the (sorted) values around `centre`, smoothed with a Gaussian of
// width s, mode and half-maximum crossings.
PeakWidth peakPass(const std::vector<double>& sorted, double centre, double halfRange, double s,
                   const HwhmConfig& cfg) {
  PeakWidth out;
  out.hwhm = kNaN;
  out.bandwidth = s;
  double h = s / cfg.binsPerBandwidth;
  std::size_t nBins = static_cast<std::size_t>(std::ceil(2 * halfRange / h));
  if (nBins > kMaxBins) {
    nBins = kMaxBins;
    h = 2 * halfRange / static_cast<double>(nBins);
  }
  if (nBins < 3) return out;
  const double lo = centre - halfRange;
  std::vector<double> counts(nBins, 0.0);
  for (double v : sorted) {
    const double u = (v - lo) / h;
    if (u < 0 || u >= static_cast<double>(nBins)) continue;
    counts[static_cast<std::size_t>(u)] += 1.0;
  }
  // Gaussian kernel on the bin grid, truncated at 4 s, normalised to unit sum.
  const int half = static_cast<int>(std::ceil(4 * s / h));
  std::vector<double> kernel(2 * half + 1);
  double ksum = 0;
  for (int k = -half; k <= half; ++k) {
    const double x = k * h / s;
    kernel[k + half] = std::exp(-0.5 * x * x);
    ksum += kernel[k + half];
  }
  for (double& k : kernel) k /= ksum;
  std::vector<double> f(nBins, 0.0);
  const auto n = static_cast<long>(nBins);
  for (long i = 0; i < n; ++i) {
    if (counts[i] == 0) continue;
    const long a = std::max(0L, i - half), b = std::min(n - 1, i + half);
    for (long j = a; j <= b; ++j) f[j] += counts[i] * kernel[j - i + half];
  }
  const auto peakIt = std::max_element(f.begin(), f.end());
  const long ip = peakIt - f.begin();
  const double peak = *peakIt;
  if (peak <= 0) return out;
  const double halfMax = 0.5 * peak;
  auto centreOf = [&](long i) { return lo + (static_cast<double>(i) + 0.5) * h; };
  long j = ip;
  while (j > 0 && f[j] > halfMax) --j;
  if (f[j] > halfMax) return out;  // the distribution does not fall to half maximum in range
  const double xl = centreOf(j) + (halfMax - f[j]) / (f[j + 1] - f[j]) * h;
  j = ip;
  while (j < n - 1 && f[j] > halfMax) ++j;
  if (f[j] > halfMax) return out;
  const double xr = centreOf(j - 1) + (f[j - 1] - halfMax) / (f[j - 1] - f[j]) * h;
  out.xLeft = xl;
  out.xRight = xr;
  out.hwhm = 0.5 * (xr - xl);
  out.mode = centreOf(ip);
  return out;
}

// A Poisson(1) count by inversion of its CDF (one uniform per draw).
int poissonOne(Rng& rng) {
  double u = rng.uniform();
  double p = 0.36787944117144233;  // e^-1 = P(0)
  int k = 0;
  while (u >= p && k < 20) {
    u -= p;
    ++k;
    p /= k;
  }
  return k;
}

PeakWidth hwhmOfSorted(const std::vector<double>& sorted, const HwhmConfig& cfg) {
  PeakWidth out;
  out.hwhm = kNaN;
  out.mode = kNaN;
  if (sorted.size() < cfg.minEntries) return out;
  const double med = quantileSorted(sorted, 0.5);
  const double robustSigma =
      (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) * kIqrToSigma;
  if (!(robustSigma > 0)) {
    // At least half of the entries are identical: a spike of zero width.
    out.hwhm = 0;
    out.mode = med;
    out.xLeft = out.xRight = med;
    return out;
  }
  const double halfRange = cfg.rangeInRobustSigma * robustSigma;
  const double shrink = cfg.bandwidthFactor * std::pow(static_cast<double>(sorted.size()), -0.2);
  // Pass 1 with the robust sigma; pass 2 with the core width from pass 1, which is narrower than
  // IQR/1.349 for distributions with tails (docs/metrics.md).
  const PeakWidth pilot = peakPass(sorted, med, halfRange, shrink * robustSigma, cfg);
  if (!pilot.valid()) return pilot;
  const double coreSigma = std::min(robustSigma, pilot.hwhm * kHwhmToSigma);
  if (!(coreSigma > 0)) return pilot;
  return peakPass(sorted, med, halfRange, shrink * coreSigma, cfg);
}

}  // namespace

void HwhmConfig::validate() const {
  require(bandwidthFactor > 0 && std::isfinite(bandwidthFactor),
          "HwhmConfig.bandwidthFactor must be positive");
  require(binsPerBandwidth >= 1, "HwhmConfig.binsPerBandwidth must be at least 1");
  require(rangeInRobustSigma >= 2, "HwhmConfig.rangeInRobustSigma must be at least 2");
  require(minEntries >= 5, "HwhmConfig.minEntries must be at least 5");
  require(bootstrapSamples >= 0, "HwhmConfig.bootstrapSamples must not be negative");
}

bool PeakWidth::valid() const {
  return std::isfinite(hwhm);
}

PeakWidth halfWidthHalfMax(std::span<const double> values, const HwhmConfig& config) {
  config.validate();
  std::vector<double> sorted = finiteValues(values);
  std::sort(sorted.begin(), sorted.end());
  return hwhmOfSorted(sorted, config);
}

ResolutionSummary summarizeResiduals(std::span<const double> values, const HwhmConfig& config,
                                     std::uint64_t streamSalt) {
  config.validate();
  ResolutionSummary out;
  std::vector<double> sorted = finiteValues(values);
  std::sort(sorted.begin(), sorted.end());
  out.entries = sorted.size();
  const PeakWidth nominal = hwhmOfSorted(sorted, config);
  out.hwhm = nominal.hwhm;
  out.mode = nominal.mode;
  out.medianBias = quantileSorted(sorted, 0.5);
  out.hwhmError = kNaN;
  out.medianBiasError = kNaN;
  if (config.bootstrapSamples < 2 || sorted.size() < config.minEntries) return out;
  std::vector<double> hw, med;
  std::vector<double> resample;
  resample.reserve(sorted.size() + sorted.size() / 8);
  for (int b = 0; b < config.bootstrapSamples; ++b) {
    // Poisson bootstrap (docs/metrics.md): entry i appears k_i ~ Poisson(1) times. The resample
    // of a sorted sample comes out sorted, so a resample costs O(n) instead of O(n log n).
    Rng rng(config.seed ^ streamSalt, static_cast<std::uint64_t>(b), streams::eval);
    resample.clear();
    for (double v : sorted) {
      const int k = poissonOne(rng);
      for (int j = 0; j < k; ++j) resample.push_back(v);
    }
    if (resample.size() < config.minEntries) continue;
    const PeakWidth p = hwhmOfSorted(resample, config);
    if (p.valid()) hw.push_back(p.hwhm);
    med.push_back(quantileSorted(resample, 0.5));
  }
  if (hw.size() >= 2) out.hwhmError = standardDeviationOf(hw);
  out.medianBiasError = standardDeviationOf(med);
  return out;
}

double relativeResidual(double reco, double truth) {
  if (!std::isfinite(reco) || !std::isfinite(truth) || truth == 0) return kNaN;
  return (reco - truth) / truth;
}

}  // namespace nurec::eval
