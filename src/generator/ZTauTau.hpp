#pragma once
// The embedded event generator pp -> Z/gamma* -> tau+ tau- (docs/physics.md sections 2-6):
// LO hard process with CTEQ5L, unweighted by accept-reject in (m, y, cos theta) with a
// Breit-Wigner mapping; a recoil model (generator/Recoil.hpp); tau decays with the full correlated
// spin density matrix of the pair. Event i draws only from Rng(seed, i, streams::generator), so the
// output does not depend on the number of threads and any event can be regenerated alone.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nurec/core/Event.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/generator/HardProcess.hpp"
#include "nurec/generator/Recoil.hpp"
#include "nurec/generator/TauDecays.hpp"
#include "nurec/generator/Vertices.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::generator {

struct ZTauTauConfig {
  double sqrtS = 13000.0;    // GeV
  double massMinGeV = 60.0;  // m(tau tau) window
  double massMaxGeV = 120.0;
  std::uint64_t seed = 1;
  std::size_t nEvents = 10000;
  // Optional generator-level cuts on the visible taus (0 = off). Events failing them are
  // regenerated; the cross section becomes sigma x acceptance.
  double minVisiblePtGeV = 0.0;         // both visible taus
  double minLeadingVisiblePtGeV = 0.0;  // the harder visible tau
  double maxVisibleAbsEta = 0.0;        // both visible taus, |eta| below this
  // Decay modes allowed for both taus (indexed by DecayMode): the modes are drawn with the PDG
  // fractions renormalised to the allowed ones, and the cross section is multiplied by
  // (sum of allowed BR)^2. All allowed by default; e.g. {pi, rho} only for spin studies.
  std::array<bool, 5> allowedDecayModes{true, true, true, true, true};
  RecoilConfig recoil;
  BeamSpotConfig beamSpot;  // primary and tau decay vertices (generator/Vertices.hpp)
  // The m(tau tau) spectrum (docs/physics-validation.md "Flat mass prior"): Physical follows the
  // cross section (Z peak); Flat draws m uniformly in the window and everything else (rapidity,
  // angle, recoil, decays, generator-level cuts) from the physics at that m, for training samples
  // whose learned prior must not be the Z peak; LogFlat draws ln m uniformly (density 1/m), which
  // after the signal-region acceptance (rising with m) is close to flat in m over a wide window.
  // A flat or log-flat file's weights are sigma(m) per event before generator-level cuts: use it
  // for training and resolution, not for yields.
  enum class MassPrior { Physical, Flat, LogFlat };
  MassPrior massPrior = MassPrior::Physical;
  // The resonance (docs/physics.md section 14). DrellYan: q qbar -> Z/gamma* in the mass window
  // above. Higgs: g g -> H -> tau tau at higgsMassGeV (narrow; the mass window and prior do not
  // apply), the spin state of a scalar with CP-mixing angle cpMixingAngle [rad] (0 = CP-even,
  // pi/2 = CP-odd); everything after the hard process (recoil, decays, cuts) is shared.
  enum class Resonance { DrellYan, Higgs };
  Resonance resonance = Resonance::DrellYan;
  double higgsMassGeV = 125.0;
  double cpMixingAngle = 0.0;
  // false: the two taus decay with their single-tau polarisations B+, B- but without spin
  // correlation (C = 0, also in /truth/spin_c). For training samples whose learned prior must not
  // carry the correlations a measurement is after (docs/ml.md "A spin-neutral training prior").
  bool tauSpinCorrelations = true;
  // Importance sampling: share of the Breit-Wigner channel in the m mapping (rest: 1/m^2).
  double breitWignerShare = 0.8;
  std::size_t pilotPoints = 50000;            // points to find the maximum weight
  double maxWeightSafety = 1.3;               // factor on the pilot maximum
  std::size_t maxAttemptsPerEvent = 1000000;  // hard-process accepts per event before giving up
  void validate() const;                      // throws ConfigError
  std::string toYaml() const;                 // the config as YAML text (file attribute "config")
};

// A config from YAML text in the form of ZTauTauConfig::toYaml() (every key optional; unknown
// keys and wrong types throw ConfigError naming `source` and the key). The result is validated.
ZTauTauConfig zTauTauConfigFromYaml(const std::string& yamlText, const std::string& source);

// Per-run bookkeeping (sums over all events, reduced in event order).
struct GenerationSummary {
  std::size_t events = 0;
  std::uint64_t hardTrials = 0;        // weighted (m, y, c) points tried
  std::uint64_t hardAccepted = 0;      // unweighted hard events (before generator-level cuts)
  std::uint64_t overweightEvents = 0;  // accepted points with weight > w_max
  std::uint64_t decayTrials = 0;       // decay-pair trials of the spin accept-reject
  double maxWeightPb = 0;              // w_max used for unweighting
  double totalCrossSectionPb = 0, totalCrossSectionErrPb = 0;  // in the mass window
  double acceptance = 1, acceptanceErr = 0;                    // generator-level cuts
  double branchingFactor = 1;                                  // (sum of allowed BR)^2
  double crossSectionPb = 0, crossSectionErrPb = 0;            // sigma x BR factor x acceptance
  double seconds = 0;
};

struct GeneratedSample {
  std::vector<TruthEvent> events;  // weights = crossSectionPb / N
  GenerationSummary summary;
};

// Per-event counters filled by ZTauTauGenerator::generate.
struct EventCounters {
  std::uint64_t hardTrials = 0, hardAccepted = 0, overweights = 0, decayTrials = 0;
  double sumWeight = 0, sumWeight2 = 0;
};

class ZTauTauGenerator {
 public:
  explicit ZTauTauGenerator(const ZTauTauConfig& config);  // validates, runs the pilot
  // Event `index` of the run (weight left 0; set by the caller from the cross section).
  TruthEvent generate(std::size_t index, EventCounters& counters) const;
  const ZTauTauConfig& config() const { return config_; }
  double maxWeightPb() const { return maxWeight_; }
  double branchingFactor() const { return branchingFactor_; }
  const TauDecayer& decayer() const { return decayer_; }

  // The phase-space weight d3sigma/(g(m) g(y) g(c)) at a sampled point [pb].
  struct HardPoint {
    double m = 0, y = 0, c = 0, weight = 0;
  };
  HardPoint sampleHardPoint(Rng& rng) const;
  double massDensity(double m) const;  // g(m), normalised on the window
  // Flat mass prior: (y, c) at a given m with weight d3sigma / (g(y) g(c)) [pb/GeV], and the
  // tabulated d sigma/dm [pb/GeV] (mean weight of the pilot points in m's bin).
  HardPoint sampleHardPointAtMass(double m, Rng& rng) const;
  double massSpectrumPbPerGeV(double m) const;
  // Flat and log-flat priors: the mass drawn from u in [0, 1), and the prior density at m
  // [1/GeV], normalised on the window (the event weight is d sigma/dm / density / N).
  double priorMassGeV(double u) const;
  double priorDensityPerGeV(double m) const;

  // Generator-level cuts on the visible taus; tausCanPassCuts is a necessary condition on the taus.
  bool passesCuts(const TruthEvent& ev) const;
  bool tausCanPassCuts(const TruthEvent& ev) const;

 private:
  ZTauTauConfig config_;
  DrellYanTauTau process_;
  std::optional<GluonFusionHiggs> higgs_;  // the Higgs resonance
  TauDecayer decayer_;
  RecoilModel recoil_;
  double maxWeight_ = 0;
  double branchingFactor_ = 1;
  std::array<double, 5> modeFractions_{};  // renormalised to the allowed modes
  double uLo_ = 0, uHi_ = 0;               // Breit-Wigner mapping range
  // Flat mass prior: per bin of m, the maximum weight (times the safety factor) and d sigma/dm.
  std::vector<double> flatMaxWeight_, flatSpectrum_;
  std::size_t flatBin(double m) const;
};

// Generates config.nEvents events on `threads` threads (0 = all cores).
const char* massPriorName(ZTauTauConfig::MassPrior prior);  // "physical", "flat", "log-flat"
ZTauTauConfig::MassPrior massPriorFromName(const std::string& name);  // throws ConfigError
const char* resonanceName(ZTauTauConfig::Resonance r);                // "z", "higgs"
ZTauTauConfig::Resonance resonanceFromName(const std::string& name);  // throws ConfigError

GeneratedSample generateZTauTauEvents(const ZTauTauConfig& config, int threads,
                                      bool showProgress = false);

// The same run in chunks of chunkEvents events, in event order, for files larger than memory:
// onChunk(index of the chunk's first event, its events) receives each chunk with weights still 0,
// because the weights need the totals of the run; they come back in weightsPb (one per event),
// with the summary. The result does not depend on chunkEvents; generateZTauTauEvents is this run
// in one chunk.
struct ChunkedGeneration {
  GenerationSummary summary;
  std::vector<double> weightsPb;
};
ChunkedGeneration generateZTauTauChunks(
    const ZTauTauConfig& config, int threads, bool showProgress, std::size_t chunkEvents,
    const std::function<void(std::size_t, std::vector<TruthEvent>&)>& onChunk);
// The /weight + /truth table with the file attributes seed, sqrt_s, cross_section_pb,
// cross_section_err_pb, config (YAML) and producer.
io::EventTable makeTruthTable(const GeneratedSample& sample, const ZTauTauConfig& config);
io::EventTable generateZTauTau(const ZTauTauConfig& config, int threads, bool showProgress = false);

}  // namespace nurec::generator
