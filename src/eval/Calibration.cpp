#include "nurec/eval/Calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nurec/core/Error.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::eval {

namespace {
bool eventFinite(const CandidateSample& s, std::size_t e) {
  if (!std::isfinite(s.truth[e])) return false;
  for (std::size_t k = 0; k < s.k; ++k)
    if (!std::isfinite(s.candidates[e * s.k + k])) return false;
  return true;
}
}  // namespace

void CandidateSample::validate() const {
  require(k >= 2, "calibration needs at least 2 candidates per event");
  require(candidates.size() == truth.size() * k,
          "calibration: candidates must hold K values per truth value");
}

std::vector<std::size_t> rankHistogram(const CandidateSample& s) {
  s.validate();
  std::vector<std::size_t> counts(s.k + 1, 0);
  for (std::size_t e = 0; e < s.truth.size(); ++e) {
    if (!eventFinite(s, e)) continue;
    std::size_t below = 0, equal = 0;
    for (std::size_t k = 0; k < s.k; ++k) {
      const double x = s.candidates[e * s.k + k];
      if (x < s.truth[e])
        ++below;
      else if (x == s.truth[e])
        ++equal;
    }
    ++counts[below + equal / 2];
  }
  return counts;
}

double coverage(const CandidateSample& s, std::size_t i, std::size_t j) {
  s.validate();
  require(i >= 1 && i < j && j <= s.k, "coverage: need 1 <= i < j <= K");
  std::size_t inside = 0, used = 0;
  std::vector<double> sorted(s.k);
  for (std::size_t e = 0; e < s.truth.size(); ++e) {
    if (!eventFinite(s, e)) continue;
    std::copy_n(s.candidates.begin() + static_cast<std::ptrdiff_t>(e * s.k), s.k, sorted.begin());
    std::sort(sorted.begin(), sorted.end());
    ++used;
    if (sorted[i - 1] < s.truth[e] && s.truth[e] < sorted[j - 1]) ++inside;
  }
  return used == 0 ? std::numeric_limits<double>::quiet_NaN()
                   : static_cast<double>(inside) / static_cast<double>(used);
}

double ensembleSpread(std::span<const double> candidates) {
  const std::size_t k = candidates.size();
  require(k >= 2, "ensembleSpread needs at least 2 candidates");
  std::vector<double> x(candidates.begin(), candidates.end());
  std::sort(x.begin(), x.end());
  // sum_{k<l} (x_(l) - x_(k)) = sum_i x_(i) (2 i - K + 1), 0-based i.
  double pairSum = 0;
  for (std::size_t i = 0; i < k; ++i)
    pairSum += x[i] * (2.0 * static_cast<double>(i) - static_cast<double>(k) + 1.0);
  const double kd = static_cast<double>(k);
  return (2 * pairSum) / (2 * kd * (kd - 1));
}

double crpsEnsemble(std::span<const double> candidates, double y) {
  require(candidates.size() >= 2, "crpsEnsemble needs at least 2 candidates");
  double term1 = 0;
  for (double x : candidates) term1 += std::abs(x - y);
  return term1 / static_cast<double>(candidates.size()) - ensembleSpread(candidates);
}

namespace {

// Mean of perEvent(candidates of e, truth of e) over the events of s with finite values.
template <class PerEvent>
double meanOverEvents(const CandidateSample& s, PerEvent perEvent) {
  s.validate();
  double sum = 0;
  std::size_t used = 0;
  for (std::size_t e = 0; e < s.truth.size(); ++e) {
    if (!eventFinite(s, e)) continue;
    sum += perEvent(s.candidates.subspan(e * s.k, s.k), s.truth[e]);
    ++used;
  }
  return used == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(used);
}

}  // namespace

double meanCrps(const CandidateSample& s) {
  return meanOverEvents(s, crpsEnsemble);
}

double meanSpread(const CandidateSample& s) {
  return meanOverEvents(s, [](std::span<const double> x, double) { return ensembleSpread(x); });
}

double crpsGaussian(double mean, double sigma, double y) {
  require(sigma > 0, "crpsGaussian needs sigma > 0");
  const double z = (y - mean) / sigma;
  return sigma * (z * (2 * normalCdf(z) - 1) + 2 * normalPdf(z) - 1 / std::sqrt(constants::pi));
}

}  // namespace nurec::eval
