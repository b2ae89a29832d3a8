// Semileptonic t tbar (docs/ttbar.md, docs/physics.md section 11): the LO generator with spin
// correlations, and the registration of the process (app/Process.hpp).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/Command.hpp"
#include "app/Process.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/generator/ttbar/TTbarGenerator.hpp"
#include "nurec/generator/ttbar/TTbarTable.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::app {
namespace {

namespace tt = generator::ttbar;

// ---------------------------------------------------------------------------------------------
// generate

struct TTbarGenerateOptions {
  tt::TTbarConfig config;
  std::string scale = "m_T";
  bool noSpinCorrelations = false, onShell = false;
};

void generateTTbar(TTbarGenerateOptions o, const GenerateRun& run) {
  if (!run.configFile.empty())
    throw ConfigError(
        "generate --process ttbar-semilep: --config (a run card) is not supported "
        "for this process yet; use the command-line options");
  if (run.format != "h5")
    throw ConfigError(
        "generate --process ttbar-semilep: only event files (.h5) are written; "
        "HepMC3 output exists for ztautau only");
  tt::TTbarConfig& c = o.config;
  c.seed = run.seed;
  c.sqrtS = run.sqrtSGeV;
  c.nEvents = run.events;
  c.scale = o.scale == "m_t" ? tt::ScaleChoice::topMass : tt::ScaleChoice::transverseMass;
  c.spinCorrelations = !o.noSpinCorrelations;
  c.breitWigner = !o.onShell;
  c.validate();
  using Clock = std::chrono::steady_clock;
  double writeSeconds = 0;
  io::EventFileWriter writer(run.output, run.events);
  const tt::TTbarChunkedGeneration generated = tt::generateTTbarChunks(
      c, commonOptions().threads, !commonOptions().quiet, run.chunkEvents,
      [&](std::size_t, std::vector<tt::TTbarEvent>& events) {
        io::EventTable rows(events.size());
        tt::putTTbarTruth(rows, events);
        const auto t0 = Clock::now();
        writer.append(rows);
        writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
      });
  const tt::TTbarSummary& s = generated.summary;
  const auto t0 = Clock::now();
  io::Column weights;
  weights.values = generated.weightsPb;
  writer.setColumnAtCommit(io::ds::weight, std::move(weights));
  writer.setAttributes(tt::ttbarFileAttributes(c, s));
  writer.commit();
  writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
  const double genSeconds = std::max(0.0, s.seconds - writeSeconds);
  std::printf(
      "generate: %zu t tbar events, sigma(p p -> t tbar) = %.2f +- %.2f pb x BR(semileptonic "
      "e/mu) %.4f = %.2f +- %.2f pb, %.1f s generating (%.0f events/s) + %.1f s writing %s\n",
      s.events, s.inclusiveCrossSectionPb, s.inclusiveCrossSectionErrPb, s.branchingFactor,
      s.crossSectionPb, s.crossSectionErrPb, genSeconds,
      static_cast<double>(s.events) / std::max(genSeconds, 1e-9), writeSeconds, run.output.c_str());
  if (s.overweightEvents > 0)
    std::fprintf(stderr, "generate: warning: %llu events had a weight above w_max\n",
                 static_cast<unsigned long long>(s.overweightEvents));
}

std::function<void(const GenerateRun&)> setupGenerate(CLI::Option_group& group) {
  auto o = std::make_shared<TTbarGenerateOptions>();
  group
      .add_option("--scale", o->scale,
                  "t tbar: factorisation and renormalisation scale, m_T = sqrt(m_t^2 + pT^2) or "
                  "m_t")
      ->check(CLI::IsMember({"m_T", "m_t"}))
      ->capture_default_str();
  group.add_flag("--no-spin-correlations", o->noSpinCorrelations,
                 "t tbar: decay the top and antitop independently (no spin correlation)");
  group.add_flag("--on-shell", o->onShell,
                 "t tbar: top and W on their mass shells (no Breit-Wigner line shapes)");
  return [o](const GenerateRun& run) { generateTTbar(*o, run); };
}

const ProcessRegistrar registrar({
    .name = tt::kProcessName,
    .summary = "p p -> t tbar -> (b l nu)(b q qbar'), l = e or mu, with LO spin correlations",
    .order = 20,
    .setupGenerate = setupGenerate,
    .simulateHelp = "ttbar-semilep: the detector stage is not available yet.",
    .makeDetector = nullptr,
    .readHepMC3 = nullptr,
    .evaluate = nullptr,
});

}  // namespace
}  // namespace nurec::app
