#include "nurec/detector/DetectorConfig.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/TextFile.hpp"

namespace nurec::detector {

namespace {

// Regions of the track-resolution table: |eta| <= 0.5, 0.5-1.5, 1.5-2.5 (docs/physics.md section
// 10).
constexpr double kTrackEtaBin0 = 0.5;
constexpr double kTrackEtaBin1 = 1.5;

bool finite(double x) {
  return std::isfinite(x);
}
bool probability(double x) {
  return finite(x) && x >= 0 && x <= 1;
}

// One configurable number (or flag) and its place in the YAML card, e.g. {"tracking",
// "pion_efficiency", "central_low"}. The same table drives loading, printing and nothing else, so
// the two cannot drift apart.
struct Field {
  std::vector<std::string> path;
  double* number = nullptr;
  bool* flag = nullptr;
};

std::string joined(const std::vector<std::string>& path) {
  std::string s;
  for (const auto& p : path) s += (s.empty() ? "" : ".") + p;
  return s;
}

std::vector<Field> fields(DetectorConfig& c) {
  std::vector<Field> f;
  auto num = [&f](std::vector<std::string> path, double& x) {
    f.push_back({std::move(path), &x, nullptr});
  };
  auto step = [&num](const std::string& sec, const std::string& name, StepEfficiency& e) {
    num({sec, name, "pt_min_gev"}, e.ptMinGeV);
    num({sec, name, "pt_low_gev"}, e.ptLowGeV);
    num({sec, name, "pt_high_gev"}, e.ptHighGeV);
    num({sec, name, "eta_central"}, e.etaCentral);
    num({sec, name, "eta_max"}, e.etaMax);
    num({sec, name, "central_low"}, e.centralLow);
    num({sec, name, "central_mid"}, e.centralMid);
    num({sec, name, "central_high"}, e.centralHigh);
    num({sec, name, "forward_low"}, e.forwardLow);
    num({sec, name, "forward_mid"}, e.forwardMid);
    num({sec, name, "forward_high"}, e.forwardHigh);
  };
  auto track = [&num](const std::string& name, TrackResolution& r) {
    const char* bins[3] = {"eta_0_0p5", "eta_0p5_1p5", "eta_1p5_2p5"};
    for (int i = 0; i < 3; ++i) {
      num({"tracking", name, bins[i], "a"}, r.a[i]);
      num({"tracking", name, bins[i], "b_per_gev"}, r.bPerGeV[i]);
    }
  };
  auto calo = [&num](const std::string& name, CaloResolution& r) {
    num({"calorimeter", name, "constant"}, r.constant);
    num({"calorimeter", name, "stochastic"}, r.stochastic);
    num({"calorimeter", name, "noise_gev"}, r.noiseGeV);
  };
  auto turnOn = [&num](const std::string& name, TriggerTurnOn& t) {
    num({"triggers", name, "offset_gev"}, t.offsetGeV);
    num({"triggers", name, "width_gev"}, t.widthGeV);
    num({"triggers", name, "plateau_central"}, t.plateauCentral);
    num({"triggers", name, "plateau_forward"}, t.plateauForward);
    num({"triggers", name, "eta_central"}, t.etaCentral);
  };
  step("tracking", "pion_efficiency", c.pionTrackEfficiency);
  step("tracking", "electron_efficiency", c.electronTrackEfficiency);
  step("tracking", "muon_efficiency", c.muonTrackEfficiency);
  track("pion_resolution", c.pionTrackResolution);
  track("electron_resolution", c.electronTrackResolution);
  track("muon_resolution", c.muonTrackResolution);
  num({"leptons", "id_pt_min_gev"}, c.leptonIdPtMinGeV);
  num({"leptons", "electron_id_eff_central"}, c.electronIdEffCentral);
  num({"leptons", "electron_id_eff_forward"}, c.electronIdEffForward);
  num({"leptons", "muon_id_eff_central"}, c.muonIdEffCentral);
  num({"leptons", "muon_id_eff_forward"}, c.muonIdEffForward);
  num({"leptons", "muon_eta_max"}, c.muonEtaMax);
  num({"leptons", "isolation_delta_r"}, c.isolationDeltaR);
  num({"leptons", "isolation_pt_min_gev"}, c.isolationPtMinGeV);
  num({"leptons", "electron_isolation_max"}, c.electronIsolationMax);
  num({"leptons", "muon_isolation_max"}, c.muonIsolationMax);
  calo("ecal", c.ecal);
  num({"calorimeter", "ecal_eta_max"}, c.ecalEtaMax);
  calo("hcal_barrel", c.hcalBarrel);
  calo("hcal_endcap", c.hcalEndcap);
  calo("hcal_forward", c.hcalForward);
  num({"calorimeter", "hcal_barrel_eta_max"}, c.hcalBarrelEtaMax);
  num({"calorimeter", "hcal_endcap_eta_max"}, c.hcalEndcapEtaMax);
  num({"calorimeter", "eta_max"}, c.caloEtaMax);
  num({"taus", "pt_min_gev"}, c.tauPtMinGeV);
  num({"taus", "eta_max"}, c.tauEtaMax);
  num({"taus", "id_eff_1p0n"}, c.tauIdEff1p0n);
  num({"taus", "id_eff_1pxn"}, c.tauIdEff1pXn);
  num({"taus", "electron_veto_eff"}, c.tauElectronVetoEff);
  num({"taus", "track_pt_min_gev"}, c.tauTrackPtMinGeV);
  num({"taus", "pi0_cluster_et_min_gev"}, c.pi0ClusterEtMinGeV);
  num({"taus", "pi0_cluster_efficiency"}, c.pi0ClusterEfficiency);
  num({"taus", "multi_pi0_resolved_probability"}, c.multiPi0ResolvedProbability);
  num({"taus", "fake_pi0_probability"}, c.fakePi0Probability);
  num({"taus", "fake_pi0_fraction_min"}, c.fakePi0FractionMin);
  num({"taus", "fake_pi0_fraction_max"}, c.fakePi0FractionMax);
  num({"taus", "fake_pi0_delta_r"}, c.fakePi0DeltaR);
  num({"jets", "radius"}, c.jetRadius);
  num({"jets", "pt_min_gev"}, c.jetPtMinGeV);
  num({"jets", "eta_max"}, c.jetEtaMax);
  num({"met", "soft_response"}, c.metSoftResponse);
  num({"met", "resolution_k"}, c.metResolutionK);
  num({"pileup", "mean_interactions"}, c.pileupMeanInteractions);
  num({"pileup", "particles_per_interaction"}, c.pileupParticlesPerInteraction);
  num({"pileup", "pt_min_gev"}, c.pileupPtMinGeV);
  num({"pileup", "pt_mean_gev"}, c.pileupPtMeanGeV);
  num({"pileup", "max_abs_eta"}, c.pileupMaxAbsEta);
  num({"pileup", "track_rejection"}, c.pileupTrackRejection);
  num({"vertexing", "pv_sigma_transverse_mm"}, c.primaryVertexSigmaTransverseMm);
  num({"vertexing", "pv_sigma_longitudinal_mm"}, c.primaryVertexSigmaLongitudinalMm);
  num({"vertexing", "d0_resolution_a_mm"}, c.d0ResolutionAMm);
  num({"vertexing", "d0_resolution_b_mm_gev"}, c.d0ResolutionBMmGeV);
  num({"vertexing", "z0_resolution_a_mm"}, c.z0ResolutionAMm);
  num({"vertexing", "z0_resolution_b_mm_gev"}, c.z0ResolutionBMmGeV);
  num({"triggers", "ditau_lead_pt_gev"}, c.diTauLeadPtGeV);
  num({"triggers", "ditau_sublead_pt_gev"}, c.diTauSubleadPtGeV);
  num({"triggers", "etau_electron_pt_gev"}, c.eTauElectronPtGeV);
  num({"triggers", "etau_tau_pt_gev"}, c.eTauTauPtGeV);
  num({"triggers", "single_electron_pt_gev"}, c.singleElectronPtGeV);
  num({"triggers", "mutau_muon_pt_gev"}, c.muTauMuonPtGeV);
  num({"triggers", "mutau_tau_pt_gev"}, c.muTauTauPtGeV);
  num({"triggers", "single_muon_pt_gev"}, c.singleMuonPtGeV);
  turnOn("tau_turn_on", c.tauTrigger);
  turnOn("electron_turn_on", c.electronTrigger);
  turnOn("muon_turn_on", c.muonTrigger);
  num({"signal_region", "lepton_eta_max"}, c.leptonEtaMax);
  num({"signal_region", "electron_eta_max"}, c.electronEtaMax);
  num({"signal_region", "electron_crack_eta_min"}, c.electronCrackEtaMin);
  num({"signal_region", "electron_crack_eta_max"}, c.electronCrackEtaMax);
  f.push_back({{"signal_region", "require_opposite_charge"}, nullptr, &c.requireOppositeCharge});
  return f;
}

void loadNode(const YAML::Node& node, std::vector<std::string>& path,
              const std::function<void(const std::vector<std::string>&, const YAML::Node&)>& leaf,
              const std::string& source) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      path.push_back(kv.first.as<std::string>());
      loadNode(kv.second, path, leaf, source);
      path.pop_back();
    }
  } else if (node.IsScalar()) {
    leaf(path, node);
  } else if (!node.IsNull()) {
    throw ConfigError(fmt::format("{}: key '{}' must be a number or a map", source, joined(path)));
  }
}

}  // namespace

double StepEfficiency::operator()(double ptGeV, double absEta) const {
  if (ptGeV <= ptMinGeV || absEta > etaMax) return 0;
  const bool central = absEta <= etaCentral;
  if (ptGeV <= ptLowGeV) return central ? centralLow : forwardLow;
  if (ptGeV <= ptHighGeV) return central ? centralMid : forwardMid;
  return central ? centralHigh : forwardHigh;
}

void StepEfficiency::validate(const std::string& name) const {
  require(finite(ptMinGeV) && ptMinGeV >= 0 && ptMinGeV <= ptLowGeV && ptLowGeV <= ptHighGeV,
          name + ": need 0 <= pt_min_gev <= pt_low_gev <= pt_high_gev");
  require(finite(etaCentral) && finite(etaMax) && etaCentral >= 0 && etaCentral <= etaMax,
          name + ": need 0 <= eta_central <= eta_max");
  for (double e : {centralLow, centralMid, centralHigh, forwardLow, forwardMid, forwardHigh})
    require(probability(e), name + ": efficiencies must lie in [0, 1]");
}

double TriggerTurnOn::operator()(double ptGeV, double thresholdGeV, double absEta) const {
  const double plateau = absEta <= etaCentral ? plateauCentral : plateauForward;
  const double x = ptGeV - thresholdGeV - offsetGeV;
  if (widthGeV <= 0) return x > 0 ? plateau : 0.0;
  return plateau * 0.5 * (1 + std::erf(x / (std::sqrt(2.0) * widthGeV)));
}

void TriggerTurnOn::validate(const std::string& name) const {
  require(finite(offsetGeV) && std::abs(offsetGeV) < 100,
          name + ": offset_gev must be finite and within +-100 GeV");
  require(finite(widthGeV) && widthGeV >= 0 && widthGeV < 100,
          name + ": width_gev must lie in [0, 100) GeV");
  require(probability(plateauCentral) && probability(plateauForward),
          name + ": plateaus must lie in [0, 1]");
  require(finite(etaCentral) && etaCentral >= 0, name + ": eta_central must be >= 0");
}

double TrackResolution::relative(double ptGeV, double absEta) const {
  const int bin = absEta <= kTrackEtaBin0 ? 0 : (absEta <= kTrackEtaBin1 ? 1 : 2);
  const double bpt = bPerGeV[bin] * ptGeV;
  return std::sqrt(a[bin] * a[bin] + bpt * bpt);
}

void TrackResolution::validate(const std::string& name) const {
  for (int i = 0; i < 3; ++i)
    require(finite(a[i]) && finite(bPerGeV[i]) && a[i] >= 0 && bPerGeV[i] >= 0,
            name + ": resolution terms a, b must be finite and >= 0");
}

double CaloResolution::sigma(double eGeV) const {
  const double ce = constant * eGeV;
  return std::sqrt(ce * ce + stochastic * stochastic * eGeV + noiseGeV * noiseGeV);
}

void CaloResolution::validate(const std::string& name) const {
  require(finite(constant) && finite(stochastic) && finite(noiseGeV) && constant >= 0 &&
              stochastic >= 0 && noiseGeV >= 0,
          name + ": resolution terms must be finite and >= 0");
}

void DetectorConfig::validate() const {
  pionTrackEfficiency.validate("tracking.pion_efficiency");
  electronTrackEfficiency.validate("tracking.electron_efficiency");
  muonTrackEfficiency.validate("tracking.muon_efficiency");
  pionTrackResolution.validate("tracking.pion_resolution");
  electronTrackResolution.validate("tracking.electron_resolution");
  muonTrackResolution.validate("tracking.muon_resolution");
  ecal.validate("calorimeter.ecal");
  hcalBarrel.validate("calorimeter.hcal_barrel");
  hcalEndcap.validate("calorimeter.hcal_endcap");
  hcalForward.validate("calorimeter.hcal_forward");
  tauTrigger.validate("triggers.tau_turn_on");
  electronTrigger.validate("triggers.electron_turn_on");
  muonTrigger.validate("triggers.muon_turn_on");
  for (double p : {electronIdEffCentral, electronIdEffForward, muonIdEffCentral, muonIdEffForward,
                   tauIdEff1p0n, tauIdEff1pXn, tauElectronVetoEff, pi0ClusterEfficiency,
                   fakePi0Probability, multiPi0ResolvedProbability, pileupTrackRejection})
    require(probability(p), "detector config: efficiencies and probabilities must lie in [0, 1]");
  for (double x :
       {leptonIdPtMinGeV, isolationPtMinGeV, tauPtMinGeV, tauTrackPtMinGeV, pi0ClusterEtMinGeV,
        jetPtMinGeV, diTauLeadPtGeV, diTauSubleadPtGeV, eTauElectronPtGeV, eTauTauPtGeV,
        singleElectronPtGeV, muTauMuonPtGeV, muTauTauPtGeV, singleMuonPtGeV, metResolutionK,
        electronIsolationMax, muonIsolationMax})
    require(finite(x) && x >= 0,
            "detector config: thresholds, isolation cuts and metResolutionK "
            "must be finite and >= 0");
  for (double eta : {muonEtaMax, tauEtaMax, jetEtaMax, ecalEtaMax, caloEtaMax, leptonEtaMax,
                     electronEtaMax, hcalBarrelEtaMax, hcalEndcapEtaMax})
    require(finite(eta) && eta > 0 && eta < 10,
            "detector config: |eta| limits must lie in (0, 10)");
  require(hcalBarrelEtaMax <= hcalEndcapEtaMax && hcalEndcapEtaMax <= caloEtaMax,
          "calorimeter: need hcal_barrel_eta_max <= hcal_endcap_eta_max <= eta_max");
  require(electronCrackEtaMin >= 0 && electronCrackEtaMin <= electronCrackEtaMax,
          "signal_region: need 0 <= electron_crack_eta_min <= electron_crack_eta_max");
  require(finite(jetRadius) && jetRadius > 0 && jetRadius <= 1.5,
          "jets.radius must lie in (0, 1.5]");
  require(finite(isolationDeltaR) && isolationDeltaR > 0 && isolationDeltaR <= 1.5,
          "leptons.isolation_delta_r must lie in (0, 1.5]");
  require(
      fakePi0FractionMin >= 0 && fakePi0FractionMin <= fakePi0FractionMax && fakePi0FractionMax < 1,
      "taus: need 0 <= fake_pi0_fraction_min <= fake_pi0_fraction_max < 1");
  require(finite(fakePi0DeltaR) && fakePi0DeltaR >= 0 && fakePi0DeltaR < 0.4,
          "taus.fake_pi0_delta_r must lie in [0, 0.4)");
  require(finite(metSoftResponse) && metSoftResponse >= 0 && metSoftResponse <= 2,
          "met.soft_response must lie in [0, 2]");
  require(finite(pileupMeanInteractions) && pileupMeanInteractions >= 0 &&
              pileupMeanInteractions <= 200,
          "pileup.mean_interactions must lie in [0, 200]");
  require(finite(pileupParticlesPerInteraction) && pileupParticlesPerInteraction >= 0 &&
              pileupParticlesPerInteraction <= 500,
          "pileup.particles_per_interaction must lie in [0, 500]");
  require(finite(pileupPtMinGeV) && pileupPtMinGeV >= 0 && finite(pileupPtMeanGeV) &&
              pileupPtMeanGeV > 0,
          "pileup: need pt_min_gev >= 0 and pt_mean_gev > 0");
  require(finite(pileupMaxAbsEta) && pileupMaxAbsEta > 0 && pileupMaxAbsEta < 10,
          "pileup.max_abs_eta must lie in (0, 10)");
  for (double x : {primaryVertexSigmaTransverseMm, primaryVertexSigmaLongitudinalMm,
                   d0ResolutionAMm, d0ResolutionBMmGeV, z0ResolutionAMm, z0ResolutionBMmGeV})
    require(finite(x) && x >= 0 && x < 10,
            "vertexing: resolutions must be finite, >= 0 and below 10 mm");
  require(diTauLeadPtGeV >= diTauSubleadPtGeV,
          "triggers: ditau_lead_pt_gev must be >= ditau_sublead_pt_gev");
}

std::string DetectorConfig::toYaml() const {
  // Written by hand (the field table is grouped by section), numbers in their shortest exact
  // form, so that loading the text gives back the same config bit for bit.
  DetectorConfig copy = *this;
  std::string out =
      "# nurec fast detector simulation, triggers and signal region (docs/detector.md)\n";
  std::vector<std::string> previous;
  for (const auto& f : fields(copy)) {
    std::size_t common = 0;
    while (common + 1 < f.path.size() && common + 1 < previous.size() &&
           f.path[common] == previous[common])
      ++common;
    for (std::size_t i = common; i < f.path.size(); ++i) {
      out += std::string(2 * i, ' ') + f.path[i] + ":";
      if (i + 1 < f.path.size()) out += "\n";
    }
    out += f.flag ? (*f.flag ? " true\n" : " false\n") : fmt::format(" {}\n", *f.number);
    previous = f.path;
  }
  return out;
}

DetectorConfig detectorConfigFromYaml(const std::string& yamlText, const std::string& source) {
  DetectorConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", source, e.what()));
  }
  if (!root.IsNull() && !root.IsMap())
    throw ConfigError(source + ": expected a YAML map of sections");
  const auto table = fields(config);
  std::vector<std::string> path;
  loadNode(
      root, path,
      [&](const std::vector<std::string>& p, const YAML::Node& value) {
        const std::string key = joined(p);
        for (const auto& f : table) {
          if (joined(f.path) != key) continue;
          try {
            if (f.flag)
              *f.flag = value.as<bool>();
            else
              *f.number = value.as<double>();
          } catch (const YAML::Exception&) {
            throw ConfigError(fmt::format("{}: key '{}' has value '{}', expected a {}", source, key,
                                          value.Scalar(), f.flag ? "boolean" : "number"));
          }
          return;
        }
        throw ConfigError(
            fmt::format("{}: unknown key '{}' (see configs/detector_atlas.yaml)", source, key));
      },
      source);
  try {
    config.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", source, e.what()));
  }
  return config;
}

DetectorConfig loadDetectorConfig(const std::string& path) {
  const auto text = readWholeFile(path);
  if (!text) throw ConfigError(fmt::format("{}: cannot open the detector card", path));
  return detectorConfigFromYaml(*text, path);
}

}  // namespace nurec::detector
