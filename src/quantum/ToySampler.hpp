#pragma once
// Toy samples of analyser pairs from a known spin state (docs/physics.md section 6): per event,
// draw x+ and x- uniformly on the sphere (and, for a leptonic tau, x = 2E_l/m_tau from x^2 (3 - 2x)
// with kappa(x) = -(2x - 1)/(3 - 2x)), accept with probability W/W_max,
//   W = 1 - kappa+ B+.x+ + kappa- B-.x- - kappa+ kappa- x+.C.x-,
//   W_max = 1 + |kappa+| |B+| + |kappa-| |B-| + |kappa+ kappa-| ||C||_2.
// Event i draws from Rng(seed, i, streams::quantum): results do not depend on the thread count.
#include <cstdint>
#include <vector>

#include "nurec/core/Random.hpp"
#include "nurec/quantum/Estimators.hpp"

namespace nurec::quantum {

struct ToyTau {
  double kappa = 1;             // fixed analysing power (tau- convention)
  bool leptonSpectrum = false;  // draw x and use kappa(x) = -(2x-1)/(3-2x) instead
};

struct ToyConfig {
  SpinState state;
  ToyTau tauPlus, tauMinus;
  std::size_t nEvents = 1000;
  std::uint64_t seed = 1;
  Channel channel = Channel::PiPi;
  int threads = 1;
  void validate() const;  // state physical (rho >= 0 within 1e-9), |kappa| <= 1, nEvents > 0
};

std::vector<AnalyserEvent> sampleToy(const ToyConfig& config);
// One event of a toy (the per-event body of sampleToy).
AnalyserEvent sampleToyEvent(const ToyConfig& config, Rng& rng, double wMax);
double toyWMax(const ToyConfig& config);
// Uniform unit vector.
Vec3 randomUnitVector(Rng& rng);
// Lepton analysing power at x = 2E_l/m_tau (section 6): -(2x - 1)/(3 - 2x).
double leptonKappa(double x);

}  // namespace nurec::quantum
