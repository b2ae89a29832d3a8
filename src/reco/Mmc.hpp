#pragma once
// Missing Mass Calculator (Elagin, Murat, Pranko, Safonov, NIM A 654 (2011) 481; docs/physics.md
// section 9). Per event: scan the azimuths of the two invisible systems, the invisible mass of
// leptonic taus and the MET within its resolution; at each point solve the tau-mass constraints
// (NeutrinoSolver.hpp) and weight every solution with P(dtheta_1|p_1) P(dtheta_2|p_2)
// [P(m_nunu)] [P(x)] from the likelihood table (AngularPdf.hpp). Estimators: MAXW, MLM, MLNU3P.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "nurec/core/Event.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/reco/AngularPdf.hpp"
#include "nurec/reco/MetModel.hpp"
#include "nurec/reco/Status.hpp"

namespace nurec::reco {

enum class MmcScan {
  Random,  // independent points: phi uniform in the window, MET nuisance Gaussian, m_nunu uniform
  Markov,  // Metropolis random walk with the solution weight (times P_MET) as target density
};
enum class MmcMassEstimator { Mlm, Maxw, Mlnu3p };
enum class MmcWeight { Kinematic, AngleTable };

struct MmcConfig {
  // Likelihood table; empty = the shipped data/mmc/mmc_pdfs_v1.json (defaultPdfPath()).
  std::string pdfPath;
  MmcScan scan = MmcScan::Random;
  // Scan points per event (Random) or chain steps after burn-in (Markov).
  int points = 4000;
  int markovBurnIn = 200;
  // Markov step sizes: phi in units of m_tau/pT_vis (at most the window), MET in sigma(MET),
  // m_nunu as a fraction of its range.
  double markovStepPhi = 0.5;
  double markovStepMet = 0.4;
  double markovStepMass = 0.25;
  // Markov stopping rule: if the MLM masses of the two half-chains differ by more than this
  // fraction, the chain is doubled (at most markovMaxExtensions times).
  double markovStability = 0.03;
  int markovMaxExtensions = 1;
  // phi window around each visible tau: +- min(phiWindowMaxRad, phiWindowScale u99 m_tau/pT_vis)
  // with u99 the 99 % quantile of the table's u distribution for that type (dphi ~ dtheta p/pT).
  double phiWindowMaxRad = 0.4;
  double phiWindowScale = 1.0;
  // Random scan: draw phi from a Gaussian of width phiProposalScale m_tau/pT_vis around the
  // visible tau (80 %, plus 20 % uniform in the window) and divide the weights by the proposal
  // density (importance sampling: same posterior, fewer wasted points). 0 = uniform in the window.
  double phiProposalScale = 1.0;
  // MET nuisance range in sigmas (ATLAS defaults: 4 had-had, 3 with a lepton).
  double metSigmasHadHad = 4;
  double metSigmasWithLepton = 3;
  MetResolutionModel met;
  // Solution weight (docs/reco.md "MMC weights"):
  //  AngleTable: the MMC paper's P(dtheta_1 | p_1, type_1) P(dtheta_2 | p_2, type_2) from the
  //    table (per radian; with scaledAngleWeight P(u | p), u = dtheta p_tau/m_tau, instead).
  //  Kinematic: the posterior density of the scan variables for unpolarised decays with exactly
  //    measured visible momenta, the decay measure d^3P/E_P delta((P - p_vis)^2 - m_nu^2) and a
  //    prior flat in each x = E_vis/E_tau (as FastMTT's x grid):
  //      w = prod_i [P(m_nunu,i)/p*(m_nunu,i)] / (E_tau,i^3 |dg_i/dpz_nu,i|) x pT1
  //      pT2/|sin(phi1-phi2)|
  //    with g_i = (P_i - p_vis,i)^2 - m_nu,i^2 and p* the tau -> l + (nu nu) two-body momentum;
  //    P(m_nunu) comes from the table. The angle table weight piles solutions up at x = 1/2
  //    (the Jacobian peak of the two-body opening angle) and biases m_tautau high; the kinematic
  //    weight does not (measured in docs/reco.md), so it is the default.
  MmcWeight weight = MmcWeight::Kinematic;
  bool scaledAngleWeight = false;
  // Weight factors beyond the angles.
  bool useMassProbability = true;  // P(m_nunu) of leptonic taus from the table
  bool useTauProbability = false;  // AngleTable only: f(x) of docs/physics.md section 6
  // Estimator that fills /nu/mmc/mtautau; the neutrinos always come from MLNU3P.
  MmcMassEstimator massEstimator = MmcMassEstimator::Mlm;
  double massBinGeV = 2.0;      // MLM histogram bin
  double momentumBinGeV = 0.5;  // MLNU3P histograms
  int smoothPasses = 8;         // (1,2,1)/4 passes: Gaussian-like kernel of sigma = 2 bins
  // Retry failed events whose visible taus are nearly back to back (dphi > retryMinDeltaPhi)
  // with the MET window widened by retryMetFactor (DiTauMassTools option); 0 = no retry.
  double retryMetFactor = 0;
  double retryMinDeltaPhi = 2.9;
  void validate() const;
  std::string describe() const;  // one-line text for the output file's attributes
};

// Path of the shipped likelihood table (found relative to the source tree at build time).
std::string defaultPdfPath();

struct MmcResult {
  RecoStatus status = RecoStatus::NotReconstructed;
  double mTauTauMlm = 0;           // mode of the weighted m_tautau histogram
  double mTauTauMaxw = 0;          // m_tautau of the highest-weight solution
  double mTauTauMlnu3p = 0;        // mass from the MLNU3P neutrinos
  double mTauTau = 0;              // the configured estimator
  std::array<FourVector, 2> nu{};  // MLNU3P neutrino systems
  std::int64_t pointsTried = 0;
  std::int64_t solutions = 0;  // solutions with non-zero weight
};

class MmcReconstructor {
 public:
  MmcReconstructor(const MmcConfig& config, std::shared_ptr<const AngularPdfTable> pdfs);
  // rng must be the event's own stream, Rng(seed, eventIndex, streams::reco).
  MmcResult reconstruct(const RecoEvent& ev, Rng& rng) const;
  const MmcConfig& config() const { return config_; }
  const AngularPdfTable& pdfs() const { return *pdfs_; }

 private:
  MmcResult run(const RecoEvent& ev, Rng& rng, double metWindowFactor) const;
  MmcConfig config_;
  std::shared_ptr<const AngularPdfTable> pdfs_;
};

}  // namespace nurec::reco
