#pragma once
// Physics processes and reconstruction methods register themselves here, one file each
// (app/process/<name>.cpp, app/method/<name>.cpp), like the subcommands of app/Command.hpp: a new
// process or method is an added file, not edits to the commands (docs/design.md "Processes and
// methods"). The commands `generate`, `simulate`, `reconstruct` and `evaluate` own the options
// every process shares and hand the rest to the process the file (or --process) names.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"

namespace nurec {
class Progress;
}

namespace nurec::app {

// `nurec generate`: the options every process has, after parsing.
struct GenerateRun {
  std::size_t events = 10000;
  std::uint64_t seed = 1;
  double sqrtSGeV = 13000;
  std::string output, format;  // format "h5" or "hepmc3" (resolved from the name when not given)
  std::string configFile;      // the process's YAML run card, "" = none
  std::size_t chunkEvents = 0;
  bool noRecoil = false;          // no initial-state recoil, recoil jets or underlying event
  const CLI::App* cmd = nullptr;  // which options were given (a run card yields to them)
};

// `nurec simulate`: the options every process has.
struct SimulateRun {
  std::string input, detectorCard;  // detectorCard "" = the process's built-in card
  std::uint64_t seed = 1;
  double kFactor = 0;  // normalisation of the yields in the summary; 0 = the process's default
};

// The detector stage of a process for one `simulate` run: made once, applied to every chunk.
class DetectorStage {
 public:
  virtual ~DetectorStage() = default;
  // Adds /reco and the detector's file attributes to a chunk of truth rows. /reco/pass_sr (N, u1)
  // marks the selected events (--only-selected keeps those).
  virtual void simulate(io::EventTable& chunk, int threads, Progress& progress) = 0;
  // After the last chunk: the selection table for stdout, the number of selected events and the
  // middle of the one-line summary ("1234 in the signal region (56.7 per fb^-1), ...").
  virtual std::string report() const = 0;
  virtual std::size_t selectedEvents() const = 0;
  virtual std::string headline() const = 0;
  virtual std::string selectionName() const = 0;  // "signal region", for messages
  // Multiplies the event weights summed so far by factor. HepMC3 input is streamed with the
  // generator's nominal weights and normalised once the whole file is read (TruthSource).
  virtual void scaleWeights(double factor) = 0;
};

// HepMC3 input, read in parts so that memory is bounded by a part (`nurec simulate`).
class TruthSource {
 public:
  virtual ~TruthSource() = default;
  // The next rows as a truth table, at least maxRows of them unless the file ends (a record lost
  // to damage adds a row of its own); firstRow() is the row's index in the file and /weight holds
  // the generator's nominal weights. An empty table means the end of the file.
  virtual io::EventTable read(std::size_t maxRows) = 0;
  // After the end: /weight in pb per event for a nominal weight of read(), and the factor that
  // turns sums of nominal weights into pb (the normalisation needs the whole file).
  virtual double weightPb(double nominalWeight) const = 0;
  virtual double weightScale() const = 0;
  // After the end: warnings about the file (records without a tau pair, no cross section).
  virtual void warn() const = 0;
};

// `nurec evaluate`: the options every process has.
struct EvaluateRun {
  std::string input, out;
  std::vector<std::string> methods;  // empty = every method in the file
  std::string selection;
  int bootstrap = 50;
  std::uint64_t seed = 1;
  bool plots = true;  // PNG + SVG through gnuplot
};

struct ProcessSpec {
  std::string name;     // --process value and the file attribute "process"
  std::string summary;  // one line for --help
  int order = 0;        // position in --help lists
  // Adds the process's own generate options (in an option group named after it) and returns the
  // generator run. Its options are refused when another process is generated.
  std::function<std::function<void(const GenerateRun&)>(CLI::Option_group&)> setupGenerate;
  std::string simulateHelp;  // what its detector stage does, for `simulate --help`
  std::function<std::unique_ptr<DetectorStage>(const SimulateRun&)> makeDetector;
  // HepMC3 input, for the one process that reads it.
  std::function<std::unique_ptr<TruthSource>(const std::string& path, std::uint64_t seed)>
      openHepMC3;
  // `nurec evaluate` of the process's files (report into run.out); null = the command's own
  // tau-pair evaluation (docs/evaluate.md).
  std::function<int(const EvaluateRun&)> evaluate;
};

std::vector<ProcessSpec>& processRegistry();
struct ProcessRegistrar {
  explicit ProcessRegistrar(ProcessSpec spec) { processRegistry().push_back(std::move(spec)); }
};
// The registered process of that name; ConfigError listing the registered ones otherwise.
const ProcessSpec& findProcess(const std::string& name);
std::string processNames();  // "ztautau, ttbar-semilep" (in order)

// Reconstruction of one chunk of an event file (app/method/): adds /nu/<method>/ to the rows.
// Made once per run (models and tables are loaded once), used for every chunk.
class ChunkReconstructor {
 public:
  virtual ~ChunkReconstructor() = default;
  virtual void reconstruct(io::EventTable& chunk, bool progress) = 0;
  // Name of a /nu/<method>/status code for the summary line.
  virtual std::string statusName(int code) const = 0;
  // Whether events with this status have a result (0 always; t tbar's chi2 also 1).
  virtual bool reconstructed(int code) const { return code == 0; }
};

// `nurec reconstruct`: the options every method has.
struct ReconstructRun {
  std::string method;
  std::uint64_t seed = 1;
  int threads = 0;
};

// Methods that share options (the classical tau-pair methods share the MET model) register as
// one family: its setup adds the options once and returns the factory for any of its methods.
struct MethodFamily {
  std::string process;  // the process whose files the methods reconstruct
  struct Method {
    std::string name, help;  // --method value; paragraph for `reconstruct --help`
  };
  std::vector<Method> methods;
  int order = 0;  // position in --help
  using Factory = std::function<std::unique_ptr<ChunkReconstructor>(const ReconstructRun&)>;
  std::function<Factory(CLI::App&)> setup;
};
std::vector<MethodFamily>& methodRegistry();

// Options of the methods that sample from a trained model (the tau-pair diffusion model, the
// t tbar unfolding models): added to `reconstruct` once, by whichever family sets up first.
struct ModelSamplingOptions {
  std::string model, sampler;
  int candidates = 10, steps = 0;
  const CLI::Option* candidatesOption = nullptr;  // count() == 0: the method's own default
};
std::shared_ptr<ModelSamplingOptions> modelSamplingOptions(CLI::App& cmd);
struct MethodRegistrar {
  explicit MethodRegistrar(MethodFamily family) { methodRegistry().push_back(std::move(family)); }
};

}  // namespace nurec::app
