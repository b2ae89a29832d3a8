#include "nurec/detector/ttbar/TTbarDetector.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::detector::ttbar {

namespace {
using generator::ttbar::Parton;
using generator::ttbar::TTbarEvent;

bool finite(double x) {
  return std::isfinite(x);
}

// A parton or emission on its way to a jet: momentum (merged), flavour and truth label of its
// most energetic constituent.
struct ProtoJet {
  FourVector p4;
  int truthParton = kNoParton;
  int flavour = 21;
  double leadEnergy = 0;
};

void requireFraction(double x, const std::string& name) {
  require(finite(x) && x >= 0 && x <= 1, fmt::format("ttbar detector: {} must be in [0, 1]", name));
}
}  // namespace

double BTagEfficiency::operator()(double ptGeV, double absEta) const {
  if (fixedEfficiency >= 0) return fixedEfficiency;
  const double eff =
      norm * std::tanh(slopePerGeV * ptGeV) * numerator / (1 + falloffPerGeV * ptGeV);
  return std::clamp(eff * (absEta > etaCentral ? forwardFactor : 1.0), 0.0, 1.0);
}

void BTagEfficiency::validate() const {
  require(finite(norm) && norm >= 0 && finite(slopePerGeV) && slopePerGeV >= 0 &&
              finite(numerator) && numerator >= 0 && finite(falloffPerGeV) && falloffPerGeV >= 0,
          "ttbar detector: b_tag shape parameters must be finite and >= 0");
  require(finite(etaCentral) && etaCentral > 0, "ttbar detector: b_tag.eta_central must be > 0");
  requireFraction(forwardFactor, "b_tag.forward_factor");
  require(fixedEfficiency < 0 || fixedEfficiency <= 1,
          "ttbar detector: b_tag.fixed_efficiency must be < 0 (unused) or in [0, 1]");
}

void TTbarDetectorConfig::validate() const {
  jetBarrel.validate("ttbar detector: jets.barrel");
  jetEndcap.validate("ttbar detector: jets.endcap");
  jetForward.validate("ttbar detector: jets.forward");
  require(jetBarrelEtaMax > 0 && jetEndcapEtaMax >= jetBarrelEtaMax,
          "ttbar detector: need 0 < jet barrel |eta| max <= endcap |eta| max");
  require(finite(jetAngleConstant) && jetAngleConstant >= 0 && finite(jetAngleScaleGeV) &&
              jetAngleScaleGeV >= 0,
          "ttbar detector: jet angle resolution terms must be finite and >= 0");
  require(
      finite(outOfConeMeanFraction) && outOfConeMeanFraction >= 0 && outOfConeMeanFraction < 0.5,
      "ttbar detector: out_of_cone_mean_fraction must be in [0, 0.5)");
  require(finite(outOfConeMaxFraction) && outOfConeMaxFraction >= 0 && outOfConeMaxFraction < 1,
          "ttbar detector: out_of_cone_max_fraction must be in [0, 1)");
  requireFraction(bSemileptonicProbability, "b_semileptonic_probability");
  require(finite(bNeutrinoMaxFraction) && bNeutrinoMaxFraction >= 0 && bNeutrinoMaxFraction < 1,
          "ttbar detector: b_neutrino_max_fraction must be in [0, 1)");
  require(finite(jetRadius) && jetRadius >= 0 && jetRadius <= 1.5,
          "ttbar detector: jet_radius must be in [0, 1.5]");
  require(finite(jetPtMinGeV) && jetPtMinGeV > 0, "ttbar detector: jet_pt_min must be > 0 GeV");
  require(finite(jetEtaMax) && jetEtaMax > 0, "ttbar detector: jet_eta_max must be > 0");
  require(maxJets >= 4 && maxJets <= 64, "ttbar detector: max_jets must be in [4, 64]");
  require(finite(metJetPtMinGeV) && metJetPtMinGeV > 0 && metJetPtMinGeV <= jetPtMinGeV,
          "ttbar detector: met_jet_pt_min must be in (0, jet_pt_min]");
  require(finite(metJetEtaMax) && metJetEtaMax >= jetEtaMax && caloEtaMax >= metJetEtaMax,
          "ttbar detector: need jet_eta_max <= met_jet_eta_max <= calo_eta_max");
  bTag.validate();
  requireFraction(charmMistag, "charm_mistag");
  requireFraction(lightMistag, "light_mistag");
  requireFraction(electronEfficiencyCentral, "electron_efficiency_central");
  requireFraction(electronEfficiencyForward, "electron_efficiency_forward");
  requireFraction(muonEfficiencyCentral, "muon_efficiency_central");
  requireFraction(muonEfficiencyForward, "muon_efficiency_forward");
  require(finite(leptonEtaCentral) && leptonEtaCentral > 0,
          "ttbar detector: lepton_eta_central must be > 0");
  electronEcal.validate("ttbar detector: electron_ecal");
  muonTrack.validate("ttbar detector: muon_track");
  require(finite(leptonJetDeltaR) && leptonJetDeltaR >= 0,
          "ttbar detector: lepton_jet_delta_r must be >= 0");
  require(finite(leptonPtMinGeV) && leptonPtMinGeV > 0,
          "ttbar detector: lepton_pt_min must be > 0 GeV");
  require(finite(leptonEtaMax) && leptonEtaMax > 0, "ttbar detector: lepton_eta_max must be > 0");
  require(finite(metSoftResponse) && metSoftResponse >= 0 && metSoftResponse <= 2,
          "ttbar detector: met_soft_response must be in [0, 2]");
  require(finite(metResolutionK) && metResolutionK >= 0,
          "ttbar detector: met_resolution_k must be >= 0 GeV^1/2");
  require(finite(underlyingEventSumEtGeV) && underlyingEventSumEtGeV >= 0,
          "ttbar detector: underlying_event_sum_et must be >= 0 GeV");
}

namespace {
// Every card key (dotted YAML path) and the field it sets: toYaml and ttbarDetectorConfigFromYaml
// share this table, so a written card reads back exactly.
struct Field {
  std::string key;
  double* number = nullptr;
  int* integer = nullptr;
};

std::vector<Field> fields(TTbarDetectorConfig& c) {
  std::vector<Field> f;
  auto num = [&](std::string key, double& x) { f.push_back({std::move(key), &x, nullptr}); };
  auto calo = [&](const std::string& key, CaloResolution& r) {
    num(key + ".constant", r.constant);
    num(key + ".stochastic", r.stochastic);
    num(key + ".noise", r.noiseGeV);
  };
  calo("jets.barrel", c.jetBarrel);
  calo("jets.endcap", c.jetEndcap);
  calo("jets.forward", c.jetForward);
  num("jets.barrel_eta_max", c.jetBarrelEtaMax);
  num("jets.endcap_eta_max", c.jetEndcapEtaMax);
  num("jets.angle_constant", c.jetAngleConstant);
  num("jets.angle_scale", c.jetAngleScaleGeV);
  num("jets.out_of_cone_mean_fraction", c.outOfConeMeanFraction);
  num("jets.out_of_cone_max_fraction", c.outOfConeMaxFraction);
  num("jets.b_semileptonic_probability", c.bSemileptonicProbability);
  num("jets.b_neutrino_max_fraction", c.bNeutrinoMaxFraction);
  num("jets.radius", c.jetRadius);
  num("jets.pt_min", c.jetPtMinGeV);
  num("jets.eta_max", c.jetEtaMax);
  f.push_back({"jets.max_jets", nullptr, &c.maxJets});
  num("jets.met_pt_min", c.metJetPtMinGeV);
  num("jets.met_eta_max", c.metJetEtaMax);
  num("jets.calo_eta_max", c.caloEtaMax);
  num("b_tag.b.norm", c.bTag.norm);
  num("b_tag.b.slope", c.bTag.slopePerGeV);
  num("b_tag.b.numerator", c.bTag.numerator);
  num("b_tag.b.falloff", c.bTag.falloffPerGeV);
  num("b_tag.b.eta_central", c.bTag.etaCentral);
  num("b_tag.b.forward_factor", c.bTag.forwardFactor);
  num("b_tag.b.fixed_efficiency", c.bTag.fixedEfficiency);
  num("b_tag.charm_mistag", c.charmMistag);
  num("b_tag.light_mistag", c.lightMistag);
  num("leptons.electron_efficiency_central", c.electronEfficiencyCentral);
  num("leptons.electron_efficiency_forward", c.electronEfficiencyForward);
  num("leptons.muon_efficiency_central", c.muonEfficiencyCentral);
  num("leptons.muon_efficiency_forward", c.muonEfficiencyForward);
  num("leptons.eta_central", c.leptonEtaCentral);
  calo("leptons.electron_ecal", c.electronEcal);
  for (int i = 0; i < 3; ++i) {
    num(fmt::format("leptons.muon_track.a{}", i), c.muonTrack.a[i]);
    num(fmt::format("leptons.muon_track.b{}", i), c.muonTrack.bPerGeV[i]);
  }
  num("leptons.jet_delta_r", c.leptonJetDeltaR);
  num("leptons.pt_min", c.leptonPtMinGeV);
  num("leptons.eta_max", c.leptonEtaMax);
  num("met.soft_response", c.metSoftResponse);
  num("met.resolution_k", c.metResolutionK);
  num("met.underlying_event_sum_et", c.underlyingEventSumEtGeV);
  return f;
}

std::vector<std::string> splitKey(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(key.substr(start, dot - start));
  parts.push_back(key.substr(start));
  return parts;
}

void readNode(const YAML::Node& node, const std::string& prefix, std::vector<Field>& table,
              const std::string& source) {
  if (node.IsNull()) return;
  if (!node.IsMap())
    throw ConfigError(fmt::format("{}: '{}' must be a map of keys", source, prefix));
  for (const auto& kv : node) {
    const std::string key = (prefix.empty() ? "" : prefix + ".") + kv.first.as<std::string>();
    if (kv.second.IsMap()) {
      readNode(kv.second, key, table, source);
      continue;
    }
    auto it =
        std::find_if(table.begin(), table.end(), [&](const Field& f) { return f.key == key; });
    if (it == table.end())
      throw ConfigError(fmt::format("{}: unknown key '{}' (TTbarDetectorConfig::toYaml lists them)",
                                    source, key));
    try {
      if (it->integer)
        *it->integer = kv.second.as<int>();
      else
        *it->number = kv.second.as<double>();
    } catch (const YAML::Exception&) {
      throw ConfigError(fmt::format("{}: key '{}' has value '{}', expected a number", source, key,
                                    kv.second.IsScalar() ? kv.second.Scalar() : "(not a scalar)"));
    }
  }
}
}  // namespace

std::string TTbarDetectorConfig::toYaml() const {
  TTbarDetectorConfig copy = *this;
  std::string y;
  std::vector<std::string> open;  // the sections written so far, outermost first
  for (const Field& f : fields(copy)) {
    const std::vector<std::string> parts = splitKey(f.key);
    std::size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common])
      ++common;
    open.resize(common);
    for (std::size_t i = common; i + 1 < parts.size(); ++i) {
      y += std::string(2 * i, ' ') + parts[i] + ":\n";
      open.push_back(parts[i]);
    }
    const std::string value =
        f.integer ? fmt::format("{}", *f.integer) : fmt::format("{}", *f.number);
    y += std::string(2 * (parts.size() - 1), ' ') + parts.back() + ": " + value + "\n";
  }
  return y;
}

TTbarDetectorConfig ttbarDetectorConfigFromYaml(const std::string& yamlText,
                                                const std::string& source) {
  TTbarDetectorConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", source, e.what()));
  }
  std::vector<Field> table = fields(config);
  readNode(root, "", table, source);
  try {
    config.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", source, e.what()));
  }
  return config;
}

TTbarDetectorConfig perfectDetector(TTbarDetectorConfig c) {
  c.jetBarrel = c.jetEndcap = c.jetForward = CaloResolution{0, 0, 0};
  c.jetAngleConstant = c.jetAngleScaleGeV = 0;
  c.outOfConeMeanFraction = 0;
  c.bSemileptonicProbability = 0;
  c.bTag.fixedEfficiency = 1;
  c.charmMistag = c.lightMistag = 0;
  c.electronEfficiencyCentral = c.electronEfficiencyForward = 1;
  c.muonEfficiencyCentral = c.muonEfficiencyForward = 1;
  c.electronEcal = CaloResolution{0, 0, 0};
  c.muonTrack = TrackResolution{{0, 0, 0}, {0, 0, 0}};
  c.metResolutionK = 0;
  return c;
}

const char* selectionName(TTbarSelection s) {
  switch (s) {
    case TTbarSelection::selected:
      return "selected";
    case TTbarSelection::noLepton:
      return "no lepton";
    case TTbarSelection::extraLepton:
      return "more than one lepton";
    case TTbarSelection::tooFewJets:
      return "fewer than 4 jets";
    case TTbarSelection::tooFewBTags:
      return "fewer than 2 b-tags";
  }
  return "?";
}

int TTbarRecoEvent::bTagCount() const {
  return static_cast<int>(
      std::count_if(jets.begin(), jets.end(), [](const TTbarJet& j) { return j.bTagged; }));
}

TTbarDetector::TTbarDetector(const TTbarDetectorConfig& config) : config_(config) {
  config_.validate();
}

double TTbarDetector::jetEnergyResolution(double energyGeV, double absEta) const {
  const CaloResolution& r = absEta <= config_.jetBarrelEtaMax   ? config_.jetBarrel
                            : absEta <= config_.jetEndcapEtaMax ? config_.jetEndcap
                                                                : config_.jetForward;
  return energyGeV > 0 ? r.sigma(energyGeV) / energyGeV : 0.0;
}

double TTbarDetector::bTagProbability(int flavour, double ptGeV, double absEta) const {
  if (flavour == 5) return config_.bTag(ptGeV, absEta);
  if (flavour == 4) return config_.charmMistag;
  return config_.lightMistag;
}

double TTbarDetector::leptonEfficiency(int pdgId, double absEta) const {
  const bool central = absEta <= config_.leptonEtaCentral;
  if (std::abs(pdgId) == 13)
    return central ? config_.muonEfficiencyCentral : config_.muonEfficiencyForward;
  return central ? config_.electronEfficiencyCentral : config_.electronEfficiencyForward;
}

TTbarRecoEvent TTbarDetector::simulate(const TTbarEvent& truth, std::size_t eventIndex,
                                       std::uint64_t seed) const {
  Rng rng(seed, eventIndex, kTTbarDetectorStream);
  return simulate(truth, rng);
}

TTbarRecoEvent TTbarDetector::simulate(const TTbarEvent& truth, Rng& rng) const {
  const TTbarDetectorConfig& c = config_;
  TTbarRecoEvent out;
  const auto& P = truth.partons;

  // 1. Proto-jets: the four quarks of the record and the initial-state emissions (massless, at
  // their rapidity); those beyond the calorimeter are invisible.
  std::vector<ProtoJet> protos;
  auto addProto = [&](const FourVector& p, int label, int flavour) {
    if (std::abs(p.eta()) <= c.caloEtaMax) protos.push_back({p, label, flavour, p.e});
  };
  addProto(P[static_cast<int>(Parton::b)], static_cast<int>(Parton::b), 5);
  addProto(P[static_cast<int>(Parton::bbar)], static_cast<int>(Parton::bbar), 5);
  addProto(P[static_cast<int>(Parton::quark)], static_cast<int>(Parton::quark),
           std::abs(truth.quarkPdg));
  addProto(P[static_cast<int>(Parton::antiquark)], static_cast<int>(Parton::antiquark),
           std::abs(truth.antiquarkPdg));
  for (const auto& e : truth.isr.emissions) {
    const double pt = std::hypot(e.px, e.py);
    addProto({e.px, e.py, pt * std::sinh(e.y), pt * std::cosh(e.y)}, kNoParton, 21);
  }
  // 2. Partons closer than R end in one jet (hard ones absorb softer neighbours, as anti-kt does);
  // the jet keeps the label of its most energetic constituent.
  std::sort(protos.begin(), protos.end(),
            [](const ProtoJet& a, const ProtoJet& b) { return a.p4.pt() > b.p4.pt(); });
  std::vector<ProtoJet> merged;
  for (const auto& p : protos) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const ProtoJet& m) { return deltaR(m.p4, p.p4) < c.jetRadius; });
    if (it == merged.end()) {
      merged.push_back(p);
      continue;
    }
    it->p4 += p.p4;
    if (p.leadEnergy > it->leadEnergy) {
      it->leadEnergy = p.leadEnergy;
      it->truthParton = p.truthParton;
      it->flavour = p.flavour;
    }
  }

  // 3. Response: out-of-cone loss and (b) an invisible neutrino, the JES calibration 1/(1 - mean
  // loss), Gaussian calorimeter resolution, direction smearing; the jet mass scales with E.
  double softX = 0, softY = 0, softSumPt = 0;
  auto addSoft = [&](const FourVector& p) {
    softX += p.px;
    softY += p.py;
    softSumPt += p.pt();
  };
  std::vector<TTbarJet> jets;
  for (const auto& m : merged) {
    const double eTrue = m.p4.e, absEta = std::abs(m.p4.eta());
    double lost = std::min(rng.exponential(c.outOfConeMeanFraction), c.outOfConeMaxFraction);
    if (m.flavour == 5 && rng.uniform() < c.bSemileptonicProbability)
      lost += rng.uniform(0, c.bNeutrinoMaxFraction);
    const double eVisible = eTrue * std::max(0.0, 1 - lost) / (1 - c.outOfConeMeanFraction);
    const double eReco = eVisible * (1 + jetEnergyResolution(eVisible, absEta) * rng.normal());
    const double ptTrue = m.p4.pt();
    const double sigmaAngle = std::hypot(c.jetAngleConstant, c.jetAngleScaleGeV / ptTrue);
    const double eta = m.p4.eta() + sigmaAngle * rng.normal();
    const double phi = wrapPhi(m.p4.phi() + sigmaAngle * rng.normal());
    if (!(eReco > 0)) continue;  // fluctuated to nothing: no jet, nothing measured
    const double mass = std::max(0.0, m.p4.m()) * eReco / eTrue;
    const double p = std::sqrt(std::max(0.0, eReco * eReco - mass * mass));
    TTbarJet j;
    j.p4 = FourVector::fromPtEtaPhiM(p / std::cosh(eta), eta, phi, mass);
    j.truthParton = m.truthParton;
    j.truthFlavour = m.flavour;
    jets.push_back(j);
  }
  std::sort(jets.begin(), jets.end(),
            [](const TTbarJet& a, const TTbarJet& b) { return a.p4.pt() > b.p4.pt(); });
  double objX = 0, objY = 0, objSumPt = 0;
  auto addObject = [&](const FourVector& p) {
    objX += p.px;
    objY += p.py;
    objSumPt += p.pt();
  };
  for (auto& j : jets) {
    const double pt = j.p4.pt(), absEta = std::abs(j.p4.eta());
    const bool kept =
        pt > c.jetPtMinGeV && absEta < c.jetEtaMax && static_cast<int>(out.jets.size()) < c.maxJets;
    if (kept) {
      j.bTagged = rng.uniform() < bTagProbability(j.truthFlavour, pt, absEta);
      out.jets.push_back(j);
    }
    // MET: jets above the MET threshold count as objects, softer ones as soft term.
    if (pt > c.metJetPtMinGeV && absEta < c.metJetEtaMax)
      addObject(j.p4);
    else
      addSoft(j.p4);
  }

  // 4. The charged lepton: efficiency, resolution, thresholds, overlap removal with kept jets.
  const FourVector lTrue = P[static_cast<int>(Parton::lepton)];
  const double lAbsEta = std::abs(lTrue.eta());
  bool found =
      lAbsEta < c.leptonEtaMax && rng.uniform() < leptonEfficiency(truth.leptonPdg, lAbsEta);
  FourVector lReco = lTrue;
  if (found) {
    if (std::abs(truth.leptonPdg) == 13) {
      const double scale = 1 + c.muonTrack.relative(lTrue.pt(), lAbsEta) * rng.normal();
      lReco = FourVector::fromMomentumMass(lTrue.vec() * std::max(0.0, scale), constants::mMuon);
    } else {
      const double e = lTrue.e + c.electronEcal.sigma(lTrue.e) * rng.normal();
      lReco = FourVector::fromMomentumMass(lTrue.vec() * (std::max(0.0, e) / lTrue.e),
                                           constants::mElectron);
    }
    found = lReco.pt() > c.leptonPtMinGeV && std::abs(lReco.eta()) < c.leptonEtaMax;
    for (const auto& j : out.jets) found = found && deltaR(j.p4, lReco) >= c.leptonJetDeltaR;
  }
  if (found) {
    out.leptons.push_back({lReco, truth.leptonPdg});
    addObject(lReco);
  } else if (lAbsEta < c.caloEtaMax) {
    addSoft(lTrue);  // a lost electron still deposits its energy; a muon its track (choice)
  }

  // 5. MET: the beam remnants carry the primordial kT (as the soft hadrons of the Z generator).
  softX += truth.isr.primordialPx;
  softY += truth.isr.primordialPy;
  softSumPt += std::hypot(truth.isr.primordialPx, truth.isr.primordialPy);
  out.sumEt = objSumPt + c.metSoftResponse * softSumPt + c.underlyingEventSumEtGeV;
  const double sigmaMet = c.metResolutionK * std::sqrt(out.sumEt);
  out.metX = -(objX + c.metSoftResponse * softX) + sigmaMet * rng.normal();
  out.metY = -(objY + c.metSoftResponse * softY) + sigmaMet * rng.normal();

  // 6. Selection (docs/ttbar.md "Selection").
  if (out.leptons.empty())
    out.selection = TTbarSelection::noLepton;
  else if (out.leptons.size() > 1)
    out.selection = TTbarSelection::extraLepton;
  else if (out.jets.size() < 4)
    out.selection = TTbarSelection::tooFewJets;
  else if (out.bTagCount() < 2)
    out.selection = TTbarSelection::tooFewBTags;
  else
    out.selection = TTbarSelection::selected;
  return out;
}

std::vector<TTbarRecoEvent> simulateEvents(const TTbarDetector& detector,
                                           const std::vector<TTbarEvent>& events,
                                           std::uint64_t seed, int threads,
                                           std::size_t firstIndex) {
  std::vector<TTbarRecoEvent> out(events.size());
  parallelFor(events.size(), threads,
              [&](std::size_t k) { out[k] = detector.simulate(events[k], firstIndex + k, seed); });
  return out;
}

void TTbarCutflow::add(const TTbarRecoEvent& ev) {
  ++events;
  if (ev.leptons.size() != 1) return;
  ++oneLepton;
  if (ev.jets.size() < 4) return;
  ++fourJets;
  if (ev.bTagCount() < 2) return;
  ++twoBTags;
  (ev.leptons[0].isMuon() ? muons : electrons) += 1;
}

TTbarCutflow& TTbarCutflow::operator+=(const TTbarCutflow& part) {
  events += part.events;
  oneLepton += part.oneLepton;
  fourJets += part.fourJets;
  twoBTags += part.twoBTags;
  electrons += part.electrons;
  muons += part.muons;
  return *this;
}

std::string TTbarCutflow::format() const {
  auto row = [&](const char* name, std::size_t n, std::size_t previous) {
    return fmt::format("| {} | {} | {:.4f} | {:.4f} |\n", name, n,
                       previous ? double(n) / double(previous) : 0.0,
                       events ? double(n) / double(events) : 0.0);
  };
  std::string s = "| cut | events | relative | cumulative |\n|---|---|---|---|\n";
  s += row("all", events, events);
  s += row("exactly one e or mu", oneLepton, events);
  s += row(">= 4 jets", fourJets, oneLepton);
  s += row(">= 2 b-tags", twoBTags, fourJets);
  s += fmt::format("selected: {} with an electron, {} with a muon\n", electrons, muons);
  return s;
}

TTbarPointCloud pointCloud(const TTbarRecoEvent& ev) {
  TTbarPointCloud cloud;
  auto fill = [&](int slot, const FourVector& p) {
    auto& f = cloud.features[slot];
    f[feature::logPt] = static_cast<float>(std::log(std::max(p.pt(), 1e-3)));
    f[feature::eta] = static_cast<float>(p.eta());
    f[feature::phi] = static_cast<float>(p.phi());
    f[feature::px] = static_cast<float>(p.px / kCloudMomentumScaleGeV);
    f[feature::py] = static_cast<float>(p.py / kCloudMomentumScaleGeV);
    f[feature::pz] = static_cast<float>(p.pz / kCloudMomentumScaleGeV);
    f[feature::energy] = static_cast<float>(p.e / kCloudMomentumScaleGeV);
    cloud.mask[slot] = 1;
  };
  if (!ev.leptons.empty()) {
    const TTbarLepton& l = ev.leptons.front();
    fill(0, l.p4);
    cloud.features[0][feature::charge] = static_cast<float>(l.charge());
    cloud.features[0][l.isMuon() ? feature::isMuon : feature::isElectron] = 1;
  }
  const int nJets = std::min<int>(static_cast<int>(ev.jets.size()), kCloudSlots - 1);
  for (int i = 0; i < nJets; ++i) {
    fill(1 + i, ev.jets[i].p4);
    cloud.features[1 + i][ev.jets[i].bTagged ? feature::isBTaggedJet : feature::isUntaggedJet] = 1;
  }
  cloud.metX = static_cast<float>(ev.metX);
  cloud.metY = static_cast<float>(ev.metY);
  return cloud;
}

}  // namespace nurec::detector::ttbar
