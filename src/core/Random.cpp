#include "nurec/core/Random.hpp"

#include <algorithm>
#include <cmath>

namespace nurec {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::uint64_t hashSeed(std::uint64_t runSeed, std::uint64_t eventIndex, std::uint64_t streamId) {
  return splitmix64(splitmix64(splitmix64(runSeed) ^ eventIndex) ^
                    (streamId * 0xD6E8FEB86659FD93ull));
}

Rng::Rng(std::uint64_t runSeed, std::uint64_t eventIndex, std::uint64_t streamId) {
  std::uint64_t x = hashSeed(runSeed, eventIndex, streamId);
  for (auto& s : s_) {
    x = splitmix64(x);
    s = x;
  }
}

static inline std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

std::uint64_t Rng::nextU64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::normal() {
  if (hasSpare_) {
    hasSpare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  spare_ = v * f;
  hasSpare_ = true;
  return u * f;
}

int samplePoisson(double mean, Rng& rng) {
  if (!(mean > 0)) return 0;
  if (mean > 200) {  // normal limit; Knuth's product would need ~mean draws
    return static_cast<int>(std::max(0.0, std::round(rng.normal(mean, std::sqrt(mean)))));
  }
  // Knuth's product method.
  const double limit = std::exp(-mean);
  int n = 0;
  double p = rng.uniform();
  while (p > limit && n < 10000) {
    ++n;
    p *= rng.uniform();
  }
  return n;
}

}  // namespace nurec
