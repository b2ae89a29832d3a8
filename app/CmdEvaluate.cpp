// `nurec evaluate nu.h5 --out report/`: resolution tables, distribution distances, calibration and
// plots for every neutrino reconstruction method in an event file (docs/evaluate.md).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "app/Command.hpp"
#include "app/Process.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/eval/Evaluate.hpp"
#include "nurec/io/EventFile.hpp"

namespace nurec::app {
namespace {

struct EvaluateOptions {
  std::string input;
  std::string out = "report";
  std::vector<std::string> methods;
  std::string selection = "signal_region";
  bool noVisible = false;
  bool noPlots = false;
  int bootstrap = 50;
  std::uint64_t seed = 1;
  int examples = 4;
  std::vector<double> massBins = eval::EvaluateConfig{}.trueMassEdgesGeV;
  std::string title;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
};

std::function<int()> setupEvaluate(CLI::App& cmd) {
  auto o = std::make_shared<EvaluateOptions>();
  cmd.footer(
      "For each method stored in the file (/nu/<method>/p4) the tau four-momenta are rebuilt as\n"
      "visible tau + the method's neutrinos and compared with the generator truth, overall and "
      "per\n"
      "analysis channel: HWHM of the relative residuals (reco - true)/true of tau+ and tau- px, "
      "py,\n"
      "pz, E and of m_tautau, the median bias and the failed fraction; the 1-D Wasserstein, "
      "energy,\n"
      "Kolmogorov-Smirnov and binned KL (64/128/256 bins) distances between the reconstructed and\n"
      "true distributions; and, for methods with sampled candidates (diffusion), rank histograms,\n"
      "coverage and CRPS. A 'visible' baseline (no neutrinos at all) is added for reference.\n"
      "The same per bin of the true m_tautau (--mass-bins) shows whether a method follows the\n"
      "event or the mass spectrum it was trained on.\n"
      "Output: <out>/README.md (tables and plots), <out>/metrics.json, <out>/*.png and *.svg.\n"
      "Definitions: docs/metrics.md; report keys: docs/evaluate.md.\n\n"
      "Example: nurec evaluate nu.h5 --out report/");
  cmd.add_option("file", o->input, "Event file with /truth, /reco and /nu/<method> groups")
      ->required()
      ->check(CLI::ExistingFile);
  cmd.add_option("-o,--out", o->out, "Report directory (created)")->capture_default_str();
  cmd.add_option("--methods", o->methods,
                 "Only these methods (comma separated; default: every /nu/<method> in the file)")
      ->delimiter(',');
  cmd.add_option("--selection", o->selection,
                 "Events evaluated: signal_region (/reco/pass_sr, the analysis phase space), "
                 "any_channel (a reconstructed channel) or all")
      ->capture_default_str();
  cmd.add_flag("--no-visible", o->noVisible, "Do not add the visible-only baseline");
  cmd.add_flag("--no-plots", o->noPlots, "Tables only (no gnuplot needed)");
  cmd.add_option("--bootstrap", o->bootstrap,
                 "Bootstrap resamples for the HWHM and median uncertainties (0 = none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd.add_option("--seed", o->seed, "Seed of the bootstrap resampling")->capture_default_str();
  cmd.add_option("--examples", o->examples, "Example events in the candidate-spread plot (0..16)")
      ->capture_default_str()
      ->check(CLI::Range(0, 16));
  cmd.add_option("--mass-bins", o->massBins,
                 "Edges of the true m_tautau bins of the 'by true mass' tables and plot [GeV], "
                 "comma separated and increasing (bins without events are left out)")
      ->delimiter(',')
      ->capture_default_str();
  cmd.add_option("--title", o->title, "Report title");
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  return [o] {
    const Progress timer("evaluate", 0, false);
    checkOutputPath("--out", o->out, OutputKind::Directory, {o->input});
    const OutputLock lock(o->out);
    // Another process's files are evaluated by that process (app/Process.hpp).
    const ProcessSpec& process =
        findProcess(io::processOf(io::EventFileReader(o->input).attributes(), o->input));
    if (process.evaluate)
      return process.evaluate(
          {o->input, o->out, o->methods, o->selection, o->bootstrap, o->seed, !o->noPlots});
    eval::EvaluateConfig cfg;
    cfg.selection = eval::selectionFromName(o->selection);
    cfg.methods = o->methods;
    cfg.visibleBaseline = !o->noVisible;
    cfg.plots = !o->noPlots;
    cfg.hwhm.bootstrapSamples = o->bootstrap;
    cfg.hwhm.seed = o->seed;
    cfg.exampleEvents = o->examples;
    cfg.trueMassEdgesGeV = o->massBins;
    cfg.threads = commonOptions().threads;
    cfg.source = o->input;
    if (!o->title.empty()) cfg.title = o->title;
    cfg.validate();
    // Read in chunks, keeping the selected events' columns only (docs/data-format.md).
    const eval::EvaluationResult result = eval::evaluateFile(o->input, cfg, o->chunkEvents);
    if (result.rows.empty())
      emptyResult(fmt::format("evaluate: no event of {} passes the selection {}", o->input,
                              eval::selectionName(cfg.selection)));
    eval::writeReport(result, o->out);
    if (!commonOptions().quiet) std::fputs(eval::terminalSummary(result).c_str(), stdout);
    std::size_t failed = 0;
    for (const auto& m :
         result.groups.empty() ? std::vector<eval::MethodResult>{} : result.groups[0].methods)
      failed += m.failed;
    std::printf(
        "evaluate: %zu events, %zu selected (%s), %zu methods, %zu method failures, "
        "report in %s/README.md, %.1f s\n",
        result.eventsInFile, result.rows.size(), eval::selectionName(cfg.selection),
        result.methods.size(), failed, o->out.c_str(), timer.elapsedSeconds());
    return 0;
  };
}

const CommandRegistrar registrar({"evaluate",
                                  "Resolution tables, distribution distances, calibration and "
                                  "plots for every neutrino reconstruction method in a file",
                                  50, setupEvaluate});

}  // namespace
}  // namespace nurec::app
