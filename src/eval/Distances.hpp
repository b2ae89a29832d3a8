#pragma once
// Distances between two 1-D distributions given as samples (a reconstructed and a true one).
// Definitions, binning and the treatment of empty bins: docs/metrics.md.
#include <span>
#include <vector>

namespace nurec::eval {

// Distances computed from the two empirical CDFs F (sample a) and G (sample b), exactly.
struct CdfDistances {
  double wasserstein1 = 0;  // W1 = integral |F - G| dx              (units of the variable)
  double energy = 0;        // sqrt(2 integral (F - G)^2 dx)          (scipy's energy_distance)
  double ks = 0;            // sup |F - G|                            (dimensionless)
};
// Non-finite entries are ignored; NaN results if either sample is empty.
CdfDistances cdfDistances(std::span<const double> a, std::span<const double> b);

struct KlConfig {
  // Range: [min of the two lowerQuantile quantiles, max of the two upperQuantile quantiles];
  // entries outside are counted in the first/last bin.
  double lowerQuantile = 0.001;
  double upperQuantile = 0.999;
  void validate() const;
};
// Binned Kullback-Leibler divergence KL(P || Q) = sum_i p_i ln(p_i / q_i) in nats, P from
// `truth`, Q from `reco`, with `bins` equal-width bins. Bins empty in P contribute 0; a bin empty
// in Q but not in P gets half an event (q_i = 0.5 / N_reco) and Q is renormalised.
double klDivergenceBinned(std::span<const double> truth, std::span<const double> reco, int bins,
                          const KlConfig& config = {});

// The full set reported per component by `nurec evaluate`.
struct DistributionDistances {
  double wasserstein1 = 0, energy = 0, ks = 0;
  double kl64 = 0, kl128 = 0, kl256 = 0;
  DistributionDistances& operator+=(const DistributionDistances& o);
};
DistributionDistances distributionDistances(std::span<const double> truth,
                                            std::span<const double> reco);

// The distances a perfect reconstruction would still show from sampling noise alone: those
// between two independent samples of truth.size() entries from the truth's distribution
// (docs/metrics.md "Sampling-noise floor"). Estimated from the truth itself: the distances
// between its even- and its odd-indexed entries (N/2 each), scaled from N/2 vs N/2 to N vs N
// with the large-sample laws: W1, energy and KS grow as sqrt(1/n + 1/m) (x 1/sqrt 2), the binned
// KL as 1/n + 1/m (x 1/2). NaN with fewer than 4 finite entries.
DistributionDistances samplingNoiseFloor(std::span<const double> truth);

}  // namespace nurec::eval
