#include "nurec/reco/ImpactParameterReco.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/ImpactParameter.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/core/Vector3.hpp"
#include "nurec/reco/Collinear.hpp"

namespace nurec::reco {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = constants::pi;

// One point of a leg's family: the tau, its neutrino's transverse momentum and the leg's own
// chi2 terms.
struct LegPoint {
  FourVector tau;
  double nuX = 0, nuY = 0;
  double penalty = 0;
};

bool isHadronic(RecoTauType t) {
  return t == RecoTauType::Pi || t == RecoTauType::Rho;
}

// The geometry of a hadronic leg: track direction u, the measured impact-parameter vector as
// |d| along e1, e2 = u x e1, and the resolution of |d|.
struct HadronicLeg {
  Vector3 u, e1, e2;
  double dMm = 0;
  TrackImpactParameter ip;  // measured d0, z0 and their resolutions
  FourVector vis;
};

HadronicLeg hadronicLeg(const RecoEvent& ev, int t) {
  HadronicLeg h;
  const FourVector& track = ev.charged[t].e > 0 ? ev.charged[t] : ev.tau[t];
  h.u = track.vec().unit();
  const TrackImpactParameter& ip = ev.trackIp[t];
  const Vector3 d = impactParameterVector({ip.d0Mm, ip.z0Mm}, h.u);
  h.dMm = d.mag();
  h.e1 = d.unit();
  if (!(h.dMm > 0)) {  // no direction measured: any perpendicular (alpha scans all of them)
    const Vector3 a = std::abs(h.u.x) < 0.9 ? Vector3{1, 0, 0} : Vector3{0, 1, 0};
    h.e1 = h.u.cross(a).unit();
  }
  h.e2 = h.u.cross(h.e1).unit();
  h.ip = ip;
  if (!(h.ip.sigmaD0Mm > 0)) h.ip.sigmaD0Mm = 0.02;
  if (!(h.ip.sigmaZ0Mm > 0)) h.ip.sigmaZ0Mm = 0.05;
  h.vis = ev.tau[t];
  return h;
}

// Taus along n with m(tau - vis) = 0 (one massless neutrino): the roots of
// (E_vis^2 - c^2) p^2 - 2 A c p + (E_vis^2 m^2 - A^2) = 0, c = n.p_vis, A = (m^2 + m_vis^2)/2,
// keeping those with E_tau E_vis = A + p c (the unsquared equation).
int tausAlong(const Vector3& n, const FourVector& vis, std::array<FourVector, 2>& out) {
  const double m2 = constants::mTau * constants::mTau;
  const double mv2 = std::max(0.0, vis.m2());
  const double c = n.dot(vis.vec());
  const double A = 0.5 * (m2 + mv2);
  const double a = vis.e * vis.e - c * c, b = -2 * A * c, cc = vis.e * vis.e * m2 - A * A;
  int k = 0;
  if (std::abs(a) < 1e-12) return 0;
  const double disc = b * b - 4 * a * cc;
  if (disc < 0) return 0;
  const double sq = std::sqrt(disc);
  for (double p : {(-b - sq) / (2 * a), (-b + sq) / (2 * a)}) {
    if (!(p > 0) || !std::isfinite(p)) continue;
    const double e = std::sqrt(p * p + m2);
    if (std::abs(e * vis.e - p * c - A) > 1e-6 * (e * vis.e + A)) continue;
    out[k++] = FourVector::fromMomentumMass(n * p, constants::mTau);
  }
  return k;
}

void addHadronicPoints(const HadronicLeg& h, double psi, double alpha, bool useFlight,
                       std::vector<LegPoint>& points) {
  const Vector3 e = h.e1 * std::cos(alpha) + h.e2 * std::sin(alpha);
  const Vector3 n = h.u * std::cos(psi) + e * std::sin(psi);
  std::array<FourVector, 2> taus;
  const int k = tausAlong(n, h.vis, taus);
  for (int i = 0; i < k; ++i) {
    LegPoint pt;
    pt.tau = taus[i];
    pt.nuX = taus[i].px - h.vis.px;
    pt.nuY = taus[i].py - h.vis.py;
    if (useFlight) {
      // The decay vertex PV + L n predicts (d0, z0) = L (a, b) (the perigee is linear in the
      // origin); chi2 of the measured d0, z0 plus 2 L / lambda of the exponential flight, with
      // L >= 0 at its minimum.
      const double lambda = taus[i].p() / constants::mTau * constants::cTauTau;
      const Perigee unit = trackPerigee(n, h.u, Vector3{});
      const double wd = 1 / (h.ip.sigmaD0Mm * h.ip.sigmaD0Mm);
      const double wz = 1 / (h.ip.sigmaZ0Mm * h.ip.sigmaZ0Mm);
      const double num = h.ip.d0Mm * unit.d0Mm * wd + h.ip.z0Mm * unit.z0Mm * wz - 1 / lambda;
      const double den = unit.d0Mm * unit.d0Mm * wd + unit.z0Mm * unit.z0Mm * wz;
      const double L = den > 0 ? std::max(0.0, num / den) : 0.0;
      const double rd = h.ip.d0Mm - L * unit.d0Mm, rz = h.ip.z0Mm - L * unit.z0Mm;
      pt.penalty = rd * rd * wd + rz * rz * wz + 2 * L / lambda + 2 * std::log(lambda);
    }
    points.push_back(pt);
  }
}

void addLeptonicPoint(const FourVector& vis, double x, std::vector<LegPoint>& points) {
  LegPoint pt;
  pt.tau = FourVector::fromMomentumMass(vis.vec() / x, constants::mTau);
  pt.nuX = pt.tau.px - vis.px;
  pt.nuY = pt.tau.py - vis.py;
  points.push_back(pt);
}

}  // namespace

void ImpactParameterRecoConfig::validate() const {
  require(anglePoints >= 4 && anglePoints <= 10000 && azimuthPoints >= 4 &&
              azimuthPoints <= 10000 && fractionPoints >= 4 && fractionPoints <= 100000 &&
              refinePoints >= 1 && refinePoints <= 1000,
          "ip: grid sizes must lie in [4, 10000] (refinement [1, 1000])");
  require(std::isfinite(minAngleRad) && minAngleRad > 0 && maxAngleRad > minAngleRad &&
              maxAngleRad < 1.5,
          "ip: need 0 < min_angle < max_angle < 1.5 rad");
  met.validate("ImpactParameterRecoConfig");
}

std::string ImpactParameterRecoConfig::describe() const {
  return fmt::format(
      "angle_points={} azimuth_points={} min_angle_rad={} max_angle_rad={} fraction_points={} "
      "refine_points={} flight_length={} met_k={} met_floor={}",
      anglePoints, azimuthPoints, minAngleRad, maxAngleRad, fractionPoints, refinePoints,
      useFlightLength, met.stochasticTermSqrtGeV, met.floorGeV);
}

ImpactParameterReconstructor::ImpactParameterReconstructor(const ImpactParameterRecoConfig& config)
    : config_(config) {
  config_.validate();
}

ImpactParameterRecoResult ImpactParameterReconstructor::reconstruct(const RecoEvent& ev) const {
  ImpactParameterRecoResult out;
  out.status = checkRecoInput(ev);
  if (out.status != RecoStatus::Ok) return out;
  if (!ev.hasImpactParameters) {
    out.status = RecoStatus::InvalidInput;
    return out;
  }
  const auto& c = config_;
  // A leg's parameters: (psi, alpha) of a hadronic tau, (x, 0) of a leptonic one.
  struct Param {
    double a = 0, b = 0;
  };
  const std::array<bool, 2> hadronic = {isHadronic(ev.tauType[0]), isHadronic(ev.tauType[1])};
  std::array<HadronicLeg, 2> had;
  for (int t = 0; t < 2; ++t)
    if (hadronic[t]) had[t] = hadronicLeg(ev, t);
  const double psiStep = std::pow(c.maxAngleRad / c.minAngleRad, 1.0 / (c.anglePoints - 1));
  const double alphaStep = 2 * kPi / c.azimuthPoints;
  const double xStep = 1.0 / c.fractionPoints;
  auto coarse = [&](int t) {
    std::vector<Param> g;
    if (hadronic[t]) {
      for (int i = 0; i < c.anglePoints; ++i)
        for (int k = 0; k < c.azimuthPoints; ++k)
          g.push_back({c.minAngleRad * std::pow(psiStep, i), k * alphaStep});
    } else {
      for (int i = 0; i < c.fractionPoints; ++i) g.push_back({(i + 0.5) * xStep, 0});
    }
    return g;
  };
  // Finer points between the neighbours of the best coarse point.
  auto fine = [&](int t, const Param& best) {
    std::vector<Param> g;
    const int n = c.refinePoints;
    auto frac = [n](int i) { return n > 1 ? static_cast<double>(i) / (n - 1) : 0.5; };
    if (hadronic[t]) {
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < n; ++k)
          g.push_back({best.a * std::pow(psiStep, 2 * frac(i) - 1),
                       best.b + alphaStep * (2 * frac(k) - 1)});
    } else {
      for (int i = 0; i < n; ++i) {
        const double x = best.a + xStep * (2 * frac(i) - 1);
        if (x > 0 && x <= 1) g.push_back({x, 0});
      }
    }
    return g;
  };
  auto points = [&](int t, const std::vector<Param>& grid, std::vector<LegPoint>& pts,
                    std::vector<Param>& param) {
    pts.clear();
    param.clear();
    for (const Param& v : grid) {
      const std::size_t before = pts.size();
      if (hadronic[t])
        addHadronicPoints(had[t], v.a, v.b, c.useFlightLength, pts);
      else
        addLeptonicPoint(ev.tau[t], v.a, pts);
      param.insert(param.end(), pts.size() - before, v);
    }
  };
  const double sigma = c.met.sigmaGeV(ev.sumEt);
  const double inv2 = 1.0 / (sigma * sigma);
  struct Best {
    double chi2 = kInf;
    LegPoint a, b;
    Param pa, pb;
  } best;
  std::vector<LegPoint> p0, p1;
  std::vector<Param> v0, v1;
  auto scan = [&](const std::vector<Param>& g0, const std::vector<Param>& g1) {
    points(0, g0, p0, v0);
    points(1, g1, p1, v1);
    for (std::size_t i = 0; i < p0.size(); ++i)
      for (std::size_t j = 0; j < p1.size(); ++j) {
        const double dx = p0[i].nuX + p1[j].nuX - ev.metX, dy = p0[i].nuY + p1[j].nuY - ev.metY;
        const double chi2 = (dx * dx + dy * dy) * inv2 + p0[i].penalty + p1[j].penalty;
        if (chi2 < best.chi2) best = {chi2, p0[i], p1[j], v0[i], v1[j]};
      }
  };
  scan(coarse(0), coarse(1));
  if (!std::isfinite(best.chi2)) {
    out.status = RecoStatus::NoSolution;
    return out;
  }
  scan(fine(0, best.pa), fine(1, best.pb));
  out.tau = {best.a.tau, best.b.tau};
  for (int t = 0; t < 2; ++t) out.nu[t] = out.tau[t] - ev.tau[t];
  out.mTauTau = (out.tau[0] + out.tau[1]).m();
  out.chi2 = best.chi2;
  out.status = RecoStatus::Ok;
  return out;
}

}  // namespace nurec::reco
