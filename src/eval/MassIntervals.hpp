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
// so that exactly 68 % of the calibration events of the bin are covered. Within a mass bin the
// factor is fitted per cell of two more reconstructed quantities the posterior width is known to
// depend on: whether both taus decayed hadronically (one neutrino each instead of up to three), and
// the reconstructed pT of the tau pair (visible pair + MET; a harder recoil, as in g g -> H, widens
// it). A cell with too few calibration events uses the factor of its whole mass bin. It is fitted
// on a sample disjoint from the one it is applied to; `nurec calibrate-intervals` writes it into
// the model directory, `nurec reconstruct --method diffusion` applies it.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"

namespace nurec::eval {

// What the calibration of one event looks at.
struct IntervalEvent {
  std::array<double, 3> quantiles{};  // 16/50/84 % quantiles of the candidates' m_tautau [GeV]
  bool hadronicPair = false;          // both taus hadronic (channels pipi, pirho, rhorho)
  double pairPtGeV = 0;               // |pT(visible pair) + MET|
};
// The events of a reconstructed table: /nu/<method>/mtautau_quantiles, /reco/channel,
// /reco/tau_p4 and /reco/met (InputError naming a missing dataset).
std::vector<IntervalEvent> intervalEvents(const io::EventTable& table, const std::string& method);

struct MassIntervalCalibration {
  static constexpr const char* kFormat = "nurec-mass-intervals";
  static constexpr int kFormatVersion = 3;  // 2: no sampling record; 1: per mass bin only (read)
  static constexpr const char* kFileName = "mass_intervals.json";  // in a model directory

  // Bins of the event's median m_tautau [GeV]; events below the first (above the last) edge use
  // the first (last) bin.
  std::vector<double> medianMassEdgesGeV;
  std::vector<double> scale;        // per bin: the factor s on both half-widths
  std::vector<std::size_t> events;  // calibration events per bin
  std::vector<double> rawCoverage;  // per bin: coverage of the uncalibrated 16-84 % interval
  // Cells within a mass bin: pair-pT bins [GeV] (under- and overflow join the edge bins; empty =
  // one bin) times 2 classes (lepton-hadron, hadron-hadron). cellScale and cellEvents hold
  // (mass bin, class, pT bin) in row-major order; a cell fitted from too few events holds NaN and
  // uses `scale` of its mass bin. Empty for a format-1 file.
  std::vector<double> pairPtEdgesGeV;
  std::vector<double> cellScale;
  std::vector<std::size_t> cellEvents;
  double targetCoverage = 0.68;
  std::string source;  // the calibration sample (file name and method)
  // How the calibration sample's candidates were drawn (samplingSettings() of its reconstruction
  // record, e.g. "sampler=ddim steps=100 eta=1 candidates=20"). The width of the 16-84 % interval
  // of K candidates depends on K and the sampler, so the factors hold only for these settings;
  // empty when not recorded (format 1-2).
  std::string sampling;

  // The calibrated interval [low, high] of an event, and the factor it uses.
  std::array<double, 2> interval(const IntervalEvent& event) const;
  double factor(const IntervalEvent& event) const;

  std::string toJson() const;
  // Throws nurec::InputError naming `what` for a wrong format, version or content.
  static MassIntervalCalibration fromJson(const std::string& text, const std::string& what);
};

// The settings in a reconstruction record (the reco_<method>_config attribute, "model=... sampler=
// ddim steps=100 eta=1 candidates=20 selection=... seed=4") that shape the candidates' spread:
// "sampler=... steps=... eta=... candidates=...", in that order; "" when it has none of them.
std::string samplingSettings(const std::string& reconstructionRecord);

struct MassIntervalFitConfig {
  std::vector<double> medianMassEdgesGeV{40, 60, 70, 80, 90, 100, 110, 125, 150, 200, 300, 500};
  double targetCoverage = 0.68;
  std::vector<double> pairPtEdgesGeV{20, 40};  // inner edges of the pair-pT cells
  std::size_t minEventsPerBin = 30;  // fewer in a mass bin: an error naming the bin (the quantile
                                     // is too noisy); fewer in a cell: the mass bin's factor
  void validate() const;             // throws ConfigError
};

// Fits the factors on events with finite quantiles and true masses (others are skipped).
MassIntervalCalibration fitMassIntervals(const std::vector<IntervalEvent>& events,
                                         const std::vector<double>& trueMassGeV,
                                         const MassIntervalFitConfig& config,
                                         const std::string& source);

}  // namespace nurec::eval
