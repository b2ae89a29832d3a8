#pragma once
// Impact-parameter reconstruction, `nurec reconstruct --method ip` (docs/reco.md "Impact-parameter
// method", docs/physics.md section 13). A hadronic tau flies from the primary vertex to its decay
// vertex on the track line: with the track direction u, the tau direction is
// n = cos(psi) u + sin(psi) e(alpha), e(alpha) a unit vector perpendicular to u at azimuth alpha
// from the measured impact-parameter direction, and the true impact-parameter vector is
// L sin(psi) e(alpha) for a flight length L. For each direction the tau mass fixes |p_tau| up to
// two roots (one massless neutrino). A leptonic tau has no mass constraint: it is taken collinear
// with the lepton, tau = vis / x. The legs' families are scanned on grids and the pair that best
// explains the MET, the measured impact parameters and the flight lengths wins:
//   chi2 = |sum nu_T - MET|^2 / sigma_MET^2 + sum_hadronic [ |d - L sin(psi) e(alpha)|^2 /
//   sigma_d^2
//          + 2 L / lambda + 2 ln lambda ],  lambda = (|p_tau| / m_tau) c tau,
// with L profiled (its minimum for each direction). The best grid point is refined on a finer grid.
#include <array>
#include <string>

#include "nurec/core/Event.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/reco/MetModel.hpp"
#include "nurec/reco/Status.hpp"

namespace nurec::reco {

struct ImpactParameterRecoConfig {
  int anglePoints = 40;    // logarithmic psi grid in [minAngle, maxAngle]
  int azimuthPoints = 24;  // alpha grid in [0, 2 pi)
  double minAngleRad = 2e-4;
  double maxAngleRad = 0.4;     // well above m_tau / p_tau for p_tau > 5 GeV
  int fractionPoints = 80;      // x grid of a leptonic tau, in (0, 1]
  int refinePoints = 7;         // per axis, between the neighbours of the best grid point
  bool useFlightLength = true;  // the flight-length and impact-parameter terms
  MetResolutionModel met;
  void validate() const;
  std::string describe() const;
};

struct ImpactParameterRecoResult {
  RecoStatus status = RecoStatus::NotReconstructed;
  std::array<FourVector, 2> nu{};   // neutrino system of each tau
  std::array<FourVector, 2> tau{};  // the reconstructed taus
  double mTauTau = 0;
  double chi2 = 0;  // of the chosen solution
};

class ImpactParameterReconstructor {
 public:
  explicit ImpactParameterReconstructor(const ImpactParameterRecoConfig& config);
  // Needs ev.hasImpactParameters (the caller checks the file has /reco/track_ip).
  ImpactParameterRecoResult reconstruct(const RecoEvent& ev) const;

 private:
  ImpactParameterRecoConfig config_;
};

}  // namespace nurec::reco
