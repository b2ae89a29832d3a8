// Z/gamma* -> tau+ tau- (docs/physics.md sections 2-10, docs/physics-validation.md): the embedded
// generator with exact spin correlations, the ATLAS-like detector, HepMC3 input, and the
// registration of the process (app/Process.hpp).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "app/Command.hpp"
#include "app/Process.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Event.hpp"
#include "nurec/core/Memory.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/TextFile.hpp"
#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/detector/Summary.hpp"
#include "nurec/generator/HepMC3Writer.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/HepMC3Reader.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::app {
namespace {

// ---------------------------------------------------------------------------------------------
// generate

struct ZTauTauGenerateOptions {
  std::string massWindow = "60,120";
  std::string massPrior = "physical";
  std::string resonance = "z";
  std::string decayModes = "all";
  generator::ZTauTauConfig config;
  bool noRecoil = false;
  bool noTauSpinCorrelations = false;
};

// With --config, the run card is the base and only the options given on the command line
// override it.
void applyConfigFile(ZTauTauGenerateOptions& o, const GenerateRun& run) {
  const auto text = readWholeFile(run.configFile);
  if (!text)
    throw InputError(fmt::format("{}: cannot read the generator config file", run.configFile));
  generator::ZTauTauConfig base = generator::zTauTauConfigFromYaml(*text, run.configFile);
  const auto given = [&](const char* name) { return run.cmd->count(name) > 0; };
  const auto& c = o.config;
  if (given("--seed")) base.seed = run.seed;
  if (given("--sqrt-s")) base.sqrtS = run.sqrtSGeV;
  if (given("--min-vis-pt")) base.minVisiblePtGeV = c.minVisiblePtGeV;
  if (given("--min-lead-vis-pt")) base.minLeadingVisiblePtGeV = c.minLeadingVisiblePtGeV;
  if (given("--max-vis-eta")) base.maxVisibleAbsEta = c.maxVisibleAbsEta;
  if (given("--recoil-start-scale")) base.recoil.startScale = c.recoil.startScale;
  if (given("--recoil-alpha-s")) base.recoil.alphaSMz = c.recoil.alphaSMz;
  if (given("--ue-particles")) base.recoil.ueMeanParticles = c.recoil.ueMeanParticles;
  if (!given("--mass-window"))
    o.massWindow = fmt::format("{},{}", base.massMinGeV, base.massMaxGeV);
  if (!given("--mass-prior")) o.massPrior = generator::massPriorName(base.massPrior);
  if (!given("--resonance")) o.resonance = generator::resonanceName(base.resonance);
  if (given("--higgs-mass")) base.higgsMassGeV = c.higgsMassGeV;
  if (given("--cp-mixing-angle")) base.cpMixingAngle = c.cpMixingAngle;
  if (!given("--decay-modes")) {
    std::string modes;
    for (int m = 0; m < 5; ++m)
      if (base.allowedDecayModes[m])
        modes += (modes.empty() ? "" : ",") + std::string(decayModeName(static_cast<DecayMode>(m)));
    o.decayModes = modes;
  }
  if (!given("--no-recoil")) o.noRecoil = !base.recoil.enabled;
  if (!given("--no-tau-spin-correlations")) o.noTauSpinCorrelations = !base.tauSpinCorrelations;
  o.config = base;
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

// Generates run.events events into run.output (HDF5, streamed in chunks, or HepMC3).
void generateZTauTau(ZTauTauGenerateOptions o, const GenerateRun& run) {
  o.config.seed = run.seed;
  o.config.sqrtS = run.sqrtSGeV;
  o.noRecoil = run.noRecoil;
  std::size_t eventCount = run.events;
  if (!run.configFile.empty()) {
    applyConfigFile(o, run);
    if (run.cmd->count("--events") == 0) eventCount = o.config.nEvents;
  }
  auto& c = o.config;
  std::tie(c.massMinGeV, c.massMaxGeV) = parseWindow(o.massWindow);
  c.massPrior = generator::massPriorFromName(o.massPrior);
  c.resonance = generator::resonanceFromName(o.resonance);
  // Options that belong to the other resonance are refused, not ignored.
  const bool higgs = c.resonance == generator::ZTauTauConfig::Resonance::Higgs;
  for (const char* name : {"--higgs-mass", "--cp-mixing-angle"})
    if (!higgs && run.cmd && run.cmd->count(name) > 0)
      throw ConfigError(fmt::format("{} needs --resonance higgs", name));
  for (const char* name : {"--mass-window", "--mass-prior"})
    if (higgs && run.cmd && run.cmd->count(name) > 0)
      throw ConfigError(fmt::format("{} applies to --resonance z only (the H is narrow)", name));
  c.nEvents = eventCount;
  c.allowedDecayModes = parseModes(o.decayModes);
  if (o.noRecoil) c.recoil.enabled = false;
  c.tauSpinCorrelations = !o.noTauSpinCorrelations;
  c.validate();
  // Both outputs are written in chunks of --chunk-events events, ~18 kB per event held (ISR
  // shower and underlying event, measured with /usr/bin/time -v, docs/reliability.md).
  requireMemory(fmt::format("--events {}", eventCount),
                18e3 * static_cast<double>(std::min(eventCount, run.chunkEvents)),
                "lower --chunk-events");
  using Clock = std::chrono::steady_clock;
  double writeSeconds = 0;
  generator::GenerationSummary s;
  if (run.format == "h5") {
    io::EventFileWriter writer(run.output, eventCount);
    const generator::ChunkedGeneration generated = generator::generateZTauTauChunks(
        c, commonOptions().threads, !commonOptions().quiet, run.chunkEvents,
        [&](std::size_t, std::vector<TruthEvent>& events) {
          generator::GeneratedSample part;
          part.events = std::move(events);
          io::EventTable rows = generator::makeTruthTable(part, c);
          rows.erase(io::ds::weight);  // the weights need the run's totals: written at the end
          const auto t0 = Clock::now();
          writer.append(rows);
          writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
        });
    s = generated.summary;
    s.seconds = std::max(0.0, s.seconds - writeSeconds);  // generation alone
    const auto t0 = Clock::now();
    io::Column weights;
    weights.values = generated.weightsPb;
    writer.setColumnAtCommit(io::ds::weight, std::move(weights));
    writer.setAttributes(
        generator::makeTruthTable(generator::GeneratedSample{{}, s}, c).attributes());
    writer.commit();
    writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    // HepMC3 records carry the final weights, which need the run's totals: a first pass over the
    // run finds them, a second regenerates the same events (each from its own random stream,
    // docs/design.md "Randomness") and writes them chunk by chunk. Twice the generation time for
    // memory bounded by a chunk.
    const generator::ChunkedGeneration totals = generator::generateZTauTauChunks(
        c, commonOptions().threads, !commonOptions().quiet, run.chunkEvents,
        [](std::size_t, std::vector<TruthEvent>&) {});
    s = totals.summary;
    generator::ZTauTauHepMC3Output out(run.output, eventCount, c.sqrtS, s.crossSectionPb,
                                       s.crossSectionErrPb);
    generator::generateZTauTauChunks(
        c, commonOptions().threads, !commonOptions().quiet, run.chunkEvents,
        [&](std::size_t first, std::vector<TruthEvent>& events) {
          const auto t0 = Clock::now();
          for (std::size_t i = 0; i < events.size(); ++i) {
            events[i].weightPb = totals.weightsPb[first + i];
            out.append(events[i]);
          }
          writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
        });
    const auto t0 = Clock::now();
    out.commit();
    writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
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
      s.events / std::max(s.seconds, 1e-9), writeSeconds, run.output.c_str());
  if (s.overweightEvents > 0) {
    std::fprintf(stderr,
                 "generate: warning: %llu events had a weight above w_max (fraction %.2g)\n",
                 static_cast<unsigned long long>(s.overweightEvents),
                 static_cast<double>(s.overweightEvents) / static_cast<double>(s.events));
  }
}

std::function<void(const GenerateRun&)> setupGenerate(CLI::Option_group& group) {
  auto o = std::make_shared<ZTauTauGenerateOptions>();
  group.add_option("--mass-window", o->massWindow, "m(tau tau) window LO,HI in GeV")
      ->capture_default_str();
  group
      .add_option("--mass-prior", o->massPrior,
                  "m(tau tau) spectrum: physical (the cross section, Z peak), flat (uniform in "
                  "the window) or log-flat (uniform in ln m); flat and log-flat are for training "
                  "samples, their weights not for yields")
      ->check(CLI::IsMember({"physical", "flat", "log-flat"}))
      ->capture_default_str();
  group
      .add_option("--resonance", o->resonance,
                  "z: q qbar -> Z/gamma* -> tau tau in the mass window; higgs: g g -> H -> tau "
                  "tau (narrow, LO heavy-top limit, the spin state of a scalar; docs/physics.md "
                  "section 14)")
      ->check(CLI::IsMember({"z", "higgs"}))
      ->capture_default_str();
  group.add_option("--higgs-mass", o->config.higgsMassGeV, "H mass in GeV (--resonance higgs)")
      ->capture_default_str();
  group
      .add_option("--cp-mixing-angle", o->config.cpMixingAngle,
                  "CP-mixing angle of the H -> tau tau coupling in rad: 0 CP-even, 1.5708 "
                  "CP-odd (--resonance higgs)")
      ->capture_default_str();
  group.add_flag("--no-tau-spin-correlations", o->noTauSpinCorrelations,
                 "Z/H -> tau tau: decay the taus with their polarisations but without spin "
                 "correlation (C = 0), e.g. for a training sample whose prior must not carry it");
  group
      .add_option("--min-vis-pt", o->config.minVisiblePtGeV,
                  "Generator-level cut: both visible taus pT above this (GeV; 0 = off)")
      ->capture_default_str();
  group
      .add_option("--min-lead-vis-pt", o->config.minLeadingVisiblePtGeV,
                  "Generator-level cut: the leading visible tau pT above this (GeV; 0 = off)")
      ->capture_default_str();
  group
      .add_option("--max-vis-eta", o->config.maxVisibleAbsEta,
                  "Generator-level cut: both visible taus |eta| below this (0 = off)")
      ->capture_default_str();
  group
      .add_option("--decay-modes", o->decayModes,
                  "Allowed tau decay modes for both taus: all, or a list of pi,rho,e,mu,other")
      ->capture_default_str();
  group
      .add_option("--recoil-start-scale", o->config.recoil.startScale,
                  "Initial-state shower phase space Q / m(tau tau) (larger = harder pT(Z))")
      ->capture_default_str();
  group
      .add_option("--recoil-alpha-s", o->config.recoil.alphaSMz,
                  "alpha_s(m_Z) of the initial-state emissions")
      ->capture_default_str();
  group
      .add_option("--ue-particles", o->config.recoil.ueMeanParticles,
                  "Mean number of soft underlying-event particles")
      ->capture_default_str();
  return [o](const GenerateRun& run) { generateZTauTau(*o, run); };
}

// ---------------------------------------------------------------------------------------------
// simulate

// Per-record status of HepMC3 input (io::HepMC3Status values), i1 (N); nurec extension.
constexpr const char* kInputStatus = "/truth/input_status";

// HepMC3 records as truth rows, part by part (io::HepMC3Reader).
class HepMC3TruthSource final : public TruthSource {
 public:
  HepMC3TruthSource(const std::string& path, std::uint64_t seed)
      : path_(path), seed_(seed), reader_(path, true), start_(std::chrono::steady_clock::now()) {}

  io::EventTable read(std::size_t maxRows) override {
    io::HepMC3Input in = reader_.read(maxRows);
    const std::size_t n = in.events.size();
    io::EventTable table(n);
    table.setFirstRow(rows_);
    rows_ += n;
    if (n == 0) {
      report();
      return table;
    }
    io::putTruth(table, in.events, io::SpinTruthContent::Unknown);  // HepMC3 has no spin state
    std::vector<std::int8_t> status(n);
    for (std::size_t i = 0; i < n; ++i) status[i] = static_cast<std::int8_t>(in.status[i]);
    table.set(kInputStatus, {}, std::move(status));
    table.setAttribute("seed", static_cast<std::int64_t>(seed_));
    table.setAttribute("sqrt_s", in.sqrtSGeV);
    if (in.hasCrossSection) table.setAttribute("cross_section_pb", in.crossSectionPb);
    table.setAttribute("config", std::string());
    table.setAttribute("producer", std::string(kProducer) + " simulate (HepMC3 input)");
    table.setAttribute("input_file", path_);
    return table;
  }
  double weightPb(double nominalWeight) const override { return reader_.weightPb(nominalWeight); }
  double weightScale() const override { return reader_.weightPb(1.0); }

  void warn() const override {
    const io::HepMC3Input& t = reader_.totals();
    for (int s = 1; s < io::kNumHepMC3Status; ++s) {
      if (t.statusCounts[static_cast<std::size_t>(s)] == 0) continue;
      std::fprintf(stderr,
                   "simulate: warning: %zu records with status %d (%s), kept with no tau pair\n",
                   t.statusCounts[static_cast<std::size_t>(s)], s,
                   io::hepmc3StatusName(static_cast<io::HepMC3Status>(s)));
    }
    if (!t.hasCrossSection) {
      std::fprintf(stderr,
                   "simulate: warning: %s carries no cross section: /weight holds the "
                   "generator's nominal weights, and the yields below are not in events/fb^-1\n",
                   path_.c_str());
    }
  }

 private:
  void report() const {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::printf(
        "read %zu HepMC3 records from %s in %.2f s with the detector stage (%.0f records/s)%s\n",
        rows_, path_.c_str(), seconds, static_cast<double>(rows_) / std::max(seconds, 1e-9),
        reader_.totals().convertedFromMeV ? ", momenta converted from MeV" : "");
    std::fflush(stdout);
  }

  std::string path_;
  std::uint64_t seed_;
  io::HepMC3Reader reader_;
  std::chrono::steady_clock::time_point start_;
  std::size_t rows_ = 0;
};

// The ATLAS-like detector, triggers, channels and signal region (docs/detector.md).
class ZTauTauDetector final : public DetectorStage {
 public:
  explicit ZTauTauDetector(const SimulateRun& run)
      : config_(run.detectorCard.empty() ? detector::DetectorConfig{}
                                         : detector::loadDetectorConfig(run.detectorCard)),
        seed_(run.seed),
        kFactorGiven_(run.kFactor > 0) {
    config_.validate();
    summary_.kFactor = kFactorGiven_ ? run.kFactor : detector::kNnloKFactor;
  }

  void simulate(io::EventTable& table, int threads, Progress& progress) override {
    // The default K of the yields follows the resonance of the generator's run card.
    if (!kFactorGiven_ && summary_.generated == 0)
      summary_.kFactor = detector::defaultKFactor(table);
    detector::simulateDetector(table, config_, seed_, threads, &progress);
    table.setAttribute("detector_config", config_.toYaml());
    table.setAttribute("detector_seed", static_cast<std::int64_t>(seed_));
    summary_ += detector::summarizeSelection(table, summary_.kFactor);
    if (table.has(kInputStatus)) {
      for (auto s : table.get<std::int8_t>(kInputStatus, {})) inputFailures_ += s != 0 ? 1 : 0;
    }
  }
  std::string report() const override { return detector::formatSummary(summary_); }
  std::size_t selectedEvents() const override { return summary_.total.passSr; }
  std::string selectionName() const override { return "signal region"; }
  void scaleWeights(double factor) override { summary_.scaleWeights(factor); }
  std::string headline() const override {
    return fmt::format("{} in the signal region ({:.1f} per fb^-1), {} input failures",
                       summary_.total.passSr, summary_.yieldPerInvFb(summary_.total),
                       inputFailures_);
  }

 private:
  detector::DetectorConfig config_;
  std::uint64_t seed_;
  detector::SelectionSummary summary_;
  std::size_t inputFailures_ = 0;
  bool kFactorGiven_;
};

const char* kSimulateHelp =
    "ztautau: turns truth events into what an ATLAS-like detector sees (docs/physics.md section\n"
    "10, Delphes ATLAS card, no pile-up): tracking efficiency and log-normal pT smearing of the\n"
    "charged pion; electron and muon identification, resolution and isolation; 1-prong hadronic\n"
    "taus (track + one ECAL pi0 cluster) classified as pi or rho with lost and fake pi0 clusters;\n"
    "anti-kt R = 0.4 jets (FastJet) on the particles not from the taus; MET from the objects\n"
    "and a smeared soft term with sigma = 0.5 sqrt(sum E_T). Then the triggers (di-tau 35/25,\n"
    "e+tau 17/25 or e 26, mu+tau 14/25 or mu 26), the seven channels (pipi, epi, mupi, pirho,\n"
    "erho, murho, rhorho) and the signal region (acceptance, opposite charges). Input: a nurec\n"
    "event file or a HepMC3 ASCII file, plain or gzip (Pythia 8, MadGraph+Pythia, Herwig).\n"
    "Output: /reco, /reco/particles (10 x 13 point cloud) and /reco/particles_mask\n"
    "(docs/detector.md). The summary gives per channel the trigger and SR efficiencies and the\n"
    "expected SR events per fb^-1 = sum(weight [pb]) x 1000 x K (default K = 1.28: NNLO 1.9 nb /\n"
    "LO CTEQ5L).";

const ProcessRegistrar registrar({
    .name = "ztautau",
    .summary = "p p -> Z/gamma* -> tau+ tau- with exact spin correlations and tau decays",
    .order = 10,
    .setupGenerate = setupGenerate,
    .simulateHelp = kSimulateHelp,
    .makeDetector = [](const SimulateRun& run) -> std::unique_ptr<DetectorStage> {
      return std::make_unique<ZTauTauDetector>(run);
    },
    .openHepMC3 = [](const std::string& path, std::uint64_t seed) -> std::unique_ptr<TruthSource> {
      return std::make_unique<HepMC3TruthSource>(path, seed);
    },
    .evaluate = nullptr,  // the tau-pair evaluation is `nurec evaluate`'s own (docs/evaluate.md)
});

}  // namespace
}  // namespace nurec::app
