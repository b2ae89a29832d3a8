#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/core/ImpactParameter.hpp"

#include <fmt/format.h>
#include <fastjet/ClusterSequence.hh>

#include <algorithm>
#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/HepMC3Reader.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::detector {

namespace {

using constants::mElectron;
using constants::mMuon;
using constants::mPiCharged;
using constants::mPiNeutral;

// Track coverage of the inner detector (docs/physics.md section 10: tracking efficiency 0
// beyond 2.5).
constexpr double kTrackerEtaMax = 2.5;
// Central / forward boundary of the e and mu identification efficiencies (section 10).
constexpr double kIdEtaCentral = 1.5;
// Jets are smeared from a truth pT of half the threshold up (lower ones cannot reach it).
constexpr double kJetPreselectFraction = 0.5;

bool isNeutrino(int pdg) {
  return pdg::isNeutrino(pdg);
}
bool isElectron(int pdg) {
  return std::abs(pdg) == pdg::electron;
}
bool isMuon(int pdg) {
  return std::abs(pdg) == pdg::muon;
}
bool isNeutralEm(int pdg) {
  return pdg == pdg::piZero || pdg == pdg::photon;
}
int chargeOf(int pdg) {
  return io::pdgThreeCharge(pdg) / 3;
}

// Log-normal smearing of a transverse momentum with relative width s, mean preserved.
double smearLogNormal(double pt, double s, Rng& rng) {
  return pt * std::exp(s * rng.normal() - 0.5 * s * s);
}

// A reconstructed tau candidate before ordering (charge from the track or lepton).
struct Candidate {
  RecoTauType type = RecoTauType::None;
  FourVector visible, track, cluster;
  int charge = 0;
  int truthIndex = -1;  // the generated tau it comes from
};

// The soft term of MET: visible particles not used by any reconstructed object.
struct SoftTerm {
  double px = 0, py = 0, sumEt = 0;
};

// A pile-up particle; `track` = charged, inside the tracker and not removed by vertex
// association (it then counts in the isolation and the soft term).
struct PileupParticle {
  FourVector p4;
  bool track = false;
};

// Share of charged particles among the pile-up particles (pions: 2 of 3).
constexpr double kPileupChargedFraction = 2.0 / 3.0;

}  // namespace

struct DetectorSimulation::Impl {
  fastjet::JetDefinition jetDefinition;
};

DetectorSimulation::DetectorSimulation(const DetectorConfig& config) : config_(config) {
  config_.validate();
  fastjet::ClusterSequence::set_fastjet_banner_stream(nullptr);
  auto impl = std::make_unique<Impl>();
  impl->jetDefinition = fastjet::JetDefinition(fastjet::antikt_algorithm, config_.jetRadius);
  // FastJet 3.4 as packaged is built without thread safety: its only shared state touched by a
  // plain clustering is the one-time banner flag, so run one clustering here, on one thread.
  std::vector<fastjet::PseudoJet> warmUp{fastjet::PseudoJet(1, 0, 0, 1)};
  fastjet::ClusterSequence(warmUp, impl->jetDefinition).inclusive_jets();
  impl_ = std::move(impl);
}

DetectorSimulation::~DetectorSimulation() = default;

namespace {

class EventSimulator {
 public:
  EventSimulator(const DetectorConfig& c, const fastjet::JetDefinition& jetDef, const TruthEvent& t,
                 Rng& rng, Rng* vertexRng)
      : c_(c), jetDef_(jetDef), truth_(t), rng_(rng), vertexRng_(vertexRng) {}

  RecoEvent run(std::array<int, 2>& charges) {
    RecoEvent reco;
    if (c_.pileupMeanInteractions > 0) makePileup();
    std::array<Candidate, 2> cand;
    for (int t = 0; t < 2; ++t) cand[t] = reconstructTau(t);
    // Index 0 is the positive candidate (by reconstructed charge); a lone negative candidate
    // goes to index 1. Same-sign pairs keep the truth order (and fail the SR).
    if ((cand[0].charge < 0 && cand[1].charge >= 0) || (cand[0].charge == 0 && cand[1].charge > 0))
      std::swap(cand[0], cand[1]);
    FourVector objects;
    double objectsEt = 0;
    if (vertexRng_ && truth_.hasVertices) measureVertices(cand, *vertexRng_, reco);
    for (int t = 0; t < 2; ++t) {
      reco.tau[t] = cand[t].visible;
      reco.tauType[t] = cand[t].type;
      reco.charged[t] = cand[t].track;
      reco.neutral[t] = cand[t].cluster;
      charges[t] = cand[t].charge;
      if (cand[t].type != RecoTauType::None) {
        objects += cand[t].visible;
        objectsEt += cand[t].visible.pt();
      }
    }
    reco.jets = reconstructJets();
    for (const auto& j : reco.jets) {
      objects += j;
      objectsEt += j.pt();
    }
    // Pile-up tracks that survive vertex association and are in no jet join the soft term.
    for (std::size_t j = 0; j < pileup_.size(); ++j)
      if (pileup_[j].track && !pileupInJet_[j]) {
        soft_.px += pileup_[j].p4.px;
        soft_.py += pileup_[j].p4.py;
        soft_.sumEt += pileup_[j].p4.pt();
      }
    // MET (docs/physics.md section 10): minus the objects and the soft term; Gaussian noise of
    // k sqrt(sum E_T) per component.
    reco.sumEt = objectsEt + soft_.sumEt;
    const double sigmaMet = c_.metResolutionK * std::sqrt(reco.sumEt);
    const double noiseX = sigmaMet * rng_.normal();
    const double noiseY = sigmaMet * rng_.normal();
    reco.metX = -(objects.px + c_.metSoftResponse * soft_.px + noiseX);
    reco.metY = -(objects.py + c_.metSoftResponse * soft_.py + noiseY);
    return reco;
  }

 private:
  // Poisson(<mu>) minimum-bias interactions, each balanced in the transverse plane.
  void makePileup() {
    const int nInteractions = samplePoisson(c_.pileupMeanInteractions, rng_);
    double areaPt = 0;
    for (int k = 0; k < nInteractions; ++k) {
      const int n = samplePoisson(c_.pileupParticlesPerInteraction, rng_);
      if (n < 2) continue;
      double sx = 0, sy = 0;
      std::vector<std::array<double, 4>> raw(static_cast<std::size_t>(n));
      for (auto& r : raw) {
        const double pt = c_.pileupPtMinGeV + rng_.exponential(c_.pileupPtMeanGeV);
        const double phi = rng_.uniform(-constants::pi, constants::pi);
        r = {pt * std::cos(phi), pt * std::sin(phi),
             rng_.uniform(-c_.pileupMaxAbsEta, c_.pileupMaxAbsEta), rng_.uniform()};
        sx += r[0];
        sy += r[1];
      }
      for (const auto& r : raw) {
        const double px = r[0] - sx / n, py = r[1] - sy / n;
        const double pt = std::hypot(px, py);
        PileupParticle p;
        const bool charged = r[3] < kPileupChargedFraction;
        p.p4 = FourVector::fromMomentumMass({px, py, pt * std::sinh(r[2])},
                                            charged ? mPiCharged : 0.0);
        p.track = charged && std::abs(r[2]) <= kTrackerEtaMax &&
                  rng_.uniform() >= c_.pileupTrackRejection;
        if (std::abs(r[2]) <= c_.caloEtaMax) areaPt += pt;
        pileup_.push_back(p);
      }
    }
    pileupInJet_.assign(pileup_.size(), false);
    // Pile-up pT density per unit eta-phi area within the calorimeter (the rho of the jet
    // subtraction; the event's true density stands in for the area-median estimate).
    pileupRho_ = areaPt / (2 * constants::pi * 2 * c_.caloEtaMax);
  }

  void addSoft(const Particle& p) {
    if (isNeutrino(p.pdgId)) return;
    const double absEta = std::abs(p.p4.eta());
    if (absEta > c_.caloEtaMax) return;
    if (isMuon(p.pdgId) && absEta > kTrackerEtaMax) return;  // a muon deposits ~nothing
    soft_.px += p.p4.px;
    soft_.py += p.p4.py;
    soft_.sumEt += p.p4.pt();
  }

  // Sum pT of the visible particles (pT > isolation threshold) within the isolation cone of
  // `lepton` (the truth lepton itself excluded).
  double isolationSumPt(const Particle& lepton) const {
    double sum = 0;
    auto scan = [&](const std::vector<Particle>& list) {
      for (const auto& p : list) {
        if (&p == &lepton || isNeutrino(p.pdgId)) continue;
        const double pt = p.p4.pt();
        if (pt <= c_.isolationPtMinGeV) continue;
        if (deltaR(p.p4, lepton.p4) < c_.isolationDeltaR) sum += pt;
      }
    };
    scan(truth_.recoil);
    scan(truth_.tauProducts[0]);
    scan(truth_.tauProducts[1]);
    for (const auto& p : pileup_) {
      if (!p.track || p.p4.pt() <= c_.isolationPtMinGeV) continue;
      if (deltaR(p.p4, lepton.p4) < c_.isolationDeltaR) sum += p.p4.pt();
    }
    return sum;
  }

  // Electron or muon: tracking x identification efficiency, resolution, isolation.
  bool reconstructLepton(const Particle& lep, Candidate& out) {
    const bool electron = isElectron(lep.pdgId);
    const double pt = lep.p4.pt();
    const double absEta = std::abs(lep.p4.eta());
    const double trackEff =
        electron ? c_.electronTrackEfficiency(pt, absEta) : c_.muonTrackEfficiency(pt, absEta);
    double idEff = 0;
    if (pt > c_.leptonIdPtMinGeV) {
      const double idEtaMax = electron ? kTrackerEtaMax : c_.muonEtaMax;
      if (absEta <= kIdEtaCentral)
        idEff = electron ? c_.electronIdEffCentral : c_.muonIdEffCentral;
      else if (absEta <= idEtaMax)
        idEff = electron ? c_.electronIdEffForward : c_.muonIdEffForward;
    }
    if (rng_.uniform() >= trackEff * idEff) return false;
    FourVector p4;
    if (electron) {
      // Inverse-variance combination of the ECAL energy and the track momentum (both smeared),
      // direction from truth; at 40 GeV the ECAL dominates (1.6 % vs 6 %).
      const double eTrue = lep.p4.e;
      const double sCalo = c_.ecal.sigma(eTrue) / eTrue;
      const double sTrack = c_.electronTrackResolution.relative(pt, absEta);
      const double rCalo = 1 + sCalo * rng_.normal();
      const double rTrack = std::exp(sTrack * rng_.normal() - 0.5 * sTrack * sTrack);
      double r = rCalo;
      if (sTrack > 0 && sCalo > 0) {
        const double wCalo = 1 / (sCalo * sCalo), wTrack = 1 / (sTrack * sTrack);
        r = (wCalo * rCalo + wTrack * rTrack) / (wCalo + wTrack);
      } else if (sCalo > 0) {
        r = rTrack;  // a perfect track
      }
      const double e = r * eTrue;
      if (e <= mElectron) return false;
      const double scale = std::sqrt(e * e - mElectron * mElectron) / lep.p4.p();
      p4 = {lep.p4.px * scale, lep.p4.py * scale, lep.p4.pz * scale, e};
    } else {
      const double s = c_.muonTrackResolution.relative(pt, absEta);
      p4 =
          FourVector::fromPtEtaPhiM(smearLogNormal(pt, s, rng_), lep.p4.eta(), lep.p4.phi(), mMuon);
    }
    const double isoMax = electron ? c_.electronIsolationMax : c_.muonIsolationMax;
    if (isolationSumPt(lep) >= isoMax * p4.pt()) return false;
    out.type = electron ? RecoTauType::Electron : RecoTauType::Muon;
    out.visible = p4;
    out.charge = chargeOf(lep.pdgId);
    return true;
  }

  // Reconstructed primary vertex and the impact parameters of each candidate's track (hadronic:
  // the charged pion track; leptonic: the lepton), from the vertex stream only.
  void measureVertices(const std::array<Candidate, 2>& cand, Rng& rng, RecoEvent& reco) const {
    reco.primaryVertex =
        truth_.primaryVertex + Vector3{c_.primaryVertexSigmaTransverseMm * rng.normal(),
                                       c_.primaryVertexSigmaTransverseMm * rng.normal(),
                                       c_.primaryVertexSigmaLongitudinalMm * rng.normal()};
    for (int t = 0; t < 2; ++t) {
      const double nD0 = rng.normal(), nZ0 = rng.normal();  // drawn for every slot: fixed order
      const Candidate& k = cand[t];
      if (k.type == RecoTauType::None || k.truthIndex < 0) continue;
      const FourVector& track =
          (k.type == RecoTauType::Pi || k.type == RecoTauType::Rho) ? k.track : k.visible;
      const Vector3 u = track.vec();
      if (!(u.perp() > 0)) continue;
      const double sinTheta = u.perp() / u.mag();
      const Perigee p = trackPerigee(truth_.tauDecayVertex[k.truthIndex], u, reco.primaryVertex);
      const double sD0 = impactParameterResolution(c_.d0ResolutionAMm, c_.d0ResolutionBMmGeV,
                                                   track.pt(), sinTheta);
      const double sZ0 = impactParameterResolution(c_.z0ResolutionAMm, c_.z0ResolutionBMmGeV,
                                                   track.pt(), sinTheta);
      TrackImpactParameter& ip = reco.trackIp[t];
      ip.d0Mm = p.d0Mm + sD0 * nD0;
      ip.z0Mm = p.z0Mm + sZ0 * nZ0;
      ip.sigmaD0Mm = std::hypot(sD0, c_.primaryVertexSigmaTransverseMm);
      // z0 moves with the vertex along z and, through the transverse point of closest approach,
      // with its transverse position times cot(theta).
      const double cotTheta = u.z / u.perp();
      ip.sigmaZ0Mm = std::sqrt(sZ0 * sZ0 + std::pow(c_.primaryVertexSigmaLongitudinalMm, 2) +
                               std::pow(c_.primaryVertexSigmaTransverseMm * cotTheta, 2));
    }
    reco.hasImpactParameters = true;
  }

  Candidate reconstructTau(int t) {
    const auto& products = truth_.tauProducts[t];
    Candidate cand;
    std::vector<bool> used(products.size(), false);
    const Particle* lepton = nullptr;
    bool hadronic = false;
    for (const auto& p : products) {
      if (isElectron(p.pdgId) || isMuon(p.pdgId)) {
        if (!lepton || p.p4.pt() > lepton->p4.pt()) lepton = &p;
      } else if (!isNeutrino(p.pdgId) && chargeOf(p.pdgId) != 0) {
        hadronic = true;
      }
    }
    bool ok = false;
    if (!hadronic && lepton) {
      ok = reconstructLepton(*lepton, cand);
      if (ok) used[static_cast<std::size_t>(lepton - products.data())] = true;
    } else if (hadronic) {
      ok = reconstructHadronicTau(products, used, cand);
    }
    if (!ok) {
      cand = Candidate{};
      std::fill(used.begin(), used.end(), false);
    } else {
      cand.truthIndex = t;
    }
    for (std::size_t j = 0; j < products.size(); ++j)
      if (!used[j]) addSoft(products[j]);
    return cand;
  }

  // 1-prong hadronic tau: the track plus at most one pi0 cluster (docs/physics.md section 10).
  bool reconstructHadronicTau(const std::vector<Particle>& products, std::vector<bool>& used,
                              Candidate& cand) {
    int nProngs = 0;
    std::size_t leadTrack = products.size();
    FourVector emSum;
    bool hasEm = false;
    int nPi0 = 0;
    for (std::size_t j = 0; j < products.size(); ++j) {
      const auto& p = products[j];
      if (isNeutralEm(p.pdgId)) {
        emSum += p.p4;
        hasEm = true;
        nPi0 += p.pdgId == pdg::piZero ? 1 : 0;
        continue;
      }
      if (isNeutrino(p.pdgId) || chargeOf(p.pdgId) == 0) continue;
      const double pt = p.p4.pt();
      const double eff = c_.pionTrackEfficiency(pt, std::abs(p.p4.eta()));
      if (rng_.uniform() >= eff || pt <= c_.tauTrackPtMinGeV) continue;
      ++nProngs;
      if (leadTrack == products.size() || pt > products[leadTrack].p4.pt()) leadTrack = j;
    }
    if (nProngs == 0) return false;
    // Multi-prong taus belong to no analysis channel: their products go to the soft term.
    if (nProngs > 1) return false;
    // Identification working point (1p0n or 1pXn by the true neutral EM content) x electron veto.
    const double idEff = (hasEm ? c_.tauIdEff1pXn : c_.tauIdEff1p0n) * c_.tauElectronVetoEff;
    if (rng_.uniform() >= idEff) return false;
    // h+- 2pi0 recognised as such (1pXn): no analysis channel.
    if (nPi0 >= 2 && rng_.uniform() < c_.multiPi0ResolvedProbability) return false;
    const auto& pion = products[leadTrack];
    const double absEta = std::abs(pion.p4.eta());
    const double s = c_.pionTrackResolution.relative(pion.p4.pt(), absEta);
    cand.track = FourVector::fromPtEtaPhiM(smearLogNormal(pion.p4.pt(), s, rng_), pion.p4.eta(),
                                           pion.p4.phi(), mPiCharged);
    used[leadTrack] = true;
    cand.charge = chargeOf(pion.pdgId);
    // All neutral EM energy of the decay forms one ECAL cluster at its direction.
    bool haveCluster = false;
    if (hasEm && std::abs(emSum.eta()) < c_.ecalEtaMax) {
      const double e = emSum.e + c_.ecal.sigma(emSum.e) * rng_.normal();
      const double et = e / std::cosh(emSum.eta());
      const bool found = rng_.uniform() < c_.pi0ClusterEfficiency;
      if (found && et > c_.pi0ClusterEtMinGeV) {
        cand.cluster = clusterAt(emSum.eta(), emSum.phi(), e);
        haveCluster = true;
        for (std::size_t j = 0; j < products.size(); ++j)
          if (isNeutralEm(products[j].pdgId)) used[j] = true;
      }
    }
    if (!haveCluster && rng_.uniform() < c_.fakePi0Probability) {
      // Fake cluster split off the pion shower, next to the track.
      const double fraction = rng_.uniform(c_.fakePi0FractionMin, c_.fakePi0FractionMax);
      const double e = fraction * pion.p4.e;
      const double angle = rng_.uniform(-constants::pi, constants::pi);
      const double eta = pion.p4.eta() + c_.fakePi0DeltaR * std::cos(angle);
      const double phi = wrapPhi(pion.p4.phi() + c_.fakePi0DeltaR * std::sin(angle));
      if (e / std::cosh(eta) > c_.pi0ClusterEtMinGeV) {
        cand.cluster = clusterAt(eta, phi, e);
        haveCluster = true;
      }
    }
    cand.visible = cand.track + cand.cluster;
    if (cand.visible.pt() <= c_.tauPtMinGeV || std::abs(cand.visible.eta()) > c_.tauEtaMax)
      return false;
    cand.type = haveCluster ? RecoTauType::Rho : RecoTauType::Pi;
    return true;
  }

  // A pi0 cluster of energy e at (eta, phi), with the pi0 mass hypothesis.
  static FourVector clusterAt(double eta, double phi, double e) {
    const double m = e > mPiNeutral ? mPiNeutral : 0.0;
    const double p = std::sqrt(e * e - m * m);
    const double pt = p / std::cosh(eta);
    return {pt * std::cos(phi), pt * std::sin(phi), pt * std::sinh(eta), e};
  }

  // Anti-kt jets of the recoil (and pile-up) particles, pile-up subtracted (rho x pi R^2), smeared
  // with the HCAL resolution of their |eta| region.
  std::vector<FourVector> reconstructJets() {
    std::vector<fastjet::PseudoJet> inputs;
    inputs.reserve(truth_.recoil.size() + pileup_.size());
    for (std::size_t j = 0; j < truth_.recoil.size(); ++j) {
      const auto& p = truth_.recoil[j];
      if (isNeutrino(p.pdgId) || p.p4.pt() <= 0 || std::abs(p.p4.eta()) > c_.caloEtaMax) continue;
      inputs.emplace_back(p.p4.px, p.p4.py, p.p4.pz, p.p4.e);
      inputs.back().set_user_index(static_cast<int>(j));
    }
    const int pileupIndex0 = static_cast<int>(truth_.recoil.size());
    for (std::size_t j = 0; j < pileup_.size(); ++j) {
      const auto& p = pileup_[j].p4;
      if (p.pt() <= 0 || std::abs(p.eta()) > c_.caloEtaMax) continue;
      inputs.emplace_back(p.px, p.py, p.pz, p.e);
      inputs.back().set_user_index(pileupIndex0 + static_cast<int>(j));
    }
    const double rhoArea = pileupRho_ * constants::pi * c_.jetRadius * c_.jetRadius;
    std::vector<bool> used(truth_.recoil.size(), false);
    std::vector<FourVector> jets;
    if (!inputs.empty()) {
      fastjet::ClusterSequence cs(inputs, jetDef_);
      for (const auto& rawJet : cs.inclusive_jets(kJetPreselectFraction * c_.jetPtMinGeV)) {
        if (rawJet.pt() <= rhoArea) continue;
        const fastjet::PseudoJet jet = rawJet * (1 - rhoArea / rawJet.pt());
        const double absEta = std::abs(jet.eta());
        const CaloResolution& hcal = absEta <= c_.hcalBarrelEtaMax   ? c_.hcalBarrel
                                     : absEta <= c_.hcalEndcapEtaMax ? c_.hcalEndcap
                                                                     : c_.hcalForward;
        const double e = jet.E() + hcal.sigma(jet.E()) * rng_.normal();
        if (e <= 0) continue;
        const FourVector smeared =
            FourVector(jet.px(), jet.py(), jet.pz(), jet.E()) * (e / jet.E());
        if (smeared.pt() <= c_.jetPtMinGeV || absEta > c_.jetEtaMax) continue;
        jets.push_back(smeared);
        for (const auto& constituent : rawJet.constituents()) {
          const int index = constituent.user_index();
          if (index >= pileupIndex0)
            pileupInJet_[static_cast<std::size_t>(index - pileupIndex0)] = true;
          else
            used[static_cast<std::size_t>(index)] = true;
        }
      }
    }
    for (std::size_t j = 0; j < truth_.recoil.size(); ++j)
      if (!used[j]) addSoft(truth_.recoil[j]);
    std::sort(jets.begin(), jets.end(),
              [](const FourVector& a, const FourVector& b) { return a.pt() > b.pt(); });
    return jets;
  }

  const DetectorConfig& c_;
  const fastjet::JetDefinition& jetDef_;
  const TruthEvent& truth_;
  Rng& rng_;
  Rng* vertexRng_ = nullptr;
  SoftTerm soft_;
  std::vector<PileupParticle> pileup_;
  std::vector<bool> pileupInJet_;
  double pileupRho_ = 0;
};

bool isHadronic(RecoTauType t) {
  return t == RecoTauType::Pi || t == RecoTauType::Rho;
}

void setSlot(PointCloud& cloud, CloudSlot slot, const FourVector& p, int charge, CloudType type) {
  auto& f = cloud.features[static_cast<int>(slot)];
  f.fill(0.0F);
  f[feature::logPt] = static_cast<float>(std::log(std::max(p.pt(), kCloudMinLogArgGeV)));
  f[feature::eta] = static_cast<float>(p.eta());
  f[feature::phi] = static_cast<float>(p.phi());
  f[feature::logE] = static_cast<float>(std::log(std::max(p.e, kCloudMinLogArgGeV)));
  f[feature::charge] = static_cast<float>(charge);
  f[feature::typeOneHot + static_cast<int>(type)] = 1.0F;
  f[feature::pxScaled] = static_cast<float>(p.px / kCloudMomentumScaleGeV);
  f[feature::pyScaled] = static_cast<float>(p.py / kCloudMomentumScaleGeV);
  cloud.mask[static_cast<int>(slot)] = 1;
}

}  // namespace

PointCloud buildPointCloud(const RecoEvent& reco, const std::array<int, 2>& charge) {
  PointCloud cloud;
  const CloudSlot trackSlot[2] = {CloudSlot::TauPlusTrack, CloudSlot::TauMinusTrack};
  const CloudSlot pi0Slot[2] = {CloudSlot::TauPlusPi0, CloudSlot::TauMinusPi0};
  for (int t = 0; t < 2; ++t) {
    switch (reco.tauType[t]) {
      case RecoTauType::Pi:
        setSlot(cloud, trackSlot[t], reco.charged[t], charge[t], CloudType::Track);
        break;
      case RecoTauType::Rho:
        setSlot(cloud, trackSlot[t], reco.charged[t], charge[t], CloudType::Track);
        setSlot(cloud, pi0Slot[t], reco.neutral[t], 0, CloudType::Pi0);
        break;
      case RecoTauType::Electron:
        setSlot(cloud, trackSlot[t], reco.tau[t], charge[t], CloudType::Electron);
        break;
      case RecoTauType::Muon:
        setSlot(cloud, trackSlot[t], reco.tau[t], charge[t], CloudType::Muon);
        break;
      case RecoTauType::None:
        break;
    }
  }
  const std::size_t nJets = std::min<std::size_t>(reco.jets.size(), kCloudMaxJets);
  for (std::size_t j = 0; j < nJets; ++j)
    setSlot(cloud,
            static_cast<CloudSlot>(static_cast<int>(CloudSlot::FirstJet) + static_cast<int>(j)),
            reco.jets[j], 0, CloudType::Jet);
  // MET token: log(MET), eta 0, phi(MET), log(MET), charge 0, one-hot MET, MET_x/50, MET_y/50.
  const FourVector met(reco.metX, reco.metY, 0, std::hypot(reco.metX, reco.metY));
  setSlot(cloud, CloudSlot::Met, met, 0, CloudType::Met);
  cloud.features[static_cast<int>(CloudSlot::Met)][feature::eta] = 0.0F;
  return cloud;
}

Channel channelOf(RecoTauType a, RecoTauType b) {
  using T = RecoTauType;
  if (a == T::None || b == T::None) return Channel::None;
  if (!isHadronic(a)) std::swap(a, b);       // a hadronic one first
  if (!isHadronic(a)) return Channel::None;  // lepton-lepton
  if (a == T::Rho && b == T::Pi) std::swap(a, b);
  if (a == T::Pi) {
    switch (b) {
      case T::Pi:
        return Channel::PiPi;
      case T::Electron:
        return Channel::EPi;
      case T::Muon:
        return Channel::MuPi;
      case T::Rho:
        return Channel::PiRho;
      case T::None:
        break;
    }
    return Channel::None;
  }
  switch (b) {  // a == Rho, b != Pi
    case T::Electron:
      return Channel::ERho;
    case T::Muon:
      return Channel::MuRho;
    case T::Rho:
      return Channel::RhoRho;
    default:
      break;
  }
  return Channel::None;
}

namespace {
// The trigger-relevant candidates: pT, |eta| and the candidate's trigger draw. One draw per
// object serves all legs it can fire, so a higher threshold never fires without a lower one.
struct TriggerObject {
  double pt = 0, absEta = 0, u = 1;
  bool present = false;
};
struct TriggerObjects {
  TriggerObject leadTau, subleadTau, electron, muon;
};
TriggerObjects triggerObjects(const RecoEvent& reco, const TriggerDraws& draws) {
  TriggerObjects o;
  for (int t = 0; t < 2; ++t) {
    const TriggerObject obj{reco.tau[t].pt(), std::abs(reco.tau[t].eta()), draws.u[t], true};
    switch (reco.tauType[t]) {
      case RecoTauType::Pi:
      case RecoTauType::Rho:
        if (!o.leadTau.present || obj.pt > o.leadTau.pt) {
          o.subleadTau = o.leadTau;
          o.leadTau = obj;
        } else if (!o.subleadTau.present || obj.pt > o.subleadTau.pt) {
          o.subleadTau = obj;
        }
        break;
      case RecoTauType::Electron:
        if (!o.electron.present || obj.pt > o.electron.pt) o.electron = obj;
        break;
      case RecoTauType::Muon:
        if (!o.muon.present || obj.pt > o.muon.pt) o.muon = obj;
        break;
      case RecoTauType::None:
        break;
    }
  }
  return o;
}
bool fires(const TriggerObject& obj, const TriggerTurnOn& turnOn, double thresholdGeV) {
  return obj.present && obj.u < turnOn(obj.pt, thresholdGeV, obj.absEta);
}
bool diTauTrigger(const TriggerObjects& o, const DetectorConfig& c) {
  return fires(o.leadTau, c.tauTrigger, c.diTauLeadPtGeV) &&
         fires(o.subleadTau, c.tauTrigger, c.diTauSubleadPtGeV);
}
bool electronTrigger(const TriggerObjects& o, const DetectorConfig& c) {
  return (fires(o.electron, c.electronTrigger, c.eTauElectronPtGeV) &&
          fires(o.leadTau, c.tauTrigger, c.eTauTauPtGeV)) ||
         fires(o.electron, c.electronTrigger, c.singleElectronPtGeV);
}
bool muonTrigger(const TriggerObjects& o, const DetectorConfig& c) {
  return (fires(o.muon, c.muonTrigger, c.muTauMuonPtGeV) &&
          fires(o.leadTau, c.tauTrigger, c.muTauTauPtGeV)) ||
         fires(o.muon, c.muonTrigger, c.singleMuonPtGeV);
}
}  // namespace

bool passTrigger(const RecoEvent& reco, const DetectorConfig& c, const TriggerDraws& draws) {
  const auto o = triggerObjects(reco, draws);
  return diTauTrigger(o, c) || electronTrigger(o, c) || muonTrigger(o, c);
}

void applySelection(RecoEvent& reco, const std::array<int, 2>& charges, const DetectorConfig& c,
                    const TriggerDraws& draws) {
  reco.channel = channelOf(reco.tauType[0], reco.tauType[1]);
  reco.passTrigger = passTrigger(reco, c, draws);
  reco.passSr = false;
  if (reco.channel == Channel::None) return;
  const auto o = triggerObjects(reco, draws);
  bool channelTrigger = false;
  switch (reco.channel) {
    case Channel::PiPi:
    case Channel::PiRho:
    case Channel::RhoRho:
      channelTrigger = diTauTrigger(o, c);
      break;
    case Channel::EPi:
    case Channel::ERho:
      channelTrigger = electronTrigger(o, c);
      break;
    case Channel::MuPi:
    case Channel::MuRho:
      channelTrigger = muonTrigger(o, c);
      break;
    case Channel::None:
      break;
  }
  if (!channelTrigger) return;
  for (int t = 0; t < 2; ++t) {
    const double absEta = std::abs(reco.tau[t].eta());
    switch (reco.tauType[t]) {
      case RecoTauType::Pi:
      case RecoTauType::Rho:
        if (absEta >= c.tauEtaMax) return;
        break;
      case RecoTauType::Electron:
        if (absEta >= c.electronEtaMax) return;
        if (absEta > c.electronCrackEtaMin && absEta < c.electronCrackEtaMax) return;
        break;
      case RecoTauType::Muon:
        if (absEta >= c.leptonEtaMax) return;
        break;
      case RecoTauType::None:
        return;
    }
  }
  if (c.requireOppositeCharge && charges[0] * charges[1] >= 0) return;
  reco.passSr = true;
}

SimulatedEvent DetectorSimulation::simulate(const TruthEvent& truth, Rng& rng,
                                            Rng* vertexRng) const {
  SimulatedEvent out;
  std::array<int, 2> charges{0, 0};
  out.reco = EventSimulator(config_, impl_->jetDefinition, truth, rng, vertexRng).run(charges);
  const TriggerDraws draws{{rng.uniform(), rng.uniform()}};
  applySelection(out.reco, charges, config_, draws);
  out.cloud = buildPointCloud(out.reco, charges);
  return out;
}

void simulateDetector(io::EventTable& table, const DetectorConfig& config, std::uint64_t seed,
                      int threads, Progress* progress) {
  const DetectorSimulation sim(config);
  // The detector sees the tau decay products and the recoil (docs/detector.md); getTruth reads
  // them as empty when absent, which would silently give events without candidates.
  for (const char* name :
       {io::ds::productsP4, io::ds::productsPdg, io::ds::recoilP4, io::ds::recoilPdg}) {
    if (!table.has(name)) {
      throw InputError(fmt::format(
          "{}: dataset {} is missing; the detector simulation needs the tau decay products and "
          "the recoil (/truth/products_*, /truth/recoil_*), as written by `nurec generate`",
          table.source().empty() ? std::string("event table") : table.source(), name));
    }
  }
  const std::vector<TruthEvent> truth = io::getTruth(table);
  const std::size_t n = truth.size();
  std::vector<RecoEvent> reco(n);
  std::vector<float> particles(n * kCloudSlots * kCloudFeatures);
  std::vector<std::uint8_t> mask(n * kCloudSlots);
  parallelFor(n, threads, [&](std::size_t i) {
    // Streams of the event's index in its file, so that chunks give what the whole file gives.
    const std::uint64_t event = table.firstRow() + i;
    Rng rng(seed, event, streams::detector);
    Rng vertexRng(seed, event, streams::detectorVertex);
    SimulatedEvent ev = sim.simulate(truth[i], rng, &vertexRng);
    float* f = particles.data() + i * kCloudSlots * kCloudFeatures;
    for (int s = 0; s < kCloudSlots; ++s) {
      std::copy(ev.cloud.features[s].begin(), ev.cloud.features[s].end(), f + s * kCloudFeatures);
      mask[i * kCloudSlots + static_cast<std::size_t>(s)] = ev.cloud.mask[s];
    }
    reco[i] = std::move(ev.reco);
    if (progress) progress->advance();
  });
  table.eraseGroup("/reco/");
  io::putReco(table, reco);
  table.set(io::ds::recoParticles, {kCloudSlots, kCloudFeatures}, std::move(particles));
  table.set(io::ds::recoParticlesMask, {kCloudSlots}, std::move(mask));
}

}  // namespace nurec::detector
