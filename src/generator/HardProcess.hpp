#pragma once
// LO q qbar -> gamma*/Z -> tau- tau+ with massive taus: the differential cross section and the
// exact spin state (B+, B-, C) at a phase-space point (docs/physics.md section 3), and the pp cross
// section with the CTEQ5L PDFs (section 4).
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

}  // namespace nurec::generator
