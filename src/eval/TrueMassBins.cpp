// Resolution in bins of the true m_tautau and by the true tau decay modes (docs/evaluate.md "By
// true mass", "By true decay modes").
#include <algorithm>
#include <cmath>
#include <limits>

#include "nurec/core/Parallel.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/eval/Evaluate.hpp"

namespace nurec::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The bin of a true mass, or -1 outside the edges.
int binOf(double mass, const std::vector<double>& edges) {
  if (!std::isfinite(mass) || mass < edges.front() || mass >= edges.back()) return -1;
  const auto it = std::upper_bound(edges.begin(), edges.end(), mass);
  return static_cast<int>(it - edges.begin()) - 1;
}

// One method on the events (indices into the selected events) of one bin or class.
SubsetMethodResult binResult(const EvaluationResult& res, std::size_t method,
                             const std::vector<std::size_t>& events, const HwhmConfig& hwhm,
                             std::uint64_t salt) {
  const MethodValues& mv = res.values[method];
  SubsetMethodResult out;
  std::vector<double> massResidual, recoMass;
  std::array<std::vector<double>, kNumTauComponents> tauResidual;
  for (std::size_t s : events) {
    if (!mv.ok[s]) continue;
    ++out.events;
    massResidual.push_back(relativeResidual(mv.reco[s][kMassIndex], res.truth[s][kMassIndex]));
    if (std::isfinite(mv.reco[s][kMassIndex])) recoMass.push_back(mv.reco[s][kMassIndex]);
    for (int q = 0; q < kNumTauComponents; ++q)
      tauResidual[q].push_back(relativeResidual(mv.reco[s][q], res.truth[s][q]));
  }
  out.mass = summarizeResiduals(massResidual, hwhm, salt);
  // Raw 16-84 % quantile intervals and calibrated intervals are counted alike.
  const auto coverage = [&](const auto& intervals, int low, int high, std::size_t& counted) {
    counted = 0;
    if (intervals.empty()) return kNaN;
    std::size_t inside = 0;
    for (std::size_t s : events) {
      const auto& iv = intervals[s];
      if (!mv.ok[s] || !std::isfinite(iv[low]) || !std::isfinite(iv[high])) continue;
      ++counted;
      const double truth = res.truth[s][kMassIndex];
      if (iv[low] <= truth && truth <= iv[high]) ++inside;
    }
    return counted > 0 ? static_cast<double>(inside) / static_cast<double>(counted) : kNaN;
  };
  out.massCoverage68 = coverage(mv.massQuantiles, 0, 2, out.coverageEvents);
  out.calibratedCoverage68 = coverage(mv.massIntervals, 0, 1, out.calibratedCoverageEvents);
  HwhmConfig noBootstrap = hwhm;
  noBootstrap.bootstrapSamples = 0;
  double sum = 0;
  for (const auto& r : tauResidual) sum += summarizeResiduals(r, noBootstrap).hwhm;
  out.meanTauHwhm = sum / kNumTauComponents;  // NaN when a component has too few entries
  std::sort(recoMass.begin(), recoMass.end());
  out.recoMassQ16 = recoMass.empty() ? kNaN : quantileSorted(recoMass, 0.16);
  out.recoMassMedian = recoMass.empty() ? kNaN : quantileSorted(recoMass, 0.5);
  out.recoMassQ84 = recoMass.empty() ? kNaN : quantileSorted(recoMass, 0.84);
  return out;
}

// Every method on every subset (indices into the selected events), one task per (subset, method)
// with its own bootstrap salt, so the numbers do not depend on the threads. An empty subset keeps
// default results.
std::vector<std::vector<SubsetMethodResult>> methodsOnSubsets(
    const EvaluationResult& res, const std::vector<std::vector<std::size_t>>& members,
    const EvaluateConfig& config, std::uint64_t saltOffset) {
  const std::size_t nMethods = res.methods.size();
  std::vector<std::vector<SubsetMethodResult>> out(members.size(),
                                                   std::vector<SubsetMethodResult>(nMethods));
  parallelFor(members.size() * nMethods, config.threads, [&](std::size_t task) {
    const std::size_t b = task / nMethods, m = task % nMethods;
    if (members[b].empty()) return;
    out[b][m] = binResult(res, m, members[b], config.hwhm, splitmix64(saltOffset + task));
  });
  return out;
}

}  // namespace

std::vector<TrueMassBin> resolutionByTrueMass(const EvaluationResult& res,
                                              const EvaluateConfig& config,
                                              std::uint64_t saltOffset) {
  const auto& edges = config.trueMassEdgesGeV;
  const std::size_t nBins = edges.size() - 1;
  std::vector<std::vector<std::size_t>> members(nBins);
  for (std::size_t s = 0; s < res.truth.size(); ++s) {
    const int b = binOf(res.truth[s][kMassIndex], edges);
    if (b >= 0) members[static_cast<std::size_t>(b)].push_back(s);
  }
  auto methods = methodsOnSubsets(res, members, config, saltOffset);
  std::vector<TrueMassBin> all(nBins);
  for (std::size_t b = 0; b < nBins; ++b) {
    all[b].lowGeV = edges[b];
    all[b].highGeV = edges[b + 1];
    all[b].events = members[b].size();
    all[b].methods = std::move(methods[b]);
    std::vector<double> trueMass;
    for (std::size_t s : members[b]) trueMass.push_back(res.truth[s][kMassIndex]);
    all[b].trueMassMedian = trueMass.empty() ? kNaN : median(trueMass);
  }
  std::vector<TrueMassBin> out;
  for (auto& bin : all)
    if (bin.events > 0) out.push_back(std::move(bin));
  return out;
}

std::vector<DecayClass> resolutionByTrueDecays(const EvaluationResult& res,
                                               const EvaluateConfig& config,
                                               std::uint64_t saltOffset) {
  std::vector<DecayClass> out;
  if (res.otherDecayMode.empty()) return out;
  std::vector<std::vector<std::size_t>> members(2);
  for (std::size_t s = 0; s < res.otherDecayMode.size(); ++s)
    members[res.otherDecayMode[s] ? 1 : 0].push_back(s);
  auto methods = methodsOnSubsets(res, members, config, saltOffset);
  std::vector<DecayClass> all(2);
  all[0].key = "trained_modes";
  all[0].label = "both τ → π, ρ, e or μ";
  all[1].key = "other_modes";
  all[1].label = "a τ in another mode";
  for (std::size_t c = 0; c < 2; ++c) {
    all[c].events = members[c].size();
    all[c].methods = std::move(methods[c]);
  }
  for (auto& c : all)
    if (c.events > 0) out.push_back(std::move(c));
  return out;
}

}  // namespace nurec::eval
