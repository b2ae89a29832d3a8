#pragma once
// The MMC likelihood table (docs/physics.md section 9): per tau decay type, the distribution of the
// 3D angle dtheta between the invisible system and the visible tau products given the tau momentum,
// P(dtheta | p_tau, type), and for leptonic taus the invisible-mass distribution P(m_nunu).
// Built from nurec's own truth samples by `nurec mmc-pdfs`, written as a versioned JSON file
// (data/mmc/mmc_pdfs_v1.json ships with the code) and loaded at run time.
//
// Binning: p_tau in log-spaced slices; the angle is binned in the scaled variable
//   u = dtheta * p_tau / m_tau
// whose distribution depends only weakly on p_tau (dtheta ~ 1/gamma), so one set of u bins covers
// 10 GeV and 500 GeV taus alike. Each slice holds P(u | p_tau) normalised to 1 over u; the density
// per radian is P(dtheta | p_tau) = P(u | p_tau) p_tau/m_tau.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "nurec/core/Event.hpp"

namespace nurec::reco {

// Decay types of the table: the reconstructed types plus "other hadronic" (truth mode 4).
enum class PdfType : int { Pi = 0, Rho = 1, OtherHadronic = 2, Electron = 3, Muon = 4 };
inline constexpr int kNumPdfTypes = 5;
const char* pdfTypeName(PdfType t);  // "pi", "rho", "other", "e", "mu"
PdfType pdfTypeOf(DecayMode m);
// The table type used for a reconstructed candidate; only called for types other than None.
PdfType pdfTypeOf(RecoTauType t);
inline bool isLeptonic(PdfType t) {
  return t == PdfType::Electron || t == PdfType::Muon;
}

struct AngularPdfConfig {
  double pTauMinGeV = 10;   // first slice edge; smaller momenta use the first slice
  double pTauMaxGeV = 600;  // last slice edge; larger momenta use the last slice
  int pTauSlices = 24;      // log-spaced
  double uMax = 8;          // u = dtheta p_tau/m_tau; beyond: probability 0
  int uBins = 80;
  int massBins = 40;           // m_nunu in [0, m_tau] for leptonic taus
  int smoothPasses = 1;        // (1,2,1)/4 smoothing passes along u per slice
  double minVisiblePtGeV = 0;  // use only taus whose visible pT exceeds this
  void validate() const;
  std::string toJson() const;  // for the file's "config" entry
};

class AngularPdfTable {
 public:
  static constexpr const char* kFormatName = "nurec-mmc-pdfs";
  static constexpr int kFormatVersion = 1;

  // Histograms truth taus (truth tau momentum, angle between /truth/nu_p4 and /truth/vis_p4,
  // decay mode) and normalises them. Throws InputError when a type has no entries at all.
  static AngularPdfTable fromTruth(const std::vector<TruthEvent>& events,
                                   const AngularPdfConfig& config);
  // Reads a file written by save(); throws InputError naming the file on a missing file, another
  // format or version, or inconsistent binning.
  static AngularPdfTable load(const std::string& path);
  // Writes the table with its format version, the binning config, the producer, a free-text
  // description of the sample it was built from and that sample's own run card (if any).
  void save(const std::string& path, const std::string& producer,
            const std::string& sourceDescription, const std::string& sourceConfig = "") const;

  // P(dtheta | p_tau, type) per radian (nearest p slice, linear interpolation in u).
  double angleDensity(PdfType type, double pTauGeV, double dthetaRad) const {
    const int ip = pSlice(pTauGeV);
    const double u = dthetaRad * pTauGeV * invTauMass_;
    return uDensity(type, ip, u) * pTauGeV * invTauMass_;
  }
  // P(u | p_tau, type), u = dtheta p_tau / m_tau (dimensionless).
  double scaledAngleDensity(PdfType type, double pTauGeV, double u) const {
    return uDensity(type, pSlice(pTauGeV), u);
  }
  // P(m_nunu | type) per GeV, for leptonic types (1 for hadronic types).
  double massDensity(PdfType type, double mNuNuGeV) const;

  const AngularPdfConfig& config() const { return config_; }
  std::int64_t entries(PdfType t) const { return entries_[static_cast<int>(t)]; }
  // 99 % quantile of u for this type, slices pooled with equal weight (for the MMC scan window).
  double uQuantile99(PdfType t) const { return uQuantile99_[static_cast<int>(t)]; }
  const std::string& source() const { return source_; }

 private:
  int pSlice(double p) const {
    const double f = (std::log(p > 0 ? p : 1e-9) - logPMin_) * invDLogP_;
    const int i = static_cast<int>(f);
    return f < 0 ? 0 : (i >= config_.pTauSlices ? config_.pTauSlices - 1 : i);
  }
  double uDensity(PdfType type, int ip, double u) const {
    const double f = u * invDu_ - 0.5;  // position relative to bin centres
    if (u < 0 || u >= config_.uMax) return 0;
    const double* row =
        &density_[(static_cast<std::size_t>(type) * config_.pTauSlices + ip) * (config_.uBins + 1)];
    // row[b] = bin b; row[uBins] = 0 guard for interpolation at the upper edge.
    if (f <= 0) return row[0];
    const int b = static_cast<int>(f);
    const double t = f - b;
    return row[b] * (1 - t) + row[b + 1] * t;
  }
  void finalize();  // cached constants after the config is known

  AngularPdfConfig config_;
  std::vector<double> density_;      // [type][slice][uBins + 1]
  std::vector<double> massDensity_;  // [type][massBins], leptonic types only meaningful
  std::array<std::int64_t, kNumPdfTypes> entries_{};
  std::array<double, kNumPdfTypes> uQuantile99_{};
  std::string source_;
  double logPMin_ = 0, invDLogP_ = 1, invDu_ = 1, invTauMass_ = 1;
};

}  // namespace nurec::reco
