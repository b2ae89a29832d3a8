#pragma once
// Foreseeable out-of-memory conditions become an error message before the allocation, not a
// kernel kill half-way through a run (docs/reliability.md).
#include <cstddef>
#include <string>

namespace nurec {

// Physical memory of the machine in bytes (0 if unknown).
double physicalMemoryBytes();

// Throws ConfigError naming `what`, the estimate and the machine's memory when `bytesNeeded`
// exceeds 80 % of the physical memory. `advice` says how to do the job in smaller pieces.
void requireMemory(const std::string& what, double bytesNeeded, const std::string& advice);

}  // namespace nurec
