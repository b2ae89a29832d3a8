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
