#pragma once
// Calibrated per-event 68 % intervals of m_tautau for sampling reconstructions (docs/ml.md
// "Calibrated mass intervals").
//
// A diffusion model's candidates are samples of its posterior, and their 16-84 % quantiles are a
// per-event interval; if the posterior is too narrow (or too wide) the intervals cover the truth in
// fewer (more) than 68 % of the events. The calibration widens or narrows each interval about the
// event's median by one factor per bin of that median (a reconstructed quantity, so it applies to
// data): [q50 - s (q50 - q16), q50 + s (q84 - q50)]. The factor of a bin is the 68 % quantile of
// each event's r = distance of the truth from q50 in units of the half-width on the truth's side,
// so that exactly 68 % of the calibration events of the bin are covered. It is fitted on a sample
// disjoint from the one it is applied to; `nurec calibrate-intervals` writes it into the model
// directory, `nurec reconstruct --method diffusion` applies it.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace nurec::eval {

struct MassIntervalCalibration {
  static constexpr const char* kFormat = "nurec-mass-intervals";
  static constexpr int kFormatVersion = 1;
  static constexpr const char* kFileName = "mass_intervals.json";  // in a model directory

  // Bins of the event's median m_tautau [GeV]; events below the first (above the last) edge use
  // the first (last) bin.
  std::vector<double> medianMassEdgesGeV;
  std::vector<double> scale;        // per bin: the factor s on both half-widths
  std::vector<std::size_t> events;  // calibration events per bin
  std::vector<double> rawCoverage;  // per bin: coverage of the uncalibrated 16-84 % interval
  double targetCoverage = 0.68;
  std::string source;  // the calibration sample (file name and method)

  // The calibrated interval [low, high] of an event from its 16/50/84 % quantiles.
  std::array<double, 2> interval(const std::array<double, 3>& quantiles) const;

  std::string toJson() const;
  // Throws nurec::InputError naming `what` for a wrong format, version or content.
  static MassIntervalCalibration fromJson(const std::string& text, const std::string& what);
};

struct MassIntervalFitConfig {
  std::vector<double> medianMassEdgesGeV{40, 60, 70, 80, 90, 100, 110, 125, 150, 200, 300, 500};
  double targetCoverage = 0.68;
  std::size_t minEventsPerBin = 30;  // fewer: an error naming the bin (the quantile is too noisy)
  void validate() const;             // throws ConfigError
};

// Fits the factors on events with finite quantiles and true masses (others are skipped).
MassIntervalCalibration fitMassIntervals(const std::vector<std::array<double, 3>>& quantiles,
                                         const std::vector<double>& trueMassGeV,
                                         const MassIntervalFitConfig& config,
                                         const std::string& source);

}  // namespace nurec::eval
