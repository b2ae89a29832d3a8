#include "app/Process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

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

std::shared_ptr<ModelSamplingOptions> modelSamplingOptions(CLI::App& cmd) {
  static std::map<const CLI::App*, std::shared_ptr<ModelSamplingOptions>> added;
  auto& o = added[&cmd];
  if (o) return o;
  o = std::make_shared<ModelSamplingOptions>();
  cmd.add_option("--model", o->model,
                 "Diffusion or unfolding: model directory (nurec train, or models/<name>; "
                 "diffusion's default is the shipped models/ztautau_ip_vf_neutral)");
  o->candidatesOption =
      cmd.add_option("--candidates", o->candidates,
                     "Diffusion or unfolding: samples per event (default 10 for diffusion, 1 for "
                     "the unfolding models)")
          ->check(CLI::Range(1, 10000));
  cmd.add_option("--steps", o->steps, "Diffusion or unfolding: sampler steps (0 = the model's)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd.add_option("--sampler", o->sampler,
                 "Diffusion: ddim or dpm++2m; unfolding: pndm or ddim (default: the model's)");
  return o;
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
