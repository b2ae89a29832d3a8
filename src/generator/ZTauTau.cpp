#include "nurec/generator/ZTauTau.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>

#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/ChunkedLoop.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::generator {

namespace {
constexpr double kPi = constants::pi;
// The pilot run that finds w_max uses its own streams, independent of the run seed, so that
// w_max (and hence the unweighting) depends on the configuration only.
constexpr std::uint64_t kPilotSeed = 0x5A54415554415550ull;
constexpr std::uint64_t kPilotStream = 0x47454E50494C4F54ull;
// Bins of m for the flat mass prior's weight table (1 GeV wide for a 40-400 GeV window).
constexpr std::size_t kFlatBins = 360;

void perpendiculars(const Vector3& a, Vector3& e1, Vector3& e2) {
  const Vector3 trial = std::abs(a.x) < 0.6 ? Vector3{1, 0, 0} : Vector3{0, 1, 0};
  e1 = (trial - a * trial.dot(a)).unit();
  e2 = a.cross(e1);
}
}  // namespace

void ZTauTauConfig::validate() const {
  require(std::isfinite(sqrtS) && sqrtS > 0,
          fmt::format("generator: sqrt_s must be > 0 GeV (got {})", sqrtS));
  require(massMinGeV > 2 * constants::mTau,
          fmt::format("generator: the mass window must start above 2 m_tau = {} GeV (got {})",
                      2 * constants::mTau, massMinGeV));
  require(massMaxGeV > massMinGeV,
          fmt::format("generator: empty mass window {},{} GeV (need low < high)", massMinGeV,
                      massMaxGeV));
  require(massMaxGeV < sqrtS,
          fmt::format("generator: the mass window ({} GeV) exceeds sqrt_s ({} GeV)", massMaxGeV,
                      sqrtS));
  require(nEvents > 0, "generator: the number of events must be > 0");
  require(minVisiblePtGeV >= 0 && minLeadingVisiblePtGeV >= 0 && maxVisibleAbsEta >= 0,
          "generator: generator-level cuts must be >= 0 (0 = off)");
  require(breitWignerShare >= 0 && breitWignerShare <= 1,
          "generator: breit_wigner_share must be in [0, 1]");
  require(pilotPoints >= 1000, "generator: pilot_points must be >= 1000");
  require(maxWeightSafety >= 1, "generator: max_weight_safety must be >= 1");
  require(maxAttemptsPerEvent >= 1, "generator: max_attempts_per_event must be >= 1");
  require(std::any_of(allowedDecayModes.begin(), allowedDecayModes.end(), [](bool b) { return b; }),
          "generator: at least one tau decay mode must be allowed");
  require(resonance == Resonance::DrellYan || massPrior == MassPrior::Physical,
          "generator: the flat mass prior is for the Z/gamma* resonance only (also log-flat)");
  require(std::isfinite(higgsMassGeV) && higgsMassGeV > 2 * constants::mTau && higgsMassGeV < sqrtS,
          fmt::format("generator: the H mass must lie between 2 m_tau and sqrt(s) (got {} GeV)",
                      higgsMassGeV));
  require(std::isfinite(cpMixingAngle) && std::abs(cpMixingAngle) <= constants::pi,
          fmt::format("generator: the CP-mixing angle must be in [-pi, pi] rad (got {})",
                      cpMixingAngle));
  recoil.validate();
  beamSpot.validate();
}

const char* resonanceName(ZTauTauConfig::Resonance r) {
  return r == ZTauTauConfig::Resonance::Higgs ? "higgs" : "z";
}

ZTauTauConfig::Resonance resonanceFromName(const std::string& name) {
  if (name == "z") return ZTauTauConfig::Resonance::DrellYan;
  if (name == "higgs") return ZTauTauConfig::Resonance::Higgs;
  throw ConfigError(fmt::format("unknown resonance '{}' (expected z or higgs)", name));
}

const char* massPriorName(ZTauTauConfig::MassPrior prior) {
  switch (prior) {
    case ZTauTauConfig::MassPrior::Flat:
      return "flat";
    case ZTauTauConfig::MassPrior::LogFlat:
      return "log-flat";
    case ZTauTauConfig::MassPrior::Physical:
      break;
  }
  return "physical";
}

ZTauTauConfig::MassPrior massPriorFromName(const std::string& name) {
  if (name == "physical") return ZTauTauConfig::MassPrior::Physical;
  if (name == "flat") return ZTauTauConfig::MassPrior::Flat;
  if (name == "log-flat") return ZTauTauConfig::MassPrior::LogFlat;
  throw ConfigError(
      fmt::format("unknown mass prior '{}' (expected physical, flat or log-flat)", name));
}

std::string ZTauTauConfig::toYaml() const {
  std::string y;
  y += "process: ztautau\n";
  y += "pdf: CTEQ5L\n";
  y += fmt::format("sqrt_s: {}\n", sqrtS);
  y += fmt::format("mass_window: [{}, {}]\n", massMinGeV, massMaxGeV);
  y += fmt::format("mass_prior: {}\n", massPriorName(massPrior));
  if (resonance == Resonance::Higgs) {  // Z files keep the text they always had
    y += "resonance: higgs\n";
    y += fmt::format("higgs_mass: {}\n", higgsMassGeV);
    y += fmt::format("cp_mixing_angle: {}\n", cpMixingAngle);
  }
  if (!tauSpinCorrelations) y += "tau_spin_correlations: false\n";  // default files keep their text
  y += fmt::format("seed: {}\n", seed);
  y += fmt::format("events: {}\n", nEvents);
  y += "cuts:\n";
  y += fmt::format("  min_visible_pt: {}\n", minVisiblePtGeV);
  y += fmt::format("  min_leading_visible_pt: {}\n", minLeadingVisiblePtGeV);
  y += fmt::format("  max_visible_abs_eta: {}\n", maxVisibleAbsEta);
  y += "decay_modes: [";
  {
    bool first = true;
    for (int m = 0; m < 5; ++m) {
      if (!allowedDecayModes[m]) continue;
      y += fmt::format("{}{}", first ? "" : ", ", decayModeName(static_cast<DecayMode>(m)));
      first = false;
    }
  }
  y += "]\n";
  y += "recoil:\n";
  y += fmt::format("  enabled: {}\n", recoil.enabled);
  y += fmt::format("  alpha_s: {}\n", recoil.alphaSMz);
  y += fmt::format("  pt0: {}\n", recoil.pt0GeV);
  y += fmt::format("  pt_min: {}\n", recoil.ptMinGeV);
  y += fmt::format("  start_scale: {}\n", recoil.startScale);
  y += fmt::format("  primordial_kt: {}\n", recoil.primordialKtGeV);
  y += fmt::format("  jet_mass_fraction: [{}, {}]\n", recoil.jetMassFractionMin,
                   recoil.jetMassFractionMax);
  y += fmt::format("  hadrons_per_log_energy: {}\n", recoil.hadronsPerLogEnergy);
  y += fmt::format("  max_hadrons_per_jet: {}\n", recoil.maxHadronsPerJet);
  y += fmt::format("  mpi_mean_scatters: {}\n", recoil.mpiMeanScatters);
  y += fmt::format("  mpi_pt_min: {}\n", recoil.mpiPtMinGeV);
  y += fmt::format("  ue_mean_particles: {}\n", recoil.ueMeanParticles);
  y += fmt::format("  ue_shape_k: {}\n", recoil.ueShapeK);
  y += fmt::format("  ue_max_particles: {}\n", recoil.ueMaxParticles);
  y += fmt::format("  ue_pt_min: {}\n", recoil.uePtMinGeV);
  y += fmt::format("  ue_pt_mean: {}\n", recoil.uePtMeanGeV);
  y += fmt::format("  ue_max_abs_eta: {}\n", recoil.ueMaxAbsEta);
  y += "beam_spot:\n";
  y += fmt::format("  enabled: {}\n", beamSpot.enabled);
  y += fmt::format("  sigma_transverse_mm: {}\n", beamSpot.sigmaTransverseMm);
  y += fmt::format("  sigma_longitudinal_mm: {}\n", beamSpot.sigmaLongitudinalMm);
  y += "sampling:\n";
  y += fmt::format("  breit_wigner_share: {}\n", breitWignerShare);
  y += fmt::format("  pilot_points: {}\n", pilotPoints);
  y += fmt::format("  max_weight_safety: {}\n", maxWeightSafety);
  y += fmt::format("  max_attempts_per_event: {}\n", maxAttemptsPerEvent);
  return y;
}

ZTauTauConfig zTauTauConfigFromYaml(const std::string& yamlText, const std::string& source) {
  ZTauTauConfig c;
  YAML::Node root;
  try {
    root = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", source, e.what()));
  }
  if (root.IsNull()) return c;
  if (!root.IsMap())
    throw ConfigError(fmt::format("{}: expected a map of generator settings", source));
  auto fail = [&](const std::string& key, const char* what) {
    throw ConfigError(fmt::format("{}: key '{}' must be {}", source, key, what));
  };
  auto num = [&](const YAML::Node& n, const std::string& key) {
    try {
      return n.as<double>();
    } catch (const YAML::Exception&) {
      fail(key, "a number");
    }
    return 0.0;
  };
  auto pair = [&](const YAML::Node& n, const std::string& key, double& lo, double& hi) {
    if (!n.IsSequence() || n.size() != 2) fail(key, "a list [low, high]");
    lo = num(n[0], key);
    hi = num(n[1], key);
  };
  auto flag = [&](const YAML::Node& n, const std::string& key) {
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      fail(key, "true or false");
    }
    return false;
  };
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "process") {
        if (v.as<std::string>() != "ztautau") fail(key, "ztautau");
      } else if (key == "pdf") {
        if (v.as<std::string>() != "CTEQ5L") fail(key, "CTEQ5L (the only PDF set built in)");
      } else if (key == "sqrt_s") {
        c.sqrtS = num(v, key);
      } else if (key == "mass_window") {
        pair(v, key, c.massMinGeV, c.massMaxGeV);
      } else if (key == "mass_prior") {
        try {
          c.massPrior = massPriorFromName(v.as<std::string>());
        } catch (const ConfigError&) {
          fail(key, "physical, flat or log-flat");
        }
      } else if (key == "resonance") {
        try {
          c.resonance = resonanceFromName(v.as<std::string>());
        } catch (const ConfigError&) {
          fail(key, "z or higgs");
        }
      } else if (key == "higgs_mass") {
        c.higgsMassGeV = num(v, key);
      } else if (key == "cp_mixing_angle") {
        c.cpMixingAngle = num(v, key);
      } else if (key == "tau_spin_correlations") {
        c.tauSpinCorrelations = flag(v, key);
      } else if (key == "seed") {
        c.seed = static_cast<std::uint64_t>(num(v, key));
      } else if (key == "events") {
        c.nEvents = static_cast<std::size_t>(num(v, key));
      } else if (key == "decay_modes") {
        if (!v.IsSequence()) fail(key, "a list of pi, rho, e, mu, other");
        c.allowedDecayModes = {};
        for (const auto& item : v) {
          const std::string name = item.as<std::string>();
          bool found = false;
          for (int m = 0; m < 5; ++m) {
            if (name == decayModeName(static_cast<DecayMode>(m))) {
              c.allowedDecayModes[m] = true;
              found = true;
            }
          }
          if (!found) fail(key, "a list of pi, rho, e, mu, other");
        }
      } else if (key == "cuts" || key == "recoil" || key == "beam_spot" || key == "sampling") {
        if (!v.IsMap()) fail(key, "a map");
        for (const auto& sub : v) {
          const std::string k = sub.first.as<std::string>();
          const std::string full = key + "." + k;
          const YAML::Node& x = sub.second;
          RecoilConfig& r = c.recoil;
          if (full == "cuts.min_visible_pt")
            c.minVisiblePtGeV = num(x, full);
          else if (full == "cuts.min_leading_visible_pt")
            c.minLeadingVisiblePtGeV = num(x, full);
          else if (full == "cuts.max_visible_abs_eta")
            c.maxVisibleAbsEta = num(x, full);
          else if (full == "recoil.enabled")
            r.enabled = flag(x, full);
          else if (full == "recoil.alpha_s")
            r.alphaSMz = num(x, full);
          else if (full == "recoil.pt0")
            r.pt0GeV = num(x, full);
          else if (full == "recoil.pt_min")
            r.ptMinGeV = num(x, full);
          else if (full == "recoil.start_scale")
            r.startScale = num(x, full);
          else if (full == "recoil.primordial_kt")
            r.primordialKtGeV = num(x, full);
          else if (full == "recoil.jet_mass_fraction")
            pair(x, full, r.jetMassFractionMin, r.jetMassFractionMax);
          else if (full == "recoil.hadrons_per_log_energy")
            r.hadronsPerLogEnergy = num(x, full);
          else if (full == "recoil.max_hadrons_per_jet")
            r.maxHadronsPerJet = static_cast<int>(num(x, full));
          else if (full == "recoil.mpi_mean_scatters")
            r.mpiMeanScatters = num(x, full);
          else if (full == "recoil.mpi_pt_min")
            r.mpiPtMinGeV = num(x, full);
          else if (full == "recoil.ue_mean_particles")
            r.ueMeanParticles = num(x, full);
          else if (full == "recoil.ue_shape_k")
            r.ueShapeK = num(x, full);
          else if (full == "recoil.ue_max_particles")
            r.ueMaxParticles = static_cast<int>(num(x, full));
          else if (full == "recoil.ue_pt_min")
            r.uePtMinGeV = num(x, full);
          else if (full == "recoil.ue_pt_mean")
            r.uePtMeanGeV = num(x, full);
          else if (full == "recoil.ue_max_abs_eta")
            r.ueMaxAbsEta = num(x, full);
          else if (full == "beam_spot.enabled")
            c.beamSpot.enabled = flag(x, full);
          else if (full == "beam_spot.sigma_transverse_mm")
            c.beamSpot.sigmaTransverseMm = num(x, full);
          else if (full == "beam_spot.sigma_longitudinal_mm")
            c.beamSpot.sigmaLongitudinalMm = num(x, full);
          else if (full == "sampling.breit_wigner_share")
            c.breitWignerShare = num(x, full);
          else if (full == "sampling.pilot_points")
            c.pilotPoints = static_cast<std::size_t>(num(x, full));
          else if (full == "sampling.max_weight_safety")
            c.maxWeightSafety = num(x, full);
          else if (full == "sampling.max_attempts_per_event")
            c.maxAttemptsPerEvent = static_cast<std::size_t>(num(x, full));
          else
            throw ConfigError(fmt::format("{}: unknown key '{}'", source, full));
        }
      } else {
        throw ConfigError(fmt::format("{}: unknown key '{}'", source, key));
      }
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: {}", source, e.what()));
  }
  try {
    c.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", source, e.what()));
  }
  return c;
}

ZTauTauGenerator::ZTauTauGenerator(const ZTauTauConfig& config)
    : config_(config), process_(config.sqrtS), recoil_(config.recoil) {
  config_.validate();
  if (config_.resonance == ZTauTauConfig::Resonance::Higgs)
    higgs_.emplace(config_.sqrtS, config_.higgsMassGeV);
  double allowed = 0;
  for (int m = 0; m < 5; ++m)
    allowed += config_.allowedDecayModes[m] ? kTauBranchingFractions[m] : 0;
  for (int m = 0; m < 5; ++m)
    modeFractions_[m] = config_.allowedDecayModes[m] ? kTauBranchingFractions[m] / allowed : 0;
  branchingFactor_ = allowed * allowed;
  const double mz = constants::mZ, gz = constants::gammaZ;
  uLo_ = std::atan((config_.massMinGeV * config_.massMinGeV - mz * mz) / (mz * gz));
  uHi_ = std::atan((config_.massMaxGeV * config_.massMaxGeV - mz * mz) / (mz * gz));
  double wMax = 0;
  for (std::size_t j = 0; j < config_.pilotPoints; ++j) {
    Rng rng(kPilotSeed, j, kPilotStream);
    wMax = std::max(wMax, sampleHardPoint(rng).weight);
  }
  if (!(wMax > 0))
    throw ConfigError(higgs_ ? "generator: the g g -> H cross section vanishes"
                             : "generator: the cross section vanishes in the mass window");
  maxWeight_ = wMax * config_.maxWeightSafety;
  if (config_.massPrior != ZTauTauConfig::MassPrior::Physical) {
    // Per bin of m (kFlatBins, with at least 200 pilot points each, m uniform in the bin): the
    // maximum of d3sigma/(g(y) g(c)) for the accept-reject at fixed m, and its mean, d sigma/dm.
    const std::size_t perBin = std::max<std::size_t>(200, config_.pilotPoints / kFlatBins);
    const double width = (config_.massMaxGeV - config_.massMinGeV) / kFlatBins;
    flatMaxWeight_.assign(kFlatBins, 0.0);
    flatSpectrum_.assign(kFlatBins, 0.0);
    for (std::size_t b = 0; b < kFlatBins; ++b) {
      double sum = 0;
      for (std::size_t j = 0; j < perBin; ++j) {
        Rng rng(kPilotSeed, b * perBin + j, kPilotStream + 1);
        const double m = config_.massMinGeV + width * (static_cast<double>(b) + rng.uniform());
        const double w = sampleHardPointAtMass(m, rng).weight;
        flatMaxWeight_[b] = std::max(flatMaxWeight_[b], w);
        sum += w;
      }
      flatSpectrum_[b] = sum / static_cast<double>(perBin);
      if (!(flatMaxWeight_[b] > 0))
        throw ConfigError(
            fmt::format("generator: the cross section vanishes at m = {:.1f} GeV (flat mass prior)",
                        config_.massMinGeV + width * (static_cast<double>(b) + 0.5)));
      // The weight varies with m inside a bin (steeply on the Z peak): a larger safety margin.
      flatMaxWeight_[b] *= 1.5 * config_.maxWeightSafety;
    }
  }
}

std::size_t ZTauTauGenerator::flatBin(double m) const {
  const double x = (m - config_.massMinGeV) / (config_.massMaxGeV - config_.massMinGeV);
  return std::min(kFlatBins - 1, static_cast<std::size_t>(std::max(0.0, x) * kFlatBins));
}

double ZTauTauGenerator::massSpectrumPbPerGeV(double m) const {
  return flatSpectrum_.empty() ? 0.0 : flatSpectrum_[flatBin(m)];
}

double ZTauTauGenerator::priorMassGeV(double u) const {
  const double lo = config_.massMinGeV, hi = config_.massMaxGeV;
  if (config_.massPrior == ZTauTauConfig::MassPrior::LogFlat) return lo * std::pow(hi / lo, u);
  return lo + (hi - lo) * u;
}

double ZTauTauGenerator::priorDensityPerGeV(double m) const {
  const double lo = config_.massMinGeV, hi = config_.massMaxGeV;
  if (config_.massPrior == ZTauTauConfig::MassPrior::LogFlat) return 1.0 / (m * std::log(hi / lo));
  return 1.0 / (hi - lo);
}

ZTauTauGenerator::HardPoint ZTauTauGenerator::sampleHardPointAtMass(double m, Rng& rng) const {
  HardPoint hp;
  hp.m = m;
  const double yMax = std::log(config_.sqrtS / hp.m);
  hp.y = yMax * (2 * rng.uniform() - 1);
  hp.c = 2 * rng.uniform() - 1;
  hp.weight = process_.evaluate(hp.m, hp.y, hp.c, false).d3SigmaPbPerGeV / ((0.5 / yMax) * 0.5);
  return hp;
}

double ZTauTauGenerator::massDensity(double m) const {
  const double mz = constants::mZ, gz = constants::gammaZ;
  const double d = m * m - mz * mz;
  const double gBw = 2 * m * mz * gz / ((uHi_ - uLo_) * (d * d + mz * mz * gz * gz));
  const double gPow = 1.0 / (m * m * (1.0 / config_.massMinGeV - 1.0 / config_.massMaxGeV));
  return config_.breitWignerShare * gBw + (1 - config_.breitWignerShare) * gPow;
}

ZTauTauGenerator::HardPoint ZTauTauGenerator::sampleHardPoint(Rng& rng) const {
  // m: Breit-Wigner in m^2 (share f) or 1/m^2 (photon-like); y uniform in the kinematic range;
  // cos(theta) uniform. Weight = d3sigma/(dm dy dc) / (g(m) g(y) g(c)).
  HardPoint hp;
  if (higgs_) {  // narrow H: m fixed, weight = d2sigma/(dy dc) / (g(y) g(c))
    hp.m = higgs_->massGeV();
    const double yMax = std::log(config_.sqrtS / hp.m);
    hp.y = yMax * (2 * rng.uniform() - 1);
    hp.c = 2 * rng.uniform() - 1;
    hp.weight = higgs_->d2SigmaPb(hp.y) / ((0.5 / yMax) * 0.5);
    return hp;
  }
  const double u = rng.uniform(), v = rng.uniform();
  if (u < config_.breitWignerShare) {
    const double mz = constants::mZ, gz = constants::gammaZ;
    hp.m = std::sqrt(mz * mz + mz * gz * std::tan(uLo_ + (uHi_ - uLo_) * v));
  } else {
    const double a = 1.0 / config_.massMinGeV, b = 1.0 / config_.massMaxGeV;
    hp.m = 1.0 / (a - v * (a - b));
  }
  hp.m = std::clamp(hp.m, config_.massMinGeV, config_.massMaxGeV);
  const double yMax = std::log(config_.sqrtS / hp.m);
  hp.y = yMax * (2 * rng.uniform() - 1);
  hp.c = 2 * rng.uniform() - 1;
  const double d3 = process_.evaluate(hp.m, hp.y, hp.c, false).d3SigmaPbPerGeV;
  hp.weight = d3 / (massDensity(hp.m) * (0.5 / yMax) * 0.5);
  return hp;
}

bool ZTauTauGenerator::tausCanPassCuts(const TruthEvent& ev) const {
  const double pt0 = ev.tau[0].pt() + constants::mTau, pt1 = ev.tau[1].pt() + constants::mTau;
  if (config_.minVisiblePtGeV > 0 && std::min(pt0, pt1) < config_.minVisiblePtGeV) return false;
  if (config_.minLeadingVisiblePtGeV > 0 && std::max(pt0, pt1) < config_.minLeadingVisiblePtGeV)
    return false;
  return true;
}

bool ZTauTauGenerator::passesCuts(const TruthEvent& ev) const {
  const double pt0 = ev.visible[0].pt(), pt1 = ev.visible[1].pt();
  if (config_.minVisiblePtGeV > 0 && std::min(pt0, pt1) < config_.minVisiblePtGeV) return false;
  if (config_.minLeadingVisiblePtGeV > 0 && std::max(pt0, pt1) < config_.minLeadingVisiblePtGeV)
    return false;
  if (config_.maxVisibleAbsEta > 0 && (std::abs(ev.visible[0].eta()) > config_.maxVisibleAbsEta ||
                                       std::abs(ev.visible[1].eta()) > config_.maxVisibleAbsEta))
    return false;
  return true;
}

TruthEvent ZTauTauGenerator::generate(std::size_t index, EventCounters& counters) const {
  Rng rng(config_.seed, index, streams::generator);
  // Flat and log-flat mass priors: m is drawn once, so that events rejected by the cuts below are
  // redrawn at the same m and the accepted masses follow the prior.
  const bool flat = config_.massPrior != ZTauTauConfig::MassPrior::Physical;
  const double flatMass = flat ? priorMassGeV(rng.uniform()) : 0.0;
  const double wMax = flat ? flatMaxWeight_[flatBin(flatMass)] : maxWeight_;
  for (std::size_t attempt = 0; attempt < config_.maxAttemptsPerEvent; ++attempt) {
    // 1. Unweighted hard-process point (m, y, c).
    HardPoint hp;
    while (true) {
      hp = flat ? sampleHardPointAtMass(flatMass, rng) : sampleHardPoint(rng);
      ++counters.hardTrials;
      counters.sumWeight += hp.weight;
      counters.sumWeight2 += hp.weight * hp.weight;
      if (rng.uniform() * wMax < hp.weight) break;
    }
    if (hp.weight > wMax) ++counters.overweights;
    ++counters.hardAccepted;
    TruthEvent ev;
    if (higgs_) {
      // g g -> H: the scalar's spin state is the same at every phase-space point.
      ev.partonPdg = {pdg::gluon, pdg::gluon};
      const auto x = higgs_->partonX(hp.y);
      ev.partonX = {x[0], x[1]};
      ev.spin = scalarSpinState(config_.cpMixingAngle);
    } else {
      const HadronicPoint full = process_.evaluate(hp.m, hp.y, hp.c, true);
      // Incoming partons: one (flavour, direction) term with probability proportional to its
      // weight.
      double pick = rng.uniform() * full.d3SigmaPbPerGeV;
      int flavour = 5, fromB = 1;
      for (int q = 0; q < 5 && pick >= 0; ++q)
        for (int dir = 0; dir < 2; ++dir) {
          pick -= full.termPbPerGeV[q][dir];
          if (pick < 0) {
            flavour = q + 1;
            fromB = dir;
            break;
          }
        }
      ev.partonPdg =
          fromB ? std::array<int, 2>{-flavour, flavour} : std::array<int, 2>{flavour, -flavour};
      ev.partonX = {full.x1, full.x2};
      // Spin state at this phase-space point: the luminosity-weighted mixture of all initial
      // states.
      ev.spin = full.spin.state();
    }
    if (!config_.tauSpinCorrelations) ev.spin.c = {};  // independent, still polarised, decays
    // 2. Pair four-momentum: mass m, rapidity y, pT balancing the initial-state emissions.
    const InitialState initial =
        recoil_.sampleInitialState(hp.m, hp.y, rng,
                                   higgs_ ? RecoilModel::InitialPartons::GluonGluon
                                          : RecoilModel::InitialPartons::QuarkAntiquark);
    const double px = initial.pairPx(), py = initial.pairPy();
    const double mt = std::sqrt(hp.m * hp.m + px * px + py * py);
    const FourVector pair{px, py, mt * std::sinh(hp.y), mt * std::cosh(hp.y)};
    ev.boson = pair;
    // 3. Helicity basis in the pair frame (docs/physics.md section 2): p = +z beam boosted into the
    // pair frame; the tau- direction k at cos(theta) = c to p, uniform azimuth.
    const Vector3 p = FourVector(0, 0, 1, 1).inRestFrameOf(pair).vec().unit();
    Vector3 e1, e2;
    perpendiculars(p, e1, e2);
    const double sinTheta = std::sqrt(std::max(0.0, 1 - hp.c * hp.c));
    const double phiK = 2 * kPi * rng.uniform();
    const Vector3 k = p * hp.c + (e1 * std::cos(phiK) + e2 * std::sin(phiK)) * sinTheta;
    const Vector3 r = sinTheta > 1e-12 ? (p - k * hp.c) / sinTheta : e1;
    const Vector3 n = k.cross(r);
    const double pStar =
        std::sqrt(std::max(0.0, hp.m * hp.m / 4 - constants::mTau * constants::mTau));
    const std::array<FourVector, 2> tauPair = {
        FourVector::fromMomentumMass(-k * pStar, constants::mTau),
        FourVector::fromMomentumMass(k * pStar, constants::mTau)};
    const Vector3 pairBeta = pair.boostVector();
    for (int t = 0; t < 2; ++t) ev.tau[t] = tauPair[t].boosted(pairBeta);
    // Early exit for the pT cuts: a visible tau has pT < pT(tau) + m_tau (the neutrino system has
    // at most m_tau/2 momentum in the tau rest frame, and a boost cannot reverse more than that).
    if (!tausCanPassCuts(ev)) continue;
    // 4. Decays with the correlated spin density matrix; tau rest -> pair -> lab.
    const std::array<DecayMode, 2> modes = {TauDecayer::sampleMode(modeFractions_, rng),
                                            TauDecayer::sampleMode(modeFractions_, rng)};
    std::array<TauDecay, 2> decays;
    counters.decayTrials += decayer_.decayPair(ev.spin, modes, k, r, n, rng, decays);
    for (int t = 0; t < 2; ++t) {
      const TauDecay& d = decays[t];
      const Vector3 tauBeta = tauPair[t].boostVector();
      auto toLab = [&](const FourVector& v) { return v.boosted(tauBeta).boosted(pairBeta); };
      ev.decayMode[t] = d.mode;
      ev.tauProducts[t].reserve(d.nVisible);
      for (int j = 0; j < d.nVisible; ++j) {
        const FourVector lab = toLab(d.visible[j].p4);
        ev.tauProducts[t].push_back({lab, d.visible[j].pdgId});
        ev.visible[t] += lab;
        if (j == d.chargedPionIndex) ev.chargedPion[t] = lab;
        if (j == d.neutralPionIndex) ev.neutralPion[t] = lab;
      }
      for (int j = 0; j < d.nNeutrinos; ++j) {
        const FourVector lab = toLab(d.neutrinos[j].p4);
        ev.tauNeutrinos[t].push_back({lab, d.neutrinos[j].pdgId});
        ev.neutrinos[t] += lab;
      }
    }
    if (!passesCuts(ev)) continue;
    // 5. Recoil jets and underlying event, balancing the pair in the transverse plane.
    recoil_.makeRecoil(initial, hp.y, rng, ev.recoil);
    // 6. Positions, from their own stream (the momenta above do not depend on them).
    Rng vertexRng(config_.seed, index, streams::vertex);
    sampleVertices(config_.beamSpot, ev, vertexRng);
    return ev;
  }
  throw ConfigError(fmt::format(
      "generator: the generator-level cuts rejected {} events in a row (event {}); loosen them",
      config_.maxAttemptsPerEvent, index));
}

ChunkedGeneration generateZTauTauChunks(
    const ZTauTauConfig& config, int threads, bool showProgress, std::size_t chunkEvents,
    const std::function<void(std::size_t, std::vector<TruthEvent>&)>& onChunk) {
  if (chunkEvents == 0) throw ConfigError("generate: the chunk size must be at least 1 event");
  const auto start = std::chrono::steady_clock::now();
  const ZTauTauGenerator gen(config);
  const std::size_t n = config.nEvents;
  ChunkedGeneration out;
  GenerationSummary& s = out.summary;
  // Sums are taken in event order across chunks: the result does not depend on the chunk size.
  double sumW = 0, sumW2 = 0;
  const bool flatPrior = config.massPrior != ZTauTauConfig::MassPrior::Physical;
  std::vector<double> bosonMassGeV;  // flat priors: the weights need every event's mass
  if (flatPrior) bosonMassGeV.reserve(n);
  Progress progress("generate", n, showProgress);
  generateInChunks<TruthEvent, EventCounters>(
      n, chunkEvents, threads, progress,
      [&](std::size_t index, EventCounters& c) { return gen.generate(index, c); },
      [&](std::size_t first, std::vector<TruthEvent>& events,
          const std::vector<EventCounters>& counters) {
        for (const auto& c : counters) {
          s.hardTrials += c.hardTrials;
          s.hardAccepted += c.hardAccepted;
          s.overweightEvents += c.overweights;
          s.decayTrials += c.decayTrials;
          sumW += c.sumWeight;
          sumW2 += c.sumWeight2;
        }
        if (flatPrior)
          for (const auto& ev : events) bosonMassGeV.push_back(ev.boson.m());
        onChunk(first, events);
      });
  progress.finish();
  s.events = n;
  s.maxWeightPb = gen.maxWeightPb();
  const double nt = static_cast<double>(s.hardTrials);
  s.totalCrossSectionPb = sumW / nt;
  s.totalCrossSectionErrPb =
      std::sqrt(std::max(0.0, sumW2 / nt - s.totalCrossSectionPb * s.totalCrossSectionPb) / nt);
  const double na = static_cast<double>(s.hardAccepted);
  s.acceptance = static_cast<double>(n) / na;
  s.acceptanceErr = std::sqrt(s.acceptance * (1 - s.acceptance) / na);
  s.branchingFactor = gen.branchingFactor();
  s.crossSectionPb = s.totalCrossSectionPb * s.branchingFactor * s.acceptance;
  const double relSigma = s.totalCrossSectionErrPb / s.totalCrossSectionPb;
  const double relAcc = s.acceptanceErr / s.acceptance;
  s.crossSectionErrPb = s.crossSectionPb * std::sqrt(relSigma * relSigma + relAcc * relAcc);
  if (flatPrior) {
    // m drawn from the prior q: event i stands for d sigma/dm(m_i) / q(m_i) / N (before
    // generator-level cuts); for the flat prior 1/q is the window width.
    double sum = 0, sum2 = 0;
    out.weightsPb.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double m = bosonMassGeV[i];
      const double w = gen.massSpectrumPbPerGeV(m) / gen.priorDensityPerGeV(m) * s.branchingFactor /
                       static_cast<double>(n);
      out.weightsPb[i] = w;
      sum += w;
      sum2 += w * w;
    }
    // Monte Carlo error of the integral over m estimated from N flat points.
    const double err = std::sqrt(std::max(0.0, sum2 - sum * sum / static_cast<double>(n)));
    s.totalCrossSectionPb = sum / s.branchingFactor;
    s.totalCrossSectionErrPb = err / s.branchingFactor;
    s.acceptance = 1;  // not measured: the cuts act at fixed m
    s.acceptanceErr = 0;
    s.crossSectionPb = sum;
    s.crossSectionErrPb = err;
  } else {
    out.weightsPb.assign(n, s.crossSectionPb / static_cast<double>(n));
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

GeneratedSample generateZTauTauEvents(const ZTauTauConfig& config, int threads, bool showProgress) {
  GeneratedSample out;
  out.events.reserve(config.nEvents);
  ChunkedGeneration run = generateZTauTauChunks(
      config, threads, showProgress, std::max<std::size_t>(config.nEvents, 1),
      [&](std::size_t, std::vector<TruthEvent>& events) { out.events = std::move(events); });
  for (std::size_t i = 0; i < out.events.size(); ++i) out.events[i].weightPb = run.weightsPb[i];
  out.summary = run.summary;
  return out;
}

io::EventTable makeTruthTable(const GeneratedSample& sample, const ZTauTauConfig& config) {
  io::EventTable table(sample.events.size());
  io::putTruth(table, sample.events);
  const auto& s = sample.summary;
  table.setAttribute("seed", static_cast<std::int64_t>(config.seed));
  table.setAttribute("sqrt_s", config.sqrtS);
  table.setAttribute("cross_section_pb", s.crossSectionPb);
  table.setAttribute("cross_section_err_pb", s.crossSectionErrPb);
  table.setAttribute("cross_section_window_pb", s.totalCrossSectionPb);
  table.setAttribute("generator_acceptance", s.acceptance);
  table.setAttribute("branching_factor", s.branchingFactor);
  table.setAttribute("process", std::string("ztautau"));
  table.setAttribute("mass_prior", std::string(massPriorName(config.massPrior)));
  table.setAttribute("config", config.toYaml());
  table.setAttribute("producer", std::string(kProducer));
  return table;
}

io::EventTable generateZTauTau(const ZTauTauConfig& config, int threads, bool showProgress) {
  return makeTruthTable(generateZTauTauEvents(config, threads, showProgress), config);
}

}  // namespace nurec::generator
