#include "nurec/reco/Mmc.hpp"

#include "nurec/core/ShippedFiles.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/reco/Collinear.hpp"
#include "nurec/reco/Mode.hpp"
#include "nurec/reco/NeutrinoSolver.hpp"

#ifndef NUREC_RECO_DATA_DIR
#define NUREC_RECO_DATA_DIR "data"
#endif

namespace nurec::reco {

std::string defaultPdfPath() {
  return shippedFile("data/mmc/mmc_pdfs_v1.json");  // core/ShippedFiles.hpp
}

void MmcConfig::validate() const {
  require(points >= 1 && points <= 100000000, "MmcConfig.points must be in [1, 1e8]");
  require(markovBurnIn >= 0, "MmcConfig.markovBurnIn must be >= 0");
  require(markovStepPhi > 0 && markovStepMet > 0 && markovStepMass > 0,
          "MmcConfig Markov step sizes must be positive");
  require(markovStability > 0, "MmcConfig.markovStability must be positive");
  require(markovMaxExtensions >= 0 && markovMaxExtensions <= 10,
          "MmcConfig.markovMaxExtensions must be in [0, 10]");
  require(phiWindowMaxRad > 0 && phiWindowMaxRad <= constants::pi,
          "MmcConfig.phiWindowMaxRad must be in (0, pi]");
  require(phiWindowScale > 0, "MmcConfig.phiWindowScale must be positive");
  require(phiProposalScale >= 0, "MmcConfig.phiProposalScale must be >= 0 (0 = uniform)");
  require(metSigmasHadHad > 0 && metSigmasWithLepton > 0, "MmcConfig MET window must be positive");
  met.validate("MmcConfig");
  require(massBinGeV > 0 && momentumBinGeV > 0, "MmcConfig histogram bins must be positive");
  require(smoothPasses >= 0 && smoothPasses <= 50, "MmcConfig.smoothPasses must be in [0, 50]");
  require(retryMetFactor == 0 || retryMetFactor > 1, "MmcConfig.retryMetFactor must be 0 or > 1");
}

std::string MmcConfig::describe() const {
  return fmt::format(
      "scan={} points={} burn_in={} phi_window_max={} phi_window_scale={} phi_proposal={} "
      "met_sigmas={}/{} "
      "met_k={} met_floor={} weight={} scaled_angle={} mass_prob={} tau_prob={} estimator={} "
      "mass_bin={} p_bin={} smooth={} "
      "retry={} pdfs={}",
      scan == MmcScan::Random ? "random" : "markov", points, markovBurnIn, phiWindowMaxRad,
      phiWindowScale, phiProposalScale, metSigmasHadHad, metSigmasWithLepton,
      met.stochasticTermSqrtGeV, met.floorGeV,
      weight == MmcWeight::Kinematic ? "kinematic" : "angle-table", scaledAngleWeight,
      useMassProbability, useTauProbability,
      massEstimator == MmcMassEstimator::Mlm    ? "mlm"
      : massEstimator == MmcMassEstimator::Maxw ? "maxw"
                                                : "mlnu3p",
      massBinGeV, momentumBinGeV, smoothPasses, retryMetFactor,
      pdfPath.empty() ? defaultPdfPath() : pdfPath);
}

MmcReconstructor::MmcReconstructor(const MmcConfig& config,
                                   std::shared_ptr<const AngularPdfTable> pdfs)
    : config_(config), pdfs_(std::move(pdfs)) {
  config_.validate();
  if (!pdfs_) throw ConfigError("MmcReconstructor: no likelihood table");
}

namespace {

constexpr int kMaxSolutions = 4;

struct Side {
  FourVector vis;
  double visM2 = 0;
  double phi = 0;      // visible azimuth
  double window = 0;   // half-width of the phi scan
  double massMax = 0;  // m_nunu range [0, massMax] (0 for hadronic taus)
  double xMin = 0;     // two-body: m_vis^2/m_tau^2
  PdfType type = PdfType::Pi;
  bool leptonic = false;
};

struct Point {
  double phi[2];
  double mass[2];
  double dMet[2];
};

// Solutions of one scan point with their weights.
struct PointSolutions {
  int n = 0;
  double sumW = 0;
  double w[kMaxSolutions];
  double m[kMaxSolutions];
  double nu[kMaxSolutions][2][3];
};

// Weighted samples of one event (structure of arrays, reused per thread).
struct Accumulator {
  std::vector<double> w, m, comp[6], mass[2];
  double bestW = 0, bestM = 0;
  void clear() {
    w.clear();
    m.clear();
    for (auto& c : comp) c.clear();
    for (auto& c : mass) c.clear();
    bestW = 0;
    bestM = 0;
  }
  void add(const PointSolutions& s, const Point& p, double scale) {
    for (int k = 0; k < s.n; ++k) {
      if (s.w[k] > bestW) {
        bestW = s.w[k];
        bestM = s.m[k];
      }
      w.push_back(s.w[k] * scale);
      m.push_back(s.m[k]);
      for (int t = 0; t < 2; ++t)
        for (int c = 0; c < 3; ++c) comp[3 * t + c].push_back(s.nu[k][t][c]);
      mass[0].push_back(p.mass[0]);
      mass[1].push_back(p.mass[1]);
    }
  }
};

// f(x) of docs/physics.md section 6 (unpolarised, collinear limit).
double tauProbability(const Side& s, double x) {
  if (x <= 0 || x > 1) return 0;
  if (s.leptonic) return (5 - 9 * x * x + 4 * x * x * x) / 3;
  if (x < s.xMin) return 0;
  return 1 / (1 - s.xMin);
}

class EventScan {
 public:
  EventScan(const MmcConfig& c, const AngularPdfTable& pdfs, const RecoEvent& ev,
            double metWindowFactor)
      : c_(c), pdfs_(pdfs), metX_(ev.metX), metY_(ev.metY) {
    bool anyLepton = false;
    for (int t = 0; t < 2; ++t) {
      Side& s = side_[t];
      s.vis = ev.tau[t];
      s.visM2 = std::max(0.0, s.vis.m2());
      s.phi = s.vis.phi();
      s.type = pdfTypeOf(ev.tauType[t]);
      s.leptonic = isLeptonic(s.type);
      anyLepton = anyLepton || s.leptonic;
      s.window = std::min(c.phiWindowMaxRad, c.phiWindowScale * pdfs.uQuantile99(s.type) *
                                                 constants::mTau / s.vis.pt());
      s.massMax = s.leptonic ? std::max(0.0, constants::mTau - std::sqrt(s.visM2)) : 0.0;
      s.xMin = s.visM2 / (constants::mTau * constants::mTau);
    }
    sigmaMet_ = c.met.sigmaGeV(ev.sumEt);
    metRange_ =
        (anyLepton ? c.metSigmasWithLepton : c.metSigmasHadHad) * sigmaMet_ * metWindowFactor;
  }

  // Solutions at one point; the MET prior is not included (see callers).
  void evaluate(const Point& p, PointSolutions& out) const {
    out.n = 0;
    out.sumW = 0;
    double pt[2];
    if (!invisiblePtFromMet(metX_ + p.dMet[0], metY_ + p.dMet[1], p.phi[0], p.phi[1], pt[0], pt[1]))
      return;
    std::array<double, 2> pz[2];
    int n[2];
    double cs[2], sn[2];
    for (int t = 0; t < 2; ++t) {
      const Side& s = side_[t];
      n[t] = solveInvisiblePz(s.vis, s.visM2, pt[t], p.phi[t], p.mass[t], constants::mTau, pz[t]);
      if (n[t] == 0) return;
      cs[t] = std::cos(p.phi[t]);
      sn[t] = std::sin(p.phi[t]);
    }
    const bool kinematic = c_.weight == MmcWeight::Kinematic;
    // Per-tau factors of each root, then all combinations.
    double wt[2][2];
    FourVector nu[2][2];
    for (int t = 0; t < 2; ++t) {
      const Side& s = side_[t];
      double massFactor =
          (s.leptonic && c_.useMassProbability) ? pdfs_.massDensity(s.type, p.mass[t]) : 1.0;
      if (kinematic && s.leptonic) {
        // Two-body phase space of tau -> l + (nu nu)(m): N(m) ~ p*(m).
        const double ml = std::sqrt(s.visM2), m = p.mass[t], mt = constants::mTau;
        const double lam = (mt * mt - (ml + m) * (ml + m)) * (mt * mt - (ml - m) * (ml - m));
        massFactor = lam > 0 ? massFactor / std::sqrt(lam) : 0.0;
      }
      for (int r = 0; r < n[t]; ++r) {
        nu[t][r] = invisibleFourVector(pt[t], cs[t], sn[t], pz[t][r], p.mass[t]);
        const FourVector tau = s.vis + nu[t][r];
        double w;
        if (kinematic) {
          // Constraint in the tau-on-shell form g = (P - p_vis)^2 - m_nu^2 (the decay measure
          // d^3P/E_P delta(g)); integrating pz gives 1/|dg/dpz|.
          const double dfdpz = 2 * (s.vis.e * tau.pz / tau.e - s.vis.pz);
          // Prior flat in x = E_vis/E_tau: rho(P) ~ 1/E_tau^2 w.r.t. d^3P/E_tau.
          w = massFactor / (tau.e * tau.e * tau.e * s.vis.e * std::max(std::abs(dfdpz), 1e-12));
        } else {
          const double pTau = tau.p();
          const double cosTheta = s.vis.vec().dot(nu[t][r].vec()) / (s.vis.p() * nu[t][r].p());
          const double dTheta = std::acos(std::clamp(cosTheta, -1.0, 1.0));
          w = (c_.scaledAngleWeight
                   ? pdfs_.scaledAngleDensity(s.type, pTau, dTheta * pTau / constants::mTau)
                   : pdfs_.angleDensity(s.type, pTau, dTheta)) *
              massFactor;
        }
        if (!kinematic && c_.useTauProbability && w > 0) w *= tauProbability(s, s.vis.e / tau.e);
        wt[t][r] = w;
      }
    }
    const double pairFactor =
        kinematic ? pt[0] * pt[1] / std::abs(std::sin(p.phi[0] - p.phi[1])) : 1.0;
    for (int r0 = 0; r0 < n[0]; ++r0) {
      if (wt[0][r0] <= 0) continue;
      for (int r1 = 0; r1 < n[1]; ++r1) {
        const double w = wt[0][r0] * wt[1][r1] * pairFactor;
        if (w <= 0) continue;
        const int k = out.n++;
        out.w[k] = w;
        out.sumW += w;
        out.m[k] = (side_[0].vis + nu[0][r0] + side_[1].vis + nu[1][r1]).m();
        const FourVector* v[2] = {&nu[0][r0], &nu[1][r1]};
        for (int t = 0; t < 2; ++t) {
          out.nu[k][t][0] = v[t]->px;
          out.nu[k][t][1] = v[t]->py;
          out.nu[k][t][2] = v[t]->pz;
        }
      }
    }
  }

  // Independent points: phi and m_nunu uniform in their windows, the MET nuisance Gaussian
  // within +-n sigma (importance sampling of P_MET, so P_MET is not in the weight).
  void randomScan(Rng& rng, Accumulator& acc, std::int64_t& tried) const {
    PointSolutions sol;
    for (int i = 0; i < c_.points; ++i) {
      double invProposal = 1;
      const Point p = randomPoint(rng, c_.phiProposalScale > 0, invProposal);
      evaluate(p, sol);
      ++tried;
      if (sol.n > 0) acc.add(sol, p, invProposal);
    }
  }

  // Metropolis walk with target density P_MET x sum of the solution weights; each step fills the
  // histograms once (each solution with its share of the point's weight), repeating the current
  // point on rejection.
  void markovScan(Rng& rng, Accumulator& acc, std::int64_t& tried, Accumulator& half) const {
    PointSolutions cur, prop;
    Point p{};
    double curTarget = 0;
    // Start: the first random point with a solution.
    const int maxStartTries = std::max(c_.points, 1000);
    for (int i = 0; i < maxStartTries && curTarget <= 0; ++i) {
      double unused = 1;
      p = randomPoint(rng, c_.phiProposalScale > 0, unused);
      evaluate(p, cur);
      ++tried;
      curTarget = cur.sumW * metPrior(p);
    }
    if (curTarget <= 0) return;
    auto step = [&](bool fill, Accumulator& into) {
      Point q = p;
      for (int t = 0; t < 2; ++t) {
        q.phi[t] +=
            std::min(side_[t].window, c_.markovStepPhi * constants::mTau / side_[t].vis.pt()) *
            rng.normal();
        if (side_[t].leptonic) q.mass[t] += c_.markovStepMass * side_[t].massMax * rng.normal();
        q.dMet[t] += c_.markovStepMet * sigmaMet_ * rng.normal();
      }
      if (inside(q)) {
        evaluate(q, prop);
        ++tried;
        const double target = prop.sumW * metPrior(q);
        if (target > 0 && target >= curTarget * rng.uniform()) {
          p = q;
          cur = prop;
          curTarget = target;
        }
      }
      if (fill) into.add(cur, p, 1.0 / cur.sumW);
    };
    for (int i = 0; i < c_.markovBurnIn; ++i) step(false, acc);
    // Two half-chains; doubled while their MLM masses disagree.
    int steps = c_.points;
    std::vector<double> scratch;
    for (int ext = 0;; ++ext) {
      half.clear();
      for (int i = 0; i < steps / 2; ++i) step(true, acc);
      const std::size_t firstHalf = acc.m.size();
      for (int i = 0; i < steps - steps / 2; ++i) step(true, half);
      double m1 = 0, m2 = 0;
      const bool ok1 = weightedMode(acc.m.data(), acc.w.data(), firstHalf, c_.massBinGeV,
                                    c_.smoothPasses, m1, scratch);
      const bool ok2 = weightedMode(half.m.data(), half.w.data(), half.m.size(), c_.massBinGeV,
                                    c_.smoothPasses, m2, scratch);
      // Merge the second half into the main accumulator.
      acc.w.insert(acc.w.end(), half.w.begin(), half.w.end());
      acc.m.insert(acc.m.end(), half.m.begin(), half.m.end());
      for (int k = 0; k < 6; ++k)
        acc.comp[k].insert(acc.comp[k].end(), half.comp[k].begin(), half.comp[k].end());
      for (int k = 0; k < 2; ++k)
        acc.mass[k].insert(acc.mass[k].end(), half.mass[k].begin(), half.mass[k].end());
      if (half.bestW > acc.bestW) {
        acc.bestW = half.bestW;
        acc.bestM = half.bestM;
      }
      const bool stable = ok1 && ok2 && std::abs(m1 - m2) <= c_.markovStability * 0.5 * (m1 + m2);
      if (stable || ext >= c_.markovMaxExtensions) break;
      steps *= 2;
    }
  }

  const Side& side(int t) const { return side_[t]; }

 private:
  // A scan point. With `focused`, phi is drawn from the defensive mixture
  //   q(phi) = (1 - a) N(phi_vis, s) + a U(window),  s = phiProposalScale m_tau/pT_vis, a = 0.2
  // (restricted to the window) and invProposal returns 1/(q1 q2) up to a constant factor per
  // event, which cancels in every estimator; otherwise phi is uniform (invProposal = 1).
  Point randomPoint(Rng& rng, bool focused, double& invProposal) const {
    Point p;
    invProposal = 1;
    for (int t = 0; t < 2; ++t) {
      const Side& s = side_[t];
      if (focused) {
        constexpr double uniformShare = 0.2;
        const double sigma = c_.phiProposalScale * constants::mTau / s.vis.pt();
        double d;
        if (rng.uniform() < uniformShare) {
          d = s.window * (2 * rng.uniform() - 1);
        } else {
          do {
            d = sigma * rng.normal();
          } while (std::abs(d) > s.window);
        }
        p.phi[t] = s.phi + d;
        // Gaussian part renormalised to the window (the redraw loop truncates it).
        const double inWindow = std::erf(s.window / (sigma * std::sqrt(2.0)));
        const double q = (1 - uniformShare) * std::exp(-0.5 * d * d / (sigma * sigma)) /
                             (sigma * std::sqrt(2 * constants::pi) * inWindow) +
                         uniformShare / (2 * s.window);
        invProposal /= q;
      } else {
        p.phi[t] = s.phi + s.window * (2 * rng.uniform() - 1);
      }
      p.mass[t] = s.leptonic ? s.massMax * rng.uniform() : 0.0;
      double d;
      do {
        d = sigmaMet_ * rng.normal();
      } while (std::abs(d) > metRange_);
      p.dMet[t] = d;
    }
    return p;
  }
  bool inside(const Point& p) const {
    for (int t = 0; t < 2; ++t) {
      const Side& s = side_[t];
      if (std::abs(p.phi[t] - s.phi) > s.window) return false;
      if (p.mass[t] < 0 || p.mass[t] > s.massMax) return false;
      if (std::abs(p.dMet[t]) > metRange_) return false;
    }
    return true;
  }
  double metPrior(const Point& p) const {
    // P_MET = exp(-(dMET_par^2/sigma_par^2 + dMET_perp^2/sigma_perp^2)/2), isotropic sigma here.
    const double r2 = (p.dMet[0] * p.dMet[0] + p.dMet[1] * p.dMet[1]) / (sigmaMet_ * sigmaMet_);
    return std::exp(-0.5 * r2);
  }

  const MmcConfig& c_;
  const AngularPdfTable& pdfs_;
  Side side_[2];
  double metX_, metY_;
  double sigmaMet_ = 1, metRange_ = 1;
};

}  // namespace

MmcResult MmcReconstructor::reconstruct(const RecoEvent& ev, Rng& rng) const {
  MmcResult r;
  r.status = checkRecoInput(ev);
  if (r.status != RecoStatus::Ok) return r;
  r = run(ev, rng, 1.0);
  if (r.status == RecoStatus::NoSolution && config_.retryMetFactor > 0 &&
      std::abs(deltaPhi(ev.tau[0].phi(), ev.tau[1].phi())) > config_.retryMinDeltaPhi) {
    const std::int64_t tried = r.pointsTried;
    r = run(ev, rng, config_.retryMetFactor);
    r.pointsTried += tried;
  }
  return r;
}

MmcResult MmcReconstructor::run(const RecoEvent& ev, Rng& rng, double metWindowFactor) const {
  thread_local Accumulator acc, half;
  thread_local std::vector<double> scratch;
  acc.clear();
  MmcResult r;
  const EventScan scan(config_, *pdfs_, ev, metWindowFactor);
  if (config_.scan == MmcScan::Random) {
    scan.randomScan(rng, acc, r.pointsTried);
  } else {
    scan.markovScan(rng, acc, r.pointsTried, half);
  }
  r.solutions = static_cast<std::int64_t>(acc.w.size());
  const std::size_t n = acc.w.size();
  if (n == 0 || !weightedMode(acc.m.data(), acc.w.data(), n, config_.massBinGeV,
                              config_.smoothPasses, r.mTauTauMlm, scratch)) {
    r.status = RecoStatus::NoSolution;
    return r;
  }
  r.mTauTauMaxw = acc.bestM;
  // MLNU3P: the mode of each neutrino momentum component (and of m_nunu for leptonic taus).
  double comp[6];
  for (int k = 0; k < 6; ++k) {
    weightedMode(acc.comp[k].data(), acc.w.data(), n, config_.momentumBinGeV, config_.smoothPasses,
                 comp[k], scratch);
  }
  FourVector tauSum;
  for (int t = 0; t < 2; ++t) {
    double mass = 0;
    if (scan.side(t).leptonic) {
      weightedMode(acc.mass[t].data(), acc.w.data(), n, scan.side(t).massMax / 40,
                   config_.smoothPasses, mass, scratch);
      mass = std::clamp(mass, 0.0, scan.side(t).massMax);
    }
    r.nu[t] = FourVector::fromMomentumMass({comp[3 * t], comp[3 * t + 1], comp[3 * t + 2]}, mass);
    tauSum += ev.tau[t] + r.nu[t];
  }
  r.mTauTauMlnu3p = tauSum.m();
  switch (config_.massEstimator) {
    case MmcMassEstimator::Mlm:
      r.mTauTau = r.mTauTauMlm;
      break;
    case MmcMassEstimator::Maxw:
      r.mTauTau = r.mTauTauMaxw;
      break;
    case MmcMassEstimator::Mlnu3p:
      r.mTauTau = r.mTauTauMlnu3p;
      break;
  }
  r.status = RecoStatus::Ok;
  return r;
}

}  // namespace nurec::reco
