#include "nurec/quantum/Estimators.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Statistics.hpp"

namespace nurec::quantum {

namespace {

// Sums of the numerators and denominators of the 15 ratio estimators (docs/physics.md section 6).
struct Sums {
  SpinVector num = SpinVector::Zero();
  double denPlus = 0, denMinus = 0, denC = 0;     // sum g k^2 (B+, B-), sum g k+^2 k-^2
  double den2Plus = 0, den2Minus = 0, den2C = 0;  // sum g^2 k^2, sum g^2 w^2
  double den4Plus = 0, den4Minus = 0, den4C = 0;  // sum g^2 k^4, sum g^2 w^4
  double sumG = 0, sumG2 = 0;
  std::size_t n = 0;

  bool anyAveraged = false;

  void add(const AnalyserEvent& e, double mult) {
    if (mult == 0) return;
    const double g = e.weight * mult;
    const AnalyserTerms t = termsOf(e);
    anyAveraged = anyAveraged || e.averaged.has_value();
    for (int i = 0; i < 3; ++i) {
      num(i) += -3 * g * t.kxPlus[i];
      num(3 + i) += 3 * g * t.kxMinus[i];
      for (int j = 0; j < 3; ++j) num(6 + 3 * i + j) += -9 * g * t.kkxx[i][j];
    }
    denPlus += g * t.k2Plus;
    denMinus += g * t.k2Minus;
    denC += g * t.w2;
    const double g2 = e.weight * e.weight * mult;  // multiplicity m: m copies of g^2
    den2Plus += g2 * t.k2Plus;
    den2Minus += g2 * t.k2Minus;
    den2C += g2 * t.w2;
    den4Plus += g2 * t.k2Plus * t.k2Plus;
    den4Minus += g2 * t.k2Minus * t.k2Minus;
    den4C += g2 * t.w2 * t.w2;
    if (t.w2 != 0) {
      sumG += g;
      sumG2 += g2;
      n += static_cast<std::size_t>(std::lround(mult));
    }
  }
  double den(int a) const { return a < 3 ? denPlus : (a < 6 ? denMinus : denC); }
};

double safeRatio(double num, double den) {
  return den > 0 ? num / den : 0.0;
}

}  // namespace

AnalyserTerms termsOf(const AnalyserEvent& e) {
  if (e.averaged) return *e.averaged;
  AnalyserTerms t;
  const double kp = e.kappaPlus, km = e.kappaMinus;
  for (int i = 0; i < 3; ++i) {
    t.kxPlus[i] = kp * e.xPlus[i];
    t.kxMinus[i] = km * e.xMinus[i];
    for (int j = 0; j < 3; ++j) t.kkxx[i][j] = kp * km * e.xPlus[i] * e.xMinus[j];
  }
  t.k2Plus = kp * kp;
  t.k2Minus = km * km;
  t.w2 = t.k2Plus * t.k2Minus;
  return t;
}

SpinVector toVector(const SpinState& s) {
  SpinVector v;
  for (int i = 0; i < 3; ++i) {
    v(i) = s.bPlus[i];
    v(3 + i) = s.bMinus[i];
    for (int j = 0; j < 3; ++j) v(6 + 3 * i + j) = s.c[i][j];
  }
  return v;
}

SpinState fromVector(const SpinVector& v) {
  SpinState s;
  for (int i = 0; i < 3; ++i) {
    s.bPlus[i] = v(i);
    s.bMinus[i] = v(3 + i);
    for (int j = 0; j < 3; ++j) s.c[i][j] = v(6 + 3 * i + j);
  }
  return s;
}

std::string spinParameterName(int a) {
  static const char* axes = "krn";
  if (a < 3) return fmt::format("B+_{}", axes[a]);
  if (a < 6) return fmt::format("B-_{}", axes[a - 3]);
  const int ij = a - 6;
  return fmt::format("C_{}{}", axes[ij / 3], axes[ij % 3]);
}

SpinEstimate estimateSpin(const std::vector<AnalyserEvent>& events) {
  return estimateSpin(events, std::vector<double>(events.size(), 1.0));
}

SpinEstimate estimateSpin(const std::vector<AnalyserEvent>& events, const std::vector<double>& mult,
                          bool withCovariance) {
  if (mult.size() != events.size())
    throw Error("internal: estimateSpin multiplicity size mismatch");
  Sums s;
  for (std::size_t e = 0; e < events.size(); ++e) s.add(events[e], mult[e]);
  if (!(s.denC > 0))
    throw InputError(
        fmt::format("spin estimate: no event with spin analysers for both taus ({} events given)",
                    events.size()));
  SpinEstimate out;
  SpinVector theta;
  for (int a = 0; a < kNumSpinParameters; ++a) theta(a) = safeRatio(s.num(a), s.den(a));
  out.value = fromVector(theta);
  // Section 8 variances, generalised to event weights.
  SpinVector var;
  for (int a = 0; a < kNumSpinParameters; ++a) {
    const double t2 = theta(a) * theta(a);
    if (a < 3)
      var(a) = safeRatio(3 * s.den2Plus - t2 * s.den4Plus, s.denPlus * s.denPlus);
    else if (a < 6)
      var(a) = safeRatio(3 * s.den2Minus - t2 * s.den4Minus, s.denMinus * s.denMinus);
    else
      var(a) = safeRatio(9 * s.den2C - t2 * s.den4C, s.denC * s.denC);
  }
  out.errorAnalytic = fromVector(var.cwiseMax(0.0).cwiseSqrt());
  if (s.anyAveraged)
    out.errorAnalytic = fromVector(SpinVector::Constant(std::numeric_limits<double>::quiet_NaN()));
  // Sandwich covariance: psi_e,a = g_e (f_a(e) - theta_a d_a(e)) / D_a.
  SpinCovariance cov = SpinCovariance::Zero();
  for (std::size_t e = 0; withCovariance && e < events.size(); ++e) {
    if (mult[e] == 0) continue;
    const auto& ev = events[e];
    const double g = ev.weight;
    const AnalyserTerms t = termsOf(ev);
    SpinVector psi;
    for (int i = 0; i < 3; ++i) {
      psi(i) = safeRatio(g * (-3 * t.kxPlus[i] - theta(i) * t.k2Plus), s.denPlus);
      psi(3 + i) = safeRatio(g * (3 * t.kxMinus[i] - theta(3 + i) * t.k2Minus), s.denMinus);
      for (int j = 0; j < 3; ++j) {
        const int a = 6 + 3 * i + j;
        psi(a) = safeRatio(g * (-9 * t.kkxx[i][j] - theta(a) * t.w2), s.denC);
      }
    }
    cov += mult[e] * psi * psi.transpose();
  }
  out.covariance = cov;
  out.nEvents = s.n;
  out.sumWeights = s.sumG;
  out.nEffective = s.sumG2 > 0 ? s.sumG * s.sumG / s.sumG2 : 0;
  out.meanW2 = safeRatio(s.denC, s.sumG);
  return out;
}

SpinVector numericGradient(double (*f)(const SpinState&), const SpinVector& theta) {
  constexpr double h = 1e-5;
  SpinVector grad;
  for (int a = 0; a < kNumSpinParameters; ++a) {
    SpinVector up = theta, dn = theta;
    up(a) += h;
    dn(a) -= h;
    grad(a) = (f(fromVector(up)) - f(fromVector(dn))) / (2 * h);
  }
  return grad;
}

double deltaMethodError(const SpinVector& gradient, const SpinCovariance& cov) {
  return std::sqrt(std::max(0.0, gradient.dot(cov * gradient)));
}

const std::vector<ObservableDefinition>& observableDefinitions() {
  static const std::vector<ObservableDefinition> defs = {
      {"concurrence", "Wootters concurrence of rho(B+, B-, C)",
       [](const SpinState& s) { return concurrenceWootters(s); }},
      {"concurrence_xstate", "X-state closed form max(0, T1, T2)",
       [](const SpinState& s) { return concurrenceXState(s); }},
      {"concurrence_unbiased", "bias-corrected X-state estimator (section 8), not clipped at 0",
       [](const SpinState& s) { return concurrenceBiasCorrected(s); }},
      {"ppt_min_eigenvalue", "smallest eigenvalue of rho^T2 (< 0: entangled)",
       [](const SpinState& s) { return partialTransposeMinEigenvalue(densityMatrix(s)); }},
      {"rho_min_eigenvalue", "smallest eigenvalue of rho (< 0: unphysical estimate)",
       [](const SpinState& s) { return minEigenvalue(densityMatrix(s)); }},
      {"entanglement_D", "max over branches of s.diag(C) - 1 (> 0: entangled, any B)",
       [](const SpinState& s) { return entanglementWitness(s.c, bestWitnessBranch(s.c)); }},
      {"m12", "Horodecki m12 (> 1: CHSH violation)",
       [](const SpinState& s) { return horodeckiM12(s.c); }},
      {"chsh_max", "2 sqrt(m12)", [](const SpinState& s) { return maxChsh(s.c); }},
      {"bell_45", "sqrt2 max|C_ii +- C_jj| - 2 (> 0: violation)",
       [](const SpinState& s) { return bell45(s.c); }},
      {"bell_opt", "2 sqrt(C_kk^2 + C_nn^2) - 2 (> 0: violation)",
       [](const SpinState& s) { return bellOpt(s.c); }},
  };
  return defs;
}

double observableValue(const std::string& name, const SpinState& s) {
  for (const auto& d : observableDefinitions())
    if (d.name == name) return d.compute(s);
  throw ConfigError(fmt::format("unknown observable '{}'", name));
}

void BootstrapConfig::validate() const {
  require(replicas >= 0 && replicas <= 100000,
          fmt::format("bootstrap replicas must be in [0, 1e5], got {}", replicas));
  require(threads >= 0, "bootstrap threads must be >= 0");
}

SpinMeasurementResult measure(const std::vector<AnalyserEvent>& events,
                              const BootstrapConfig& boot) {
  boot.validate();
  SpinMeasurementResult out;
  out.estimate = estimateSpin(events);
  const SpinVector theta = toVector(out.estimate.value);
  const auto& defs = observableDefinitions();
  for (const auto& d : defs) {
    ObservableResult r;
    r.name = d.name;
    r.value = d.compute(out.estimate.value);
    r.errorAnalytic = deltaMethodError(numericGradient(d.compute, theta), out.estimate.covariance);
    r.biasCorrected = r.value;
    out.observables.push_back(r);
  }
  out.bootstrapReplicas = boot.replicas;
  if (boot.replicas == 0) return out;
  const std::size_t n = events.size();
  std::vector<SpinVector> thetas(boot.replicas);
  parallelFor(static_cast<std::size_t>(boot.replicas), boot.threads, [&](std::size_t r) {
    Rng rng(boot.seed, r, streams::quantum);
    std::vector<double> mult(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) mult[rng.below(n)] += 1;
    try {
      thetas[r] = toVector(estimateSpin(events, mult, false).value);
    } catch (const InputError&) {
      thetas[r] = theta;  // a replica without usable events (tiny samples only)
    }
  });
  SpinVector mean = SpinVector::Zero(), sq = SpinVector::Zero();
  for (const auto& t : thetas) mean += t;
  mean /= boot.replicas;
  for (const auto& t : thetas) sq += (t - mean).cwiseAbs2();
  out.errorBootstrap = fromVector((sq / std::max(1, boot.replicas - 1)).cwiseSqrt());
  out.replicas = thetas;
  for (std::size_t k = 0; k < defs.size(); ++k) {
    std::vector<double> vals(boot.replicas);
    for (int r = 0; r < boot.replicas; ++r) vals[r] = defs[k].compute(fromVector(thetas[r]));
    const double m = std::accumulate(vals.begin(), vals.end(), 0.0) / boot.replicas;
    double v2 = 0;
    for (double v : vals) v2 += (v - m) * (v - m);
    auto& r = out.observables[k];
    r.errorBootstrap = std::sqrt(v2 / std::max(1, boot.replicas - 1));
    r.bootstrapBias = m - r.value;
    r.biasCorrected = r.value - r.bootstrapBias;
    // No bootstrap replicas: 0 as before (the core quantile is NaN for an empty sample).
    r.quantile16 = vals.empty() ? 0 : quantile(vals, 0.1587);
    r.quantile84 = vals.empty() ? 0 : quantile(vals, 0.8413);
  }
  return out;
}

std::vector<double> permutationNull(const std::vector<AnalyserEvent>& events,
                                    const std::string& observable, int replicas, std::uint64_t seed,
                                    int threads) {
  const auto& defs = observableDefinitions();
  const auto it =
      std::find_if(defs.begin(), defs.end(), [&](const auto& d) { return d.name == observable; });
  if (it == defs.end()) throw ConfigError(fmt::format("unknown observable '{}'", observable));
  if (std::any_of(events.begin(), events.end(), [](const auto& e) { return e.averaged; }))
    throw ConfigError(
        "permutation null: not defined for candidate-averaged analysers (their x+ x- terms do "
        "not factorise); use --candidates estimate");
  std::vector<double> out(std::max(0, replicas));
  parallelFor(out.size(), threads, [&](std::size_t r) {
    Rng rng(seed, r, streams::quantum);
    std::vector<std::size_t> perm(events.size());
    std::iota(perm.begin(), perm.end(), 0);
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
    std::vector<AnalyserEvent> shuffled = events;
    for (std::size_t i = 0; i < events.size(); ++i) {
      shuffled[i].xMinus = events[perm[i]].xMinus;
      shuffled[i].kappaMinus = events[perm[i]].kappaMinus;
    }
    out[r] =
        it->compute(estimateSpin(shuffled, std::vector<double>(shuffled.size(), 1.0), false).value);
  });
  return out;
}

}  // namespace nurec::quantum
