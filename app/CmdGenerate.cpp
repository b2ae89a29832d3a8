// `nurec generate --process NAME --events N --seed S --out truth.h5`: the embedded generators of
// the registered processes (app/process/, app/Process.hpp). This file holds what every process
// shares: the output, its format, the run card, seed, events and chunking; each process adds its
// own options in a group of its own.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>

#include "app/Command.hpp"
#include "app/Process.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/io/EventFile.hpp"

namespace nurec::app {
namespace {

struct GenerateOptions {
  std::string process = io::kDefaultProcess;
  GenerateRun run;
  // The runner and the option group of each process, by name.
  std::map<std::string, std::function<void(const GenerateRun&)>> runners;
  std::map<std::string, CLI::Option_group*> groups;
};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Options of another process's group are an error, not silently ignored.
void refuseForeignOptions(const GenerateOptions& o) {
  for (const auto& [name, group] : o.groups) {
    if (name == o.process) continue;
    for (const CLI::Option* opt : group->get_options()) {
      if (opt->count() > 0)
        throw ConfigError(fmt::format("{} is an option of --process {}, not of --process {}",
                                      opt->get_name(), name, o.process));
    }
  }
}

int runGenerate(GenerateOptions& o) {
  GenerateRun& run = o.run;
  checkOutputPath("--out", run.output, OutputKind::File);
  const OutputLock lock(run.output);
  findProcess(o.process);  // an unknown name lists the known ones
  refuseForeignOptions(o);
  if (run.format.empty()) {
    const bool hepmc = endsWith(run.output, ".hepmc3") || endsWith(run.output, ".hepmc") ||
                       endsWith(run.output, ".hepmc3.gz") || endsWith(run.output, ".hepmc.gz");
    run.format = hepmc ? "hepmc3" : "h5";
  }
  if (run.format != "h5" && run.format != "hepmc3")
    throw ConfigError(fmt::format("--format {}: expected h5 or hepmc3", run.format));
  o.runners.at(o.process)(run);
  return 0;
}

std::function<int()> setupGenerate(CLI::App& cmd) {
  auto o = std::make_shared<GenerateOptions>();
  auto& processes = processRegistry();
  std::sort(processes.begin(), processes.end(),
            [](const ProcessSpec& a, const ProcessSpec& b) { return a.order < b.order; });
  std::string list;
  for (const auto& p : processes) list += fmt::format("  {:<15} {}\n", p.name, p.summary);
  cmd.footer(
      "Processes (--process):\n" + list +
      "Event weights are in pb (sum of weights = cross section). Event i draws only from the\n"
      "random stream (seed, i): the output does not depend on --threads or --chunk-events.\n"
      "Physics and validation: docs/physics-validation.md (ztautau), docs/ttbar.md (ttbar).\n\n"
      "Examples:\n"
      "  nurec generate --events 1000000 --seed 1 --out truth.h5\n"
      "  nurec generate --events 200000 --min-vis-pt 15 --max-vis-eta 2.7 --out presel.h5\n"
      "  nurec generate --events 1000 --format hepmc3 --out events.hepmc3.gz\n"
      "  nurec generate --process ttbar-semilep --events 100000 --out ttbar.h5");
  cmd.add_option("--process", o->process, "Physics process: " + processNames())
      ->capture_default_str();
  cmd.add_option("--events,-n", o->run.events, "Number of (accepted) events")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000000}));
  cmd.add_option("--seed", o->run.seed, "Run seed; event i uses random stream (seed, i)")
      ->capture_default_str();
  cmd.add_option("--sqrt-s", o->run.sqrtSGeV, "Collision energy in GeV")->capture_default_str();
  cmd.add_option("--format", o->run.format,
                 "Output format h5 or hepmc3 (default: from the file name; "
                 "HepMC3 ASCII, gzip if the name ends in .gz)");
  cmd.add_option("--config", o->run.configFile,
                 "YAML run card of the process (the keys of the file attribute 'config'); "
                 "options given on the command line override it");
  cmd.add_flag("--no-recoil", o->run.noRecoil,
               "No initial-state recoil: no pT of the produced system, no recoil jets and no "
               "underlying event (pure LO)");
  cmd.add_option("--out,-o", o->run.output, "Output file")->required();
  addThreadsOption(cmd);
  o->run.chunkEvents = io::kDefaultChunkEvents;
  addChunkOption(cmd, o->run.chunkEvents);
  o->run.cmd = &cmd;
  for (const auto& p : processes) {
    CLI::Option_group* group = cmd.add_option_group(p.name + " options");
    o->runners[p.name] = p.setupGenerate(*group);
    o->groups[p.name] = group;
  }
  return [o] { return runGenerate(*o); };
}

const CommandRegistrar registrar({"generate",
                                  "Generate events: Z/gamma* -> tau tau with exact spin "
                                  "correlations, or semileptonic t tbar",
                                  10, setupGenerate});

}  // namespace
}  // namespace nurec::app
