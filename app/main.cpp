// nurec: one binary, documented subcommands (docs/design.md "Command line").
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>

#include "app/Command.hpp"
#include "core/Error.hpp"
#include "core/Progress.hpp"
#include "nurec/Version.hpp"

namespace nurec::app {

std::vector<CommandSpec>& commandRegistry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

CommonOptions& commonOptions() {
  static CommonOptions options;
  return options;
}

void addThreadsOption(CLI::App& cmd) {
  cmd.add_option("--threads", commonOptions().threads, "Worker threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace nurec::app

int main(int argc, char** argv) {
  using namespace nurec::app;
  CLI::App app{"nurec: neutrino reconstruction for LHC tau-pair events, with classical methods and "
               "conditional diffusion, and the quantum spin measurements they enable.\n"
               "Run `nurec demo` for the whole chain on a small sample."};
  app.set_version_flag("--version", std::string(nurec::kProducer));
  app.add_flag("-q,--quiet", commonOptions().quiet, "No progress bars, only the summary and errors");
  app.require_subcommand(1);
  auto& registry = commandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.order < b.order; });
  std::function<int()> run;
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    auto runner = std::make_shared<std::function<int()>>(spec.setup(*sub));
    sub->callback([&run, runner] { run = *runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  spdlog::set_pattern("[%H:%M:%S] %v");
  if (commonOptions().quiet) {
    nurec::Progress::setEnabledGlobally(false);
    spdlog::set_level(spdlog::level::warn);
  }
  try {
    return run ? run() : 0;
  } catch (const nurec::Error& e) {
    std::fprintf(stderr, "nurec: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nurec: unexpected error: %s\n", e.what());
    return 2;
  }
}
