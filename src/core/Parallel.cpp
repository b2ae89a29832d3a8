#include "nurec/core/Parallel.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

// GCC defines __SANITIZE_THREAD__ under -fsanitize=thread; clang has __has_feature.
#if defined(__SANITIZE_THREAD__)
#define NUREC_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NUREC_THREAD_SANITIZER 1
#endif
#endif
#ifndef NUREC_THREAD_SANITIZER
#define NUREC_THREAD_SANITIZER 0
#endif

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
  auto record = [&] {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (!firstError) firstError = std::current_exception();
  };
#if NUREC_THREAD_SANITIZER
  // ThreadSanitizer does not see the synchronisation inside Debian's uninstrumented libtbb, so
  // every TBB loop would be reported as a race. Sanitizer builds run the same loop on threads it
  // does see (an atomic counter and join), so that its reports are about nurec's own code
  // (docs/reliability.md "Sanitizer builds").
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < nThreads; ++t)
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) {
        try {
          body(i);
        } catch (...) {
          record();
        }
      }
    });
  for (auto& w : workers) w.join();
#else
  // TBB (a well-kept task scheduler) instead of hand-rolled threads; global_control caps it.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(nThreads));
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      try {
                        for (std::size_t i = range.begin(); i != range.end(); ++i) body(i);
                      } catch (...) {
                        record();
                      }
                    });
#endif
  if (firstError) std::rethrow_exception(firstError);
}

}  // namespace nurec
