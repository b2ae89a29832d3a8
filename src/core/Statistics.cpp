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

double weightedQuantile(std::span<const double> values, std::span<const double> weights, double q) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (values.empty() || values.size() != weights.size()) return nan;
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w)) return nan;
    total += w;
  }
  if (!(total > 0)) return nan;
  std::vector<std::size_t> order(values.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  const double target = std::clamp(q, 0.0, 1.0) * total;
  double cumulative = 0, last = nan;
  for (std::size_t i : order) {
    if (weights[i] == 0) continue;
    cumulative += weights[i];
    last = values[i];
    if (cumulative >= target) return last;
  }
  return last;  // q = 1 with rounding in the sum
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
