// Semileptonic t tbar (docs/ttbar.md, docs/physics.md section 11): the LO generator with spin
// correlations, and the registration of the process (app/Process.hpp).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "app/Command.hpp"
#include "app/Process.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/TextFile.hpp"
#include "nurec/detector/ttbar/TTbarDetector.hpp"
#include "nurec/detector/ttbar/TTbarRecoTable.hpp"
#include "nurec/eval/TTbarEvaluate.hpp"
#include "nurec/generator/ttbar/TTbarGenerator.hpp"
#include "nurec/generator/ttbar/TTbarHepMC3.hpp"
#include "nurec/generator/ttbar/TTbarTable.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::app {
namespace {

namespace tt = generator::ttbar;
namespace td = detector::ttbar;

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
  tt::TTbarConfig& c = o.config;
  c.seed = run.seed;
  c.sqrtS = run.sqrtSGeV;
  c.nEvents = run.events;
  c.scale = o.scale == "m_t" ? tt::ScaleChoice::topMass : tt::ScaleChoice::transverseMass;
  c.spinCorrelations = !o.noSpinCorrelations;
  c.breitWigner = !o.onShell;
  c.recoil = !run.noRecoil;
  c.validate();
  using Clock = std::chrono::steady_clock;
  double writeSeconds = 0;
  tt::TTbarChunkedGeneration generated;
  if (run.format == "h5") {
    // Streamed: chunks of --chunk-events rows; the weights need the totals and come last.
    io::EventFileWriter writer(run.output, run.events);
    generated = tt::generateTTbarChunks(
        c, commonOptions().threads, !commonOptions().quiet, run.chunkEvents,
        [&](std::size_t, std::vector<tt::TTbarEvent>& events) {
          io::EventTable rows(events.size());
          tt::putTTbarTruth(rows, events);
          const auto t0 = Clock::now();
          writer.append(rows);
          writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
        });
    const auto t0 = Clock::now();
    io::Column weights;
    weights.values = generated.weightsPb;
    writer.setColumnAtCommit(io::ds::weight, std::move(weights));
    writer.setAttributes(tt::ttbarFileAttributes(c, generated.summary));
    writer.commit();
    writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    // HepMC3 records carry the final weights, which need the run's totals: a first pass finds
    // them, a second regenerates the same events (each from its own random stream) and writes
    // them chunk by chunk, so that memory is bounded by a chunk.
    generated =
        tt::generateTTbarChunks(c, commonOptions().threads, !commonOptions().quiet, run.chunkEvents,
                                [](std::size_t, std::vector<tt::TTbarEvent>&) {});
    tt::TTbarHepMC3Output out(run.output, run.events, c.sqrtS, generated.summary.crossSectionPb,
                              generated.summary.crossSectionErrPb);
    tt::generateTTbarChunks(c, commonOptions().threads, !commonOptions().quiet, run.chunkEvents,
                            [&](std::size_t first, std::vector<tt::TTbarEvent>& events) {
                              const auto t0 = Clock::now();
                              for (std::size_t i = 0; i < events.size(); ++i)
                                out.append(events[i], generated.weightsPb[first + i]);
                              writeSeconds +=
                                  std::chrono::duration<double>(Clock::now() - t0).count();
                            });
    const auto t0 = Clock::now();
    out.commit();
    writeSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  const tt::TTbarSummary& s = generated.summary;
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

// ---------------------------------------------------------------------------------------------
// simulate

// Yields are LO x K: K = 832 pb (NNLO+NNLL, m_t = 172.5 GeV) / 440 pb (the generator's LO
// CTEQ5L cross section at mu = m_T), docs/ttbar.md "Detector".
constexpr double kTTbarKFactor = 832.0 / 440.0;

class TTbarDetectorStage final : public DetectorStage {
 public:
  explicit TTbarDetectorStage(const SimulateRun& run)
      : detector_(loadCard(run.detectorCard)),
        seed_(run.seed),
        kFactor_(run.kFactor > 0 ? run.kFactor : kTTbarKFactor) {}

  void simulate(io::EventTable& table, int threads, Progress& progress) override {
    const std::vector<tt::TTbarEvent> truth = tt::getTTbarTruth(table);
    const std::vector<td::TTbarRecoEvent> reco =
        td::simulateEvents(detector_, truth, seed_, threads, table.firstRow());
    const auto weight = table.get<double>(io::ds::weight, {});
    for (std::size_t i = 0; i < reco.size(); ++i) {
      cutflow_.add(reco[i]);
      if (reco[i].selected()) selectedWeightPb_ += weight[i];
    }
    td::putTTbarReco(table, reco, detector_.config().maxJets);
    table.setAttribute("detector_config", detector_.config().toYaml());
    table.setAttribute("detector_seed", static_cast<std::int64_t>(seed_));
    progress.advance(reco.size());
  }
  std::string report() const override {
    return "t tbar selection (docs/ttbar.md \"Detector\"):\n" + cutflow_.format();
  }
  std::size_t selectedEvents() const override { return cutflow_.twoBTags; }
  std::string headline() const override {
    return fmt::format("{} selected ({:.1f} per fb^-1 with K = {:.3f})", cutflow_.twoBTags,
                       selectedWeightPb_ * 1000 * kFactor_, kFactor_);
  }
  std::string selectionName() const override { return "t tbar selection"; }
  void scaleWeights(double factor) override { selectedWeightPb_ *= factor; }

 private:
  static td::TTbarDetectorConfig loadCard(const std::string& path) {
    if (path.empty()) return {};
    const auto text = readWholeFile(path);
    if (!text) throw InputError(fmt::format("{}: cannot read the detector card", path));
    return td::ttbarDetectorConfigFromYaml(*text, path);
  }
  td::TTbarDetector detector_;
  std::uint64_t seed_;
  double kFactor_;
  td::TTbarCutflow cutflow_;
  double selectedWeightPb_ = 0;
};

// ---------------------------------------------------------------------------------------------
// evaluate

int evaluateTTbar(const EvaluateRun& run) {
  const io::EventFileReader reader(run.input);
  eval::TTbarEvaluateConfig config;
  config.methods = run.methods;
  if (run.selection != "signal_region" && run.selection != "all")
    throw ConfigError(
        fmt::format("--selection {}: t tbar files know signal_region (the t tbar "
                    "selection, /reco/pass_sr) and all",
                    run.selection));
  config.selectedOnly = run.selection == "signal_region";
  config.hwhm.bootstrapSamples = run.bootstrap;
  config.hwhm.seed = run.seed;
  // Only the datasets the evaluation uses are read.
  std::vector<std::string> datasets = {"/truth/partons"};
  if (config.selectedOnly) datasets.push_back(td::ds::passSelection);
  std::vector<std::string> names;
  for (const auto& [name, info] : reader.datasets()) names.push_back(name);
  const std::vector<std::string> methods =
      config.methods.empty() ? eval::ttbarMethods(names) : config.methods;
  if (methods.empty())
    throw InputError(
        fmt::format("{}: no /nu/<method>/partons dataset: reconstruct the file "
                    "first (nurec reconstruct --method chi2)",
                    run.input));
  for (const auto& m : methods) {
    for (const auto& name : {eval::nuPartonsName(m), "/nu/" + m + "/status"}) {
      if (!reader.has(name))
        throw InputError(
            fmt::format("{}: dataset {} is missing (reconstruct the file with "
                        "--method {} first)",
                        run.input, name, m));
      datasets.push_back(name);
    }
  }
  config.methods = methods;
  io::EventTable table = reader.read(0, reader.nEvents(), datasets);
  const eval::TTbarEvaluation result = eval::evaluateTTbar(table, config);
  if (result.eventsSelected == 0)
    emptyResult(fmt::format("evaluate: no event of {} passes the selection", run.input));
  eval::writeTTbarReport(result, run.out, run.plots);
  if (!commonOptions().quiet) std::fputs(eval::ttbarMarkdown(result).c_str(), stdout);
  std::printf("evaluate: %zu t tbar events, %zu selected, %zu method%s, report in %s/README.md\n",
              result.eventsInFile, result.eventsSelected, result.methods.size(),
              result.methods.size() == 1 ? "" : "s", run.out.c_str());
  return 0;
}

const ProcessRegistrar registrar({
    .name = tt::kProcessName,
    .summary = "p p -> t tbar -> (b l nu)(b q qbar'), l = e or mu, with LO spin correlations",
    .order = 20,
    .setupGenerate = setupGenerate,
    .simulateHelp =
        "ttbar-semilep: parton-level fast detector (docs/ttbar.md \"Detector\"): quarks become\n"
        "jets (calorimeter resolution, angular smearing, out-of-cone loss, semileptonic b\n"
        "decays), initial-state emissions become extra jets, b-tagging at the 70 % working\n"
        "point with c and light mistags, electron and muon efficiencies and resolutions, MET\n"
        "from the visible objects and a soft term. Selection: exactly one e or mu, >= 4 jets,\n"
        ">= 2 b-tags (pT > 25 GeV, |eta| < 2.5). Output: /reco (jets, leptons, MET,\n"
        "/reco/pass_sr) and the study's point cloud /reco/particles (21 x 12). Yields: sum of\n"
        "weights x 1000 x K (default K = 1.89 = NNLO+NNLL 832 pb / LO 440 pb).",
    .makeDetector = [](const SimulateRun& run) -> std::unique_ptr<DetectorStage> {
      return std::make_unique<TTbarDetectorStage>(run);
    },
    .openHepMC3 = nullptr,
    .evaluate = evaluateTTbar,
});

}  // namespace
}  // namespace nurec::app
