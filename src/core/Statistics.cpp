#include "nurec/core/Statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nurec/core/Units.hpp"

namespace nurec {

double normalPdf(double z) {
  return std::exp(-0.5 * z * z) / std::sqrt(2 * constants::pi);
}
double normalCdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

double quantileSorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

double quantile(std::span<const double> values, double q) {
  std::vector<double> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  return quantileSorted(v, q);
}

double median(std::span<const double> values) {
  return quantile(values, 0.5);
}

std::vector<double> finiteValues(std::span<const double> values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}

double meanOf(std::span<const double> values) {
  double sum = 0;
  std::size_t n = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++n;
  }
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(n);
}

double standardDeviationOf(std::span<const double> values) {
  const double m = meanOf(values);
  double sum = 0;
  std::size_t n = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += (v - m) * (v - m);
    ++n;
  }
  return n < 2 ? std::numeric_limits<double>::quiet_NaN()
               : std::sqrt(sum / static_cast<double>(n - 1));
}

}  // namespace nurec
