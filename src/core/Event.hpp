#pragma once
// In-memory form of one event row of the HDF5 schema (docs/data-format.md). Index 0 of every
// pair is the tau+, index 1 the tau-. The io library converts between these structs and the
// column-oriented event file; physics code works on these.
#include <array>
#include <cstdint>
#include <vector>

#include "nurec/core/FourVector.hpp"

namespace nurec {

// Truth decay mode of a tau, values as stored in /truth/decay_mode.
enum class DecayMode : std::int8_t { Pi = 0, Rho = 1, Electron = 2, Muon = 3, Other = 4 };
// Reconstructed visible tau type, values as stored in /reco/tau_type.
enum class RecoTauType : std::int8_t { None = -1, Pi = 0, Rho = 1, Electron = 2, Muon = 3 };
// Analysis channel, values as stored in /reco/channel.
enum class Channel : std::int8_t {
  None = -1,
  PiPi = 0,
  EPi = 1,
  MuPi = 2,
  PiRho = 3,
  ERho = 4,
  MuRho = 5,
  RhoRho = 6
};
inline constexpr int kNumChannels = 7;
const char* channelName(Channel c);      // "pipi", "epi", ... ; "none"
const char* channelLabel(Channel c);     // "ππ", "eπ", ...
const char* decayModeName(DecayMode m);  // "pi", "rho", "e", "mu", "other"

// A final-state particle of the generator record (PDG id, lab four-momentum).
struct Particle {
  FourVector p4;
  int pdgId = 0;
};

// Spin state of the tau pair at one phase-space point (docs/physics.md sections 2-3), helicity
// basis {k, r, n}: rho = 1/4 [1 + B+.sigma x 1 + 1 x B-.sigma + C_ij sigma_i x sigma_j].
struct SpinState {
  std::array<double, 3> bPlus{};             // B+ (k, r, n)
  std::array<double, 3> bMinus{};            // B- (k, r, n)
  std::array<std::array<double, 3>, 3> c{};  // C_ij, row = tau+ index
};

// Generator-level content (/truth and /weight).
struct TruthEvent {
  double weightPb = 0;                    // /weight
  FourVector boson;                       // /truth/boson_p4
  std::array<FourVector, 2> tau;          // /truth/tau_p4
  std::array<FourVector, 2> visible;      // /truth/vis_p4
  std::array<FourVector, 2> neutrinos;    // /truth/nu_p4
  std::array<FourVector, 2> chargedPion;  // /truth/charged_pi_p4 (modes 0, 1)
  std::array<FourVector, 2> neutralPion;  // /truth/neutral_pi_p4 (mode 1)
  std::array<DecayMode, 2> decayMode{DecayMode::Other, DecayMode::Other};
  // Visible final-state decay products of each tau (pi+-, pi0, e, mu, photons), for the detector
  // simulation. /truth/products_p4, /truth/products_pdg (nurec extension, see data-format.md).
  std::array<std::vector<Particle>, 2> tauProducts;
  // Final-state particles not from the taus (initial-state radiation, underlying event).
  // /truth/recoil_p4, /truth/recoil_pdg.
  std::vector<Particle> recoil;
  // The individual neutrinos of each tau decay (1 for hadronic, 2 for leptonic decays); their sum
  // is `neutrinos`. /truth/neutrinos_each_p4, /truth/neutrinos_each_pdg (extension).
  std::array<std::vector<Particle>, 2> tauNeutrinos;
  // Incoming partons of the hard process: PDG ids (beam A, beam B) and momentum fractions.
  // /truth/parton_pdg (N,2) i4, /truth/parton_x (N,2) f8 (extension).
  std::array<int, 2> partonPdg{0, 0};
  std::array<double, 2> partonX{0, 0};
  // Analytic spin state of the pair at this event's phase-space point. /truth/spin_b,
  // /truth/spin_c.
  SpinState spin;
  // Space positions [mm] (docs/data-format.md): the primary vertex and each tau's decay vertex.
  // /truth/primary_vertex (N,3), /truth/tau_decay_vertex (N,2,3) (extension); absent from input
  // without positions (hasVertices = false).
  Vector3 primaryVertex;
  std::array<Vector3, 2> tauDecayVertex{};
  bool hasVertices = false;
};

// Perigee impact parameters of a track relative to the reconstructed primary vertex
// (docs/detector.md "Impact parameters"): signed transverse d0 and longitudinal z0 [mm] and their
// resolutions including the primary-vertex resolution [mm].
struct TrackImpactParameter {
  double d0Mm = 0, z0Mm = 0;
  double sigmaD0Mm = 0, sigmaZ0Mm = 0;
};

// Detector-level content (/reco).
struct RecoEvent {
  std::array<FourVector, 2> tau;  // /reco/tau_p4 (visible candidates)
  std::array<RecoTauType, 2> tauType{RecoTauType::None, RecoTauType::None};
  std::array<FourVector, 2> charged;  // /reco/charged_p4 (track of hadronic taus)
  std::array<FourVector, 2> neutral;  // /reco/neutral_p4 (pi0 cluster)
  double metX = 0, metY = 0;          // /reco/met
  double sumEt = 0;                   // /reco/sum_et (extension)
  std::vector<FourVector> jets;       // /reco/jets_p4, pT-ordered
  Channel channel = Channel::None;
  bool passTrigger = false;
  bool passSr = false;
  // Vertexing (extension; only with generator positions): /reco/primary_vertex (N,3) mm and
  // /reco/track_ip (N,2,4) = d0, z0, sigma_d0, sigma_z0 [mm] of each candidate's track (zeros
  // for an empty slot).
  Vector3 primaryVertex;
  std::array<TrackImpactParameter, 2> trackIp{};
  bool hasImpactParameters = false;
};

}  // namespace nurec
