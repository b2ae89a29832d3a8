// `nurec simulate IN.h5|IN.hepmc3[.gz] --out OUT.h5`: the detector stage of the input's process
// (app/process/, app/Process.hpp): detector response, selection, the point cloud of the models.
// This file streams the input in chunks and writes the output; the process does the physics.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "app/Command.hpp"
#include "app/Process.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::app {
namespace {

struct SimulateOptions {
  SimulateRun run;
  std::string output;
  bool onlySelected = false;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
  bool kFactorGiven = false;
};

bool isHdf5(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the input file", path));
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 8 && std::string(magic, 8) == "\x89HDF\r\n\x1a\n";
}

// The process that reads HepMC3 files.
const ProcessSpec& hepmc3Process() {
  for (const auto& p : processRegistry())
    if (p.openHepMC3) return p;
  throw ConfigError("no registered process reads HepMC3 input");
}

int runSimulate(const SimulateOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& input = o.run.input;
  checkOutputPath("--out", o.output, OutputKind::File, {input});
  const OutputLock lock(o.output);
  if (o.kFactorGiven && !(o.run.kFactor > 0)) throw ConfigError("--k-factor must be positive");
  // Both inputs are streamed in chunks of --chunk-events rows (docs/data-format.md "Reading and
  // writing in chunks"). HepMC3 weights are normalised with the sum over the whole file, so
  // their /weight is written at commit.
  std::unique_ptr<io::EventFileReader> reader;
  std::unique_ptr<TruthSource> hepmc;
  const ProcessSpec* process = nullptr;
  if (isHdf5(input)) {
    reader = std::make_unique<io::EventFileReader>(input);
    process = &findProcess(io::processOf(reader->attributes(), input));
  } else {
    process = &hepmc3Process();
    hepmc = process->openHepMC3(input, o.run.seed);
  }
  if (!process->makeDetector)
    throw ConfigError(fmt::format("{}: process {} has no detector stage", input, process->name));
  // The detector card is read and checked before any event is.
  const std::unique_ptr<DetectorStage> detector = process->makeDetector(o.run);
  const std::size_t nFile = reader ? reader->nEvents() : 0;
  if (reader && nFile == 0) throw InputError(fmt::format("{}: no events", input));

  io::EventFileWriter writer(o.output, o.onlySelected ? 0 : nFile);
  bool droppedNu = false;
  // HepMC3 input: the reader's bar (MB of the file) shows the progress.
  Progress progress("simulate", nFile, reader != nullptr);
  std::vector<double> nominalWeights;  // HepMC3: /weight of the rows written
  std::size_t nAll = 0;
  for (;;) {
    io::EventTable table = !reader        ? hepmc->read(o.chunkEvents)
                           : nAll < nFile ? reader->read(nAll, o.chunkEvents)
                                          : io::EventTable();
    if (table.nEvents() == 0) break;
    nAll += table.nEvents();
    if (!nuMethods(table).empty()) {
      if (!droppedNu)
        std::fprintf(stderr,
                     "simulate: note: dropping the /nu groups of the input (they belong to "
                     "the old /reco)\n");
      droppedNu = true;
      table.eraseGroup("/nu/");
    }
    detector->simulate(table, commonOptions().threads, progress);
    if (o.onlySelected) {
      const auto sr = table.get<std::uint8_t>(io::ds::recoPassSr, {});
      std::vector<std::size_t> rows;
      for (std::size_t i = 0; i < sr.size(); ++i)
        if (sr[i]) rows.push_back(i);
      table = table.selectRows(rows);
    }
    if (hepmc) {
      const auto w = table.get<double>(io::ds::weight, {});
      nominalWeights.insert(nominalWeights.end(), w.begin(), w.end());
      table.erase(io::ds::weight);
    }
    writer.setAttributes(table.attributes());
    writer.append(table);
  }
  if (hepmc) {
    hepmc->warn();
    detector->scaleWeights(hepmc->weightScale());
    std::vector<double> weightPb(nominalWeights.size());
    for (std::size_t i = 0; i < weightPb.size(); ++i)
      weightPb[i] = hepmc->weightPb(nominalWeights[i]);
    writer.setColumnAtCommit(io::ds::weight, io::Column{{}, std::move(weightPb)});
  }
  progress.finish();
  if (o.onlySelected) {
    writer.setAttribute("only_selected", std::int64_t{1});
    writer.setAttribute("rows_before_selection", static_cast<std::int64_t>(nAll));
  }
  std::printf("%s", detector->report().c_str());
  if (detector->selectedEvents() == 0)
    emptyResult(
        fmt::format("simulate: no event of {} passes the {}", input, detector->selectionName()));
  writer.commit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("simulate: %zu events, %s, %zu rows written, %.1f s -> %s\n", nAll,
              detector->headline().c_str(), writer.rowsWritten(), seconds, o.output.c_str());
  return 0;
}

std::function<int()> setupSimulate(CLI::App& cmd) {
  auto o = std::make_shared<SimulateOptions>();
  auto& processes = processRegistry();
  std::sort(processes.begin(), processes.end(),
            [](const ProcessSpec& a, const ProcessSpec& b) { return a.order < b.order; });
  std::string help;
  for (const auto& p : processes) help += p.simulateHelp + "\n\n";
  cmd.footer(
      "Runs the detector stage of the input's process (the file attribute 'process'; HepMC3\n"
      "input is ztautau):\n\n" +
      help +
      "Output: the input's /truth, /weight and attributes plus /reco. Event i uses random\n"
      "stream (seed, i): results do not depend on --threads or --chunk-events.\n\n"
      "Examples:\n"
      "  nurec simulate truth.h5 --out events.h5\n"
      "  nurec simulate pythia.hepmc3.gz --out events.h5 --config configs/detector_atlas.yaml\n"
      "  nurec simulate truth.h5 --out sr.h5 --only-selected   # selected rows only, weights "
      "unchanged");
  cmd.add_option("input", o->run.input,
                 "nurec event file (.h5) or HepMC3 ASCII file (.hepmc3[.gz])")
      ->required();
  cmd.add_option("--out,-o", o->output, "Output event file")->required();
  cmd.add_option("--config", o->run.detectorCard,
                 "Detector card (YAML, e.g. configs/detector_atlas.yaml); default: the process's "
                 "built-in card");
  cmd.add_option("--seed", o->run.seed,
                 "Run seed of the detector smearing; event i uses stream (seed, i)")
      ->capture_default_str();
  cmd.add_flag("--only-selected", o->onlySelected,
               "Write only the selected events (signal region; weights unchanged, so sums of "
               "weights still give yields)");
  cmd.add_option("--k-factor", o->run.kFactor,
                 "Normalisation factor of the yields in the summary (default: the process's, "
                 "ztautau 1.28 = NNLO/LO)")
      ->each([o](const std::string&) { o->kFactorGiven = true; });
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  return [o] { return runSimulate(*o); };
}

const CommandRegistrar registrar({"simulate",
                                  "Detector simulation, triggers, selection and signal region", 20,
                                  setupSimulate});

}  // namespace
}  // namespace nurec::app
