#include "nurec/ml/Schedule.hpp"

#include <algorithm>
#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::ml {

BoundedCosineSchedule::BoundedCosineSchedule(double lambdaMin, double lambdaMax) {
  require(lambdaMax > lambdaMin, "schedule: lambda_max must exceed lambda_min");
  b_ = std::atan(std::exp(-lambdaMax / 2));
  a_ = std::atan(std::exp(-lambdaMin / 2)) - b_;
  c_ = std::atan(std::exp(lambdaMin / 2));
}

double BoundedCosineSchedule::lambda(double t) const {
  // For t > 1/2 use pi/2 - (a t + b) = atan(exp(lambdaMin/2)) + a (1 - t): tan is ill-conditioned
  // near pi/2, and this keeps lambda(1) = lambdaMin to rounding.
  if (t > 0.5) return 2 * std::log(std::tan(c_ + a_ * (1 - t)));
  return -2 * std::log(std::tan(a_ * t + b_));
}

double BoundedCosineSchedule::tOfLambda(double lambda) const {
  return (std::atan(std::exp(-lambda / 2)) - b_) / a_;
}

// sigmoid(l) = 1/(1 + e^-l), evaluated without overflow.
double BoundedCosineSchedule::alphaOfLambda(double lambda) {
  return std::sqrt(1.0 / (1.0 + std::exp(-lambda)));
}
double BoundedCosineSchedule::sigmaOfLambda(double lambda) {
  return std::sqrt(1.0 / (1.0 + std::exp(lambda)));
}

SamplerKind samplerKindFromName(const std::string& name) {
  requireOneOf(name, kSamplerNames, "sampler");
  const auto position = std::find(kSamplerNames.begin(), kSamplerNames.end(), name);
  return static_cast<SamplerKind>(position - kSamplerNames.begin());
}

SamplerGrid makeSamplerGrid(const BoundedCosineSchedule& schedule, SamplerKind kind, int steps,
                            double eta) {
  require(steps >= 1, "sampler: steps must be >= 1");
  require(eta >= 0 && eta <= 1, "sampler: eta must be in [0, 1]");
  SamplerGrid grid;
  grid.kind = kind;
  grid.eta = kind == SamplerKind::Ddim ? eta : 0.0;
  const int n = steps;
  std::vector<double> t(n + 1), lam(n + 1), al(n + 1), si(n + 1);
  for (int i = 0; i <= n; ++i) {
    t[i] = 1.0 - static_cast<double>(i) / n;
    lam[i] = schedule.lambda(t[i]);
    al[i] = BoundedCosineSchedule::alphaOfLambda(lam[i]);
    si[i] = BoundedCosineSchedule::sigmaOfLambda(lam[i]);
  }
  grid.steps.resize(n);
  std::vector<double> h(n);
  for (int i = 0; i < n; ++i) h[i] = 0.5 * (lam[i + 1] - lam[i]);  // half log-SNR steps
  for (int i = 0; i < n; ++i) {
    SamplerStep& st = grid.steps[i];
    st.t = t[i];
    st.alpha = al[i];
    st.sigma = si[i];
    st.lambda = lam[i];
    if (kind == SamplerKind::Ddim) {
      // sigma-tilde = eta sigma_s sqrt(1 - exp(lambda_t - lambda_s))  (docs/ml-methods.md section
      // 5)
      const double sTilde = grid.eta * si[i + 1] * std::sqrt(-std::expm1(lam[i] - lam[i + 1]));
      const double c = std::sqrt(std::max(0.0, si[i + 1] * si[i + 1] - sTilde * sTilde));
      // z_s = alpha_s xhat + c epshat + sTilde xi, xhat = a z - s v, epshat = s z + a v
      st.zCoef = al[i + 1] * al[i] + c * si[i];
      st.vCoef = -al[i + 1] * si[i] + c * al[i];
      st.noiseCoef = sTilde;
    } else {
      const bool firstOrder = i == 0 || i == n - 1;
      if (firstOrder) {
        st.w = 1;
        st.wPrev = 0;
      } else {
        const double r = h[i - 1] / h[i];
        st.w = 1 + 1 / (2 * r);
        st.wPrev = -1 / (2 * r);
      }
      st.zCoef = si[i + 1] / si[i];
      st.dCoef = -al[i + 1] * std::expm1(-h[i]);
    }
  }
  return grid;
}

double exactGaussianVelocity(double z, double alpha, double sigma, double mu, double s) {
  const double s2 = s * s;
  const double xhat = mu + alpha * s2 * (z - alpha * mu) / (alpha * alpha * s2 + sigma * sigma);
  return (alpha * z - xhat) / sigma;
}

double minimalVLoss(double alpha, double sigma, double s) {
  return s * s / (alpha * alpha * s * s + sigma * sigma);
}

Moments exactGaussianSamplerMoments(const SamplerGrid& grid, double mu, double s) {
  // z = A z1 + B (+ independent noise of variance V extra for DDIM eta > 0); xhat = p z + q.
  // Track the mean m and the variance V of z; for DPM++ the previous xhat is an affine function
  // of the same z1 (deterministic sampler), tracked as (A, B) pairs.
  const double s2 = s * s;
  if (grid.kind == SamplerKind::Ddim) {
    double m = 0, v = 1;
    for (const auto& st : grid.steps) {
      const double p = st.alpha * s2 / (st.alpha * st.alpha * s2 + st.sigma * st.sigma);
      const double q = mu * (1 - p * st.alpha);
      // v-hat = (alpha z - p z - q)/sigma; z' = zCoef z + vCoef v-hat + noise
      const double k = st.zCoef + st.vCoef * (st.alpha - p) / st.sigma;
      const double c0 = -st.vCoef * q / st.sigma;
      m = k * m + c0;
      v = k * k * v + st.noiseCoef * st.noiseCoef;
    }
    return {m, v};
  }
  double a = 1, b = 0;    // z = a z1 + b
  double ap = 0, bp = 0;  // previous xhat = ap z1 + bp
  for (const auto& st : grid.steps) {
    const double p = st.alpha * s2 / (st.alpha * st.alpha * s2 + st.sigma * st.sigma);
    const double q = mu * (1 - p * st.alpha);
    const double xa = p * a, xb = p * b + q;  // xhat
    const double da = st.w * xa + st.wPrev * ap, db = st.w * xb + st.wPrev * bp;
    a = st.zCoef * a + st.dCoef * da;
    b = st.zCoef * b + st.dCoef * db;
    ap = xa;
    bp = xb;
  }
  return {b, a * a};
}

double learningRate(std::int64_t step, double lrPeak, double lrMin, std::int64_t warmupSteps,
                    std::int64_t totalSteps) {
  if (step < warmupSteps)
    return lrPeak * static_cast<double>(step + 1) / static_cast<double>(warmupSteps);
  if (totalSteps <= warmupSteps || step >= totalSteps) return step >= totalSteps ? lrMin : lrPeak;
  const double x =
      static_cast<double>(step - warmupSteps) / static_cast<double>(totalSteps - warmupSteps);
  return lrMin + 0.5 * (lrPeak - lrMin) * (1 + std::cos(constants::pi * x));
}

}  // namespace nurec::ml
