#pragma once
// The full spin measurement of `nurec spin`: analysers -> estimators (analytic and
// bootstrap errors) -> calibration for reconstruction effects -> quantum observables (concurrence,
// Peres-Horodecki, m12, CHSH, B_45, B_opt) -> significance vs luminosity, per channel and combined,
// with systematics (reconstruction variations such as MET scale, diffusion candidate re-sampling,
// calibration uncertainty) and the kinematic-approach cross-check. Physics: docs/quantum.md.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/quantum/Analysers.hpp"
#include "nurec/quantum/Calibration.hpp"
#include "nurec/quantum/Estimators.hpp"
#include "nurec/quantum/Significance.hpp"
#include "nurec/quantum/SpinResponse.hpp"

namespace nurec::quantum {

// Fewest events with analysers for both taus that measureSpin accepts: one more than the 15
// parameters of (B+, B-, C), so that their covariance is not singular.
inline constexpr std::size_t kMinSpinEvents = 16;

// None: raw estimates only. Response: apply a response fitted on an independent truth-bearing
// sample (quantum/SpinResponse.hpp, `nurec calibrate`). There is no self-calibration: a
// response fitted on the measured events absorbs their statistical fluctuation, and the
// two-fold (even/odd) variant averaged with its mirror cancels it, so either returns the truth
// by construction (docs/quantum.md "Calibration").
enum class CalibrationMode { None, Response };

struct SpinConfig {
  AnalyserConfig analysers;
  BootstrapConfig bootstrap;
  SignificanceConfig significance;
  CalibrationMode calibrationMode = CalibrationMode::None;
  // With Response: the response to apply. measureSpin refuses one fitted for other analysers,
  // another selection or on the measured sample itself (checkSpinResponse).
  std::shared_ptr<const SpinResponse> response;
  std::string calibrationSource;  // for the report, e.g. the response file
  // Diagnostic (the input must carry its spin truth): calibrate on the input's even rows,
  // measure its odd rows, and report the pulls separately. Never mixed into the headline values.
  bool closureTest = false;
  CalibrationConfig closureCalibration;
  // Flags (docs/quantum.md "Flags"): a subset whose shown result is unphysical or ill-conditioned
  // is flagged and left out of the channel combination.
  double maxAbsDiagonalC = 1.5;       // |C_ii| above this
  double concurrenceSigmas = 3;       // concurrence outside [0, 1] by more than this many sigma
  double maxConditionNumber = 1000;   // of the response R
  std::size_t minChannelEvents = 50;  // per-channel results below this are skipped
  int candidateReplicas = 20;         // diffusion candidate re-sampling (0: off)
  // Reconstruction variations (systematics): names of other /nu/<name>/p4 methods in the file,
  // e.g. "mmc_met_shift_up". Empty: every method named "<method>_<tag>" is used.
  std::vector<std::string> variations;
  bool autoVariations = true;
  bool showProgress = false;  // core/Progress bar over the analysis steps
  void validate() const;
};

// stat: the section 8 analytic error where its formula holds, else the observed (sandwich) error,
// else the bootstrap SD; NaN ("n/a") when none of them is available. Never a silent 0.
struct ParameterResult {
  std::string name;
  double value = 0, stat = 0, statBootstrap = 0, calibration = 0;
};

struct ObservableSummary {
  std::string name;
  double value = 0;
  double stat = 0;           // delta method (bootstrap SD where it degenerates to 0; else NaN)
  double statBootstrap = 0;  // bootstrap SD
  double bootstrapBias = 0;  // mean(replicas) - value
  double calibration = 0;    // from the calibration's own uncertainty
};

struct KinematicCrossCheck {
  double meanSin2Over1PlusC2 = 0, error = 0;  // <S^2/(1 + c^2)>
  double kFactorZ = 0;                        // K = (a^2 - v^2)/(a^2 + v^2) of the tau (section 5)
  SpinState photonLike, zLike;                // C of section 7 "kinematic approach"
  double concurrencePhotonLike = 0, concurrenceZLike = 0;
};

struct SubsetReport {
  std::string channel;  // "combined", "pipi", ...
  std::size_t nEvents = 0;
  double sumWeightsPb = 0, nEffective = 0, signalPerInvFb = 0;
  std::vector<ParameterResult> raw, calibrated;  // 15 parameters each (calibrated empty if none)
  std::vector<ObservableSummary> rawObservables, calibratedObservables;
  bool isCalibrated = false;
  // A calibration was asked for but its response is singular or could not be fitted (e.g. the
  // method's analysers carry no information on some parameters: with neutrinos parallel to the
  // visible products a pion's rest-frame direction is exactly +-k). Raw values are reported and
  // no significance is computed.
  bool calibrationFailed = false;
  double calibrationNeffFraction = 0;
  double responseConditionNumber = 0;  // cond(R) of the applied response (0: none)
  // Why the shown (calibrated, else raw) result is not to be trusted: unphysical |C_ii|,
  // concurrence outside [0, 1], ill-conditioned response, negative Z, failed calibration.
  // Flagged subsets are excluded from SpinReport::channelCombination.
  std::vector<std::string> flags;
  KinematicCrossCheck kinematic;
  std::vector<SignificanceResult> significance;  // of the calibrated (else raw) values
  // When the file holds /truth/spin_b, spin_c: the g kappa+^2 kappa-^2 weighted average of the
  // per-event production states over the analysed events (what the estimators target) and its
  // observables.
  bool hasReference = false;
  std::vector<double> reference;  // 15 parameters
  std::map<std::string, double> referenceObservables;
};

struct SystematicShift {
  std::string source;                   // "met_shift_up", "candidates", "calibration", ...
  std::map<std::string, double> shift;  // quantity -> shift (or SD for re-sampling)
};

// Diagnostic on the input's own truth (SpinConfig::closureTest): response fitted on the even rows,
// applied to the odd rows. Never averaged back with its mirror.
struct ClosureReport {
  bool done = false;
  std::size_t nCalibration = 0, nTest = 0;
  std::vector<ParameterResult> calibrated;  // on the test half
  std::vector<double> truthValues;          // analytic average on the test half
  std::vector<double> pulls;
  double chi2 = 0;
  int ndf = 0;
};

struct SpinReport {
  std::string file, method;
  std::size_t nInput = 0, nSelected = 0, nFailed = 0, nNoAnalyser = 0, nAnalysed = 0;
  std::vector<SubsetReport> subsets;  // [0] = combined
  std::vector<SystematicShift> systematics;
  std::map<std::string, double> totalSystematic;  // quadrature sum over sources
  ClosureReport closure;
  std::string calibrationSource;
  std::vector<std::string> calibrationWarnings;  // from checkSpinResponse
  bool spinTruthKnown = false;                   // the input carries the per-event spin state
  // Quadrature sum sqrt(sum Z_c^2) of the per-channel statistical Z at the quoted luminosity over
  // the channels that are not flagged (independent channels), per statistic; the flagged channels
  // are listed.
  std::map<std::string, double> channelCombination;
  std::vector<std::string> channelsExcluded;
  double seconds = 0;
  std::string configText;  // the configuration, for the output
};

SpinReport measureSpin(const io::EventTable& table, const SpinConfig& config);

// Sets config's calibration from a choice of `nurec spin --calibration` (docs/quantum.md
// "Calibration"): "auto" (the shipped response for a file with a detector selection, else raw
// estimates), "shipped", "none", a response file, or an independent event sample (its response is
// fitted now with `threads`). measuredPath names the measured file (refused as its own
// calibration; may be empty when the table was not read from a file). Returns a note for the user
// when the choice was not explicit (auto without a selection), else "". Throws ConfigError or
// InputError on a choice that cannot be used.
std::string resolveSpinCalibration(const std::string& choice, const io::EventTable& measured,
                                   const std::string& measuredPath, int threads,
                                   SpinConfig& config);

// Rendering (quantum/SpinReport.cpp). Writes the JSON report to `path` and a Markdown table
// beside it (same name, .md), plus the luminosity scan as CSV (.scan.csv). Files are written to a
// temporary name and renamed.
void writeSpinReport(const SpinReport& report, const std::string& jsonPath);
std::string spinReportJson(const SpinReport& report);
std::string spinReportMarkdown(const SpinReport& report);
// The one-line summary of `nurec spin` (headline concurrence, Z, flags, output path).
std::string spinSummaryLine(const SpinReport& report, double lumiInvFb, const std::string& output);
// "0.412 ± 0.031", with enough digits for small errors and "n/a" for an error that is not
// a positive finite number (never "± 0.000").
std::string formatValueError(double value, double error, int decimals = 3);

}  // namespace nurec::quantum
