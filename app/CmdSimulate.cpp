// `nurec simulate IN.h5|IN.hepmc3[.gz] --out OUT.h5`: fast detector simulation, triggers, channel
// and signal region (docs/detector.md).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "app/Command.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/detector/Summary.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/HepMC3Reader.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::app {
namespace {

// Per-record status of HepMC3 input (io::HepMC3Status values), i1 (N); nurec extension.
constexpr const char* kInputStatus = "/truth/input_status";

struct SimulateOptions {
  std::string input, output, config;
  std::uint64_t seed = 1;
  bool onlySelected = false;
  double kFactor = detector::kNnloKFactor;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
};

bool isHdf5(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the input file", path));
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 8 && std::string(magic, 8) == "\x89HDF\r\n\x1a\n";
}

io::EventTable tableFromHepMC3(const std::string& path, std::uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  io::HepMC3Input in = io::readHepMC3(path, 0, true);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t n = in.events.size();
  io::EventTable table(n);
  io::putTruth(table, in.events, io::SpinTruthContent::Unknown);  // HepMC3 has no spin state
  std::vector<std::int8_t> status(n);
  for (std::size_t i = 0; i < n; ++i) status[i] = static_cast<std::int8_t>(in.status[i]);
  table.set(kInputStatus, {}, std::move(status));
  table.setAttribute("seed", static_cast<std::int64_t>(seed));
  table.setAttribute("sqrt_s", in.sqrtSGeV);
  if (in.hasCrossSection) table.setAttribute("cross_section_pb", in.crossSectionPb);
  table.setAttribute("config", std::string());
  table.setAttribute("producer", std::string(kProducer) + " simulate (HepMC3 input)");
  table.setAttribute("input_file", path);
  std::printf("read %zu HepMC3 records from %s in %.2f s (%.0f records/s)%s\n", n, path.c_str(),
              seconds, static_cast<double>(n) / std::max(seconds, 1e-9),
              in.convertedFromMeV ? ", momenta converted from MeV" : "");
  std::fflush(stdout);
  for (int s = 1; s < io::kNumHepMC3Status; ++s) {
    if (in.statusCounts[static_cast<std::size_t>(s)] == 0) continue;
    std::fprintf(stderr,
                 "simulate: warning: %zu records with status %d (%s), kept with no tau pair\n",
                 in.statusCounts[static_cast<std::size_t>(s)], s,
                 io::hepmc3StatusName(static_cast<io::HepMC3Status>(s)));
  }
  if (!in.hasCrossSection) {
    std::fprintf(stderr,
                 "simulate: warning: %s carries no cross section: /weight holds the "
                 "generator's nominal weights, and the yields below are not in events/fb^-1\n",
                 path.c_str());
  }
  return table;
}

int runSimulate(const SimulateOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  checkOutputPath("--out", o.output, OutputKind::File, {o.input});
  const OutputLock lock(o.output);
  const detector::DetectorConfig config =
      o.config.empty() ? detector::DetectorConfig{} : detector::loadDetectorConfig(o.config);
  config.validate();
  if (!(o.kFactor > 0)) throw ConfigError("--k-factor must be positive");
  // An event file is streamed in chunks of --chunk-events rows (docs/data-format.md). A HepMC3
  // file is read whole: its weights are normalised with the sum over the file.
  std::unique_ptr<io::EventFileReader> reader;
  io::EventTable hepmc;
  if (isHdf5(o.input))
    reader = std::make_unique<io::EventFileReader>(o.input);
  else
    hepmc = tableFromHepMC3(o.input, o.seed);
  const std::size_t nAll = reader ? reader->nEvents() : hepmc.nEvents();
  if (nAll == 0) throw InputError(fmt::format("{}: no events", o.input));
  const std::size_t chunk = reader ? o.chunkEvents : nAll;

  io::EventFileWriter writer(o.output, o.onlySelected ? 0 : nAll);
  detector::SelectionSummary summary;
  summary.kFactor = o.kFactor;
  std::size_t inputFailures = 0;
  bool droppedNu = false;
  Progress progress("simulate", nAll);
  for (std::size_t first = 0; first < nAll; first += chunk) {
    io::EventTable table = reader ? reader->read(first, chunk) : std::move(hepmc);
    if (!nuMethods(table).empty()) {
      if (!droppedNu)
        std::fprintf(stderr,
                     "simulate: note: dropping the /nu groups of the input (they belong to "
                     "the old /reco)\n");
      droppedNu = true;
      table.eraseGroup("/nu/");
    }
    detector::simulateDetector(table, config, o.seed, commonOptions().threads, &progress);
    table.setAttribute("detector_config", config.toYaml());
    table.setAttribute("detector_seed", static_cast<std::int64_t>(o.seed));
    summary += detector::summarizeSelection(table, o.kFactor);
    if (table.has(kInputStatus)) {
      for (auto s : table.get<std::int8_t>(kInputStatus, {})) inputFailures += s != 0 ? 1 : 0;
    }
    if (o.onlySelected) {
      const auto sr = table.get<std::uint8_t>(io::ds::recoPassSr, {});
      std::vector<std::size_t> rows;
      for (std::size_t i = 0; i < sr.size(); ++i)
        if (sr[i]) rows.push_back(i);
      table = table.selectRows(rows);
    }
    writer.setAttributes(table.attributes());
    writer.append(table);
  }
  progress.finish();
  if (o.onlySelected) {
    writer.setAttribute("only_selected", std::int64_t{1});
    writer.setAttribute("rows_before_selection", static_cast<std::int64_t>(nAll));
  }
  std::printf("%s", detector::formatSummary(summary).c_str());
  if (summary.total.passSr == 0)
    emptyResult(fmt::format("simulate: no event of {} passes the signal region", o.input));
  writer.commit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "simulate: %zu events, %zu in the signal region (%.1f per fb^-1), %zu input "
      "failures, %zu rows written, %.1f s -> %s\n",
      nAll, summary.total.passSr, summary.yieldPerInvFb(summary.total), inputFailures,
      writer.rowsWritten(), seconds, o.output.c_str());
  return 0;
}

std::function<int()> setupSimulate(CLI::App& cmd) {
  auto o = std::make_shared<SimulateOptions>();
  cmd.footer(
      "Turns truth events into what an ATLAS-like detector sees (docs/physics.md section 10, "
      "Delphes\n"
      "ATLAS card, no pile-up): tracking efficiency and log-normal pT smearing of the charged\n"
      "pion; electron and muon identification, resolution and isolation; 1-prong hadronic taus\n"
      "(track + one ECAL pi0 cluster) classified as pi or rho with lost and fake pi0 clusters;\n"
      "anti-kt R = 0.4 jets (FastJet) on the particles not from the taus; MET from the objects\n"
      "and a smeared soft term with sigma = 0.5 sqrt(sum E_T). Then the triggers (di-tau 35/25,\n"
      "e+tau 17/25 or e 26, mu+tau 14/25 or mu 26), the seven channels (pipi, epi, mupi, pirho,\n"
      "erho, murho, rhorho) and the signal region (acceptance, opposite charges).\n\n"
      "Input: a nurec event file (/truth) or a HepMC3 ASCII file, plain or gzip (Pythia 8,\n"
      "MadGraph+Pythia, Herwig). Output: the input's /truth, /weight and attributes plus /reco,\n"
      "/reco/particles (10 x 13 point cloud) and /reco/particles_mask (docs/detector.md).\n"
      "Event i uses random stream (seed, i): results do not depend on --threads.\n"
      "The summary gives per channel the trigger and SR efficiencies and the expected SR events\n"
      "per fb^-1 = sum(weight [pb]) x 1000 x K (K = 1.28: NNLO 1.9 nb / LO CTEQ5L).\n\n"
      "Examples:\n"
      "  nurec simulate truth.h5 --out events.h5\n"
      "  nurec simulate pythia.hepmc3.gz --out events.h5 --config configs/detector_atlas.yaml\n"
      "  nurec simulate truth.h5 --out sr.h5 --only-selected   # SR rows only, weights unchanged");
  cmd.add_option("input", o->input, "nurec event file (.h5) or HepMC3 ASCII file (.hepmc3[.gz])")
      ->required();
  cmd.add_option("--out,-o", o->output, "Output event file")->required();
  cmd.add_option("--config", o->config,
                 "Detector card (YAML, e.g. configs/detector_atlas.yaml); default: built-in ATLAS "
                 "card");
  cmd.add_option("--seed", o->seed,
                 "Run seed of the detector smearing; event i uses stream (seed, i)")
      ->capture_default_str();
  cmd.add_flag("--only-selected", o->onlySelected,
               "Write only the events in the signal region (weights unchanged, so sums of weights "
               "still give yields)");
  cmd.add_option("--k-factor", o->kFactor,
                 "Normalisation factor of the yields in the summary (NNLO/LO)")
      ->capture_default_str();
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  return [o] { return runSimulate(*o); };
}

const CommandRegistrar registrar({"simulate",
                                  "Detector simulation, triggers, channels and signal region", 20,
                                  setupSimulate});

}  // namespace
}  // namespace nurec::app
