#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "nurec/core/Parallel.hpp"
#include "nurec/core/Random.hpp"

using namespace nurec;

TEST(Parallel, ResultIndependentOfThreadCount) {
  auto run = [](int threads) {
    std::vector<double> out(5000);
    parallelFor(out.size(), threads, [&](std::size_t i) {
      Rng rng(99, i);
      out[i] = rng.normal();
    });
    return out;
  };
  EXPECT_EQ(run(1), run(2));
  EXPECT_EQ(run(1), run(4));
}

TEST(Parallel, RethrowsWorkerException) {
  EXPECT_THROW(parallelFor(1000, 2,
                           [](std::size_t i) {
                             if (i == 500) throw std::runtime_error("boom");
                           }),
               std::runtime_error);
}
