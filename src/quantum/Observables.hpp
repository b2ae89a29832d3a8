#pragma once
// Quantum observables of a two-qubit tau-pair spin state (docs/physics.md sections 2 and 7).
// Conventions: tau+ is the first tensor factor; (k, r, n) are the SAME axes for both taus and map
// to the Pauli matrices (z, x, y): sigma_k = sigma_z, sigma_r = sigma_x, sigma_n = sigma_y.
#include <Eigen/Dense>
#include <array>

#include "nurec/core/Event.hpp"

namespace nurec::quantum {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<std::array<double, 3>, 3>;
using DensityMatrix = Eigen::Matrix4cd;

// Axis indices of the helicity basis.
inline constexpr int kK = 0, kR = 1, kN = 2;

// rho = 1/4 [1x1 + B+_i sigma_i x 1 + 1 x B-_j sigma_j + C_ij sigma_i x sigma_j] (section 2).
DensityMatrix densityMatrix(const SpinState& s);
// Inverse of densityMatrix: B+_i = tr(rho sigma_i x 1), B-_j = tr(rho 1 x sigma_j),
// C_ij = tr(rho sigma_i x sigma_j) (real parts).
SpinState spinStateOf(const DensityMatrix& rho);

// Smallest eigenvalue of rho (negative: not a physical state, e.g. a noisy estimate).
double minEigenvalue(const DensityMatrix& rho);
// Smallest eigenvalue of the partial transpose over the tau- factor (Peres-Horodecki, section 7):
// negative <=> entangled (two qubits).
double partialTransposeMinEigenvalue(const DensityMatrix& rho);

// Wootters concurrence: R = rho (sy x sy) rho* (sy x sy), l_i = sqrt(eigenvalues of R) sorted,
// Conc = max(0, l1 - l2 - l3 - l4). Negative (rounding) eigenvalues of R are clipped to zero.
double concurrenceWootters(const DensityMatrix& rho);
double concurrenceWootters(const SpinState& s);
// Closed form for the X-state (B along k, C_kr = C_kn = 0), section 7:
// Conc = max(0, T1, T2). Meaningless for states that are not X-states.
double concurrenceXState(const SpinState& s);
// The two branches T1, T2 of the X-state formula, unclipped.
std::array<double, 2> xStateBranches(const SpinState& s);
// Bias-corrected X-state estimator (section 8): the absolute value on 1 -+ C_kk is dropped,
// T1' = [sqrt((C_rr-C_nn)^2 + (C_rn+C_nr)^2) - (1 - C_kk)]/2, T2' with (C_rr+C_nn), (1 + C_kk);
// returns max(T1', T2') without clipping at zero (unbiased while |C_rr -+ C_nn| >> its error; uses
// B+_k = B-_k, as for this process).
double concurrenceBiasCorrected(const SpinState& s);

// Horodecki m12 = sum of the two largest eigenvalues of C^T C; Bell (CHSH) violation <=> m12 > 1.
double horodeckiM12(const Mat3& c);
// Maximal CHSH value 2 sqrt(m12).
double maxChsh(const Mat3& c);
// Linear Bell statistics (positive = violation), section 7:
// B_45 = max over axis pairs and signs of sqrt2 |C_ii +- C_jj| - 2.
double bell45(const Mat3& c);
// B_45 at fixed settings (k and n, signs chosen beforehand): sqrt2 (s_k C_kk + s_n C_nn) - 2,
// linear in C (for significance estimates). s_k = -1 for states with C_kk < 0 (a spin-0 boson).
double bell45Fixed(const Mat3& c, double signNn, double signKk = 1);
// B_opt = 2 sqrt(C_kk^2 + C_nn^2) - 2 (settings in the k-n plane, tan(phi) = |C_nn|/C_kk).
double bellOpt(const Mat3& c);
// The linear form of B_opt at fixed angle phi: 2 (cos(phi) C_kk + sin(phi) C_nn) - 2, with
// phi = atan2(C_nn, C_kk) of the expected state (settings fixed beforehand: a linear statistic;
// cos(phi) < 0 when C_kk < 0, as for a spin-0 boson).
double bellOptFixed(const Mat3& c, double phiRad);

// Entanglement witnesses linear in C (valid for ANY two-qubit state, B arbitrary): for a separable
// state tr(O C) <= 1 for every orthogonal O, so D = s_k C_kk + s_r C_rr + s_n C_nn - 1 > 0 proves
// entanglement. The four branches of section 7 (s_k s_r s_n = -1):
enum class WitnessBranch { ZLike = 0, PhotonLike = 1, RLike = 2, SingletLike = 3 };
// signs (s_k, s_r, s_n) of a branch: Z-like (+,-,+), photon-like (+,+,-), (-,+,+), singlet (-,-,-).
Vec3 witnessSigns(WitnessBranch b);
double entanglementWitness(const Mat3& c, WitnessBranch b);
// The branch with the largest D for this C.
WitnessBranch bestWitnessBranch(const Mat3& c);

// Sign flip of the tau+ axes (s_k k, s_r r, s_n n), section 2: C'_ij = s_i C_ij, B'+_i = s_i B+_i.
SpinState flipTauPlusAxes(const SpinState& s, const Vec3& signs);

// Max norm of the difference of two states (all 15 numbers).
double maxAbsDifference(const SpinState& a, const SpinState& b);

}  // namespace nurec::quantum
