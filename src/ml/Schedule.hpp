#pragma once
// Noise schedule, sampler grids and learning-rate schedule in double precision (docs/ml-methods.md
// sections 4-6). Torch-free: the samplers (ml/Sampler.hpp) read their per-step coefficients from
// here, and the unit tests check them against the exact Gaussian recursion of section 5.
#include <cstdint>
#include <string>
#include <vector>

namespace nurec::ml {

// Variance-preserving bounded cosine log-SNR schedule (OmniLearn form, docs/ml-methods.md section
// 4): lambda(t) = -2 log tan(a t + b), lambda(0) = lambdaMax, lambda(1) = lambdaMin exactly; alpha
// = sqrt(sigmoid(lambda)), sigma = sqrt(sigmoid(-lambda)).
class BoundedCosineSchedule {
 public:
  BoundedCosineSchedule(double lambdaMin = -20, double lambdaMax = 20);
  double lambda(double t) const;
  double tOfLambda(double lambda) const;  // inverse of lambda(t)
  static double alphaOfLambda(double lambda);
  static double sigmaOfLambda(double lambda);
  double alpha(double t) const { return alphaOfLambda(lambda(t)); }
  double sigma(double t) const { return sigmaOfLambda(lambda(t)); }
  double angleScale() const { return a_; }
  double angleOffset() const { return b_; }

 private:
  double a_, b_, c_;
};

enum class SamplerKind { Ddim, DpmSolverPp2M };
// The accepted names, in SamplerKind order: the run card's sampler.name and `reconstruct
// --sampler` are checked against this one list (no aliases).
inline const std::vector<std::string> kSamplerNames{"ddim", "dpm++2m"};
SamplerKind samplerKindFromName(const std::string& name);  // ConfigError naming kSamplerNames

// One sampler step from t_i to t_{i+1} < t_i on the uniform grid t_i = 1 - i/N (docs/ml-methods.md
// section 5), written in terms of the network output v (v-prediction):
//   DDIM:     z <- zCoef z + vCoef v + noiseCoef xi     (xi ~ N(0, 1); noiseCoef = sigma-tilde)
//   DPM++2M:  xhat = alpha z - sigma v;  D = w xhat + wPrev xhatPrev;  z <- zCoef z + dCoef D
struct SamplerStep {
  double t = 0;                             // network time input t_i
  double alpha = 0, sigma = 0, lambda = 0;  // at t_i
  double zCoef = 0, vCoef = 0, noiseCoef = 0;
  double w = 1, wPrev = 0, dCoef = 0;
};

struct SamplerGrid {
  SamplerKind kind = SamplerKind::Ddim;
  double eta = 0;
  std::vector<SamplerStep> steps;
  bool drawsNoisePerStep() const { return kind == SamplerKind::Ddim && eta > 0; }
};

// Precomputes the coefficients once per sampler configuration. DPM-Solver++(2M) uses first order on
// the first and on the last step (docs/ml-methods.md section 5: the last step of the uniform-t grid
// is large).
SamplerGrid makeSamplerGrid(const BoundedCosineSchedule& schedule, SamplerKind kind, int steps,
                            double eta);

// Exact mean and variance after sampling x ~ N(mu, s^2) with the exact denoiser
// E[x | z_t] = mu + alpha s^2 (z - alpha mu)/(alpha^2 s^2 + sigma^2), from z ~ N(0, 1) at t = 1
// (every step is affine in z, so the moments propagate exactly; docs/ml-methods.md section 5).
struct Moments {
  double mean = 0, variance = 0;
};
Moments exactGaussianSamplerMoments(const SamplerGrid& grid, double mu, double s);
// The exact denoiser in v form: v-hat = (alpha z - E[x | z]) / sigma.
double exactGaussianVelocity(double z, double alpha, double sigma, double mu, double s);
// Smallest reachable expected v-loss per component at (alpha, sigma) for x ~ N(mu, s^2):
// s^2 / (alpha^2 s^2 + sigma^2) (docs/ml-methods.md section 4).
double minimalVLoss(double alpha, double sigma, double s);

// Linear warm-up over warmupSteps, then cosine decay to lrMin at totalSteps (docs/ml-methods.md
// section 6).
double learningRate(std::int64_t step, double lrPeak, double lrMin, std::int64_t warmupSteps,
                    std::int64_t totalSteps);

}  // namespace nurec::ml
