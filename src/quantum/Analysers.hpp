#pragma once
// Spin analysers of each tau from an event file (docs/physics.md sections 2 and 6), in the helicity
// basis {k, r, n} of the pair, reached lab -> pair -> tau rest frame (core/HelicityBasis.hpp).
//   pi:     the pi direction, kappa = 1
//   rho:    the polarimeter vector h(pi+-, pi0, nu) (section 6 formula), kappa = 1; or the visible
//           (pi pi0) direction with kappa(m) = (m_tau^2 - 2m^2)/(m_tau^2 + 2m^2)
//   lepton: the lepton direction, kappa = -1/3, or per event kappa(x) = -(2x - 1)/(3 - 2x) with
//           x = 2E_l/m_tau in the tau rest frame; at truth level optionally the nubar_l (tau-) /
//           nu_l (tau+) direction with kappa = 1.
// Method "truth" uses /truth (tau_p4, charged/neutral pi, products, neutrinos); any other method M
// uses tau = /reco/tau_p4 + /nu/M/p4, the track /reco/charged_p4 and the pi0 cluster
// /reco/neutral_p4. kappa is always in the tau- convention (alpha+ = -kappa+, alpha- = +kappa-).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nurec/core/Event.hpp"
#include "nurec/core/HelicityBasis.hpp"
#include "nurec/core/Polarimeter.hpp"
#include "nurec/io/EventTable.hpp"
#include "nurec/quantum/Estimators.hpp"

namespace nurec::quantum {

enum class LeptonAnalyser { Direction, DirectionEnergy, Neutrino };
enum class RhoAnalyser { Polarimeter, VisibleDirection };
// How a method with per-event candidates (/nu/M/candidates, the diffusion posterior samples) enters
// the spin measurement (docs/quantum.md "Estimators that use the diffusion posterior"):
//   Estimate:      the method's point estimate /nu/M/p4 (one neutrino pair per event);
//   PosteriorMean: the estimator terms (kappa x, kappa+ kappa- x+ x-^T, kappa^2) computed per
//                  candidate, each with its own helicity basis and the tau mass imposed, and
//                  averaged over the event's candidates.
enum class CandidateUse { Estimate, PosteriorMean };
LeptonAnalyser parseLeptonAnalyser(const std::string& s);  // "direction", "energy", "neutrino"
RhoAnalyser parseRhoAnalyser(const std::string& s);        // "polarimeter", "visible"
CandidateUse parseCandidateUse(const std::string& s);      // "estimate", "posterior-mean"
std::string candidateUseName(CandidateUse u);
// `--candidates auto`, the default: the posterior mean for a method whose file carries more than
// one candidate per event (the lower statistical errors, docs/quantum.md), else the estimate.
// "estimate" and "posterior-mean" are returned as given.
CandidateUse resolveCandidateUse(const std::string& s, const io::EventTable& table,
                                 const std::string& method);

struct AnalyserConfig {
  std::string method = "truth";
  LeptonAnalyser lepton = LeptonAnalyser::DirectionEnergy;
  RhoAnalyser rho = RhoAnalyser::Polarimeter;
  // Use only events with /reco/pass_sr = 1 when the file has a /reco group.
  bool requireSignalRegion = true;
  // Optional override of the neutrinos (systematics: a re-sampled diffusion candidate per event).
  // When non-empty, it replaces /nu/<method>/p4 (size = number of events).
  std::vector<std::array<FourVector, 2>> neutrinoOverride;
  // Reconstruction methods: rebuild each tau as (p_vis + p_nu, E = sqrt(p^2 + m_tau^2)), i.e. keep
  // the reconstructed tau momentum and impose the tau mass before boosting into its rest frame (the
  // neutrino of the rho polarimeter is then tau - visible). Without it, methods whose neutrinos
  // do not give m(vis + nu) = m_tau (collinear: massless parallel neutrinos) boost into a frame
  // with the wrong velocity and the analysers lose most of their power.
  bool tauMassConstraint = true;
  CandidateUse candidates = CandidateUse::Estimate;
  void validate() const;
};

struct TauAnalyser {
  Vec3 x{};
  double kappa = 0;  // 0: no analyser
};

// One tau's analysers (tauIndex 0 = tau+, 1 = tau-). Four-vectors in the lab.
TauAnalyser pionAnalyser(const HelicityBasis& basis, int tauIndex, const FourVector& pion);
// h = m [2(q.N) q - q^2 N]/[2(q.N)(q.P) - q^2 (N.P)] in the tau rest frame, q = pi+- - pi0,
// N = nu, P = (m, 0); normalised to unit length (exactly 1 for true kinematics). m is the mass
// of tau = charged + neutral + nu (the reconstructed tau mass at reco level).
// The raw polarimeter vector (not normalised) is nurec::rhoPolarimeter (core/Polarimeter.hpp).
TauAnalyser rhoPolarimeterAnalyser(const HelicityBasis& basis, int tauIndex,
                                   const FourVector& charged, const FourVector& neutral,
                                   const FourVector& nu);
TauAnalyser rhoVisibleAnalyser(const HelicityBasis& basis, int tauIndex, const FourVector& visible);
TauAnalyser leptonAnalyser(const HelicityBasis& basis, int tauIndex, const FourVector& lepton,
                           bool energyDependent);
TauAnalyser neutrinoAnalyser(const HelicityBasis& basis, int tauIndex, const FourVector& nu);
// Analysis channel of a pair of truth decay modes (None for ll and "other").
Channel channelOfModes(DecayMode plus, DecayMode minus);

struct AnalyserSet {
  std::vector<AnalyserEvent> events;  // events with analysers for both taus
  std::size_t nInput = 0;             // rows of the file
  std::size_t nSelected = 0;          // after the signal-region requirement
  std::size_t nFailed = 0;            // reconstruction status != 0 or unusable tau momenta
  std::size_t nNoAnalyser = 0;        // channel without analysers (other decays, ll)
  std::string method;
};

// Throws InputError (naming the file and dataset) on missing datasets; ConfigError on a bad config.
AnalyserSet buildAnalysers(const io::EventTable& table, const AnalyserConfig& config);

// The per-event neutrinos of one diffusion candidate k (massless, from /nu/M/candidates (N,K,2,3)),
// or of a random candidate per event (k < 0: Rng(seed, row, streams::quantum)).
std::vector<std::array<FourVector, 2>> candidateNeutrinos(const io::EventTable& table,
                                                          const std::string& method, int k,
                                                          std::uint64_t seed);
int numCandidates(const io::EventTable& table, const std::string& method);  // 0 when absent

}  // namespace nurec::quantum
