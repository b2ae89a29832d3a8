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
#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/OutputLock.hpp"
#include "core/OutputPath.hpp"
#include "core/Progress.hpp"
#include "eval/Evaluate.hpp"
#include "io/EventFile.hpp"
#include "io/Schema.hpp"
#include "nurec/Version.hpp"
#if defined(NUREC_GENERATOR_AVAILABLE)
#include "generator/ZTauTau.hpp"
#endif
#if defined(NUREC_DETECTOR_AVAILABLE)
#include "detector/DetectorSimulation.hpp"
#include "detector/Summary.hpp"
#endif
#if defined(NUREC_RECO_AVAILABLE)
#include "reco/Reconstruct.hpp"
#endif
#if defined(NUREC_ML_AVAILABLE)
#include "ml/Api.hpp"
#endif
#if defined(NUREC_QUANTUM_AVAILABLE)
#include "quantum/Estimators.hpp"
#include "quantum/SpinMeasurement.hpp"
#include "quantum/SpinResponse.hpp"
#endif

namespace nurec::app {
namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  std::string out = "demo-out";
  std::size_t events = 100000;
  std::uint64_t seed = 1;
  std::string model;  // empty: <source>/models/ztautau_small
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

int runDemo(const DemoOptions& o) {
#if !defined(NUREC_GENERATOR_AVAILABLE) || !defined(NUREC_DETECTOR_AVAILABLE)
  (void)o;
  throw Error("nurec demo needs the generator and detector libraries, which this build lacks");
#else
  const int threads = commonOptions().threads;
  const bool quiet = commonOptions().quiet;
  if (o.events < 100) throw ConfigError("--events must be at least 100");
  checkOutputPath("--out", o.out, OutputKind::Directory);
  const OutputLock lock(o.out);
  const fs::path dir(o.out);
  fs::create_directories(dir);
  StageTimes times;
  std::vector<std::string> notes;
  std::ostringstream md;

  // 1. Generate. Generator-level cuts a little looser than the triggers (docs/physics.md section
  // 10: tau pT > 25 GeV, leptons > 14-17 GeV, |eta| < 2.5) keep most generated events useful; the
  // cross section carries the acceptance.
  generator::ZTauTauConfig gen;
  gen.nEvents = o.events;
  gen.seed = o.seed;
  gen.minVisiblePtGeV = 12;
  gen.minLeadingVisiblePtGeV = 20;
  gen.maxVisibleAbsEta = 2.7;
  spdlog::info("demo: generating {} Z/gamma* -> tau tau events (seed {})", o.events, o.seed);
  io::EventTable table = generator::generateZTauTau(gen, threads, !quiet);
  io::writeEventFile((dir / "truth.h5").string(), table);
  times.done("generate");
  const double crossSectionPb =
      table.hasAttribute("cross_section_pb") ? table.numberAttribute("cross_section_pb") : 0.0;

  // 2. Simulate the detector, triggers, channels and the signal region.
  const detector::DetectorConfig det;
  {
    Progress progress("simulate", table.nEvents(), !quiet);
    detector::simulateDetector(table, det, o.seed, threads, &progress);
    progress.finish();
  }
  table.setAttribute("detector_config", det.toYaml());
  table.setAttribute("detector_seed", static_cast<std::int64_t>(o.seed));
  io::writeEventFile((dir / "events.h5").string(), table);
  const detector::SelectionSummary selection = detector::summarizeSelection(table);
  times.done("simulate");

  // 3. Reconstruct the neutrinos of the signal-region events.
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
  io::EventTable nu = table.selectRows(srRows);
  nu.setAttribute("only_selected", std::int64_t{1});
  nu.setAttribute("rows_before_selection", static_cast<std::int64_t>(table.nEvents()));
  spdlog::info("demo: {} of {} events in the signal region", srRows.size(), table.nEvents());
#if defined(NUREC_RECO_AVAILABLE)
  {
    reco::ClassicalRecoConfig rc;
    rc.seed = o.seed;
    rc.progress = !quiet;
    reco::reconstructClassical(nu, "collinear", rc, threads);
    times.done("collinear");
    reco::reconstructClassical(nu, "mmc", rc, threads);
    times.done("mmc");
  }
#else
  notes.push_back("Collinear and MMC were skipped: this build has no reco library (src/reco).");
#endif
  const std::string modelDir =
      o.model.empty() ? (fs::path(eval::sourceDirectory()) / "models" / "ztautau_small").string()
                      : o.model;
  if (o.noDiffusion) {
    notes.push_back("The diffusion model was skipped (--no-diffusion).");
  } else {
#if defined(NUREC_ML_AVAILABLE)
    if (!fs::exists(modelDir)) {
      if (!o.model.empty())
        throw InputError(fmt::format("demo: model directory {} does not exist", modelDir));
      notes.push_back(
          fmt::format("The diffusion model was skipped: no shipped model at {} (train "
                      "one with `nurec train` and pass it with --model).",
                      modelDir));
    } else {
      ml::DiffusionReconstructOptions opt;
      opt.modelDir = modelDir;
      opt.candidates = o.candidates;
      opt.seed = o.seed;
      opt.threads = threads;
      ml::reconstructDiffusion(nu, opt);
      times.done("diffusion");
    }
#else
    notes.push_back(
        "The diffusion model was skipped: this build has no ML library (LibTorch not "
        "found or NUREC_WITH_TORCH=OFF).");
#endif
  }
  io::writeEventFile((dir / "nu.h5").string(), nu);

  // 4. Evaluate.
  eval::EvaluateConfig ec;
  ec.threads = threads;
  ec.plots = !o.noPlots;
  ec.source = "nu.h5";
  ec.title = "nurec demo: evaluation of the neutrino reconstruction";
  const eval::EvaluationResult result = eval::evaluate(nu, ec);
  eval::writeReport(result, (dir / "evaluation").string());
  times.done("evaluate");

  // 5. Spin measurement (docs/physics.md sections 6-8): the spin correlation matrix and the quantum
  // observables from the truth and from each method's neutrinos.
  std::string spinMd;
  std::vector<std::string> spinTerminal;
#if defined(NUREC_QUANTUM_AVAILABLE)
  {
    // quantum::measureSpin (`nurec spin`): raw estimates with bootstrap errors, calibrated
    // with the shipped response of each method (data/spin-response/, fitted on an independent
    // sample with generator seed 7101; docs/quantum.md "Shipped responses"); the reference is
    // the truth spin state averaged over the analysed events.
    std::vector<std::string> spinMethods = {"truth"};
    for (const auto& m : io::nuMethods(nu)) spinMethods.push_back(m);
    const std::vector<std::string> params = {"C_kk", "C_rr", "C_nn"};
    const std::vector<std::string> observables = {"concurrence", "m12", "bell_opt"};
    spinMd = "| method | events analysed | estimate |";
    std::string rule = "|---|---|---|";
    const std::vector<std::string> flagHeader = {"flags"};
    for (const auto& n : params) {
      spinMd += fmt::format(" {} |", n);
      rule += "---|";
    }
    for (const auto& n : observables) {
      spinMd += fmt::format(" {} |", n);
      rule += "---|";
    }
    spinMd += " flags |\n" + rule + "---|\n";
    for (const auto& m : spinMethods) {
      quantum::SpinConfig sc;
      sc.analysers.method = m;
      sc.bootstrap.replicas = 50;
      sc.bootstrap.seed = o.seed;
      sc.bootstrap.threads = sc.significance.threads = threads;
      sc.candidateReplicas = 5;
      sc.showProgress = !quiet;
      // As `nurec spin`: the posterior mean for the diffusion candidates.
      sc.analysers.candidates = quantum::resolveCandidateUse("auto", nu, m);
      try {
        // Also for the truth: the selection sculpts the analyser distributions (acceptance).
        const fs::path response = shippedSpinResponse(sc.analysers);
        if (fs::exists(response)) {
          sc.calibrationMode = quantum::CalibrationMode::Response;
          sc.response =
              std::make_shared<quantum::SpinResponse>(quantum::readSpinResponse(response.string()));
          sc.calibrationSource = "data/spin-response/" + response.filename().string();
        } else {
          notes.push_back(
              fmt::format("No shipped spin response for {} ({}): its spin results are raw.", m,
                          response.string()));
        }
        const quantum::SpinReport rep = quantum::measureSpin(nu, sc);
        quantum::writeSpinReport(rep, (dir / fmt::format("spin_{}.json", m)).string());
        for (const auto& w : rep.calibrationWarnings)
          notes.push_back(
              fmt::format("Spin calibration of {}: {} (docs/quantum.md \"Shipped "
                          "responses\").",
                          m, w));
        if (rep.subsets.empty()) continue;
        const quantum::SubsetReport& all = rep.subsets[0];
        auto paramCell = [](const std::vector<quantum::ParameterResult>& v, const std::string& n) {
          for (const auto& p : v)
            if (p.name == n)
              return quantum::formatValueError(p.value,
                                               p.statBootstrap > 0 ? p.statBootstrap : p.stat);
          return std::string("—");
        };
        auto obsCell = [](const std::vector<quantum::ObservableSummary>& v, const std::string& n) {
          for (const auto& x : v)
            if (x.name == n)
              return quantum::formatValueError(x.value,
                                               x.statBootstrap > 0 ? x.statBootstrap : x.stat);
          return std::string("—");
        };
        auto row = [&](const std::string& label, const std::vector<quantum::ParameterResult>& pv,
                       const std::vector<quantum::ObservableSummary>& ov,
                       const std::string& flags) {
          spinMd += fmt::format("| {} | {} | {} |", m, all.nEvents, label);
          for (const auto& n : params) spinMd += fmt::format(" {} |", paramCell(pv, n));
          for (const auto& n : observables) spinMd += fmt::format(" {} |", obsCell(ov, n));
          spinMd += fmt::format(" {} |\n", flags.empty() ? "-" : flags);
        };
        std::string flags;
        for (const auto& f : all.flags) flags += (flags.empty() ? "⚠ " : "; ") + f;
        row("raw", all.raw, all.rawObservables, all.isCalibrated ? "" : flags);
        if (all.isCalibrated) row("calibrated", all.calibrated, all.calibratedObservables, flags);
        if (all.hasReference) {
          spinMd += fmt::format("| {} | {} | truth reference |", m, all.nEvents);
          for (const auto& n : params) {
            std::string cell = "—";
            for (int a = 0; a < quantum::kNumSpinParameters; ++a)
              if (quantum::spinParameterName(a) == n)
                cell = fmt::format("{:.3f}", all.reference[static_cast<std::size_t>(a)]);
            spinMd += fmt::format(" {} |", cell);
          }
          for (const auto& n : observables)
            spinMd +=
                fmt::format(" {} |", all.referenceObservables.count(n)
                                         ? fmt::format("{:.3f}", all.referenceObservables.at(n))
                                         : std::string("—"));
          spinMd += " |\n";
        }
        const auto& shownParams = all.isCalibrated ? all.calibrated : all.raw;
        spinTerminal.push_back(fmt::format(
            "{:<10} {} C_kk {} C_nn {} ({} events){}", m,
            all.isCalibrated ? "calibrated" : "raw       ", paramCell(shownParams, "C_kk"),
            paramCell(shownParams, "C_nn"), all.nEvents, all.flags.empty() ? "" : " FLAGGED"));
      } catch (const Error& err) {
        notes.push_back(fmt::format("Spin measurement with {} skipped: {}", m, err.what()));
      }
    }
    times.done("spin");
  }
#else
  notes.push_back("The spin measurement was skipped: this build has no quantum library.");
#endif

  // 6. The report.
  md << "# nurec demo\n\n";
  md << fmt::format(
      "The whole chain on a small sample, produced by `nurec demo --events {} --seed {}` "
      "({}). Everything here can be regenerated with that command.\n\n",
      o.events, o.seed, kProducer);
  for (const auto& n : notes) md << "> **Note.** " << n << "\n\n";
  md << "## The chain\n\n| stage | what | time |\n|---|---|---|\n";
  auto timeOf = [&](const std::string& name) {
    for (const auto& [n, t] : times.stages)
      if (n == name) return fmt::format("{:.1f} s", t);
    return std::string("—");
  };
  md << fmt::format(
      "| generate | {} pp → Z/γ* → ττ events at 13 TeV, 60 < m_ττ < 120 GeV, "
      "generator-level cuts p_T(vis) > {} GeV (leading > {} GeV), \\|η(vis)\\| < {}; "
      "σ × acceptance = {:.2f} pb → [truth.h5](truth.h5) | {} |\n",
      o.events, gen.minVisiblePtGeV, gen.minLeadingVisiblePtGeV, gen.maxVisibleAbsEta,
      crossSectionPb, timeOf("generate"));
  md << fmt::format(
      "| simulate | fast ATLAS-like detector, triggers, 7 channels, signal region: {} "
      "events selected → [events.h5](events.h5) | {} |\n",
      srRows.size(), timeOf("simulate"));
  const std::vector<std::pair<std::string, std::string>> recoStages = {
      {"collinear", "collinear approximation"},
      {"mmc", "Missing Mass Calculator"},
      {"diffusion", "diffusion model " + modelDir}};
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
  md << "## Selection\n\n" << detector::formatSummary(selection) << "\n";
  md << "## Neutrino reconstruction (signal region, all channels)\n\n"
     << eval::summaryMarkdown(result) << "\n"
     << "HWHM = half width at half maximum of the relative residuals (reco − true)/true; the "
        "full tables, distances and definitions are in "
        "[evaluation/README.md](evaluation/README.md) "
        "and docs/metrics.md.\n\n";
  md << "### Per channel\n\n" << eval::channelMarkdown(result);
  if (!spinMd.empty()) {
    md << "## Spin measurement\n\nThe spin correlation matrix C (helicity basis k, r, n) and "
          "observables of entanglement and Bell-inequality violation (docs/quantum.md), from the "
          "truth and with each method's neutrinos (`quantum::measureSpin`, as `nurec spin`; full "
          "reports in spin_<method>.json/.md). Errors are bootstrap standard deviations (50 "
          "replicas). *raw*: the estimators as they come (the selection sculpts the decay "
          "distributions, already at truth level); *calibrated*: corrected with the shipped "
          "response of the method (data/spin-response/<method>.json), fitted once on an "
          "independent sample (generator seed 7101, the shipped model; a detector card that "
          "differs "
          "from this sample's is reported as a calibration warning in spin_<method>.md), "
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
       << spinMd << "\n";
  }
  if (ec.plots) {
    md << "## Plots\n\n";
    for (const auto& [stem, caption] : eval::reportFigures(result))
      md << fmt::format("### {}\n\n![{}](evaluation/{}.png)\n\n", caption, stem, stem);
  }
  writeTextFileAtomically((dir / "README.md").string(), md.str());

  // 7. Terminal summary.
  if (!quiet) {
    std::printf("\n%s", eval::terminalSummary(result).c_str());
    for (const auto& line : spinTerminal) std::printf("spin  %s\n", line.c_str());
    for (const auto& n : notes) std::printf("note: %s\n", n.c_str());
  }
  std::size_t failures = 0;
  if (!result.groups.empty())
    for (const auto& m : result.groups[0].methods) failures += m.failed;
  std::printf(
      "demo: %zu events generated, %zu in the signal region, %zu methods, %zu method "
      "failures, %.1f s; report: %s\n",
      table.nEvents(), srRows.size(), result.methods.size(), failures, times.total(),
      (dir / "README.md").string().c_str());
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
      "     models/ztautau_small (nu.h5)\n"
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
                 "Diffusion model directory (default: models/ztautau_small of the source tree)");
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
