#include "nurec/eval/Distances.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nurec/core/Error.hpp"
#include "nurec/core/Statistics.hpp"

namespace nurec::eval {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

CdfDistances cdfDistances(std::span<const double> aIn, std::span<const double> bIn) {
  std::vector<double> a = finiteValues(aIn), b = finiteValues(bIn);
  if (a.empty() || b.empty()) return {kNaN, kNaN, kNaN};
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  // Walk the merged sample: between consecutive distinct points both CDFs are constant.
  std::size_t ia = 0, ib = 0;
  double w1 = 0, l2 = 0, ks = 0;
  double x = std::min(a[0], b[0]);
  while (ia < a.size() || ib < b.size()) {
    while (ia < a.size() && a[ia] == x) ++ia;
    while (ib < b.size() && b[ib] == x) ++ib;
    const double diff = std::abs(static_cast<double>(ia) / na - static_cast<double>(ib) / nb);
    ks = std::max(ks, diff);
    double next;
    if (ia < a.size() && ib < b.size())
      next = std::min(a[ia], b[ib]);
    else if (ia < a.size())
      next = a[ia];
    else if (ib < b.size())
      next = b[ib];
    else
      break;
    w1 += diff * (next - x);
    l2 += diff * diff * (next - x);
    x = next;
  }
  return {w1, std::sqrt(2 * l2), ks};
}

void KlConfig::validate() const {
  require(lowerQuantile >= 0 && upperQuantile <= 1 && lowerQuantile < upperQuantile,
          "KlConfig: need 0 <= lowerQuantile < upperQuantile <= 1");
}

double klDivergenceBinned(std::span<const double> truthIn, std::span<const double> recoIn, int bins,
                          const KlConfig& config) {
  config.validate();
  require(bins >= 2, "klDivergenceBinned: need at least 2 bins");
  std::vector<double> p = finiteValues(truthIn), q = finiteValues(recoIn);
  if (p.empty() || q.empty()) return kNaN;
  std::sort(p.begin(), p.end());
  std::sort(q.begin(), q.end());
  const double lo =
      std::min(quantileSorted(p, config.lowerQuantile), quantileSorted(q, config.lowerQuantile));
  const double hi =
      std::max(quantileSorted(p, config.upperQuantile), quantileSorted(q, config.upperQuantile));
  if (!(hi > lo)) return 0.0;  // both samples concentrated on one value
  const double width = (hi - lo) / bins;
  auto fill = [&](const std::vector<double>& v) {
    std::vector<double> h(bins, 0.0);
    for (double x : v) {
      const int i = std::clamp(static_cast<int>(std::floor((x - lo) / width)), 0, bins - 1);
      h[i] += 1.0;
    }
    return h;
  };
  const std::vector<double> hp = fill(p);
  std::vector<double> hq = fill(q);
  const double np = static_cast<double>(p.size());
  double nq = 0;
  for (int i = 0; i < bins; ++i) {
    if (hq[i] == 0 && hp[i] > 0) hq[i] = 0.5;  // half an event: keeps KL finite
    nq += hq[i];
  }
  double kl = 0;
  for (int i = 0; i < bins; ++i) {
    if (hp[i] == 0) continue;
    const double pi = hp[i] / np, qi = hq[i] / nq;
    kl += pi * std::log(pi / qi);
  }
  return std::max(kl, 0.0);
}

DistributionDistances& DistributionDistances::operator+=(const DistributionDistances& o) {
  wasserstein1 += o.wasserstein1;
  energy += o.energy;
  ks += o.ks;
  kl64 += o.kl64;
  kl128 += o.kl128;
  kl256 += o.kl256;
  return *this;
}

DistributionDistances distributionDistances(std::span<const double> truth,
                                            std::span<const double> reco) {
  const CdfDistances c = cdfDistances(reco, truth);
  DistributionDistances d;
  d.wasserstein1 = c.wasserstein1;
  d.energy = c.energy;
  d.ks = c.ks;
  d.kl64 = klDivergenceBinned(truth, reco, 64);
  d.kl128 = klDivergenceBinned(truth, reco, 128);
  d.kl256 = klDivergenceBinned(truth, reco, 256);
  return d;
}

DistributionDistances samplingNoiseFloor(std::span<const double> truthIn) {
  const std::vector<double> truth = finiteValues(truthIn);
  if (truth.size() < 4) return {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN};
  std::vector<double> even, odd;
  for (std::size_t i = 0; i < truth.size(); ++i) (i % 2 == 0 ? even : odd).push_back(truth[i]);
  DistributionDistances d = distributionDistances(even, odd);
  const double rootHalf = std::sqrt(0.5);
  d.wasserstein1 *= rootHalf;
  d.energy *= rootHalf;
  d.ks *= rootHalf;
  d.kl64 *= 0.5;
  d.kl128 *= 0.5;
  d.kl256 *= 0.5;
  return d;
}

}  // namespace nurec::eval
