#include "nurec/core/Parallel.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <exception>
#include <mutex>
#include <thread>

namespace nurec {

int hardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void parallelFor(std::size_t n, int threads, const std::function<void(std::size_t)>& body) {
  if (n == 0) return;
  const int nThreads = threads <= 0 ? hardwareThreads() : threads;
  if (nThreads == 1) {
    for (std::size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::exception_ptr firstError;
  std::mutex errorMutex;
  // TBB (a well-kept task scheduler) instead of hand-rolled threads; global_control caps it.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(nThreads));
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      try {
                        for (std::size_t i = range.begin(); i != range.end(); ++i) body(i);
                      } catch (...) {
                        std::lock_guard<std::mutex> lock(errorMutex);
                        if (!firstError) firstError = std::current_exception();
                      }
                    });
  if (firstError) std::rethrow_exception(firstError);
}

}  // namespace nurec
