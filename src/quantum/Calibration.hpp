#pragma once
// Calibration of reconstructed spin measurements (docs/physics.md sections 6 and 8).
//
// Linear response built from nurec's own truth samples. For every event of a calibration sample we
// know its production spin state S_e (/truth/spin_b, /truth/spin_c) and the full-power truth
// polarimeters H+- (pi direction, rho polarimeter, nubar_l / nu_l direction; kappa = 1), with which
// the generator sampled the decays from W_e(S) = 1 - H+.B+ + H-.B- - H+.C.H-. Re-weighting every
// event by
//     r_e(T) = W_e(S'_e)/W_e(S_e),   S'_e = (1 - lambda) S_e + lambda T      (a physical state)
// turns the sample into one produced with the spin states S'_e, for any target state T, with the
// same kinematics, detector response, selection and reconstruction. For K random physical targets
// T_m we measure the reconstructed estimate theta_reco(m) (the estimators of quantum/Estimators.hpp
// on the reconstructed analysers, weights g r) and the true value theta_true(m) (the g r
// kappa+^2 kappa-^2 weighted average of S'_e over the same events), and fit
//     theta_reco = R theta_true + o        (15 x 15 response matrix R, offset o; least squares)
// The calibrated measurement is theta_cal = R^-1 (theta_reco - o), with covariance
// R^-1 Cov R^-T; the calibration's own statistical uncertainty comes from refitting R, o on
// bootstrap replicas of the calibration sample.
#include <cstdint>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/quantum/Analysers.hpp"
#include "nurec/quantum/Estimators.hpp"

namespace nurec::quantum {

struct CalibrationConfig {
  // full: 15 x 15 response with cross-talk (needs large samples); diagonal: theta_reco_a =
  // R_aa theta_true_a + o_a for each parameter separately (far more stable when the analysers
  // keep little spin information; neglects cross-talk, which matters only as far as the measured
  // state differs from the calibration sample's).
  enum class Model { Full, Diagonal };
  Model model = Model::Full;
  int targets = 40;            // random target states T_m (>= 16 for the full response)
  double mixing = 0.3;         // lambda
  double minW = 1e-3;          // floor on W_e(S_e) in the re-weighting denominator
  int bootstrapReplicas = 20;  // refits for the calibration uncertainty (0: none)
  std::uint64_t seed = 2718;
  int threads = 1;
  void validate() const;
};

// Per-row inputs of a calibration sample.
struct CalibrationInput {
  std::vector<AnalyserEvent> reco;          // reconstructed analysers (rows that pass, any channel)
  std::vector<AnalyserEvent> polarimeters;  // one per row of the file: truth H+- (kappa 1 or 0)
  std::vector<SpinState> production;        // one per row: /truth/spin_b, /truth/spin_c
};
// Reads truth (with the per-event spin state) and the reconstruction `cfg.method` (or truth-level
// analysers for cfg.method == "truth"). Throws InputError when /truth/spin_b or spin_c is missing.
CalibrationInput prepareCalibration(const io::EventTable& table, const AnalyserConfig& cfg);

enum class RowSubset { All, Even, Odd };  // for closure tests on independent halves

using ResponseMatrix = Eigen::Matrix<double, kNumSpinParameters, kNumSpinParameters>;

// One fit of theta_reco = R theta_true + o.
struct ResponseFit {
  ResponseMatrix response = ResponseMatrix::Identity();
  SpinVector offset = SpinVector::Zero();
  bool ok = false;
};

class Calibration {
 public:
  Calibration() = default;
  // Fits the response on the events of `input` in `channel` (None = all channels) and `subset`.
  Calibration(const CalibrationInput& input, const CalibrationConfig& cfg,
              Channel channel = Channel::None, RowSubset subset = RowSubset::All);
  // A stored response (response files, quantum/SpinResponse.hpp): the nominal fit and its
  // bootstrap refits. Valid when the nominal fit is.
  Calibration(const ResponseFit& nominal, std::vector<ResponseFit> replicas, std::size_t nEvents,
              double minNeffFraction);

  bool valid() const { return valid_; }
  const Eigen::Matrix<double, kNumSpinParameters, kNumSpinParameters>& response() const {
    return response_;
  }
  const SpinVector& offset() const { return offset_; }
  std::size_t nEvents() const { return nEvents_; }
  double minEffectiveEventsFraction() const { return minNeffFraction_; }  // over the targets
  // Ratio of the largest to the smallest singular value of R: how much R^-1 amplifies the
  // statistical fluctuations of some combination of the raw estimates (inf when invalid).
  double conditionNumber() const;
  const std::vector<ResponseFit>& replicas() const { return replicas_; }

  SpinVector apply(const SpinVector& reco) const;
  SpinCovariance propagate(const SpinCovariance& reco) const;  // R^-1 Cov R^-T
  // Covariance of apply(reco) over the bootstrap refits of the calibration (0 without replicas).
  SpinCovariance calibrationCovariance(const SpinVector& reco) const;

 private:
  using Fit = ResponseFit;
  static Fit fit(const CalibrationInput& input, const std::vector<std::size_t>& recoIdx,
                 const std::vector<double>& mult, const std::vector<SpinState>& targets,
                 const CalibrationConfig& cfg, double* minNeffFraction);
  Eigen::Matrix<double, kNumSpinParameters, kNumSpinParameters> response_ =
      Eigen::Matrix<double, kNumSpinParameters, kNumSpinParameters>::Identity();
  Eigen::Matrix<double, kNumSpinParameters, kNumSpinParameters> inverse_ =
      Eigen::Matrix<double, kNumSpinParameters, kNumSpinParameters>::Identity();
  SpinVector offset_ = SpinVector::Zero();
  std::vector<Fit> replicas_;
  std::size_t nEvents_ = 0;
  double minNeffFraction_ = 1;
  bool valid_ = false;
};

// W = 1 - kappa+ B+.x+ + kappa- B-.x- - kappa+ kappa- x+.C.x- of one analyser pair.
double jointWeight(const AnalyserEvent& e, const SpinState& s);
// Random physical target states (Ginibre mixed states), deterministic in seed.
std::vector<SpinState> randomTargetStates(int n, std::uint64_t seed);
// Truth-level per-row full-power polarimeters (pi, rho polarimeter, lepton neutrino; kappa 1, or
// 0).
std::vector<AnalyserEvent> truthPolarimeters(const io::EventTable& table);
// Whether a file carries the generator's per-event spin state. Unknown: /truth/spin_b or spin_c
// absent, the file attribute spin_truth = "unknown" (HepMC3 input, docs/data-format.md), or
// both datasets all zero (files written before unknown spin truth was marked: C_kk = 0 is never a
// production state of q qbar -> tau tau).
enum class SpinTruth { Known, Unknown };
SpinTruth spinTruthOf(const io::EventTable& table);
// The production spin state of every row (/truth/spin_b, /truth/spin_c). Throws InputError when
// the spin truth is unknown.
std::vector<SpinState> productionStates(const io::EventTable& table);

}  // namespace nurec::quantum
