// `nurec demo [--out DIR]`: the whole chain on a small sample — generate, simulate, reconstruct
// (collinear, MMC, the shipped diffusion model), evaluate, measure the spin state — ending with a
// report directory (DIR/README.md) and a short terminal summary. The README's quick start.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "app/Command.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/ShippedFiles.hpp"
#include "nurec/eval/Evaluate.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#if defined(NUREC_GENERATOR_AVAILABLE)
#include "nurec/generator/ZTauTau.hpp"
#endif
#if defined(NUREC_DETECTOR_AVAILABLE)
#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/detector/Summary.hpp"
#endif
#if defined(NUREC_RECO_AVAILABLE)
#include "nurec/reco/Reconstruct.hpp"
#endif
#if defined(NUREC_ML_AVAILABLE)
#include "nurec/ml/Api.hpp"
#endif
#if defined(NUREC_QUANTUM_AVAILABLE)
#include "nurec/quantum/Estimators.hpp"
#include "nurec/quantum/SpinMeasurement.hpp"
#include "nurec/quantum/SpinResponse.hpp"
#endif

namespace nurec::app {
namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  std::string out = "demo-out";
  std::size_t events = 100000;
  std::uint64_t seed = 1;
  std::string model;  // empty: <source>/models/ztautau_ip
  int candidates = 10;
  bool noDiffusion = false;
  bool noPlots = false;
};

// Wall-clock time of each stage, for the README and the terminal.
struct StageTimes {
  std::vector<std::pair<std::string, double>> stages;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  void done(const std::string& name) {
    const auto now = std::chrono::steady_clock::now();
    stages.emplace_back(name, std::chrono::duration<double>(now - start).count());
    start = now;
  }
  double total() const {
    double t = 0;
    for (const auto& s : stages) t += s.second;
    return t;
  }
};

#if defined(NUREC_GENERATOR_AVAILABLE) && defined(NUREC_DETECTOR_AVAILABLE)

// What the demo computed, for its README and terminal summary (computing and rendering are
// separate functions below).
struct DemoRun {
  fs::path dir;
  int threads = 0;
  bool quiet = false;
  StageTimes times;
  std::vector<std::string> notes;
  generator::ZTauTauConfig gen;
  double crossSectionPb = 0;
  std::size_t generated = 0, signalRegion = 0;
  detector::SelectionSummary selection;
  std::string modelDir;
#if defined(NUREC_QUANTUM_AVAILABLE)
  std::vector<std::pair<std::string, quantum::SpinReport>> spin;  // method, report
#endif
};

// 1. Generate. Generator-level cuts a little looser than the triggers (docs/physics.md section
// 10: tau pT > 25 GeV, leptons > 14-17 GeV, |eta| < 2.5) keep most generated events useful; the
// cross section carries the acceptance.
io::EventTable generateEvents(const DemoOptions& o, DemoRun& run) {
  run.gen.nEvents = o.events;
  run.gen.seed = o.seed;
  run.gen.minVisiblePtGeV = 12;
  run.gen.minLeadingVisiblePtGeV = 20;
  run.gen.maxVisibleAbsEta = 2.7;
  spdlog::info("demo: generating {} Z/gamma* -> tau tau events (seed {})", o.events, o.seed);
  io::EventTable table = generator::generateZTauTau(run.gen, run.threads, !run.quiet);
  io::writeEventFile((run.dir / "truth.h5").string(), table);
  run.times.done("generate");
  run.generated = table.nEvents();
  run.crossSectionPb =
      table.hasAttribute("cross_section_pb") ? table.numberAttribute("cross_section_pb") : 0.0;
  return table;
}

// 2. Simulate the detector, triggers, channels and the signal region.
void simulateEvents(io::EventTable& table, const DemoOptions& o, DemoRun& run) {
  const detector::DetectorConfig det;
  {
    Progress progress("simulate", table.nEvents(), !run.quiet);
    detector::simulateDetector(table, det, o.seed, run.threads, &progress);
    progress.finish();
  }
  table.setAttribute("detector_config", det.toYaml());
  table.setAttribute("detector_seed", static_cast<std::int64_t>(o.seed));
  io::writeEventFile((run.dir / "events.h5").string(), table);
  run.selection = detector::summarizeSelection(table);
  run.times.done("simulate");
}

// 3. Reconstruct the neutrinos of the signal-region events (collinear, MMC, diffusion).
io::EventTable reconstructSignalRegion(const io::EventTable& table, const DemoOptions& o,
                                       DemoRun& run) {
  std::vector<std::size_t> srRows;
  {
    const auto sr = table.get<std::uint8_t>(io::ds::recoPassSr, {});
    for (std::size_t i = 0; i < sr.size(); ++i)
      if (sr[i]) srRows.push_back(i);
  }
  if (srRows.empty())
    throw InputError(
        fmt::format("demo: none of the {} events passes the signal region; use more "
                    "--events",
                    table.nEvents()));
  run.signalRegion = srRows.size();
  io::EventTable nu = table.selectRows(srRows);
  nu.setAttribute("only_selected", std::int64_t{1});
  nu.setAttribute("rows_before_selection", static_cast<std::int64_t>(table.nEvents()));
  spdlog::info("demo: {} of {} events in the signal region", srRows.size(), table.nEvents());
#if defined(NUREC_RECO_AVAILABLE)
  {
    reco::ClassicalRecoConfig rc;
    rc.seed = o.seed;
    rc.progress = !run.quiet;
    reco::reconstructClassical(nu, "collinear", rc, run.threads);
    run.times.done("collinear");
    reco::reconstructClassical(nu, "mmc", rc, run.threads);
    run.times.done("mmc");
  }
#else
  run.notes.push_back("Collinear and MMC were skipped: this build has no reco library (src/reco).");
#endif
#if defined(NUREC_ML_AVAILABLE)
  run.modelDir = o.model.empty() ? ml::defaultModelDirectory() : o.model;
#else
  run.modelDir = o.model;
#endif
  if (o.noDiffusion) {
    run.notes.push_back("The diffusion model was skipped (--no-diffusion).");
  } else {
#if defined(NUREC_ML_AVAILABLE)
    if (!fs::exists(run.modelDir)) {
      if (!o.model.empty())
        throw InputError(fmt::format("demo: model directory {} does not exist", run.modelDir));
      run.notes.push_back(
          fmt::format("The diffusion model was skipped: no shipped model ({}; train "
                      "one with `nurec train` and pass it with --model).",
                      shippedFileSearchText(ml::kDefaultModel)));
    } else {
      ml::DiffusionReconstructOptions opt;
      opt.modelDir = run.modelDir;
      opt.candidates = o.candidates;
      opt.seed = o.seed;
      opt.threads = run.threads;
      ml::reconstructDiffusion(nu, opt);
      // As `nurec reconstruct` does: the spin step (and `nurec spin nu.h5`) finds the response
      // fitted for this model by the weights' checksum (docs/quantum.md "Shipped responses").
      nu.setAttribute(io::nuModelAttribute("diffusion"), io::diffusionModelLabel(run.modelDir));
      run.times.done("diffusion");
    }
#else
    run.notes.push_back(
        "The diffusion model was skipped: this build has no ML library (LibTorch not "
        "found or NUREC_WITH_TORCH=OFF).");
#endif
  }
  io::writeEventFile((run.dir / "nu.h5").string(), nu);
  return nu;
}

#if defined(NUREC_QUANTUM_AVAILABLE)
// 5. Spin measurement (docs/physics.md sections 6-8) from the truth and from each method's
// neutrinos: quantum::measureSpin as `nurec spin` (posterior mean for the diffusion candidates),
// raw estimates with bootstrap errors, calibrated with the shipped response of each method
// (data/spin-response/, fitted on an independent sample; docs/quantum.md "Shipped responses").
// Writes spin_<method>.json/.md beside the README.
void measureSpinPerMethod(const io::EventTable& nu, const DemoOptions& o, DemoRun& run) {
  std::vector<std::string> methods = {"truth"};
  for (const auto& m : io::nuMethods(nu)) methods.push_back(m);
  for (const auto& m : methods) {
    quantum::SpinConfig sc;
    sc.analysers.method = m;
    sc.bootstrap.replicas = 50;
    sc.bootstrap.seed = o.seed;
    sc.bootstrap.threads = sc.significance.threads = run.threads;
    sc.candidateReplicas = 5;
    sc.showProgress = !run.quiet;
    sc.analysers.candidates = quantum::resolveCandidateUse("auto", nu, m);
    try {
      // Also for the truth: the selection sculpts the analyser distributions (acceptance).
      // The response of the model that reconstructed the file (--model), when one is shipped.
      const fs::path response = quantum::shippedSpinResponse(sc.analysers, &nu);
      if (fs::exists(response)) {
        sc.calibrationMode = quantum::CalibrationMode::Response;
        sc.response =
            std::make_shared<quantum::SpinResponse>(quantum::readSpinResponse(response.string()));
        const fs::path folder = response.parent_path().filename();
        sc.calibrationSource = "data/spin-response/" +
                               (folder == "spin-response" ? "" : folder.string() + "/") +
                               response.filename().string();
      } else {
        run.notes.push_back(
            fmt::format("No shipped spin response for {} ({}): its spin results are raw.", m,
                        response.string()));
      }
      quantum::SpinReport rep = quantum::measureSpin(nu, sc);
      quantum::writeSpinReport(rep, (run.dir / fmt::format("spin_{}.json", m)).string());
      for (const auto& w : rep.calibrationWarnings)
        run.notes.push_back(fmt::format(
            "Spin calibration of {}: {} (docs/quantum.md \"Shipped responses\").", m, w));
      run.spin.emplace_back(m, std::move(rep));
    } catch (const Error& err) {
      run.notes.push_back(fmt::format("Spin measurement with {} skipped: {}", m, err.what()));
    }
  }
  run.times.done("spin");
}

std::string paramCell(const std::vector<quantum::ParameterResult>& v, const std::string& n) {
  for (const auto& p : v)
    if (p.name == n)
      return quantum::formatValueError(p.value, p.statBootstrap > 0 ? p.statBootstrap : p.stat);
  return "—";
}
std::string obsCell(const std::vector<quantum::ObservableSummary>& v, const std::string& n) {
  for (const auto& x : v)
    if (x.name == n)
      return quantum::formatValueError(x.value, x.statBootstrap > 0 ? x.statBootstrap : x.stat);
  return "—";
}

// The README's spin table: per method the raw, calibrated and truth-reference rows of the
// combined sample.
std::string spinMarkdown(const DemoRun& run) {
  const std::vector<std::string> params = {"C_kk", "C_rr", "C_nn"};
  const std::vector<std::string> observables = {"concurrence", "m12", "bell_opt"};
  std::string md = "| method | events analysed | estimate |";
  std::string rule = "|---|---|---|";
  for (const auto& n : params) {
    md += fmt::format(" {} |", n);
    rule += "---|";
  }
  for (const auto& n : observables) {
    md += fmt::format(" {} |", n);
    rule += "---|";
  }
  md += " flags |\n" + rule + "---|\n";
  for (const auto& [m, rep] : run.spin) {
    if (rep.subsets.empty()) continue;
    const quantum::SubsetReport& all = rep.subsets[0];
    auto row = [&, &m = m](
                   const std::string& label, const std::vector<quantum::ParameterResult>& pv,
                   const std::vector<quantum::ObservableSummary>& ov, const std::string& flags) {
      md += fmt::format("| {} | {} | {} |", m, all.nEvents, label);
      for (const auto& n : params) md += fmt::format(" {} |", paramCell(pv, n));
      for (const auto& n : observables) md += fmt::format(" {} |", obsCell(ov, n));
      md += fmt::format(" {} |\n", flags.empty() ? "-" : flags);
    };
    std::string flags;
    for (const auto& f : all.flags) flags += (flags.empty() ? "⚠ " : "; ") + f;
    row("raw", all.raw, all.rawObservables, all.isCalibrated ? "" : flags);
    if (all.isCalibrated) row("calibrated", all.calibrated, all.calibratedObservables, flags);
    if (all.hasReference) {
      md += fmt::format("| {} | {} | truth reference |", m, all.nEvents);
      for (const auto& n : params) {
        std::string cell = "—";
        for (int a = 0; a < quantum::kNumSpinParameters; ++a)
          if (quantum::spinParameterName(a) == n)
            cell = fmt::format("{:.3f}", all.reference[static_cast<std::size_t>(a)]);
        md += fmt::format(" {} |", cell);
      }
      for (const auto& n : observables)
        md += fmt::format(" {} |", all.referenceObservables.count(n)
                                       ? fmt::format("{:.3f}", all.referenceObservables.at(n))
                                       : std::string("—"));
      md += " |\n";
    }
  }
  return md;
}

std::vector<std::string> spinTerminalLines(const DemoRun& run) {
  std::vector<std::string> lines;
  for (const auto& [m, rep] : run.spin) {
    if (rep.subsets.empty()) continue;
    const quantum::SubsetReport& all = rep.subsets[0];
    const auto& shown = all.isCalibrated ? all.calibrated : all.raw;
    lines.push_back(fmt::format("{:<10} {} C_kk {} C_nn {} ({} events){}", m,
                                all.isCalibrated ? "calibrated" : "raw       ",
                                paramCell(shown, "C_kk"), paramCell(shown, "C_nn"), all.nEvents,
                                all.flags.empty() ? "" : " FLAGGED"));
  }
  return lines;
}
#endif

// 6. The report (DIR/README.md).
std::string demoReadme(const DemoOptions& o, const DemoRun& run,
                       const eval::EvaluationResult& result, bool plots) {
  std::ostringstream md;
  md << "# nurec demo\n\n";
  md << fmt::format(
      "The whole chain on a small sample, produced by `nurec demo --events {} --seed {}` "
      "({}). Everything here can be regenerated with that command.\n\n",
      o.events, o.seed, kProducer);
  for (const auto& n : run.notes) md << "> **Note.** " << n << "\n\n";
  md << "## The chain\n\n| stage | what | time |\n|---|---|---|\n";
  auto timeOf = [&](const std::string& name) {
    for (const auto& [n, t] : run.times.stages)
      if (n == name) return fmt::format("{:.1f} s", t);
    return std::string("—");
  };
  md << fmt::format(
      "| generate | {} pp → Z/γ* → ττ events at 13 TeV, 60 < m_ττ < 120 GeV, "
      "generator-level cuts p_T(vis) > {} GeV (leading > {} GeV), \\|η(vis)\\| < {}; "
      "σ × acceptance = {:.2f} pb → [truth.h5](truth.h5) | {} |\n",
      o.events, run.gen.minVisiblePtGeV, run.gen.minLeadingVisiblePtGeV, run.gen.maxVisibleAbsEta,
      run.crossSectionPb, timeOf("generate"));
  md << fmt::format(
      "| simulate | fast ATLAS-like detector, triggers, 7 channels, signal region: {} "
      "events selected → [events.h5](events.h5) | {} |\n",
      run.signalRegion, timeOf("simulate"));
  const std::vector<std::pair<std::string, std::string>> recoStages = {
      {"collinear", "collinear approximation"},
      {"mmc", "Missing Mass Calculator"},
      {"diffusion", "diffusion model " + run.modelDir}};
  for (const auto& [stage, what] : recoStages) {
    const std::string t = timeOf(stage);
    md << fmt::format("| reconstruct | {} on the signal-region events{} | {} |\n", what,
                      t == "—" ? " — skipped (see the notes)" : " → [nu.h5](nu.h5)", t);
  }
  md << fmt::format(
      "| evaluate | resolution, distances, calibration, plots → "
      "[evaluation/README.md](evaluation/README.md) | {} |\n",
      timeOf("evaluate"));
  md << fmt::format("| spin | spin correlations and quantum observables per method | {} |\n\n",
                    timeOf("spin"));
  md << "## Selection\n\n" << detector::formatSummary(run.selection) << "\n";
  md << "## Neutrino reconstruction (signal region, all channels)\n\n"
     << eval::summaryMarkdown(result) << "\n"
     << "HWHM = half width at half maximum of the relative residuals (reco − true)/true; the "
        "full tables, distances and definitions are in "
        "[evaluation/README.md](evaluation/README.md) "
        "and docs/metrics.md.\n\n";
  md << "### Per channel\n\n" << eval::channelMarkdown(result);
#if defined(NUREC_QUANTUM_AVAILABLE)
  if (!run.spin.empty()) {
    md << "## Spin measurement\n\nThe spin correlation matrix C (helicity basis k, r, n) and "
          "observables of entanglement and Bell-inequality violation (docs/quantum.md), from the "
          "truth and with each method's neutrinos (`quantum::measureSpin`, as `nurec spin`, with "
          "the posterior mean of the diffusion candidates; full reports in "
          "spin_<method>.json/.md). Errors are bootstrap standard deviations (50 "
          "replicas). *raw*: the estimators as they come (the selection sculpts the decay "
          "distributions, already at truth level); *calibrated*: corrected with the shipped "
          "response of the method (data/spin-response/<method>.json; for the diffusion "
          "candidates diffusion-posterior-mean.json of the model that reconstructed them, in "
          "data/spin-response/<model>/), fitted once on an independent sample (generator seed "
          "7101; a detector card that differs from this sample's is reported as a calibration "
          "warning in spin_<method>.md), "
          "never on these events, so the calibrated values keep this sample's statistical "
          "fluctuation; *truth reference*: the per-event production spin state averaged over the "
          "analysed events, i.e. what the estimators target; *flags*: results not to be trusted "
          "(|C_ii| > 1.5, concurrence outside [0, 1], ill-conditioned response, negative Z; "
          "docs/quantum.md \"Flags\").\n\n"
          "What a demo-sized sample can show: that the chain runs end to end, and that the "
          "truth-level calibrated values agree with the reference within their errors (they "
          "should scatter around it, about one in three entries by more than 1σ). What it "
          "cannot show: entanglement or Bell violation with reconstructed neutrinos. With a few "
          "thousand signal-region events their calibrated errors on C_rr and C_nn are of order "
          "0.3-1 (the independent study with 10⁵ events is in docs/quantum.md), and per-channel "
          "results are mostly flagged.\n\n"
       << spinMarkdown(run) << "\n";
  }
#endif
  if (plots) {
    md << "## Plots\n\n";
    for (const auto& [stem, caption] : eval::reportFigures(result))
      md << fmt::format("### {}\n\n![{}](evaluation/{}.png)\n\n", caption, stem, stem);
  }
  return md.str();
}

#endif  // generator and detector

int runDemo(const DemoOptions& o) {
#if !defined(NUREC_GENERATOR_AVAILABLE) || !defined(NUREC_DETECTOR_AVAILABLE)
  (void)o;
  throw Error("nurec demo needs the generator and detector libraries, which this build lacks");
#else
  if (o.events < 100) throw ConfigError("--events must be at least 100");
  checkOutputPath("--out", o.out, OutputKind::Directory);
  const OutputLock lock(o.out);
  DemoRun run;
  run.dir = o.out;
  run.threads = commonOptions().threads;
  run.quiet = commonOptions().quiet;
  fs::create_directories(run.dir);

  io::EventTable table = generateEvents(o, run);
  simulateEvents(table, o, run);
  const io::EventTable nu = reconstructSignalRegion(table, o, run);

  // 4. Evaluate.
  eval::EvaluateConfig ec;
  ec.threads = run.threads;
  ec.plots = !o.noPlots;
  ec.source = "nu.h5";
  ec.title = "nurec demo: evaluation of the neutrino reconstruction";
  const eval::EvaluationResult result = eval::evaluate(nu, ec);
  eval::writeReport(result, (run.dir / "evaluation").string());
  run.times.done("evaluate");

  std::vector<std::string> spinLines;
#if defined(NUREC_QUANTUM_AVAILABLE)
  measureSpinPerMethod(nu, o, run);
  spinLines = spinTerminalLines(run);
#else
  run.notes.push_back("The spin measurement was skipped: this build has no quantum library.");
#endif
  writeTextFileAtomically((run.dir / "README.md").string(), demoReadme(o, run, result, ec.plots));

  // 7. Terminal summary.
  if (!run.quiet) {
    std::printf("\n%s", eval::terminalSummary(result).c_str());
    for (const auto& line : spinLines) std::printf("spin  %s\n", line.c_str());
    for (const auto& n : run.notes) std::printf("note: %s\n", n.c_str());
  }
  std::size_t failures = 0;
  if (!result.groups.empty())
    for (const auto& m : result.groups[0].methods) failures += m.failed;
  std::printf(
      "demo: %zu events generated, %zu in the signal region, %zu methods, %zu method "
      "failures, %.1f s; report: %s\n",
      run.generated, run.signalRegion, result.methods.size(), failures, run.times.total(),
      (run.dir / "README.md").string().c_str());
  return 0;
#endif
}

std::function<int()> setupDemo(CLI::App& cmd) {
  auto o = std::make_shared<DemoOptions>();
  cmd.footer(
      "Runs the whole nurec chain on a small sample, in a few minutes on 2 cores:\n"
      "  1. generate pp -> Z/gamma* -> tau tau at 13 TeV with exact spin correlations (truth.h5)\n"
      "  2. simulate an ATLAS-like detector, triggers, channels and the signal region (events.h5)\n"
      "  3. reconstruct the neutrinos of the signal-region events with the collinear\n"
      "     approximation, the Missing Mass Calculator and the shipped diffusion model\n"
      "     models/ztautau_ip_vf_neutral (nu.h5)\n"
      "  4. evaluate: HWHM tables, distribution distances, calibration, plots (evaluation/)\n"
      "  5. measure the tau-pair spin correlations and entanglement/Bell observables, raw and\n"
      "     calibrated, against the truth reference (spin_<method>.json, .md)\n"
      "and writes DIR/README.md with the tables and plots. Steps whose library is missing from\n"
      "this build (or the model, if absent) are skipped and the README says so.\n\n"
      "Example: nurec demo --out demo-out");
  cmd.add_option("-o,--out", o->out, "Output directory")->capture_default_str();
  cmd.add_option("--events", o->events, "Events to generate (after generator-level cuts)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{100}, std::size_t{100000000}));
  cmd.add_option("--seed", o->seed, "Run seed of every stage")->capture_default_str();
  cmd.add_option("--model", o->model,
                 "Diffusion model directory (default: the shipped models/ztautau_ip_vf_neutral)");
  cmd.add_option("--candidates", o->candidates, "Diffusion candidates per event")
      ->capture_default_str()
      ->check(CLI::Range(2, 1000));
  cmd.add_flag("--no-diffusion", o->noDiffusion, "Skip the diffusion model");
  cmd.add_flag("--no-plots", o->noPlots, "Tables only (no gnuplot needed)");
  addThreadsOption(cmd);
  return [o] { return runDemo(*o); };
}

const CommandRegistrar registrar({"demo",
                                  "The whole chain on a small sample, ending in a report "
                                  "(quick start)",
                                  5, setupDemo});

}  // namespace
}  // namespace nurec::app
