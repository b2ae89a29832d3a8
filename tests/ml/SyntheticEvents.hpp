#pragma once
// A toy event table in the /reco/particles data contract (docs/data-format.md) for the ML tests:
// two visible taus, neutrinos collinear with them carrying a random fraction, MET = sum of the
// neutrino pT plus resolution. The conditional distribution is learnable, and exact symmetry
// under z-rotations holds by construction.
#include <cmath>
#include <cstdint>
#include <vector>

#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/EventTable.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::ml::testing {

inline void fillSlot(float* f, double px, double py, double pz, double e, double charge, int type,
                     bool met = false) {
  const double pt = std::hypot(px, py);
  f[0] = static_cast<float>(std::log(pt));
  f[1] = met ? 0.0f : static_cast<float>(std::asinh(pz / pt));
  f[2] = static_cast<float>(std::atan2(py, px));
  f[3] = static_cast<float>(std::log(met ? pt : e));
  f[4] = static_cast<float>(charge);
  for (int t = 0; t < 6; ++t) f[5 + t] = t == type ? 1.0f : 0.0f;
  f[11] = static_cast<float>(px / 50);
  f[12] = static_cast<float>(py / 50);
}

inline io::EventTable makeSyntheticEvents(std::size_t n, std::uint64_t seed) {
  constexpr std::size_t P = 10, F = 13;
  std::vector<float> particles(n * P * F, 0.0f);
  std::vector<std::uint8_t> mask(n * P, 0), sr(n, 1);
  std::vector<std::int8_t> channel(n);
  std::vector<double> tau(n * 8), nu(n * 8), weight(n, 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(seed, i, 99);
    const int ch = static_cast<int>(rng.below(7));
    channel[i] = static_cast<std::int8_t>(ch);
    // channel -> (tau+ type, tau- type): 0 pi, 1 rho, 2 e, 3 mu (data-format.md channel list)
    static const int types[7][2] = {{0, 0}, {2, 0}, {3, 0}, {0, 1}, {2, 1}, {3, 1}, {1, 1}};
    const double phi0 = rng.uniform(-constants::pi, constants::pi);
    double metx = 0, mety = 0;
    for (int k = 0; k < 2; ++k) {
      const double pt = 20 + rng.exponential(15);
      const double eta = rng.uniform(-2.3, 2.3);
      const double phi = phi0 + k * constants::pi + rng.normal(0, 0.3);
      const double px = pt * std::cos(phi), py = pt * std::sin(phi), pz = pt * std::sinh(eta);
      const double p = std::sqrt(pt * pt + pz * pz);
      for (int c = 0; c < 3; ++c) tau[i * 8 + k * 4 + c] = c == 0 ? px : (c == 1 ? py : pz);
      tau[i * 8 + k * 4 + 3] = std::sqrt(p * p + 0.5);
      const int type = types[ch][k];
      const double frac = (type >= 2 ? 0.6 : 0.25) + rng.uniform(0.0, 0.8);
      for (int c = 0; c < 3; ++c) nu[i * 8 + k * 4 + c] = frac * tau[i * 8 + k * 4 + c];
      nu[i * 8 + k * 4 + 3] = frac * p;
      metx += frac * px;
      mety += frac * py;
      const double charge = k == 0 ? 1 : -1;
      float* f = &particles[(i * P + 2 * k) * F];
      const int oneHot = type == 2 ? 2 : (type == 3 ? 3 : 0);
      if (type == 1) {  // rho: split into a track and a pi0 cluster
        const double x = rng.uniform(0.2, 0.8);
        fillSlot(f, x * px, x * py, x * pz, x * p, charge, 0);
        fillSlot(f + F, (1 - x) * px, (1 - x) * py, (1 - x) * pz, (1 - x) * p, 0, 1);
        mask[i * P + 2 * k] = mask[i * P + 2 * k + 1] = 1;
      } else {
        fillSlot(f, px, py, pz, p, charge, oneHot);
        mask[i * P + 2 * k] = 1;
      }
    }
    const int nJets = static_cast<int>(rng.below(3));
    for (int j = 0; j < nJets; ++j) {
      const double pt = 25 + rng.exponential(20), eta = rng.uniform(-4, 4);
      const double phi = rng.uniform(-constants::pi, constants::pi);
      fillSlot(&particles[(i * P + 4 + j) * F], pt * std::cos(phi), pt * std::sin(phi),
               pt * std::sinh(eta), pt * std::cosh(eta), 0, 4);
      mask[i * P + 4 + j] = 1;
    }
    metx += rng.normal(0, 5);
    mety += rng.normal(0, 5);
    fillSlot(&particles[(i * P + 9) * F], metx, mety, 0, 0, 0, 5, true);
    mask[i * P + 9] = 1;
  }
  io::EventTable t(n);
  t.set(io::ds::recoParticles, {P, F}, std::move(particles));
  t.set(io::ds::recoParticlesMask, {P}, std::move(mask));
  t.set(io::ds::recoChannel, {}, std::move(channel));
  t.set(io::ds::recoPassSr, {}, std::move(sr));
  t.set(io::ds::recoTauP4, {2, 4}, std::move(tau));
  t.set(io::ds::nuP4, {2, 4}, std::move(nu));
  t.set(io::ds::weight, {}, std::move(weight));
  return t;
}

// Adds /reco/primary_vertex, /reco/track_ip and /reco/sum_et to a table of makeSyntheticEvents.
// The d0 of each tau candidate's track encodes its neutrino fraction |p_nu|/|p_vis| (not
// otherwise visible but through the MET), so a model that reads the impact parameters can do
// better than one that does not; sum_et is random.
inline void addImpactParametersAndActivity(io::EventTable& t, std::uint64_t seed) {
  const std::size_t n = t.nEvents();
  const auto tau = t.get<double>(io::ds::recoTauP4, {2, 4});
  const auto nu = t.get<double>(io::ds::nuP4, {2, 4});
  std::vector<double> pv(n * 3, 0.0), ip(n * 8, 0.0), sumEt(n);
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(seed, i, 98);
    for (int k = 0; k < 2; ++k) {
      const double* v = &tau[i * 8 + k * 4];
      const double frac =
          nu[i * 8 + k * 4 + 3] / std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      double* d = &ip[i * 8 + k * 4];
      d[0] = 0.2 * (frac - 0.65);  // d0, mm
      d[1] = rng.normal(0, 0.05);  // z0, mm
      d[2] = 0.01 + rng.uniform(0.0, 0.01);
      d[3] = 0.04;
    }
    sumEt[i] = 100 + rng.exponential(80);
  }
  t.set(io::ds::recoPrimaryVertex, {3}, std::move(pv));
  t.set(io::ds::recoTrackIp, {2, 4}, std::move(ip));
  t.set(io::ds::recoSumEt, {}, std::move(sumEt));
}

}  // namespace nurec::ml::testing
