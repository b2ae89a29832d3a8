#pragma once
#include <cstddef>
#include <functional>

namespace nurec {

// Runs body(i) for i in [0, n) on `threads` worker threads (0 = all cores). Work is handed out in
// chunks; since every event draws from its own random stream (core/Random.hpp), the result does not
// depend on the thread count. Exceptions thrown by body are rethrown in the caller (the first one).
void parallelFor(std::size_t n, int threads, const std::function<void(std::size_t)>& body);

// Number of threads the machine offers.
int hardwareThreads();

}  // namespace nurec
