#include "nurec/quantum/Observables.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <complex>

namespace nurec::quantum {

namespace {

using Mat2 = Eigen::Matrix2cd;
using cd = std::complex<double>;

// Pauli matrices for (k, r, n) = (z, x, y) (docs/physics.md section 2).
const std::array<Mat2, 3>& pauliKrn() {
  static const std::array<Mat2, 3> p = [] {
    Mat2 z, x, y;
    z << 1, 0, 0, -1;
    x << 0, 1, 1, 0;
    y << 0, cd(0, -1), cd(0, 1), 0;
    return std::array<Mat2, 3>{z, x, y};
  }();
  return p;
}

Eigen::Matrix4cd kron(const Mat2& a, const Mat2& b) {
  Eigen::Matrix4cd out;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) out.block<2, 2>(2 * i, 2 * j) = a(i, j) * b;
  return out;
}

double minHermitianEigenvalue(const Eigen::Matrix4cd& m) {
  const Eigen::Matrix4cd h = 0.5 * (m + m.adjoint());
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix4cd> es(h, Eigen::EigenvaluesOnly);
  return es.eigenvalues().minCoeff();
}

Eigen::Matrix3d toEigen(const Mat3& c) {
  Eigen::Matrix3d m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m(i, j) = c[i][j];
  return m;
}

}  // namespace

DensityMatrix densityMatrix(const SpinState& s) {
  const auto& p = pauliKrn();
  const Mat2 one = Mat2::Identity();
  DensityMatrix rho = kron(one, one);
  for (int i = 0; i < 3; ++i) {
    rho += s.bPlus[i] * kron(p[i], one);
    rho += s.bMinus[i] * kron(one, p[i]);
    for (int j = 0; j < 3; ++j) rho += s.c[i][j] * kron(p[i], p[j]);
  }
  return 0.25 * rho;
}

SpinState spinStateOf(const DensityMatrix& rho) {
  const auto& p = pauliKrn();
  const Mat2 one = Mat2::Identity();
  SpinState s;
  for (int i = 0; i < 3; ++i) {
    s.bPlus[i] = (rho * kron(p[i], one)).trace().real();
    s.bMinus[i] = (rho * kron(one, p[i])).trace().real();
    for (int j = 0; j < 3; ++j) s.c[i][j] = (rho * kron(p[i], p[j])).trace().real();
  }
  return s;
}

double minEigenvalue(const DensityMatrix& rho) {
  return minHermitianEigenvalue(rho);
}

double partialTransposeMinEigenvalue(const DensityMatrix& rho) {
  // Transpose each 2x2 block (indices of the second factor, the tau-).
  DensityMatrix pt;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      pt.block<2, 2>(2 * i, 2 * j) = rho.block<2, 2>(2 * i, 2 * j).transpose();
  return minHermitianEigenvalue(pt);
}

double concurrenceWootters(const DensityMatrix& rho) {
  const auto& p = pauliKrn();
  const Eigen::Matrix4cd yy = kron(p[kN], p[kN]);
  const Eigen::Matrix4cd rhoTilde = yy * rho.conjugate() * yy;
  const Eigen::Matrix4cd r = rho * rhoTilde;
  Eigen::ComplexEigenSolver<Eigen::Matrix4cd> es(r, false);
  std::array<double, 4> l{};
  for (int i = 0; i < 4; ++i) l[i] = std::sqrt(std::max(0.0, es.eigenvalues()(i).real()));
  std::sort(l.begin(), l.end(), std::greater<>());
  return std::max(0.0, l[0] - l[1] - l[2] - l[3]);
}

double concurrenceWootters(const SpinState& s) {
  return concurrenceWootters(densityMatrix(s));
}

std::array<double, 2> xStateBranches(const SpinState& s) {
  const auto& c = s.c;
  const double dB = s.bPlus[kK] - s.bMinus[kK];
  const double sB = s.bPlus[kK] + s.bMinus[kK];
  const double t1 = 0.5 * (std::hypot(c[kR][kR] - c[kN][kN], c[kR][kN] + c[kN][kR]) -
                           std::sqrt(std::max(0.0, (1 - c[kK][kK]) * (1 - c[kK][kK]) - dB * dB)));
  const double t2 = 0.5 * (std::hypot(c[kR][kR] + c[kN][kN], c[kR][kN] - c[kN][kR]) -
                           std::sqrt(std::max(0.0, (1 + c[kK][kK]) * (1 + c[kK][kK]) - sB * sB)));
  return {t1, t2};
}

double concurrenceXState(const SpinState& s) {
  const auto t = xStateBranches(s);
  return std::max({0.0, t[0], t[1]});
}

double concurrenceBiasCorrected(const SpinState& s) {
  const auto& c = s.c;
  const double t1 =
      0.5 * (std::hypot(c[kR][kR] - c[kN][kN], c[kR][kN] + c[kN][kR]) - (1 - c[kK][kK]));
  const double t2 =
      0.5 * (std::hypot(c[kR][kR] + c[kN][kN], c[kR][kN] - c[kN][kR]) - (1 + c[kK][kK]));
  return std::max(t1, t2);
}

double horodeckiM12(const Mat3& c) {
  const Eigen::Matrix3d m = toEigen(c);
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(m.transpose() * m, Eigen::EigenvaluesOnly);
  const auto& ev = es.eigenvalues();  // ascending
  return ev(1) + ev(2);
}

double maxChsh(const Mat3& c) {
  return 2 * std::sqrt(horodeckiM12(c));
}

double bell45(const Mat3& c) {
  double best = -1e300;
  for (int i = 0; i < 3; ++i)
    for (int j = i + 1; j < 3; ++j)
      best = std::max(best, std::max(std::abs(c[i][i] + c[j][j]), std::abs(c[i][i] - c[j][j])));
  return std::sqrt(2.0) * best - 2;
}

double bell45Fixed(const Mat3& c, double signNn, double signKk) {
  return std::sqrt(2.0) * (signKk * c[kK][kK] + signNn * c[kN][kN]) - 2;
}

double bellOpt(const Mat3& c) {
  return 2 * std::hypot(c[kK][kK], c[kN][kN]) - 2;
}

double bellOptFixed(const Mat3& c, double phiRad) {
  return 2 * (std::cos(phiRad) * c[kK][kK] + std::sin(phiRad) * c[kN][kN]) - 2;
}

Vec3 witnessSigns(WitnessBranch b) {
  switch (b) {
    case WitnessBranch::ZLike:
      return {1, -1, 1};
    case WitnessBranch::PhotonLike:
      return {1, 1, -1};
    case WitnessBranch::RLike:
      return {-1, 1, 1};
    case WitnessBranch::SingletLike:
      break;
  }
  return {-1, -1, -1};
}

double entanglementWitness(const Mat3& c, WitnessBranch b) {
  const Vec3 s = witnessSigns(b);
  return s[0] * c[0][0] + s[1] * c[1][1] + s[2] * c[2][2] - 1;
}

WitnessBranch bestWitnessBranch(const Mat3& c) {
  WitnessBranch best = WitnessBranch::ZLike;
  for (int b = 1; b < 4; ++b) {
    const auto wb = static_cast<WitnessBranch>(b);
    if (entanglementWitness(c, wb) > entanglementWitness(c, best)) best = wb;
  }
  return best;
}

SpinState flipTauPlusAxes(const SpinState& s, const Vec3& signs) {
  SpinState out = s;
  for (int i = 0; i < 3; ++i) {
    out.bPlus[i] = signs[i] * s.bPlus[i];
    for (int j = 0; j < 3; ++j) out.c[i][j] = signs[i] * s.c[i][j];
  }
  return out;
}

double maxAbsDifference(const SpinState& a, const SpinState& b) {
  double d = 0;
  for (int i = 0; i < 3; ++i) {
    d = std::max({d, std::abs(a.bPlus[i] - b.bPlus[i]), std::abs(a.bMinus[i] - b.bMinus[i])});
    for (int j = 0; j < 3; ++j) d = std::max(d, std::abs(a.c[i][j] - b.c[i][j]));
  }
  return d;
}

}  // namespace nurec::quantum
