#pragma once
// Modes of weighted samples (MMC estimators MLM and MLNU3P, physics.md section 9) and the
// private HWHM resolution measure of docs/reco.md (until src/eval provides the shared one).
#include <cstddef>
#include <vector>

namespace nurec::reco {

// Mode of a weighted sample: weighted histogram over [min, max] of the values with bins of
// binWidth (at most maxBins: wider bins if the range demands it), smoothed with smoothBins passes
// of a (1,2,1)/4 kernel, peak refined by a parabola through the highest bin and its neighbours.
// Returns false if the total weight is not positive.
bool weightedMode(const double* values, const double* weights, std::size_t n, double binWidth,
                  int smoothBins, double& mode, std::vector<double>& scratch, int maxBins = 2000);

// HWHM of a distribution (docs/reco.md): histogram of the values in [lo, hi] with nBins bins,
// smoothed with one (1,2,1)/4 pass; the peak is the highest bin; the half-maximum crossings on
// each side are found by linear interpolation between bin centres; HWHM = half their distance.
// Returns NaN for fewer than 10 values.
double halfWidthHalfMaximum(const std::vector<double>& values, double lo = -2, double hi = 2,
                            int nBins = 200);
// Peak position (mode) of the same smoothed histogram.
double histogramPeak(const std::vector<double>& values, double lo = -2, double hi = 2,
                     int nBins = 200);

}  // namespace nurec::reco
