#include "nurec/quantum/SpinResponse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/ShippedFiles.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::quantum {

namespace {

using nlohmann::json;

std::int64_t intAttributeOr(const io::EventTable& t, const char* name) {
  if (!t.hasAttribute(name)) return -1;
  const auto& v = t.attributes().at(name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  return -1;
}

// Matrices and vectors as flat row-major arrays (7 significant digits keep R^-1 exact to far
// below the calibration's own uncertainty).
json fitJson(const ResponseFit& f) {
  json r = json::array(), o = json::array();
  for (int i = 0; i < kNumSpinParameters; ++i) {
    for (int j = 0; j < kNumSpinParameters; ++j)
      r.push_back(std::stod(fmt::format("{:.7g}", f.response(i, j))));
    o.push_back(std::stod(fmt::format("{:.7g}", f.offset(i))));
  }
  return {{"R", r}, {"o", o}};
}

ResponseFit fitFromJson(const json& j, const std::string& where) {
  ResponseFit f;
  const auto& r = j.at("R");
  const auto& o = j.at("o");
  if (r.size() != kNumSpinParameters * kNumSpinParameters || o.size() != kNumSpinParameters)
    throw InputError(fmt::format("{}: response matrix of the wrong size", where));
  for (int i = 0; i < kNumSpinParameters; ++i) {
    for (int j2 = 0; j2 < kNumSpinParameters; ++j2)
      f.response(i, j2) = r.at(static_cast<std::size_t>(i * kNumSpinParameters + j2)).get<double>();
    f.offset(i) = o.at(static_cast<std::size_t>(i)).get<double>();
  }
  f.ok = f.response.allFinite() && f.offset.allFinite();
  return f;
}

const char* modelName(CalibrationConfig::Model m) {
  return m == CalibrationConfig::Model::Full ? "full" : "diagonal";
}

}  // namespace

const Calibration* SpinResponse::find(const std::string& subset) const {
  const auto it = subsets.find(subset);
  return it != subsets.end() && it->second.valid() ? &it->second : nullptr;
}

std::string analyserDescription(const AnalyserConfig& c) {
  return fmt::format("method={} lepton={} rho={} tau_mass_constraint={}", c.method,
                     c.lepton == LeptonAnalyser::Direction         ? "direction"
                     : c.lepton == LeptonAnalyser::DirectionEnergy ? "energy"
                                                                   : "neutrino",
                     c.rho == RhoAnalyser::Polarimeter ? "polarimeter" : "visible",
                     c.tauMassConstraint ? 1 : 0) +
         // Appended only when not the default, so that earlier response files keep matching.
         (c.candidates == CandidateUse::Estimate ? std::string()
                                                 : " candidates=" + candidateUseName(c.candidates));
}

std::string selectionOf(const io::EventTable& table, const AnalyserConfig& cfg) {
  return cfg.requireSignalRegion && table.has(io::ds::recoPassSr) ? "signal region" : "all events";
}

std::string generatorPhaseSpace(const io::EventTable& table) {
  const std::string config = table.stringAttributeOr("config");
  std::istringstream in(config);
  std::string line, out;
  for (const char* key : {"mass_window:", "min_visible_pt:", "min_leading_visible_pt:",
                          "max_visible_abs_eta:", "decay_modes:", "sqrt_s:"}) {
    in.clear();
    in.seekg(0);
    while (std::getline(in, line)) {
      const auto pos = line.find_first_not_of(' ');
      if (pos != std::string::npos && line.compare(pos, std::string(key).size(), key) == 0)
        out += line.substr(pos) + "\n";
    }
  }
  return out;
}

SpinResponse buildSpinResponse(const io::EventTable& sample, const AnalyserConfig& analysers,
                               const CalibrationConfig& cfg, const std::string& modelLabel,
                               bool showProgress) {
  cfg.validate();
  analysers.validate();
  SpinResponse r;
  r.config = cfg;
  auto& p = r.provenance;
  p.method = analysers.method;
  p.analysers = analyserDescription(analysers);
  p.selection = selectionOf(sample, analysers);
  p.calibrationModel = modelName(cfg.model);
  p.detectorCard = sample.stringAttributeOr("detector_config");
  p.generatorPhaseSpace = generatorPhaseSpace(sample);
  p.generatorSeed = intAttributeOr(sample, "seed");
  p.detectorSeed = intAttributeOr(sample, "detector_seed");
  p.producer = sample.stringAttributeOr("producer");
  p.model = modelLabel;
  p.sampleFile = sample.source();
  p.sampleEvents = sample.nEvents();
  p.createdBy = kProducer;
  const CalibrationInput in = prepareCalibration(sample, analysers);
  p.sampleAnalysed = in.reco.size();
  if (in.reco.empty())
    throw InputError(fmt::format("{}: no event with spin analysers for both taus (method {})",
                                 sample.source(), analysers.method));
  Progress progress("calibrate " + analysers.method, kNumChannels + 1, showProgress);
  r.subsets.emplace("combined", Calibration(in, cfg, Channel::None));
  progress.advance();
  for (int c = 0; c < kNumChannels; ++c) {
    const Channel ch = static_cast<Channel>(c);
    r.subsets.emplace(channelName(ch), Calibration(in, cfg, ch));
    progress.advance();
  }
  progress.finish();
  return r;
}

void writeSpinResponse(const SpinResponse& r, const std::string& path) {
  const auto& p = r.provenance;
  json j;
  j["schema"] = kSpinResponseSchema;
  j["version"] = kSpinResponseVersion;
  j["provenance"] = {{"method", p.method},
                     {"analysers", p.analysers},
                     {"selection", p.selection},
                     {"calibration_model", p.calibrationModel},
                     {"detector_card", p.detectorCard},
                     {"generator_phase_space", p.generatorPhaseSpace},
                     {"generator_seed", p.generatorSeed},
                     {"detector_seed", p.detectorSeed},
                     {"producer", p.producer},
                     {"model", p.model},
                     {"sample_file", p.sampleFile},
                     {"sample_events", p.sampleEvents},
                     {"sample_analysed", p.sampleAnalysed},
                     {"created_by", p.createdBy}};
  j["fit"] = {{"targets", r.config.targets},
              {"mixing", r.config.mixing},
              {"min_w", r.config.minW},
              {"bootstrap_replicas", r.config.bootstrapReplicas},
              {"seed", r.config.seed}};
  json subs = json::object();
  for (const auto& [name, cal] : r.subsets) {
    json s;
    s["events"] = cal.nEvents();
    s["valid"] = cal.valid();
    if (cal.valid()) {
      ResponseFit nominal;
      nominal.response = cal.response();
      nominal.offset = cal.offset();
      nominal.ok = true;
      s["min_effective_fraction"] = cal.minEffectiveEventsFraction();
      s["condition_number"] = cal.conditionNumber();
      s["nominal"] = fitJson(nominal);
      json reps = json::array();
      for (const auto& f : cal.replicas()) reps.push_back(fitJson(f));
      s["replicas"] = reps;
    }
    subs[name] = s;
  }
  j["subsets"] = subs;
  // One subset per line: readable header, compact matrices.
  std::string text = "{\n";
  bool first = true;
  for (const auto& [k, v] : j.items()) {
    if (!first) text += ",\n";
    first = false;
    if (k == "subsets") {
      text += "\"subsets\": {\n";
      bool f2 = true;
      for (const auto& [name, s] : v.items()) {
        if (!f2) text += ",\n";
        f2 = false;
        text += json(name).dump() + ": " + s.dump();
      }
      text += "\n}";
    } else {
      text += json(k).dump() + ": " + v.dump(1);
    }
  }
  text += "\n}\n";
  writeTextFileAtomically(path, text);
}

bool isSpinResponseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c))
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
  return false;
}

namespace {

// The file's JSON after the schema and version checks. provenanceOnly skips the per-subset fits
// while parsing (most of the file), for lookups that only need the provenance.
json parseSpinResponseJson(const std::string& path, bool provenanceOnly) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open the spin response file", path));
  const json::parser_callback_t skipSubsets = [](int depth, json::parse_event_t event,
                                                 json& parsed) {
    return !(depth == 1 && event == json::parse_event_t::key && parsed == "subsets");
  };
  json j;
  try {
    j = provenanceOnly ? json::parse(in, skipSubsets) : json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not a spin response file (JSON: {})", path, e.what()));
  }
  if (!j.is_object() || j.value("schema", std::string()) != kSpinResponseSchema)
    throw InputError(fmt::format(
        "{}: not a spin response file (schema '{}' expected; build one with `nurec calibrate`)",
        path, kSpinResponseSchema));
  if (j.value("version", 0) != kSpinResponseVersion)
    throw InputError(fmt::format("{}: spin response version {} (this nurec reads {})", path,
                                 j.value("version", 0), kSpinResponseVersion));
  return j;
}

ResponseProvenance provenanceFromJson(const json& p) {
  ResponseProvenance q;
  q.method = p.at("method").get<std::string>();
  q.analysers = p.at("analysers").get<std::string>();
  q.selection = p.at("selection").get<std::string>();
  q.calibrationModel = p.at("calibration_model").get<std::string>();
  q.detectorCard = p.at("detector_card").get<std::string>();
  q.generatorPhaseSpace = p.at("generator_phase_space").get<std::string>();
  q.generatorSeed = p.at("generator_seed").get<std::int64_t>();
  q.detectorSeed = p.at("detector_seed").get<std::int64_t>();
  q.producer = p.at("producer").get<std::string>();
  q.model = p.at("model").get<std::string>();
  q.sampleFile = p.at("sample_file").get<std::string>();
  q.sampleEvents = p.at("sample_events").get<std::size_t>();
  q.sampleAnalysed = p.at("sample_analysed").get<std::size_t>();
  q.createdBy = p.at("created_by").get<std::string>();
  return q;
}

}  // namespace

ResponseProvenance readSpinResponseProvenance(const std::string& path) {
  const json j = parseSpinResponseJson(path, true);
  try {
    return provenanceFromJson(j.at("provenance"));
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: malformed spin response file ({})", path, e.what()));
  }
}

SpinResponse readSpinResponse(const std::string& path) {
  const json j = parseSpinResponseJson(path, false);
  SpinResponse r;
  try {
    r.provenance = provenanceFromJson(j.at("provenance"));
    const auto& q = r.provenance;
    const auto& f = j.at("fit");
    r.config.targets = f.at("targets").get<int>();
    r.config.mixing = f.at("mixing").get<double>();
    r.config.minW = f.at("min_w").get<double>();
    r.config.bootstrapReplicas = f.at("bootstrap_replicas").get<int>();
    r.config.seed = f.at("seed").get<std::uint64_t>();
    r.config.model = q.calibrationModel == "diagonal" ? CalibrationConfig::Model::Diagonal
                                                      : CalibrationConfig::Model::Full;
    for (const auto& [name, s] : j.at("subsets").items()) {
      const std::string where = fmt::format("{}: subset {}", path, name);
      if (!s.at("valid").get<bool>()) {
        r.subsets.emplace(name, Calibration());
        continue;
      }
      std::vector<ResponseFit> reps;
      for (const auto& x : s.at("replicas")) reps.push_back(fitFromJson(x, where));
      r.subsets.emplace(name, Calibration(fitFromJson(s.at("nominal"), where), std::move(reps),
                                          s.at("events").get<std::size_t>(),
                                          s.at("min_effective_fraction").get<double>()));
    }
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: malformed spin response file ({})", path, e.what()));
  }
  if (!r.find("combined"))
    throw InputError(
        fmt::format("{}: the spin response has no valid combined (all channels) fit", path));
  return r;
}

std::string modelWeightsId(const std::string& label) {
  const auto at = label.find("FNV-1a ");
  return at == std::string::npos ? label : label.substr(at, 23);  // "FNV-1a " + 16 hex digits
}

std::string shippedSpinResponse(const AnalyserConfig& a, const io::EventTable* measured) {
  namespace fs = std::filesystem;
  const std::string name =
      a.method +
      (a.candidates == CandidateUse::Estimate ? "" : "-" + candidateUseName(a.candidates)) +
      ".json";
  const std::string fallback = shippedFile("data/spin-response/" + name);
  if (measured == nullptr) return fallback;
  const std::string model = measured->stringAttributeOr(io::nuModelAttribute(a.method));
  if (model.find("FNV-1a ") == std::string::npos) return fallback;  // no model or no checksum
  const std::string wanted = modelWeightsId(model);
  const auto fittedForModel = [&](const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return false;
    try {
      return modelWeightsId(readSpinResponseProvenance(p.string()).model) == wanted;
    } catch (const InputError&) {
      return false;  // not a response for this lookup; an explicit --calibration reports it
    }
  };
  // Every shipped-file location in its search order (core/ShippedFiles.hpp): the folder itself,
  // then its sub-folders sorted by name, so the choice does not depend on the directory order.
  for (const std::string& root : shippedFileCandidates("data/spin-response")) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    if (fittedForModel(fs::path(root) / name)) return (fs::path(root) / name).string();
    std::vector<fs::path> folders;
    for (const auto& e : fs::directory_iterator(root, ec))
      if (e.is_directory(ec)) folders.push_back(e.path());
    std::sort(folders.begin(), folders.end());
    for (const auto& d : folders)
      if (fittedForModel(d / name)) return (d / name).string();
  }
  return fallback;
}

std::vector<std::string> checkSpinResponse(const SpinResponse& r, const io::EventTable& measured,
                                           const AnalyserConfig& analysers) {
  const auto& p = r.provenance;
  const std::string wanted = analyserDescription(analysers);
  if (p.analysers != wanted)
    throw ConfigError(
        fmt::format("spin response from {} was fitted for '{}', the measurement uses '{}': build a "
                    "response for these analysers with `nurec calibrate`",
                    p.sampleFile, p.analysers, wanted));
  const std::string sel = selectionOf(measured, analysers);
  if (p.selection != sel)
    throw ConfigError(fmt::format(
        "spin response from {} was fitted on '{}' events, the measurement of {} uses '{}': the "
        "selection sculpts the analysers, so the response does not apply",
        p.sampleFile, p.selection, measured.source(), sel));
  const std::int64_t seed = intAttributeOr(measured, "seed");
  if (p.generatorSeed >= 0 && seed == p.generatorSeed &&
      generatorPhaseSpace(measured) == p.generatorPhaseSpace)
    throw InputError(fmt::format(
        "{} and the spin response's calibration sample {} were generated with the same seed {} "
        "and phase space: the response is not independent of the measured events (it would "
        "reproduce their truth by construction); calibrate on a sample with another seed",
        measured.source(), p.sampleFile, seed));
  std::vector<std::string> warnings;
  const std::string card = measured.stringAttributeOr("detector_config");
  if (card != p.detectorCard)
    warnings.push_back(card.empty()
                           ? "the measured file records no detector card; the response's was not "
                             "checked against it"
                           : "detector card differs from the response's calibration sample");
  // A response belongs to the model that reconstructed its sample: compare the weights'
  // checksums (the folder may differ between machines). Files written before the attribute
  // existed are not checked.
  const std::string model = measured.stringAttributeOr(io::nuModelAttribute(analysers.method));
  if (!p.model.empty() && !model.empty() && modelWeightsId(model) != modelWeightsId(p.model))
    warnings.push_back(fmt::format(
        "the response was fitted for the model {}, the measured file was reconstructed with {}: "
        "fit a response for this model with `nurec calibrate`",
        p.model, model));
  const std::string ps = generatorPhaseSpace(measured);
  if (ps != p.generatorPhaseSpace)
    warnings.push_back(ps.empty()
                           ? "the measured file records no generator phase space (e.g. HepMC3 "
                             "input); the response's was not checked against it"
                           : "generator phase space (mass window, cuts, decay modes) differs "
                             "from the response's calibration sample");
  return warnings;
}

}  // namespace nurec::quantum
