#pragma once
// Weighted estimators of the spin state (B+, B-, C) from per-event analysers (docs/physics.md
// sections 6 and 8), their analytic and bootstrap errors, and the derived quantum observables with
// errors.
//
// Sign conventions (docs/physics.md sections 2, 6): index 0 / "plus" is the tau+; x+ and x- are
// unit analyser vectors in the rest frame of each tau, as components along the SAME (k, r, n) axes;
// kappa is the analysing power in the tau- convention of the section 6 table (pi: +1, lepton
// direction: -1/3), the signed powers are alpha- = +kappa-, alpha+ = -kappa+. The joint density is
//   W = 1 - kappa+ B+.x+ + kappa- B-.x- - kappa+ kappa- x+.C.x-
// and the estimators, with event weights g,
//   C_ij = -9 sum(g kappa+ kappa- x+_i x-_j)/sum(g kappa+^2 kappa-^2)
//   B-_i = 3 sum(g kappa- x-_i)/sum(g kappa-^2),  B+_i = -3 sum(g kappa+ x+_i)/sum(g kappa+^2).
#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nurec/core/Event.hpp"
#include "nurec/quantum/Observables.hpp"

namespace nurec::quantum {

// The per-event terms the ratio estimators sum: numerators kappa+ x+ (B+), kappa- x- (B-),
// kappa+ kappa- x+ x-^T (C) and denominators kappa+^2, kappa-^2, (kappa+ kappa-)^2. For one
// analyser pair they follow from x and kappa; the posterior-mean estimator (docs/quantum.md
// "Estimators that use the diffusion posterior") averages them over an event's candidates, which
// removes the candidate-to-candidate noise of a single draw without changing the expectation.
struct AnalyserTerms {
  Vec3 kxPlus{}, kxMinus{};
  std::array<std::array<double, 3>, 3> kkxx{};
  double k2Plus = 0, k2Minus = 0, w2 = 0;
};

struct AnalyserEvent {
  Vec3 xPlus{}, xMinus{};  // unit analysers, (k, r, n) components
  double kappaPlus = 0;    // 0: no analyser for this tau
  double kappaMinus = 0;
  double weight = 1;    // event weight (any normalisation)
  double cosTheta = 0;  // production angle c = k.p in the pair frame (kinematic approach)
  Channel channel = Channel::None;
  std::size_t row = 0;  // row of the event file
  // Set by the posterior-mean estimator: the candidate-averaged terms, which then replace x and
  // kappa in every estimator (x is zero and kappa = sqrt(<kappa^2>) for the analysing-power
  // bookkeeping of toys and weights).
  std::optional<AnalyserTerms> averaged;
};

// The estimator terms of one event (the averaged ones when present).
AnalyserTerms termsOf(const AnalyserEvent& e);

// The 15 parameters as a vector: B+ (0-2), B- (3-5), C row-major (6-14).
inline constexpr int kNumSpinParameters = 15;
using SpinVector = Eigen::Matrix<double, kNumSpinParameters, 1>;
using SpinCovariance = Eigen::Matrix<double, kNumSpinParameters, kNumSpinParameters>;
SpinVector toVector(const SpinState& s);
SpinState fromVector(const SpinVector& v);
std::string spinParameterName(int index);  // "B+_k", ..., "C_kk", "C_kr", ...

struct SpinEstimate {
  SpinState value;
  // Expected statistical errors (NaN for candidate-averaged events, where the unit-vector formula
  // does not apply and the sandwich covariance is the error) (docs/physics.md section 8, with
  // weights w = kappa+ kappa- and event weights g): Var(C_ij) = [9 sum g^2 w^2 - C_ij^2 sum g^2
  // w^4]/(sum g w^2)^2, Var(B-_i) = [3 sum g^2 k^2 - B_i^2 sum g^2 k^4]/(sum g k^2)^2 (same for
  // B+).
  SpinState errorAnalytic;
  // Observed (sandwich) covariance of the 15 ratio estimators, from the per-event influence terms.
  SpinCovariance covariance = SpinCovariance::Zero();
  std::size_t nEvents = 0;  // events with both analysers
  double sumWeights = 0;    // sum g over those
  double nEffective = 0;    // (sum g)^2 / sum g^2
  double meanW2 = 0;        // <kappa+^2 kappa-^2> (g-weighted)
};

// Throws InputError when no event has analysers for both taus.
SpinEstimate estimateSpin(const std::vector<AnalyserEvent>& events);
// Estimate with per-event multiplicities (bootstrap) or extra weights (re-weighting); mult.size()
// must equal events.size().
// withCovariance = false skips the sandwich covariance (fast path for re-weighting, bootstrap).
SpinEstimate estimateSpin(const std::vector<AnalyserEvent>& events, const std::vector<double>& mult,
                          bool withCovariance = true);

// The derived observables of docs/physics.md section 7, computed from a spin state.
struct ObservableDefinition {
  std::string name;         // JSON key
  std::string description;  // one line
  double (*compute)(const SpinState&);
};
const std::vector<ObservableDefinition>& observableDefinitions();
double observableValue(const std::string& name, const SpinState& s);

// Central-difference gradient of f at theta (step 1e-5), and the delta-method error
// sqrt(g^T cov g) of a quantity with gradient g.
SpinVector numericGradient(double (*f)(const SpinState&), const SpinVector& theta);
double deltaMethodError(const SpinVector& gradient, const SpinCovariance& cov);

struct ObservableResult {
  std::string name;
  double value = 0;
  double errorAnalytic = 0;               // delta method with the sandwich covariance
  double errorBootstrap = 0;              // SD over bootstrap replicas (0 when not run)
  double bootstrapBias = 0;               // mean(replicas) - value
  double biasCorrected = 0;               // value - bootstrapBias
  double quantile16 = 0, quantile84 = 0;  // bootstrap quantiles
};

struct BootstrapConfig {
  int replicas = 200;
  std::uint64_t seed = 12345;
  int threads = 1;
  void validate() const;
};

struct SpinMeasurementResult {
  SpinEstimate estimate;
  SpinState errorBootstrap;  // SD of B, C over the replicas
  std::vector<ObservableResult> observables;
  int bootstrapReplicas = 0;
  std::vector<SpinVector> replicas;  // the bootstrap estimates (for propagation, e.g. calibration)
};

// Estimate, analytic errors, delta-method errors of the observables, and (replicas > 0) bootstrap
// errors and biases; bootstrap replica r resamples with Rng(seed, r, streams::quantum).
SpinMeasurementResult measure(const std::vector<AnalyserEvent>& events,
                              const BootstrapConfig& boot);

// Null distribution of an observable by permutation (docs/physics.md section 8): x+ of one event is
// paired with x- of another (random permutation per replica, Rng(seed, r, streams::quantum)),
// which keeps the single-tau distributions and destroys the correlations. Returns the replica
// values. Throws ConfigError for candidate-averaged events (their C terms do not factorise).
std::vector<double> permutationNull(const std::vector<AnalyserEvent>& events,
                                    const std::string& observable, int replicas, std::uint64_t seed,
                                    int threads);

}  // namespace nurec::quantum
