#include "nurec/reco/ConstructedEvents.hpp"

#include <algorithm>
#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::reco {

namespace {

using constants::mTau;
using constants::pi;

Vector3 isotropic(Rng& rng) {
  const double c = 2 * rng.uniform() - 1, phi = 2 * pi * rng.uniform();
  const double s = std::sqrt(std::max(0.0, 1 - c * c));
  return {s * std::cos(phi), s * std::sin(phi), c};
}

double twoBodyMomentum(double m, double m1, double m2) {
  const double a = (m * m - (m1 + m2) * (m1 + m2)) * (m * m - (m1 - m2) * (m1 - m2));
  return std::sqrt(std::max(0.0, a)) / (2 * m);
}

// Isotropic two-body decay of a particle of mass m at rest into masses m1, m2.
std::pair<FourVector, FourVector> twoBody(double m, double m1, double m2, Rng& rng) {
  const double p = twoBodyMomentum(m, m1, m2);
  const Vector3 d = isotropic(rng) * p;
  return {FourVector::fromMomentumMass(d, m1), FourVector::fromMomentumMass(-d, m2)};
}

DecayMode sampleMode(Rng& rng) {
  // PDG branching fractions (docs/physics.md section 1).
  const double r = rng.uniform();
  if (r < 0.1082) return DecayMode::Pi;
  if (r < 0.1082 + 0.2549) return DecayMode::Rho;
  if (r < 0.1082 + 0.2549 + 0.1782) return DecayMode::Electron;
  if (r < 0.1082 + 0.2549 + 0.1782 + 0.1739) return DecayMode::Muon;
  return DecayMode::Other;
}

std::array<DecayMode, 2> channelModes(int channel) {
  using D = DecayMode;
  switch (channel) {
    case 0:
      return {D::Pi, D::Pi};
    case 1:
      return {D::Electron, D::Pi};
    case 2:
      return {D::Muon, D::Pi};
    case 3:
      return {D::Pi, D::Rho};
    case 4:
      return {D::Electron, D::Rho};
    case 5:
      return {D::Muon, D::Rho};
    default:
      return {D::Rho, D::Rho};
  }
}

int sampleChannel(Rng& rng) {
  constexpr double fractions[7] = {0.0117, 0.0386, 0.0376, 0.0552, 0.0908, 0.0887, 0.0650};
  double total = 0;
  for (double f : fractions) total += f;
  double r = rng.uniform() * total;
  for (int c = 0; c < 7; ++c) {
    if (r < fractions[c]) return c;
    r -= fractions[c];
  }
  return 6;
}

struct RestDecay {
  FourVector visible, neutrinos, charged, neutral;
};

// Decay of a tau at rest with flat phase space.
RestDecay decayAtRest(DecayMode mode, Rng& rng) {
  RestDecay d;
  switch (mode) {
    case DecayMode::Pi: {
      auto [vis, nu] = twoBody(mTau, constants::mPiCharged, 0, rng);
      d.visible = d.charged = vis;
      d.neutrinos = nu;
      break;
    }
    case DecayMode::Rho:
    case DecayMode::Other: {
      double mVis;
      if (mode == DecayMode::Rho) {
        // Breit-Wigner (Cauchy) line shape truncated to the phase space.
        const double lo = constants::mPiCharged + constants::mPiNeutral, hi = mTau - 0.02;
        do {
          mVis = constants::mRho + 0.5 * constants::gammaRho * std::tan(pi * (rng.uniform() - 0.5));
        } while (mVis < lo || mVis > hi);
      } else {
        mVis = rng.uniform(0.45, 1.6);
      }
      auto [vis, nu] = twoBody(mTau, mVis, 0, rng);
      d.visible = vis;
      d.neutrinos = nu;
      auto [c, n] = twoBody(mVis, constants::mPiCharged, constants::mPiNeutral, rng);
      d.charged = c.fromRestFrameOf(vis);
      d.neutral = n.fromRestFrameOf(vis);
      break;
    }
    case DecayMode::Electron:
    case DecayMode::Muon: {
      const double ml = mode == DecayMode::Electron ? constants::mElectron : constants::mMuon;
      // Flat three-body phase space: s = m_nunu^2 with density proportional to p*(tau -> l X(s)).
      const double sMax = (mTau - ml) * (mTau - ml);
      const double pMax = twoBodyMomentum(mTau, ml, 0);
      double s;
      do {
        s = sMax * rng.uniform();
      } while (twoBodyMomentum(mTau, ml, std::sqrt(s)) < pMax * rng.uniform());
      auto [l, x] = twoBody(mTau, ml, std::sqrt(s), rng);
      d.visible = l;
      d.neutrinos = x;
      break;
    }
  }
  return d;
}

RecoTauType recoType(DecayMode m) {
  switch (m) {
    case DecayMode::Pi:
      return RecoTauType::Pi;
    case DecayMode::Rho:
      return RecoTauType::Rho;
    case DecayMode::Electron:
      return RecoTauType::Electron;
    case DecayMode::Muon:
      return RecoTauType::Muon;
    case DecayMode::Other:
      return RecoTauType::None;
  }
  return RecoTauType::None;
}

Channel channelOf(RecoTauType a, RecoTauType b) {
  using T = RecoTauType;
  auto is = [&](T x, T y) { return (a == x && b == y) || (a == y && b == x); };
  if (is(T::Pi, T::Pi)) return Channel::PiPi;
  if (is(T::Electron, T::Pi)) return Channel::EPi;
  if (is(T::Muon, T::Pi)) return Channel::MuPi;
  if (is(T::Pi, T::Rho)) return Channel::PiRho;
  if (is(T::Electron, T::Rho)) return Channel::ERho;
  if (is(T::Muon, T::Rho)) return Channel::MuRho;
  if (is(T::Rho, T::Rho)) return Channel::RhoRho;
  return Channel::None;
}

ConstructedEvent makeOne(const ConstructedEventsConfig& c, Rng& rng) {
  ConstructedEvent ev;
  TruthEvent& t = ev.truth;
  // Boson.
  double m = c.bosonMassGeV;
  if (c.bosonWidthGeV > 0) {
    do {
      m = c.bosonMassGeV + 0.5 * c.bosonWidthGeV * std::tan(pi * (rng.uniform() - 0.5));
    } while (m < 0.5 * c.bosonMassGeV || m > 1.5 * c.bosonMassGeV);
  }
  const double pt = c.bosonMeanPtGeV > 0 ? rng.exponential(c.bosonMeanPtGeV) : 0.0;
  const double phi = 2 * pi * rng.uniform();
  const double y = rng.uniform(-c.bosonMaxRapidity, c.bosonMaxRapidity);
  const double mt = std::sqrt(m * m + pt * pt);
  t.boson = {pt * std::cos(phi), pt * std::sin(phi), mt * std::sinh(y), mt * std::cosh(y)};
  t.weightPb = 1;
  // Decay modes; index 0 is the tau+.
  std::array<DecayMode, 2> modes;
  if (c.channel == -2) {
    modes = {sampleMode(rng), sampleMode(rng)};
  } else {
    modes = channelModes(c.channel >= 0 ? c.channel : sampleChannel(rng));
    if (rng.uniform() < 0.5) std::swap(modes[0], modes[1]);
  }
  t.decayMode = modes;
  const double mTauHere = c.collinearDecays ? 0.0 : mTau;
  auto [tau0, tau1] = twoBody(m, mTauHere, mTauHere, rng);
  const std::array<FourVector, 2> tauRest{tau0, tau1};
  for (int k = 0; k < 2; ++k) {
    t.tau[k] = tauRest[k].fromRestFrameOf(t.boson);
    if (c.collinearDecays) {
      const double x = rng.uniform(0.05, 1.0);
      t.visible[k] = t.tau[k] * x;
      t.neutrinos[k] = t.tau[k] * (1 - x);
      t.chargedPion[k] = t.visible[k];
    } else {
      const RestDecay d = decayAtRest(modes[k], rng);
      t.visible[k] = d.visible.fromRestFrameOf(t.tau[k]);
      t.neutrinos[k] = d.neutrinos.fromRestFrameOf(t.tau[k]);
      if (modes[k] == DecayMode::Pi || modes[k] == DecayMode::Rho) {
        t.chargedPion[k] = d.charged.fromRestFrameOf(t.tau[k]);
        if (modes[k] == DecayMode::Rho) t.neutralPion[k] = d.neutral.fromRestFrameOf(t.tau[k]);
      }
    }
  }
  // Reconstructed view.
  RecoEvent& r = ev.reco;
  double metX = 0, metY = 0;
  for (int k = 0; k < 2; ++k) {
    const double scale =
        c.visibleResolution > 0 ? std::max(0.1, 1 + c.visibleResolution * rng.normal()) : 1.0;
    r.tau[k] = t.visible[k] * scale;
    r.tauType[k] = recoType(modes[k]);
    if (r.tauType[k] == RecoTauType::Pi || r.tauType[k] == RecoTauType::Rho) {
      r.charged[k] = t.chargedPion[k] * scale;
      r.neutral[k] = t.neutralPion[k] * scale;
    }
    metX += t.neutrinos[k].px + t.visible[k].px - r.tau[k].px;
    metY += t.neutrinos[k].py + t.visible[k].py - r.tau[k].py;
  }
  if (c.metNoiseGeV > 0) {
    metX += c.metNoiseGeV * rng.normal();
    metY += c.metNoiseGeV * rng.normal();
  }
  r.metX = metX;
  r.metY = metY;
  r.sumEt = c.sumEtGeV;
  r.channel = channelOf(r.tauType[0], r.tauType[1]);
  r.passTrigger = r.passSr = r.channel != Channel::None;
  return ev;
}

}  // namespace

std::vector<ConstructedEvent> constructEvents(const ConstructedEventsConfig& c, std::size_t n,
                                              std::uint64_t seed) {
  require(c.channel >= -2 && c.channel <= 6, "ConstructedEventsConfig.channel must be in [-2, 6]");
  require(c.bosonMassGeV > 2 * mTau, "ConstructedEventsConfig.bosonMassGeV must exceed 2 m_tau");
  std::vector<ConstructedEvent> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(seed, i, streams::reco);
    for (int attempt = 0;; ++attempt) {
      out[i] = makeOne(c, rng);
      if (std::min(out[i].reco.tau[0].pt(), out[i].reco.tau[1].pt()) >= c.minVisiblePtGeV) break;
      if (attempt > 100000) throw ConfigError("constructEvents: minVisiblePtGeV never reached");
    }
  }
  return out;
}

io::EventTable constructedTable(const std::vector<ConstructedEvent>& events) {
  io::EventTable table(events.size());
  std::vector<TruthEvent> truth;
  std::vector<RecoEvent> reco;
  truth.reserve(events.size());
  reco.reserve(events.size());
  for (const auto& e : events) {
    truth.push_back(e.truth);
    reco.push_back(e.reco);
  }
  io::putTruth(table, truth);
  io::putReco(table, reco);
  return table;
}

}  // namespace nurec::reco
