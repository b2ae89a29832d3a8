#pragma once
// Fast parton-level detector for semileptonic t tbar (docs/ttbar.md "Detector"): the partons of
// the generator record become jets (Gaussian calorimeter resolution, eta/phi smearing,
// out-of-cone loss, semileptonic b decays), the initial-state emissions become extra jets, jets
// are b-tagged with pT-dependent efficiencies, the charged lepton is found with an efficiency and
// smeared, and the MET is minus the vector sum of the visible objects plus a soft term. Then the
// study's selection (exactly one e or mu, >= 4 jets, >= 2 b-tags) and its point cloud (up to 20
// jets + 1 lepton, 12 features each, MET apart).
//
//   const TTbarDetector det(config);                        // validates, const afterwards
//   TTbarRecoEvent reco = det.simulate(truthEvent, i, seed); // Rng(seed, i, kTTbarDetectorStream)
//   TTbarPointCloud cloud = pointCloud(reco);
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nurec/core/FourVector.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/detector/DetectorConfig.hpp"
#include "nurec/generator/ttbar/TTbarGenerator.hpp"

namespace nurec::detector::ttbar {

// Random stream of the t tbar detector for event i: Rng(seed, i, kTTbarDetectorStream), distinct
// from the generator's streams, so the output depends on (seed, i) only (not on threads/chunks).
inline constexpr std::uint64_t kTTbarDetectorStream = 0x5454444554ull;  // "TTDET"

// b-tagging efficiency of true b jets, the formula of the Delphes ATLAS card (there attributed to
// ATL-PHYS-PUB-2015-022):
//   eff(pT) = norm tanh(slope pT) numerator / (1 + falloff pT)   (pT in GeV),
// about 0.60 at 30 GeV, 0.67 at 50, 0.73 at 100 and 0.71 at 200 GeV (the 70 % working point),
// times forwardFactor for |eta| > etaCentral (docs/ttbar.md "Detector").
struct BTagEfficiency {
  double norm = 0.80;
  double slopePerGeV = 0.003;
  double numerator = 30;
  double falloffPerGeV = 0.086;
  double etaCentral = 1.5;
  double forwardFactor = 0.90;  // choice: tracking and vertexing degrade beyond |eta| 1.5
  double fixedEfficiency = -1;  // >= 0: this value at every pT and eta instead (closure tests)
  double operator()(double ptGeV, double absEta) const;
  void validate() const;
};

struct TTbarDetectorConfig {
  // --- jets from partons (docs/ttbar.md "Detector") ---
  // Energy resolution of the HCAL regions, as the Z -> tau tau detector (docs/physics.md section
  // 10: Delphes ATLAS card), sigma(E) = sqrt((c E)^2 + s^2 E + n^2), s in GeV^1/2:
  CaloResolution jetBarrel{0.0302, 0.5205, 1.59};  // |eta| <= 1.7
  CaloResolution jetEndcap{0.050, 0.706, 0};       // 1.7 < |eta| <= 3.2
  CaloResolution jetForward{0.10, 1.0, 0};         // beyond (ATLAS design FCal)
  double jetBarrelEtaMax = 1.7, jetEndcapEtaMax = 3.2;
  // Direction smearing, Gaussian in eta and phi with sigma = constant (+) scale/pT: the parton-jet
  // axis difference from final-state radiation and hadronisation (choice; ~0.04 at 30 GeV).
  double jetAngleConstant = 0.02;
  double jetAngleScaleGeV = 1.0;
  // Out-of-cone loss: a fraction f ~ exponential(mean) of the parton energy falls outside the
  // R = 0.4 cone (capped at maxFraction); the jet energy scale divides by (1 - mean), i.e. the
  // calibration restores a mean response of 1 for light jets (choice, ATLAS-like JES).
  double outOfConeMeanFraction = 0.06;
  double outOfConeMaxFraction = 0.5;
  // b jets: a semileptonic b (or b -> c -> l) decay, probability bSemileptonicProbability
  // (BR(b -> l nu X) + BR(b -> c -> l nu X) for l = e, mu ~ 0.21 + 0.19; choice 0.40 with the
  // leptons kept in the jet), gives a neutrino with a fraction U(0, bNeutrinoMaxFraction) of the
  // b energy, invisible.
  double bSemileptonicProbability = 0.40;
  double bNeutrinoMaxFraction = 0.30;
  // Partons closer than this merge into one jet (anti-kt R); the jet keeps the truth label of
  // the more energetic one.
  double jetRadius = 0.4;
  // Kept jets: pT > jetPtMinGeV and |eta| < jetEtaMax, pT-ordered, at most maxJets (the study's
  // values are not given; the usual 25 GeV, 2.5).
  double jetPtMinGeV = 25;
  double jetEtaMax = 2.5;
  int maxJets = 20;
  // Jets with pT above this (but failing the kept-jet cuts) still count in the MET as objects;
  // below it their momentum is part of the soft term.
  double metJetPtMinGeV = 20;
  double metJetEtaMax = 4.5;
  double caloEtaMax = 4.9;  // nothing is seen beyond (emissions there are lost)

  // --- b-tagging (70 % working point; docs/ttbar.md) ---
  BTagEfficiency bTag;
  double charmMistag = 0.10;  // c jets (from W -> c sbar): rejection ~10 at the 70 % point
  double lightMistag = 0.01;  // u, d, s and gluon (ISR) jets

  // --- leptons ---
  // Reconstruction x identification x isolation per region (|eta| <= 1.5, 1.5-2.5): the track
  // efficiencies of the Delphes card x the Run-2 working points of the Z detector
  // (docs/detector.md): electron 0.95 x 0.80, 0.83 x 0.76; muon 0.99 x 0.96, 0.98 x 0.96.
  double electronEfficiencyCentral = 0.76, electronEfficiencyForward = 0.63;
  double muonEfficiencyCentral = 0.95, muonEfficiencyForward = 0.94;
  double leptonEtaCentral = 1.5;
  CaloResolution electronEcal{0.0017, 0.101, 0};  // Delphes ATLAS ECAL
  TrackResolution muonTrack{{0.01, 0.015, 0.025}, {1.0e-4, 1.5e-4, 3.5e-4}};
  // Overlap removal: a lepton within this Delta R of a kept jet is not isolated and is lost.
  double leptonJetDeltaR = 0.4;
  double leptonPtMinGeV = 25;
  double leptonEtaMax = 2.5;

  // --- missing transverse momentum (as the Z detector, docs/detector.md) ---
  // MET = -(sum of objects + soft term x metSoftResponse) + noise with sigma(x) = sigma(y) =
  // metResolutionK sqrt(sum E_T); sum E_T includes the underlying event's mean scalar sum,
  // underlyingEventSumEtGeV (the soft hadrons of generator/Recoil.hpp: 65 x ~2.1 GeV).
  double metSoftResponse = 1.0;
  double metResolutionK = 0.5;  // GeV^1/2
  double underlyingEventSumEtGeV = 140;

  void validate() const;  // throws ConfigError
  // The full card as YAML (sections jets, b_tag, leptons, met; every key of the struct);
  // ttbarDetectorConfigFromYaml reads it back exactly.
  std::string toYaml() const;
};

// A card from YAML text: any subset of the keys of toYaml() over the defaults; unknown keys,
// non-numbers and values failing validate() throw ConfigError naming `source` and the key.
TTbarDetectorConfig ttbarDetectorConfigFromYaml(const std::string& yamlText,
                                                const std::string& source = "ttbar detector card");

// A perfect detector for closure tests: no smearing, no losses, every lepton found, b jets always
// tagged and nothing else (thresholds, merging and MET as in `config`).
TTbarDetectorConfig perfectDetector(TTbarDetectorConfig config = {});

// Truth label of a jet: the index of the parton in the 11-parton record (Parton::b, bbar, quark,
// antiquark) or kNoParton for ISR emissions.
inline constexpr int kNoParton = -1;

struct TTbarJet {
  FourVector p4;
  bool bTagged = false;
  int truthParton = kNoParton;  // index into TTbarEvent::partons, or kNoParton (ISR)
  int truthFlavour = 0;         // |PDG| of that parton: 5, 4, 1-3; 21 for ISR
};

struct TTbarLepton {
  FourVector p4;
  int pdgId = 0;  // 11, -11, 13, -13 (PDG sign: 11 is e-)
  int charge() const { return pdgId > 0 ? -1 : +1; }
  bool isMuon() const { return pdgId == 13 || pdgId == -13; }
};

// Selection status, in the order of the cutflow: the first failed cut.
enum class TTbarSelection : int {
  selected = 0,
  noLepton = 1,     // no e or mu passing the lepton cuts
  extraLepton = 2,  // more than one (impossible with this generator; kept for other inputs)
  tooFewJets = 3,   // fewer than 4 kept jets
  tooFewBTags = 4,  // fewer than 2 b-tagged among the kept jets
};
const char* selectionName(TTbarSelection s);

struct TTbarRecoEvent {
  std::vector<TTbarJet> jets;        // kept jets, pT-ordered, at most maxJets
  std::vector<TTbarLepton> leptons;  // passing leptons (0 or 1 from this generator)
  double metX = 0, metY = 0;         // GeV
  double sumEt = 0;                  // GeV, the scalar sum that sets the MET noise
  TTbarSelection selection = TTbarSelection::noLepton;
  int bTagCount() const;
  bool selected() const { return selection == TTbarSelection::selected; }
};

class TTbarDetector {
 public:
  explicit TTbarDetector(const TTbarDetectorConfig& config);  // validates
  // Event `eventIndex` draws only from Rng(seed, eventIndex, kTTbarDetectorStream).
  TTbarRecoEvent simulate(const generator::ttbar::TTbarEvent& truth, std::size_t eventIndex,
                          std::uint64_t seed) const;
  TTbarRecoEvent simulate(const generator::ttbar::TTbarEvent& truth, Rng& rng) const;
  const TTbarDetectorConfig& config() const { return config_; }

  // The pieces, for tests: relative energy resolution of a jet at (E, eta), b-tag probability of
  // a jet of flavour |pdg| at (pT, eta), lepton efficiency.
  double jetEnergyResolution(double energyGeV, double absEta) const;
  double bTagProbability(int flavour, double ptGeV, double absEta) const;
  double leptonEfficiency(int pdgId, double absEta) const;

 private:
  TTbarDetectorConfig config_;
};

// A whole sample (or one chunk of it): event k of `events` is event firstIndex + k of the run, so
// simulating a file in chunks gives the same events as in one go; independent of `threads`.
std::vector<TTbarRecoEvent> simulateEvents(const TTbarDetector& detector,
                                           const std::vector<generator::ttbar::TTbarEvent>& events,
                                           std::uint64_t seed, int threads,
                                           std::size_t firstIndex = 0);

// Cutflow of the selection over a sample, addable across chunks.
struct TTbarCutflow {
  std::size_t events = 0;
  std::size_t oneLepton = 0;             // exactly one e or mu
  std::size_t fourJets = 0;              // and >= 4 jets
  std::size_t twoBTags = 0;              // and >= 2 b-tags: selected
  std::size_t electrons = 0, muons = 0;  // selected events by lepton flavour
  void add(const TTbarRecoEvent& ev);
  double efficiency() const { return events ? double(twoBTags) / double(events) : 0.0; }
  TTbarCutflow& operator+=(const TTbarCutflow& part);
  std::string format() const;  // a Markdown table
};

// The study's point cloud (docs/ttbar.md "Point cloud"): slot 0 the lepton, slots 1-20 the jets in
// pT order; 12 features per slot, zero and mask 0 for empty slots; the MET apart.
inline constexpr int kCloudSlots = 21;
inline constexpr int kCloudFeatures = 12;
inline constexpr double kCloudMomentumScaleGeV = 50;  // px, py, pz, E are divided by it
namespace feature {
inline constexpr int logPt = 0;  // ln(pT / GeV)
inline constexpr int eta = 1;
inline constexpr int phi = 2;     // (-pi, pi]
inline constexpr int px = 3;      // px / 50 GeV
inline constexpr int py = 4;      // py / 50 GeV
inline constexpr int pz = 5;      // pz / 50 GeV
inline constexpr int energy = 6;  // E / 50 GeV
inline constexpr int charge = 7;  // lepton charge +-1; 0 for jets
inline constexpr int isBTaggedJet = 8, isUntaggedJet = 9, isElectron = 10, isMuon = 11;
}  // namespace feature

struct TTbarPointCloud {
  std::array<std::array<float, kCloudFeatures>, kCloudSlots> features{};
  std::array<std::uint8_t, kCloudSlots> mask{};
  float metX = 0, metY = 0;  // GeV
};
TTbarPointCloud pointCloud(const TTbarRecoEvent& ev);

}  // namespace nurec::detector::ttbar
