#pragma once
// Modes of weighted samples (MMC estimators MLM and MLNU3P, docs/physics.md section 9). Resolution
// measures (HWHM) live in src/eval.
#include <cstddef>
#include <vector>

namespace nurec::reco {

// Mode of a weighted sample: weighted histogram over [min, max] of the values with bins of
// binWidth (at most maxBins: wider bins if the range demands it), smoothed with smoothBins passes
// of a (1,2,1)/4 kernel, peak refined by a parabola through the highest bin and its neighbours.
// Returns false if the total weight is not positive.
bool weightedMode(const double* values, const double* weights, std::size_t n, double binWidth,
                  int smoothBins, double& mode, std::vector<double>& scratch, int maxBins = 2000);

}  // namespace nurec::reco
