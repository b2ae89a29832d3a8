#pragma once
// Classical reconstruction of semileptonic t tbar (docs/ttbar.md "Classical reconstruction"):
// the neutrino pz from the W-mass constraint (reco/WNeutrino.hpp, docs/physics.md section 11),
// then the jet-parton assignment that minimises
//   chi2 = ((m_qq' - m_W)/sigma_W)^2 + ((m_bqq' - m_t)/sigma_t,had)^2 + ((m_blnu -
//   m_t)/sigma_t,lep)^2
// over the leading jets (b candidates b-tagged when the event has >= 2 tags among them) and both
// neutrino roots; the result is the full 11 x 5 parton record of the generator
// (generator::ttbar::Parton order, (M, E, px, py, pz) each).
#include <array>
#include <cstdint>
#include <string>

#include "nurec/core/FourVector.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/detector/ttbar/TTbarDetector.hpp"
#include "nurec/generator/ttbar/TTbarGenerator.hpp"
#include "nurec/reco/WNeutrino.hpp"

namespace nurec::reco::ttbar {

struct TTbarChi2Config {
  // Mass constraints: the pole values of the generator (docs/physics.md section 1, 11).
  double wMassGeV = constants::mW;      // hadronic W and the neutrino pz constraint
  double topMassGeV = constants::mTop;  // both tops
  // Resolutions of the three masses for correctly assigned jets, measured on the default
  // detector (docs/ttbar.md "Classical reconstruction": core widths of the truth-matched
  // m_qq', m_bqq', m_blnu distributions).
  double hadronicWSigmaGeV = 7;
  double hadronicTopSigmaGeV = 13;
  double leptonicTopSigmaGeV = 19;
  // Jets considered: the leading maxJets in pT (6: 180 assignments x 2 roots; the fraction of
  // events with all four quark jets among them is in docs/ttbar.md).
  int maxJets = 6;
  // Try both neutrino roots in the chi2 (false: the smaller |pz| only, docs/physics.md sec. 11).
  bool bothNeutrinoRoots = true;
  // Events failing the detector selection are not reconstructed (status notSelected).
  bool requireSelection = true;
  void validate() const;       // throws ConfigError
  std::string toYaml() const;  // every field, for file attributes
};

// 0 and 1 are reconstructed events; every other value a documented failure whose record is zero.
enum class TTbarRecoStatus : std::int8_t {
  ok = 0,
  neutrinoRealPart = 1,   // reconstructed; disc < 0 (m_T(l, MET) > m_W): the real part of pz
  notSelected = 2,        // failed the detector selection (with requireSelection)
  noLepton = 3,           // not exactly one lepton
  tooFewJets = 4,         // fewer than 4 jets
  noValidAssignment = 5,  // no assignment meets the b-tag requirement
  invalidInput = 6,       // non-finite jet, lepton or MET, or a lepton with pT = 0
};
const char* statusName(TTbarRecoStatus s);
inline bool reconstructed(TTbarRecoStatus s) {
  return s == TTbarRecoStatus::ok || s == TTbarRecoStatus::neutrinoRealPart;
}

inline constexpr int kRecordSize =
    generator::ttbar::kPartonCount * generator::ttbar::kPartonComponents;  // 55

struct TTbarChi2Result {
  TTbarRecoStatus status = TTbarRecoStatus::invalidInput;
  double chi2 = 0;
  // Jet indices (into TTbarRecoEvent::jets) of the chosen b of the hadronic top, b of the
  // leptonic top and the two W jets (quarkJet the harder one); -1 when not reconstructed.
  int bHadronicJet = -1, bLeptonicJet = -1, quarkJet = -1, antiquarkJet = -1;
  bool leptonicTop = true;  // l+: t -> b l+ nu is leptonic; l-: tbar
  double neutrinoPz = 0;    // GeV
  // The 11 four-vectors in generator::ttbar::Parton order (zero when not reconstructed). The
  // quark and antiquark of the hadronic W cannot be told apart: Parton::quark gets the harder jet.
  std::array<FourVector, generator::ttbar::kPartonCount> partons{};
  // (M, E, px, py, pz) per parton in Parton order: the 55-vector of TTbarEvent::record().
  std::array<double, kRecordSize> record() const;
};

class TTbarChi2Reconstructor {
 public:
  explicit TTbarChi2Reconstructor(const TTbarChi2Config& config);  // validates
  TTbarChi2Result reconstruct(const detector::ttbar::TTbarRecoEvent& event) const;
  const TTbarChi2Config& config() const { return config_; }

 private:
  TTbarChi2Config config_;
};

// Truth matching through the detector's jet labels (TTbarJet::truthParton): the jets of the
// hadronic b, leptonic b, q and qbar' among the first maxJets jets (-1 when not there or merged).
struct TruthAssignment {
  int bHadronicJet = -1, bLeptonicJet = -1, quarkJet = -1, antiquarkJet = -1;
  bool complete() const {
    return bHadronicJet >= 0 && bLeptonicJet >= 0 && quarkJet >= 0 && antiquarkJet >= 0;
  }
};
// leptonicTop: true when the top (t -> b l+ nu) decays leptonically (truth or the lepton charge).
TruthAssignment truthAssignment(const detector::ttbar::TTbarRecoEvent& event, bool leptonicTop,
                                int maxJets);
// The chosen b_had, b_lep and {q, qbar'} (as a pair) are the truth partons' jets.
bool assignmentCorrect(const TTbarChi2Result& result, const TruthAssignment& truth);

}  // namespace nurec::reco::ttbar
