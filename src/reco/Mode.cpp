#include "nurec/reco/Mode.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nurec::reco {

namespace {

void smooth121(double* h, std::size_t n, double* tmp) {
  for (std::size_t i = 0; i < n; ++i) {
    const double l = i > 0 ? h[i - 1] : 0.0;
    const double r = i + 1 < n ? h[i + 1] : 0.0;
    tmp[i] = 0.25 * l + 0.5 * h[i] + 0.25 * r;
  }
  std::copy(tmp, tmp + n, h);
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
  double* h = scratch.data();
  double* tmp = h + nBins;
  const double inv = 1.0 / width;
  for (std::size_t i = 0; i < n; ++i) {
    if (weights[i] <= 0) continue;
    const auto b = std::min(static_cast<std::size_t>((values[i] - lo) * inv), nBins - 1);
    h[b] += weights[i];
  }
  for (int s = 0; s < smoothBins; ++s) smooth121(h, nBins, tmp);
  const auto best = static_cast<std::size_t>(std::max_element(h, h + nBins) - h);
  double offset = 0;
  if (best > 0 && best + 1 < nBins) {
    const double a = h[best - 1], b = h[best], c = h[best + 1];
    const double denom = a - 2 * b + c;
    if (denom < 0) offset = std::clamp(0.5 * (a - c) / denom, -0.5, 0.5);
  }
  mode = lo + (static_cast<double>(best) + 0.5 + offset) * width;
  return true;
}

}  // namespace nurec::reco
