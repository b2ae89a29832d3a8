#pragma once
// `nurec evaluate`: resolution tables, distribution distances and calibration for every neutrino
// reconstruction method in an event file, per analysis channel and overall, and the report
// (Markdown, JSON, PNG/SVG plots). Metric definitions: docs/metrics.md; report keys:
// docs/evaluate.md.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nurec/eval/Calibration.hpp"
#include "nurec/eval/Distances.hpp"
#include "nurec/eval/Resolution.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::eval {

// Which events enter the evaluation.
enum class EventSelection {
  SignalRegion,  // /reco/pass_sr == 1 (the default; the analysis phase space)
  AnyChannel,    // /reco/channel >= 0 (e.g. a training preselection)
  All            // every event
};
const char* selectionName(EventSelection s);                // "signal_region", "any_channel", "all"
EventSelection selectionFromName(const std::string& name);  // throws ConfigError

struct EvaluateConfig {
  EventSelection selection = EventSelection::SignalRegion;
  std::vector<std::string> methods;  // empty: every /nu/<method>/p4 in the file
  bool visibleBaseline = true;       // add "visible": the visible taus alone, no neutrinos
  bool plots = true;                 // PNG + SVG through gnuplot
  int exampleEvents = 4;             // events shown in the candidate-spread plot
  int threads = 0;                   // 0 = all cores
  HwhmConfig hwhm;
  // Edges of the true-m_tautau bins of the "by true mass" tables [GeV], increasing (at least two).
  // Bins without events are left out of the report; events outside the edges are not counted.
  std::vector<double> trueMassEdgesGeV = {40,  60,  70,  80,  85,  90,  95, 100,
                                          110, 120, 150, 200, 300, 400, 600};
  std::string title = "Neutrino reconstruction: evaluation";
  std::string source;  // shown in the report (input file)
  void validate() const;
};

// The nine evaluated quantities: tau+ px, py, pz, E; tau- px, py, pz, E; m_tautau.
inline constexpr int kNumQuantities = 9;
inline constexpr int kNumTauComponents = 8;
inline constexpr int kMassIndex = 8;
const char* quantityKey(int q);        // "tau_plus_px", ..., "m_tautau" (JSON keys)
const char* quantityLabel(int q);      // "τ⁺ px", ..., "m_ττ" (Markdown)
const char* quantityUnitLabel(int q);  // gnuplot enhanced text with units, "p_x(τ^+) [GeV]"
using QuantityValues = std::array<double, kNumQuantities>;

// The visible-only baseline's method name.
inline constexpr const char* kVisibleMethod = "visible";

struct QuantityResult {
  ResolutionSummary resolution;     // of the relative residuals
  DistributionDistances distances;  // reconstructed vs true distribution
};

struct MethodResult {
  std::string method;
  std::size_t events = 0;  // selected events in the group
  std::size_t failed = 0;  // status != 0 or non-finite neutrinos
  double failedFraction() const;
  std::array<QuantityResult, kNumQuantities> quantities;
  DistributionDistances tauSum;  // summed over the 8 tau components
  double meanTauHwhm = 0;        // mean HWHM of the 8 tau components (NaN if one is missing)
};

// All channels together ("all") or one analysis channel.
struct GroupResult {
  std::string key;    // "all" or channelName ("pipi", ...)
  std::string label;  // "all channels" or channelLabel ("ππ", ...)
  std::size_t events = 0;
  std::vector<MethodResult> methods;  // same order as EvaluationResult::methods
};

// A separate di-tau mass estimator stored as /nu/<method>/mtautau (e.g. MMC's MLM mass).
struct MassEstimatorResult {
  std::string method;
  std::vector<ResolutionSummary> perGroup;  // same order as EvaluationResult::groups
  std::vector<std::size_t> failedPerGroup;
};

struct ComponentCalibration {
  std::vector<std::size_t> ranks;  // K + 1 counts
  double coverageOuter = 0;        // (x_(1), x_(K)), calibrated (K - 1)/(K + 1)
  double coverageInner = 0;        // (x_(2), x_(K-1)), calibrated (K - 3)/(K + 1)
  double crps = 0;                 // GeV
  double spread = 0;               // GeV, eval::meanSpread: the posterior's width
  std::size_t events = 0;
};
// Calibration of the candidates of one method over the selected events (all channels).
struct CalibrationResult {
  std::string method;
  std::size_t k = 0;
  std::array<ComponentCalibration, 6> components;  // nu+ px, py, pz, nu- px, py, pz
};
const char* neutrinoComponentKey(int c);    // "nu_plus_px", ...
const char* neutrinoComponentLabel(int c);  // "ν⁺ px", ...

// Candidates of a few events, for the spread plot.
struct CandidateExample {
  std::size_t row = 0;  // event index in the file
  std::string channel;  // label
  std::vector<std::array<double, 6>> candidates;
  std::array<double, 6> truth{};
  std::vector<std::pair<std::string, std::array<double, 6>>> estimates;  // method point estimates
};

// Per selected event: the truth and every method's reconstructed quantities (for plots).
struct MethodValues {
  std::string method;
  std::vector<QuantityValues> reco;
  std::vector<std::uint8_t> ok;  // 1 if the method succeeded on the event
  // 16/50/84 % quantiles of m_tautau per event from /nu/<method>/mtautau_quantiles [GeV]; empty
  // if the method does not store them.
  std::vector<std::array<double, 3>> massQuantiles;
  // Calibrated 68 % intervals from /nu/<method>/mtautau_interval68 [GeV] (docs/ml.md "Calibrated
  // mass intervals"); empty if the file has none.
  std::vector<std::array<double, 2>> massIntervals;
};

// One method on a subset of the selected events, all channels together: a bin of the true m_tautau
// (docs/evaluate.md "By true mass"), where a learned reconstruction shows its training prior, or a
// class of true decay modes ("By true decay modes").
struct SubsetMethodResult {
  std::size_t events = 0;  // events of the bin the method reconstructed
  ResolutionSummary mass;  // relative residual of m_tautau: median bias and HWHM, bootstrap errors
  double meanTauHwhm = 0;  // mean HWHM of the 8 tau-component residuals (NaN if one is missing)
  double recoMassQ16 = 0, recoMassMedian = 0, recoMassQ84 = 0;  // reconstructed m_tautau [GeV]
  // Methods with per-event quantiles: the fraction of events whose true m_tautau lies inside
  // their own 16-84 % interval (0.68 if the intervals are calibrated); NaN otherwise.
  double massCoverage68 = 0;
  std::size_t coverageEvents = 0;
  // The same for the calibrated intervals (/nu/<method>/mtautau_interval68); NaN without them.
  double calibratedCoverage68 = 0;
  std::size_t calibratedCoverageEvents = 0;
};
struct TrueMassBin {
  double lowGeV = 0, highGeV = 0;           // [low, high)
  std::size_t events = 0;                   // selected events whose true m_tautau is in the bin
  double trueMassMedian = 0;                // GeV
  std::vector<SubsetMethodResult> methods;  // same order as EvaluationResult::methods
};

// Selected events split by the taus' true decay modes (docs/evaluate.md "By true decay modes"):
// both in the modes the shipped models are trained on (pi, rho, e, mu), or at least one in another
// mode (pi pi0 pi0, three prongs, kaons), which the analysis channels take as a pi or a rho.
struct DecayClass {
  std::string key;    // "trained_modes" or "other_modes"
  std::string label;  // for the report
  std::size_t events = 0;
  std::vector<SubsetMethodResult> methods;  // same order as EvaluationResult::methods
};

struct EvaluationResult {
  EvaluateConfig config;
  std::size_t eventsInFile = 0;
  std::vector<std::size_t> rows;  // selected events (file row indices)
  std::vector<int> channel;       // per selected event, -1 .. 6
  std::vector<QuantityValues> truth;
  std::vector<std::string> methods;  // evaluated, visible baseline first if present
  std::vector<MethodValues> values;  // same order as methods
  std::vector<GroupResult> groups;   // groups[0] = all channels, then channels with events
  std::vector<MassEstimatorResult> massEstimators;
  std::vector<TrueMassBin> byTrueMass;  // bins of config.trueMassEdgesGeV that hold events
  // Per selected event: 1 if a tau decayed outside pi, rho, e, mu (/truth/decay_mode); empty if
  // the file has no decay modes.
  std::vector<std::uint8_t> otherDecayMode;
  std::vector<DecayClass> byTrueDecays;  // classes that hold events; empty without decay modes
  std::vector<CalibrationResult> calibration;
  std::vector<CandidateExample> examples;
  std::string examplesMethod;
  std::vector<std::string> notes;  // said in the report (skipped parts and why)
  double seconds = 0;
};

// Computes everything. Throws InputError naming the file and dataset if a needed column
// (/truth/tau_p4, /reco/tau_p4, /reco/channel, /reco/pass_sr for the signal region, the methods'
// /nu/<method>/p4) is missing or malformed, and ConfigError for an unknown requested method.
EvaluationResult evaluate(const io::EventTable& table, const EvaluateConfig& config);

// evaluate() of an event file read in chunks of chunkEvents rows (docs/data-format.md "Reading and
// writing in chunks"): each chunk's inputs are checked as evaluate() checks them, and only the
// selected events of the datasets the evaluation reads are kept, so that memory is bounded by
// those events, not by the file. The result equals evaluate(io::readEventFile(path), config)
// (rows and example rows are the file's), whatever chunkEvents.
EvaluationResult evaluateFile(const std::string& path, const EvaluateConfig& config,
                              std::size_t chunkEvents);

// The "by true mass" bins of an evaluation whose rows, truth and values are filled (part of
// evaluate(); separate so that it can be tested on hand-made values). Bootstrap salts start at
// `saltOffset`, so they do not repeat those of the other tables.
std::vector<TrueMassBin> resolutionByTrueMass(const EvaluationResult& res,
                                              const EvaluateConfig& config,
                                              std::uint64_t saltOffset);

// The decay classes of an evaluation whose rows, truth, values and otherDecayMode are filled (part
// of evaluate()); bootstrap salts start at `saltOffset`.
std::vector<DecayClass> resolutionByTrueDecays(const EvaluationResult& res,
                                               const EvaluateConfig& config,
                                               std::uint64_t saltOffset);

// Writes outDir/README.md (tables and embedded plots), outDir/metrics.json and the plots
// (outDir/*.png, *.svg; data and gnuplot scripts in outDir/data/).
void writeReport(const EvaluationResult& result, const std::string& outDir);

// evaluate + writeReport (used by `nurec evaluate` and `nurec demo`).
void evaluateToReport(const io::EventTable& table, const EvaluateConfig& config,
                      const std::string& outDir);

// Markdown tables for embedding elsewhere (the demo's README): the overall resolution summary and
// the per-channel summary. Plot paths are relative to the report directory.
std::string summaryMarkdown(const EvaluationResult& result);
std::string channelMarkdown(const EvaluationResult& result);
// A few lines for the terminal.
std::string terminalSummary(const EvaluationResult& result);
// The images writeReport produces (file stems, without extension), with a caption each.
std::vector<std::pair<std::string, std::string>> reportFigures(const EvaluationResult& result);

}  // namespace nurec::eval
