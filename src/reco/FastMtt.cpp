#include "nurec/reco/FastMtt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/reco/Collinear.hpp"
#include "nurec/reco/Mode.hpp"

namespace nurec::reco {

void FastMttConfig::validate() const {
  require(gridPoints >= 4 && gridPoints <= 5000, "FastMttConfig.gridPoints must be in [4, 5000]");
  met.validate("FastMttConfig");
  require(massBinGeV > 0, "FastMttConfig.massBinGeV must be positive");
  require(smoothPasses >= 0 && smoothPasses <= 50, "FastMttConfig.smoothPasses in [0, 50]");
}

std::string FastMttConfig::describe() const {
  return fmt::format("grid={} decay_prob={} met_k={} met_floor={} mass_bin={} smooth={}",
                     gridPoints, useDecayProbability, met.stochasticTermSqrtGeV, met.floorGeV,
                     massBinGeV, smoothPasses);
}

FastMttReconstructor::FastMttReconstructor(const FastMttConfig& config) : config_(config) {
  config_.validate();
}

namespace {

// f(x) of docs/physics.md section 6, unpolarised: two-body 1/(1 - m_vis^2/m_tau^2) on
// [m_vis^2/m_tau^2, 1]; leptons (5 - 9x^2 + 4x^3)/3.
double decayProbability(bool leptonic, double xMin, double x) {
  if (leptonic) return (5 - 9 * x * x + 4 * x * x * x) / 3;
  return x < xMin ? 0.0 : 1 / (1 - xMin);
}

}  // namespace

FastMttResult FastMttReconstructor::reconstruct(const RecoEvent& ev) const {
  FastMttResult r;
  r.status = checkRecoInput(ev);
  if (r.status != RecoStatus::Ok) return r;
  const int n = config_.gridPoints;
  const double sigma = config_.met.sigmaGeV(ev.sumEt);
  const double inv2s2 = 0.5 / (sigma * sigma);
  // Per-axis tables: x values, (1/x - 1) pT_vis, decay factors.
  thread_local std::vector<double> xs, f[2], grid, mass, scratch;
  xs.resize(n);
  for (int t = 0; t < 2; ++t) f[t].resize(n);
  for (int i = 0; i < n; ++i) xs[i] = (i + 0.5) / n;  // bin centres of (0, 1]
  bool leptonic[2];
  for (int t = 0; t < 2; ++t) {
    leptonic[t] = ev.tauType[t] == RecoTauType::Electron || ev.tauType[t] == RecoTauType::Muon;
    const double xMin = std::max(0.0, ev.tau[t].m2()) / (constants::mTau * constants::mTau);
    for (int i = 0; i < n; ++i)
      f[t][i] = config_.useDecayProbability ? decayProbability(leptonic[t], xMin, xs[i]) : 1.0;
  }
  grid.assign(static_cast<std::size_t>(n) * n, 0.0);
  mass.assign(static_cast<std::size_t>(n) * n, 0.0);
  const FourVector& v1 = ev.tau[0];
  const FourVector& v2 = ev.tau[1];
  double total = 0, sumM = 0, sumM2 = 0;
  for (int i = 0; i < n; ++i) {
    const double a = 1 / xs[i] - 1;
    const double dx1 = ev.metX - a * v1.px, dy1 = ev.metY - a * v1.py;
    for (int j = 0; j < n; ++j) {
      const double b = 1 / xs[j] - 1;
      const double dx = dx1 - b * v2.px, dy = dy1 - b * v2.py;
      const double l = std::exp(-(dx * dx + dy * dy) * inv2s2) * f[0][i] * f[1][j];
      const std::size_t k = static_cast<std::size_t>(i) * n + j;
      grid[k] = l;
      // tau_i = vis_i / x_i (massless-tau collinear limit).
      const double m = (v1 * (1 / xs[i]) + v2 * (1 / xs[j])).m();
      mass[k] = m;
      total += l;
      sumM += l * m;
      sumM2 += l * m * m;
    }
  }
  if (!(total > 0) || !weightedMode(mass.data(), grid.data(), grid.size(), config_.massBinGeV,
                                    config_.smoothPasses, r.mTauTau, scratch)) {
    r.status = RecoStatus::NoLikelihood;
    return r;
  }
  const double mean = sumM / total;
  r.mTauTauSigma = std::sqrt(std::max(0.0, sumM2 / total - mean * mean));
  // Taus: the most likely grid point within one mass bin of the mode, then x2 moved onto the
  // chosen mass exactly (m^2 ~ m_vis^2/(x1 x2) for light visible systems).
  std::size_t best = grid.size();
  for (std::size_t k = 0; k < grid.size(); ++k) {
    if (std::abs(mass[k] - r.mTauTau) > config_.massBinGeV) continue;
    if (best == grid.size() || grid[k] > grid[best]) best = k;
  }
  if (best == grid.size()) {
    best = static_cast<std::size_t>(std::max_element(grid.begin(), grid.end()) - grid.begin());
  }
  double x1 = xs[best / n], x2 = xs[best % n];
  if (mass[best] > 0) x2 = std::min(1.0, x2 * (mass[best] * mass[best]) / (r.mTauTau * r.mTauTau));
  r.x = {x1, x2};
  for (int t = 0; t < 2; ++t) {
    const double scale = 1 / r.x[t] - 1;
    r.nu[t] = FourVector::fromMomentumMass(ev.tau[t].vec() * scale, 0.0);
  }
  r.status = RecoStatus::Ok;
  return r;
}

}  // namespace nurec::reco
