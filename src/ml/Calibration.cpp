#include "nurec/ml/Calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::ml {

SelectionRule selectionRuleFromName(const std::string& name) {
  if (name == "random") return SelectionRule::Random;
  if (name == "median") return SelectionRule::Median;
  if (name == "medoid") return SelectionRule::Medoid;
  if (name == "tau-mass" || name == "taumass" || name == "tau_mass") return SelectionRule::TauMass;
  if (name == "mass-mode") return SelectionRule::MassMode;
  throw ConfigError("unknown selection rule '" + name +
                    "' (expected random, median, medoid, tau-mass or mass-mode)");
}

std::vector<double> candidatePairMasses(const std::vector<double>& candidates,
                                        const std::array<double, 8>& visP4) {
  const std::size_t K = candidates.size() / 6;
  std::vector<double> masses(K);
  for (std::size_t k = 0; k < K; ++k) {
    FourVector pair(visP4[0] + visP4[4], visP4[1] + visP4[5], visP4[2] + visP4[6],
                    visP4[3] + visP4[7]);
    for (int t = 0; t < 2; ++t) {
      const double* n = &candidates[k * 6 + 3 * t];
      pair += FourVector(n[0], n[1], n[2], std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]));
    }
    masses[k] = pair.m();
  }
  return masses;
}

namespace {

// Per-component median of the candidates listed in `members`.
std::array<double, 6> componentMedian(const std::vector<double>& candidates,
                                      const std::vector<std::size_t>& members) {
  std::array<double, 6> out{};
  std::vector<double> col(members.size());
  const std::size_t n = members.size();
  for (int c = 0; c < 6; ++c) {
    for (std::size_t i = 0; i < n; ++i) col[i] = candidates[members[i] * 6 + c];
    std::sort(col.begin(), col.end());
    out[c] = n % 2 ? col[n / 2] : 0.5 * (col[n / 2 - 1] + col[n / 2]);
  }
  return out;
}

}  // namespace

void MassHypothesis::validate() const {
  if (!enabled()) return;
  if (!(std::isfinite(massGeV) && massGeV > 0 && std::isfinite(widthGeV) && widthGeV > 0 &&
        widthGeV <= massGeV)) {
    std::ostringstream m;
    m << "mass hypothesis: mass and width must be finite and > 0, width <= mass (got M = "
      << massGeV << " GeV, Gamma = " << widthGeV << " GeV)";
    throw ConfigError(m.str());
  }
}

MassHypothesis massHypothesisFromText(const std::string& text) {
  const std::string usage = "expected M,GAMMA in GeV, e.g. 91.1876,2.4952";
  const auto comma = text.find(',');
  if (comma == std::string::npos) throw ConfigError("mass hypothesis '" + text + "': " + usage);
  MassHypothesis h;
  auto number = [&](const std::string& part) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size())
      throw ConfigError("mass hypothesis '" + text + "': '" + part + "' is not a number; " + usage);
    return v;
  };
  h.massGeV = number(text.substr(0, comma));
  h.widthGeV = number(text.substr(comma + 1));
  if (h.massGeV == 0) throw ConfigError("mass hypothesis '" + text + "': M must be > 0");
  h.validate();
  return h;
}

std::vector<double> massHypothesisWeights(const std::vector<double>& masses,
                                          const MassHypothesis& hypothesis) {
  const double M2 = hypothesis.massGeV * hypothesis.massGeV;
  const double MG = hypothesis.massGeV * hypothesis.widthGeV;
  std::vector<double> w(masses.size(), 0.0);
  double sum = 0;
  for (std::size_t k = 0; k < masses.size(); ++k) {
    const double m = masses[k];
    if (!(std::isfinite(m) && m > 0)) continue;  // no weight for a massless or broken candidate
    const double d = m * m - M2;
    sum += w[k] = m / (d * d + MG * MG);
  }
  if (sum > 0)
    for (double& x : w) x /= sum;  // else every weight is zero: the caller's estimate is NaN
  return w;
}

std::array<double, 6> weightedComponentMedian(const std::vector<double>& candidates,
                                              const std::vector<double>& weights) {
  const std::size_t K = weights.size();
  std::array<double, 6> out{};
  std::vector<double> col(K);
  for (int c = 0; c < 6; ++c) {
    for (std::size_t k = 0; k < K; ++k) col[k] = candidates[k * 6 + c];
    out[c] = weightedQuantile(col, weights, 0.5);
  }
  return out;
}

double tauMassReco(const double* vis4, const double* nu3) {
  const double eNu = std::sqrt(nu3[0] * nu3[0] + nu3[1] * nu3[1] + nu3[2] * nu3[2]);
  const double e = vis4[3] + eNu;
  const double px = vis4[0] + nu3[0], py = vis4[1] + nu3[1], pz = vis4[2] + nu3[2];
  const double m2 = e * e - px * px - py * py - pz * pz;
  return m2 >= 0 ? std::sqrt(m2) : -std::sqrt(-m2);
}

std::array<double, 6> selectCandidate(SelectionRule rule, const std::vector<double>& candidates,
                                      const std::vector<double>& scaled,
                                      const std::array<double, 8>& visP4,
                                      const std::array<bool, 2>& leptonic, double random) {
  const std::size_t K = candidates.size() / 6;
  std::array<double, 6> out{};
  auto pick = [&](std::size_t k) {
    for (int c = 0; c < 6; ++c) out[c] = candidates[k * 6 + c];
  };
  switch (rule) {
    case SelectionRule::Random:
      pick(std::min(K - 1, static_cast<std::size_t>(random * static_cast<double>(K))));
      break;
    case SelectionRule::Median: {
      std::vector<std::size_t> all(K);
      std::iota(all.begin(), all.end(), std::size_t{0});
      out = componentMedian(candidates, all);
      break;
    }
    case SelectionRule::MassMode: {
      // The posterior of m_tautau is skewed to high masses: its median lies above the truth where
      // the training prior is flat, its mode does not (docs/ml.md "Mass-mode point estimate").
      const std::vector<double> masses = candidatePairMasses(candidates, visP4);
      std::vector<std::size_t> order(K);
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return masses[a] < masses[b]; });
      const std::size_t half = (K + 1) / 2;
      std::size_t first = 0;
      double narrowest = std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i + half <= K; ++i) {
        const double width = masses[order[i + half - 1]] - masses[order[i]];
        if (width < narrowest) {
          narrowest = width;
          first = i;
        }
      }
      out = componentMedian(candidates, std::vector<std::size_t>(order.begin() + first,
                                                                 order.begin() + first + half));
      break;
    }
    case SelectionRule::Medoid: {
      std::size_t best = 0;
      double bestSum = std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < K; ++k) {
        double sum = 0;
        for (std::size_t l = 0; l < K; ++l) {
          double d2 = 0;
          for (int c = 0; c < 6; ++c) {
            const double d = scaled[k * 6 + c] - scaled[l * 6 + c];
            d2 += d * d;
          }
          sum += std::sqrt(d2);
        }
        if (sum < bestSum) {
          bestSum = sum;
          best = k;
        }
      }
      pick(best);
      break;
    }
    case SelectionRule::TauMass: {
      std::size_t best = 0;
      double bestCost = std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < K; ++k) {
        double cost = 0;
        for (int t = 0; t < 2; ++t) {
          const double m = tauMassReco(&visP4[4 * t], &candidates[k * 6 + 3 * t]);
          const double dm = m - constants::mTau;
          // Leptonic decays: E = |p| underestimates the nu-nu energy, so m_reco is a lower
          // bound of the true mass: penalise only m_reco > m_tau (docs/ml-methods.md section 7).
          cost += leptonic[t] ? std::max(0.0, dm) : std::abs(dm);
        }
        if (cost < bestCost) {
          bestCost = cost;
          best = k;
        }
      }
      pick(best);
      break;
    }
  }
  return out;
}

double crpsEnsemble(const std::vector<double>& x, double y) {
  const std::size_t K = x.size();
  if (K < 2) throw ConfigError("crpsEnsemble: need at least 2 samples");
  double a = 0, b = 0;
  for (std::size_t k = 0; k < K; ++k) {
    a += std::abs(x[k] - y);
    for (std::size_t l = 0; l < K; ++l) b += std::abs(x[k] - x[l]);
  }
  const double dk = static_cast<double>(K);
  return a / dk - b / (2 * dk * (dk - 1));
}

double crpsGaussian(double m, double s, double y) {
  const double z = (y - m) / s;
  const double Phi = 0.5 * std::erfc(-z / std::sqrt(2.0));
  const double phi = std::exp(-0.5 * z * z) / std::sqrt(2 * constants::pi);
  return s * (z * (2 * Phi - 1) + 2 * phi - 1 / std::sqrt(constants::pi));
}

int rankOf(const std::vector<double>& samples, double y) {
  int r = 0;
  for (double v : samples) r += v < y ? 1 : 0;
  return r;
}

}  // namespace nurec::ml
