#include "nurec/quantum/Calibration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::quantum {

void CalibrationConfig::validate() const {
  require(targets >= kNumSpinParameters + 1,
          fmt::format("calibration: need at least {} target states, got {}", kNumSpinParameters + 1,
                      targets));
  require(mixing > 0 && mixing <= 1,
          fmt::format("calibration: mixing must be in (0, 1], got {}", mixing));
  require(minW > 0 && minW < 1, "calibration: minW must be in (0, 1)");
  require(bootstrapReplicas >= 0 && bootstrapReplicas <= 1000,
          "calibration: bootstrap replicas must be in [0, 1000]");
  require(threads >= 0, "calibration: threads must be >= 0");
}

double jointWeight(const AnalyserEvent& e, const SpinState& s) {
  double bp = 0, bm = 0, cc = 0;
  for (int i = 0; i < 3; ++i) {
    bp += s.bPlus[i] * e.xPlus[i];
    bm += s.bMinus[i] * e.xMinus[i];
    for (int j = 0; j < 3; ++j) cc += e.xPlus[i] * s.c[i][j] * e.xMinus[j];
  }
  return 1 - e.kappaPlus * bp + e.kappaMinus * bm - e.kappaPlus * e.kappaMinus * cc;
}

std::vector<SpinState> randomTargetStates(int n, std::uint64_t seed) {
  std::vector<SpinState> out;
  for (int m = 0; m < n; ++m) {
    Rng rng(seed, static_cast<std::uint64_t>(m), streams::quantum);
    Eigen::Matrix4cd g;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) g(i, j) = {rng.normal(), rng.normal()};
    Eigen::Matrix4cd rho = g * g.adjoint();
    out.push_back(spinStateOf(rho / rho.trace().real()));
  }
  return out;
}

std::vector<AnalyserEvent> truthPolarimeters(const io::EventTable& table) {
  // One row per event; the truth analysers with the full-power lepton (neutrino) analyser.
  AnalyserConfig cfg;
  cfg.method = "truth";
  cfg.lepton = LeptonAnalyser::Neutrino;
  cfg.requireSignalRegion = false;
  std::vector<AnalyserEvent> out(table.nEvents());
  for (std::size_t i = 0; i < out.size(); ++i) out[i].row = i;
  // Events with an "other" decay on one side keep kappa = 0 there (H = 0 in the generator).
  const auto truth = io::getTruth(table);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto& ev = truth[i];
    if (!(ev.tau[0].m2() > 0 && ev.tau[1].m2() > 0)) continue;
    const HelicityBasis basis(ev.tau[0], ev.tau[1]);
    for (int t = 0; t < 2; ++t) {
      TauAnalyser a;
      switch (ev.decayMode[t]) {
        case DecayMode::Pi:
          a = pionAnalyser(basis, t, ev.chargedPion[t]);
          break;
        case DecayMode::Rho:
          a = rhoPolarimeterAnalyser(basis, t, ev.chargedPion[t], ev.neutralPion[t],
                                     ev.tau[t] - ev.chargedPion[t] - ev.neutralPion[t]);
          break;
        case DecayMode::Electron:
        case DecayMode::Muon:
          for (const auto& p : ev.tauNeutrinos[t]) {
            const int ab = std::abs(p.pdgId);
            if ((ab == pdg::nuE || ab == pdg::nuMu) && ((t == 1) == (p.pdgId < 0)))
              a = neutrinoAnalyser(basis, t, p.p4);
          }
          break;
        case DecayMode::Other:
          break;
      }
      (t == 0 ? out[i].xPlus : out[i].xMinus) = a.x;
      (t == 0 ? out[i].kappaPlus : out[i].kappaMinus) = a.kappa;
    }
  }
  return out;
}

SpinTruth spinTruthOf(const io::EventTable& table) {
  if (!table.has(io::ds::spinB) || !table.has(io::ds::spinC)) return SpinTruth::Unknown;
  if (table.hasAttribute(io::kSpinTruthAttribute) &&
      table.stringAttribute(io::kSpinTruthAttribute) == io::kSpinTruthUnknown)
    return SpinTruth::Unknown;
  const auto b = table.get<double>(io::ds::spinB, {2, 3});
  const auto c = table.get<double>(io::ds::spinC, {3, 3});
  const auto nonZero = [](double v) { return v != 0; };
  if (std::none_of(b.begin(), b.end(), nonZero) && std::none_of(c.begin(), c.end(), nonZero))
    return SpinTruth::Unknown;
  return SpinTruth::Known;
}

std::vector<SpinState> productionStates(const io::EventTable& table) {
  if (spinTruthOf(table) == SpinTruth::Unknown)
    throw InputError(fmt::format(
        "{}: the per-event spin state ({}, {}) is unknown (absent, marked unknown, or all zero as "
        "in files simulated from HepMC3 input); a calibration or truth reference needs a sample "
        "from `nurec generate`",
        table.source(), io::ds::spinB, io::ds::spinC));
  const auto b = table.get<double>(io::ds::spinB, {2, 3});
  const auto c = table.get<double>(io::ds::spinC, {3, 3});
  std::vector<SpinState> out(table.nEvents());
  for (std::size_t i = 0; i < out.size(); ++i)
    for (int k = 0; k < 3; ++k) {
      out[i].bPlus[k] = b[i * 6 + k];
      out[i].bMinus[k] = b[i * 6 + 3 + k];
      for (int j = 0; j < 3; ++j) out[i].c[k][j] = c[i * 9 + 3 * k + j];
    }
  return out;
}

CalibrationInput prepareCalibration(const io::EventTable& table, const AnalyserConfig& cfg) {
  CalibrationInput in;
  in.production = productionStates(table);
  in.polarimeters = truthPolarimeters(table);
  in.reco = buildAnalysers(table, cfg).events;
  return in;
}

Calibration::Fit Calibration::fit(const CalibrationInput& in, const std::vector<std::size_t>& idx,
                                  const std::vector<double>& mult,
                                  const std::vector<SpinState>& targets,
                                  const CalibrationConfig& cfg, double* minNeffFraction) {
  const int nT = static_cast<int>(targets.size()) + 1;  // + the nominal (r = 1)
  Eigen::MatrixXd x(nT, kNumSpinParameters + 1), y(nT, kNumSpinParameters);
  std::vector<AnalyserEvent> events;
  events.reserve(idx.size());
  for (std::size_t k : idx) events.push_back(in.reco[k]);
  double minFrac = 1;
  for (int m = 0; m < nT; ++m) {
    std::vector<double> r(events.size());
    SpinVector trueSum = SpinVector::Zero();
    double trueW = 0, sumR = 0, sumR2 = 0, sumM = 0;
    for (std::size_t e = 0; e < events.size(); ++e) {
      const std::size_t row = events[e].row;
      const SpinState& s = in.production[row];
      SpinVector target = toVector(s);
      double w = 1;
      if (m > 0) {
        const SpinState& t = targets[m - 1];
        const AnalyserEvent& h = in.polarimeters[row];
        const double w0 = std::max(cfg.minW, jointWeight(h, s));
        w = (1 - cfg.mixing) + cfg.mixing * std::max(0.0, jointWeight(h, t)) / w0;
        target = (1 - cfg.mixing) * target + cfg.mixing * toVector(t);
      }
      r[e] = w * mult[idx[e]];
      const double g = r[e] * events[e].weight * termsOf(events[e]).w2;
      trueSum += g * target;
      trueW += g;
      sumR += r[e];
      sumR2 += r[e] * w;
      sumM += mult[idx[e]];
    }
    if (!(trueW > 0)) return {};
    if (sumR2 > 0 && sumM > 0) minFrac = std::min(minFrac, sumR * sumR / sumR2 / sumM);
    SpinVector reco;
    try {
      reco = toVector(estimateSpin(events, r, false).value);
    } catch (const InputError&) {
      return {};
    }
    x.row(m).head<kNumSpinParameters>() = (trueSum / trueW).transpose();
    x(m, kNumSpinParameters) = 1;
    y.row(m) = reco.transpose();
  }
  if (minNeffFraction) *minNeffFraction = minFrac;
  Fit f;
  if (cfg.model == CalibrationConfig::Model::Diagonal) {
    f.response.setZero();
    for (int a = 0; a < kNumSpinParameters; ++a) {
      Eigen::MatrixXd xa(nT, 2);
      xa.col(0) = x.col(a);
      xa.col(1).setOnes();
      const Eigen::Vector2d c = xa.colPivHouseholderQr().solve(y.col(a));
      f.response(a, a) = c(0);
      f.offset(a) = c(1);
    }
  } else {
    const Eigen::MatrixXd coef = x.colPivHouseholderQr().solve(y);  // (16 x 15)
    f.response = coef.topRows(kNumSpinParameters).transpose();
    f.offset = coef.row(kNumSpinParameters).transpose();
  }
  // Invertible and not degenerate: condition number below 1e8 (a determinant test is useless
  // for a 15 x 15 matrix with entries ~0.1).
  if (!f.response.allFinite() || !f.offset.allFinite()) return f;
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(f.response);
  const auto& sv = svd.singularValues();
  f.ok = sv(0) > 0 && sv(sv.size() - 1) > 1e-8 * sv(0);
  return f;
}

Calibration::Calibration(const CalibrationInput& in, const CalibrationConfig& cfg, Channel channel,
                         RowSubset subset) {
  cfg.validate();
  std::vector<std::size_t> idx;
  for (std::size_t k = 0; k < in.reco.size(); ++k) {
    const auto& e = in.reco[k];
    if (channel != Channel::None && e.channel != channel) continue;
    if (subset == RowSubset::Even && e.row % 2 != 0) continue;
    if (subset == RowSubset::Odd && e.row % 2 != 1) continue;
    if (e.row >= in.production.size() || e.row >= in.polarimeters.size())
      throw Error("internal: calibration row outside the truth arrays");
    idx.push_back(k);
  }
  nEvents_ = idx.size();
  if (idx.size() < 100) return;  // too few events for a 15 x 15 response: invalid
  const auto targets = randomTargetStates(cfg.targets, cfg.seed);
  const std::vector<double> ones(in.reco.size(), 1.0);
  const Fit nominal = fit(in, idx, ones, targets, cfg, &minNeffFraction_);
  if (!nominal.ok) return;
  response_ = nominal.response;
  offset_ = nominal.offset;
  inverse_ = response_.inverse();
  replicas_.resize(cfg.bootstrapReplicas);
  parallelFor(replicas_.size(), cfg.threads, [&](std::size_t b) {
    Rng rng(cfg.seed + 1, b, streams::quantum);
    std::vector<double> mult(in.reco.size(), 0.0);
    for (std::size_t k = 0; k < idx.size(); ++k) mult[idx[rng.below(idx.size())]] += 1;
    replicas_[b] = fit(in, idx, mult, targets, cfg, nullptr);
  });
  std::erase_if(replicas_, [](const Fit& f) { return !f.ok; });
  valid_ = true;
}

Calibration::Calibration(const ResponseFit& nominal, std::vector<ResponseFit> replicas,
                         std::size_t nEvents, double minNeffFraction)
    : replicas_(std::move(replicas)), nEvents_(nEvents), minNeffFraction_(minNeffFraction) {
  if (!nominal.ok || !nominal.response.allFinite() || !nominal.offset.allFinite()) return;
  response_ = nominal.response;
  offset_ = nominal.offset;
  inverse_ = response_.inverse();
  std::erase_if(replicas_, [](const Fit& f) { return !f.ok; });
  valid_ = true;
}

double Calibration::conditionNumber() const {
  if (!valid_) return std::numeric_limits<double>::infinity();
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(response_);
  const auto& sv = svd.singularValues();
  return sv(sv.size() - 1) > 0 ? sv(0) / sv(sv.size() - 1)
                               : std::numeric_limits<double>::infinity();
}

SpinVector Calibration::apply(const SpinVector& reco) const {
  return inverse_ * (reco - offset_);
}

SpinCovariance Calibration::propagate(const SpinCovariance& reco) const {
  return inverse_ * reco * inverse_.transpose();
}

SpinCovariance Calibration::calibrationCovariance(const SpinVector& reco) const {
  SpinCovariance cov = SpinCovariance::Zero();
  if (replicas_.size() < 2) return cov;
  std::vector<SpinVector> vals;
  SpinVector mean = SpinVector::Zero();
  for (const auto& f : replicas_) {
    vals.push_back(f.response.inverse() * (reco - f.offset));
    mean += vals.back();
  }
  mean /= static_cast<double>(vals.size());
  for (const auto& v : vals) cov += (v - mean) * (v - mean).transpose();
  return cov / static_cast<double>(vals.size() - 1);
}

}  // namespace nurec::quantum
