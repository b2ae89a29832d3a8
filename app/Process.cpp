#include "app/Process.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "nurec/core/Error.hpp"

namespace nurec::app {

std::vector<ProcessSpec>& processRegistry() {
  static std::vector<ProcessSpec> registry;
  return registry;
}

std::vector<MethodFamily>& methodRegistry() {
  static std::vector<MethodFamily> registry;
  return registry;
}

std::string processNames() {
  std::vector<const ProcessSpec*> sorted;
  for (const auto& p : processRegistry()) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->order < b->order; });
  std::string names;
  for (const auto* p : sorted) names += (names.empty() ? "" : ", ") + p->name;
  return names;
}

const ProcessSpec& findProcess(const std::string& name) {
  for (const auto& p : processRegistry())
    if (p.name == name) return p;
  throw ConfigError(
      fmt::format("unknown process '{}' (this nurec knows: {})", name, processNames()));
}

}  // namespace nurec::app
