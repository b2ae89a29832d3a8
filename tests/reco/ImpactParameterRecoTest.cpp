// Impact-parameter method (docs/reco.md "Impact-parameter method"): on generated pi pi events with
// exact inputs (visible pions, impact parameters from the true vertices with tiny resolutions,
// MET = the true neutrinos) it finds the tau directions far better than the collinear
// approximation; without /reco/track_ip the method is an input error naming the dataset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/ImpactParameter.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/reco/ImpactParameterReco.hpp"
#include "nurec/reco/Reconstruct.hpp"

namespace nurec::reco {
namespace {

RecoEvent exactPiPi(const TruthEvent& t) {
  RecoEvent ev;
  for (int i = 0; i < 2; ++i) {
    ev.tau[i] = ev.charged[i] = t.chargedPion[i];
    ev.tauType[i] = RecoTauType::Pi;
    const Perigee p = trackPerigee(t.tauDecayVertex[i], t.chargedPion[i].vec(), t.primaryVertex);
    ev.trackIp[i] = {p.d0Mm, p.z0Mm, 1e-4, 2e-4};
  }
  ev.primaryVertex = t.primaryVertex;
  ev.hasImpactParameters = true;
  ev.metX = t.neutrinos[0].px + t.neutrinos[1].px;
  ev.metY = t.neutrinos[0].py + t.neutrinos[1].py;
  ev.channel = Channel::PiPi;
  ev.passSr = ev.passTrigger = true;
  return ev;
}

double angleInUnitsOfMassOverP(const FourVector& reco, const FourVector& truth) {
  const double c = reco.vec().unit().dot(truth.vec().unit());
  return std::acos(std::clamp(c, -1.0, 1.0)) / (constants::mTau / truth.p());
}

TEST(ImpactParameterReco, ExactInputsPinTheTauDirection) {
  generator::ZTauTauConfig g;
  g.nEvents = 300;
  g.seed = 8;
  g.pilotPoints = 5000;
  g.allowedDecayModes = {true, false, false, false, false};  // pi pi
  g.minVisiblePtGeV = 15;
  const auto sample = generator::generateZTauTauEvents(g, 0);
  ImpactParameterRecoConfig cfg;
  cfg.met.floorGeV = 0.5;
  cfg.met.stochasticTermSqrtGeV = 0;
  const ImpactParameterReconstructor ip(cfg);
  std::vector<double> ipAngle, visAngle;
  for (const auto& t : sample.events) {
    const auto r = ip.reconstruct(exactPiPi(t));
    ASSERT_EQ(r.status, RecoStatus::Ok);
    for (int i = 0; i < 2; ++i) {
      ipAngle.push_back(angleInUnitsOfMassOverP(r.tau[i], t.tau[i]));
      visAngle.push_back(angleInUnitsOfMassOverP(t.chargedPion[i], t.tau[i]));
    }
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  // The visible direction (collinear approximation) is off by a few tenths of m/p; the
  // impact-parameter plane, the tau mass and the MET bring it down by more than 3.
  EXPECT_GT(median(visAngle), 0.2);
  EXPECT_LT(median(ipAngle), median(visAngle) / 3);
}

TEST(ImpactParameterReco, MissingImpactParametersIsAnInputError) {
  io::EventTable table(1);
  RecoEvent ev;
  io::putReco(table, {ev});
  table.setSource("constructed.h5");
  ClassicalRecoConfig c;
  c.progress = false;
  try {
    reconstructClassical(table, "ip", c, 1);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/reco/track_ip"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nurec::reco
