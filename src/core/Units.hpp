#pragma once
// Units and physical constants (docs/physics.md section 1). Energies, momenta and masses in GeV,
// lengths in mm, cross sections in pb, luminosity in fb^-1. Multiply by a unit to enter a value,
// divide by it to read one out: `double ptCut = 25 * units::GeV;`.
namespace nurec::units {
inline constexpr double GeV = 1.0;
inline constexpr double MeV = 1e-3;
inline constexpr double TeV = 1e3;
inline constexpr double mm = 1.0;
inline constexpr double um = 1e-3;
inline constexpr double m = 1e3;
inline constexpr double pb = 1.0;
inline constexpr double fb = 1e-3;
inline constexpr double nb = 1e3;
inline constexpr double invFb = 1e3;             // 1 fb^-1 = 1000 pb^-1
inline constexpr double gev2ToPb = 0.3893794e9;  // 1 GeV^-2 = 0.3893794e9 pb
}  // namespace nurec::units

namespace nurec::constants {
inline constexpr double pi = 3.14159265358979323846;
// PDG values used throughout (docs/physics.md section 1).
inline constexpr double mTau = 1.77686;
inline constexpr double cTauTau = 0.08703;  // mm
inline constexpr double mZ = 91.1876;
inline constexpr double gammaZ = 2.4952;
inline constexpr double mW = 80.379;
inline constexpr double gammaW = 2.085;
inline constexpr double sin2ThetaW = 0.2312;
inline constexpr double alphaEmMz = 1.0 / 128.9;
inline constexpr double fermiConstant = 1.1663788e-5;  // GeV^-2
inline constexpr double mTop = 172.5;
inline constexpr double mPiCharged = 0.13957;
inline constexpr double mPiNeutral = 0.13498;
inline constexpr double mRho = 0.7753;
inline constexpr double gammaRho = 0.1491;
inline constexpr double mElectron = 0.51099895e-3;
inline constexpr double mMuon = 0.1056584;
inline constexpr double sqrtS13TeV = 13000.0;
}  // namespace nurec::constants

namespace nurec::pdg {
inline constexpr int d = 1, u = 2, s = 3, c = 4, b = 5, t = 6;
inline constexpr int electron = 11, nuE = 12, muon = 13, nuMu = 14, tau = 15, nuTau = 16;
inline constexpr int gluon = 21, photon = 22, Z = 23, W = 24, higgs = 25;
inline constexpr int piZero = 111, piPlus = 211, rhoPlus = 213, KPlus = 321, KLong = 130;
inline constexpr int proton = 2212, neutron = 2112;
inline bool isNeutrino(int id) {
  const int a = id < 0 ? -id : id;
  return a == nuE || a == nuMu || a == nuTau;
}
}  // namespace nurec::pdg
