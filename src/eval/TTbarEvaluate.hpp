#pragma once
// `nurec evaluate` of t tbar files (docs/ttbar.md "Evaluation"): for every method that wrote
// /nu/<method>/partons, the resolution of each of the 55 parton-record components (11 partons x
// (M, E, px, py, pz)) and the distances between the reconstructed and the true distribution of
// each component, summed over the 55 as in Table 1 of the latent-diffusion study. Metric
// definitions (HWHM, W1, energy, KS, KL): docs/metrics.md.
#include <array>
#include <string>
#include <vector>

#include "nurec/eval/Distances.hpp"
#include "nurec/eval/Resolution.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::eval {

inline constexpr int kTTbarPartons = 11, kTTbarComponents = 5;
inline constexpr int kTTbarRecordSize = kTTbarPartons * kTTbarComponents;  // 55

// "/nu/<method>/partons" (N,11,5), "/nu/<method>/chi2" (N) (docs/data-format.md "t tbar").
std::string nuPartonsName(const std::string& method);
std::string nuChi2Name(const std::string& method);
// Methods with a /nu/<method>/partons dataset among these dataset names, sorted.
std::vector<std::string> ttbarMethods(const std::vector<std::string>& datasetNames);

struct TTbarEvaluateConfig {
  std::vector<std::string> methods;  // empty: every method in the file
  bool selectedOnly = true;          // only rows with /reco/pass_sr == 1
  HwhmConfig hwhm;
};

struct TTbarMethodResult {
  std::string method;
  std::size_t eventsReconstructed = 0;  // status 0 or 1 among the selected
  // Per component c = 5 * parton + {M, E, px, py, pz}: residual reco - truth [GeV].
  std::array<ResolutionSummary, kTTbarRecordSize> resolution{};
  std::array<DistributionDistances, kTTbarRecordSize> distances{};
  DistributionDistances sum;  // over the 55 components
};

// Distances summed over each parton's five components (M, E, px, py, pz): where a method's
// summed distance sits (the report's per-parton table).
std::array<DistributionDistances, kTTbarPartons> perPartonSums(
    const std::array<DistributionDistances, kTTbarRecordSize>& components);

// Histogram of one component of the record for the truth and each method (the report's plots):
// fixed physics ranges, so that reports of different files compare; entries outside are left out.
struct TTbarSpectrum {
  int component = 0;  // 5 * parton + {M, E, px, py, pz}
  std::string label;  // axis label, e.g. "m(t) [GeV]"
  double lo = 0, hi = 0;
  std::vector<double> truth;                 // counts per bin
  std::vector<std::vector<double>> methods;  // per method (in TTbarEvaluation::methods order)
};

// The distances a perfect reconstruction would show from sampling noise alone, per component and
// summed (eval::samplingNoiseFloor on the true values of the selected events): differences
// between methods, or from zero, below this size are not resolved by the sample.
struct TTbarNoiseFloor {
  std::array<DistributionDistances, kTTbarRecordSize> distances{};
  DistributionDistances sum;
};

struct TTbarEvaluation {
  std::string source;
  std::size_t eventsInFile = 0, eventsSelected = 0;
  TTbarNoiseFloor noiseFloor;
  std::vector<TTbarMethodResult> methods;
  std::vector<TTbarSpectrum> spectra;  // m(t), m(W+), pz(nu), m(t tbar)
};

// The evaluation of the table (truth /truth/partons, /reco/pass_sr, /nu/<method>/...). Events a
// method did not reconstruct (status other than 0 ok and 1 ok with the real part of the
// neutrino pz, docs/ttbar.md) are left out of its resolutions and of both distributions of its
// distances. InputError naming the dataset for a missing or malformed column.
TTbarEvaluation evaluateTTbar(const io::EventTable& table, const TTbarEvaluateConfig& config);

// The report: README.md (tables), metrics.json and, with plots, spectra.png/.svg (the spectra of
// the truth and every method, through gnuplot); written all or nothing into outDir.
std::string ttbarMarkdown(const TTbarEvaluation& result, bool plots = false);
std::string ttbarJson(const TTbarEvaluation& result);
void writeTTbarReport(const TTbarEvaluation& result, const std::string& outDir, bool plots = true);

}  // namespace nurec::eval
