#pragma once
// FastMTT-style mass likelihood (docs/physics.md section 9; Kalinowski, Matyszkiewicz,
// arXiv:2509.26069): the taus are collinear with their visible products, tau_i = vis_i / x_i, and
// the likelihood in (x1, x2) is the MET transfer function exp(-d^T V^-1 d / 2),
// d = MET - sum_i (1/x_i - 1) pT_vis,i, times the decay x-distributions f(x_i) of section 6.
// It is evaluated on an (x1, x2) grid; the mass likelihood L(m) is the grid projected onto
// m = m(vis1/x1 + vis2/x2), its mode is the estimate, and the taus are those of the most likely
// grid point on that mass.
#include <array>
#include <string>

#include "nurec/core/Event.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/reco/MetModel.hpp"
#include "nurec/reco/Status.hpp"

namespace nurec::reco {

struct FastMttConfig {
  int gridPoints = 100;             // per axis, x in (0, 1]
  bool useDecayProbability = true;  // f(x) terms of section 6
  MetResolutionModel met;
  double massBinGeV = 1.0;  // L(m) histogram
  int smoothPasses = 2;
  void validate() const;
  std::string describe() const;
};

struct FastMttResult {
  RecoStatus status = RecoStatus::NotReconstructed;
  double mTauTau = 0;       // mode of L(m)
  double mTauTauSigma = 0;  // likelihood-weighted RMS of m over the grid
  std::array<double, 2> x{0, 0};
  std::array<FourVector, 2> nu{};  // collinear neutrinos at the chosen (x1, x2)
};

class FastMttReconstructor {
 public:
  explicit FastMttReconstructor(const FastMttConfig& config);
  FastMttResult reconstruct(const RecoEvent& ev) const;
  const FastMttConfig& config() const { return config_; }

 private:
  FastMttConfig config_;
};

}  // namespace nurec::reco
