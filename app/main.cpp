// nurec: one binary, documented subcommands (docs/design.md "Command line").
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <new>
#include <string>

#include "app/Command.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"

namespace nurec::app {

std::vector<CommandSpec>& commandRegistry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

CommonOptions& commonOptions() {
  static CommonOptions options;
  return options;
}

void emptyResult(const std::string& message) {
  if (commonOptions().strict) throw Error(message + " (an error with --strict)");
  std::fprintf(stderr, "nurec: warning: %s\n", message.c_str());
}

void addThreadsOption(CLI::App& cmd) {
  cmd.add_option("--threads", commonOptions().threads,
                 "Worker threads (0 = all cores, at most 256)")
      ->check(CLI::Range(0, 256));
}

void addChunkOption(CLI::App& cmd, std::size_t& chunkEvents) {
  cmd.add_option("--chunk-events", chunkEvents,
                 "Events read, processed and written at a time: memory is bounded by a chunk, "
                 "the output does not depend on it (1 to 100,000,000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}))
      ->capture_default_str();
}

// Messages may quote file contents or names: never send raw control bytes to the terminal.
std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 && c != '\n' && c != '\t') || u == 0x7f ? '?' : c;
  }
  return out;
}

}  // namespace nurec::app

int main(int argc, char** argv) {
  using namespace nurec::app;
  CLI::App app{
      "nurec: neutrino reconstruction for LHC tau-pair events, with classical methods and "
      "conditional diffusion, and the quantum spin measurements they enable.\n"
      "Run `nurec demo` for the whole chain on a small sample."};
  app.set_version_flag("--version", std::string(nurec::kProducer));
  app.add_flag("-q,--quiet", commonOptions().quiet,
               "No progress bars, only the summary and errors");
  const char* strictHelp =
      "Exit 1 instead of warning when a result is empty (no event selected, "
      "reconstructed or in the signal region)";
  app.add_flag("--strict", commonOptions().strict, strictHelp);
  app.require_subcommand(1);
  auto& registry = commandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.order < b.order; });
  std::function<int()> run;
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    auto runner = std::make_shared<std::function<int()>>(spec.setup(*sub));
    // -q works before and after the subcommand name.
    sub->add_flag("-q,--quiet", commonOptions().quiet,
                  "No progress bars, only the summary and errors");
    sub->add_flag("--strict", commonOptions().strict, strictHelp);
    sub->callback([&run, runner] { run = *runner; });
  }
  // The first word that is not an option must name a subcommand (CLI11 alone would only say
  // that a subcommand is required).
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') continue;
    const bool known = std::any_of(registry.begin(), registry.end(),
                                   [&](const CommandSpec& spec) { return spec.name == word; });
    if (!known) {
      std::fprintf(stderr, "nurec: unknown command '%s' (nurec --help lists the commands)\n",
                   printable(word).c_str());
      return 1;
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 1 like every other bad input
    // (CLI11's own codes, e.g. 105 for a missing file, are not part of nurec's interface).
    const int code = app.exit(e);
    return code == 0 ? 0 : 1;
  }
  spdlog::set_pattern("[%H:%M:%S] %v");
  if (commonOptions().quiet) {
    nurec::Progress::setEnabledGlobally(false);
    spdlog::set_level(spdlog::level::warn);
  }
  try {
    return run ? run() : 0;
  } catch (const nurec::Error& e) {
    std::fprintf(stderr, "nurec: error: %s\n", printable(e.what()).c_str());
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    // Folder creation, renames, permissions: a problem with a path the user gave.
    std::fprintf(stderr, "nurec: error: %s\n", printable(e.what()).c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "nurec: error: out of memory (reduce the sample, batch or model size)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nurec: unexpected error: %s\n", printable(e.what()).c_str());
    return 2;
  }
}
