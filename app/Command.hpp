#pragma once
// Subcommands register themselves here (one Cmd*.cpp file each), so the `nurec` binary grows by
// adding a file, not by editing a central list.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace nurec::app {

struct CommandSpec {
  std::string name;
  std::string description;
  int order;  // position in `nurec --help` (pipeline order)
  // Adds options to the subcommand and returns the function that runs it (exit code).
  std::function<std::function<int()>(CLI::App&)> setup;
};

std::vector<CommandSpec>& commandRegistry();

struct CommandRegistrar {
  explicit CommandRegistrar(CommandSpec spec) { commandRegistry().push_back(std::move(spec)); }
};

// Options shared by many subcommands.
struct CommonOptions {
  int threads = 0;  // 0 = all cores
  bool quiet = false;
  bool strict = false;  // empty results are errors (docs/reliability.md)
};
CommonOptions& commonOptions();

// An empty result where events were expected (no event selected, reconstructed or in the signal
// region): a warning on stderr that is printed even with -q, or with --strict a nurec::Error
// (exit 1) thrown before the command writes its output.
void emptyResult(const std::string& message);
void addThreadsOption(CLI::App& cmd);
// --chunk-events: rows read, processed and written at a time by the commands that stream event
// files (memory is bounded by a chunk; the output does not depend on it).
void addChunkOption(CLI::App& cmd, std::size_t& chunkEvents);

}  // namespace nurec::app
