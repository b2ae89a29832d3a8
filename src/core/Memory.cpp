#include "nurec/core/Memory.hpp"

#include <unistd.h>

#include <cstdio>

#include "nurec/core/Error.hpp"

namespace nurec {

double physicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && pageSize > 0 ? static_cast<double>(pages) * static_cast<double>(pageSize)
                                   : 0.0;
}

void requireMemory(const std::string& what, double bytesNeeded, const std::string& advice) {
  const double available = physicalMemoryBytes();
  if (available <= 0 || bytesNeeded <= 0.8 * available) return;
  char text[160];
  std::snprintf(text, sizeof text, "needs about %.1f GB of memory, this machine has %.1f GB",
                bytesNeeded / 1e9, available / 1e9);
  throw ConfigError(what + ": " + text + "; " + advice);
}

}  // namespace nurec
