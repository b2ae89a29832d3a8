#pragma once
// Collinear approximation (docs/physics.md section 9): each tau's neutrinos are massless and
// parallel to its visible products, p_nu,i = (1/x_i - 1) p_vis,i, and they alone make the MET.
#include <array>

#include "nurec/core/Event.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/reco/Status.hpp"

namespace nurec::reco {

struct CollinearConfig {
  // Events whose visible taus are closer to back to back than this, |sin dphi(vis1, vis2)| below
  // the value (D/(pT1 pT2) of section 9), fail with BackToBack: there 1/D amplifies the MET
  // resolution without bound.
  double minAbsSinDeltaPhi = 0.05;
  // Accept x_i in (0, maxX]; physics says 1, a little slack keeps events that MET noise pushed
  // just past 1 (their x is clipped to 1).
  double maxX = 1.0;
  void validate() const;
};

struct CollinearResult {
  RecoStatus status = RecoStatus::NotReconstructed;
  std::array<double, 2> x{0, 0};   // visible energy fractions E_vis/E_tau
  std::array<FourVector, 2> nu{};  // neutrino system of each tau (massless, along vis)
  double mVisible = 0;             // m(vis1 + vis2)
  double mTauTau = 0;              // m(vis1/x1 + vis2/x2)
};

// Validates the visible tau candidates of an event (finite, E >= |p| within rounding, non-zero
// pT): returns Ok, NotReconstructed or InvalidInput. Shared by every classical method.
RecoStatus checkRecoInput(const RecoEvent& ev);

class CollinearReconstructor {
 public:
  explicit CollinearReconstructor(const CollinearConfig& config);
  CollinearResult reconstruct(const RecoEvent& ev) const;
  // The bare formula for two visible four-vectors and a MET (no input checks).
  CollinearResult solve(const FourVector& vis1, const FourVector& vis2, double metX,
                        double metY) const;
  const CollinearConfig& config() const { return config_; }

 private:
  CollinearConfig config_;
};

}  // namespace nurec::reco
