#pragma once
// Tau decays with spin (docs/physics.md section 6): pi nu, rho nu (-> pi+- pi0 nu, Breit-Wigner
// line shape with energy-dependent width, full matrix element), e nu nu and mu nu nu (V-A), and
// "other" as phase-space nu + three pions (H = 0). Each decay is generated from its unpolarised
// distribution in the tau rest frame together with its polarimeter vector H; the spin density
// matrix of the pair is imposed by the correlated accept-reject of decayPair().
#include <array>
#include <cstdint>

#include "nurec/core/Event.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Vector3.hpp"

namespace nurec::generator {

// PDG branching fractions (docs/physics.md section 1), indexed by DecayMode; "other" = 1 - sum.
inline constexpr std::array<double, 5> kTauBranchingFractions = {
    0.1082, 0.2549, 0.1782, 0.1739, 1 - (0.1082 + 0.2549 + 0.1782 + 0.1739)};
// Share of the three-prong (pi pi pi nu) final state among "other"; the rest is pi pi0 pi0 nu.
// A modelling choice: PDG has pi- 2pi0 nu 9.3 % and pi- pi- pi+ nu 9.0 % (the largest "other"
// modes).
inline constexpr double kOtherThreeProngShare = 0.5;

// One tau decay in the tau rest frame (axes of the pair frame). Fixed-size storage, no allocation.
struct TauDecay {
  DecayMode mode = DecayMode::Other;
  int nVisible = 0;
  std::array<Particle, 3> visible{};  // pi+-, pi0 (pdg 111), e, mu; signed PDG ids
  int nNeutrinos = 0;
  std::array<Particle, 2> neutrinos{};  // nu_tau first, then the lepton-flavour (anti)neutrino
  int chargedPionIndex = -1;            // index in visible of the pi+- of modes 0, 1
  int neutralPionIndex = -1;            // index in visible of the pi0 of mode 1
  Vector3 polarimeter;                  // H with the sign convention of the tau's charge
};

class TauDecayer {
 public:
  TauDecayer();

  // A decay mode with the PDG branching fractions.
  DecayMode sampleMode(Rng& rng) const { return sampleMode(kTauBranchingFractions, rng); }
  // A decay mode with the given fractions (summing to 1).
  static DecayMode sampleMode(const std::array<double, 5>& fractions, Rng& rng);
  // One unpolarised decay of a tau of the given charge (+1 tau+, -1 tau-) at rest, with H.
  TauDecay decay(DecayMode mode, int charge, Rng& rng) const;

  // Both decays (index 0 tau+, 1 tau-) for given modes, sampled from Tr[rho (D+ x D-)] by
  // accept-reject on W = 1 + B+.H+ + B-.H- + H+.C.H- with W_max = 4 lambda_max(rho)
  // (docs/physics.md section 6). Vectors are in the rest frames; components of H along (k, r, n)
  // are taken with the given basis vectors. Returns the number of decay-pair trials used.
  int decayPair(const SpinState& spin, const std::array<DecayMode, 2>& modes, const Vector3& k,
                const Vector3& r, const Vector3& n, Rng& rng, std::array<TauDecay, 2>& out) const;

  // W_max = 4 lambda_max(rho) of a two-qubit state (<= 4).
  static double maxCorrelationWeight(const SpinState& spin);
  // W at given polarimeter components (k, r, n) of tau+ and tau-.
  static double correlationWeight(const SpinState& spin, const Vector3& hPlus,
                                  const Vector3& hMinus);

  // rho polarimeter of docs/physics.md section 6 (tau rest frame, tau- convention): the spatial
  // part of m_tau [2(q.N) q - q^2 N]/[2(q.N)(q.P) - q^2 (N.P)], q = p(pi+-) - p(pi0), N = p(nu).
  static Vector3 rhoPolarimeter(const FourVector& chargedPion, const FourVector& neutralPion,
                                const FourVector& neutrino);

 private:
  void decayPi(int charge, Rng& rng, TauDecay& d) const;
  void decayRho(int charge, Rng& rng, TauDecay& d) const;
  void decayLepton(bool muon, int charge, Rng& rng, TauDecay& d) const;
  void decayOther(int charge, Rng& rng, TauDecay& d) const;
  double rhoMassWeight(double q2) const;  // dGamma/dQ^2 over the Breit-Wigner proposal
  double leptonMassWeight(double sA, double mLepton) const;

  double rhoWeightMax_ = 0;
  double electronWeightMax_ = 0, muonWeightMax_ = 0;
};

// Uniform unit vector.
Vector3 randomDirection(Rng& rng);

}  // namespace nurec::generator
