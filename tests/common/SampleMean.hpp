#pragma once
#include <algorithm>
#include <cmath>

// Running mean of a sampled quantity with its RMS and the statistical error of the mean, for
// tests that compare Monte Carlo averages with analytic values.
struct SampleMean {
  double sum = 0, sum2 = 0;
  long n = 0;
  void add(double x) {
    sum += x;
    sum2 += x * x;
    ++n;
  }
  double mean() const { return sum / n; }
  double rms() const { return std::sqrt(std::max(0.0, sum2 / n - mean() * mean())); }
  double err() const { return rms() / std::sqrt(static_cast<double>(n)); }
};
