#include "nurec/reco/AngularPdf.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::reco {

using nlohmann::json;

const char* pdfTypeName(PdfType t) {
  switch (t) {
    case PdfType::Pi:
      return "pi";
    case PdfType::Rho:
      return "rho";
    case PdfType::OtherHadronic:
      return "other";
    case PdfType::Electron:
      return "e";
    case PdfType::Muon:
      return "mu";
  }
  return "?";
}

PdfType pdfTypeOf(DecayMode m) {
  switch (m) {
    case DecayMode::Pi:
      return PdfType::Pi;
    case DecayMode::Rho:
      return PdfType::Rho;
    case DecayMode::Electron:
      return PdfType::Electron;
    case DecayMode::Muon:
      return PdfType::Muon;
    case DecayMode::Other:
      return PdfType::OtherHadronic;
  }
  return PdfType::OtherHadronic;
}

PdfType pdfTypeOf(RecoTauType t) {
  switch (t) {
    case RecoTauType::Pi:
      return PdfType::Pi;
    case RecoTauType::Rho:
      return PdfType::Rho;
    case RecoTauType::Electron:
      return PdfType::Electron;
    case RecoTauType::Muon:
      return PdfType::Muon;
    case RecoTauType::None:
      break;
  }
  return PdfType::OtherHadronic;
}

void AngularPdfConfig::validate() const {
  require(pTauMinGeV > 0 && pTauMaxGeV > pTauMinGeV,
          "AngularPdfConfig: need 0 < pTauMinGeV < pTauMaxGeV");
  require(pTauSlices >= 1 && pTauSlices <= 1000,
          "AngularPdfConfig.pTauSlices must be in [1, 1000]");
  require(uMax > 0, "AngularPdfConfig.uMax must be positive");
  require(uBins >= 2 && uBins <= 10000, "AngularPdfConfig.uBins must be in [2, 10000]");
  require(massBins >= 1 && massBins <= 10000, "AngularPdfConfig.massBins must be in [1, 10000]");
  require(smoothPasses >= 0 && smoothPasses <= 100, "AngularPdfConfig.smoothPasses in [0, 100]");
  require(minVisiblePtGeV >= 0, "AngularPdfConfig.minVisiblePtGeV must be >= 0");
}

namespace {

json configJson(const AngularPdfConfig& c) {
  return json{{"p_tau_min_gev", c.pTauMinGeV},
              {"p_tau_max_gev", c.pTauMaxGeV},
              {"p_tau_slices", c.pTauSlices},
              {"u_max", c.uMax},
              {"u_bins", c.uBins},
              {"mass_bins", c.massBins},
              {"smooth_passes", c.smoothPasses},
              {"min_visible_pt_gev", c.minVisiblePtGeV}};
}

void smooth(double* v, int n, int passes) {
  std::vector<double> tmp(n);
  for (int p = 0; p < passes; ++p) {
    for (int i = 0; i < n; ++i) {
      const double left = i > 0 ? v[i - 1] : v[i];
      const double right = i + 1 < n ? v[i + 1] : 0.0;  // beyond uMax: empty
      tmp[i] = 0.25 * left + 0.5 * v[i] + 0.25 * right;
    }
    std::copy(tmp.begin(), tmp.end(), v);
  }
}

}  // namespace

std::string AngularPdfConfig::toJson() const {
  return configJson(*this).dump();
}

void AngularPdfTable::finalize() {
  const auto& c = config_;
  logPMin_ = std::log(c.pTauMinGeV);
  invDLogP_ = c.pTauSlices / (std::log(c.pTauMaxGeV) - logPMin_);
  invDu_ = c.uBins / c.uMax;
  invTauMass_ = 1.0 / constants::mTau;
  for (int t = 0; t < kNumPdfTypes; ++t) {
    std::vector<double> pooled(c.uBins, 0.0);
    for (int s = 0; s < c.pTauSlices; ++s) {
      const double* row =
          &density_[(static_cast<std::size_t>(t) * c.pTauSlices + s) * (c.uBins + 1)];
      for (int b = 0; b < c.uBins; ++b) pooled[b] += row[b];
    }
    double total = 0;
    for (double v : pooled) total += v;
    double cum = 0, q = c.uMax;
    for (int b = 0; b < c.uBins; ++b) {
      cum += pooled[b];
      if (cum >= 0.99 * total) {
        q = (b + 1) / invDu_;
        break;
      }
    }
    uQuantile99_[t] = q;
  }
}

double AngularPdfTable::massDensity(PdfType type, double m) const {
  if (!isLeptonic(type)) return 1.0;
  const int nb = config_.massBins;
  const int b = static_cast<int>(m / constants::mTau * nb);
  if (m < 0 || b >= nb) return 0;
  return massDensity_[static_cast<std::size_t>(type) * nb + b];
}

AngularPdfTable AngularPdfTable::fromTruth(const std::vector<TruthEvent>& events,
                                           const AngularPdfConfig& config) {
  config.validate();
  AngularPdfTable t;
  t.config_ = config;
  const int nP = config.pTauSlices, nU = config.uBins, nM = config.massBins;
  std::vector<double> counts(static_cast<std::size_t>(kNumPdfTypes) * nP * nU, 0.0);
  std::vector<double> mCounts(static_cast<std::size_t>(kNumPdfTypes) * nM, 0.0);
  const double logMin = std::log(config.pTauMinGeV);
  const double dLog = (std::log(config.pTauMaxGeV) - logMin) / nP;
  for (const auto& ev : events) {
    for (int k = 0; k < 2; ++k) {
      const FourVector& tau = ev.tau[k];
      const FourVector& vis = ev.visible[k];
      const FourVector& nu = ev.neutrinos[k];
      if (tau.e <= 0 || vis.p() <= 0 || nu.p() <= 0) continue;
      if (vis.pt() < config.minVisiblePtGeV) continue;
      const int type = static_cast<int>(pdfTypeOf(ev.decayMode[k]));
      const double p = tau.p();
      const double cosTheta = std::clamp(vis.vec().dot(nu.vec()) / (vis.p() * nu.p()), -1.0, 1.0);
      const double u = std::acos(cosTheta) * p / constants::mTau;
      const int ip = std::clamp(static_cast<int>((std::log(p) - logMin) / dLog), 0, nP - 1);
      ++t.entries_[type];
      if (u < config.uMax) {
        const int iu = std::min(static_cast<int>(u / config.uMax * nU), nU - 1);
        counts[(static_cast<std::size_t>(type) * nP + ip) * nU + iu] += 1;
      }
      if (isLeptonic(static_cast<PdfType>(type))) {
        const double m = std::max(0.0, nu.m());
        const int im = static_cast<int>(m / constants::mTau * nM);
        if (im < nM) mCounts[static_cast<std::size_t>(type) * nM + im] += 1;
      }
    }
  }
  for (int type = 0; type < kNumPdfTypes; ++type) {
    if (t.entries_[type] == 0) {
      throw InputError(
          fmt::format("mmc-pdfs: no truth taus of type '{}' in the sample; a table "
                      "needs every type (pi, rho, other, e, mu)",
                      pdfTypeName(static_cast<PdfType>(type))));
    }
  }
  // Normalise each slice over u; empty slices copy the nearest filled slice of the same type.
  const double du = config.uMax / nU;
  t.density_.assign(static_cast<std::size_t>(kNumPdfTypes) * nP * (nU + 1), 0.0);
  for (int type = 0; type < kNumPdfTypes; ++type) {
    std::vector<int> filled;
    for (int s = 0; s < nP; ++s) {
      double* row = &t.density_[(static_cast<std::size_t>(type) * nP + s) * (nU + 1)];
      const double* c = &counts[(static_cast<std::size_t>(type) * nP + s) * nU];
      double sum = 0;
      for (int b = 0; b < nU; ++b) sum += c[b];
      if (sum <= 0) continue;
      filled.push_back(s);
      std::copy(c, c + nU, row);
      smooth(row, nU, config.smoothPasses);
      double norm = 0;
      for (int b = 0; b < nU; ++b) norm += row[b] * du;
      for (int b = 0; b < nU; ++b) row[b] /= norm;
    }
    for (int s = 0; s < nP; ++s) {
      if (std::find(filled.begin(), filled.end(), s) != filled.end()) continue;
      int best = filled.front();
      for (int f : filled)
        if (std::abs(f - s) < std::abs(best - s)) best = f;
      std::copy_n(&t.density_[(static_cast<std::size_t>(type) * nP + best) * (nU + 1)], nU + 1,
                  &t.density_[(static_cast<std::size_t>(type) * nP + s) * (nU + 1)]);
    }
  }
  t.massDensity_.assign(static_cast<std::size_t>(kNumPdfTypes) * nM, 0.0);
  const double dm = constants::mTau / nM;
  for (int type = 0; type < kNumPdfTypes; ++type) {
    if (!isLeptonic(static_cast<PdfType>(type))) continue;
    double sum = 0;
    for (int b = 0; b < nM; ++b) sum += mCounts[static_cast<std::size_t>(type) * nM + b];
    for (int b = 0; b < nM; ++b)
      t.massDensity_[static_cast<std::size_t>(type) * nM + b] =
          sum > 0 ? mCounts[static_cast<std::size_t>(type) * nM + b] / (sum * dm)
                  : 1.0 / constants::mTau;
  }
  t.finalize();
  return t;
}

void AngularPdfTable::save(const std::string& path, const std::string& producer,
                           const std::string& sourceDescription,
                           const std::string& sourceConfig) const {
  const auto& c = config_;
  json j;
  j["format"] = kFormatName;
  j["format_version"] = kFormatVersion;
  j["producer"] = producer;
  j["source"] = sourceDescription;
  j["source_config"] = sourceConfig;
  j["config"] = configJson(c);
  j["description"] =
      "MMC likelihoods. angle[type][slice][b] = P(u | p_tau) with u = dtheta * p_tau / m_tau, "
      "dtheta the 3D angle between the invisible system and the visible tau, normalised to 1 over "
      "u bins of width u_max/u_bins in each log-spaced p_tau slice; P(dtheta) = P(u) p_tau/m_tau. "
      "m_nunu[type][b] = P(m_nunu) per GeV on [0, m_tau] for leptonic types.";
  j["m_tau_gev"] = constants::mTau;
  json types = json::object();
  for (int t = 0; t < kNumPdfTypes; ++t) {
    json slices = json::array();
    for (int s = 0; s < c.pTauSlices; ++s) {
      const double* row =
          &density_[(static_cast<std::size_t>(t) * c.pTauSlices + s) * (c.uBins + 1)];
      slices.push_back(std::vector<double>(row, row + c.uBins));
    }
    json entry{{"entries", entries_[t]}, {"angle", slices}};
    if (isLeptonic(static_cast<PdfType>(t))) {
      const double* m = &massDensity_[static_cast<std::size_t>(t) * c.massBins];
      entry["m_nunu"] = std::vector<double>(m, m + c.massBins);
    }
    types[pdfTypeName(static_cast<PdfType>(t))] = entry;
  }
  j["types"] = types;
  writeTextFileAtomically(path, j.dump(1) + "\n");
}

AngularPdfTable AngularPdfTable::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw InputError(
        fmt::format("{}: cannot open the MMC likelihood table (make one with "
                    "`nurec mmc-pdfs --data truth.h5 --out FILE`)",
                    path));
  }
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
  try {
    if (j.value("format", std::string()) != kFormatName) {
      throw InputError(fmt::format("{}: not an MMC likelihood table (format '{}', expected '{}')",
                                   path, j.value("format", std::string()), kFormatName));
    }
    const int version = j.at("format_version").get<int>();
    if (version != kFormatVersion) {
      throw InputError(fmt::format("{}: MMC table format version {}, this nurec reads version {}",
                                   path, version, kFormatVersion));
    }
    AngularPdfTable t;
    const json& c = j.at("config");
    t.config_.pTauMinGeV = c.at("p_tau_min_gev").get<double>();
    t.config_.pTauMaxGeV = c.at("p_tau_max_gev").get<double>();
    t.config_.pTauSlices = c.at("p_tau_slices").get<int>();
    t.config_.uMax = c.at("u_max").get<double>();
    t.config_.uBins = c.at("u_bins").get<int>();
    t.config_.massBins = c.at("mass_bins").get<int>();
    t.config_.smoothPasses = c.at("smooth_passes").get<int>();
    t.config_.minVisiblePtGeV = c.at("min_visible_pt_gev").get<double>();
    try {
      t.config_.validate();
    } catch (const ConfigError& e) {
      throw InputError(fmt::format("{}: invalid binning: {}", path, e.what()));
    }
    t.source_ = j.value("source", std::string());
    const int nP = t.config_.pTauSlices, nU = t.config_.uBins, nM = t.config_.massBins;
    t.density_.assign(static_cast<std::size_t>(kNumPdfTypes) * nP * (nU + 1), 0.0);
    t.massDensity_.assign(static_cast<std::size_t>(kNumPdfTypes) * nM, 0.0);
    for (int type = 0; type < kNumPdfTypes; ++type) {
      const char* name = pdfTypeName(static_cast<PdfType>(type));
      const json& e = j.at("types").at(name);
      t.entries_[type] = e.at("entries").get<std::int64_t>();
      const auto slices = e.at("angle").get<std::vector<std::vector<double>>>();
      if (static_cast<int>(slices.size()) != nP) {
        throw InputError(fmt::format("{}: type {} has {} p_tau slices, config says {}", path, name,
                                     slices.size(), nP));
      }
      for (int s = 0; s < nP; ++s) {
        if (static_cast<int>(slices[s].size()) != nU) {
          throw InputError(fmt::format("{}: type {} slice {} has {} u bins, config says {}", path,
                                       name, s, slices[s].size(), nU));
        }
        for (int b = 0; b < nU; ++b) {
          const double v = slices[s][b];
          if (!(v >= 0) || !std::isfinite(v)) {
            throw InputError(fmt::format("{}: type {} slice {} bin {}: invalid density {}", path,
                                         name, s, b, v));
          }
          t.density_[(static_cast<std::size_t>(type) * nP + s) * (nU + 1) + b] = v;
        }
      }
      if (isLeptonic(static_cast<PdfType>(type))) {
        const auto m = e.at("m_nunu").get<std::vector<double>>();
        if (static_cast<int>(m.size()) != nM) {
          throw InputError(fmt::format("{}: type {} has {} m_nunu bins, config says {}", path, name,
                                       m.size(), nM));
        }
        std::copy(m.begin(), m.end(), &t.massDensity_[static_cast<std::size_t>(type) * nM]);
      }
    }
    t.finalize();
    return t;
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: malformed MMC likelihood table ({})", path, e.what()));
  }
}

}  // namespace nurec::reco
