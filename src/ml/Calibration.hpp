#pragma once
// Selection of one estimate from K candidates and calibration scores (docs/ml-methods.md section
// 7). Torch-free.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace nurec::ml {

// MassMode: the per-component median over the densest half of the candidates in m_tautau (the
// ceil(K/2) consecutive ones, in order of mass, that span the smallest mass range): a point
// estimate at the mode of the mass posterior rather than at its median (docs/ml-methods.md section
// 7).
enum class SelectionRule { Random, Median, Medoid, TauMass, MassMode };
SelectionRule selectionRuleFromName(const std::string& name);  // ConfigError on unknown names

// candidates: K x 6 neutrino momenta (GeV, lab frame; tau+ then tau-). scaled: the same in
// normalised units (for the medoid distance). visP4: (px, py, pz, E) of the visible tau+ and tau-.
// leptonic[k]: tau k decayed leptonically (two neutrinos: the tau-mass rule only penalises
// m_tau,reco > m_tau there). random: a uniform number in [0, 1) for the random rule.
std::array<double, 6> selectCandidate(SelectionRule rule, const std::vector<double>& candidates,
                                      const std::vector<double>& scaled,
                                      const std::array<double, 8>& visP4,
                                      const std::array<bool, 2>& leptonic, double random);

// m_tautau of every candidate: the visible taus (visP4) plus the candidate's two neutrino systems,
// each massless (E = |p|, as in /nu/<method>/p4) [GeV].
std::vector<double> candidatePairMasses(const std::vector<double>& candidates,
                                        const std::array<double, 8>& visP4);

// A resonance hypothesis imposed at reconstruction (docs/ml.md "Mass hypothesis"). The candidates
// of a model trained flat in the true m_tautau (models/ztautau_logflat_ip) sample a posterior whose
// prior is flat in m; weighting each by the relativistic Breit-Wigner density of its m_tautau,
//   w(m) ~ m / ((m^2 - M^2)^2 + M^2 Gamma^2)     (the density in m: ds = 2 m dm),
// turns them into samples of the posterior under the prior "a resonance of mass M and width Gamma".
// The estimate is the weighted per-component median. On a model with a peaked prior (the Z models)
// the weights multiply that prior instead of replacing it.
struct MassHypothesis {
  double massGeV = 0;   // M; 0 = no hypothesis
  double widthGeV = 0;  // Gamma (total width; a detector-limited posterior makes a physical width
                        // of a few MeV act like a narrow window, see docs/ml.md)
  bool enabled() const { return massGeV != 0; }
  void validate() const;  // ConfigError: M or Gamma not finite and > 0, or Gamma > M
};
// "M,GAMMA" in GeV, e.g. "91.1876,2.4952"; ConfigError naming the text otherwise.
MassHypothesis massHypothesisFromText(const std::string& text);

// Normalised weights of the candidates with pair masses `masses` [GeV] under the hypothesis; a
// candidate without a finite positive mass gets weight 0 (all zero if none has one).
std::vector<double> massHypothesisWeights(const std::vector<double>& masses,
                                          const MassHypothesis& hypothesis);
// Per-component weighted median (core weightedQuantile) of K x 6 candidates.
std::array<double, 6> weightedComponentMedian(const std::vector<double>& candidates,
                                              const std::vector<double>& weights);

// Reconstructed tau mass from a visible four-vector and a neutrino-system momentum with E = |p|.
double tauMassReco(const double* vis4, const double* nu3);

// CRPS of a sample ensemble for observation y (unbiased K-sample form, docs/ml-methods.md section
// 7).
double crpsEnsemble(const std::vector<double>& samples, double y);
// Closed form for a Gaussian N(m, s^2).
double crpsGaussian(double m, double s, double y);
// Rank of y among the samples: number of samples below y (0..K).
int rankOf(const std::vector<double>& samples, double y);

}  // namespace nurec::ml
