#pragma once
// Spin response files (`nurec calibrate`, docs/quantum.md "Calibration"): the linear response
// theta_reco = R theta_true + o of quantum/Calibration.hpp, fitted once on an independent
// truth-bearing sample for one method, analyser choice and selection, for all channels together
// and per channel, with its bootstrap refits (the calibration's own uncertainty) and the sample's
// provenance. `nurec spin --calibration RESPONSE` applies it; a response never comes from the
// measured events themselves (a response fitted on them absorbs their statistical fluctuation
// and reproduces the truth by construction).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/quantum/Analysers.hpp"
#include "nurec/quantum/Calibration.hpp"

namespace nurec::quantum {

inline constexpr const char* kSpinResponseSchema = "nurec-spin-response";
inline constexpr int kSpinResponseVersion = 1;

struct ResponseProvenance {
  std::string method;            // the reconstruction (analysers.method)
  std::string analysers;         // analyserDescription(): must match the measurement's
  std::string selection;         // selectionOf(): "signal region" or "all events"; must match
  std::string calibrationModel;  // "full" or "diagonal"
  // From the calibration sample's attributes (empty / -1 when absent).
  std::string detectorCard;         // @detector_config
  std::string generatorPhaseSpace;  // mass window, generator cuts, decay modes of @config
  std::int64_t generatorSeed = -1;  // @seed
  std::int64_t detectorSeed = -1;   // @detector_seed
  std::string producer;             // @producer
  std::string model;                // free text, e.g. the diffusion model and its checksum
  std::string sampleFile;
  std::size_t sampleEvents = 0;    // rows of the sample
  std::size_t sampleAnalysed = 0;  // events with analysers for both taus after the selection
  std::string createdBy;           // nurec version that fitted the response
};

struct SpinResponse {
  ResponseProvenance provenance;
  CalibrationConfig config;
  std::map<std::string, Calibration> subsets;  // "combined" and the channel names
  // nullptr when the subset has no valid response.
  const Calibration* find(const std::string& subset) const;
};

// "method=mmc lepton=energy rho=polarimeter tau_mass_constraint=1".
std::string analyserDescription(const AnalyserConfig& cfg);
// The event selection buildAnalysers applies to this file with this config.
std::string selectionOf(const io::EventTable& table, const AnalyserConfig& cfg);
// The generator phase-space lines (mass window, cuts, decay modes) of the file's @config, "" when
// the file has none (e.g. HepMC3 input).
std::string generatorPhaseSpace(const io::EventTable& table);

// Fits the response on a truth-bearing sample (it must carry the per-event spin state).
// `modelLabel` is recorded as provenance.model.
SpinResponse buildSpinResponse(const io::EventTable& sample, const AnalyserConfig& analysers,
                               const CalibrationConfig& cfg, const std::string& modelLabel,
                               bool showProgress);
// JSON; written atomically. readSpinResponse throws InputError naming the file on anything that
// is not a response file of this version.
void writeSpinResponse(const SpinResponse& response, const std::string& path);
SpinResponse readSpinResponse(const std::string& path);
// The provenance alone (the per-subset fits are skipped while parsing), with the same checks of
// schema, version and provenance fields.
ResponseProvenance readSpinResponseProvenance(const std::string& path);
// True when the file starts like JSON (a response file) rather than HDF5 (an event sample).
bool isSpinResponseFile(const std::string& path);

// Whether `response` may calibrate a measurement of `measured` with `analysers`. Throws
// ConfigError when it was fitted for another method, other analysers or another selection, and
// InputError when its sample is the measured sample (same generator seed and phase space).
// Returns warnings for what may bias the result but is not wrong by construction (another
// detector card or generator phase space).
// The weights' identity in a model label "<dir> (model.pt FNV-1a <hex>)" (the part from "FNV-1a"),
// so that the same weights in another folder compare equal; a label without it is returned whole.
std::string modelWeightsId(const std::string& label);

// The spin response shipped for a method (docs/quantum.md "Shipped responses"):
// data/spin-response/<method>.json, or <method>-posterior-mean.json for that estimator, fitted
// for the default model. Given the measured file, a method with a model (diffusion) takes the
// response fitted for the model that reconstructed it when a folder data/spin-response/<name>/
// holds one (matched by modelWeightsId, so the model's folder does not matter); otherwise, or
// without a recorded model, the default. Never throws: a missing default is reported by its user.
std::string shippedSpinResponse(const AnalyserConfig& analysers,
                                const io::EventTable* measured = nullptr);

std::vector<std::string> checkSpinResponse(const SpinResponse& response,
                                           const io::EventTable& measured,
                                           const AnalyserConfig& analysers);

}  // namespace nurec::quantum
