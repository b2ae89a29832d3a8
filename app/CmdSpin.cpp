// `nurec spin nu.h5 --method truth|collinear|mmc|fastmtt|diffusion --lumi 140 --out spin.json`:
// the tau-pair spin density matrix, entanglement, Bell violation and their significance vs
// luminosity (src/quantum, docs/quantum.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "app/Command.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/detector/Summary.hpp"
#include "nurec/eval/Evaluate.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/SpinInput.hpp"
#include "nurec/quantum/SpinMeasurement.hpp"
#include "nurec/quantum/SpinResponse.hpp"
#include "nurec/quantum/Systematics.hpp"

namespace nurec::app {
namespace {

struct SpinOptions {
  std::string input, output = "spin.json";
  std::string lepton = "energy", rho = "polarimeter", calibration = "auto", variations;
  std::string candidates = "auto";
  bool allEvents = false, closureTest = false, noMassConstraint = false;
  std::string writeMetVariations;           // directory
  std::vector<std::string> variationFiles;  // TAG=FILE
  quantum::SpinConfig config;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
  bool kFactorGiven = false;
};

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// The named datasets that `reader` holds, read in chunks.
io::EventTable readPresent(const io::EventFileReader& reader, const std::vector<std::string>& names,
                           std::size_t chunkEvents) {
  std::vector<std::string> present;
  for (const auto& n : names)
    if (reader.has(n)) present.push_back(n);
  return io::readRowsInChunks(reader, present, chunkEvents);
}

int runSpin(SpinOptions o) {
  auto& c = o.config;
  c.analysers.lepton = quantum::parseLeptonAnalyser(o.lepton);
  c.analysers.rho = quantum::parseRhoAnalyser(o.rho);
  c.analysers.requireSignalRegion = !o.allEvents;
  c.closureTest = o.closureTest;
  c.analysers.tauMassConstraint = !o.noMassConstraint;
  if (o.candidates != "auto") c.analysers.candidates = quantum::parseCandidateUse(o.candidates);
  c.variations = splitComma(o.variations);
  const int threads = commonOptions().threads;
  c.bootstrap.threads = c.closureCalibration.threads = c.significance.threads = threads;
  c.showProgress = !commonOptions().quiet;
  c.validate();
  // The JSON, its .md table and .scan.csv, never over the event file (or the response file).
  std::string base = o.output;
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json")
    base = base.substr(0, base.size() - 5);
  checkOutputPath("--out", o.output, OutputKind::File, {o.input, o.calibration},
                  {base + ".md", base + ".scan.csv"});
  const OutputLock lock(o.output);
  if (!o.writeMetVariations.empty())
    checkOutputPath("--write-met-variations", o.writeMetVariations, OutputKind::Directory,
                    {o.input});
  if (!o.writeMetVariations.empty()) {
    // Streamed: each chunk of the input goes, varied, to the four outputs.
    const io::EventFileReader reader(o.input);
    const auto variations = quantum::standardMetVariations();
    std::vector<std::unique_ptr<io::EventFileWriter>> writers;
    for (const auto& v : variations)
      writers.push_back(std::make_unique<io::EventFileWriter>(
          o.writeMetVariations + "/" + v.tag + ".h5", reader.nEvents()));
    std::size_t first = 0;
    do {
      const io::EventTable chunk = reader.read(first, o.chunkEvents);
      for (std::size_t k = 0; k < variations.size(); ++k) {
        const io::EventTable varied = quantum::applyMetVariation(chunk, variations[k]);
        writers[k]->setAttributes(varied.attributes());
        writers[k]->append(varied);
      }
      first += o.chunkEvents;
    } while (first < reader.nEvents());
    for (std::size_t k = 0; k < variations.size(); ++k) {
      const auto& v = variations[k];
      const std::string path = o.writeMetVariations + "/" + v.tag + ".h5";
      writers[k]->commit();
      std::printf(
          "spin: wrote %s (MET x %.2f %+.1f GeV); next: nurec reconstruct %s --method M --out "
          "%s/%s-M.h5\n",
          path.c_str(), v.scale, v.shiftGeV, path.c_str(), o.writeMetVariations.c_str(),
          v.tag.c_str());
    }
    std::printf(
        "spin: %zu events, 4 MET variations written to %s; then run nurec spin with --variation "
        "TAG=FILE\n",
        reader.nEvents(), o.writeMetVariations.c_str());
    return 0;
  }
  // Only the columns the measurement reads, in chunks (docs/data-format.md), and only the
  // signal-region rows where nothing depends on the others: the closure test splits by file row,
  // the candidate re-sampling seeds by row, and a --variation file must match row by row.
  io::EventTable table;
  std::size_t eventsInFile = 0;
  bool compact = false;
  {
    const io::EventFileReader reader(o.input);
    eventsInFile = reader.nEvents();
    const std::string& m = c.analysers.method;
    const bool truthAnalysers = m == "truth" || c.closureTest;
    compact = !o.allEvents && !c.closureTest && o.variationFiles.empty() &&
              reader.has(io::ds::recoPassSr) &&
              (c.candidateReplicas == 0 || !reader.has(io::nuCandidatesName(m)));
    io::ChunkSelector signalRegion;
    if (compact) {
      signalRegion = quantum::signalRegionRows();
    }
    table =
        io::readRowsInChunks(reader, quantum::spinDatasets(reader, m, c.variations, truthAnalysers),
                             o.chunkEvents, signalRegion);
  }
  for (const auto& tv : o.variationFiles) {
    const auto eq = tv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == tv.size())
      throw ConfigError(
          fmt::format("--variation '{}': expected TAG=FILE, e.g. met_scale_up=up-mmc.h5", tv));
    const io::EventFileReader variedReader(tv.substr(eq + 1));
    const std::string& m = c.analysers.method;
    const io::EventTable varied = readPresent(
        variedReader, {io::ds::recoTauP4, io::nuP4Name(m), io::nuStatusName(m)}, o.chunkEvents);
    quantum::mergeVariation(table, varied, c.analysers.method, tv.substr(0, eq));
  }
  c.analysers.candidates = quantum::resolveCandidateUse(o.candidates, table, c.analysers.method);
  // The yields' default K follows the resonance of the generator's run card, as in simulate.
  if (!o.kFactorGiven) c.significance.kFactor = detector::defaultKFactor(table);
  const std::string note =
      quantum::resolveSpinCalibration(o.calibration, table, o.input, threads, c);
  if (!note.empty()) std::fprintf(stderr, "spin: %s\n", note.c_str());
  c.validate();
  quantum::SpinReport rep = quantum::measureSpin(table, c);
  if (compact) rep.nInput = eventsInFile;  // the events read, not only the selected ones kept
  for (const auto& w : rep.calibrationWarnings)
    std::fprintf(stderr, "spin: calibration warning: %s\n", w.c_str());
  quantum::writeSpinReport(rep, o.output);
  std::fputs(quantum::spinSummaryLine(rep, c.significance.lumiInvFb, o.output).c_str(), stdout);
  return 0;
}

std::function<int()> setupSpin(CLI::App& cmd) {
  auto o = std::make_shared<SpinOptions>();
  cmd.footer(
      "Measures the tau-pair spin state rho = 1/4 [1 + B+.sigma x 1 + 1 x B-.sigma + C_ij sigma_i "
      "x sigma_j]\n"
      "in the helicity basis {k, r, n} (docs/physics.md section 2; the same axes for both taus, "
      "index 0 "
      "= tau+).\n"
      "Each tau's spin analyser is measured in its rest frame, reached lab -> tau-pair frame -> "
      "tau frame\n"
      "with the taus built from the visible products and the method's neutrinos (--method truth "
      "uses\n"
      "the generator truth): the pi direction (kappa 1), the rho polarimeter vector from track, "
      "pi0\n"
      "cluster and neutrino (kappa 1) and the lepton direction (kappa -1/3, or per event\n"
      "-(2x-1)/(3-2x) with x = 2E/m_tau). Estimators: C_ij = -9 sum(k+ k- x+_i x-_j)/sum(k+^2 "
      "k-^2),\n"
      "B-_i = 3 sum(k- x-_i)/sum(k-^2), B+_i = -3 sum(k+ x+_i)/sum(k+^2), with analytic (section "
      "8)\n"
      "and bootstrap errors. From (B+, B-, C): the concurrence (Wootters, X-state closed form, "
      "the\n"
      "bias-corrected form of section 8), the Peres-Horodecki eigenvalue, Horodecki m12 and max "
      "CHSH,\n"
      "the linear Bell statistics B_45 and B_opt and the entanglement witness D; their "
      "significance\n"
      "vs luminosity from the event weights (pb) with a spin-uncorrelated background, and\n"
      "pseudo-experiments at small yields.\n\n"
      "Calibration (docs/quantum.md): selection and reconstruction distort the raw estimates, "
      "even\n"
      "at truth level. A linear response (R, o), fitted by `nurec calibrate` on an INDEPENDENT\n"
      "truth-bearing sample, corrects them: theta = R^-1 (theta_raw - o). --calibration:\n"
      "  auto (default)  files with a detector selection (/reco/pass_sr): the shipped response\n"
      "                  data/spin-response/<method>.json (the card it records, generator seed\n"
      "                  7101), for diffusion the one fitted for the model that reconstructed\n"
      "                  the file (data/spin-response/<model>/); files without one: raw estimates\n"
      "  shipped         the shipped response (error when the method has none)\n"
      "  RESPONSE.json   a response from `nurec calibrate`\n"
      "  SAMPLE.h5       an independent sample; the response is fitted on it first\n"
      "  none            raw estimates\n"
      "A response for other analysers or another selection, or fitted on the measured sample\n"
      "itself, is refused. --closure-test adds a diagnostic on the input's own truth (response\n"
      "from its even rows applied to its odd rows), reported separately. Unphysical or\n"
      "ill-conditioned results are flagged. Reconstructed taus are rebuilt with the\n"
      "tau mass imposed (momentum vis + nu kept). Systematics: other\n"
      "reconstructions in the file named <method>_<tag> (e.g. mmc_met_scale_up, from a "
      "reconstruction\n"
      "with shifted MET), re-sampling of /nu/<method>/candidates, and the calibration "
      "uncertainty.\n"
      "Per channel and combined. Writes JSON, a Markdown table (.md) and the luminosity scan "
      "(.scan.csv).\n\n"
      "Examples:\n"
      "  nurec spin truth.h5 --method truth --out spin-truth.json\n"
      "  nurec calibrate calib.h5 --method mmc --out mmc-response.json\n"
      "  nurec spin nu.h5 --method mmc --calibration mmc-response.json --lumi 140 --out "
      "spin-mmc.json\n"
      "  nurec spin nu.h5 --method diffusion --background-per-fb 23.1 --out spin.json");
  cmd.add_option("file", o->input,
                 "Event file with /reco and /nu/<method> (or /truth for --method truth)")
      ->required();
  cmd.add_option("--method,-m", o->config.analysers.method,
                 "Neutrino reconstruction to use: truth, collinear, mmc, fastmtt, diffusion, ...")
      ->capture_default_str();
  cmd.add_option("--out,-o", o->output, "Output JSON (the .md table and .scan.csv go beside it)")
      ->capture_default_str();
  cmd.add_option("--lumi", o->config.significance.lumiInvFb,
                 "Integrated luminosity [fb^-1] for the quoted Z")
      ->capture_default_str();
  cmd.add_option("--lepton-analyser", o->lepton,
                 "Lepton analyser: energy (direction, kappa(x)), direction (kappa -1/3), neutrino "
                 "(truth only)")
      ->capture_default_str();
  cmd.add_option("--rho-analyser", o->rho,
                 "rho analyser: polarimeter (kappa 1) or visible (pi pi0 direction)")
      ->capture_default_str();
  cmd.add_option("--candidates", o->candidates,
                 "Methods with posterior candidates (diffusion): estimate (the point estimate "
                 "/nu/M/p4), posterior-mean (estimator terms averaged over the candidates, "
                 "docs/quantum.md), or auto: posterior-mean when the file has more than one "
                 "candidate per event")
      ->check(CLI::IsMember({"auto", "estimate", "posterior-mean"}))
      ->capture_default_str();
  cmd.add_flag("--all-events", o->allEvents,
               "Use every event, not only those with /reco/pass_sr = 1");
  cmd.add_option("--bootstrap", o->config.bootstrap.replicas,
                 "Bootstrap replicas (0: analytic errors only)")
      ->capture_default_str();
  cmd.add_option("--seed", o->config.bootstrap.seed, "Seed of the bootstrap and re-sampling")
      ->capture_default_str();
  cmd.add_option("--calibration", o->calibration,
                 "auto (shipped response when the file has a detector selection, else raw), "
                 "shipped, a response file from `nurec calibrate`, an independent SAMPLE.h5, or "
                 "none (see below)")
      ->capture_default_str();
  cmd.add_flag("--no-mass-constraint", o->noMassConstraint,
               "Use tau = visible + neutrinos as reconstructed, without imposing m_tau");
  cmd.add_option(
      "--write-met-variations", o->writeMetVariations,
      "Write MET-varied copies of the input (|MET| +-1 GeV, MET x 1 +- 0.03) into DIR and exit; "
      "reconstruct them and pass them back with --variation");
  cmd.add_option(
      "--variation", o->variationFiles,
      "TAG=FILE: a re-reconstruction of the same events (e.g. met_scale_up=up-mmc.h5) used as a "
      "systematic variation of --method (repeatable)");
  cmd.add_flag("--closure-test", o->closureTest,
               "Diagnostic on the input's own spin truth: response fitted on its even rows, "
               "applied to its odd rows (reported separately, never the headline)");
  cmd.add_option("--k-factor", o->config.significance.kFactor,
                 "K-factor on the signal cross section (default: 1.28 for Z/gamma*, 3.10 for a "
                 "g g -> H file; docs/physics.md sections 4 and 14)")
      ->each([o](const std::string&) { o->kFactorGiven = true; })
      ->capture_default_str();
  cmd.add_option("--efficiency", o->config.significance.efficiency,
                 "Extra signal efficiency beyond the file's selection")
      ->capture_default_str();
  cmd.add_option("--background-per-fb", o->config.significance.backgroundPerInvFb,
                 "Background events per fb^-1 after selection (docs/physics.md section 10: 23.1)")
      ->capture_default_str();
  cmd.add_option("--signal-per-fb", o->config.significance.signalPerInvFb,
                 "Signal events per fb^-1 (0: from the event weights)")
      ->capture_default_str();
  cmd.add_option("--toys", o->config.significance.pseudoExperiments,
                 "Pseudo-experiments per low-yield luminosity point")
      ->capture_default_str();
  cmd.add_option("--candidate-replicas", o->config.candidateReplicas,
                 "Re-samplings of /nu/<method>/candidates for the candidate spread")
      ->capture_default_str();
  cmd.add_option("--variations", o->variations,
                 "Comma-separated /nu/<name> reconstructions used as systematic variations "
                 "(default: <method>_*)");
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  return [o] { return runSpin(*o); };
}

const CommandRegistrar registrar(
    {"spin", "Spin density matrix, entanglement, Bell violation and significance vs luminosity", 60,
     setupSpin});

}  // namespace
}  // namespace nurec::app
