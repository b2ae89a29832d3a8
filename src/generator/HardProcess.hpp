#pragma once
// LO q qbar -> gamma*/Z -> tau- tau+ with massive taus: the differential cross section and the
// exact spin state (B+, B-, C) at a phase-space point (docs/physics.md section 3), and the pp cross
// section with the CTEQ5L PDFs (section 4). Also g g -> H -> tau tau (section 14).
#include <array>

#include "nurec/core/Event.hpp"
#include "nurec/generator/Pdf.hpp"

namespace nurec::generator {

// The unnormalised spin numerators of one term (one flavour, one quark direction, summed over the
// quark helicity): a = sum_lam a_lam and a*B_i, a*C_ij. Terms add linearly (docs/physics.md section
// 4: "sum the numerators of all terms"); SpinState = numerators / a.
struct SpinNumerators {
  double a = 0;
  std::array<double, 3> aB{};
  std::array<std::array<double, 3>, 3> aC{};
  SpinNumerators& operator+=(const SpinNumerators& o);
  SpinNumerators scaled(double f) const;
  SpinState state() const;  // B+ = B- = aB/a, C = aC/a
};

// Quark couplings to the Z and its charge (docs/physics.md section 3); flavour = |PDG id| 1..5.
struct QuarkCouplings {
  double charge, gLeft, gRight;
};
QuarkCouplings quarkCouplings(int flavour);

// Partonic q qbar -> tau- tau+ at invariant mass^2 sHat (GeV^2) for the quark (flavour 1..5)
// moving along +p (quarkAlongP = true; c = cos(theta) of the tau- w.r.t. the quark) or along -p
// (the "quark from beam B" configuration: evaluated at -c with the sign flip of every component
// with exactly one r or n index). Returns the numerators of section 3, in the (k, r, n) basis
// defined with p.
SpinNumerators spinNumerators(int flavour, double sHat, double cosTheta, bool quarkAlongP);

// dsigma/dcos(theta) in pb from the numerator a: beta s/(192 pi) a, converted from GeV^-2.
double dSigmaDcosPb(double sHat, double a);
// Partonic dsigma/dcos(theta) [pb] for the quark along +p.
double partonicDSigmaDcosPb(int flavour, double sHat, double cosTheta);

// Z-pole asymmetry parameter A_f = 2 gV gA/(gV^2 + gA^2) for a quark flavour 1..5 or 15 (tau).
double poleAsymmetry(int pdg);

// The pp -> gamma*/Z -> tau tau fully differential cross section d3sigma/(dm dy dc) [pb/GeV] at
// one (m, y, c) point, with its decomposition by initial state.
struct HadronicPoint {
  double d3SigmaPbPerGeV = 0;  // sum over all terms
  SpinNumerators spin;         // mixture of all terms (numerators weighted by luminosity)
  // Weight of each term: [flavour-1][0] quark from beam A, [flavour-1][1] quark from beam B.
  std::array<std::array<double, 2>, 5> termPbPerGeV{};
  double x1 = 0, x2 = 0;
};

class DrellYanTauTau {
 public:
  explicit DrellYanTauTau(double sqrtSGeV) : sqrtS_(sqrtSGeV) {}
  // c = cos(theta) of the tau- w.r.t. p (beam A, +z, in the pair frame). withSpin = false skips the
  // spin numerators (faster; for the cross-section integration).
  HadronicPoint evaluate(double mGeV, double rapidity, double cosTheta, bool withSpin) const;
  double sqrtS() const { return sqrtS_; }

 private:
  double sqrtS_;
  Cteq5L pdf_;
};

// g g -> H -> tau- tau+ (docs/physics.md section 14): LO in the heavy-top limit with CTEQ5L, a
// narrow resonance at massGeV, the taus isotropic in the H frame, the spin state of a scalar with
// CP-mixing angle phi (scalarSpinState).
class GluonFusionHiggs {
 public:
  GluonFusionHiggs(double sqrtSGeV, double massGeV);
  // d2sigma/(dy dcos theta) [pb] of pp -> H -> tau tau at H rapidity y (times BR(H -> tau tau)).
  double d2SigmaPb(double rapidity) const;
  double massGeV() const { return mass_; }
  double sqrtS() const { return sqrtS_; }
  // x1, x2 of the two gluons at rapidity y.
  std::array<double, 2> partonX(double rapidity) const;

 private:
  double sqrtS_, mass_;
  double sigma0Pb_;  // G_F alpha_s^2 / (288 sqrt 2 pi) in pb
  Cteq5L pdf_;
};

// alpha_s at LO (one-loop, 5 flavours) from CTEQ5L's alpha_s(m_Z) = 0.127.
double alphaSLo(double muGeV);
// The quoted normalisation of the H sample (docs/physics.md section 14): LHC Higgs Cross Section
// WG, Yellow Report 4 (CERN-2017-002), 13 TeV, m_H = 125 GeV.
inline constexpr double kGgfHiggsN3loPb = 48.58;
inline constexpr double kHiggsTauTauBranching = 0.0627;

// The tau-pair spin state of a spin-0 boson decaying to tau- tau+ with CP-mixing angle phi (0 =
// CP-even, pi/2 = CP-odd), in the common (k, r, n) basis: B+- = 0, C_kk = -1, C_rr = C_nn =
// cos 2 phi, C_rn = -C_nr = sin 2 phi (docs/physics.md section 14).
SpinState scalarSpinState(double cpMixingAngle);

}  // namespace nurec::generator
