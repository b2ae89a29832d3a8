#pragma once
// The event loop the generators share (Z/gamma* and H -> tau tau, t tbar): events [0, n) in chunks
// of chunkEvents, each chunk generated on `threads` threads and handed over in event order.
// Event i is generateOne(i, counters) and draws only from its own random stream, so the events do
// not depend on the chunk size or the thread count; sums over the counters taken in onChunk, in
// event order, do not either (docs/design.md "Randomness").
#include <algorithm>
#include <cstddef>
#include <vector>

#include "nurec/core/Parallel.hpp"
#include "nurec/core/Progress.hpp"

namespace nurec::generator {

// generateOne(std::size_t index, Counters&) -> Event; onChunk(std::size_t first,
// std::vector<Event>&, const std::vector<Counters>&). chunkEvents must be >= 1.
template <class Event, class Counters, class GenerateOne, class OnChunk>
void generateInChunks(std::size_t n, std::size_t chunkEvents, int threads, Progress& progress,
                      const GenerateOne& generateOne, const OnChunk& onChunk) {
  for (std::size_t first = 0; first < n; first += chunkEvents) {
    const std::size_t count = std::min(chunkEvents, n - first);
    std::vector<Event> events(count);
    std::vector<Counters> counters(count);
    parallelFor(count, threads, [&](std::size_t i) {
      events[i] = generateOne(first + i, counters[i]);
      progress.advance();
    });
    onChunk(first, events, counters);
  }
}

}  // namespace nurec::generator
