#pragma once
// The embedded LO generator p p -> t tbar -> (b l nu)(b q qbar') with l = e, mu and both charge
// assignments (docs/physics.md section 11, docs/ttbar.md): gg and q qbar -> t tbar with CTEQ5L,
// Breit-Wigner top and W masses, V-A top and W decays, and the LO t tbar spin correlations
// (production matrix C, decay analysing powers) that a switch turns off. Unweighted by
// accept-reject; event i draws only from Rng(seed, i, streams::generator). Optionally (default on)
// initial-state emissions from the Z generator's recoil model give the t tbar system its pT
// (docs/ttbar.md "Initial-state recoil"); they draw from Rng(seed, i, kIsrStream).
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nurec/core/FourVector.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/generator/Recoil.hpp"
#include "nurec/generator/ttbar/TopPhysics.hpp"

namespace nurec::generator::ttbar {

// Random stream of the initial-state emissions of event i: Rng(seed, i, kIsrStream). Separate from
// streams::generator so that the hard process and the decays of event i are the same with the
// recoil on or off (docs/ttbar.md "Initial-state recoil").
inline constexpr std::uint64_t kIsrStream = 0x5454495352ull;  // "TTISR"

// The recoil model's parameters for t tbar: those of generator/Recoil.hpp (Pythia 8 Monash alpha_s,
// pT0, primordial kT) with Q = startScale x m_tt, startScale = 1 (docs/ttbar.md). Only the
// initial-state shower is used.
RecoilConfig defaultTTbarIsrConfig();

struct TTbarConfig {
  double sqrtS = 13000.0;  // GeV
  std::uint64_t seed = 1;
  std::size_t nEvents = 10000;
  ScaleChoice scale = ScaleChoice::transverseMass;  // mu_F = mu_R
  double alphaSMz = top::alphaSMzCteq5L;
  bool spinCorrelations = true;   // false: t and tbar decay independently (unpolarised)
  bool breitWigner = true;        // false: on-shell top and W masses
  double breitWignerWidths = 20;  // the Breit-Wigner shapes are cut at +- this many widths
  std::size_t pilotPoints = 50000;
  double maxWeightSafety = 1.3;
  std::size_t maxAttemptsPerEvent = 1000000;
  // Initial-state emissions (generator/Recoil.hpp) with Q = isr.startScale x m_tt; the whole
  // parton record is boosted transversely so that the t tbar pT balances them. false: LO
  // kinematics (t tbar pT = 0) and no emissions.
  bool recoil = true;
  RecoilConfig isr = defaultTTbarIsrConfig();  // only the shower and primordial-kT fields are used
  void validate() const;                       // throws ConfigError
  std::string toYaml() const;
};

// The parton record of the study: 11 four-vectors in this order (docs/ttbar.md).
enum class Parton : int {
  b = 0,          // b from the top
  bbar = 1,       // bbar from the antitop
  quark = 2,      // quark of the hadronic W (u-type from W+, d-type from W-)
  antiquark = 3,  // antiquark of the hadronic W (dbar-type from W+, ubar-type from W-)
  lepton = 4,     // charged lepton (e or mu, either charge)
  neutrino = 5,   // neutrino or antineutrino
  wPlus = 6,
  wMinus = 7,
  top = 8,
  antitop = 9,
  ttbar = 10,  // the t tbar system (pT = minus the emissions and primordial kT with the recoil)
};
inline constexpr int kPartonCount = 11;
inline constexpr int kPartonComponents = 5;  // (M, E, px, py, pz)
const char* partonName(Parton p);

// (M, E, px, py, pz) per parton, in Parton order: the 55-component vector of the study.
std::array<double, kPartonCount * kPartonComponents> partonRecord(
    const std::array<FourVector, kPartonCount>& partons);

struct TTbarEvent {
  std::array<FourVector, kPartonCount> partons;  // lab frame
  int leptonPdg = 0;                             // -11/-13 (l+, from t) or 11/13 (l-, from tbar)
  int quarkPdg = 0, antiquarkPdg = 0;            // hadronic W daughters
  bool leptonicTop = true;                       // true: t -> b l+ nu; false: tbar -> bbar l- nubar
  InitialState initial = InitialState::gluonGluon;
  int incomingPdgA = 0, incomingPdgB = 0;  // beam A (+z) and beam B partons
  double x1 = 0, x2 = 0, scaleGeV = 0;
  SpinMatrix productionC{};  // C of the production state (k, r, n), for validation
  // Initial-state emissions (px, py, y; lab) and primordial kT; the t tbar pT is
  // (isr.pairPx(), isr.pairPy()). Empty with the recoil off.
  generator::InitialState isr;
  // (M, E, px, py, pz) per parton, in Parton order: the 55-component vector of the study.
  std::array<double, kPartonCount * kPartonComponents> record() const;
};

struct TTbarCounters {
  std::uint64_t hardTrials = 0, hardAccepted = 0, overweights = 0, decayTrials = 0;
  double sumWeight = 0, sumWeight2 = 0;
};

struct TTbarSummary {
  std::size_t events = 0;
  std::uint64_t hardTrials = 0, overweightEvents = 0, decayTrials = 0;
  double maxWeightPb = 0;
  double inclusiveCrossSectionPb = 0, inclusiveCrossSectionErrPb = 0;  // sigma(p p -> t tbar)
  double branchingFactor = 0;                                          // semileptonic e/mu
  double crossSectionPb = 0, crossSectionErrPb = 0;                    // sigma x branching factor
  double seconds = 0;
};

struct TTbarSample {
  std::vector<TTbarEvent> events;
  TTbarSummary summary;
};

class TTbarGenerator {
 public:
  explicit TTbarGenerator(const TTbarConfig& config);  // validates, runs the pilot
  TTbarEvent generate(std::size_t index, TTbarCounters& counters) const;
  const TTbarConfig& config() const { return config_; }
  double maxWeightPb() const { return maxWeight_; }

  // One top decay in the top rest frame (axes those of the frame the top was boosted from):
  // b, the "l+"-role fermion (l+ or dbar-type for t; l- or d-type for tbar: the spin analyser),
  // and the "nu"-role fermion (nu or u-type; nubar or ubar-type).
  struct TopDecay {
    FourVector b, analyser, partner;
  };
  TopDecay decayTop(double topMass, double analyserMass, Rng& rng,
                    std::uint64_t& overweights) const;

 private:
  struct HardPoint {
    double m1 = 0, m2 = 0, mhat = 0, y = 0, c = 0, phi = 0, weight = 0, scale = 0;
    double x1 = 0, x2 = 0;
    double gg = 0, qq[5][2] = {};  // subprocess weights (q from A, q from B)
  };
  HardPoint sampleHardPoint(Rng& rng) const;
  double sampleMass(double mass, double width, double lo, double hi, Rng& rng) const;
  // Draws the emissions of event `index` and boosts the record to the balancing t tbar pT.
  void addRecoil(std::size_t index, TTbarEvent& ev) const;

  TTbarConfig config_;
  RecoilModel isrModel_;
  double maxWeight_ = 0;
  double widthTop_ = 0, widthW_ = 0;
};

TTbarSample generateTTbarEvents(const TTbarConfig& config, int threads);

// Generates config.nEvents events, handing them to onChunk(first row, events) chunk by chunk;
// event i draws only from its own streams, so the events do not depend on the chunk size or the
// thread count. The weights (sigma x BR / N each, pb) need the totals and come at the end.
struct TTbarChunkedGeneration {
  TTbarSummary summary;
  std::vector<double> weightsPb;
};
TTbarChunkedGeneration generateTTbarChunks(
    const TTbarConfig& config, int threads, bool showProgress, std::size_t chunkEvents,
    const std::function<void(std::size_t, std::vector<TTbarEvent>&)>& onChunk);

// cos(theta*) of a W decay: the angle of the "l+"-role fermion (the charged lepton, or the
// down-type (anti)quark) in the W rest frame relative to the W direction in the top rest frame.
double cosThetaStar(const FourVector& top, const FourVector& w, const FourVector& fermion);

}  // namespace nurec::generator::ttbar
