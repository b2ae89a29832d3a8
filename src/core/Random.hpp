#pragma once
#include <cmath>
#include <cstdint>

namespace nurec {

// Per-event random streams (docs/design.md "Randomness"): every event draws from a generator seeded
// by (run seed, event index, stream id), so results never depend on thread count or chunking and
// any single event can be re-run alone.
//
// Hand-written because the standard engines are slow to seed per event (mt19937_64 fills 312
// words) and std:: distributions are not reproducible across standard libraries. The engine is
// xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64 as its authors recommend.
class Rng {
 public:
  // Distinct substreams of one event (e.g. generator vs detector) use distinct stream ids.
  Rng(std::uint64_t runSeed, std::uint64_t eventIndex, std::uint64_t streamId = 0);

  std::uint64_t nextU64();
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(nextU64() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe inside log().
  double uniformPositive() { return 1.0 - uniform(); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal, Marsaglia polar method (caches the second deviate).
  double normal();
  double normal(double mean, double sigma) { return mean + sigma * normal(); }
  double exponential(double mean) { return -mean * std::log(uniformPositive()); }
  // Integer uniform in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : nextU64() % n; }

 private:
  std::uint64_t s_[4];
  double spare_ = 0;
  bool hasSpare_ = false;
};

// splitmix64 finaliser, also used to hash (seed, index) pairs for other libraries (e.g. Torch).
std::uint64_t splitmix64(std::uint64_t x);
std::uint64_t hashSeed(std::uint64_t runSeed, std::uint64_t eventIndex, std::uint64_t streamId = 0);

// Stream ids in use, one per library, so that stages never share random numbers.
// Poisson deviate drawn from `rng`: Knuth's product method, the normal limit above a mean of 200
// (Knuth would need ~mean draws); 0 for a mean that is not positive. Used by the recoil model and
// the pile-up overlay.
int samplePoisson(double mean, Rng& rng);

namespace streams {
inline constexpr std::uint64_t generator = 1;
inline constexpr std::uint64_t detector = 2;
inline constexpr std::uint64_t reco = 3;
inline constexpr std::uint64_t ml = 4;
inline constexpr std::uint64_t quantum = 5;
inline constexpr std::uint64_t eval = 6;
// Generator positions (primary and tau decay vertices): a stream of their own, so that the
// momenta of a run are the same with and without them.
inline constexpr std::uint64_t vertex = 7;
// Detector vertexing (primary-vertex and impact-parameter smearing), likewise separate.
inline constexpr std::uint64_t detectorVertex = 8;
}  // namespace streams

}  // namespace nurec
