#include "reco/Mode.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nurec::reco {

namespace {

void smooth121(std::vector<double>& h, std::size_t n, std::vector<double>& tmp) {
  tmp.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double l = i > 0 ? h[i - 1] : 0.0;
    const double r = i + 1 < n ? h[i + 1] : 0.0;
    tmp[i] = 0.25 * l + 0.5 * h[i] + 0.25 * r;
  }
  std::copy(tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(n), h.begin());
}

}  // namespace

bool weightedMode(const double* values, const double* weights, std::size_t n, double binWidth,
                  int smoothBins, double& mode, std::vector<double>& scratch, int maxBins) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (weights[i] <= 0) continue;
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
    total += weights[i];
  }
  if (!(total > 0)) return false;
  // Pad by the smoothing reach so that a peak at the edge is still a peak.
  lo -= (smoothBins + 1) * binWidth;
  hi += (smoothBins + 1) * binWidth;
  std::size_t nBins = static_cast<std::size_t>(std::ceil((hi - lo) / binWidth));
  double width = binWidth;
  if (nBins > static_cast<std::size_t>(maxBins)) {
    nBins = static_cast<std::size_t>(maxBins);
    width = (hi - lo) / static_cast<double>(nBins);
  }
  nBins = std::max<std::size_t>(nBins, 1);
  scratch.assign(2 * nBins, 0.0);
  std::vector<double> h(nBins, 0.0);
  const double inv = 1.0 / width;
  for (std::size_t i = 0; i < n; ++i) {
    if (weights[i] <= 0) continue;
    const auto b = std::min(static_cast<std::size_t>((values[i] - lo) * inv), nBins - 1);
    h[b] += weights[i];
  }
  for (int s = 0; s < smoothBins; ++s) smooth121(h, nBins, scratch);
  const auto best = static_cast<std::size_t>(std::max_element(h.begin(), h.end()) - h.begin());
  double offset = 0;
  if (best > 0 && best + 1 < nBins) {
    const double a = h[best - 1], b = h[best], c = h[best + 1];
    const double denom = a - 2 * b + c;
    if (denom < 0) offset = std::clamp(0.5 * (a - c) / denom, -0.5, 0.5);
  }
  mode = lo + (static_cast<double>(best) + 0.5 + offset) * width;
  return true;
}

namespace {

std::vector<double> smoothedHistogram(const std::vector<double>& values, double lo, double hi,
                                      int nBins) {
  std::vector<double> h(nBins, 0.0), tmp;
  for (double v : values) {
    if (!(v >= lo && v < hi)) continue;
    h[static_cast<std::size_t>((v - lo) / (hi - lo) * nBins)] += 1;
  }
  smooth121(h, h.size(), tmp);
  return h;
}

}  // namespace

double histogramPeak(const std::vector<double>& values, double lo, double hi, int nBins) {
  if (values.size() < 10) return std::numeric_limits<double>::quiet_NaN();
  const auto h = smoothedHistogram(values, lo, hi, nBins);
  const auto best = std::max_element(h.begin(), h.end()) - h.begin();
  return lo + (static_cast<double>(best) + 0.5) * (hi - lo) / nBins;
}

double halfWidthHalfMaximum(const std::vector<double>& values, double lo, double hi, int nBins) {
  if (values.size() < 10) return std::numeric_limits<double>::quiet_NaN();
  const auto h = smoothedHistogram(values, lo, hi, nBins);
  const double w = (hi - lo) / nBins;
  const auto best = static_cast<int>(std::max_element(h.begin(), h.end()) - h.begin());
  const double half = 0.5 * h[best];
  auto centre = [&](double b) { return lo + (b + 0.5) * w; };
  double left = centre(0), right = centre(nBins - 1);
  for (int b = best; b > 0; --b) {
    if (h[b - 1] <= half) {
      left = centre(b - 1 + (half - h[b - 1]) / (h[b] - h[b - 1]));
      break;
    }
  }
  for (int b = best; b + 1 < nBins; ++b) {
    if (h[b + 1] <= half) {
      right = centre(b + (h[b] - half) / (h[b] - h[b + 1]));
      break;
    }
  }
  return 0.5 * (right - left);
}

}  // namespace nurec::reco
