#pragma once
// LO physics of p p -> t tbar and of the top and W decays (docs/physics.md section 11): partonic
// cross sections, the running alpha_s, the hadronic cross section by quadrature with the built-in
// CTEQ5L, LO W widths and branching fractions, W helicity fractions, and the t tbar production spin
// correlation matrix C from Dirac traces.
#include <array>

#include "nurec/core/FourVector.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/Pdf.hpp"

namespace nurec::generator::ttbar {

// Masses and couplings of the t tbar process (docs/physics.md sections 1 and 11).
namespace top {
inline constexpr double mTop = constants::mTop;  // 172.5 GeV (MC mass)
inline constexpr double mW = constants::mW;      // 80.379 GeV
inline constexpr double mB = 4.8;                // b-quark mass in the decay kinematics [GeV]
inline constexpr double alphaSMzCteq5L = 0.127;  // alpha_s(m_Z) that goes with CTEQ5L
inline constexpr double alphaSWidth = 0.118;     // alpha_s in the QCD factor of Gamma(W -> q q')
}  // namespace top

// One-loop alpha_s with nf = 5: alpha_s(mu) = a/(1 + b0 a ln(mu^2/m_Z^2)), b0 = 23/(12 pi).
double alphaS(double muGeV, double alphaSMz);

// LO widths of docs/physics.md section 11: Gamma(W -> l nu) = G_F m_W^3/(6 sqrt2 pi) per lepton,
// quark channels (ud, cs) x 3 (1 + alpha_s/pi); Gamma(t -> W b) for m_b = 0.
double widthWToLeptonNu();
double widthW();
double branchingWToLeptonNu();  // per lepton flavour
double branchingWToHadrons();
// 2 BR(W -> e nu, mu nu) BR(W -> hadrons): the semileptonic e/mu fraction of t tbar (0.2926).
double semileptonicFraction();
double widthTop();

// Partonic d sigma/dt [GeV^-4] at squared energy s, top mass m and cos(theta) c of the top in the
// parton frame; sigma totals [GeV^-2]. alpha_s is passed in (the scale choice belongs to the
// caller).
double dSigmaDtQQbar(double s, double c, double m, double alphaS);
double dSigmaDtGG(double s, double c, double m, double alphaS);
double sigmaQQbar(double s, double m, double alphaS);
double sigmaGG(double s, double m, double alphaS);

enum class ScaleChoice {
  topMass,         // mu_F = mu_R = m_t
  transverseMass,  // mu_F = mu_R = m_T = sqrt(m_t^2 + pT^2)
};

struct HadronicCrossSection {
  double totalPb = 0, gluonGluonPb = 0, quarkAntiquarkPb = 0;
};
// LO sigma(p p -> t tbar) with CTEQ5L by nested Gauss-Legendre quadrature in (m_tt, y, cos theta),
// on-shell tops; with a window, only m_tt in [mttMinGeV, mttMaxGeV) (a bin of d sigma / d m_tt).
HadronicCrossSection hadronicCrossSection(double sqrtS, ScaleChoice scale, double alphaSMz,
                                          double mTop = top::mTop, double mttMinGeV = 0,
                                          double mttMaxGeV = 1e300);

// W helicity fractions of t -> W b from the V-A matrix element (docs/physics.md section 11).
struct HelicityFractions {
  double longitudinal = 0, left = 0, right = 0;  // F0, F_L, F_R
};
HelicityFractions wHelicityFractions(double mTop, double mW, double mB);

// Production spin state of t tbar at LO. B = 0 (QCD conserves parity and has no absorptive part
// at tree level), so only C_ij = <sigma_i(t) sigma_j(tbar)> is returned, in the helicity basis
// (k, r, n) of docs/physics.md section 2 (k = top direction in the t tbar frame, p = beam direction
// +z, the same axes for t and tbar). Rows: top index.
using SpinMatrix = std::array<std::array<double, 3>, 3>;
enum class InitialState { gluonGluon, quarkAntiquark };
// All momenta in the t tbar rest frame. For q qbar, parton1 is the quark, parton2 the antiquark.
// The gg result uses the abelian (photon-like) amplitude: the two colour orderings of gg -> t tbar
// differ by a spin-independent factor, so the spin structure is that of gamma gamma -> t tbar.
// Returns C and writes the unpolarised trace sum to unpolarised (arbitrary normalisation).
SpinMatrix productionSpinCorrelation(InitialState initial, const FourVector& parton1,
                                     const FourVector& parton2, const FourVector& top,
                                     const FourVector& antitop, double* unpolarised = nullptr);

// The helicity basis (k, r, n) for a top momentum in the t tbar frame and the +z beam.
struct HelicityAxes {
  Vector3 k, r, n;
};
HelicityAxes helicityAxes(const Vector3& topDirection);

}  // namespace nurec::generator::ttbar
