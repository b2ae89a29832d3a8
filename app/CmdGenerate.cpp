// `nurec generate --process ztautau --events N --seed S [--mass-window 60,120] --out truth.h5`:
// the embedded LO generator pp -> Z/gamma* -> tau+ tau- with exact spin correlations and tau
// decays (src/generator, docs/physics.md sections 2-6). Writes /weight and /truth (HDF5) or HepMC3.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "app/Command.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Event.hpp"
#include "nurec/core/Memory.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/generator/HepMC3Writer.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::app {
namespace {

struct GenerateOptions {
  std::string process = "ztautau";
  std::string massWindow = "60,120";
  std::string massPrior = "physical";
  std::string decayModes = "all";
  std::string format;  // h5 | hepmc3; default from the output name
  std::string output;
  std::size_t events = 10000;
  generator::ZTauTauConfig config;
  bool noRecoil = false;
  std::string configFile;
  const CLI::App* cmd = nullptr;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
};

// With --config, the run card is the base and only the options given on the command line
// override it.
void applyConfigFile(GenerateOptions& o) {
  std::ifstream in(o.configFile);
  if (!in) throw InputError(fmt::format("{}: cannot read the generator config file", o.configFile));
  std::stringstream text;
  text << in.rdbuf();
  generator::ZTauTauConfig base = generator::zTauTauConfigFromYaml(text.str(), o.configFile);
  const auto given = [&](const char* name) { return o.cmd->count(name) > 0; };
  const auto& c = o.config;
  if (given("--seed")) base.seed = c.seed;
  if (given("--sqrt-s")) base.sqrtS = c.sqrtS;
  if (given("--min-vis-pt")) base.minVisiblePtGeV = c.minVisiblePtGeV;
  if (given("--min-lead-vis-pt")) base.minLeadingVisiblePtGeV = c.minLeadingVisiblePtGeV;
  if (given("--max-vis-eta")) base.maxVisibleAbsEta = c.maxVisibleAbsEta;
  if (given("--recoil-start-scale")) base.recoil.startScale = c.recoil.startScale;
  if (given("--recoil-alpha-s")) base.recoil.alphaSMz = c.recoil.alphaSMz;
  if (given("--ue-particles")) base.recoil.ueMeanParticles = c.recoil.ueMeanParticles;
  if (!given("--events")) o.events = base.nEvents;
  if (!given("--mass-window"))
    o.massWindow = fmt::format("{},{}", base.massMinGeV, base.massMaxGeV);
  if (!given("--mass-prior")) o.massPrior = generator::massPriorName(base.massPrior);
  if (!given("--decay-modes")) {
    std::string modes;
    for (int m = 0; m < 5; ++m)
      if (base.allowedDecayModes[m])
        modes += (modes.empty() ? "" : ",") + std::string(decayModeName(static_cast<DecayMode>(m)));
    o.decayModes = modes;
  }
  if (!given("--no-recoil")) o.noRecoil = !base.recoil.enabled;
  o.config = base;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::pair<double, double> parseWindow(const std::string& text) {
  const auto comma = text.find(',');
  if (comma == std::string::npos) {
    throw ConfigError(fmt::format("--mass-window '{}': expected LO,HI in GeV, e.g. 60,120", text));
  }
  try {
    std::size_t used = 0;
    const double lo = std::stod(text.substr(0, comma), &used);
    const std::string hiText = text.substr(comma + 1);
    std::size_t usedHi = 0;
    const double hi = std::stod(hiText, &usedHi);
    if (usedHi != hiText.size()) throw std::invalid_argument("trailing");
    return {lo, hi};
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("--mass-window '{}': expected two numbers LO,HI in GeV", text));
  }
}

std::array<bool, 5> parseModes(const std::string& text) {
  if (text == "all") return {true, true, true, true, true};
  std::array<bool, 5> allowed{};
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    bool found = false;
    for (int m = 0; m < 5; ++m) {
      if (item == decayModeName(static_cast<DecayMode>(m))) {
        allowed[m] = true;
        found = true;
      }
    }
    if (!found) {
      throw ConfigError(
          fmt::format("--decay-modes: unknown mode '{}' (use pi, rho, e, mu, other or all)", item));
    }
  }
  return allowed;
}

int runGenerate(GenerateOptions o) {
  checkOutputPath("--out", o.output, OutputKind::File);
  const OutputLock lock(o.output);
  if (o.process != "ztautau") {
    throw ConfigError(fmt::format("generate --process {}: only 'ztautau' is available", o.process));
  }
  std::string format = o.format;
  if (format.empty()) {
    format = (endsWith(o.output, ".hepmc3") || endsWith(o.output, ".hepmc") ||
              endsWith(o.output, ".hepmc3.gz") || endsWith(o.output, ".hepmc.gz"))
                 ? "hepmc3"
                 : "h5";
  }
  if (format != "h5" && format != "hepmc3") {
    throw ConfigError(fmt::format("--format {}: expected h5 or hepmc3", format));
  }
  if (!o.configFile.empty()) applyConfigFile(o);
  auto& c = o.config;
  std::tie(c.massMinGeV, c.massMaxGeV) = parseWindow(o.massWindow);
  c.massPrior = generator::massPriorFromName(o.massPrior);
  c.nEvents = o.events;
  c.allowedDecayModes = parseModes(o.decayModes);
  if (o.noRecoil) c.recoil.enabled = false;
  c.validate();
  // An event file is written in chunks of --chunk-events events; a HepMC3 file holds the whole
  // sample in memory first. Either way ~18 kB per event held (ISR shower and underlying event,
  // measured with /usr/bin/time -v, docs/reliability.md).
  const std::size_t held = format == "h5" ? std::min(o.events, o.chunkEvents) : o.events;
  requireMemory(fmt::format("--events {}", o.events), 18e3 * static_cast<double>(held),
                format == "h5" ? "lower --chunk-events"
                               : "write an event file (.h5), which is streamed, or generate in "
                                 "several runs with different --seed values");
  using Clock = std::chrono::steady_clock;
  double writeSeconds = 0;
  generator::GenerationSummary s;
  if (format == "h5") {
    io::EventFileWriter writer(o.output, o.events);
    const generator::ChunkedGeneration run = generator::generateZTauTauChunks(
        c, commonOptions().threads, !commonOptions().quiet, o.chunkEvents,
        [&](std::size_t, std::vector<TruthEvent>& events) {
          generator::GeneratedSample part;
          part.events = std::move(events);
          io::EventTable rows = generator::makeTruthTable(part, c);
          rows.erase(io::ds::weight);  // the weights need the run's totals: written at the end
          const auto t0 = Clock::now();
          writer.append(rows);
          writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
        });
    s = run.summary;
    s.seconds = std::max(0.0, s.seconds - writeSeconds);  // generation alone
    const auto t0 = Clock::now();
    io::Column weights;
    weights.values = run.weightsPb;
    writer.setColumnAtCommit(io::ds::weight, std::move(weights));
    writer.setAttributes(
        generator::makeTruthTable(generator::GeneratedSample{{}, s}, c).attributes());
    writer.commit();
    writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    const auto sample =
        generator::generateZTauTauEvents(c, commonOptions().threads, !commonOptions().quiet);
    s = sample.summary;
    const auto t0 = Clock::now();
    generator::writeHepMC3(o.output, sample.events, c.sqrtS, s.crossSectionPb, s.crossSectionErrPb);
    writeSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  std::string acc;
  if (s.acceptance < 1 || s.branchingFactor < 1) {
    acc = fmt::format(" (window {:.2f} pb x BR factor {:.4f} x cut acceptance {:.4f})",
                      s.totalCrossSectionPb, s.branchingFactor, s.acceptance);
  }
  std::printf(
      "generate: %zu events, 0 failures, sigma = %.2f +- %.2f pb%s, %.1f s generating (%.0f "
      "events/s) "
      "+ %.1f s writing %s\n",
      s.events, s.crossSectionPb, s.crossSectionErrPb, acc.c_str(), s.seconds,
      s.events / std::max(s.seconds, 1e-9), writeSeconds, o.output.c_str());
  if (s.overweightEvents > 0) {
    std::fprintf(stderr,
                 "generate: warning: %llu events had a weight above w_max (fraction %.2g)\n",
                 static_cast<unsigned long long>(s.overweightEvents),
                 static_cast<double>(s.overweightEvents) / static_cast<double>(s.events));
  }
  return 0;
}

std::function<int()> setupGenerate(CLI::App& cmd) {
  auto o = std::make_shared<GenerateOptions>();
  cmd.footer(
      "Leading-order pp -> Z/gamma* -> tau+ tau- at sqrt(s) = 13 TeV with the full gamma/Z\n"
      "interference (running Z width), five quark flavours, CTEQ5L PDFs (mu_F = m_tautau), "
      "unweighted\n"
      "events. For each event the exact tau-pair spin state (B+, B-, C in the helicity basis k, r, "
      "n)\n"
      "is stored in /truth/spin_b, /truth/spin_c, and both taus decay with the full correlated "
      "spin\n"
      "density matrix: pi nu, rho nu (Breit-Wigner line shape), e/mu nu nu (V-A), other (3 pions,\n"
      "phase space), PDG branching fractions. The pair gets a transverse momentum from a "
      "parametrised\n"
      "pT(Z) spectrum, balanced by one or two recoil jets (a few hadrons each) plus soft "
      "underlying\n"
      "event. Event weights are in pb (sum of weights = cross section). Generator-level cuts and\n"
      "--decay-modes keep the cross section right (sigma x BR factor x acceptance).\n"
      "Physics and validation: docs/physics-validation.md.\n\n"
      "Examples:\n"
      "  nurec generate --events 1000000 --seed 1 --out truth.h5\n"
      "  nurec generate --events 200000 --min-vis-pt 15 --max-vis-eta 2.7 --out presel.h5\n"
      "  nurec generate --events 1000 --format hepmc3 --out events.hepmc3.gz");
  cmd.add_option("--process", o->process, "Physics process (only ztautau)")->capture_default_str();
  cmd.add_option("--events,-n", o->events, "Number of (accepted) events")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000000}));
  cmd.add_option("--seed", o->config.seed, "Run seed; event i uses random stream (seed, i)")
      ->capture_default_str();
  cmd.add_option("--mass-window", o->massWindow, "m(tau tau) window LO,HI in GeV")
      ->capture_default_str();
  cmd.add_option("--mass-prior", o->massPrior,
                 "m(tau tau) spectrum: physical (the cross section, Z peak) or flat (uniform in "
                 "the window, for training samples; weights not for yields)")
      ->check(CLI::IsMember({"physical", "flat"}))
      ->capture_default_str();
  cmd.add_option("--sqrt-s", o->config.sqrtS, "Collision energy in GeV")->capture_default_str();
  cmd.add_option("--min-vis-pt", o->config.minVisiblePtGeV,
                 "Generator-level cut: both visible taus pT above this (GeV; 0 = off)")
      ->capture_default_str();
  cmd.add_option("--min-lead-vis-pt", o->config.minLeadingVisiblePtGeV,
                 "Generator-level cut: the leading visible tau pT above this (GeV; 0 = off)")
      ->capture_default_str();
  cmd.add_option("--max-vis-eta", o->config.maxVisibleAbsEta,
                 "Generator-level cut: both visible taus |eta| below this (0 = off)")
      ->capture_default_str();
  cmd.add_option("--decay-modes", o->decayModes,
                 "Allowed tau decay modes for both taus: all, or a list of pi,rho,e,mu,other")
      ->capture_default_str();
  cmd.add_flag("--no-recoil", o->noRecoil,
               "No pT(Z), no recoil jets and no underlying event (pure LO)");
  cmd.add_option("--recoil-start-scale", o->config.recoil.startScale,
                 "Initial-state shower phase space Q / m(tau tau) (larger = harder pT(Z))")
      ->capture_default_str();
  cmd.add_option("--recoil-alpha-s", o->config.recoil.alphaSMz,
                 "alpha_s(m_Z) of the initial-state emissions")
      ->capture_default_str();
  cmd.add_option("--ue-particles", o->config.recoil.ueMeanParticles,
                 "Mean number of soft underlying-event particles")
      ->capture_default_str();
  cmd.add_option("--format", o->format,
                 "Output format h5 or hepmc3 (default: from the file name; "
                 "HepMC3 ASCII, gzip if the name ends in .gz)");
  cmd.add_option("--config", o->configFile,
                 "YAML run card (the keys of the file attribute 'config'); options given on the "
                 "command line override it");
  cmd.add_option("--out,-o", o->output, "Output file")->required();
  o->cmd = &cmd;
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  return [o] { return runGenerate(*o); };
}

const CommandRegistrar registrar(
    {"generate", "Generate pp -> Z/gamma* -> tau tau events with exact spin correlations", 10,
     setupGenerate});

}  // namespace
}  // namespace nurec::app
