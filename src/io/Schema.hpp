#pragma once
// Conversion between the physics structs of core/Event.hpp and the columns of the event file.
// Dataset names and shapes are those of docs/data-format.md; change both together.
#include <vector>

#include "nurec/core/Event.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::io {

namespace ds {
inline constexpr const char* weight = "/weight";
inline constexpr const char* bosonP4 = "/truth/boson_p4";
inline constexpr const char* tauP4 = "/truth/tau_p4";
inline constexpr const char* visP4 = "/truth/vis_p4";
inline constexpr const char* nuP4 = "/truth/nu_p4";
inline constexpr const char* decayMode = "/truth/decay_mode";
inline constexpr const char* chargedPiP4 = "/truth/charged_pi_p4";
inline constexpr const char* neutralPiP4 = "/truth/neutral_pi_p4";
inline constexpr const char* productsP4 = "/truth/products_p4";             // extension (N,2,M,4)
inline constexpr const char* productsPdg = "/truth/products_pdg";           // extension (N,2,M) i4
inline constexpr const char* recoilP4 = "/truth/recoil_p4";                 // extension (N,R,4)
inline constexpr const char* recoilPdg = "/truth/recoil_pdg";               // extension (N,R) i4
inline constexpr const char* neutrinosEachP4 = "/truth/neutrinos_each_p4";  // ext. (N,2,2,4)
inline constexpr const char* neutrinosEachPdg = "/truth/neutrinos_each_pdg";  // ext. (N,2,2) i4
inline constexpr const char* partonPdg = "/truth/parton_pdg";                 // extension (N,2) i4
inline constexpr const char* partonX = "/truth/parton_x";                     // extension (N,2)
inline constexpr const char* spinB = "/truth/spin_b";                         // extension (N,2,3)
inline constexpr const char* spinC = "/truth/spin_c";                         // extension (N,3,3)
inline constexpr const char* primaryVertex = "/truth/primary_vertex";         // extension (N,3) mm
inline constexpr const char* tauDecayVertex = "/truth/tau_decay_vertex";      // ext. (N,2,3) mm
inline constexpr const char* recoTauP4 = "/reco/tau_p4";
inline constexpr const char* recoTauType = "/reco/tau_type";
inline constexpr const char* recoChargedP4 = "/reco/charged_p4";
inline constexpr const char* recoNeutralP4 = "/reco/neutral_p4";
inline constexpr const char* recoMet = "/reco/met";
inline constexpr const char* recoSumEt = "/reco/sum_et";                  // extension (N)
inline constexpr const char* recoPrimaryVertex = "/reco/primary_vertex";  // extension (N,3) mm
inline constexpr const char* recoTrackIp = "/reco/track_ip";              // extension (N,2,4) mm
inline constexpr const char* recoJetsP4 = "/reco/jets_p4";
inline constexpr const char* recoNJets = "/reco/n_jets";
inline constexpr const char* recoChannel = "/reco/channel";
inline constexpr const char* recoPassTrigger = "/reco/pass_trigger";
inline constexpr const char* recoPassSr = "/reco/pass_sr";
inline constexpr const char* recoParticles = "/reco/particles";
inline constexpr const char* recoParticlesMask = "/reco/particles_mask";
}  // namespace ds

// File attribute saying whether /truth/spin_b, spin_c hold the generator's per-event spin state.
// Input without it (HepMC3 records carry no spin density matrix) has no spin datasets and
// spin_truth = "unknown" (docs/data-format.md); zeros would read as a real, unpolarised state.
inline constexpr const char* kSpinTruthAttribute = "spin_truth";
inline constexpr const char* kSpinTruthUnknown = "unknown";
enum class SpinTruthContent { Known, Unknown };

// /nu/<method>/... dataset names.
std::string nuP4Name(const std::string& method);
std::string nuCandidatesName(const std::string& method);
std::string nuStatusName(const std::string& method);
// "/nu/<method>/mtautau" (N): a method's own di-tau mass estimate [GeV], 0 where status != 0;
// "/nu/<method>/mtautau_quantiles" (N,3): the 16/50/84 % quantiles of m_tautau over a sampling
// method's candidates [GeV], NaN where status != 0 (docs/data-format.md).
std::string nuMassName(const std::string& method);
std::string nuMassQuantilesName(const std::string& method);
// "/nu/<method>/mtautau_interval68" (N,2): the calibrated 68 % interval of m_tautau [GeV] of a
// model that carries an interval calibration (eval/MassIntervals.hpp), NaN where status != 0.
std::string nuMassIntervalName(const std::string& method);
// File attribute naming the model a learned method was reconstructed with ("nu_<method>_model":
// "<model dir> (model.pt FNV-1a <hex>)"), checked against spin responses (docs/quantum.md).
std::string nuModelAttribute(const std::string& method);
// Its value for a diffusion model directory, "<dir> (model.pt FNV-1a <hex>)": identifies the
// weights in files written by reconstruct and in spin responses. InputError if model.pt is
// unreadable.
std::string diffusionModelLabel(const std::string& modelDir);
// Methods present in the table (names of the /nu/<method>/p4 datasets), sorted.
std::vector<std::string> nuMethods(const EventTable& table);

// Writes /weight and the /truth group (replacing any existing truth columns). With
// SpinTruthContent::Unknown the spin datasets are left out and the file is marked spin_truth =
// "unknown".
void putTruth(EventTable& table, const std::vector<TruthEvent>& events,
              SpinTruthContent spin = SpinTruthContent::Known);
// Reads /weight and /truth; the extension datasets are optional (empty products, recoil, spin
// when absent). Throws InputError naming the dataset on a missing column or wrong shape.
std::vector<TruthEvent> getTruth(const EventTable& table);

// /truth/decay_mode, two per event (tau-, tau+ of each row in turn). Throws InputError naming the
// file, dataset and event on a wrong shape or a value outside 0-4 (core/Event.hpp DecayMode).
std::vector<DecayMode> getDecayModes(const EventTable& table);

// Writes the /reco group except the ML point cloud (detector/DetectorSimulation.hpp writes it).
void putReco(EventTable& table, const std::vector<RecoEvent>& events);
// Reads the /reco group after validateReco.
std::vector<RecoEvent> getReco(const EventTable& table);

// The one check of the values of the reconstructed inputs, run by every reconstruction method
// and by `evaluate` before using a file: of the /reco datasets present, values finite
// (EventTable::get), tau types in -1..3, channels in -1..6, jet counts within the jet array,
// /reco/sum_et >= 0, particle-mask values 0/1, primary vertex and track IPs together. Which
// datasets must be present is the reader's business (getReco needs all of /reco). Throws
// InputError naming file, dataset and event (docs/reliability.md).
void validateReco(const EventTable& table);

// Per-event neutrino estimates of one method: p4 (N,2,4) and status (N).
struct NuEstimate {
  std::vector<std::array<FourVector, 2>> p4;
  std::vector<std::int8_t> status;
};
void putNu(EventTable& table, const std::string& method, const NuEstimate& nu);
NuEstimate getNu(const EventTable& table, const std::string& method);

}  // namespace nurec::io
