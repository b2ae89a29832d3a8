#pragma once
// MET resolution model shared by MMC and FastMTT: sigma(MET_x) = sigma(MET_y) =
// max(floor, k sqrt(sum E_T)) (docs/physics.md section 10, k ~ 0.5 GeV^1/2, ATLAS-like choice).
#include <algorithm>
#include <cmath>
#include <string>

#include "nurec/core/Error.hpp"

namespace nurec::reco {

struct MetResolutionModel {
  double stochasticTermSqrtGeV = 0.5;  // k in k sqrt(sum E_T)
  double floorGeV = 2.0;               // lower bound (and the value when sum E_T is absent)
  void validate(const std::string& owner) const {
    require(stochasticTermSqrtGeV >= 0, owner + ".met.stochasticTermSqrtGeV must be >= 0");
    require(floorGeV > 0, owner + ".met.floorGeV must be positive");
  }
  double sigmaGeV(double sumEtGeV) const {
    return std::max(floorGeV, stochasticTermSqrtGeV * std::sqrt(std::max(0.0, sumEtGeV)));
  }
};

}  // namespace nurec::reco
