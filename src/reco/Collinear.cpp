#include "nurec/reco/Collinear.hpp"

#include <cmath>

#include "nurec/core/Error.hpp"

namespace nurec::reco {

const char* statusName(RecoStatus s) {
  switch (s) {
    case RecoStatus::Ok:
      return "ok";
    case RecoStatus::NotReconstructed:
      return "not-reconstructed";
    case RecoStatus::InvalidInput:
      return "invalid-input";
    case RecoStatus::BackToBack:
      return "back-to-back";
    case RecoStatus::UnphysicalX:
      return "unphysical-x";
    case RecoStatus::NoSolution:
      return "no-solution";
    case RecoStatus::NoLikelihood:
      return "no-likelihood";
  }
  return "unknown";
}

void CollinearConfig::validate() const {
  require(minAbsSinDeltaPhi >= 0 && minAbsSinDeltaPhi < 1,
          "CollinearConfig.minAbsSinDeltaPhi must be in [0, 1)");
  require(maxX >= 1 && maxX < 2, "CollinearConfig.maxX must be in [1, 2)");
}

RecoStatus checkRecoInput(const RecoEvent& ev) {
  for (int t = 0; t < 2; ++t) {
    const auto& v = ev.tau[t];
    if (!std::isfinite(v.px) || !std::isfinite(v.py) || !std::isfinite(v.pz) || !std::isfinite(v.e))
      return RecoStatus::InvalidInput;
  }
  if (!std::isfinite(ev.metX) || !std::isfinite(ev.metY)) return RecoStatus::InvalidInput;
  if (ev.channel == Channel::None || ev.tauType[0] == RecoTauType::None ||
      ev.tauType[1] == RecoTauType::None)
    return RecoStatus::NotReconstructed;
  for (int t = 0; t < 2; ++t) {
    const auto& v = ev.tau[t];
    if (v.pt() <= 0 || v.e <= 0 || v.m2() < -1e-6 * v.e * v.e) return RecoStatus::InvalidInput;
  }
  return RecoStatus::Ok;
}

CollinearReconstructor::CollinearReconstructor(const CollinearConfig& config) : config_(config) {
  config_.validate();
}

CollinearResult CollinearReconstructor::solve(const FourVector& v1, const FourVector& v2,
                                              double metX, double metY) const {
  CollinearResult r;
  r.mVisible = (v1 + v2).m();
  // docs/physics.md section 9: D = p1x p2y - p1y p2x, 1/x1 - 1 = (MET_x p2y - MET_y p2x)/D, ...
  const double d = v1.px * v2.py - v1.py * v2.px;
  if (std::abs(d) <= config_.minAbsSinDeltaPhi * v1.pt() * v2.pt() || d == 0) {
    r.status = RecoStatus::BackToBack;
    return r;
  }
  const double r1 = (metX * v2.py - metY * v2.px) / d;  // 1/x1 - 1
  const double r2 = (v1.px * metY - v1.py * metX) / d;  // 1/x2 - 1
  const double x1 = 1 / (1 + r1), x2 = 1 / (1 + r2);
  r.x = {x1, x2};
  if (!(x1 > 0 && x1 <= config_.maxX && x2 > 0 && x2 <= config_.maxX)) {
    r.status = RecoStatus::UnphysicalX;
    return r;
  }
  const std::array<FourVector, 2> vis{v1, v2};
  for (int t = 0; t < 2; ++t) {
    const double scale = std::max(0.0, 1 / r.x[t] - 1);  // x in (1, maxX] -> no neutrino
    const Vector3 p = vis[t].vec() * scale;
    r.nu[t] = FourVector::fromMomentumMass(p, 0.0);
  }
  r.mTauTau = (v1 + v2 + r.nu[0] + r.nu[1]).m();
  r.status = RecoStatus::Ok;
  return r;
}

CollinearResult CollinearReconstructor::reconstruct(const RecoEvent& ev) const {
  const RecoStatus in = checkRecoInput(ev);
  if (in != RecoStatus::Ok) {
    CollinearResult r;
    r.status = in;
    return r;
  }
  return solve(ev.tau[0], ev.tau[1], ev.metX, ev.metY);
}

}  // namespace nurec::reco
