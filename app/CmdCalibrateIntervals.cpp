// `nurec calibrate-intervals sample.h5 --out MODEL/mass_intervals.json`: fits the per-event
// m_tautau interval calibration of a sampling method (eval/MassIntervals.hpp) on a truth-bearing
// sample that is independent of the events it will be applied to (docs/ml.md "Calibrated mass
// intervals"); `nurec reconstruct --method diffusion` applies it when it lies in the model
// directory.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "app/Command.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/eval/MassIntervals.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::app {
namespace {

struct CalibrateIntervalsOptions {
  std::string input, output, method = "diffusion";
  eval::MassIntervalFitConfig fit;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
};

int runCalibrateIntervals(const CalibrateIntervalsOptions& o) {
  o.fit.validate();
  checkOutputPath("--out", o.output, OutputKind::File, {o.input});
  const OutputLock lock(o.output);
  const io::EventFileReader reader(o.input);
  const std::vector<std::string> datasets{io::nuMassQuantilesName(o.method), io::ds::tauP4,
                                          io::ds::recoChannel, io::ds::recoTauP4, io::ds::recoMet};
  for (const std::string& name : datasets)
    if (!reader.has(name))
      throw InputError(fmt::format(
          "{}: no dataset {} (needed: a truth-bearing sample reconstructed with --method {})",
          o.input, name, o.method));
  const io::EventTable t = io::readRowsInChunks(reader, datasets, o.chunkEvents);
  const auto tau = t.get<double>(io::ds::tauP4, {2, 4});
  const std::size_t n = t.nEvents();
  std::vector<double> trueMass(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = &tau[i * 8];
    trueMass[i] = (FourVector(p[0], p[1], p[2], p[3]) + FourVector(p[4], p[5], p[6], p[7])).m();
  }
  eval::MassIntervalCalibration c = eval::fitMassIntervals(
      eval::intervalEvents(t, o.method), trueMass, o.fit, o.input + " (" + o.method + ")");
  // The candidates' sampling settings: the factors hold for these only (reconstruct checks them).
  const std::string record = "reco_" + o.method + "_config";
  c.sampling = eval::samplingSettings(t.stringAttributeOr(record));
  if (c.sampling.empty())
    std::fprintf(stderr,
                 "calibrate-intervals: warning: %s records no sampling settings (attribute %s); "
                 "reconstruct cannot check that they match\n",
                 o.input.c_str(), record.c_str());
  writeTextFileAtomically(o.output, c.toJson());
  std::printf("calibrate-intervals: %s, method %s (%s), target coverage %.2f\n", o.input.c_str(),
              o.method.c_str(), c.sampling.empty() ? "sampling not recorded" : c.sampling.c_str(),
              c.targetCoverage);
  std::printf("| median m_tautau [GeV] | events | raw coverage | scale |\n|---|---:|---:|---:|\n");
  for (std::size_t b = 0; b < c.scale.size(); ++b)
    std::printf("| %g-%g | %zu | %.3f | %.3f |\n", c.medianMassEdgesGeV[b],
                c.medianMassEdgesGeV[b + 1], c.events[b], c.rawCoverage[b], c.scale[b]);
  std::printf(
      "\nScale per cell (lepton-hadron | hadron-hadron, each by pair pT; '-': fewer than "
      "%zu events, the bin's scale applies):\n",
      o.fit.minEventsPerBin);
  const std::size_t cells = c.cellScale.size() / c.scale.size();
  for (std::size_t b = 0; b < c.scale.size(); ++b) {
    std::printf("| %g-%g |", c.medianMassEdgesGeV[b], c.medianMassEdgesGeV[b + 1]);
    for (std::size_t k = 0; k < cells; ++k) {
      const double s = c.cellScale[b * cells + k];
      std::printf(std::isfinite(s) ? " %.3f |" : " - |", s);
    }
    std::printf("\n");
  }
  std::printf("-> %s\n", o.output.c_str());
  return 0;
}

std::function<int()> setupCalibrateIntervals(CLI::App& cmd) {
  auto o = std::make_shared<CalibrateIntervalsOptions>();
  cmd.footer(
      "Fits how much the per-event 16-84 % m_tautau intervals of a sampling reconstruction\n"
      "(/nu/<method>/mtautau_quantiles) must be widened or narrowed about the event's median so\n"
      "that they cover the true m_tautau in 68 % of the events, one factor per bin of the median\n"
      "and, within it, per class (both taus hadronic or not) and bin of the reconstructed pair\n"
      "pT (reconstructed quantities; a sparse cell uses its bin's factor). Fit it on a "
      "truth-bearing sample that is independent of the\n"
      "events it will be applied to, reconstructed with the same model, candidates and sampler,\n"
      "and write it into the model directory as mass_intervals.json: `nurec reconstruct --method\n"
      "diffusion` then also writes the calibrated intervals /nu/diffusion/mtautau_interval68,\n"
      "and `nurec evaluate` reports their coverage (docs/ml.md \"Calibrated mass intervals\").\n\n"
      "Example:\n"
      "  nurec reconstruct calib.h5 --method diffusion --model MODEL --candidates 20 --out r.h5\n"
      "  nurec calibrate-intervals r.h5 --out MODEL/mass_intervals.json");
  cmd.add_option("file", o->input, "Truth-bearing sample with /nu/<method>/mtautau_quantiles")
      ->required();
  cmd.add_option("--method,-m", o->method, "Sampling reconstruction (diffusion, ...)")
      ->capture_default_str();
  cmd.add_option("--out,-o", o->output, "Calibration file (JSON; mass_intervals.json in a model)")
      ->required();
  cmd.add_option("--edges", o->fit.medianMassEdgesGeV,
                 "Bin edges of the event's median m_tautau in GeV (under- and overflow join the "
                 "edge bins)")
      ->delimiter(',')
      ->capture_default_str();
  cmd.add_option("--pt-edges", o->fit.pairPtEdgesGeV,
                 "Inner edges of the reconstructed pair-pT cells in GeV (|pT(visible pair) + "
                 "MET|), within every mass bin and separately for lepton-hadron and "
                 "hadron-hadron events")
      ->delimiter(',')
      ->capture_default_str();
  cmd.add_option("--target", o->fit.targetCoverage, "Coverage the intervals are calibrated to")
      ->capture_default_str();
  cmd.add_option("--min-events", o->fit.minEventsPerBin,
                 "Fewest calibration events per bin (fewer is an error)")
      ->capture_default_str();
  addChunkOption(cmd, o->chunkEvents);
  return [o] { return runCalibrateIntervals(*o); };
}

const CommandRegistrar registrar(
    {"calibrate-intervals",
     "Per-event m_tautau interval calibration of a diffusion model, from an independent sample", 56,
     setupCalibrateIntervals});

}  // namespace
}  // namespace nurec::app
