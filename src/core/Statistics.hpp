#pragma once
// Small statistics helpers used by the metrics (docs/metrics.md) and the spin measurement, kept
// in one place so that every quantile in nurec has the same definition.
#include <cstddef>
#include <span>
#include <vector>

namespace nurec {

// Standard normal density and cumulative distribution.
double normalPdf(double z);
double normalCdf(double z);

// Quantile of a sorted sample, linear interpolation between order statistics
// (type 7 of Hyndman & Fan, numpy's default): q in [0, 1]. NaN for an empty sample.
double quantileSorted(std::span<const double> sorted, double q);
// Copies, sorts and returns the quantile.
double quantile(std::span<const double> values, double q);
double median(std::span<const double> values);
// Quantile of a weighted sample: the smallest value whose cumulative weight (in order of value)
// reaches q of the total (the inverse of the weighted empirical CDF; with equal weights the
// order statistic ceil(q n), no interpolation). Weights >= 0 with a positive sum; NaN otherwise.
double weightedQuantile(std::span<const double> values, std::span<const double> weights, double q);

// The finite entries of values, in order.
std::vector<double> finiteValues(std::span<const double> values);

// Mean and sample standard deviation (n - 1); NaN when undefined. NaN entries are skipped.
double meanOf(std::span<const double> values);
double standardDeviationOf(std::span<const double> values);

}  // namespace nurec
