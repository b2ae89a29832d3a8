#include "nurec/quantum/Analysers.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/ToySampler.hpp"

namespace nurec::quantum {

namespace {

Vec3 componentsOf(const HelicityBasis& basis, const Vector3& v) {
  const Vector3 c = basis.components(v.unit());
  return {c.x, c.y, c.z};
}

bool finite4(const FourVector& v) {
  return std::isfinite(v.px) && std::isfinite(v.py) && std::isfinite(v.pz) && std::isfinite(v.e);
}

// A pair whose taus can define the helicity basis: timelike, non-degenerate.
bool usablePair(const FourVector& plus, const FourVector& minus) {
  if (!finite4(plus) || !finite4(minus)) return false;
  const FourVector pair = plus + minus;
  return plus.m2() > 0 && minus.m2() > 0 && pair.m2() > 0 && plus.e > 0 && minus.e > 0;
}

bool isLepton(int pdg) {
  const int a = std::abs(pdg);
  return a == pdg::electron || a == pdg::muon;
}

}  // namespace

LeptonAnalyser parseLeptonAnalyser(const std::string& s) {
  if (s == "direction") return LeptonAnalyser::Direction;
  if (s == "energy") return LeptonAnalyser::DirectionEnergy;
  if (s == "neutrino") return LeptonAnalyser::Neutrino;
  throw ConfigError(fmt::format("lepton analyser '{}': expected direction, energy or neutrino", s));
}

RhoAnalyser parseRhoAnalyser(const std::string& s) {
  if (s == "polarimeter") return RhoAnalyser::Polarimeter;
  if (s == "visible") return RhoAnalyser::VisibleDirection;
  throw ConfigError(fmt::format("rho analyser '{}': expected polarimeter or visible", s));
}

CandidateUse parseCandidateUse(const std::string& s) {
  if (s == "estimate") return CandidateUse::Estimate;
  if (s == "posterior-mean") return CandidateUse::PosteriorMean;
  throw ConfigError(
      fmt::format("candidate use '{}': expected auto, estimate or posterior-mean", s));
}

CandidateUse resolveCandidateUse(const std::string& s, const io::EventTable& table,
                                 const std::string& method) {
  if (s != "auto") return parseCandidateUse(s);
  return method != "truth" && numCandidates(table, method) > 1 ? CandidateUse::PosteriorMean
                                                               : CandidateUse::Estimate;
}

std::string candidateUseName(CandidateUse u) {
  return u == CandidateUse::Estimate ? "estimate" : "posterior-mean";
}

void AnalyserConfig::validate() const {
  require(!method.empty(), "spin: the reconstruction method name is empty");
  require(!(lepton == LeptonAnalyser::Neutrino && method != "truth"),
          "spin: the neutrino lepton analyser exists at truth level only (--method truth)");
  require(!(candidates == CandidateUse::PosteriorMean && method == "truth"),
          "spin: --candidates posterior-mean needs a method with candidates, not truth");
  require(!(candidates == CandidateUse::PosteriorMean && !neutrinoOverride.empty()),
          "spin: a neutrino override and the posterior mean exclude each other");
}

TauAnalyser pionAnalyser(const HelicityBasis& basis, int tauIndex, const FourVector& pion) {
  const FourVector p = basis.toTauRestFrame(pion, tauIndex);
  if (!(p.p() > 0)) return {};
  return {componentsOf(basis, p.vec()), 1.0};
}

TauAnalyser rhoPolarimeterAnalyser(const HelicityBasis& basis, int tauIndex,
                                   const FourVector& charged, const FourVector& neutral,
                                   const FourVector& nu) {
  // docs/physics.md section 6: all four-vectors in the tau rest frame.
  const Vector3 h =
      rhoPolarimeter(basis.toTauRestFrame(charged, tauIndex),
                     basis.toTauRestFrame(neutral, tauIndex), basis.toTauRestFrame(nu, tauIndex));
  if (!(h.mag() > 0) || !std::isfinite(h.mag())) return {};
  return {componentsOf(basis, h), 1.0};
}

TauAnalyser rhoVisibleAnalyser(const HelicityBasis& basis, int tauIndex,
                               const FourVector& visible) {
  const FourVector p = basis.toTauRestFrame(visible, tauIndex);
  if (!(p.p() > 0)) return {};
  const double m2 = std::max(0.0, visible.m2());
  const double mt2 = constants::mTau * constants::mTau;
  return {componentsOf(basis, p.vec()), (mt2 - 2 * m2) / (mt2 + 2 * m2)};
}

TauAnalyser leptonAnalyser(const HelicityBasis& basis, int tauIndex, const FourVector& lepton,
                           bool energyDependent) {
  const FourVector p = basis.toTauRestFrame(lepton, tauIndex);
  if (!(p.p() > 0)) return {};
  double kappa = -1.0 / 3.0;
  if (energyDependent) {
    // x = 2 E_l / m_tau in the tau rest frame (reconstructed tau mass at reco level).
    const FourVector tau = tauIndex == 0 ? basis.tauPlusInPair() : basis.tauMinusInPair();
    const double m = tau.m() > 0 ? tau.m() : constants::mTau;
    const double x = std::clamp(2 * p.e / m, 0.0, 1.0);
    kappa = leptonKappa(x);
  }
  return {componentsOf(basis, p.vec()), kappa};
}

TauAnalyser neutrinoAnalyser(const HelicityBasis& basis, int tauIndex, const FourVector& nu) {
  const FourVector p = basis.toTauRestFrame(nu, tauIndex);
  if (!(p.p() > 0)) return {};
  return {componentsOf(basis, p.vec()), 1.0};
}

Channel channelOfModes(DecayMode plus, DecayMode minus) {
  auto isLep = [](DecayMode m) { return m == DecayMode::Electron || m == DecayMode::Muon; };
  if (plus == DecayMode::Other || minus == DecayMode::Other) return Channel::None;
  if (isLep(plus) && isLep(minus)) return Channel::None;
  auto has = [&](DecayMode m) { return plus == m || minus == m; };
  const int nPi = (plus == DecayMode::Pi) + (minus == DecayMode::Pi);
  const int nRho = (plus == DecayMode::Rho) + (minus == DecayMode::Rho);
  if (nPi == 2) return Channel::PiPi;
  if (nRho == 2) return Channel::RhoRho;
  if (nPi == 1 && nRho == 1) return Channel::PiRho;
  if (nPi == 1) return has(DecayMode::Electron) ? Channel::EPi : Channel::MuPi;
  return has(DecayMode::Electron) ? Channel::ERho : Channel::MuRho;
}

namespace {

// Truth analyser of one tau.
TauAnalyser truthTau(const HelicityBasis& basis, int t, const TruthEvent& ev,
                     const AnalyserConfig& cfg) {
  switch (ev.decayMode[t]) {
    case DecayMode::Pi:
      return pionAnalyser(basis, t, ev.chargedPion[t]);
    case DecayMode::Rho:
      if (cfg.rho == RhoAnalyser::VisibleDirection)
        return rhoVisibleAnalyser(basis, t, ev.chargedPion[t] + ev.neutralPion[t]);
      return rhoPolarimeterAnalyser(basis, t, ev.chargedPion[t], ev.neutralPion[t],
                                    ev.tau[t] - ev.chargedPion[t] - ev.neutralPion[t]);
    case DecayMode::Electron:
    case DecayMode::Muon: {
      if (cfg.lepton == LeptonAnalyser::Neutrino) {
        // nubar_l for the tau- (pdg -12/-14), nu_l for the tau+ (+12/+14).
        for (const auto& p : ev.tauNeutrinos[t]) {
          const int a = std::abs(p.pdgId);
          if ((a == pdg::nuE || a == pdg::nuMu) && ((t == 1) == (p.pdgId < 0)))
            return neutrinoAnalyser(basis, t, p.p4);
        }
        return {};
      }
      for (const auto& p : ev.tauProducts[t])
        if (isLepton(p.pdgId))
          return leptonAnalyser(basis, t, p.p4, cfg.lepton == LeptonAnalyser::DirectionEnergy);
      // No products record: the visible system is the lepton.
      if (ev.visible[t].e > 0)
        return leptonAnalyser(basis, t, ev.visible[t],
                              cfg.lepton == LeptonAnalyser::DirectionEnergy);
      return {};
    }
    case DecayMode::Other:
      break;
  }
  return {};
}

TauAnalyser recoTau(const HelicityBasis& basis, int t, const RecoEvent& ev, const FourVector& nu,
                    const AnalyserConfig& cfg) {
  switch (ev.tauType[t]) {
    case RecoTauType::Pi:
      return pionAnalyser(basis, t, ev.charged[t].e > 0 ? ev.charged[t] : ev.tau[t]);
    case RecoTauType::Rho:
      if (cfg.rho == RhoAnalyser::VisibleDirection) return rhoVisibleAnalyser(basis, t, ev.tau[t]);
      // nu = tau - visible (the method's neutrino estimate).
      return rhoPolarimeterAnalyser(basis, t, ev.charged[t], ev.neutral[t],
                                    ev.tau[t] + nu - ev.charged[t] - ev.neutral[t]);
    case RecoTauType::Electron:
    case RecoTauType::Muon:
      return leptonAnalyser(basis, t, ev.tau[t], cfg.lepton == LeptonAnalyser::DirectionEnergy);
    case RecoTauType::None:
      break;
  }
  return {};
}

std::vector<std::uint8_t> selection(const io::EventTable& table, const AnalyserConfig& cfg) {
  std::vector<std::uint8_t> sel(table.nEvents(), 1);
  if (cfg.requireSignalRegion && table.has(io::ds::recoPassSr))
    sel = table.get<std::uint8_t>(io::ds::recoPassSr, {});
  return sel;
}

}  // namespace

AnalyserSet buildAnalysers(const io::EventTable& table, const AnalyserConfig& cfg) {
  cfg.validate();
  AnalyserSet out;
  out.method = cfg.method;
  out.nInput = table.nEvents();
  const auto sel = selection(table, cfg);
  // No silent unit weights: the estimators are weighted and the yields are sum(weights) x L, so
  // a file without /weight is an error for every method (the truth path needs it too).
  if (!table.has(io::ds::weight))
    throw InputError(fmt::format(
        "{}: dataset {} is missing: the spin measurement needs the per-event weights in pb "
        "(written by `nurec generate` and `nurec simulate`)",
        table.source(), io::ds::weight));
  const std::vector<double> weights = table.get<double>(io::ds::weight, {});
  auto push = [&](std::size_t i, double cosTheta, const TauAnalyser& plus, const TauAnalyser& minus,
                  Channel ch) {
    if (plus.kappa == 0 || minus.kappa == 0) {
      ++out.nNoAnalyser;
      return;
    }
    AnalyserEvent e;
    e.xPlus = plus.x;
    e.xMinus = minus.x;
    e.kappaPlus = plus.kappa;
    e.kappaMinus = minus.kappa;
    e.weight = weights[i];
    e.cosTheta = cosTheta;
    e.channel = ch;
    e.row = i;
    out.events.push_back(e);
  };
  if (cfg.method == "truth") {
    if (!table.has(io::ds::tauP4))
      throw InputError(fmt::format("{}: --method truth needs dataset {} (a generated sample)",
                                   table.source(), io::ds::tauP4));
    const auto truth = io::getTruth(table);
    for (std::size_t i = 0; i < truth.size(); ++i) {
      if (!sel[i]) continue;
      ++out.nSelected;
      const auto& ev = truth[i];
      const Channel ch = channelOfModes(ev.decayMode[0], ev.decayMode[1]);
      if (ch == Channel::None) {
        ++out.nNoAnalyser;
        continue;
      }
      if (!usablePair(ev.tau[0], ev.tau[1])) {
        ++out.nFailed;
        continue;
      }
      const HelicityBasis basis(ev.tau[0], ev.tau[1]);
      push(i, basis.cosTheta(), truthTau(basis, 0, ev, cfg), truthTau(basis, 1, ev, cfg), ch);
    }
    return out;
  }
  const std::string p4Name = io::nuP4Name(cfg.method);
  if (!table.has(p4Name)) {
    std::string have;
    for (const auto& m : io::nuMethods(table)) have += (have.empty() ? "" : ", ") + m;
    throw InputError(
        fmt::format("{}: no dataset {} (methods in the file: {}; or use --method truth)",
                    table.source(), p4Name, have.empty() ? "none" : have));
  }
  if (!table.has(io::ds::recoTauP4))
    throw InputError(fmt::format("{}: --method {} needs the /reco group (dataset {})",
                                 table.source(), cfg.method, io::ds::recoTauP4));
  const auto reco = io::getReco(table);
  io::NuEstimate nu = io::getNu(table, cfg.method);
  if (!cfg.neutrinoOverride.empty()) {
    if (cfg.neutrinoOverride.size() != table.nEvents())
      throw Error("internal: neutrino override size differs from the number of events");
    nu.p4 = cfg.neutrinoOverride;
  }
  // The analysers of one event for one neutrino pair; false when the taus are unusable.
  struct PairAnalysers {
    TauAnalyser plus, minus;
    double cosTheta = 0;
  };
  auto analysePair = [&](const RecoEvent& ev, const std::array<FourVector, 2>& nuPair,
                         PairAnalysers& a) {
    FourVector tauPlus = ev.tau[0] + nuPair[0], tauMinus = ev.tau[1] + nuPair[1];
    if (cfg.tauMassConstraint) {
      tauPlus = FourVector::fromMomentumMass(tauPlus.vec(), constants::mTau);
      tauMinus = FourVector::fromMomentumMass(tauMinus.vec(), constants::mTau);
    }
    const std::array<FourVector, 2> nuUsed{tauPlus - ev.tau[0], tauMinus - ev.tau[1]};
    if (!usablePair(tauPlus, tauMinus)) return false;
    const HelicityBasis basis(tauPlus, tauMinus);
    a.plus = recoTau(basis, 0, ev, nuUsed[0], cfg);
    a.minus = recoTau(basis, 1, ev, nuUsed[1], cfg);
    a.cosTheta = basis.cosTheta();
    return true;
  };
  const bool posterior = cfg.candidates == CandidateUse::PosteriorMean;
  const int nCand = posterior ? numCandidates(table, cfg.method) : 0;
  if (posterior && nCand == 0)
    throw InputError(fmt::format(
        "{}: --candidates posterior-mean needs dataset {} (reconstruct with --method diffusion)",
        table.source(), io::nuCandidatesName(cfg.method)));
  std::vector<float> cand;
  if (posterior)
    cand = table.get<float>(io::nuCandidatesName(cfg.method),
                            {static_cast<std::size_t>(nCand), 2, 3}, false);
  for (std::size_t i = 0; i < reco.size(); ++i) {
    if (!sel[i]) continue;
    ++out.nSelected;
    const auto& ev = reco[i];
    if (ev.channel == Channel::None) {
      ++out.nNoAnalyser;
      continue;
    }
    if (nu.status[i] != 0) {
      ++out.nFailed;
      continue;
    }
    if (!posterior) {
      PairAnalysers a;
      if (!analysePair(ev, nu.p4[i], a)) {
        ++out.nFailed;
        continue;
      }
      push(i, a.cosTheta, a.plus, a.minus, ev.channel);
      continue;
    }
    // Posterior mean: average the estimator terms over the usable candidates.
    AnalyserTerms sum;
    double cosSum = 0;
    int used = 0;
    for (int k = 0; k < nCand; ++k) {
      std::array<FourVector, 2> nuK;
      bool finite = true;
      for (int t = 0; t < 2; ++t) {
        const std::size_t o = ((i * nCand + k) * 2 + t) * 3;
        const Vector3 p{cand[o], cand[o + 1], cand[o + 2]};
        finite = finite && std::isfinite(p.mag());
        // Candidates are 3-momenta; the nominal estimate's mass (two neutrinos of a lepton).
        nuK[t] = FourVector::fromMomentumMass(p, std::max(0.0, nu.p4[i][t].m()));
      }
      PairAnalysers a;
      if (!finite || !analysePair(ev, nuK, a) || a.plus.kappa == 0 || a.minus.kappa == 0) continue;
      AnalyserEvent one;
      one.xPlus = a.plus.x;
      one.xMinus = a.minus.x;
      one.kappaPlus = a.plus.kappa;
      one.kappaMinus = a.minus.kappa;
      const AnalyserTerms t = termsOf(one);
      for (int r = 0; r < 3; ++r) {
        sum.kxPlus[r] += t.kxPlus[r];
        sum.kxMinus[r] += t.kxMinus[r];
        for (int c = 0; c < 3; ++c) sum.kkxx[r][c] += t.kkxx[r][c];
      }
      sum.k2Plus += t.k2Plus;
      sum.k2Minus += t.k2Minus;
      sum.w2 += t.w2;
      cosSum += a.cosTheta;
      ++used;
    }
    if (used == 0) {
      ++out.nFailed;
      continue;
    }
    const double f = 1.0 / used;
    for (int r = 0; r < 3; ++r) {
      sum.kxPlus[r] *= f;
      sum.kxMinus[r] *= f;
      for (int c = 0; c < 3; ++c) sum.kkxx[r][c] *= f;
    }
    sum.k2Plus *= f;
    sum.k2Minus *= f;
    sum.w2 *= f;
    AnalyserEvent e;
    e.kappaPlus = std::sqrt(sum.k2Plus);
    e.kappaMinus = std::sqrt(sum.k2Minus);
    e.weight = weights[i];
    e.cosTheta = cosSum * f;
    e.channel = ev.channel;
    e.row = i;
    e.averaged = sum;
    out.events.push_back(e);
  }
  return out;
}

int numCandidates(const io::EventTable& table, const std::string& method) {
  const std::string name = io::nuCandidatesName(method);
  if (!table.has(name)) return 0;
  const auto& shape = table.column(name).rowShape;
  if (shape.size() != 3 || shape[1] != 2 || shape[2] != 3)
    throw InputError(fmt::format("{}: dataset {} has the wrong shape, expected (N,K,2,3)",
                                 table.source(), name));
  return static_cast<int>(shape[0]);
}

std::vector<std::array<FourVector, 2>> candidateNeutrinos(const io::EventTable& table,
                                                          const std::string& method, int k,
                                                          std::uint64_t seed) {
  const int nCand = numCandidates(table, method);
  if (nCand == 0)
    throw InputError(
        fmt::format("{}: no dataset {}", table.source(), io::nuCandidatesName(method)));
  const auto cand = table.get<float>(io::nuCandidatesName(method),
                                     {static_cast<std::size_t>(nCand), 2, 3}, false);
  const io::NuEstimate nominal = io::getNu(table, method);
  std::vector<std::array<FourVector, 2>> out(table.nEvents());
  for (std::size_t i = 0; i < out.size(); ++i) {
    int kk = k;
    if (kk < 0) {
      Rng rng(seed, i, streams::quantum);
      kk = static_cast<int>(rng.below(static_cast<std::uint64_t>(nCand)));
    }
    for (int t = 0; t < 2; ++t) {
      const std::size_t o = ((i * nCand + kk) * 2 + t) * 3;
      const Vector3 p{cand[o], cand[o + 1], cand[o + 2]};
      // The candidates are 3-momenta; keep the nominal estimate's invariant mass (leptonic taus).
      const double m = std::max(0.0, nominal.p4[i][t].m());
      out[i][t] = std::isfinite(p.mag()) ? FourVector::fromMomentumMass(p, m) : nominal.p4[i][t];
    }
  }
  return out;
}

}  // namespace nurec::quantum
