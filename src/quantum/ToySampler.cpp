#include "nurec/quantum/ToySampler.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::quantum {

namespace {
double norm3(const Vec3& v) {
  return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}
// ||C||_2 = sqrt(largest eigenvalue of C^T C).
double spectralNorm(const Mat3& c) {
  Eigen::Matrix3d m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m(i, j) = c[i][j];
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(m.transpose() * m, Eigen::EigenvaluesOnly);
  return std::sqrt(std::max(0.0, es.eigenvalues()(2)));
}
double drawKappa(const ToyTau& t, Rng& rng) {
  if (!t.leptonSpectrum) return t.kappa;
  // x^2 (3 - 2x) on [0, 1], maximum 1 at x = 1 (docs/physics.md section 6).
  for (;;) {
    const double x = rng.uniform();
    if (rng.uniform() < x * x * (3 - 2 * x)) return leptonKappa(x);
  }
}
}  // namespace

double leptonKappa(double x) {
  return -(2 * x - 1) / (3 - 2 * x);
}

Vec3 randomUnitVector(Rng& rng) {
  const double c = rng.uniform(-1, 1);
  const double phi = rng.uniform(0, 2 * constants::pi);
  const double s = std::sqrt(std::max(0.0, 1 - c * c));
  return {c, s * std::cos(phi), s * std::sin(phi)};
}

void ToyConfig::validate() const {
  require(nEvents > 0, "toy: nEvents must be > 0");
  require(std::abs(tauPlus.kappa) <= 1 && std::abs(tauMinus.kappa) <= 1,
          "toy: |kappa| must be <= 1");
  require(threads >= 0, "toy: threads must be >= 0");
  const double lmin = minEigenvalue(densityMatrix(state));
  require(lmin > -1e-9,
          fmt::format("toy: spin state is not physical (rho has eigenvalue {:.3g})", lmin));
}

double toyWMax(const ToyConfig& config) {
  const double kp = config.tauPlus.leptonSpectrum ? 1.0 : std::abs(config.tauPlus.kappa);
  const double km = config.tauMinus.leptonSpectrum ? 1.0 : std::abs(config.tauMinus.kappa);
  return 1 + kp * norm3(config.state.bPlus) + km * norm3(config.state.bMinus) +
         kp * km * spectralNorm(config.state.c);
}

AnalyserEvent sampleToyEvent(const ToyConfig& config, Rng& rng, double wMax) {
  const auto& s = config.state;
  for (;;) {
    AnalyserEvent e;
    e.kappaPlus = drawKappa(config.tauPlus, rng);
    e.kappaMinus = drawKappa(config.tauMinus, rng);
    e.xPlus = randomUnitVector(rng);
    e.xMinus = randomUnitVector(rng);
    double bp = 0, bm = 0, cc = 0;
    for (int i = 0; i < 3; ++i) {
      bp += s.bPlus[i] * e.xPlus[i];
      bm += s.bMinus[i] * e.xMinus[i];
      for (int j = 0; j < 3; ++j) cc += e.xPlus[i] * s.c[i][j] * e.xMinus[j];
    }
    // docs/physics.md section 6: W = 1 - kappa+ B+.x+ + kappa- B-.x- - kappa+ kappa- x+.C.x-
    const double w = 1 - e.kappaPlus * bp + e.kappaMinus * bm - e.kappaPlus * e.kappaMinus * cc;
    if (rng.uniform() * wMax < w) {
      e.channel = config.channel;
      return e;
    }
  }
}

std::vector<AnalyserEvent> sampleToy(const ToyConfig& config) {
  config.validate();
  const double wMax = toyWMax(config);
  std::vector<AnalyserEvent> out(config.nEvents);
  parallelFor(config.nEvents, config.threads, [&](std::size_t i) {
    Rng rng(config.seed, i, streams::quantum);
    out[i] = sampleToyEvent(config, rng, wMax);
    out[i].row = i;
  });
  return out;
}

}  // namespace nurec::quantum
