#pragma once
// Calibration of sampled candidates against the truth (docs/ml-methods.md section 7): rank
// histogram, coverage of order-statistic intervals, and the continuous ranked probability score
// (CRPS).
#include <cstddef>
#include <span>
#include <vector>

namespace nurec::eval {

// Candidates of one component for many events, flat: candidates[e * K + k].
struct CandidateSample {
  std::span<const double> candidates;
  std::span<const double> truth;  // one per event
  std::size_t k = 0;              // candidates per event
  void validate() const;          // sizes consistent, K >= 2
};

// Rank = number of candidates below the truth (0 ... K); ties count half (rounded down).
// Returns counts per rank (size K + 1). Events with a non-finite truth or candidate are skipped.
std::vector<std::size_t> rankHistogram(const CandidateSample& s);

// Fraction of events whose truth lies strictly inside (x_(i), x_(j)) of the sorted candidates,
// 1 <= i < j <= K (1-based order statistics). Calibrated: (j - i) / (K + 1).
double coverage(const CandidateSample& s, std::size_t i, std::size_t j);

// Unbiased ("fair") ensemble CRPS of candidates x_1..x_K for the observation y (docs/ml-methods.md
// section 7): (1/K) sum_k |x_k - y| - 1/(2K(K-1)) sum_{k != l} |x_k - x_l|.
double crpsEnsemble(std::span<const double> candidates, double y);
// Mean of crpsEnsemble over the events of s.
double meanCrps(const CandidateSample& s);
// Spread (sharpness) of candidates: half the mean absolute difference of two distinct candidates,
// 1/(2K(K-1)) sum_{k != l} |x_k - x_l|, the term the CRPS subtracts (for a Gaussian of width sigma
// sigma/sqrt(pi)). Comparing it with the CRPS on two samples tells a wider posterior (the events
// carry less information, and the model sees it) from a worse one (docs/ml-methods.md section 7).
double ensembleSpread(std::span<const double> candidates);
// Mean of ensembleSpread over the events of s.
double meanSpread(const CandidateSample& s);
// Closed form for a Gaussian forecast N(m, s^2): s [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)].
double crpsGaussian(double mean, double sigma, double y);

}  // namespace nurec::eval
