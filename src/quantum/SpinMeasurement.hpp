#pragma once
// The full spin measurement of `nurec spin` (issue 9): analysers -> estimators (analytic and
// bootstrap errors) -> calibration for reconstruction effects -> quantum observables (concurrence,
// Peres-Horodecki, m12, CHSH, B_45, B_opt) -> significance vs luminosity, per channel and combined,
// with systematics (reconstruction variations such as MET scale, diffusion candidate re-sampling,
// calibration uncertainty) and the kinematic-approach cross-check. Physics: physics.md 2, 5-8, 10.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/EventTable.hpp"
#include "quantum/Analysers.hpp"
#include "quantum/Calibration.hpp"
#include "quantum/Estimators.hpp"
#include "quantum/Significance.hpp"

namespace nurec::quantum {

enum class CalibrationMode { None, Self, File };

struct SpinConfig {
  AnalyserConfig analysers;
  BootstrapConfig bootstrap;
  SignificanceConfig significance;
  CalibrationConfig calibration;
  // None: raw estimates only. Self: build the calibration from the input itself (it must hold
  // /truth with the per-event spin state) and run the closure test on independent halves. File:
  // build it from calibrationFile (a separate sample processed with the same method).
  CalibrationMode calibrationMode = CalibrationMode::None;
  std::string calibrationFile;
  bool closureTest = true;            // with Self: calibrate on even rows, measure odd rows
  std::size_t minChannelEvents = 50;  // per-channel results below this are skipped
  int candidateReplicas = 20;         // diffusion candidate re-sampling (0: off)
  // Reconstruction variations (systematics): names of other /nu/<name>/p4 methods in the file,
  // e.g. "mmc_met_shift_up". Empty: every method named "<method>_<tag>" is used.
  std::vector<std::string> variations;
  bool autoVariations = true;
  bool showProgress = false;  // core/Progress bar over the analysis steps
  void validate() const;
};

struct ParameterResult {
  std::string name;
  double value = 0, stat = 0, statBootstrap = 0, calibration = 0;
};

struct ObservableSummary {
  std::string name;
  double value = 0;
  double stat = 0;           // delta method
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
  double seconds = 0;
  std::string configText;  // the configuration, for the output
};

SpinReport measureSpin(const io::EventTable& table, const SpinConfig& config);
// Writes the JSON report to `path` and a Markdown table beside it (same name, .md), plus the
// luminosity scan as CSV (.scan.csv). Files are written to a temporary name and renamed.
void writeSpinReport(const SpinReport& report, const std::string& jsonPath);
std::string spinReportMarkdown(const SpinReport& report);

}  // namespace nurec::quantum
